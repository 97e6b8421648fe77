"""The CLI's surface: every command's --help and the completion scripts, as recorded before the re-layout.

Regenerate (only for an intended change of the CLI): VETHCTL_GOLDEN_WRITE=1 pytest tests/golden/test_help.py
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.cli import VETHCTL
from tests.support.paths import ROOT

HELP = ROOT / "tests" / "golden" / "help"
SCREENS = [
    [],
    ["run"],
    ["up"],
    ["down"],
    ["status"],
    ["gc"],
    ["find"],
    ["routes"],
    ["ping"],
    ["trace"],
    ["probe"],
    ["capture"],
    ["lab"],
    ["lab", "up"],
    ["lab", "down"],
    ["lab", "status"],
    ["completion"],
    ["demo"],
]
COMPLETIONS = ["bash", "zsh", "fish"]


def _check(name: str, text: str) -> None:
    path = HELP / f"{name}.txt"
    if os.environ.get("VETHCTL_GOLDEN_WRITE"):
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("words", SCREENS, ids=["-".join(w) or "top" for w in SCREENS])
def test_help_is_unchanged(words):
    env = {**os.environ, "COLUMNS": "100"}
    out = subprocess.run(
        [VETHCTL, *words, "--help"], capture_output=True, text=True, env=env, check=True
    ).stdout
    _check("help-" + ("-".join(words) or "top"), out)


@pytest.mark.parametrize("shell", COMPLETIONS)
def test_completion_is_unchanged(shell):
    out = subprocess.run([VETHCTL, "completion", shell], capture_output=True, text=True, check=True).stdout
    _check(f"completion-{shell}", out)
