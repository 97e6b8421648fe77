"""`--via ssh://[USER@]HOST[:PORT]`: plumbum's SshMachine, the same interface as the local machine.

One ssh connection is shared by every command of a run (ControlMaster); VETHCTL_SSH_OPTS adds options (an
identity, known-hosts handling)."""

from __future__ import annotations

import hashlib
import os
import shlex
import tempfile

from plumbum import SshMachine, local
from plumbum.commands.processes import CommandNotFound

from vethctl.errors import MissingPrerequisite
from vethctl.execute.hosts.remote import RemoteHost
from vethctl.execute.processes import audited_run
from vethctl.execute.tools import missing_tool
from vethctl.model import Ssh


class SshHost(RemoteHost):
    def __init__(self, via: Ssh):
        self.url = via.url
        self.user, self.hostname_, self.port = via.user, via.host, via.port
        self.label = via.label
        extra = shlex.split(os.environ.get("VETHCTL_SSH_OPTS", ""))
        # the shared connection is keyed by the options too: another identity must not ride on it
        digest = hashlib.sha256("\0".join(extra).encode()).hexdigest()[:8]
        control = os.path.join(tempfile.gettempdir(), f"vethctl-ssh-{os.getuid()}-{digest}-%C")
        opts = [
            "-o",
            "BatchMode=yes",
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath={control}",
            "-o",
            "ControlPersist=30",
            *extra,
        ]
        # ssh itself first: what it says on failure (refused, key, host key) is what the user must fix,
        # and it leaves the shared connection (ControlMaster) up for every command that follows
        target = f"{self.user + '@' if self.user else ''}{self.hostname_}"
        probe = (
            "ssh",
            *opts,
            "-o",
            "ConnectTimeout=10",
            *(("-p", str(self.port)) if self.port else ()),
            target,
            "true",
        )
        rc, _, err = audited_run(
            lambda: local["ssh"][probe[1:]], probe, self.label, f"ssh {self.label} (connect)"
        )
        if rc != 0:
            raise ssh_error(self.label, RuntimeError(err))
        try:
            self.machine = SshMachine(
                self.hostname_, user=self.user, port=self.port, ssh_opts=opts, connect_timeout=10
            )
        except Exception as exc:  # plumbum raises several kinds; what ssh said is in the text
            raise ssh_error(self.label, exc) from None

    def command(self, argv, stdin=False):
        try:
            return self.machine[argv[0]][argv[1:]]
        except CommandNotFound:
            raise missing_tool(argv[0], f" on {self.label}") from None


_SSH_ERRORS = (
    ("Connection refused", "the connection was refused", "is sshd running there, on that port?"),
    (
        "Permission denied",
        "the key was rejected",
        "give an authorized key: VETHCTL_SSH_OPTS='-i KEY' or ssh-agent",
    ),
    (
        "Host key verification failed",
        "the host key is not known or has changed",
        "add it to known_hosts (ssh-keyscan), or set VETHCTL_SSH_OPTS='-o UserKnownHostsFile=...'",
    ),
    (
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "the host key has changed",
        "check the host, then fix known_hosts",
    ),
    ("Could not resolve hostname", "the host name does not resolve", "check the name"),
    ("timed out", "the connection timed out", "check the address and the network path"),
    ("No route to host", "there is no route to it", "check the address"),
)


def ssh_error(label: str, exc: Exception) -> MissingPrerequisite:
    text = str(exc)
    for needle, what, fix in _SSH_ERRORS:
        if needle in text:
            return MissingPrerequisite(f"cannot connect to {label} over ssh: {what}", hint=fix)
    last = [line for line in text.splitlines() if line.strip()]
    return MissingPrerequisite(
        f"cannot connect to {label} over ssh: {last[-1] if last else type(exc).__name__}",
        hint="try `ssh` by hand with the same options",
    )
