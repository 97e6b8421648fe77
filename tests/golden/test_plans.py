"""Golden cases, pyinfra-style: the same args and the same facts give the same commands and the same output.

Each tests/golden/plans/NAME.json was recorded from a real lab by scripts/record_golden.py (args, the facts the
node answered, every command run, what was printed). Here the CLI runs again against those facts, with no
root and no namespace: what it runs must be the recorded commands in the recorded order, and what it prints
must be byte-identical (clock values aside: tests/support/golden_run.py::normalise_output).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.golden_run import normalise_output, report_mutmut_hits
from tests.support.paths import ROOT

PLANS = sorted((ROOT / "tests" / "golden" / "plans").glob("*.json"))


def test_there_are_golden_cases():
    assert len(PLANS) >= 20


@pytest.mark.parametrize("case_path", PLANS, ids=[p.stem for p in PLANS])
def test_same_facts_same_commands_same_output(case_path, tmp_path):
    case = json.loads(case_path.read_text())
    out = tmp_path / "out.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETHCTL_")}
    subprocess.run(
        [sys.executable, "-m", "tests.support.golden_run", "replay", str(case_path), str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    got = json.loads(out.read_text())
    report_mutmut_hits(got.get("mutmut_hits", []))
    assert got["unexpected"] == [], "asked the node something the recording never answered"
    assert got["ran"] == case["ran"], "the commands differ from the recorded ones"
    assert got["rc"] == case["rc"]
    assert normalise_output(got["stdout"]) == normalise_output(case["stdout"])
    if case["rc"] != 0:
        assert normalise_output(got["stderr"]) == normalise_output(case["stderr"])
    if "stdins" in case:  # recorded since the stdins are: a CNI configuration, an nft ruleset
        assert got["stdins"] == case["stdins"], "a command read another stdin"
    assert {k: normalise_output(v) for k, v in got["files"].items()} == {
        k: normalise_output(v) for k, v in case["files"].items()
    }
