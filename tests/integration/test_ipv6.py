"""IPv6 and dual-stack, on lab pods made by the real CNI bridge + host-local plugins with two ranges: IPv6 ends
chosen by themselves, Neighbor Discovery in the observations, find/routes/probe by IPv6 address, a trace out
through the lab's IPv6 uplink (ip6tables MASQUERADE). Every address is 2001:db8::/32 or 198.18.0.0/15, held
by namespaces these tests made."""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from tests.support.cli import vethctl
from tests.support.netstate import ip_json, snapshot, tagged_links

OUTSIDE6 = "2001:db8:203::7"
UPLINK6 = "2001:db8:51:100::1"  # the node's address on the uplink: what MASQUERADE rewrites the source to


def lab_up(*args: str) -> dict:
    name = f"vt6-{secrets.token_hex(3)}"
    # the allocation lock is the machine's: another suite's big lab may hold it for a while
    return json.loads(vethctl("lab", "up", "--name", name, *args, "-o", "json", timeout=300).stdout)


@pytest.fixture(scope="module")
def six():
    """An IPv6-only lab node: 10 pods, an uplink to an outside holding 2001:db8:203::7, servers and policy."""
    rec = lab_up("--family", "6", "--pods", "10", "--uplink", "--servers", "--policy")
    yield rec
    vethctl("lab", "down", "--name", rec["name"], check=False)


@pytest.fixture(scope="module")
def dual():
    rec = lab_up("--family", "dual", "--pods", "2")
    yield rec
    vethctl("lab", "down", "--name", rec["name"], check=False)


def unchanged(lab: dict, pod: dict):
    """Snapshot the node and the pod; afterwards nothing of ours is left and nothing else changed."""
    before = (snapshot(lab["node_netns"]), snapshot(pod["netns"]))

    def check():
        left = tagged_links(lab["node_netns"]) + tagged_links(pod["netns"])
        for name in tagged_links(lab["node_netns"]):
            subprocess.run(["ip", "-n", lab["node_netns"], "link", "del", name], capture_output=True)
        assert not left, f"links left behind: {left}"
        assert (snapshot(lab["node_netns"]), snapshot(pod["netns"])) == before

    return check


def run_json(pod: dict, *args: str) -> dict:
    return json.loads(vethctl("run", f"netns/{pod['netns']}", *args, "-o", "json").stdout)


def nd_target(p: dict) -> str | None:
    return p.get("target_ip") or p.get("nd_target")


def test_the_labs_pods_are_dual_stack_or_ipv6_only(six, dual):
    assert six["family"] == "6" and six["pod_cidrs"] == [six["pod_cidr"]] and ":" in six["pod_cidr"]
    assert dual["family"] == "dual" and [":" in c for c in dual["pod_cidrs"]] == [False, True]
    for pod in dual["pods"]:
        v4, v6 = pod["ips"]
        assert pod["ip"] == v4 and "." in v4 and ":" in v6
        addrs = {
            (a["family"], a["local"])
            for a in ip_json("addr", "show", "dev", "eth0", netns=pod["netns"])[0]["addr_info"]
        }
        assert {("inet", v4), ("inet6", v6)} <= addrs
        defaults = [r for r in ip_json("-6", "route", "show", "default", netns=pod["netns"])]
        assert defaults and defaults[0]["gateway"] == dual["gateways"][1]
    eth0 = ip_json("addr", "show", "dev", "eth0", netns=six["pods"][0]["netns"])[0]
    assert not [a for a in eth0["addr_info"] if a["family"] == "inet"]


def test_an_ipv6_only_pod_gets_ipv6_ends_and_the_unreachable_neighbour_in_nd_terms(six):
    pod = six["pods"][0]
    check = unchanged(six, pod)
    r = run_json(pod)
    pod_end, host_end = r["veth"]["pod"]["address"], r["veth"]["host"]["address"]
    assert pod_end.endswith("::100/64") and host_end.endswith("::200/64") and pod_end.startswith("2001:db8:")
    assert r["ping_target"] == pod_end.split("/")[0].replace("::100", "::101")
    assert r["capture"]["filter"] == "icmp6"
    assert any(route.get("dev") == r["veth"]["pod"]["name"] for route in r["routes"])
    packets = r["capture"]["packets"]
    solicitations = [p for p in packets if p.get("icmp_type") == "neighbor solicitation"]
    assert len(solicitations) == 3, packets
    group = "ff02::1:ff00:101"
    assert all(nd_target(p) == r["ping_target"] and p["dst_ip"] == group for p in solicitations)
    assert all(p["src_ip"] == pod_end.split("/")[0] for p in solicitations)
    assert not [p for p in packets if p.get("icmp_type") in ("neighbor advertisement", "echo request")]
    ping = r["ping"]
    assert ping["packets_transmitted"] == 3 and ping["packets_received"] == 0 and ping["errors"] == 3
    assert {x["type"] for x in ping["responses"]} == {"destination_unreachable_address_unreachable"}
    text = "\n".join(r["observations"])
    assert f"3 Neighbor Solicitations for {r['ping_target']}" in text and group in text
    assert "no Neighbor Advertisement came" in text and '"Address unreachable"' in text
    assert r["teardown"]["done"] is True
    check()


def test_the_host_end_advertised_its_mac_and_the_echoes_followed(dual):
    pod = dual["pods"][0]
    check = unchanged(dual, pod)
    r = run_json(
        pod,
        "--family",
        "6",
        "--ping",
        "2001:db8:7::200",
        "--pod-addr",
        "2001:db8:7::100/64",
        "--interval",
        "0.2",
    )
    assert r["veth"]["host"]["address"] == "2001:db8:7::200/64"
    packets = r["capture"]["packets"]
    nd = [p["icmp_type"] for p in packets if p.get("icmp_type", "").startswith("neighbor")]
    assert nd[:2] == ["neighbor solicitation", "neighbor advertisement"]
    na = next(p for p in packets if p.get("icmp_type") == "neighbor advertisement")
    assert nd_target(na) == na["src_ip"] == "2001:db8:7::200"
    requests = [p for p in packets if p.get("icmp_type") == "echo request"]
    replies = [p for p in packets if p.get("icmp_type") == "echo reply"]
    assert [p["icmp_seq"] for p in requests] == [1, 2, 3] == [p["icmp_seq"] for p in replies]
    # the echo requests go to the MAC the advertisement carried
    assert all(p["protocol"] == "icmp6" and p["dst_mac"] == na["src_mac"] for p in requests)
    assert r["ping"]["packets_received"] == 3
    text = "\n".join(r["observations"])
    assert f"advertised its MAC: Neighbor Advertisement 2001:db8:7::200 is-at {na['src_mac']}" in text
    assert "the echo request/reply followed" in text
    check()


def test_find_by_ipv6_address_among_many_pods_takes_the_constant_path(six):
    pod = six["pods"][-1]
    v6 = pod["ips"][0]
    r = json.loads(vethctl("find", f"ip/{v6}", "-o", "json").stdout)
    assert r["netns"] == pod["netns"] and r["pod_ip"] == v6 and r["host_veth"] == pod["host_veth"]
    assert r["node"] == f"netns {six['node_netns']}"
    assert not any("scan" in step for step in r["resolved_by"]), r["resolved_by"]
    assert any("fdb port" in step for step in r["resolved_by"])
    assert len(r["commands"]) <= 10  # whatever the pod count (10 here): no `ip netns exec` per namespace


def test_find_a_dual_stack_pod_by_either_address(dual):
    pod = dual["pods"][1]
    for address in pod["ips"]:
        r = json.loads(vethctl("find", f"ip/{address}", "-o", "json").stdout)
        assert r["netns"] == pod["netns"] and r["pod_ips"] == pod["ips"]


def test_routes_to_an_ipv6_destination(six):
    pod = six["pods"][0]
    r = json.loads(vethctl("routes", f"netns/{pod['netns']}", "--to", OUTSIDE6, "-o", "json").stdout)
    assert any(route.get("dst") == six["pod_cidr"] for route in r["routes"])
    assert r["to"]["sentence"] == f"{OUTSIDE6} leaves by eth0 via {six['gateway']}, from {pod['ip']}"


def test_probes_over_ipv6_to_the_labs_servers(six):
    pod, server = six["pods"][0], six["servers"]["ip"]

    def probe(spec):
        return json.loads(
            vethctl(
                "probe", f"netns/{pod['netns']}", spec, "--count", "1", "--timeout", "1", "-o", "json"
            ).stdout
        )["probe"]

    assert probe(f"tcp:[{server}]:8080")["outcome"] == "answered"
    rejected = probe(f"tcp:[{server}]:8082")
    assert rejected["outcome"] == "unreachable" and "prohibited" in rejected["detail"]
    gone = probe(f"tcp:[{six['pod_cidr'].split('/')[0]}fe]:80")
    assert gone["outcome"] == "unreachable" and gone["detail"].startswith("neighbour resolution failed")


def test_trace_out_through_the_ipv6_uplink_sees_the_masquerade_and_a_forward_drop(six):
    pod = six["pods"][1]
    r = json.loads(vethctl("trace", f"netns/{pod['netns']}", "--to", OUTSIDE6, "-o", "json").stdout)
    assert [(h["interface"], h["role"]) for h in r["hops"]] == [
        ("eth0", "pod"),
        (pod["host_veth"], "host veth"),
        ("cni0", "bridge"),
        ("uplink0", "egress"),
    ]
    assert all(h["requests"] == 3 and h["replies"] == 3 for h in r["hops"])
    assert [h["src_ip"] for h in r["hops"]] == [pod["ip"]] * 3 + [UPLINK6]
    assert any("SNAT/masquerade" in o for o in r["observations"])
    rule = ["ip6tables", "FORWARD", "-d", OUTSIDE6, "-j", "DROP"]
    node = ["ip", "netns", "exec", six["node_netns"]]
    subprocess.run([*node, rule[0], "-I", *rule[1:]], check=True)
    try:
        r = json.loads(vethctl("trace", f"netns/{pod['netns']}", "--to", OUTSIDE6, "-o", "json").stdout)
    finally:
        subprocess.run([*node, rule[0], "-D", *rule[1:]], check=True)
    assert [h["requests"] for h in r["hops"]] == [3, 3, 3, 0]
    assert r["diagnostics"]["ipv6_forwarding"] == "1"
    assert any("the ip6tables FORWARD chain has 1 DROP/REJECT rule(s)" in o for o in r["observations"])
    # the rule that counted them, read from ip6tables' own counters (not iptables')
    assert [(d["where"], d["chain"], d["backend"], d["packets"]) for d in r["drops"]] == [
        ("node", "FORWARD", "ip6tables-nft", 3)
    ], r["drops"]
    assert any(
        "ip6tables-nft rule '-A FORWARD -d 2001:db8:203::7/128 -j DROP' counted 3" in o
        for o in r["observations"]
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["--host-addr", "2001:db8:7::200/64", "--pod-addr", "192.0.2.100/24"],
            "the two ends of a pair are one family",
        ),
        (["--pod-addr", "{podnet}50/64"], "overlaps {podnet}/64"),
        (["--family", "6", "--ping", "192.0.2.1"], "--family 6 but --ping 192.0.2.1 is an IPv4 address"),
        (
            ["--family", "4", "--pod-addr", "2001:db8:7::1/64"],
            "--family 4 but --pod-addr 2001:db8:7::1/64 is IPv6",
        ),
        (["--family", "5"], "invalid choice"),
    ],
)
def test_bad_ipv6_input_exits_2_and_changes_nothing(six, args, message):
    pod = six["pods"][0]
    podnet = six["pod_cidr"].split("/")[0]
    args = [a.replace("{podnet}", podnet) for a in args]
    check = unchanged(six, pod)
    proc = vethctl("run", f"netns/{pod['netns']}", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message.replace("{podnet}", podnet) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    check()
