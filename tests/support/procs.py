"""Processes a test starts in the background (vethctl, captures), each in a process group of its own so that
a test can send it what a terminal sends (Ctrl-C reaches the whole group). Whatever happens in the test,
each group still running at its end is stopped: SIGTERM first (vethctl then cleans up and exits), SIGKILL
if it is still there. Only the groups the test started are signalled, by their pgid."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """Stop the process group `proc` leads (it may have outlived its leader: an orphaned tcpdump)."""
    pgid = proc.pid
    if proc.poll() is None or _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        deadline = time.monotonic() + grace
        while _group_alive(pgid) and time.monotonic() < deadline:  # members that were not our child
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


class Spawner:
    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def __call__(self, argv: list[str], env: dict | None = None, **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("text", True)
        proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, start_new_session=True, **kw)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            stop_group(proc)
