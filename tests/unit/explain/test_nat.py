"""NAT, rules matched and drops in words, from hops, counter deltas, conntrack entries and kernel counters."""

from __future__ import annotations

from vethctl.explain.nat import drops, nat_entries, rules_matched, sentences
from vethctl.results.trace import TraceHop

RULE_DNAT = {
    "backend": "iptables-nft",
    "table": "nat",
    "chain": "KUBE-SEP-B",
    "target": "DNAT",
    "packets": 1,
    "key": "k1",
    "comment": "default/web",
    "rule": '-A KUBE-SEP-B -p tcp -m comment --comment "default/web" -j DNAT --to-destination 198.18.0.3:8080',
}
RULE_REJECT = {
    "backend": "nft",
    "table": "ip kube-proxy",
    "chain": "service-endpoints-check",
    "target": "reject",
    "packets": 1,
    "key": "k2",
    "comment": "default/empty has no endpoints",
    "rule": 'ip daddr 198.19.0.11 tcp dport 80 counter reject comment "default/empty has no endpoints"',
}


def hop(interface, dst, src="198.18.0.2"):
    return TraceHop(
        netns=None,
        node="netns n1",
        side="node",
        interface=interface,
        role="x",
        note="",
        requests=1,
        replies=1,
        request_seqs=(1,),
        reply_seqs=(1,),
        first_seen=1.0,
        src_ip=src,
        dst_ip=dst,
        icmp_id=None,
        reply_src_ip=None,
        reply_dst_ip=None,
        delay_from_previous_us=None,
        arp_requests=(),
        arp_replies=(),
        icmp_errors=(),
        packets=(),
        counters={},
    )


HOPS = (
    hop("eth0", "198.19.0.10"),
    hop("veth1", "198.19.0.10"),
    hop("cni0", "198.18.0.3"),
    hop("veth2", "198.18.0.3"),
)
CT = {
    "protocol": "tcp",
    "state": "ESTABLISHED",
    "line": "tcp 6 ...",
    "orig": {"src": "198.18.0.2", "dst": "198.19.0.10", "sport": "4000", "dport": "80"},
    "reply": {"src": "198.18.0.3", "dst": "198.18.0.2", "sport": "8080", "dport": "4000"},
}


def test_a_dnat_names_its_hops_rule_service_and_conntrack_entry():
    (n,) = nat_entries(HOPS, [CT, dict(CT, line="tcp 6 second connection")], [RULE_DNAT])
    assert n == n | {
        "kind": "dnat",
        "before": "198.19.0.10:80",
        "after": "198.18.0.3:8080",
        "between": ["veth1", "cni0"],
        "chain": "KUBE-SEP-B",
        "service": "default/web",
        "conntrack": "tcp 6 ...",
    }
    (said,) = sentences([n], [], {}, "SYNs")
    assert "from 198.19.0.10:80 to 198.18.0.3:8080 between veth1 and cni0 by KUBE-SEP-B (default/web)" in said


def test_a_dnat_without_conntrack_entry_is_said_from_its_moved_rule():
    (n,) = nat_entries(HOPS, [], [RULE_DNAT], [("198.18.0.3", 8080, RULE_DNAT)], "198.19.0.10", 80)
    assert n["conntrack"] is None and n["after"] == "198.18.0.3:8080"
    assert (
        nat_entries(HOPS, [], [], [("198.18.0.3", 8080, RULE_DNAT)], "198.19.0.10", 80) == []
    )  # not moved: not met


def test_a_reject_of_a_service_without_endpoints():
    found = drops({"node": [RULE_REJECT, RULE_DNAT]}, {}, lost=True)
    assert found == [
        found[0] | {"where": "node", "chain": "service-endpoints-check", "service": "default/empty"}
    ]
    assert "Service default/empty has no endpoints" in sentences([], found, {}, "SYNs")[0]
    assert [m["service"] for m in rules_matched({"node": [RULE_REJECT]})] == ["default/empty"]


def test_kernel_counters_only_when_no_rule_counted_a_loss():
    kernel = {"node": {"IpInNoRoutes": 2, "IpInReceives": 9}}
    (d,) = drops({"node": []}, kernel, lost=True)
    assert (d["counter"], d["packets"]) == ("IpInNoRoutes", 2) and "no route" in d["meaning"]
    assert drops({"node": []}, kernel, lost=False) == []
    assert drops({"node": [RULE_REJECT]}, kernel, lost=True)[0]["chain"] == "service-endpoints-check"


def test_rules_in_both_iptables_backends_are_a_warning():
    said = sentences([], [], {"node": ["iptables-legacy", "iptables-nft"], "pod x": ["iptables-nft"]}, "SYNs")
    assert len(said) == 1 and said[0].startswith("node has rules in both iptables-legacy and iptables-nft")
