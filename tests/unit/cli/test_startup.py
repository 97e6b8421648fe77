"""What `find`, `up` and `run` import before their first command: their own scenario and what it drives,
not every other command's results, parsers and explanations (a frozen dataclass costs about half a
millisecond to create, a module a fifth; `make bench` measures the start-up). No timing here: the
modules a fresh interpreter holds once the command's start-up path is imported."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# The start-up path of each command: the CLI, the dispatch, the audit log, the hosts, the scenario (its
# module's top-level imports), and the live view that `run` makes before it starts.
START = [
    "vethctl.cli.main",
    "vethctl.cli.parser",
    "vethctl.cli.handlers",
    "vethctl.audit",
    "vethctl.output.text",
]
START += ["vethctl.execute.hosts.registry", "vethctl.execute.hosts.local", "vethctl.allocate"]
PATHS = {
    "find": [*START, "vethctl.scenarios.find"],
    "up": [*START, "vethctl.scenarios.up"],
    "run": [*START, "vethctl.scenarios.run", "vethctl.output.live"],
}
NOT_YET = (
    "jc",  # the parsers' library: for the report (run imports it in a thread once the pair is up)
    "vethctl.parsers.tcpdump",
    "vethctl.parsers.tcpdump_s",
    "vethctl.parsers._tcpdump",
    "vethctl.parsers.tcpdump_stats",
    "vethctl.parsers.kube",  # pod/ targets and -l only
    "vethctl.parsers.crictl",  # container/ targets only
    "vethctl.commands.kubectl",
    "vethctl.explain",
    "vethctl.results.",  # each command's own, once it has something to report
    "vethctl.resolve.select",
    "ctypes",  # only to enter namespaces from a thread (ip/'s uniqueness check)
    "secrets",  # only to draw a session id
    "pathlib",
)


@pytest.mark.parametrize("command", sorted(PATHS))
def test_a_command_starts_without_what_it_does_not_use_yet(command):
    code = "import importlib, json, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\nprint(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code, *PATHS[command]], capture_output=True, text=True, check=True
        ).stdout
    )
    early = [
        m for m in loaded if any(m == p or m.startswith(p if p.endswith(".") else p + ".") for p in NOT_YET)
    ]
    assert early == [], f"{command} imports at start-up: {early}"
