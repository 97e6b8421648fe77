"""What a recorded lab ran (tests/golden/plans/*.json, recorded from a real lab by scripts/record_golden.py):
for unit tests that check a plan's steps against the commands a real `lab up` ran, and against what those
commands read on their stdin."""

from __future__ import annotations

import json

from tests.support.paths import ROOT
from vethctl.commands import on_node


def case(name: str) -> dict:
    return json.loads((ROOT / "tests" / "golden" / "plans" / f"{name}.json").read_text())


def as_run(steps) -> list[list[str]]:
    """The steps' argvs as they ran from the node (in their namespace)."""
    return [list(on_node(None, False, s.argv, s.netns)) for s in steps]


def ran_in_order(steps, recorded: dict) -> bool:
    """Did the recorded run run exactly these steps, one after the other?"""
    want, ran = as_run(steps), recorded["ran"]
    return bool(want) and any(ran[i : i + len(want)] == want for i in range(len(ran) - len(want) + 1))


def stdins(recorded: dict, tool: str) -> list[str]:
    """What each recorded command whose argv holds `tool` read on its stdin."""
    return [text for argv, text in recorded.get("stdins", []) if tool in argv]
