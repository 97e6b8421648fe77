"""Services, NAT and drops (issue 12): trace --probe through kube-proxy's DNAT in each of its modes, the
no-endpoints REJECT, a DROP in FORWARD and in a pod's own namespace, and a loss only the kernel counted."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from tests.support.cli import vethctl

MODES = ["iptables", "iptables-legacy", "nftables"]


@pytest.fixture(scope="module", params=MODES)
def svc_lab(request):
    name = f"vs-{secrets.token_hex(3)}"
    rec = json.loads(
        vethctl(
            "lab",
            "up",
            "--name",
            name,
            "--pods",
            "2",
            "--policy",
            "--service",
            "web:80",
            "--service",
            "empty:80:none",
            "--proxy-mode",
            request.param,
            "-o",
            "json",
        ).stdout
    )
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


def cluster_ip(rec, name):
    return next(s["cluster_ip"] for s in rec["services"]["services"] if s["name"] == f"default/{name}")


def trace(rec, spec, *args):
    client = rec["pods"][0]["netns"]
    return json.loads(
        vethctl(
            "trace", f"netns/{client}", "--probe", spec, "--count", "1", "--timeout", "2", *args, "-o", "json"
        ).stdout
    )


def test_dnat_to_a_same_node_backend_is_followed_and_named(svc_lab):
    cip, backend = cluster_ip(svc_lab, "web"), svc_lab["servers"]["ip"]
    r = trace(svc_lab, f"tcp:{cip}:80")
    assert r["probe"]["outcome"] == "answered"
    assert [h["role"] for h in r["hops"]] == ["pod", "host veth", "bridge", "backend veth", "backend pod"]
    assert r["hops"][0]["dst_ip"] == cip and r["hops"][-1]["dst_ip"] == backend
    assert all(h["requests"] == 1 for h in r["hops"])  # the SYN, matched across the rewrite by its sequence
    (nat,) = [n for n in r["nat"] if n["kind"] == "dnat"]
    assert (nat["before"], nat["after"]) == (f"{cip}:80", f"{backend}:8080")
    assert nat["between"][1] == r["hops"][2]["interface"] and nat["service"] == "default/web"
    assert "dnat" in nat["rule"].lower() and f"dport=80 src={backend}" in nat["conntrack"]
    services = {m.get("service") for m in r["rules_matched"]}
    assert "default/web" in services and r["drops"] == []
    assert any("was rewritten from" in o and "default/web" in o for o in r["observations"])


def test_a_service_without_endpoints_is_rejected_by_its_rule(svc_lab):
    r = trace(svc_lab, f"tcp:{cluster_ip(svc_lab, 'empty')}:80")
    assert r["probe"]["outcome"] == "unreachable"
    (drop,) = r["drops"]
    assert drop["where"] == "node" and drop["service"] == "default/empty" and drop["packets"] >= 1
    assert any("Service default/empty has no endpoints" in o for o in r["observations"])


def test_a_drop_in_forward_is_named_with_its_counter(svc_lab):
    backend = svc_lab["servers"]["ip"]
    rule = ["-d", f"{backend}/32", "-p", "tcp", "--dport", "8080", "-j", "DROP"]
    node = svc_lab["node_netns"]
    subprocess.run(["ip", "netns", "exec", node, "iptables", "-I", "FORWARD", *rule], check=True)
    try:
        r = trace(svc_lab, f"tcp:{cluster_ip(svc_lab, 'web')}:80")
    finally:
        subprocess.run(["ip", "netns", "exec", node, "iptables", "-D", "FORWARD", *rule], check=True)
    assert r["probe"]["outcome"] == "no-reply"
    assert [d["chain"] for d in r["drops"]] == ["FORWARD"] and "-j DROP" in r["drops"][0]["rule"]
    assert any("were dropped in node" in o and "FORWARD" in o for o in r["observations"])
    (nat,) = r["nat"]
    assert nat["conntrack"] is None and nat["after"].endswith(
        ":8080"
    )  # dropped before conntrack confirmed it


def test_a_drop_in_the_destination_pods_own_namespace(svc_lab):
    r = trace(svc_lab, f"tcp:{svc_lab['servers']['ip']}:8081")  # --policy: DROP tcp 8081 in the server pod
    assert r["probe"]["outcome"] == "no-reply"
    (drop,) = r["drops"]
    assert drop["where"] == f"pod {svc_lab['servers']['pod']}" and drop["chain"] == "INPUT"


def test_a_loss_no_rule_counted_is_named_by_the_kernel(svc_lab):
    r = trace(svc_lab, "tcp:203.0.113.99:80")  # no uplink: the node has no route for it
    assert r["probe"]["outcome"] in ("unreachable", "no-reply")
    kernel = [d for d in r["drops"] if "counter" in d]
    assert kernel and kernel[0]["where"] == "node" and "no route" in kernel[0]["meaning"]
