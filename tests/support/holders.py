"""A process holding a network namespace, for tests of namespaces that have no name (`pid/`, `nspath/`,
Docker's) or a name the test gives them (`ip netns attach NAME PID`).

`ip netns exec NS sleep` and `unshare --net sleep` are, for a moment after Popen returns, still in the
namespace of the process that started them: /proc/PID/ns/net is then *ours*, the machine's own. A test
that uses the pid at that moment points vethctl at the host's namespace. So a holder is handed out only
once it has said it runs in its namespace (it prints a line from there) and its /proc/PID/ns/net is
checked to be another namespace than ours (and, when it entered a named one, that one). Every holder is
killed, and every name attached to it removed, when the `with` block ends, whatever happened inside it,
set-up included.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import subprocess
from dataclasses import dataclass

READY = "vethctl-test-holder-ready"
LIFETIME_S = "600"  # a holder outlives no test by much, even if the suite itself is SIGKILLed


def netns_id(path: str) -> tuple[int, int]:
    """A network namespace's identity: the (device, inode) of its nsfs file."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def own_netns() -> tuple[int, int]:
    return netns_id("/proc/self/ns/net")


def unique_name(prefix: str = "vt-") -> str:
    """A namespace or link name no other run on this machine uses."""
    return f"{prefix}{secrets.token_hex(3)}"


@dataclass
class Holder:
    proc: subprocess.Popen
    netns_id: tuple[int, int]  # the namespace it holds
    name: str | None = None  # the name attached to it, if any

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def path(self) -> str:
        return f"/proc/{self.pid}/ns/net"


def _wait_ready(proc: subprocess.Popen, timeout: float) -> None:
    """Wait for the holder's line (printed from inside its namespace), not for time."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != READY:
        raise AssertionError(f"the namespace holder never said it was ready (got {line!r}, rc {proc.poll()})")


@contextlib.contextmanager
def netns_holder(enter: str | None = None, *, attach: str | None = None, timeout: float = 10.0):
    """A process holding `enter` (a named namespace) or, without it, a new empty namespace (`unshare
    --net`), yielded only once it is there. `attach`: also name its namespace so (`ip netns attach`),
    removed again at the end."""
    shell = ["sh", "-c", f'echo {READY}; exec sleep "$0"', LIFETIME_S]
    argv = ["ip", "netns", "exec", enter, *shell] if enter else ["unshare", "--net", *shell]
    ours = own_netns()
    proc = None
    attached = False
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        _wait_ready(proc, timeout)
        held = netns_id(f"/proc/{proc.pid}/ns/net")
        assert held != ours, f"holder {proc.pid} is still in this process's namespace"
        if enter:
            assert held == netns_id(f"/var/run/netns/{enter}"), f"holder {proc.pid} is not in {enter}"
        if attach:
            subprocess.run(["ip", "netns", "attach", attach, str(proc.pid)], check=True)
            attached = True
            assert netns_id(f"/var/run/netns/{attach}") == held
        yield Holder(proc, held, attach)
    finally:
        if attached:
            subprocess.run(["ip", "netns", "del", attach], capture_output=True)
        if proc is not None:
            proc.kill()
            proc.wait()
            proc.stdout.close()
