"""Finding a pod's namespace: by IP in a constant number of commands, on bridge and routed CNIs, and for
namespaces that have no name at all."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shutil
import subprocess

import pytest

from tests.support import replays
from tests.support.cli import vethctl
from tests.support.holders import netns_id, own_netns
from tests.support.netstate import ip_json, snapshot, tagged_links


@pytest.fixture(scope="module")
def big_lab():
    name = f"vt-{secrets.token_hex(3)}"
    rec = json.loads(vethctl("lab", "up", "--name", name, "--pods", "12", "-o", "json").stdout)
    yield rec
    vethctl("lab", "down", "--name", name, check=False)


@pytest.fixture(scope="module")
def ptp_lab():
    name = f"vt-{secrets.token_hex(3)}"
    rec = json.loads(vethctl("lab", "up", "--name", name, "--pods", "3", "--cni", "ptp", "-o", "json").stdout)
    yield rec
    vethctl("lab", "down", "--name", name, check=False)


def lookups(r: dict) -> int:
    """The commands a lookup ran, but for the confirmations that some namespace of the machine (not the lab's:
    another suite's, a bare one) does not hold the address."""
    return len([c for c in r["commands"] if c["argv"][-4:-1] != ["addr", "show", "to"]])


def find(target, *extra):
    return json.loads(vethctl("find", target, *extra, "-o", "json").stdout)


def test_find_by_ip_on_a_bridge_in_constant_commands(big_lab):
    for pod in (big_lab["pods"][0], big_lab["pods"][-1]):
        find(f"ip/{pod['ip']}")  # the first lookup may need a probe ping (no neighbour entry yet)
        r = find(f"ip/{pod['ip']}")  # now the neighbour is known: the straight path, every time
        assert (r["netns"], r["host_veth"], r["pod_ip"]) == (pod["netns"], pod["host_veth"], pod["ip"])
        assert r["node"] == f"netns {big_lab['node_netns']}" and r["kind"] == "ip"
        # route, link, neigh (+probe, neigh), fdb, link, list-id, addr, routes; that no other namespace
        # holds the address is told without a command on this machine (Host.netns_holding), but for the
        # machine's namespaces with no local table (a bare `ip netns add`), each asked with `ip`
        assert lookups(r) <= 11
        assert not any("scan" in step for step in r["resolved_by"])
        assert f"{pod['ip']} is in no other namespace" in r["resolved_by"]
        mac = ip_json("neigh", "show", "to", pod["ip"], netns=big_lab["node_netns"])[0]["lladdr"]
        assert r["resolved_by"][1:3] == [
            f"route get {pod['ip']}: dev cni0 (bridge)",
            f"neigh {mac} -> fdb port {pod['host_veth']}",
        ]
        assert r["resolved_by"][3].startswith(f"{pod['host_veth']}: peer ifindex ")
        assert r["resolved_by"][3].endswith(f" -> {pod['netns']}")


def test_find_when_the_bridge_forgot_the_mac(big_lab):
    pod = big_lab["pods"][3]
    find(f"ip/{pod['ip']}")  # neighbour and fdb entries now exist
    mac = json.loads(
        subprocess.run(
            ["ip", "-n", big_lab["node_netns"], "-j", "neigh", "show", "to", pod["ip"]],
            capture_output=True,
            text=True,
        ).stdout
    )[0]["lladdr"]
    # The pod may send a frame (an ARP refresh) between the deletion and the lookup, which teaches the bridge
    # its MAC again: then the lookup needs no probe. Try until the lookup met the forgotten MAC.
    for _ in range(5):
        subprocess.run(
            ["bridge", "-n", big_lab["node_netns"], "fdb", "del", mac, "dev", pod["host_veth"], "master"],
            check=True,
        )
        r = find(f"ip/{pod['ip']}")
        assert r["netns"] == pod["netns"] and r["host_veth"] == pod["host_veth"]
        if any("probe ping" in step for step in r["resolved_by"]):
            break
    else:
        raise AssertionError("the bridge always relearned the MAC before the lookup")
    assert any(f"{mac} not in cni0's fdb: one probe ping" in step for step in r["resolved_by"])


def test_find_by_ip_on_a_routed_cni(ptp_lab):
    pod = ptp_lab["pods"][1]
    r = find(f"ip/{pod['ip']}")
    assert (r["netns"], r["host_veth"]) == (pod["netns"], pod["host_veth"])
    assert f"dev {pod['host_veth']} (veth)" in r["resolved_by"][1]


def test_run_by_ip_on_a_routed_cni(ptp_lab):
    pod = ptp_lab["pods"][2]
    before = snapshot(pod["netns"]), snapshot(ptp_lab["node_netns"])
    r = json.loads(vethctl("run", f"ip/{pod['ip']}", "--count", "1", "-o", "json").stdout)
    assert r["target"]["netns"] == pod["netns"] and r["target"]["host_veth"] == pod["host_veth"]
    assert any(p.get("arp_op") == "request" for p in r["capture"]["packets"])
    assert (snapshot(pod["netns"]), snapshot(ptp_lab["node_netns"])) == before


def test_find_netns_and_pid_targets(lab, pod, hold_netns):
    r = find(f"netns/{pod['netns']}")
    assert r["host_veth"] == pod["host_veth"] and r["pod_ip"] == pod["ip"] and r["pid"] is None
    holder = hold_netns(pod["netns"])
    r = find(f"pid/{holder.pid}")
    assert r["pid"] == holder.pid and r["netns"] is None and r["netns_path"] == holder.path
    assert r["pod_ip"] == pod["ip"] and r["host_veth"] == pod["host_veth"]


@pytest.fixture
def unnamed_pod(lab, hold_netns):
    """A namespace held only by a process (as Docker's are), wired to the lab node by hand like a routed CNI.
    Its address is one of the lab's pod CIDR that no lab pod has: lab CIDRs are the machine's to hand out
    (under the allocation lock), so no other run's namespace holds it, and a scan finds only this one."""
    holder = hold_netns()
    tag = secrets.token_hex(3)
    host_if, addr = f"vt-u{tag}", str(ipaddress.ip_network(lab["pod_cidr"])[240])
    node = lab["node_netns"]
    try:
        subprocess.run(
            [
                "ip",
                "-n",
                node,
                "link",
                "add",
                host_if,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                holder.path,
            ],
            check=True,
        )
        for argv in (
            ["ip", "-n", node, "link", "set", host_if, "up"],
            ["ip", "-n", node, "route", "add", f"{addr}/32", "dev", host_if],
            ["nsenter", f"--net={holder.path}", "ip", "addr", "add", f"{addr}/24", "dev", "eth0"],
            ["nsenter", f"--net={holder.path}", "ip", "link", "set", "eth0", "up"],
            ["nsenter", f"--net={holder.path}", "ip", "link", "set", "lo", "up"],
        ):
            subprocess.run(argv, check=True)
        yield {"pid": holder.pid, "ip": addr, "host_veth": host_if, "node": node, "netns_id": holder.netns_id}
    finally:
        subprocess.run(["ip", "-n", node, "link", "del", host_if], capture_output=True)


def test_find_an_unnamed_namespace_by_scanning(unnamed_pod):
    r = find(f"ip/{unnamed_pod['ip']}", "--via", f"netns:{unnamed_pod['node']}")
    assert r["netns"] is None and r["pod_ip"] == unnamed_pod["ip"]
    # whichever process's /proc/PID/ns/net the scan met first, it is the holder's namespace
    assert r["pid"] is not None and r["netns_path"] == f"/proc/{r['pid']}/ns/net"
    assert netns_id(r["netns_path"]) == unnamed_pod["netns_id"] != own_netns()
    assert r["host_veth"] is None or r["host_veth"] == unnamed_pod["host_veth"]
    assert any("scan" in step for step in r["resolved_by"])


def test_run_and_replay_in_an_unnamed_namespace(unnamed_pod, tmp_path):
    target = f"pid/{unnamed_pod['pid']}"
    before = snapshot(unnamed_pod["node"])
    script = tmp_path / "unnamed.sh"
    r = json.loads(
        vethctl(
            "run", target, "--via", f"netns:{unnamed_pod['node']}", "--transcript", str(script), "-o", "json"
        ).stdout
    )
    assert r["target"]["kind"] == "pid" and len([p for p in r["capture"]["packets"] if p.get("arp_op")]) == 3
    assert "nsenter --net=/proc/" in script.read_text()
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.count("Request who-has") == 3
    assert tagged_links(unnamed_pod["node"]) == [] and snapshot(unnamed_pod["node"]) == before


def test_a_container_target_without_crictl_is_exit_4(tmp_path):
    """A PATH with the tools vethctl drives and no crictl, whatever this machine has installed."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("ip", "tcpdump", "ping", "nsenter", "bridge"):
        os.symlink(shutil.which(tool), bindir / tool)
    proc = vethctl("find", "container/0123456789ab", check=False, env={"PATH": str(bindir)})
    assert proc.returncode == 4, proc.stderr
    assert "crictl" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("vethctl: error: ") and "Traceback" not in proc.stderr


def test_find_on_a_node_with_more_pods_than_one_netlink_batch():
    """iproute2's unfiltered `ip netns list-id` stops after ~134 entries: the lookup must ask for its one id."""
    name = f"vt-{secrets.token_hex(3)}"
    lab = json.loads(vethctl("lab", "up", "--name", name, "--pods", "150", "-o", "json", timeout=300).stdout)
    try:
        last = lab["pods"][-1]
        r = find(f"ip/{last['ip']}")
        assert (r["netns"], r["host_veth"]) == (last["netns"], last["host_veth"])
        assert not any("scan" in step for step in r["resolved_by"]) and lookups(r) <= 11
    finally:
        down = vethctl("lab", "down", "--name", name, timeout=300)
    assert "150 pod(s)" in down.stdout
