"""Overlays, pure: a VXLAN capture read as its inner packet, the encapsulations once each, the sentences for a
VTEP without its entries, a loss between nodes and the MTU arithmetic; the next node found in this node's own
lab cluster when underlay addresses repeat across clusters."""

from __future__ import annotations

from types import SimpleNamespace

import jc

from vethctl.explain.overlay import decapsulate, encapsulations, overlay_sentences
from vethctl.model import Netns, Node
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.resolve.nextnode import find_node
from vethctl.results.trace import TraceHop

# tcpdump -nn -tt -e -T vxlan on a flannel underlay (8472): the outer record, the inner frame on the next line
VXLAN = (
    "1796048896.531935 3a:01:02:03:04:05 > 3a:01:02:03:04:06, ethertype IPv4 (0x0800), length 148: "
    "192.0.2.11.40312 > 192.0.2.12.8472: VXLAN, flags [I] (0x08), vni 1\n"
    "    46:b7:be:b5:46:eb > 46:b7:be:b5:46:ec, ethertype IPv4 (0x0800), length 98: "
    "198.18.0.2 > 198.18.2.2: ICMP echo request, id 7, seq 1, length 64"
)


def hop(node, iface, role, requests, replies=0, packets=()):
    fields = {f: None for f in TraceHop.__dataclass_fields__}
    return TraceHop(
        **{
            **fields,
            "node": node,
            "interface": iface,
            "role": role,
            "requests": requests,
            "replies": replies,
            "packets": tuple(packets),
            "icmp_errors": (),
        }
    )


def test_an_underlay_packet_is_read_as_the_packet_it_carries():
    (rec,) = decapsulate(jc.parse(tcpdump_parser, VXLAN, quiet=True), "eth0")
    assert (rec["src_ip"], rec["dst_ip"]) == ("198.18.0.2", "198.18.2.2")
    assert rec["encap"]["vni"] == 1 and rec["encap"]["port"] == 8472
    assert (rec["encap"]["outer_src"], rec["encap"]["outer_dst"]) == ("192.0.2.11", "192.0.2.12")


def test_each_encapsulation_is_listed_once():
    recs = decapsulate(jc.parse(tcpdump_parser, VXLAN + "\n" + VXLAN, quiet=True), "eth0")
    hops = [SimpleNamespace(packets=recs), SimpleNamespace(packets=recs)]
    (e,) = encapsulations(hops)
    assert e == {
        k: recs[0]["encap"][k] for k in ("kind", "vni", "outer_src", "outer_dst", "port", "interface")
    }


def test_a_vtep_without_its_entry_is_named_before_anything_else():
    why = "flannel.1 has no neighbour entry for the remote VTEP 198.18.2.0 (ip neigh show dev flannel.1)"
    facts = {"next_node": {"address": None, "reachable": False, "missing": why}}
    said = overlay_sentences((), [], facts, {}, None)
    assert len(said) == 1 and why in said[0] and "--node" not in said[0]


def test_an_unreachable_next_node_asks_for_node():
    facts = {"next_node": {"address": "192.0.2.12", "reachable": False, "overlay": True}}
    (said,) = overlay_sentences((), [], facts, {}, None)
    assert (
        "the node at 192.0.2.12, which vethctl cannot reach" in said
        and "--node 192.0.2.12=ssh://HOST" in said
    )


def test_a_plain_gateway_is_not_called_a_node():
    facts = {"next_node": {"address": "198.51.100.254", "reachable": False, "overlay": False}}
    (said,) = overlay_sentences((), [], facts, {}, None)
    assert "gateway 198.51.100.254, not a node vethctl knows" in said and "the node at" not in said


def test_lost_between_nodes_and_not_decapsulated():
    a, b = "netns n-1", "netns n-2"
    between = (hop(a, "eth0", "underlay", 2), hop(b, "eth0", "underlay", 0))
    (said,) = overlay_sentences(between, [], {}, {}, None)
    assert "never reached netns n-2 (eth0)" in said
    undecap = (hop(b, "eth0", "underlay", 2), hop(b, "flannel.1", "vtep", 0))
    (said,) = overlay_sentences(undecap, [], {}, {}, None)
    assert "did not decapsulate them on flannel.1" in said


def test_mtu_numbers_for_a_silent_loss():
    hops = (hop("n", "eth0", "pod", 2), hop("n", "flannel.1", "egress", 2), hop("n", "eth0", "underlay", 0))
    mtu = {"pod_mtu": 1450, "underlay_mtu": 1400, "overhead": 50}
    (said,) = overlay_sentences(hops, [], {}, mtu, 1422)
    assert "1450-byte packet" in said and "1500 bytes, more than the underlay's MTU 1400" in said
    assert overlay_sentences(hops, [], {}, mtu, 1000) == []  # it fits: no sentence


def test_the_next_node_is_looked_for_in_this_nodes_own_cluster_first():
    clusters = [
        {
            "name": "other",
            "nodes": [
                {"name": "other-1", "underlay_ip": "192.0.2.11"},
                {"name": "other-2", "underlay_ip": "192.0.2.12"},
            ],
        },
        {
            "name": "mine",
            "nodes": [
                {"name": "mine-1", "underlay_ip": "192.0.2.11"},
                {"name": "mine-2", "underlay_ip": "192.0.2.12"},
            ],
        },
    ]
    ex = SimpleNamespace(node=Node(netns=Netns.named("mine-1")))
    assert find_node(ex, "192.0.2.12", clusters, {}).label == "netns mine-2"
    elsewhere = SimpleNamespace(node=Node())
    assert find_node(elsewhere, "192.0.2.12", clusters, {}).label == "netns other-2"
    assert find_node(ex, "192.0.2.99", clusters, {}) is None
