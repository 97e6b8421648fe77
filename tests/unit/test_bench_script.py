"""scripts/bench.py's own plumbing: it never waits forever on a capture that died, and it counts only the
processes of the command it measures."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading

import pytest

from tests.support.paths import ROOT


def load_bench():
    spec = importlib.util.spec_from_file_location("vethctl_bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_capture_that_dies_before_listening_stops_the_benchmark():
    """readline() returns "" once tcpdump is gone: that is the end, not a line to wait past."""
    bench = load_bench()
    proc = subprocess.Popen(
        ["sh", "-c", "echo 'tcpdump: vh-x: No such device exists' >&2; exit 1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    with pytest.raises(SystemExit, match="No such device"):
        bench.wait_for_line(proc, "listening on", timeout=30)
    proc.stderr.close()


def test_a_capture_that_says_nothing_stops_the_benchmark_after_its_timeout():
    bench = load_bench()
    proc = subprocess.Popen(["sleep", "30"], stderr=subprocess.PIPE, text=True)
    try:
        with pytest.raises(SystemExit, match="no 'listening on'"):
            bench.wait_for_line(proc, "listening on", timeout=0.5)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()


@pytest.mark.needs_root
def test_only_the_measured_commands_processes_are_counted():
    """Three processes (sh, true, true), however many the machine starts meanwhile."""
    bench = load_bench()
    stop = threading.Event()

    def busy():  # the machine's other work: processes, all the time
        while not stop.is_set():
            subprocess.run(["true"])

    others = threading.Thread(target=busy)
    others.start()
    try:
        counts = [bench.run_counted(["sh", "-c", "/bin/true; /bin/true; echo out"])[1] for _ in range(5)]
        out = bench.run_counted([sys.executable, "-c", "print('hello')"])
    finally:
        stop.set()
        others.join()
    assert counts == [3] * 5
    assert out == ("hello\n", 1)
    assert os.path.exists("/proc/sys/kernel/ns_last_pid")


@pytest.mark.needs_root
def test_the_startup_benchmark_stops_each_command_before_its_first_command(tmp_path):
    """Without `ip` on PATH, find, up and run start, parse, set up the audit log, import their scenario and stop
    at their preflight or at the spawn of their first command (exit 4): what is timed is the start-up, and no
    command ran (the audit log holds at most find's first `ip`, started and ended with no exit code)."""
    bench = load_bench()
    audit = tmp_path / "audit.jsonl"
    env = {**os.environ, "PATH": "/nonexistent", "VETHCTL_AUDIT_LOG": str(audit)}
    for argv in bench.STARTUP.values():
        proc = subprocess.run([bench.VETHCTL, *argv], capture_output=True, text=True, env=env)
        assert proc.returncode == 4 and "ip is not installed" in proc.stderr, (argv, proc.stderr)
    records = [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []
    assert [r["event"] for r in records] in ([], ["start", "end"]), records
    assert all(r.get("rc") is None for r in records), records  # find's first `ip` never started
