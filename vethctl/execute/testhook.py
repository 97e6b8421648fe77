"""A seam for fault-injection tests: VETHCTL_TEST_HOOK='{"before": "attach:1", "run": [[argv...], ...]}' runs
those commands (argv, no shell) just before the plan's step of that phase and index, for tests that inject
faults (a name taken, a namespace deleted) or signals at an exact point. Unset, it costs one lookup."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from collections.abc import Callable

from vethctl.execute.processes import owned_child


@functools.cache
def _spec() -> dict | None:
    """VETHCTL_TEST_HOOK, read once, when the first step runs (never at import)."""
    text = os.environ.get("VETHCTL_TEST_HOOK")
    return json.loads(text) if text else None


def before(phase: str, index: Callable[[], int]) -> None:
    """Called before each step of `phase`; `index()`: that step's index in its phase, counted by the caller
    (over every executor of the invocation: the journal's), asked only when the hook is set."""
    spec = _spec()
    if spec is None:
        return
    n = index()
    if spec.get("before") == f"{phase}:{n}":
        for argv in spec.get("run", []):
            with owned_child(lambda argv=argv: subprocess.Popen(argv)) as proc:
                proc.wait()
