"""A stand-in for the Executor's read-only side, for unit tests of the thin kubectl and crictl layers: it
answers each read() with the next prepared result (or raises it) and records what was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class Res:
    rc: int
    stdout: str = ""
    stderr: str = ""


class Call(NamedTuple):
    argv: tuple
    netns: object
    purpose: str
    ok_codes: frozenset


@dataclass
class FakeExecutor:
    answers: list
    calls: list[Call] = field(default_factory=list)

    def read(self, argv, netns=None, *, purpose="", ok_codes=frozenset({0}), max_output=None):
        self.calls.append(Call(argv, netns, purpose, frozenset(ok_codes)))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer
