"""`vethctl trace` across a lab node shaped like a real one: pod -> host veth -> bridge -> uplink, MASQUERADE
on the uplink, an 'outside' namespace holding 203.0.113.7. All traffic stays in namespaces the tests made."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from tests.support.cli import vethctl

OUTSIDE = "203.0.113.7"


def make_lab(cni: str):
    name = f"vt-{secrets.token_hex(3)}"
    rec = json.loads(
        vethctl("lab", "up", "--name", name, "--pods", "2", "--cni", cni, "--uplink", "-o", "json").stdout
    )
    return rec


@pytest.fixture(scope="module")
def node():
    rec = make_lab("bridge")
    yield rec
    vethctl("lab", "down", "--name", rec["name"], check=False)


@pytest.fixture(scope="module")
def routed_node():
    rec = make_lab("ptp")
    yield rec
    vethctl("lab", "down", "--name", rec["name"], check=False)


def trace(pod, to=OUTSIDE, *extra):
    return json.loads(vethctl("trace", f"netns/{pod['netns']}", "--to", to, *extra, "-o", "json").stdout)


def in_node(node, *argv):
    subprocess.run(["ip", "netns", "exec", node["node_netns"], *argv], check=True)


def test_trace_through_bridge_and_uplink_sees_the_snat(node):
    pod = node["pods"][0]
    r = trace(pod)
    assert [(h["side"], h["interface"], h["role"]) for h in r["hops"]] == [
        ("pod", "eth0", "pod"),
        ("node", pod["host_veth"], "host veth"),
        ("node", "cni0", "bridge"),
        ("node", "uplink0", "egress"),
    ]
    assert all(h["requests"] == 3 and h["replies"] == 3 for h in r["hops"])
    assert [h["src_ip"] for h in r["hops"]] == [pod["ip"]] * 3 + ["198.51.100.1"]
    assert all(h["dst_ip"] == OUTSIDE for h in r["hops"])
    assert r["hops"][0]["first_seen"] <= r["hops"][1]["first_seen"] <= r["hops"][3]["first_seen"]
    assert r["hops"][3]["delay_from_previous_us"] is not None
    assert any(
        f"rewritten from {pod['ip']} to 198.51.100.1 between cni0 and uplink0" in o for o in r["observations"]
    )
    assert any("reached the pod (3 of 3)" in o for o in r["observations"])


def test_a_forward_drop_is_named_where_it_stops(node):
    pod = node["pods"][1]
    in_node(node, "iptables", "-I", "FORWARD", "-d", OUTSIDE, "-j", "DROP")
    try:
        r = trace(pod)
    finally:
        in_node(node, "iptables", "-D", "FORWARD", "-d", OUTSIDE, "-j", "DROP")
    assert [h["requests"] for h in r["hops"]] == [3, 3, 3, 0]
    text = "\n".join(r["observations"])
    assert "last seen on cni0 (bridge) and never on uplink0 (egress)" in text
    assert "FORWARD chain has 1 DROP/REJECT rule(s)" in text and f"-d {OUTSIDE}/32 -j DROP" in text


def test_ip_forward_off_is_named(node):
    pod = node["pods"][0]
    in_node(node, "sysctl", "-qw", "net.ipv4.ip_forward=0")
    try:
        r = trace(pod)
    finally:
        in_node(node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    assert [h["requests"] for h in r["hops"]] == [3, 3, 3, 0]
    assert r["diagnostics"]["ip_forward"] == "0"
    assert any("net.ipv4.ip_forward is 0" in o for o in r["observations"])


def test_a_routed_cni_pod(routed_node):
    pod = routed_node["pods"][0]
    r = trace(pod)
    assert [(h["interface"], h["role"]) for h in r["hops"]] == [
        ("eth0", "pod"),
        (pod["host_veth"], "host veth"),
        ("uplink0", "egress"),
    ]
    assert [h["requests"] for h in r["hops"]] == [3, 3, 3] and r["hops"][-1]["src_ip"] == "198.51.100.1"


def test_the_destination_on_a_veth_vethctl_attached(node):
    pod = node["pods"][0]
    up = json.loads(vethctl("up", f"netns/{pod['netns']}", "-o", "json").stdout)
    try:
        unused = up["pod"]["address"].rsplit(".", 1)[0] + ".101"
        r = trace(pod, unused)
        assert [(h["interface"], h["role"]) for h in r["hops"]] == [
            (up["pod"]["name"], "pod"),
            (up["host"]["name"], "host veth"),
        ]
        assert [len(h["arp_requests"]) for h in r["hops"]] == [3, 3] and not r["hops"][0]["arp_replies"]
        assert any(f"who has {unused}" in o and "nobody answered" in o for o in r["observations"])
        host = up["host"]["address"].split("/")[0]
        r = trace(pod, host)
        assert [h["replies"] for h in r["hops"]] == [3, 3]
        assert any("address of the node itself" in o for o in r["observations"])
    finally:
        vethctl("down", up["session"])
