"""The allocation lock: an flock(2) on a file under the state dir, released by the kernel if the process
dies. Held from the first look to the last address, so concurrent runs never pick the same names or subnet."""

from __future__ import annotations

import fcntl
import os

from vethctl.state import machine_dir


class AllocationLock:
    def __init__(self):
        self.fd: int | None = None

    def __enter__(self):
        os.makedirs(machine_dir(), mode=0o755, exist_ok=True)
        self.fd = os.open(os.path.join(machine_dir(), "alloc.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc):
        self.release()
