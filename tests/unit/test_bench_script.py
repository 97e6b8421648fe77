"""scripts/bench.py's own plumbing: it never waits forever on a capture that died, and it counts only the
processes of the command it measures."""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
import threading
import time

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


def _pcap(records: list[tuple[int, int, bytes]]) -> bytes:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    for sec, usec, data in records:
        out += struct.pack("<IIII", sec, usec, len(data), len(data)) + data
    return out


def test_the_stream_reader_takes_whole_records_with_their_own_timestamps():
    """The stream benchmark's reader: records cut across reads are counted once, whole, with the packet's
    timestamp; a stream that stops short ends the read once the traffic is over (no wait for the deadline)."""
    bench = load_bench()
    data = _pcap([(1_700_000_000, 250_000, b"x" * 60), (1_700_000_001, 500, b"y" * 1000)])
    r, w = os.pipe()
    try:
        reader = bench.PcapReader(r)
        sender = subprocess.Popen(["true"])
        sender.wait()
        os.write(w, data[:30])  # the header and part of the first record's header
        os.write(w, data[30:])
        reader.take(3, sender, deadline=time.monotonic() + 30)  # only 2 come
        assert reader.stamped == [1_700_000_000.25, 1_700_000_001.0005]
        assert len(reader.read_at) == 2 and reader.bytes == len(data) - 24
    finally:
        os.close(r)
        os.close(w)
