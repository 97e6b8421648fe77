"""Across nodes (issue 13): a two-node lab cluster for each overlay; trace follows the packet onto the next
node (through VXLAN, or routed), a drop of the overlay's UDP on the far node is named, an MTU too small on the
underlay is explained with its numbers, and the same trace reaches the far node over ssh."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess

import pytest

from tests.support import fakekubectl, sshd
from tests.support.cli import ROOT, VETHCTL, vethctl


def cluster(overlay: str, *extra: str) -> dict:
    name = f"vn-{secrets.token_hex(3)}"
    out = vethctl(
        "lab", "up", "--name", name, "--nodes", "2", "--pods", "1", "--overlay", overlay, *extra, "-o", "json"
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module", params=["vxlan", "routed"])
def two_nodes(request):
    rec = cluster(request.param)
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", rec["name"], check=False)


def ends(rec):
    a, b = rec["node_records"]
    return a["pods"][0]["netns"], b["pods"][0]["ip"], a["name"], b["name"]


def trace(client, dst, *args, runner=vethctl):
    return json.loads(
        runner("trace", f"netns/{client}", "--to", dst, "--count", "2", *args, "-o", "json").stdout
    )


def test_the_path_goes_on_onto_the_next_node(two_nodes):
    client, dst, node_a, node_b = ends(two_nodes)
    r = trace(client, dst)
    nodes = [h["node"] for h in r["hops"]]
    assert nodes[0] == f"netns {node_a}" and nodes[-1] == f"netns {node_b}"
    assert [h["role"] for h in r["hops"]][-2:] == ["dst veth", "dst pod"]
    assert all(h["requests"] == 2 and h["replies"] == 2 for h in r["hops"]), r["hops"]
    delays = [h["delay_from_previous_us"] for h in r["hops"][1:]]
    assert all(d is not None for d in delays)  # one clock: delays across the nodes too
    if two_nodes["overlay"] == "vxlan":
        (e, back) = r["encap"]
        assert (e["kind"], e["vni"], e["port"]) == ("vxlan", 1, 8472)
        assert (e["outer_src"], e["outer_dst"]) == ("192.0.2.11", "192.0.2.12") and back[
            "outer_src"
        ] == "192.0.2.12"
        roles = [h["role"] for h in r["hops"]]
        assert roles.count("underlay") == 2 and "vtep" in roles
        underlay = next(h for h in r["hops"] if h["role"] == "underlay")
        assert underlay["src_ip"] == r["hops"][0]["src_ip"]  # the inner packet, read through the outer header
    else:
        assert r["encap"] == [] and "underlay" in [h["role"] for h in r["hops"]]


def test_a_drop_of_the_overlays_udp_on_the_far_node(two_nodes):
    if two_nodes["overlay"] != "vxlan":
        pytest.skip("a VXLAN overlay's UDP")
    client, dst, _, node_b = ends(two_nodes)
    rule = ["INPUT", "-p", "udp", "--dport", "8472", "-j", "DROP"]
    subprocess.run(["ip", "netns", "exec", node_b, "iptables", "-I", *rule], check=True)
    try:
        r = trace(client, dst)
    finally:
        subprocess.run(["ip", "netns", "exec", node_b, "iptables", "-D", *rule], check=True)
    seen = [(h["role"], h["node"]) for h in r["hops"] if h["requests"]]
    assert seen[-1] == ("underlay", f"netns {node_b}")  # arrived on B's underlay, never decapsulated
    assert [(d["where"], d["chain"]) for d in r["drops"]] == [(f"netns {node_b}", "INPUT")]
    assert any("did not decapsulate them" in o for o in r["observations"])


def test_an_mtu_too_small_on_the_underlay_is_explained_with_its_numbers():
    rec = cluster("vxlan", "--underlay-mtu", "1400")
    try:
        client, dst, node_a, _ = ends(rec)
        small = trace(client, dst, "--size", "1200")
        big = trace(client, dst, "--size", "1422")  # 1450 bytes: the pod's MTU, 1500 with VXLAN's 50
    finally:
        vethctl("lab", "down", "--name", rec["name"], check=False)
    assert small["hops"][-1]["requests"] == 2 and big["hops"][-1]["requests"] == 0
    seen = [h for h in big["hops"] if h["requests"]]
    assert (seen[-1]["role"], seen[-1]["node"]) == ("egress", f"netns {node_a}")  # lost at encapsulation
    said = " ".join(big["observations"])
    assert "1450" in said and "50 bytes of encapsulation" in said and "underlay's MTU is 1400" in said


def test_the_far_node_over_ssh(tmp_path):
    rec = cluster("vxlan")
    proc = None
    try:
        client, dst, node_a, node_b = ends(rec)
        proc = sshd.serve_in(node_b, "192.0.2.12", tmp_path)
        env = {**os.environ, "VETHCTL_SSH_OPTS": sshd.client_opts(tmp_path)}

        def from_node_a(*args):  # vethctl as run on node A: the far node is reached over the underlay, by ssh
            out = subprocess.run(
                ["ip", "netns", "exec", node_a, VETHCTL, *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert out.returncode == 0, out.stderr
            return out

        r = trace(client, dst, "--node", "192.0.2.12=ssh://root@192.0.2.12:2222", runner=from_node_a)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        vethctl("lab", "down", "--name", rec["name"], check=False)
    far = [h for h in r["hops"] if h["node"] == "ssh://root@192.0.2.12:2222"]
    assert [h["role"] for h in far] == ["underlay", "vtep", "bridge", "dst veth", "dst pod"]
    assert all(h["requests"] == 2 for h in far)
    assert any(c["argv"][:1] == ["tcpdump"] for c in r["commands"])  # captures ran there, through ssh


def test_demo_across_two_nodes_traces_through_the_overlay_and_leaves_nothing():
    out = vethctl("demo", "--nodes", "2").stdout
    name = out.split("--name ", 1)[1].split()[0]
    hops = [line.split() for line in out.splitlines() if line[:4].strip().isdigit()]
    assert [h[1] for h in hops][0] == f"{name}-1" and [h[1] for h in hops][-1] == f"{name}-2"
    counts = re.findall(r"\s(\d+)\s+(\d+)\s+\d\d:\d\d:\d\d\.", out)
    assert counts == [("2", "2")] * len(hops), counts  # every hop saw both requests and both replies
    assert "VXLAN (VNI 1, UDP 8472)" in out
    assert out.rstrip().endswith("left behind: nothing (no lab namespace, no vethctl-tagged link)")
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert name not in names


def vtep_entries(node: str) -> tuple[dict, dict]:
    """Node's neighbour and fdb entries for the remote VTEP (what flannel writes)."""

    def j(*argv):
        return json.loads(
            subprocess.run(
                ["ip", "netns", "exec", node, *argv], capture_output=True, check=True, text=True
            ).stdout
        )

    neigh = next(n for n in j("ip", "-j", "neigh", "show", "dev", "flannel.1") if n.get("lladdr"))
    fdb = next(
        e for e in j("bridge", "-j", "fdb", "show", "dev", "flannel.1") if e.get("mac") == neigh["lladdr"]
    )
    return neigh, fdb


@pytest.mark.parametrize("entry", ["fdb", "neighbour"])
def test_a_missing_forwarding_entry_of_the_vtep_is_named(two_nodes, entry):
    if two_nodes["overlay"] != "vxlan":
        pytest.skip("a VXLAN overlay's entries")
    client, dst, node_a, _ = ends(two_nodes)
    neigh, fdb = vtep_entries(node_a)
    if entry == "fdb":
        remove = ["bridge", "fdb", "del", fdb["mac"], "dev", "flannel.1", "dst", fdb["dst"]]
        restore = [
            "bridge",
            "fdb",
            "append",
            fdb["mac"],
            "dev",
            "flannel.1",
            "dst",
            fdb["dst"],
            "self",
            "permanent",
        ]
    else:
        remove = ["ip", "neigh", "del", neigh["dst"], "dev", "flannel.1"]
        restore = [
            "ip",
            "neigh",
            "replace",
            neigh["dst"],
            "lladdr",
            neigh["lladdr"],
            "dev",
            "flannel.1",
            "nud",
            "permanent",
        ]
    subprocess.run(["ip", "netns", "exec", node_a, *remove], check=True)
    try:
        r = trace(client, dst)
    finally:
        subprocess.run(["ip", "netns", "exec", node_a, *restore], check=True)
    assert vtep_entries(node_a) == (neigh, fdb)  # put back as it was, for the other tests
    said = " ".join(r["observations"])
    if entry == "fdb":
        assert "no forwarding entry for that MAC (bridge fdb show dev flannel.1)" in said, said
        assert neigh["lladdr"] in said
    else:
        assert f"no neighbour entry for the remote VTEP {neigh['dst']}" in said, said
    assert {h["node"] for h in r["hops"]} == {f"netns {node_a}"}  # the path stops at the VTEP
    assert r["hops"][-1]["role"] == "egress" and r["hops"][0]["replies"] == 0


def test_the_far_node_through_its_own_debugging_pod(two_nodes, tmp_path):
    if two_nodes["overlay"] != "vxlan":
        pytest.skip("one overlay is enough: the far node is found by the VTEP's fdb entry")
    a, b = two_nodes["node_records"]
    underlay = {n["name"]: n["underlay_ip"] for n in two_nodes["nodes"]}
    record = json.loads((ROOT / "tests/fixtures/kubectl/pod-running.json").read_text())
    record["metadata"] |= {"name": "web-0", "namespace": "shop"}
    record["spec"]["nodeName"] = a["name"]
    ip = a["pods"][0]["ip"]
    record["status"]["podIP"], record["status"]["podIPs"] = ip, [{"ip": ip}]
    nodes = {n["name"]: {"netns": n["name"], "ip": underlay[n["name"]]} for n in (a, b)}
    env, log = fakekubectl.install(tmp_path, [record], nodes)
    out = vethctl(
        "trace",
        "pod/web-0",
        "-n",
        "shop",
        "--via",
        "kubectl-debug",
        "--to",
        b["pods"][0]["ip"],
        "--count",
        "2",
        "-o",
        "json",
        env=env,
    )
    r = json.loads(out.stdout)
    far = [h for h in r["hops"] if h["node"] == f"kubectl-debug node/{b['name']}"]
    assert [h["role"] for h in far] == ["underlay", "vtep", "bridge", "dst veth", "dst pod"], r["hops"]
    assert all(h["requests"] == 2 and h["replies"] == 2 for h in r["hops"]), r["hops"]
    made = [json.loads(line) for line in log.read_text().splitlines()]
    assert ["get", "nodes", "-o", "json"] in made  # the far node found by its InternalIP
    debugged = [c[1] for c in made if c[0] == "debug"]
    assert debugged == [f"node/{a['name']}", f"node/{b['name']}"]  # one debugging pod per node
    deleted = sorted(c[2] for c in made if c[:2] == ["delete", "pod"])
    assert deleted == sorted(f"node-debugger-{n}-pdx84" for n in (a["name"], b["name"]))  # both removed
