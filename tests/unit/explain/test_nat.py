"""NAT, rules matched and drops in words, from hops, counter deltas, conntrack entries and kernel counters."""

from __future__ import annotations

import pytest

from vethctl.explain.nat import drops, nat_entries, rules_matched, sentences
from vethctl.parsers.netfilter import KERNEL_DROPS
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


RULE_ACCEPT = {
    "backend": "iptables-nft",
    "table": "filter",
    "chain": "FORWARD",
    "target": "ACCEPT",
    "packets": 3,
    "key": "k0",
    "comment": None,
    "rule": "-A FORWARD -j ACCEPT",
}
RULE_MASQ = {
    "backend": "iptables-nft",
    "table": "nat",
    "chain": "KUBE-POSTROUTING",
    "target": "MASQUERADE",
    "packets": 1,
    "key": "k3",
    "comment": "kubernetes service traffic requiring SNAT",
    "rule": '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE',
}
RULE_DROP = {
    "backend": "iptables-legacy",
    "table": "filter",
    "chain": "INPUT",
    "target": "DROP",
    "packets": 2,
    "key": "k4",
    "comment": None,
    "rule": "-A INPUT -p tcp --dport 8080 -j DROP",
}
RULE_REJECT_IPT = {
    "backend": "iptables-nft",
    "table": "filter",
    "chain": "KUBE-SERVICES",
    "target": "REJECT",
    "packets": 3,
    "key": "k5",
    "comment": "default/web",
    "rule": '-A KUBE-SERVICES -d 198.19.0.10/32 -p tcp -m comment --comment "default/web" -j REJECT',
}
# DNAT to the backend, and SNAT to the node's address on the bridge (masquerade of hairpin traffic)
CT_BOTH = {
    "protocol": "tcp",
    "state": "TIME_WAIT",
    "line": "tcp 6 119 TIME_WAIT src=198.18.0.2 dst=198.19.0.10 sport=4000 dport=80 ...",
    "orig": {"src": "198.18.0.2", "dst": "198.19.0.10", "sport": "4000", "dport": "80"},
    "reply": {"src": "198.18.0.3", "dst": "198.18.0.1", "sport": "8080", "dport": "4000"},
}
HOPS_BOTH = (
    hop("eth0", "198.19.0.10"),
    hop("veth1", "198.19.0.10"),
    hop("cni0", "198.18.0.3", src="198.18.0.1"),
)


def test_rules_matched_say_where_which_rule_and_its_service():
    assert rules_matched({"node": [RULE_DNAT], "pod web": [RULE_ACCEPT]}) == [
        {
            "where": "node",
            "backend": "iptables-nft",
            "table": "nat",
            "chain": "KUBE-SEP-B",
            "rule": RULE_DNAT["rule"],
            "packets": 1,
            "service": "default/web",
        },
        {
            "where": "pod web",
            "backend": "iptables-nft",
            "table": "filter",
            "chain": "FORWARD",
            "rule": "-A FORWARD -j ACCEPT",
            "packets": 3,
        },
    ]


def test_a_dnat_and_a_snat_of_one_connection_each_with_their_own_rule():
    matched = [RULE_ACCEPT, RULE_MASQ, RULE_DNAT]
    dnat, snat = nat_entries(HOPS_BOTH, [CT_BOTH, CT_BOTH], matched)
    assert dnat == {
        "kind": "dnat",
        "before": "198.19.0.10:80",
        "after": "198.18.0.3:8080",
        "between": ["veth1", "cni0"],
        "rule": RULE_DNAT["rule"],
        "chain": "KUBE-SEP-B",
        "service": "default/web",
        "conntrack": CT_BOTH["line"],
    }
    assert snat == {
        "kind": "snat",
        "before": "198.18.0.2:4000",
        "after": "198.18.0.1:4000",
        "between": ["veth1", "cni0"],
        "rule": RULE_MASQ["rule"],
        "chain": "KUBE-POSTROUTING",
        "service": None,
        "conntrack": CT_BOTH["line"],
    }
    assert sentences([dnat, snat], [], {}, "SYNs") == [
        f"The destination was rewritten from 198.19.0.10:80 to 198.18.0.3:8080 between veth1 and cni0 by"
        f" KUBE-SEP-B (default/web): '{RULE_DNAT['rule']}'; conntrack holds it: {CT_BOTH['line']}.",
        f"The source was rewritten from 198.18.0.2:4000 to 198.18.0.1:4000 between veth1 and cni0 by"
        f" KUBE-POSTROUTING: '{RULE_MASQ['rule']}'; conntrack holds it: {CT_BOTH['line']}.",
    ]


def test_a_rewrite_no_rule_counted_and_no_hop_saw_is_said_on_the_node():
    (n,) = nat_entries((hop("eth0", "198.19.0.10"),), [CT], [RULE_ACCEPT])
    assert (n["between"], n["rule"], n["chain"], n["service"]) == (None, None, None, None)
    (n2,) = nat_entries((hop("eth0", "198.19.0.10"),), [CT], [])
    assert n2 == n
    assert sentences([n], [], {}, "SYNs") == [
        "The destination was rewritten from 198.19.0.10:80 to 198.18.0.3:8080 on the node; conntrack holds it:"
        " tcp 6 ...."
    ]


def test_an_ipv6_rewrite_is_found_between_its_hops():
    ct6 = {
        "protocol": "tcp",
        "state": "ESTABLISHED",
        "line": "tcp 6 ... [2001:db8:19::a]",
        "orig": {"src": "2001:db8:18::2", "dst": "2001:db8:19::a", "sport": "4000", "dport": "80"},
        "reply": {"src": "2001:db8:18::3", "dst": "2001:db8:18::2", "sport": "8080", "dport": "4000"},
    }
    hops6 = (hop("eth0", "2001:db8:19::a"), hop("cni0", None), hop("veth2", "2001:db8:18::3"))
    (n,) = nat_entries(hops6, [ct6], [RULE_DNAT])
    assert (n["before"], n["after"], n["between"]) == ("[2001:db8:19::a]:80", "[2001:db8:18::3]:8080", None)
    hops6 = (hop("eth0", "2001:db8:19::a"), hop("cni0", "2001:db8:19::a"), hop("veth2", "2001:db8:18::3"))
    (n,) = nat_entries(hops6, [ct6], [RULE_DNAT])
    assert n["between"] == ["cni0", "veth2"]


def test_a_predicted_dnat_of_a_dropped_packet():
    (n,) = nat_entries(
        HOPS, [], [RULE_ACCEPT, RULE_DNAT], [("198.18.0.3", 8080, RULE_DNAT)], "198.19.0.10", 80
    )
    assert n == {
        "kind": "dnat",
        "before": "198.19.0.10:80",
        "after": "198.18.0.3:8080",
        "between": ["veth1", "cni0"],
        "rule": RULE_DNAT["rule"],
        "chain": "KUBE-SEP-B",
        "service": "default/web",
        "conntrack": None,
    }
    assert sentences([n], [], {}, "SYNs") == [
        f"The destination was rewritten from 198.19.0.10:80 to 198.18.0.3:8080 between veth1 and cni0 by"
        f" KUBE-SEP-B (default/web): '{RULE_DNAT['rule']}'; conntrack holds no entry for it (the packet was"
        " dropped before its connection was confirmed)."
    ]
    (n,) = nat_entries(HOPS, [], [RULE_DNAT], [("198.18.0.3", 8080, RULE_DNAT)], "198.19.0.10", None)
    assert (n["before"], n["between"]) == ("198.19.0.10", ["veth1", "cni0"])
    # conntrack already holds the DNAT: the prediction adds nothing
    assert len(nat_entries(HOPS, [CT], [RULE_DNAT], [("198.18.0.9", 80, RULE_DNAT)], "198.19.0.10", 80)) == 1


def test_drops_and_rejects_in_words():
    found = drops(
        {"node": [RULE_ACCEPT, RULE_DROP], "pod web": [RULE_REJECT_IPT]},
        {"node": {"IpInNoRoutes": 1}},
        lost=True,
    )
    assert found == [
        {
            "where": "node",
            "rule": RULE_DROP["rule"],
            "chain": "INPUT",
            "backend": "iptables-legacy",
            "packets": 2,
        },
        {
            "where": "pod web",
            "rule": RULE_REJECT_IPT["rule"],
            "chain": "KUBE-SERVICES",
            "backend": "iptables-nft",
            "packets": 3,
            "service": "default/web",
        },
    ]
    assert sentences([], found, {}, "SYNs") == [
        f"The SYNs were dropped in node: iptables-legacy rule '{RULE_DROP['rule']}' counted 2.",
        f"The SYNs were rejected in pod web: iptables-nft rule '{RULE_REJECT_IPT['rule']}' counted 3.",
    ]
    nft_reject = dict(RULE_REJECT, comment=None, rule="ip daddr 198.19.0.11 tcp dport 80 counter reject")
    (d,) = drops({"node": [nft_reject]}, {}, lost=True)
    assert sentences([], [d], {}, "echo requests") == [
        "The echo requests were rejected in node: nft rule 'ip daddr 198.19.0.11 tcp dport 80 counter reject'"
        " counted 1."
    ]
    (d,) = drops({"node": [RULE_REJECT]}, {}, lost=False)
    assert sentences([], [d], {}, "SYNs") == [
        "Service default/empty has no endpoints: its REJECT rule in service-endpoints-check (node) answered 1"
        f" packet(s): '{RULE_REJECT['rule']}'."
    ]


def test_kernel_counters_that_mean_a_loss_in_words():
    kernel = {"node": {"IpInReceives": 9, "UdpNoPorts": 2}, "pod web": {"IpOutNoRoutes": 1}}
    found = drops({"node": [RULE_ACCEPT]}, kernel, lost=True)
    assert found == [
        {"where": "node", "counter": "UdpNoPorts", "meaning": KERNEL_DROPS["UdpNoPorts"], "packets": 2},
        {
            "where": "pod web",
            "counter": "IpOutNoRoutes",
            "meaning": KERNEL_DROPS["IpOutNoRoutes"],
            "packets": 1,
        },
    ]
    assert sentences([], found, {}, "datagrams") == [
        "No rule counted the loss; in node the kernel counted 2 UDP datagrams to a port nothing listens on"
        " (UdpNoPorts).",
        "No rule counted the loss; in pod web the kernel counted 1 packets the host could not route"
        " (IpOutNoRoutes).",
    ]


def test_rules_in_both_ip6tables_backends_are_a_warning_too():
    said = sentences(
        [],
        [],
        {"node": ["ip6tables-legacy", "ip6tables-nft", "iptables-nft"], "pod x": ["iptables-legacy"]},
        "SYNs",
    )
    assert said == [
        "node has rules in both ip6tables-legacy and ip6tables-nft: two tools see two different rule sets, and"
        " both apply (check both: ip6tables-legacy-save, ip6tables-nft-save)."
    ]


def test_a_second_connection_adds_the_rewrite_the_first_did_not_have():
    dnat, snat = nat_entries(HOPS_BOTH, [CT, CT_BOTH], [RULE_DNAT, RULE_MASQ])
    assert (dnat["kind"], dnat["conntrack"], snat["kind"], snat["conntrack"]) == (
        "dnat",
        CT["line"],
        "snat",
        CT_BOTH["line"],
    )


@pytest.mark.parametrize(
    ("dnat_target", "snat_target"),
    [("DNAT", "SNAT"), ("dnat", "snat"), ("DNAT", "MASQUERADE"), ("dnat", "masquerade")],
)
def test_the_rewriting_rule_is_found_whatever_the_backend_spells_its_target(dnat_target, snat_target):
    """iptables writes DNAT, SNAT, MASQUERADE; nft writes dnat, snat, masquerade."""
    rules = [RULE_ACCEPT, dict(RULE_MASQ, target=snat_target), dict(RULE_DNAT, target=dnat_target)]
    dnat, snat = nat_entries(HOPS_BOTH, [CT_BOTH], rules)
    assert (dnat["chain"], snat["chain"]) == ("KUBE-SEP-B", "KUBE-POSTROUTING")
