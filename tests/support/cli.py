"""Driving the CLI as a user does (a separate process), and the fault-injection seam."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VETHCTL = str(Path(sys.executable).parent / "vethctl")


def vethctl(*args: str, check: bool = True, env: dict | None = None, timeout: float = 120, **kw):
    """The CLI as a user runs it: a separate process, exit code and output."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [VETHCTL, *args], capture_output=True, text=True, env=full_env, timeout=timeout, **kw
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vethctl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def hook(before: str, *argvs: list[str]) -> dict:
    """The fault-injection seam: run these commands just before the plan step `phase:index`."""
    return {"VETHCTL_TEST_HOOK": json.dumps({"before": before, "run": [list(a) for a in argvs]})}


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait for a process that is not our child to end: a pidfd becomes readable when it exits."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        assert select.select([fd], [], [], timeout)[0], f"pid {pid} still running after {timeout}s"
    finally:
        os.close(fd)


def gc_on(node_netns: str) -> dict:
    """`vethctl gc` on one lab node only: a gc without --via removes every dead session it can see on the
    machine, another run's included (one that is in the middle of checking that its gc finds it)."""
    return json.loads(vethctl("gc", "--via", f"netns:{node_netns}", "-o", "json").stdout)


def status_on(node_netns: str) -> dict:
    return json.loads(vethctl("status", "--via", f"netns:{node_netns}", "-o", "json").stdout)
