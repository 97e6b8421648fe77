"""Independent pods' work at the same time (their reads, their own namespace's commands), a few at once.

VETHCTL_MAX_PARALLEL sets how many (default 8; 1: one after the other, in this thread, in order: the golden
cases record and replay that way). An interruption (Ctrl-C, SIGTERM) cancels what has not started and
waits for what has: no command of ours is left running, or finishes after the clean-up has looked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from vethctl.execute.processes import deferred_signals

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_PARALLEL = 8


def max_parallel() -> int:
    try:
        return max(1, int(os.environ.get("VETHCTL_MAX_PARALLEL", DEFAULT_PARALLEL)))
    except ValueError:
        return DEFAULT_PARALLEL


def each(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn(item) for every item, a few at once; the results in the items' order. An exception fn raises is
    raised here (after the others have ended); fn catches what it wants to report per item."""
    items = list(items)
    workers = min(max_parallel(), len(items))
    if workers <= 1:
        return [fn(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [pool.submit(fn, item) for item in items]
    try:
        wait(futures)
    except BaseException:
        with deferred_signals():  # a second Ctrl-C does not cut this wait short
            for f in futures:
                f.cancel()
            wait(futures)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [f.result() for f in futures]
