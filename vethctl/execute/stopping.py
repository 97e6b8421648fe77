"""How a background capture ends without losing its last packets.

tcpdump answers SIGUSR1 with its counters; while it has printed fewer packets than its filter has received,
some are still in the kernel's ring: ask again (each answer comes after it has read more). Then SIGINT,
which is how a person stops it; SIGKILL only if it does not end.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Callable

MAX_ASKS = 50


def drain(
    send: Callable[[int], None], lines: list[str], wait_for: Callable[[Callable[[], bool], float], bool]
) -> None:
    """Ask tcpdump for its counters until every packet its filter received has been printed (or it stops
    answering). `lines` is its stderr as it grows; `wait_for(predicate, timeout)` waits on it."""
    from vethctl.parsers import tcpdump_stats  # commands that capture nothing do not compile its patterns

    for _ in range(MAX_ASKS):
        seen = len(lines)
        try:
            send(signal.SIGUSR1)
        except ProcessLookupError:
            return
        answer: list[tuple[int, int, int]] = []

        def answered(seen=seen, answer=answer) -> bool:
            stats = tcpdump_stats.last_stats(lines[seen:])
            if stats is not None:
                answer.append(stats)
            return stats is not None

        if not wait_for(answered, 2.0) or not answer:
            return
        captured, received, dropped = answer[0]
        if captured + dropped >= received:
            return


def end(proc: subprocess.Popen, send: Callable[[int], None], timeout: float) -> int:
    """SIGINT, as a person stops it; SIGKILL if it is still there after `timeout`. Its exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            send(signal.SIGINT)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            send(signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        return proc.wait()
