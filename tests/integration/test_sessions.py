"""up/down/status/gc: the kernel's tags are the truth, records only add to them; gc's idea of dead."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

from tests.support.cli import gc_on, status_on, vethctl
from tests.support.holders import unique_name
from tests.support.netstate import snapshot, tagged_links


def test_status_and_down_work_from_the_tags_when_the_records_are_gone(lab, pod, state):
    up = json.loads(vethctl("up", f"netns/{pod['netns']}", "-o", "json").stdout)
    try:
        Path(os.environ["VETHCTL_STATE_DIR"], "sessions", f"{up['session']}.json").unlink()
        mine = [s for s in status_on(lab["node_netns"])["sessions"] if s["session"] == up["session"]]
        assert mine and mine[0]["recorded"] is False and mine[0]["mode"] == "up" and mine[0]["alive"]
        assert mine[0]["host_if"] == up["host"]["name"] and mine[0]["pod_netns"] == pod["netns"]
        assert up["session"] in gc_on(lab["node_netns"])["kept_alive"]
    finally:
        down = json.loads(vethctl("down", up["session"], "-o", "json").stdout)
    assert down["removed"][0]["links"] == [up["host"]["name"]]
    assert json.loads(vethctl("down", up["session"], "-o", "json").stdout)["already_gone"] == [up["session"]]
    assert snapshot(pod["netns"]) == state["pod"] and snapshot(lab["node_netns"]) == state["node"]


def test_an_up_whose_pod_namespace_is_gone_is_collected(lab, hold_netns):
    """The pod's netns name is removed while a process still holds the namespace: the pair lives on, the
    session is dead (its pod is gone as far as anyone can name it), gc removes it."""
    name = unique_name()
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        hold_netns(name)
        up = json.loads(
            vethctl("up", f"netns/{name}", "--via", f"netns:{lab['node_netns']}", "-o", "json").stdout
        )
        subprocess.run(["ip", "netns", "del", name], check=True)
        mine = [s for s in status_on(lab["node_netns"])["sessions"] if s["session"] == up["session"]]
        assert mine and mine[0]["alive"] is False
        gc = gc_on(lab["node_netns"])
        assert [r["links"] for r in gc["removed"] if r["session"] == up["session"]] == [[up["host"]["name"]]]
        assert "pod's network namespace is gone" in next(
            r["why"] for r in gc["removed"] if r["session"] == up["session"]
        )
        assert up["host"]["name"] not in tagged_links(lab["node_netns"])
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_gc_never_touches_an_untagged_link(lab, state):
    name = f"vh-{secrets.token_hex(4)}"  # looks like ours, is not tagged
    subprocess.run(
        ["ip", "-n", lab["node_netns"], "link", "add", name, "type", "veth", "peer", "name", name + "p"],
        check=True,
    )
    try:
        gc = gc_on(lab["node_netns"])
        assert not any(name in r["links"] for r in gc["removed"])
        links = json.loads(
            subprocess.run(
                ["ip", "-n", lab["node_netns"], "-j", "link", "show", name], capture_output=True, text=True
            ).stdout
        )
        assert [x["ifname"] for x in links] == [name]
    finally:
        subprocess.run(["ip", "-n", lab["node_netns"], "link", "del", name], check=True)


def test_a_kept_run_lives_with_its_pod_not_its_process(lab, pod, state):
    r = json.loads(vethctl("run", f"netns/{pod['netns']}", "--count", "1", "--keep", "-o", "json").stdout)
    try:
        assert r["veth"]["tag"] == f"vethctl:{r['session']}:up"
        mine = [s for s in status_on(lab["node_netns"])["sessions"] if s["session"] == r["session"]]
        assert mine and mine[0]["alive"]  # the run's process is gone; the session is not
        assert r["session"] in gc_on(lab["node_netns"])["kept_alive"]
    finally:
        vethctl("down", r["session"])
    assert snapshot(pod["netns"]) == state["pod"]


def test_down_all_on_a_node_removes_its_sessions_and_only_those(lab, pod, state, scratch_lab):
    """Two sessions on a node of the test's own (an up, a kept run), one on another node: `down --all --via
    netns:NODE` removes the two, leaves the other one, links and record."""
    node, other = scratch_lab["node_netns"], lab["node_netns"]
    ups = [
        json.loads(vethctl("up", f"netns/{scratch_lab['pods'][0]['netns']}", "-o", "json").stdout)["session"],
        json.loads(
            vethctl(
                "run", f"netns/{scratch_lab['pods'][1]['netns']}", "--count", "1", "--keep", "-o", "json"
            ).stdout
        )["session"],
    ]
    elsewhere = json.loads(vethctl("up", f"netns/{pod['netns']}", "-o", "json").stdout)
    try:
        down = json.loads(vethctl("down", "--all", "--via", f"netns:{node}", "-o", "json").stdout)
        assert sorted(r["session"] for r in down["removed"]) == sorted(ups)
        assert sorted(link for r in down["removed"] for link in r["links"]) == sorted(f"vh-{s}" for s in ups)
        assert tagged_links(node) == [] and down["already_gone"] == []
        mine = [s for s in status_on(other)["sessions"] if s["session"] == elsewhere["session"]]
        assert mine and mine[0]["recorded"] and tagged_links(other) == [elsewhere["host"]["name"]]
    finally:
        vethctl("down", elsewhere["session"])
    assert snapshot(pod["netns"]) == state["pod"]
