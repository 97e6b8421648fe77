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
    assert overlay_sentences((), [], facts, {}, None) == [
        f"The overlay has no way to the next node: {why}. The CNI's agent (flannel) writes these entries when it"
        " learns the other nodes: look at it on this node."
    ]


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


# -- decapsulate: a whole underlay capture, packet by packet ---------------------------------------------------
OUTER = "3a:01:02:03:04:05 > 3a:01:02:03:04:06, ethertype IPv4 (0x0800), length {n}: 192.0.2.11.40312 > 192.0.2.12.8472: VXLAN, flags [I] (0x08), vni 1"
INNER = "    46:b7:be:b5:46:eb > 46:b7:be:b5:46:ec, ethertype IPv4 (0x0800), length 98: 198.18.0.2 > 198.18.2.2: ICMP echo request, id 7, seq {seq}, length 64"
ARP = "1796048896.530000 3a:01:02:03:04:05 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.12 tell 192.0.2.11, length 28"


def underlay(*lines: str) -> list[dict]:
    return jc.parse(tcpdump_parser, "\n".join(lines), quiet=True)


def test_an_underlay_capture_is_decapsulated_packet_by_packet():
    """The node's ARP for the other node (not VXLAN) stays as it is, before and between the VXLAN packets;
    each VXLAN packet becomes the packet it carries, at the outer packet's time."""
    packets = underlay(
        ARP,
        "1796048896.531935 " + OUTER.format(n=148),
        INNER.format(seq=1),
        ARP.replace("530000", "531000"),
        "1796048897.531935 " + OUTER.format(n=148),
        INNER.format(seq=2),
    )
    recs = decapsulate(packets, "eth0")
    assert len(recs) == 4
    assert recs[0] == packets[0] and recs[2] == packets[2]
    assert recs[1] == {
        "timestamp": 1796048896.531935,
        "src_mac": "46:b7:be:b5:46:eb",
        "dst_mac": "46:b7:be:b5:46:ec",
        "ethertype": "ipv4",
        "length": 98,
        "src_ip": "198.18.0.2",
        "dst_ip": "198.18.2.2",
        "protocol": "icmp",
        "icmp_type": "echo request",
        "icmp_id": 7,
        "icmp_seq": 1,
        "payload_length": 64,
        "encap": {
            "kind": "vxlan",
            "vni": 1,
            "outer_src": "192.0.2.11",
            "outer_dst": "192.0.2.12",
            "port": 8472,
            "interface": "eth0",
            "outer_length": 148,
        },
    }
    assert (recs[3]["timestamp"], recs[3]["icmp_seq"]) == (1796048897.531935, 2)


def test_a_vxlan_packet_whose_inner_frame_cannot_be_read_stays_the_outer_packet():
    """The capture stopped before tcpdump printed the inner frame, or the frame was cut short ([|ether]): the
    outer packet (addresses, ports, the VXLAN header) is what there is to show."""
    cut = underlay("1796048896.532935 " + OUTER.format(n=64), "    [|ether]")
    assert decapsulate(cut, "eth0") == cut
    then = underlay("1796048897.531935 " + OUTER.format(n=148), INNER.format(seq=2))
    (outer, inner) = decapsulate(cut + then, "eth0")  # and the next packet is read as ever
    assert outer == cut[0] and (inner["icmp_seq"], inner["encap"]["vni"]) == (2, 1)
    last = underlay("1796048896.533935 " + OUTER.format(n=148))
    assert decapsulate(last, "eth0") == last


# -- the sentences ----------------------------------------------------------------------------------------------
def test_the_first_encapsulation_is_said():
    encap = [
        {
            "kind": "vxlan",
            "vni": 1,
            "outer_src": "192.0.2.11",
            "outer_dst": "192.0.2.12",
            "port": 8472,
            "interface": "eth0",
        },
        {
            "kind": "vxlan",
            "vni": 1,
            "outer_src": "192.0.2.12",
            "outer_dst": "192.0.2.11",
            "port": 8472,
            "interface": "eth0",
        },
    ]
    assert overlay_sentences((), encap, {}, {}, None) == [
        "Between the nodes the packets travel in VXLAN (VNI 1, UDP 8472): outer 192.0.2.11 > 192.0.2.12 on eth0."
    ]


def test_the_next_node_sentences():
    why = "ssh to 192.0.2.12 failed: Connection refused"
    unreachable = {"address": "192.0.2.12", "reachable": False, "overlay": True, "why": why}
    assert overlay_sentences((), [], {"next_node": unreachable}, {}, None) == [
        f"The path goes on to the node at 192.0.2.12, which vethctl cannot reach from here ({why}): give it"
        " with --node 192.0.2.12=ssh://HOST."
    ]
    # an overlay unless said otherwise (the facts of an older trace do not say)
    (said,) = overlay_sentences(
        (), [], {"next_node": {"address": "192.0.2.12", "reachable": False}}, {}, None
    )
    assert said == (
        "The path goes on to the node at 192.0.2.12, which vethctl cannot reach from here: give it with"
        " --node 192.0.2.12=ssh://HOST."
    )
    gateway = {"address": "198.51.100.254", "reachable": False, "overlay": False}
    assert overlay_sentences((), [], {"next_node": gateway}, {}, None) == [
        "Past this node the packets go to the gateway 198.51.100.254, not a node vethctl knows: if it is one (a"
        " routed pod network), --node 198.51.100.254=ssh://HOST follows them there."
    ]
    followed = {"address": "192.0.2.12", "node": "netns mine-2", "reachable": True}
    assert overlay_sentences((), [], {"next_node": followed}, {}, None) == []
    assert overlay_sentences((), [], {"next_node": {"address": "192.0.2.12"}}, {}, None) == []


def test_losses_between_nodes_are_said_only_where_a_node_changes():
    a, b = "netns n-1", "netns n-2"
    crossed = (hop(a, "eth0", "underlay", 2), hop(b, "eth0", "underlay", 2), hop(b, "flannel.1", "vtep", 2))
    assert overlay_sentences(crossed, [], {}, {}, None) == []
    same_node = (hop(a, "eth0", "pod", 2), hop(a, "cni0", "bridge", 0))  # a loss on one node: trace's own
    assert overlay_sentences(same_node, [], {}, {}, None) == []
    routed = (hop(b, "eth0", "underlay", 2), hop(b, "cni0", "bridge", 0))  # no VTEP there: not "decapsulate"
    assert overlay_sentences(routed, [], {}, {}, None) == []
    vtep_first = (hop(b, "flannel.1", "vtep", 2), hop(b, "eth0", "underlay", 0))
    assert overlay_sentences(vtep_first, [], {}, {}, None) == []
    nothing = (hop(a, "eth0", "pod", 0), hop(b, "eth0", "underlay", 0))
    assert overlay_sentences(nothing, [], {}, {}, None) == []
    between = (hop(a, "eth0", "pod", 2), hop(a, "eth0", "underlay", 2), hop(b, "eth0", "underlay", 0))
    assert overlay_sentences(between, [], {}, {}, None) == [
        "The packets left netns n-1 by eth0 (underlay) and never reached netns n-2 (eth0): they were lost"
        " between the nodes, on the underlay (a firewall between the nodes, or the underlay's MTU)."
    ]
    undecap = (hop(b, "eth0", "underlay", 2), hop(b, "flannel.1", "vtep", 0))
    assert overlay_sentences(undecap, [], {}, {}, None) == [
        "netns n-2 received the encapsulated packets on eth0 but did not decapsulate them on flannel.1: its"
        " INPUT rules for the overlay's UDP port (see drops), or no VTEP for that VNI and port."
    ]


def frag_needed(mtu: int) -> dict:
    """An ICMP error as trace's hops carry it, from the line tcpdump printed."""
    (p,) = jc.parse(
        tcpdump_parser,
        "1796048896.531990 46:b7:be:b5:46:ec > 46:b7:be:b5:46:eb, ethertype IPv4 (0x0800), length 590:"
        f" 198.18.0.1 > 198.18.0.2: ICMP 198.18.2.2 unreachable - need to frag (mtu {mtu}), length 556",
        quiet=True,
    )
    return {"type": p["icmp_type"], "code": p["icmp_code"], "from": p["src_ip"]}


def with_errors(h, *errors):
    return h.but(icmp_errors=tuple(errors))


MTU = {"pod_mtu": 1450, "underlay_mtu": 1400, "overhead": 50}


def test_a_packet_too_big_that_came_back_is_said_with_the_mtu_arithmetic():
    hops = (with_errors(hop("n", "eth0", "pod", 2), frag_needed(1350)), hop("n", "flannel.1", "egress", 0))
    assert overlay_sentences(hops, [], {}, MTU, 1422) == [
        "A packet too big for the path came back as ICMP fragmentation needed from 198.18.0.1. The pod's MTU is"
        " 1450; 50 bytes of encapsulation make a full-size packet 1500 bytes, and the underlay's MTU is 1400: it"
        " does not fit."
    ]
    fits = {"pod_mtu": 1350, "underlay_mtu": 1400, "overhead": 50}  # exactly: 1350 + 50 = 1400
    assert overlay_sentences(hops, [], {}, fits, None) == [
        "A packet too big for the path came back as ICMP fragmentation needed from 198.18.0.1. The pod's MTU is"
        " 1350; 50 bytes of encapsulation make a full-size packet 1400 bytes, and the underlay's MTU is 1400."
    ]
    for unknown in ({}, {**MTU, "pod_mtu": None}, {**MTU, "underlay_mtu": None}, {**MTU, "overhead": None}):
        assert overlay_sentences(hops, [], {}, unknown, 1422) == [
            "A packet too big for the path came back as ICMP fragmentation needed from 198.18.0.1."
        ]


def test_other_icmp_errors_are_not_a_packet_too_big():
    unreachable = {"type": "destination unreachable", "code": "host unreachable", "from": "198.18.0.1"}
    quench = {"type": "source quench", "code": None, "from": "198.18.0.1"}
    hops = (with_errors(hop("n", "eth0", "pod", 2), unreachable, quench), hop("n", "flannel.1", "egress", 2))
    assert overlay_sentences(hops, [], {}, MTU, 1000) == []


def test_a_silent_loss_is_blamed_on_the_mtu_only_when_the_packet_does_not_fit_and_was_lost():
    hops = (hop("n", "eth0", "pod", 2), hop("n", "flannel.1", "egress", 2), hop("n", "eth0", "underlay", 0))
    said = overlay_sentences(hops, [], {}, MTU, 1323)  # 1323 + 28 = 1351, + 50 = 1401 > 1400
    assert said == [
        "Lost without an ICMP error: a 1351-byte packet with 50 bytes of encapsulation is 1401 bytes, more than"
        " the underlay's MTU 1400 (DF is set). The pod's MTU is 1450; 50 bytes of encapsulation make a full-size"
        " packet 1500 bytes, and the underlay's MTU is 1400: it does not fit."
    ]
    assert overlay_sentences(hops, [], {}, MTU, 1322) == []  # 1400 bytes: it fits exactly
    everywhere = tuple(h.but(requests=2) for h in hops)  # nothing lost
    assert overlay_sentences(everywhere, [], {}, MTU, 1422) == []
    nowhere = tuple(h.but(requests=0) for h in hops)  # nothing sent: not the MTU's doing
    assert overlay_sentences(nowhere, [], {}, MTU, 1422) == []
    assert overlay_sentences(hops, [], {}, {**MTU, "overhead": None}, 1422) == []


def test_encapsulations_of_a_whole_capture_each_way():
    """The ARP before them is no encapsulation; the replies' outer header (the other way) is another one."""
    back = OUTER.format(n=148).replace(
        "192.0.2.11.40312 > 192.0.2.12.8472", "192.0.2.12.51812 > 192.0.2.11.8472"
    )
    recs = decapsulate(
        underlay(
            ARP,
            "1796048896.531935 " + OUTER.format(n=148),
            INNER.format(seq=1),
            "1796048896.532935 " + back,
            INNER.format(seq=1),
        ),
        "eth0",
    )
    assert encapsulations([SimpleNamespace(packets=recs)]) == [
        {
            "kind": "vxlan",
            "vni": 1,
            "outer_src": "192.0.2.11",
            "outer_dst": "192.0.2.12",
            "port": 8472,
            "interface": "eth0",
        },
        {
            "kind": "vxlan",
            "vni": 1,
            "outer_src": "192.0.2.12",
            "outer_dst": "192.0.2.11",
            "port": 8472,
            "interface": "eth0",
        },
    ]


def packet_too_big(mtu: int) -> dict:
    """ICMPv6 names it in the type (no code): the error as trace's hops carry it, from tcpdump's line."""
    (p,) = jc.parse(
        tcpdump_parser,
        "1796048896.531990 46:b7:be:b5:46:ec > 46:b7:be:b5:46:eb, ethertype IPv6 (0x86dd), length 1294:"
        f" 2001:db8:18:1::1 > 2001:db8:18:1::2: ICMP6, packet too big, mtu {mtu}, length 1240",
        quiet=True,
    )
    return {"type": p["icmp_type"], "code": p.get("icmp_code"), "from": p["src_ip"]}


def test_an_ipv6_packet_too_big_that_came_back_is_said_with_the_mtu_arithmetic():
    hops = (with_errors(hop("n", "eth0", "pod", 2), packet_too_big(1350)), hop("n", "flannel.1", "egress", 0))
    assert overlay_sentences(hops, [], {}, MTU, 1402) == [
        "A packet too big for the path came back as ICMP packet too big from 2001:db8:18:1::1. The pod's MTU is"
        " 1450; 50 bytes of encapsulation make a full-size packet 1500 bytes, and the underlay's MTU is 1400: it"
        " does not fit."
    ]


def test_an_ipv6_silent_loss_counts_the_ipv6_header():
    """An IPv6 echo of N bytes is N + 8 + 40 on the wire (IPv4's is N + 8 + 20)."""
    hops = tuple(
        h.but(src_ip="2001:db8:18:1::2", dst_ip="2001:db8:18:2::2")
        for h in (
            hop("n", "eth0", "pod", 2),
            hop("n", "flannel.1", "egress", 2),
            hop("n", "eth0", "underlay", 0),
        )
    )
    (said,) = overlay_sentences(hops, [], {}, MTU, 1303)  # 1303 + 48 = 1351, + 50 = 1401 > 1400
    assert said.startswith(
        "Lost without an ICMP error: a 1351-byte packet with 50 bytes of encapsulation is 1401"
    )
    assert overlay_sentences(hops, [], {}, MTU, 1302) == []  # 1400 bytes: it fits exactly
