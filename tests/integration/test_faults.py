"""Nothing lost, nothing left: a failure at each step, a signal at each phase, SIGKILL then gc.

Faults are real: the seam VETHCTL_TEST_HOOK runs a command (argv, no shell) just before a given step,
and that command really takes the name, deletes the namespace or sleeps while the test sends a signal.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import VETHCTL, gc_on, hook, status_on, vethctl, wait_gone
from tests.support.netstate import snapshot, tagged_links


def names():
    tag = secrets.token_hex(3)
    return f"vt-h{tag}", f"vt-p{tag}"


def both(lab, pod):
    return {"node": snapshot(lab["node_netns"]), "pod": snapshot(pod["netns"])}


@pytest.mark.parametrize(
    "step,fault,why",
    [
        # attach:0 is the node's batch (create, tag and address the host end), attach:1 the pod's
        ("attach:1", "del-host", "the pair vanished before the pod's side (its host end deleted)"),
        ("attach:1", "del-pod-end", "the pod end vanished before it was tagged"),
        ("observe:0", "del-pod-end", "the pod end vanished before the routes were read"),
        ("capture:0", "del-host", "tcpdump finds no interface"),
    ],
)
def test_a_failing_step_undoes_everything(lab, pod, state, step, fault, why):
    host_if, pod_if = names()
    argv = (
        ["ip", "-n", lab["node_netns"], "link", "del", host_if]
        if fault == "del-host"
        else ["ip", "-n", pod["netns"], "link", "del", pod_if]
    )
    proc = vethctl(
        "run",
        f"netns/{pod['netns']}",
        "--host-if",
        host_if,
        "--pod-if",
        pod_if,
        "--count",
        "1",
        check=False,
        env=hook(step, argv),
    )
    assert proc.returncode == 1, (why, proc.stderr)
    assert proc.stderr.startswith("vethctl: error: command failed (exit ") and "Traceback" not in proc.stderr
    assert both(lab, pod) == state, why


def test_a_batch_failing_half_way_undoes_the_lines_that_happened(lab, pod, state):
    """The node's batch creates the pair, then fails on its next line: IPv6's addrgenmode on a link whose
    MTU is below IPv6's minimum (1280). The pair its first line made is removed; the error names the line."""
    host_if, pod_if = names()
    proc = vethctl(
        "run", f"netns/{pod['netns']}", "--host-if", host_if, "--pod-if", pod_if, "--mtu", "1000", check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert (
        f"(line 2: ip link set dev {host_if} alias vethctl:" in proc.stderr and "Traceback" not in proc.stderr
    )
    assert both(lab, pod) == state


def test_a_pair_removed_by_someone_else_mid_run_is_reported(lab, pod, state):
    host_if, pod_if = names()
    r = json.loads(
        vethctl(
            "run",
            f"netns/{pod['netns']}",
            "--host-if",
            host_if,
            "--pod-if",
            pod_if,
            "--count",
            "1",
            "-o",
            "json",
            env=hook("probe:0", ["ip", "-n", pod["netns"], "link", "del", pod_if]),
        ).stdout
    )
    assert r["teardown"]["already_gone"] == [host_if]
    assert any("already gone at teardown" in o for o in r["observations"])
    assert both(lab, pod) == state


def test_a_name_taken_between_plan_and_execution_is_not_ours_to_remove(lab, pod, state):
    host_if, pod_if = names()
    taken = ["ip", "-n", lab["node_netns"], "link", "add", host_if, "type", "bridge"]
    proc = vethctl(
        "run",
        f"netns/{pod['netns']}",
        "--host-if",
        host_if,
        "--pod-if",
        pod_if,
        check=False,
        env=hook("attach:0", taken),
    )
    try:
        assert proc.returncode == 1 and "File exists" in proc.stderr
        # the bridge someone else made is still there: vethctl never removes what it did not create
        links = json.loads(
            subprocess.run(
                ["ip", "-n", lab["node_netns"], "-j", "link", "show", host_if], capture_output=True, text=True
            ).stdout
            or "[]"
        )
        assert [x["ifname"] for x in links] == [host_if]
    finally:
        subprocess.run(["ip", "-n", lab["node_netns"], "link", "del", host_if], check=True)
    assert both(lab, pod) == state


def test_the_pod_namespace_deleted_mid_run(scratch_lab):
    pod = scratch_lab["pods"][1]
    before = snapshot(scratch_lab["node_netns"])
    host_after_pod_gone = [x for x in before["links"] if x["ifname"] != pod["host_veth"]]
    proc = vethctl(
        "run",
        f"netns/{pod['netns']}",
        "--count",
        "1",
        check=False,
        env=hook("attach:1", ["ip", "netns", "del", pod["netns"]]),
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    after = snapshot(scratch_lab["node_netns"])
    assert after["links"] == host_after_pod_gone  # only the pod's own veth went, with its namespace
    assert tagged_links(scratch_lab["node_netns"]) == []


def test_tools_missing_from_path_are_exit_4_and_change_nothing(lab, pod, state, tmp_path):
    for keep in (["ip", "ping", "nsenter"], ["ip", "tcpdump", "nsenter"], ["tcpdump", "ping"]):
        bindir = tmp_path / "-".join(keep)
        bindir.mkdir()
        for tool in keep:
            os.symlink(
                subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip(), bindir / tool
            )
        missing = ({"ip", "tcpdump", "ping"} - set(keep)).pop()
        proc = vethctl("run", f"netns/{pod['netns']}", check=False, env={"PATH": str(bindir)})
        assert proc.returncode == 4, proc.stderr
        assert f"{missing} is not installed" in proc.stderr and "apt-get install" in proc.stderr
    assert both(lab, pod) == state


def _wait_for_line(path, needle, proc, timeout=20.0):
    """Wait on the audit log's output (not on time): the line that says the step has started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and needle in Path(path).read_text():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    raise AssertionError(f"{needle!r} never appeared in {path}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase", ["attach", "capture", "teardown"])
def test_a_signal_at_any_phase_leaves_nothing_and_exits_130(lab, pod, state, tmp_path, spawn, phase, sig):
    marker = tmp_path / "marker"
    audit = tmp_path / "audit.jsonl"
    env = {"VETHCTL_AUDIT_LOG": str(audit)}
    if phase == "attach":
        env |= hook("attach:1", ["touch", str(marker)], ["sleep", "30"])
    elif phase == "teardown":
        env |= hook("teardown:0", ["touch", str(marker)], ["sleep", "2"])
    proc = spawn([VETHCTL, "run", f"netns/{pod['netns']}", "--count", "20", "--interval", "0.2"], env)
    if phase == "capture":
        _wait_for_line(audit, '"ping"', proc)
    else:
        deadline = time.monotonic() + 20
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: the whole process group
    else:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert both(lab, pod) == state


def test_after_sigkill_gc_removes_the_links_and_the_capture(lab, pod, state, tmp_path, spawn):
    audit = tmp_path / "audit.jsonl"
    proc = spawn(
        [VETHCTL, "run", f"netns/{pod['netns']}", "--count", "50", "--interval", "0.2"],
        {"VETHCTL_AUDIT_LOG": str(audit)},
    )
    _wait_for_line(audit, '"ping"', proc)
    session = _session_of(proc)
    os.killpg(proc.pid, signal.SIGKILL)  # everything in its group: vethctl, tcpdump, ping
    proc.wait()
    left = tagged_links(lab["node_netns"])
    assert left == [f"vh-{session}"]
    mine = [s for s in status_on(lab["node_netns"])["sessions"] if s["session"] == session]
    assert mine and mine[0]["alive"] is False and mine[0]["mode"] == "run"
    gc = gc_on(lab["node_netns"])
    assert [r["links"] for r in gc["removed"] if r["session"] == session] == [left]
    assert both(lab, pod) == state
    assert session not in [r["session"] for r in gc_on(lab["node_netns"])["removed"]]


def _session_of(proc) -> str:
    """The session of a run this test started: its record names its pid (the run writes it before its
    first change)."""
    for f in Path(os.environ["VETHCTL_STATE_DIR"], "sessions").glob("*.json"):
        rec = json.loads(f.read_text())
        if rec.get("pid") == proc.pid:
            return rec["session"]
    raise AssertionError(f"no session record for pid {proc.pid}")


def test_after_sigkill_of_vethctl_alone_gc_stops_its_capture(lab, pod, state, tmp_path, spawn):
    audit = tmp_path / "audit.jsonl"
    # A filter that matches nothing here: an orphaned tcpdump that prints a packet line into the dead
    # vethctl's pipe dies of SIGPIPE, so with "arp or icmp" it may or may not still live when gc looks.
    proc = spawn(
        [
            VETHCTL,
            "run",
            f"netns/{pod['netns']}",
            "--count",
            "50",
            "--interval",
            "0.2",
            "--filter",
            "udp port 9",
        ],
        {"VETHCTL_AUDIT_LOG": str(audit)},
    )
    _wait_for_line(audit, '"ping"', proc)
    session = _session_of(proc)
    mine = json.loads(Path(os.environ["VETHCTL_STATE_DIR"], "sessions", f"{session}.json").read_text())
    tcpdump_pid = mine["jobs"][0]["pid"]
    proc.kill()  # only vethctl: its tcpdump and ping live on (stopped with their group if the test fails)
    proc.wait()
    assert os.path.exists(f"/proc/{tcpdump_pid}")  # orphaned, still capturing
    gc = gc_on(lab["node_netns"])
    assert tcpdump_pid in [s["pid"] for s in gc["stopped"] if s["session"] == session]  # (its ping too)
    assert [r["links"] for r in gc["removed"] if r["session"] == session] == [[f"vh-{session}"]]
    wait_gone(tcpdump_pid)
    assert both(lab, pod) == state


def test_after_sigkill_while_attaching_gc_restores_the_state(lab, pod, state, tmp_path, spawn):
    marker = tmp_path / "marker"
    proc = spawn(
        [VETHCTL, "run", f"netns/{pod['netns']}"], hook("attach:1", ["touch", str(marker)], ["sleep", "30"])
    )
    deadline = time.monotonic() + 20
    # the hook says the pair exists and its host end is tagged, the pod end not yet
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    session = _session_of(proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tagged_links(lab["node_netns"]) == [f"vh-{session}"]
    gc = gc_on(lab["node_netns"])
    mine = [r for r in gc["removed"] if r["session"] == session]
    assert [r["links"] for r in mine] == [[f"vh-{session}"]] and "is gone" in mine[0]["why"]
    assert both(lab, pod) == state
