"""`--via ssh://[USER@]HOST[:PORT]`: plumbum's SshMachine, the same interface as the local machine.

One ssh connection is shared by every command of a run (ControlMaster); VETHCTL_SSH_OPTS adds options (an
identity, known-hosts handling).

The shared connection's socket is a way into the node as whoever opened it: ssh does not check who owns a
socket it finds at its ControlPath, so a socket another local user put there first would receive every
command (their master, to their host). The sockets live in a directory only the euid can use
(control_dir), and the destination always comes after `--`."""

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
from vethctl.secure import private_dir

ROOT_CONTROL_DIR = "/run/vethctl/ssh"


def control_dir() -> str:
    """Where this euid's ssh control sockets live: a directory it owns, mode 0700, checked (owner, not a
    link): /run/vethctl/ssh for root, $XDG_RUNTIME_DIR/vethctl-ssh for a user whose runtime directory is
    their own, else a new private directory for this invocation. Never a name another user can take first."""
    euid = os.geteuid()
    if euid == 0:
        return private_dir(ROOT_CONTROL_DIR)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        try:
            st = os.stat(runtime)
        except OSError:
            st = None
        if st is not None and st.st_uid == euid and not st.st_mode & 0o022:
            return private_dir(os.path.join(runtime, "vethctl-ssh"))
    return tempfile.mkdtemp(prefix="vethctl-ssh-")  # 0700, a name nobody could guess


class _Ssh(SshMachine):
    """plumbum's SshMachine, with `--` before the destination of every ssh it runs."""

    def popen(self, args, ssh_opts=(), env=None, cwd=None, **kwargs):
        return super().popen(args, ssh_opts=[*ssh_opts, "--"], env=env, cwd=cwd, **kwargs)


def connect_argv(opts: list[str], port: int | None, target: str) -> tuple[str, ...]:
    """The first ssh, which opens the shared connection: `ssh OPTS [-p PORT] -- TARGET true`."""
    return (
        "ssh",
        *opts,
        "-o",
        "ConnectTimeout=10",
        *(("-p", str(port)) if port else ()),
        "--",
        target,
        "true",
    )


class SshHost(RemoteHost):
    def __init__(self, via: Ssh):
        self.url = via.url
        self.user, self.hostname_, self.port = via.user, via.host, via.port
        self.label = via.label
        extra = shlex.split(os.environ.get("VETHCTL_SSH_OPTS", ""))
        # the shared connection is keyed by the options too: another identity must not ride on it
        digest = hashlib.sha256("\0".join(extra).encode()).hexdigest()[:8]
        control = os.path.join(control_dir(), f"{digest}-%C")
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
        probe = connect_argv(opts, self.port, target)
        rc, _, err = audited_run(
            lambda: local["ssh"][probe[1:]], probe, self.label, f"ssh {self.label} (connect)"
        )
        if rc != 0:
            raise ssh_error(self.label, RuntimeError(err))
        try:
            self.machine = _Ssh(
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
