"""A transcript, replayed, tags its pair with the pid of the run that wrote it, dead by then (README,
Limits): a `gc` that looks at every lab node of the machine (run inside a node, without --via) takes that
pair away mid-replay. Such a gc and the replays exclude each other through one lock file of the machine:
shared for a replay, exclusive for the gc, across xdist workers and suites running side by side."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

LOCK = "/tmp/vethctl-tests-replay.lock"


@contextmanager
def _locked(how: int) -> Iterator[None]:
    fd = os.open(LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, how)
        yield
    finally:
        os.close(fd)  # and with it the lock


def replay(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """subprocess.run(argv, **kwargs) of a transcript, while no machine-wide gc runs."""
    with _locked(fcntl.LOCK_SH):
        return subprocess.run(argv, **kwargs)


@contextmanager
def machine_wide_gc() -> Iterator[None]:
    """Around a gc that looks at every lab node: no transcript replays meanwhile."""
    with _locked(fcntl.LOCK_EX):
        yield
