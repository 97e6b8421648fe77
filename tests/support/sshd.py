"""A real sshd from the distribution, for the --via ssh:// tests: started in a network namespace of the
test's own (so that its traffic never leaves namespaces the tests made), on 127.0.0.1 there, with a
throwaway host key and client key, and removed afterwards. vethctl is run inside that namespace too."""

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


@dataclass
class Sshd:
    netns: str
    port: int
    key: Path
    other_key: Path

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
            ["ip", "netns", "exec", netns, SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stderr.readline()
        assert "Server listening on 127.0.0.1" in line, line
        yield Sshd(netns, port, d / "client", d / "other")
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
