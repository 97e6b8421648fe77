#!/usr/bin/env python3
"""`make mutation`: mutmut over the pure layers (the modules [tool.mutmut] only_mutate lists in pyproject.toml),
each mutant run against the fast tests that reach it (tests/unit, tests/golden). Not part of `make test`.

Prints the score (caught / all mutants) per module and in all, then every mutant not caught, each with the
reason written down for keeping it (docs/mutation.md) or "NO REASON WRITTEN: a test is missing".
Exit 1 when the score is under the goal or a survivor has no reason.

    scripts/mutation.py          run mutmut (about 40 minutes on 2 cores: 7,451 mutants), then report
    scripts/mutation.py --report report on the last run (mutants/ as it was left)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.90
CAUGHT = {"killed", "timeout"}  # a mutant that makes the tests fail, or hang, is caught
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
}
STATUS |= {24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout", None: "not checked"}
REASONS = ROOT / "docs" / "mutation.md"


def run_mutmut() -> None:
    log = ROOT / "mutants-run.log"
    print(f"mutation: running mutmut (progress in {log.name}) ...", flush=True)
    with open(log, "w") as fh:
        rc = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "mutmut"), "run", "--max-children", str(os.cpu_count() or 2)],
            cwd=ROOT,
            stdout=fh,
            stderr=subprocess.STDOUT,
        ).returncode
    if rc != 0:
        tail = log.read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-15:]
        raise SystemExit("mutation: mutmut failed:\n" + "\n".join(tail))


def results() -> dict[str, str]:
    """Every mutant's status, from the .meta files mutmut leaves beside each mutated module."""
    out = {}
    for meta in sorted((ROOT / "mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            out[name] = STATUS.get(code, "suspicious")
    return out


def reasons() -> dict[str, str]:
    """docs/mutation.md: lines `- vethctl.mod.x_func__mutmut_N: why it is kept` (a `*` ends a prefix)."""
    if not REASONS.exists():
        return {}
    found = {}
    for line in REASONS.read_text().splitlines():
        m = re.match(r"^- `?([\w.*]+)`?: (.+)$", line.strip())
        if m:
            found[m.group(1)] = m.group(2)
    return found


def reason_for(name: str, written: dict[str, str]) -> str | None:
    if name in written:
        return written[name]
    return next(
        (why for key, why in written.items() if key.endswith("*") and name.startswith(key[:-1])), None
    )


def module_of(name: str) -> str:
    return name.split(".x_")[0].split(".xǁ")[0]


def main() -> int:
    if "--report" not in sys.argv:
        run_mutmut()
    status = results()
    if not status:
        raise SystemExit("mutation: no results in mutants/ (run `make mutation`)")
    by_module: dict[str, Counter] = defaultdict(Counter)
    for name, st in status.items():
        by_module[module_of(name)][st in CAUGHT] += 1
    print(f"{'module':36} {'caught':>7} {'of':>5} {'score':>7}")
    for module in sorted(by_module):
        c = by_module[module]
        total = c[True] + c[False]
        print(f"{module:36} {c[True]:7} {total:5} {c[True] / total:7.1%}")
    caught = sum(st in CAUGHT for st in status.values())
    score = caught / len(status)
    kinds = Counter(status.values())
    print(
        f"\nmutation score: {caught} of {len(status)} mutants caught, {score:.1%} (goal {GOAL:.0%});"
        f" {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}"
    )
    written = reasons()
    missing = []
    kept = [name for name, st in sorted(status.items()) if st not in CAUGHT]
    if kept:
        print(f"\nnot caught ({len(kept)}), with the reason each is kept (docs/mutation.md):")
    for name in kept:
        why = reason_for(name, written)
        if why is None:
            missing.append(name)
        print(f"  {name} [{status[name]}]: {why or 'NO REASON WRITTEN: a test is missing'}")
    if missing:
        print(f"\n{len(missing)} mutant(s) not caught and not explained: `mutmut show NAME` shows each")
    return 0 if score >= GOAL and not missing else 1


if __name__ == "__main__":
    raise SystemExit(main())
