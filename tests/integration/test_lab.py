"""The lab node: pods shaped exactly as a kubelet leaves them, and nothing left after `lab down`."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path

from tests.support.cli import vethctl
from tests.support.netstate import ip_json
from vethctl.scenarios.lab.node import cni_bin_dir
from vethctl.state.labs import ipam_dir, lab_dir


def netns_names() -> set[str]:
    out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True).stdout
    return {n["name"] for n in json.loads(out or "[]")}


def lab_pods_of(name: str) -> list[str]:
    """The pods `lab status` lists for one lab (of all the labs on the machine)."""
    status = json.loads(vethctl("lab", "status", "-o", "json").stdout)
    return [p["netns"] for lab in status if lab["name"] == name for p in lab["pods"]]


def test_lab_pods_have_the_shape_of_a_real_node(lab):
    assert re.fullmatch(
        r"cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lab["pods"][0]["netns"]
    )
    for pod in lab["pods"]:
        links = {link["ifname"]: link for link in ip_json("link", "show", netns=pod["netns"])}
        assert set(links) == {"lo", "eth0"}
        assert "UP" in links["lo"]["flags"] and "UP" in links["eth0"]["flags"]
        # eth0@ifN: its peer is on the node, in the node's namespace
        assert links["eth0"]["link_netnsid"] is not None and links["eth0"]["link_index"] > 0
        routes = ip_json("route", "show", netns=pod["netns"])
        assert {"dst": "default", "gateway": lab["gateway"], "dev": "eth0"}.items() <= routes[0].items()
        node_link = ip_json("link", "show", "dev", pod["host_veth"], netns=lab["node_netns"])[0]
        assert node_link["master"] == lab["bridge"] and node_link["ifindex"] == links["eth0"]["link_index"]
    text = subprocess.run(
        ["ip", "-n", lab["pods"][0]["netns"], "-br", "link"], capture_output=True, text=True
    ).stdout
    assert re.search(r"^eth0@if\d+\s", text, re.M)


def test_pods_reach_each_other_and_the_gateway(lab):
    a, b = lab["pods"]
    r = json.loads(
        vethctl(
            "ping", f"netns/{a['netns']}", b["ip"], "--count", "2", "--interval", "0.2", "-o", "json"
        ).stdout
    )
    assert r["ping"]["packets_received"] == 2 and r["route"]["dev"] == "eth0"


def test_routes_says_which_way_an_address_leaves(lab, pod):
    r = json.loads(vethctl("routes", f"netns/{pod['netns']}", "--to", "198.51.100.7", "-o", "json").stdout)
    assert r["to"]["sentence"] == f"198.51.100.7 leaves by eth0 via {lab['gateway']}, from {pod['ip']}"
    assert any(route["dst"] == "default" for route in r["routes"])
    text = vethctl("routes", f"netns/{pod['netns']}", "--to", pod["ip"]).stdout
    assert "default via" in text


def test_lab_up_down_status_leave_nothing():
    name = f"vt-{secrets.token_hex(3)}"
    up = json.loads(vethctl("lab", "up", "--name", name, "--pods", "3", "-o", "json").stdout)
    made = {name, *(p["netns"] for p in up["pods"])}
    try:
        assert len(up["pods"]) == 3 and len({p["ip"] for p in up["pods"]}) == 3
        assert made <= netns_names()  # (other runs on this machine make and remove namespaces meanwhile)
        assert {p["netns"] for p in up["pods"]} == set(lab_pods_of(name))
        status = json.loads(vethctl("lab", "status", "-o", "json").stdout)
        mine = next(lab for lab in status if lab["name"] == name)
        assert mine["up"] and all(p["present"] for p in mine["pods"])
        # up again is idempotent: it grows to the asked number, never duplicates
        again = json.loads(vethctl("lab", "up", "--name", name, "--pods", "3", "-o", "json").stdout)
        assert again["created"] == [] and len(again["pods"]) == 3
    finally:
        down = vethctl("lab", "down", "--name", name)
    assert not made & netns_names()
    assert name in down.stdout
    assert "nothing to do" in vethctl("lab", "down", "--name", name).stdout


def test_lab_down_refuses_a_namespace_it_did_not_make():
    name = f"vt-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        proc = vethctl("lab", "down", "--name", name, check=False)
        assert proc.returncode == 2 and "not a vethctl lab" in proc.stderr
        assert name in netns_names()
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_demo_shows_who_has_and_leaves_nothing():
    proc = vethctl("demo", timeout=120)
    assert "Request" not in proc.stderr
    assert proc.stdout.count("ARP request  who-has") >= 3
    assert "nobody answered" in proc.stdout and "answered ARP" in proc.stdout
    assert "left behind: nothing" in proc.stdout
    node = re.search(r"^\$ vethctl lab up --name (\S+)", proc.stdout, re.M).group(1)
    made = {node, *re.findall(r"pod netns/(cni-[0-9a-f-]+)", proc.stdout)}
    assert len(made) == 3 and not made & netns_names()  # what the demo made, and only that, is gone


def test_a_lab_up_that_fails_half_way_leaves_nothing_and_releases_its_addresses(tmp_path):
    """The loopback plugin fails (a stand-in that says no): lab up undoes what it made, last first, so each
    pod's CNI DEL runs while the node's namespace is still there and releases the pod's address in
    host-local's store; undone first in, first out, the reservation would be left behind."""
    real = cni_bin_dir()
    cni = tmp_path / "cni"
    cni.mkdir()
    for plugin in ("bridge", "host-local"):
        os.symlink(os.path.join(real, plugin), cni / plugin)
    (cni / "loopback").write_text("#!/bin/sh\necho 'loopback: the test says no' >&2\nexit 1\n")
    (cni / "loopback").chmod(0o755)
    name = f"vt-{secrets.token_hex(3)}"
    try:
        audit = tmp_path / "audit.jsonl"
        proc = vethctl(
            "--audit-log",
            str(audit),
            "lab",
            "up",
            "--name",
            name,
            "--pods",
            "2",
            check=False,
            env={"VETHCTL_CNI_PATH": str(cni)},
        )
        assert proc.returncode == 1 and "the test says no" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert f"command failed (exit 1) on the lab node {name}: ip netns exec {name} env " in proc.stderr
        assert "pod netns" not in proc.stderr  # a lab node's step is not the pod's
        ran = [json.loads(line)["argv"] for line in audit.read_text().splitlines()]
        pods = {a[3] for a in ran if a[:3] == ["ip", "netns", "add"] and a[3].startswith("cni-")}
        assert len(pods) == 1 and not pods & netns_names()
        store = Path(ipam_dir(name))
        assert store.is_dir()  # host-local did reserve an address for the first pod
        reserved = [f.name for f in store.rglob("*") if f.is_file() and re.fullmatch(r"[0-9.]+", f.name)]
        assert reserved == [], f"addresses still reserved after the failed lab up: {reserved}"
        assert name not in netns_names()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        shutil.rmtree(os.path.join(lab_dir(), name), ignore_errors=True)  # this test's lab only
