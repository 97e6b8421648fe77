"""The same plans over SSH, against a real sshd: find, run, trace, up/down/status; connection errors are exit 4."""

from __future__ import annotations

import json
import os
import signal
import time

from tests.support.cli import VETHCTL
from tests.support.netstate import snapshot, tagged_links


def test_find_over_ssh(sshd, lab, pod):  # noqa: F811
    r = json.loads(sshd.vethctl("find", f"netns/{pod['netns']}", "--via", sshd.url, "-o", "json").stdout)
    assert (r["netns"], r["pod_ip"], r["host_veth"]) == (pod["netns"], pod["ip"], pod["host_veth"])
    assert r["node"] == f"netns {lab['node_netns']} on {sshd.url}"


def test_run_over_ssh_with_audit_and_transcript(sshd, lab, pod, state, tmp_path):  # noqa: F811
    audit, script = tmp_path / "audit.jsonl", tmp_path / "t.sh"
    r = json.loads(
        sshd.vethctl(
            "--audit-log",
            str(audit),
            "run",
            f"netns/{pod['netns']}",
            "--via",
            sshd.url,
            "--transcript",
            str(script),
            "-o",
            "json",
        ).stdout
    )
    assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) == 3
    assert r["teardown"]["done"] and r["veth"]["tag"].endswith(":ssh")
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert entries and all(sshd.url in e["node"] for e in entries)
    lines = script.read_text().splitlines()  # the same commands, to run there: none goes through ssh
    assert not any(line.lstrip().startswith(("ssh ", "sh -c")) for line in lines)
    start = lines.index(f"ip -n {lab['node_netns']} -batch - <<'VETHCTL_EOF'")  # the node's attach commands
    assert lines[start + 1].startswith("link add vh-")
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_trace_over_ssh(sshd, lab, pod):  # noqa: F811
    r = json.loads(
        sshd.vethctl(
            "trace", f"netns/{pod['netns']}", "--to", lab["gateway"], "--via", sshd.url, "-o", "json"
        ).stdout
    )
    assert [h["interface"] for h in r["hops"]] == ["eth0", pod["host_veth"], "cni0"]
    assert [h["requests"] for h in r["hops"]] == [3, 3, 3] and r["hops"][0]["replies"] == 3


def test_up_status_down_over_ssh(sshd, lab, pod, state):  # noqa: F811
    up = json.loads(sshd.vethctl("up", f"netns/{pod['netns']}", "--via", sshd.url, "-o", "json").stdout)
    try:
        assert tagged_links(lab["node_netns"]) == [up["host"]["name"]]
        status = json.loads(sshd.vethctl("status", "--via", sshd.url, "-o", "json").stdout)
        mine = [s for s in status["sessions"] if s["session"] == up["session"]]
        assert mine and mine[0]["alive"] and mine[0]["host"] == sshd.url
    finally:
        down = json.loads(sshd.vethctl("down", up["session"], "--via", sshd.url, "-o", "json").stdout)
    assert down["removed"] == [{"session": up["session"], "links": [up["host"]["name"]]}]
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_a_refused_connection_is_exit_4(sshd, pod):  # noqa: F811
    proc = sshd.vethctl("find", f"netns/{pod['netns']}", "--via", "ssh://root@127.0.0.1:2299", check=False)
    assert proc.returncode == 4 and "connection was refused" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_rejected_key_is_exit_4(sshd, pod):  # noqa: F811
    proc = sshd.vethctl("find", f"netns/{pod['netns']}", "--via", sshd.url, key=sshd.other_key, check=False)
    assert proc.returncode == 4 and "key was rejected" in proc.stderr and "VETHCTL_SSH_OPTS" in proc.stderr


def test_an_unknown_host_key_is_exit_4(sshd, pod, tmp_path):  # noqa: F811
    known = tmp_path / "known_hosts"
    known.write_text("")
    opts = f"-i {sshd.key} -o StrictHostKeyChecking=yes -o UserKnownHostsFile={known}"
    proc = sshd.vethctl(
        "find", f"netns/{pod['netns']}", "--via", sshd.url, check=False, env={"VETHCTL_SSH_OPTS": opts}
    )
    assert proc.returncode == 4 and "host key" in proc.stderr


def test_ctrl_c_of_a_run_over_ssh_cleans_up_there(sshd, lab, pod, state, tmp_path, spawn):  # noqa: F811
    """Ctrl-C reaches vethctl and its ssh processes: the pair and the capture on the node are gone."""
    audit = tmp_path / "audit.jsonl"
    args = ["--audit-log", str(audit), "run", f"netns/{pod['netns']}", "--via", sshd.url, "--count", "50"]
    proc = spawn(["ip", "netns", "exec", sshd.netns, VETHCTL, *args], sshd.env())
    deadline = time.monotonic() + 60
    while not (pinging := _pinging(audit)):  # wait on the audit log: its ping has started over there
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    session = pinging[0]["session"]
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
    left = [p for p in os.listdir("/proc") if p.isdigit() and f"vh-{session}" in _cmdline(p)]
    assert left == [], "a process of the interrupted run is still there"


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _pinging(audit) -> list[dict]:
    lines = audit.read_text().splitlines() if audit.exists() else []
    entries = [json.loads(line) for line in lines if line.endswith("}")]
    return [e for e in entries if e["event"] == "start" and e.get("session") and "ping" in e["argv"]]
