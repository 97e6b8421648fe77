"""Eight runs against the same pod at once: all succeed, none collide, nothing is left, the log stays whole."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess

from tests.support.cli import VETHCTL
from tests.support.netstate import snapshot


def test_eight_concurrent_runs_on_one_pod(lab, pod, state, tmp_path):
    audit = tmp_path / "audit.jsonl"
    env = {**os.environ, "VETHCTL_AUDIT_LOG": str(audit)}
    procs = [
        subprocess.Popen(
            [VETHCTL, "run", f"netns/{pod['netns']}", "--count", "2", "--interval", "0.2", "-o", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(8)
    ]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        reports.append(json.loads(out))
    hosts = [r["veth"]["host"]["name"] for r in reports]
    subnets = [ipaddress.ip_interface(r["veth"]["pod"]["address"]).network for r in reports]
    assert len(set(hosts)) == 8 and len(set(r["veth"]["pod"]["name"] for r in reports)) == 8
    assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])
    for r in reports:  # each saw its own unanswered neighbour, nobody else's packets
        who_has = [p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]
        assert who_has and all(p["target_ip"] == r["ping_target"] for p in who_has)
    lines = audit.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one whole JSON object
    assert len(entries) == sum(2 * len(r["commands"]) for r in reports)
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
