"""Soak: many runs, up/down pairs and Ctrl-Cs in a row against one pod, from inside a named node namespace
(`ip netns exec NODE vethctl ...`, where the node is both the namespace vethctl runs in and a name). Nothing
may accumulate: links, addresses, routes, session records, capture and ping processes; and the audit log
has an `end` for every `start`."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time

import pytest

from tests.support.cli import VETHCTL
from tests.support.netstate import snapshot, tagged_links

RUNS, UP_DOWNS, CTRL_CS = 40, 15, 6

pytestmark = [pytest.mark.soak, pytest.mark.timeout(900)]


def inside(node: str, env: dict, *args: str, expect: int = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["ip", "netns", "exec", node, VETHCTL, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == expect, f"vethctl {' '.join(args)} exited {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc


def ns_id(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def processes_in(namespaces: set[str], names=("tcpdump", "ping")) -> list[tuple[int, str]]:
    """Capture and ping processes living in these namespaces (ours only: nobody else uses this lab)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as fh:
                comm = fh.read().strip()
            if comm in names and ns_id(f"/proc/{pid}/ns/net") in namespaces:
                found.append((int(pid), comm))
        except OSError:
            continue
    return found


def records() -> set[str]:
    directory = os.path.join(os.environ["VETHCTL_STATE_DIR"], "sessions")
    return set(os.listdir(directory)) if os.path.isdir(directory) else set()


def unpaired(audit_path) -> collections.Counter:
    """Every command's start minus its end, per (vethctl pid, argv): all zero when the log is complete."""
    balance: collections.Counter = collections.Counter()
    with open(audit_path) as fh:
        for line in fh:
            e = json.loads(line)
            if e.get("event") in ("start", "end"):
                balance[(e["pid"], tuple(e["argv"]))] += 1 if e["event"] == "start" else -1
    return +balance + -balance  # only the non-zero ones


def ctrl_c(node: str, env: dict, pod_netns: str, audit_path) -> None:
    """A run interrupted as a terminal interrupts it: SIGINT to its whole process group, once its ping runs."""
    before = os.path.getsize(audit_path) if os.path.exists(audit_path) else 0
    proc = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            node,
            VETHCTL,
            "run",
            f"netns/{pod_netns}",
            "--count",
            "50",
            "--interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # wait on the audit log's output: the ping has started
            with open(audit_path) as fh:
                fh.seek(before)
                if any('"event":"start"' in line and '"ping"' in line for line in fh):
                    break
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_nothing_accumulates_over_runs_up_downs_and_ctrl_cs(scratch_lab, tmp_path):
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][0]
    audit = tmp_path / "audit.jsonl"
    audit.touch()
    env = {**os.environ, "VETHCTL_AUDIT_LOG": str(audit)}
    namespaces = {ns_id(f"/var/run/netns/{node}"), ns_id(f"/var/run/netns/{pod['netns']}")}
    before = {"node": snapshot(node), "pod": snapshot(pod["netns"]), "records": records()}
    assert processes_in(namespaces) == []
    ends = ("--host-addr", "192.0.2.200/24", "--pod-addr", "192.0.2.100/24")
    for i in range(RUNS):  # the host end answers: fast runs, ARP and ICMP both ways
        args = ("run", f"netns/{pod['netns']}", "--count", "1", "--interval", "0.2", "--ping", "192.0.2.200")
        r = json.loads(inside(node, env, *args, *(ends if i % 2 else ()), "-o", "json").stdout)
        assert r["teardown"]["done"] and r["ping"]["packets_received"] == 1, r["observations"]
    for _ in range(UP_DOWNS):
        up = json.loads(inside(node, env, "up", f"netns/{pod['netns']}", "-o", "json").stdout)
        down = json.loads(inside(node, env, "down", up["session"], "-o", "json").stdout)
        assert down["removed"] == [{"session": up["session"], "links": [up["host"]["name"]]}]
    for _ in range(CTRL_CS):
        ctrl_c(node, env, pod["netns"], audit)
    after = {"node": snapshot(node), "pod": snapshot(pod["netns"]), "records": records()}
    assert after == before
    assert tagged_links(node) == [] and tagged_links(pod["netns"]) == []
    assert processes_in(namespaces) == []
    assert unpaired(audit) == collections.Counter()
    gc = json.loads(inside(node, env, "gc", "--via", f"netns:{node}", "-o", "json").stdout)
    assert gc["removed"] == [] and gc["stopped"] == []
