"""The allocation lock: an flock(2) on a file under the machine's state dir, released by the kernel if the
process dies. Held from the first look to the last address, so concurrent runs never pick the same names or
subnet. The file is readable by everyone: a user who drives the commands through `--sudo` takes the same lock
(flock needs no write access), so runs as root and runs through sudo are serialised alike."""

from __future__ import annotations

import contextlib
import fcntl
import os

from vethctl.errors import MissingPrerequisite
from vethctl.state import machine_dir


class AllocationLock:
    def __init__(self):
        self.fd: int | None = None

    def __enter__(self):
        path = os.path.join(machine_dir(), "alloc.lock")
        try:
            os.makedirs(machine_dir(), mode=0o755, exist_ok=True)
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            with contextlib.suppress(OSError):
                os.fchmod(self.fd, 0o644)
        except PermissionError:
            try:
                self.fd = os.open(path, os.O_RDONLY)
            except OSError as exc:
                raise MissingPrerequisite(
                    f"cannot take the allocation lock {path}: {exc.strerror.lower()}",
                    hint="run as root once (it creates the lock), or run vethctl itself with sudo",
                ) from None
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc):
        self.release()
