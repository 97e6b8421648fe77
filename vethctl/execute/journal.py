"""What one invocation ran: each command's result (argv, where, exit code, output, timing) and the journal of
them all, in the order they started, shared by the executors of the invocation (whichever node each runs
on, from whichever thread)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

from vethctl.execute import batches
from vethctl.plan import Step


@dataclass
class Result:
    """What one step did: its argv, exit code, output and timing."""

    step: Step
    argv: tuple[str, ...]
    rc: int | None
    stdout: str
    stderr: str
    duration_s: float
    started: float  # wall-clock time.time()
    dropped: int = 0  # output lines not kept (execute/bounded.py): counted, said in the reports

    def as_json(self) -> dict:
        out = {
            "argv": list(self.argv),
            "started": round(self.started, 6),
            "netns": str(self.step.netns) if self.step.netns else None,
            "phase": self.step.phase,
            "rc": self.rc,
            "duration_s": round(self.duration_s, 6),
        }
        return out | ({"lines": batches.lines_of(self.step)} if self.step.batch else {})  # ip -batch's


class Journal:
    """Every command one invocation ran, in the order they started (a background job is recorded when it
    ends, shown where it began), and the result of each keyed step. Shared by the executors of one
    invocation, whichever node each runs on."""

    def __init__(self) -> None:
        self.results: list[Result] = []
        self.by_key: dict[str, Result] = {}
        self._lock = threading.Lock()  # independent pods' reads are journalled from several threads
        self._phase_counts: dict[str, int] = {}

    def record(self, result: Result) -> None:
        with self._lock:
            bisect.insort_right(self.results, result, key=lambda r: r.started)
            if result.step.key:
                self.by_key[result.step.key] = result

    def step_index(self, phase: str) -> int:
        """The index of a step in its phase, over every executor of the invocation (the test seam's)."""
        with self._lock:
            n = self._phase_counts.get(phase, 0)
            self._phase_counts[phase] = n + 1
            return n

    def keep(self, key: str, result: Result) -> None:  # one line of a batch of reads (the batch ran)
        with self._lock:
            self.by_key[key] = result

    def as_json(self) -> list[dict]:
        return [r.as_json() for r in self.results]
