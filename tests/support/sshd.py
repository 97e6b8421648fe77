"""A real sshd from the distribution, for the --via ssh:// tests: started in a network namespace of the
test's own (so that its traffic never leaves namespaces the tests made), on 127.0.0.1 there, with a
throwaway host key and client key, and removed afterwards. vethctl is run inside that namespace too.

The ssh host has a /tmp of its own (a tmpfs in a mount namespace of its own, the sshd's directory alone
bound back into it): a file a remote command writes in /tmp is not this machine's, so that a capture's
file that "came home" is really the client's file, and what is left over there can be listed (remote_tmp).

Both sshds end a session whose client stopped answering (ClientAliveInterval): vethctl's shared connection
outlives it by 30 s (ControlPersist), and a test that removes the lab first leaves its FIN nowhere to go;
without the keepalive each such session lived on, in a namespace no longer named, until reboot."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import VETHCTL

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


# The command that follows in a mount namespace of its own whose /tmp is a new tmpfs; directory $1 (under
# /tmp) is bound back in (through the descriptor opened before: its path is hidden by then). New mounts of
# this machine (a lab's /run/netns/...) still show there (slave propagation).
PRIVATE_TMP = (
    "unshare",
    "--mount",
    "--propagation",
    "slave",
    "sh",
    "-c",
    'exec 3<"$1" && mount -t tmpfs -o mode=1777 vethctl-test-tmp /tmp && mkdir -p "$1"'
    ' && mount --no-canonicalize --bind /proc/self/fd/3 "$1" && exec 3<&- && shift && exec "$@"',
    "sh",
)


@dataclass
class Sshd:
    netns: str
    port: int
    key: Path
    other_key: Path
    pid: int = 0  # sshd's: its mount namespace is the ssh host's filesystem view

    def remote_tmp(self) -> list[str]:
        """Every file under the ssh host's own /tmp (the sshd's directory aside), as paths there."""
        out = subprocess.run(
            ["nsenter", f"--mount=/proc/{self.pid}/ns/mnt", "find", "/tmp", "-type", "f"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        mine = str(self.key.parent)
        return sorted(p for p in out if not p.startswith(mine + "/"))

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def env(self, key: Path | None = None) -> dict:
        return {
            "VETHCTL_SSH_OPTS": f"-i {key or self.key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            " -o LogLevel=ERROR"
        }

    def vethctl(self, *args, check=True, key: Path | None = None, timeout=120, env: dict | None = None):
        """vethctl as a user on another machine runs it: from the client side of the ssh connection."""
        full = {**os.environ, **self.env(key), **(env or {})}
        proc = subprocess.run(
            ["ip", "netns", "exec", self.netns, VETHCTL, *args],
            capture_output=True,
            text=True,
            env=full,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"vethctl {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    if not os.path.exists(SSHD):
        pytest.skip("sshd (openssh-server) is not installed: make install")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host", "client", "other"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    port = 2222
    (d / "sshd_config").write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {d / "host"}
PidFile {d / "sshd.pid"}
AuthorizedKeysFile {d / "authorized_keys"}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ClientAliveInterval 2
ClientAliveCountMax 3
""")
    netns = f"vt-ssh{secrets.token_hex(3)}"
    # sshd's privilege separation directory is compiled in (/run/sshd). It is made if missing and left in
    # place afterwards: another sshd on this machine (another suite's, the machine's own) may use it.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    proc = None
    try:
        subprocess.run(["ip", "netns", "add", netns], check=True)
        subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
        proc = subprocess.Popen(
            [
                *PRIVATE_TMP,
                str(d),
                "ip",
                "netns",
                "exec",
                netns,
                SSHD,
                "-D",
                "-e",
                "-f",
                str(d / "sshd_config"),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stderr.readline()
        assert "Server listening on 127.0.0.1" in line, line
        yield Sshd(netns, port, d / "client", d / "other", proc.pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)


def keys_and_config(d: Path, address: str, port: int) -> Path:
    """A throwaway host key and client key in `d`, and an sshd_config listening on address:port."""
    for name in ("host", "client"):
        if not (d / name).exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "client.pub").read_text())
    config = d / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress {address}
HostKey {d / "host"}
PidFile {d / "sshd.pid"}
AuthorizedKeysFile {d / "authorized_keys"}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ClientAliveInterval 2
ClientAliveCountMax 3
""")
    return config


def serve_in(netns: str, address: str, d: Path, port: int = 2222) -> subprocess.Popen:
    """sshd in a namespace the test made (a lab node), on one of its addresses; the caller stops it (by pid)."""
    config = keys_and_config(d, address, port)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation; left for any other sshd
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, text=True
    )
    line = proc.stderr.readline()
    if f"Server listening on {address}" not in line:
        proc.kill()
        proc.wait()
        raise AssertionError(f"sshd did not start in {netns}: {line}")
    return proc


def client_opts(d: Path) -> str:
    return f"-i {d / 'client'} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
