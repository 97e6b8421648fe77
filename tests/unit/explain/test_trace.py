"""trace's explanation, pure: the hops lined up by ICMP sequence (and by a probe's flow keys), the sentences for a
recorded trace and for the same trace with its packets lost at each place, Neighbor Discovery on the path,
and what stops a node forwarding."""

from __future__ import annotations

import ipaddress

import jc

from tests.support.paths import FIXTURES
from vethctl.explain.trace import (
    ECHO,
    Hop,
    correlate,
    explain,
    flow_filter,
    flow_of,
    forwarding_causes,
    forwarding_stopped,
)
from vethctl.model import Netns
from vethctl.parsers import tcpdump as tcpdump_parser

POD6, GONE = "2001:db8:18::2", "2001:db8:18::99"
POD_NS = Netns.named("cni-1")


def test_ipv6_flow_filter_keeps_nd_of_the_path_only():
    filt = flow_filter(ipaddress.ip_address("2001:db8:203::7"), {POD6, "2001:db8:18::1"})
    assert filt == (
        "icmp6 and (host 2001:db8:203::7 or ip6[40] == 1 or ip6[40] == 2 or ip6[40] == 3 or ((ip6[40] == 135 or ip6[40] == 136)"
        " and (host 2001:db8:18::1 or host 2001:db8:18::2)))"
    )


def test_unanswered_solicitations_before_anything_left_are_said_in_nd_words():
    ns = {
        "timestamp": 1.0,
        "src_ip": POD6,
        "dst_ip": "ff02::1:ff00:99",
        "protocol": "icmp6",
        "icmp_type": "neighbor solicitation",
        "nd_target": GONE,
    }
    hops = [
        Hop(POD_NS, "eth0", "pod", False, packets=[ns, {**ns, "timestamp": 2.0}]),
        Hop(None, "veth1", "host veth", True),
    ]
    hj = correlate(hops, Netns.named("node"), family=6)
    assert hj[0].nd_solicitations == ({"who_has": GONE, "from": POD6, "to": "ff02::1:ff00:99"},) * 2
    assert hj[0].nd_advertisements == () and hj[0].icmp_errors == ()
    notes = explain(hj, {}, POD6, ipaddress.ip_address(GONE), None, None)
    assert (
        f"No echo request left the pod: it sent 2 Neighbor Solicitation(s) for {GONE} (from {POD6}, to"
        " ff02::1:ff00:99) on eth0 and no Neighbor Advertisement came." in notes
    )
    assert "nd_solicitations" not in correlate(hops, None)[0].to_json()  # an IPv4 trace's JSON is unchanged


def test_ipv6_forwarding_causes_name_the_ipv6_sysctl_and_ip6tables():
    causes = forwarding_causes(
        "0",
        ["-P FORWARD DROP", "-A FORWARD -d 2001:db8:203::7/128 -j DROP"],
        key="net.ipv6.conf.all.forwarding",
        firewall="ip6tables",
    )
    assert causes == [
        "net.ipv6.conf.all.forwarding is 0 on the node: it does not forward at all",
        "the ip6tables FORWARD chain's policy is DROP",
        "the ip6tables FORWARD chain has 1 DROP/REJECT rule(s): FORWARD -d 2001:db8:203::7/128 -j DROP",
    ]
    assert forwarding_causes("0", ["-P FORWARD DROP"]) == [
        "net.ipv4.ip_forward is 0 on the node: it does not forward at all",
        "the FORWARD chain's policy is DROP",
    ]


# -- A recorded trace, and the same trace with its packets lost at each place ---------------------------------
# `vethctl trace netns/cni-af61… --to 203.0.113.7` on the lab node vg-8e8cc6 (tcpdump -nn -tt -e at each hop):
# the pod 198.18.15.2 pings 203.0.113.7 by its gateway 198.18.15.1 (cni0); the node masquerades it to
# 198.51.100.1 on uplink0, after ARP for its own gateway 198.51.100.254.

POD_CAP = """
1796056981.989923 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 1, length 64
1796056981.990115 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 1, length 64
1796056982.191692 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 2, length 64
1796056982.191790 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 2, length 64
1796056982.395727 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 3, length 64
1796056982.395827 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 3, length 64
"""
VETH_CAP = """
1796056981.989956 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 1, length 64
1796056981.990113 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 1, length 64
1796056982.191704 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 2, length 64
1796056982.191789 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 2, length 64
1796056982.395738 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 3, length 64
1796056982.395823 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 3, length 64
"""
BRIDGE_CAP = """
1796056981.989956 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 1, length 64
1796056981.990110 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 1, length 64
1796056982.191704 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 2, length 64
1796056982.191786 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 2, length 64
1796056982.395738 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 98: 198.18.15.2 > 203.0.113.7: ICMP echo request, id 23978, seq 3, length 64
1796056982.395819 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 3, length 64
"""
UPLINK_CAP = """
1796056981.990064 2a:a0:a5:c4:81:4c > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.51.100.254 tell 198.51.100.1, length 28
1796056981.990086 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype ARP (0x0806), length 42: Reply 198.51.100.254 is-at ca:a5:ec:9b:c6:7c, length 28
1796056981.990089 2a:a0:a5:c4:81:4c > ca:a5:ec:9b:c6:7c, ethertype IPv4 (0x0800), length 98: 198.51.100.1 > 203.0.113.7: ICMP echo request, id 23978, seq 1, length 64
1796056981.990104 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.51.100.1: ICMP echo reply, id 23978, seq 1, length 64
1796056982.191758 2a:a0:a5:c4:81:4c > ca:a5:ec:9b:c6:7c, ethertype IPv4 (0x0800), length 98: 198.51.100.1 > 203.0.113.7: ICMP echo request, id 23978, seq 2, length 64
1796056982.191779 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.51.100.1: ICMP echo reply, id 23978, seq 2, length 64
1796056982.395792 2a:a0:a5:c4:81:4c > ca:a5:ec:9b:c6:7c, ethertype IPv4 (0x0800), length 98: 198.51.100.1 > 203.0.113.7: ICMP echo request, id 23978, seq 3, length 64
1796056982.395813 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv4 (0x0800), length 98: 203.0.113.7 > 198.51.100.1: ICMP echo reply, id 23978, seq 3, length 64
"""
POD_NETNS, NODE = Netns.named("cni-af613513-fadc-4e22-8f25-1796e4818506"), Netns.named("vg-8e8cc6")
DST = ipaddress.ip_address("203.0.113.7")
PING = {"packets_transmitted": 3, "packets_received": 3}


def tcpdump(text: str, drop=()) -> list[dict]:
    """A capture as trace reads it, without the lines that contain any of `drop` (packets lost before it)."""
    lines = [line for line in text.strip("\n").splitlines() if not any(d in line for d in drop)]
    return jc.parse(tcpdump_parser, "\n".join(lines), quiet=True)


WHERE = [
    (POD_NETNS, "eth0", "pod", False),
    (None, "vethf0a81228", "host veth", True),
    (None, "cni0", "bridge", True),
    (None, "uplink0", "egress", True),
]


def path(caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, UPLINK_CAP), lost_at=None, replies=True) -> list[Hop]:
    """The recorded path's hops: from the hop `lost_at` on nothing was captured (the requests were lost
    before it); without `replies`, no echo reply anywhere."""
    drop = () if replies else ("ICMP echo reply",)
    return [
        Hop(netns, iface, role, side, packets=tcpdump(cap if lost_at is None or i < lost_at else "", drop))
        for i, ((netns, iface, role, side), cap) in enumerate(zip(WHERE, caps, strict=True))
    ]


def test_the_recorded_trace_hop_by_hop():
    hj = correlate(path(), NODE, node_label="netns vg-8e8cc6")
    assert [(h.netns, h.node, h.side, h.interface, h.role) for h in hj] == [
        (str(POD_NETNS), "netns vg-8e8cc6", "pod", "eth0", "pod"),
        ("vg-8e8cc6", "netns vg-8e8cc6", "node", "vethf0a81228", "host veth"),
        ("vg-8e8cc6", "netns vg-8e8cc6", "node", "cni0", "bridge"),
        ("vg-8e8cc6", "netns vg-8e8cc6", "node", "uplink0", "egress"),
    ]
    assert [(h.requests, h.replies, h.request_seqs, h.reply_seqs) for h in hj] == [
        (3, 3, (1, 2, 3), (1, 2, 3))
    ] * 4
    assert [h.first_seen for h in hj] == [
        1796056981.989923,
        1796056981.989956,
        1796056981.989956,
        1796056981.990089,
    ]
    # the delay is the median over the sequences: (33, 12, 11) µs, (0, 0, 0), (133, 54, 54); in float
    # seconds since the epoch (to 0.2 µs)
    assert [h.delay_from_previous_us for h in hj] == [None, 11.9, 0.0, 54.1]
    assert [(h.src_ip, h.dst_ip, h.icmp_id, h.reply_src_ip, h.reply_dst_ip) for h in hj] == [
        ("198.18.15.2", "203.0.113.7", 23978, "203.0.113.7", "198.18.15.2")
    ] * 3 + [("198.51.100.1", "203.0.113.7", 23978, "203.0.113.7", "198.51.100.1")]
    assert hj[3].arp_requests == ({"who_has": "198.51.100.254", "tell": "198.51.100.1"},)
    assert hj[3].arp_replies == ({"ip": "198.51.100.254", "is_at": "ca:a5:ec:9b:c6:7c"},)
    assert all(h.arp_requests == h.arp_replies == h.icmp_errors == () for h in hj[:3])
    assert len(hj[3].packets) == 8 and hj[3].packets[0]["arp_op"] == "request"
    assert "nd_solicitations" not in hj[0].to_json()  # IPv4: no Neighbor Discovery fields
    notes = explain(hj, {}, "198.18.15.2", DST, PING, None)
    assert notes == [
        "path: eth0 (pod) -> vethf0a81228 (host veth) -> cni0 (bridge) -> uplink0 (egress)",
        "The source was rewritten from 198.18.15.2 to 198.51.100.1 between cni0 and uplink0: SNAT/masquerade on"
        " the node.",
        "The echo requests crossed every hop, up to uplink0.",
        "Replies came back from 203.0.113.7 and reached the pod (3 of 3).",
        "ping: 3 sent, 3 received.",
    ]
    assert not forwarding_stopped(hj, {})
    # the NAT explained elsewhere (conntrack, the rule): the hop table's own evidence is not said again
    assert explain(hj, {}, "198.18.15.2", DST, PING, None, rewrites_known=True)[1] == (
        "The echo requests crossed every hop, up to uplink0."
    )


def test_where_each_hop_was_captured():
    pod, veth = Hop(POD_NETNS, "eth0", "pod", False), Hop(None, "vethf0a81228", "host veth", True)
    assert pod.where(POD_NETNS, "netns vg-8e8cc6", True) == f"pod {POD_NETNS}"
    assert veth.where(POD_NETNS, "netns vg-8e8cc6", True) == "netns vg-8e8cc6"
    assert veth.where(POD_NETNS, "node-1", False) == "node"


def test_the_node_itself_has_no_netns_and_a_hop_of_another_node_has_its_own():
    hops = path()
    hops[3].node, hops[3].node_netns = "netns vg-other", Netns.named("vg-other")
    hj = correlate(hops, None)
    assert [(h.netns, h.node) for h in hj] == [
        (str(POD_NETNS), ""),
        (None, ""),
        (None, ""),
        ("vg-other", "netns vg-other"),
    ]
    notes = explain(hj, {}, "198.18.15.2", DST, None, None)
    assert notes[0] == (
        "path: eth0 (pod, ) -> vethf0a81228 (host veth, ) -> cni0 (bridge, ) -> uplink0 (egress, netns vg-other)"
    )


def test_lost_where_the_node_forwards():
    """The node took the requests in on cni0 and never sent them out of uplink0: where forwarding happens,
    so its settings are read and said."""
    hj = correlate(path(lost_at=3, replies=False), NODE)
    assert forwarding_stopped(hj, {})
    causes = forwarding_causes("1", ["-P FORWARD ACCEPT", "-A FORWARD -d 203.0.113.7/32 -j REJECT"])
    notes = explain(hj, {}, "198.18.15.2", DST, {"packets_transmitted": 3, "packets_received": 0}, causes)
    assert notes[1:] == [
        "The echo requests were last seen on cni0 (bridge) and never on uplink0 (egress).",
        "On the node, that is where forwarding happens: the FORWARD chain has 1 DROP/REJECT rule(s): FORWARD -d"
        " 203.0.113.7/32 -j REJECT.",
        "ping: 3 sent, 0 received.",
    ]
    two = explain(hj, {}, "198.18.15.2", DST, None, forwarding_causes("0", ["-P FORWARD DROP"]))
    assert two[2] == (
        "On the node, that is where forwarding happens: net.ipv4.ip_forward is 0 on the node: it does not forward"
        " at all; the FORWARD chain's policy is DROP."
    )
    nothing = explain(hj, {}, "198.18.15.2", DST, None, [])
    assert nothing[2] == (
        "On the node, that is where forwarding happens: ip_forward is on and no FORWARD rule drops it: look at"
        " other tables (raw, mangle), rp_filter, or a policy route."
    )
    assert len(explain(hj, {}, "198.18.15.2", DST, None, None)) == 2  # forwarding not read: not said


def test_a_node_that_would_not_route_says_so_and_why():
    hj = correlate(path(lost_at=3, replies=False), NODE)
    facts = {"node_route_error": "Network is unreachable", "end": "The path ends at the node: no route"}
    assert forwarding_stopped(hj, facts)
    notes = explain(hj, facts, "198.18.15.2", DST, None, [])
    assert notes[1:] == [
        "The path ends at the node: no route.",
        "The node would not route the pod's packet: `ip route get 203.0.113.7 ... iif` says \"Network is"
        ' unreachable".',
        "The echo requests were last seen on cni0 (bridge) and never on uplink0 (egress).",
        "On the node, that is where forwarding happens: the node has no usable route for it.",
    ]
    both = explain(hj, facts, "198.18.15.2", DST, None, ["net.ipv4.ip_forward is 0 on the node"])
    assert both[-1] == "On the node, that is where forwarding happens: net.ipv4.ip_forward is 0 on the node."


def test_forwarding_is_read_only_when_the_requests_stopped_before_the_egress():
    lost_on_veth = correlate(path(lost_at=2, replies=False), NODE)  # the bridge never saw them
    assert not forwarding_stopped(lost_on_veth, {})
    assert forwarding_stopped(lost_on_veth, {"node_route_error": "No route to host"})
    nothing_seen = correlate(path(lost_at=0), NODE)
    assert not forwarding_stopped(nothing_seen, {"node_route_error": "No route to host"})


def test_the_next_hop_not_answering_arp_on_the_egress():
    """The node asked for its gateway on uplink0 and nobody answered: the requests crossed every hop as far as
    vethctl sees, and nothing came back."""
    unanswered = UPLINK_CAP.replace(
        "1796056981.990086 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype ARP (0x0806), length 42: Reply"
        " 198.51.100.254 is-at ca:a5:ec:9b:c6:7c, length 28",
        "1796056982.990064 2a:a0:a5:c4:81:4c > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 198.51.100.254 tell 198.51.100.1, length 28",
    )
    hops = path(replies=False, caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, unanswered))
    hj = correlate(hops, NODE)
    assert hj[3].arp_requests == ({"who_has": "198.51.100.254", "tell": "198.51.100.1"},) * 2
    notes = explain(hj, {}, "198.18.15.2", DST, None, None)
    assert notes[2:] == [
        "The echo requests crossed every hop, up to uplink0.",
        "On uplink0, ARP for 198.51.100.254 was not answered: the next hop is not there.",
        "No reply came back on uplink0: the loss is beyond this node.",
    ]


def test_an_arp_answered_for_another_address_does_not_answer_ours():
    """Near miss: the gateway answered for itself, but the node also asked for 198.51.100.9, which nobody
    holds; one reply is not an answer to every request."""
    other = (
        "1796056981.990070 2a:a0:a5:c4:81:4c > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 198.51.100.9 tell 198.51.100.1, length 28\n"
    )
    hops = path(replies=False, caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, UPLINK_CAP + other))
    notes = explain(correlate(hops, NODE), {}, "198.18.15.2", DST, None, None)
    assert "On uplink0, ARP for 198.51.100.9 was not answered: the next hop is not there." in notes
    answered = explain(correlate(path(replies=False), NODE), {}, "198.18.15.2", DST, None, None)
    assert not any("was not answered" in n for n in answered)
    assert answered[-1] == "No reply came back on uplink0: the loss is beyond this node."


def test_replies_that_came_back_to_the_node_but_never_reached_the_pod():
    """Replies seen on uplink0 only, then on uplink0 and cni0 (lost on the way back to the veth): the sentence
    names the hop nearest the pod that saw them."""
    hops = path(replies=False)
    hops[3] = path()[3]
    notes = explain(correlate(hops, NODE), {}, "198.18.15.2", DST, None, None)
    assert notes[2:] == [
        "The echo requests crossed every hop, up to uplink0.",
        "Replies came back from 203.0.113.7, but were last seen on uplink0 and never reached the pod.",
    ]
    hops[2] = path()[2]
    notes = explain(correlate(hops, NODE), {}, "198.18.15.2", DST, None, None)
    assert (
        notes[-1]
        == "Replies came back from 203.0.113.7, but were last seen on cni0 and never reached the pod."
    )
    some = path()
    some[0].packets = tcpdump(POD_CAP, ("203.0.113.7 > 198.18.15.2: ICMP echo reply, id 23978, seq 3",))
    assert explain(correlate(some, NODE), {}, "198.18.15.2", DST, None, None)[3] == (
        "Replies came back from 203.0.113.7 and reached the pod (2 of 3)."
    )


def test_no_request_left_the_pod_because_nobody_answered_its_arp():
    """Nothing but the pod's ARP for its gateway, unanswered, on the pod's eth0 and the host veth."""
    who_has = (
        "1796056981.989900 f6:c2:51:4c:01:f5 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 198.18.15.1 tell 198.18.15.2, length 28"
    )
    asked = "\n".join(who_has.replace("981.98", f"98{n}.98") for n in (1, 2, 3))
    hops = path(caps=(asked, asked, "", ""))
    hj = correlate(hops, NODE)
    assert hj[0].requests == 0 and hj[0].first_seen is None and hj[0].src_ip is None
    notes = explain(hj, {}, "198.18.15.2", DST, None, None)
    assert notes[1:] == [
        "No echo request left the pod: it asked who has 198.18.15.1 (ARP, tell 198.18.15.2) 3 time(s) on eth0 and"
        " nobody answered."
    ]
    # the gateway answered (on the pod's side): then it is not "nobody answered"
    answer = (
        "1796056981.989930 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype ARP (0x0806), length 42: Reply"
        " 198.18.15.1 is-at 96:d5:e4:f2:f0:a3, length 28"
    )
    answered = correlate(path(caps=(asked + "\n" + answer, asked + "\n" + answer, "", "")), NODE)
    assert explain(answered, {}, "198.18.15.2", DST, None, None)[1:] == [
        "No echo request to 203.0.113.7 was seen on any hop."
    ]


def test_icmp_errors_on_the_way_are_listed_where_they_were_seen():
    ttl = (
        "1796056981.990100 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv4 (0x0800), length 126:"
        " 198.51.100.254 > 198.51.100.1: ICMP time exceeded in-transit, length 92\n"
        "1796056981.990200 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv4 (0x0800), length 126:"
        " 198.51.100.254 > 198.51.100.1: ICMP source quench, length 92\n"
    )
    hops = path(replies=False, caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, UPLINK_CAP + ttl))
    hj = correlate(hops, NODE)
    assert hj[3].icmp_errors == (
        {"type": "time exceeded", "code": "time to live exceeded", "from": "198.51.100.254"},
        {"type": "source quench", "code": None, "from": "198.51.100.254"},
    )
    assert hj[3].requests == 3 and hj[3].replies == 0  # an error is not a reply
    notes = explain(hj, {}, "198.18.15.2", DST, None, None)
    assert notes[-2:] == [
        "uplink0: ICMP time exceeded (time to live exceeded) from 198.51.100.254.",
        "uplink0: ICMP source quench from 198.51.100.254.",
    ]


def test_the_pods_own_address_leaving_unchanged_is_said_on_the_egress_only():
    unchanged = UPLINK_CAP.replace("198.51.100.1 > 203.0.113.7", "198.18.15.2 > 203.0.113.7")
    hj = correlate(path(caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, unchanged)), NODE)
    notes = explain(hj, {}, None, DST, None, None)  # the pod's address as its own capture saw it
    assert notes[-1] == "The pod's own address 198.18.15.2 left the node unchanged (no SNAT on this path)."
    assert not any("rewritten" in n for n in notes)
    # the last hop another pod (trace to a pod): not the node's egress, so nothing is said about SNAT
    to_pod = [*path(caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, unchanged))[:3], Hop(None, "eth0", "dst pod", False)]
    to_pod[3].packets = tcpdump(unchanged)
    assert not any("unchanged" in n for n in explain(correlate(to_pod, NODE), {}, None, DST, None, None))
    # one hop only (the pod's own): nothing to compare
    alone = correlate(path()[:1], NODE)
    assert not any("unchanged" in n for n in explain(alone, {}, "198.18.15.2", DST, None, None))


def test_a_destination_rewritten_on_the_node_is_dnat():
    """A Service's ClusterIP 198.18.128.10 sent to its endpoint 198.18.15.9 by the node (kube-proxy's DNAT)."""
    svc = ipaddress.ip_address("198.18.128.10")
    before = POD_CAP.replace("203.0.113.7", "198.18.128.10")
    after = before.replace("198.18.15.2 > 198.18.128.10", "198.18.15.2 > 198.18.15.9")
    hj = correlate(path(caps=(before, before, after, after)), NODE)
    notes = explain(hj, {}, "198.18.15.2", svc, None, None)
    assert notes[1] == (
        "The destination was rewritten from 198.18.128.10 to 198.18.15.9 between vethf0a81228 and cni0: DNAT on"
        " the node."
    )
    assert not any("source was rewritten" in n for n in notes)


def test_flow_filters_without_neighbours():
    assert flow_filter(DST, set()) == (
        "(icmp and host 203.0.113.7) or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] =="
        " icmp-timxceed))"
    )
    assert flow_filter(DST, {"198.18.15.2", "198.18.15.1"}).endswith(
        " or (arp and (host 198.18.15.1 or host 198.18.15.2))"
    )
    assert flow_filter(ipaddress.ip_address("2001:db8:203::7"), set()) == (
        "icmp6 and (host 2001:db8:203::7 or ip6[40] == 1 or ip6[40] == 2 or ip6[40] == 3)"
    )


def test_forwarding_causes_read_from_sysctl_and_the_forward_chain():
    rules = [
        "-P FORWARD ACCEPT",
        "-N KUBE-FORWARD",
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        "-A FORWARD -m comment --comment kube -j KUBE-FORWARD",
        "-A FORWARD -o uplink0 -j REJECT --reject-with icmp-host-prohibited",
        "-A FORWARD -d 203.0.113.7/32 -j DROP",
    ]
    assert forwarding_causes("1", rules) == [
        "the FORWARD chain has 2 DROP/REJECT rule(s): FORWARD -o uplink0 -j REJECT --reject-with"
        " icmp-host-prohibited"
    ]
    assert forwarding_causes("1", ["-P FORWARD ACCEPT", "-A FORWARD -j KUBE-FORWARD"]) == []
    assert forwarding_causes(None, None) == []  # neither could be read
    assert forwarding_causes("0", None) == [
        "net.ipv4.ip_forward is 0 on the node: it does not forward at all"
    ]


def test_ping_counts_and_a_lone_hop():
    hj = correlate(path()[:1], NODE)
    notes = explain(hj, {}, "198.18.15.2", DST, {"packets_transmitted": 3, "packets_received": 2}, None)
    assert notes == [
        "path: eth0 (pod)",
        "The echo requests crossed every hop, up to eth0.",
        "Replies came back from 203.0.113.7 and reached the pod (3 of 3).",
        "ping: 3 sent, 2 received.",
    ]
    assert ECHO.request == "echo request" and flow_of("icmp", "", None) == ECHO


# -- A probe's flow, hop by hop: recorded probe captures (tests/fixtures/linux, tcpdump-probe-*.out) ------------


def fixture(case: str) -> list[dict]:
    return jc.parse(
        tcpdump_parser, (FIXTURES / "linux" / f"tcpdump-probe-{case}.out").read_text(), quiet=True
    )


def one_hop(packets, flow, family=4):
    (h,) = correlate([Hop(POD_NETNS, "eth0", "pod", False, packets=packets)], None, flow, "node-1", family)
    return h


def test_tcp_syns_and_their_answers_are_keyed_by_the_syns_sequence():
    """To port 7001 (IPv4 and IPv6): the SYNs are the requests, the SYN-ACKs (ack = seq + 1) the replies; the
    handshake's ACK and the FINs are neither. To 7090: the RST answers the SYN; a bare RST (no ack) to a stray
    ACK answers nothing. A SYN sent again (7081) is one request."""
    packets = fixture("tcp")
    h = one_hop(packets, flow_of("tcp", "198.51.100.1", 7001))
    assert (h.requests, h.replies) == (2, 2)
    assert h.request_seqs == h.reply_seqs == (418967882, 1803986404)
    assert (h.src_ip, h.dst_ip, h.reply_src_ip, h.reply_dst_ip) == (
        "192.0.2.1",
        "198.51.100.1",
        "198.51.100.1",
        "192.0.2.1",
    )
    assert h.icmp_id is None and h.first_seen == 1796047089.333887
    refused = one_hop(packets, flow_of("tcp", "198.51.100.1", 7090))
    assert refused.request_seqs == refused.reply_seqs == (578290481, 1249880802)
    # the client's own RST to 7001 (a SYN-ACK that came after it gave up) is not a SYN
    rst = (
        "1796047089.334100 16:66:45:53:42:bc > 5e:db:d8:c7:00:18, ethertype IPv4 (0x0800), length 54:"
        " 192.0.2.1.40754 > 198.51.100.1.7001: Flags [R], seq 418967883, win 0, length 0"
    )
    with_rst = one_hop(
        packets + jc.parse(tcpdump_parser, rst, quiet=True), flow_of("tcp", "198.51.100.1", 7001)
    )
    assert with_rst.request_seqs == (418967882, 1803986404)
    again = one_hop(packets, flow_of("tcp", "198.51.100.1", 7081))
    assert (again.requests, again.replies, again.first_seen) == (1, 0, 1796047089.431380)
    # a Service's port 80 sent on to its target port 7001 (DNAT): the same flow under either port
    assert (
        one_hop(packets, flow_of("tcp", "198.51.100.1", 80, also_ports=[7001])).request_seqs == h.request_seqs
    )
    assert one_hop(packets, flow_of("tcp", "198.51.100.1", 80)).requests == 0
    # the ICMP error about 7082 is an error, not a reply
    prohibited = one_hop(packets, flow_of("tcp", "198.51.100.1", 7082))
    assert (prohibited.requests, prohibited.replies) == (1, 0)
    assert prohibited.icmp_errors == (
        {"type": "destination unreachable", "code": "communication prohibited", "from": "198.51.100.1"},
    )


def test_udp_datagrams_are_keyed_by_their_order():
    packets = fixture("udp")
    h = one_hop(packets, flow_of("udp", "198.51.100.1", 5555))
    assert (h.request_seqs, h.reply_seqs) == ((0, 1), (0, 1))  # the n-th datagram each way
    assert (h.src_ip, h.reply_src_ip) == ("192.0.2.1", "198.51.100.1")
    closed = one_hop(packets, flow_of("udp", "198.51.100.1", 9))
    assert (closed.requests, closed.replies) == (2, 0)
    assert [e["code"] for e in closed.icmp_errors][:2] == ["port unreachable", "port unreachable"]


def test_dns_queries_and_answers_are_keyed_by_the_query_id():
    packets = fixture("dns")
    h = one_hop(packets, flow_of("dns", "198.51.100.1", 53))
    # by id, over UDP and TCP (39713); the TCP handshake's segments carry no query
    assert h.request_seqs == h.reply_seqs == (10320, 23059, 25519, 34222, 39713, 49649, 53950, 59718)
    notes = explain(
        (h,),
        {},
        "192.0.2.1",
        ipaddress.ip_address("198.51.100.1"),
        None,
        None,
        flow_of("dns", "198.51.100.1", 53),
    )
    assert notes[1] == "The DNS queries crossed every hop, up to eth0."


def test_the_words_follow_the_flow():
    """A TCP probe lost before the egress: its own words (SYN, SYNs), not an echo's."""
    tcp = flow_of("tcp", "203.0.113.7", 443)
    assert (tcp.request, tcp.requests) == ("SYN", "SYNs")
    hj = correlate(path(lost_at=0), NODE, tcp)
    assert explain(hj, {}, None, DST, None, None, tcp)[1] == "No SYN to 203.0.113.7 was seen on any hop."
    syn = (
        "1796056981.989923 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv4 (0x0800), length 74:"
        " 198.18.15.2.40754 > 203.0.113.7.443: Flags [S], seq 1, win 64240, length 0"
    )
    lost = correlate(path(caps=(syn, syn, syn, ""), lost_at=3), NODE, tcp)
    assert explain(lost, {}, None, DST, None, None, tcp)[1] == (
        "The SYNs were last seen on cni0 (bridge) and never on uplink0 (egress)."
    )
    assert (flow_of("udp", "", 1).requests, flow_of("dns", "", 53).request) == ("datagrams", "DNS query")


# -- IPv6: the same path, Neighbor Discovery in place of ARP ---------------------------------------------------

POD6_CAP = """
1796050376.994363 f6:c2:51:4c:01:f5 > 33:33:ff:00:00:01, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8:18::2 > ff02::1:ff00:1: [icmp6 sum ok] ICMP6, neighbor solicitation, length 32, who has 2001:db8:18::1
1796050376.994392 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8:18::1 > 2001:db8:18::2: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8:18::1, Flags [router, solicited, override]
1796050376.994397 f6:c2:51:4c:01:f5 > 96:d5:e4:f2:f0:a3, ethertype IPv6 (0x86dd), length 118: (flowlabel 0xf78b2, hlim 64, next-header ICMPv6 (58) payload length: 64) 2001:db8:18::2 > 2001:db8:203::7: [icmp6 sum ok] ICMP6, echo request, id 18168, seq 1
1796050379.994397 96:d5:e4:f2:f0:a3 > f6:c2:51:4c:01:f5, ethertype IPv6 (0x86dd), length 166: (hlim 64, next-header ICMPv6 (58) payload length: 112) 2001:db8:18::1 > 2001:db8:18::2: [icmp6 sum ok] ICMP6, destination unreachable, unreachable address 2001:db8:203::7
"""
UPLINK6_CAP = """
1796050376.994500 2a:a0:a5:c4:81:4c > ca:a5:ec:9b:c6:7c, ethertype IPv6 (0x86dd), length 118: 2001:db8:18::2 > 2001:db8:203::7: ICMP6, echo request, id 18168, seq 1, length 64
1796050376.994600 2a:a0:a5:c4:81:4c > 33:33:ff:00:02:54, ethertype IPv6 (0x86dd), length 86: 2001:db8:1::1 > ff02::1:ff00:254: ICMP6, neighbor solicitation, who has 2001:db8:1::254, length 32
1796050377.994600 2a:a0:a5:c4:81:4c > 33:33:ff:00:02:54, ethertype IPv6 (0x86dd), length 86: 2001:db8:1::1 > ff02::1:ff00:254: ICMP6, neighbor solicitation, who has 2001:db8:1::254, length 32
"""
DST6 = ipaddress.ip_address("2001:db8:203::7")


def test_ipv6_the_next_hop_not_answering_neighbor_solicitations_on_the_egress():
    echo_only = "\n".join(line for line in POD6_CAP.strip().splitlines() if "echo request" in line)
    hops = path(caps=(POD6_CAP, echo_only, echo_only, UPLINK6_CAP))
    hj = correlate(hops, NODE, family=6)
    assert hj[0].nd_solicitations == (
        {"who_has": "2001:db8:18::1", "from": "2001:db8:18::2", "to": "ff02::1:ff00:1"},
    )
    # with -v the MAC is the target link-address option's; the frame's own source otherwise (the same here)
    assert hj[0].nd_advertisements == (
        {"ip": "2001:db8:18::1", "is_at": "96:d5:e4:f2:f0:a3", "to": "2001:db8:18::2"},
    )
    assert hj[0].icmp_errors == (
        {"type": "destination unreachable", "code": "address unreachable", "from": "2001:db8:18::1"},
    )  # Neighbor Discovery is not an error
    assert (
        hj[3].nd_solicitations
        == ({"who_has": "2001:db8:1::254", "from": "2001:db8:1::1", "to": "ff02::1:ff00:254"},) * 2
    )
    assert hj[3].nd_advertisements == () and hj[3].arp_requests == ()
    notes = explain(hj, {}, "2001:db8:18::2", DST6, None, None)
    assert notes[1:] == [
        "The echo requests crossed every hop, up to uplink0.",
        "On uplink0, Neighbor Solicitation for 2001:db8:1::254 was not answered: the next hop is not there.",
        "No reply came back on uplink0: the loss is beyond this node.",
        "eth0: ICMP destination unreachable (address unreachable) from 2001:db8:18::1.",
        "The pod's own address 2001:db8:18::2 left the node unchanged (no SNAT on this path).",
    ]
    answered = UPLINK6_CAP + (
        "1796050377.994700 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv6 (0x86dd), length 86:"
        " 2001:db8:1::254 > 2001:db8:1::1: ICMP6, neighbor advertisement, tgt is 2001:db8:1::254, length 32"
    )
    hj = correlate(path(caps=(POD6_CAP, echo_only, echo_only, answered)), NODE, family=6)
    assert hj[3].nd_advertisements == (
        {"ip": "2001:db8:1::254", "is_at": "ca:a5:ec:9b:c6:7c", "to": "2001:db8:1::1"},
    )
    assert not any("was not answered" in n for n in explain(hj, {}, "2001:db8:18::2", DST6, None, None))


def test_ipv6_unanswered_solicitations_are_said_before_an_unanswered_arp():
    """Both kinds unanswered on one path (a dual-stack pod): this IPv6 trace names Neighbor Discovery."""
    sol = "\n".join(line for line in POD6_CAP.strip().splitlines() if "solicitation" in line)
    arp = (
        "1796056981.989900 f6:c2:51:4c:01:f5 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 198.18.15.1 tell 198.18.15.2, length 28"
    )
    hj = correlate(path(caps=(arp, sol, "", "")), NODE, family=6)
    notes = explain(hj, {}, "2001:db8:18::2", DST6, None, None)
    assert notes[1:] == [
        "No echo request left the pod: it sent 1 Neighbor Solicitation(s) for 2001:db8:18::1 (from"
        " 2001:db8:18::2, to ff02::1:ff00:1) on vethf0a81228 and no Neighbor Advertisement came."
    ]


def test_delays_are_measured_over_the_sequences_both_hops_saw():
    """The veth capture started late and missed seq 1: cni0's delay is over seqs 2 and 3 only, and the veth's
    own (from the pod) too; a hop that saw none of the previous hop's sequences has no delay."""
    late = VETH_CAP.replace("1796056981.989956 f6", "#").replace("\n#", "\n# ")
    late = "\n".join(line for line in late.splitlines() if not line.startswith("#"))
    hj = correlate(path(caps=(POD_CAP, late, BRIDGE_CAP, UPLINK_CAP)), NODE)
    assert hj[1].request_seqs == (2, 3) and hj[1].first_seen == 1796056982.191704
    assert [h.delay_from_previous_us for h in hj] == [None, 11.4, 0.0, 54.1]  # (12, 11) µs, to 0.2 µs; (0, 0)
    only_seq1 = "\n".join(line for line in POD_CAP.strip().splitlines() if "seq 1," in line)
    hj = correlate(path(caps=(only_seq1, late, BRIDGE_CAP, UPLINK_CAP)), NODE)
    assert hj[1].delay_from_previous_us is None and hj[2].delay_from_previous_us == 0.0


def test_each_flows_words_in_the_sentences():
    hj = correlate(path(lost_at=0), NODE)
    said = {
        kind: explain(hj, {}, None, DST, None, None, flow_of(kind, "203.0.113.7", 53))[1]
        for kind in ("udp", "dns", "icmp")
    }
    assert said == {
        "udp": "No datagram to 203.0.113.7 was seen on any hop.",
        "dns": "No DNS query to 203.0.113.7 was seen on any hop.",
        "icmp": "No echo request to 203.0.113.7 was seen on any hop.",
    }
    (veth,) = correlate([path()[1]], NODE)
    crossed = [explain((veth,), {}, None, DST, None, None, flow_of(k, "", 1))[1] for k in ("udp", "dns")]
    assert crossed == [
        "The datagrams crossed every hop, up to vethf0a81228.",
        "The DNS queries crossed every hop, up to vethf0a81228.",
    ]


def test_ipv6_packet_too_big_on_the_way_is_listed():
    """A router's Packet Too Big (ICMPv6 type 2: the filter lets it through, as IPv4's need-to-frag)."""
    ptb = (
        "1796050380.065849 ca:a5:ec:9b:c6:7c > 2a:a0:a5:c4:81:4c, ethertype IPv6 (0x86dd), length 1294:"
        " 2001:db8:1::254 > 2001:db8:1::1: ICMP6, packet too big, mtu 1280, length 1240"
    )
    echo_only = "\n".join(line for line in POD6_CAP.strip().splitlines() if "echo request" in line)
    hj = correlate(path(caps=(echo_only, echo_only, echo_only, echo_only + "\n" + ptb)), NODE, family=6)
    assert hj[3].icmp_errors == ({"type": "packet too big", "code": None, "from": "2001:db8:1::254"},)
    assert explain(hj, {}, "2001:db8:18::2", DST6, None, None)[-2] == (
        "uplink0: ICMP packet too big from 2001:db8:1::254."
    )


def test_a_resolver_querying_from_port_53_is_told_apart_by_the_qr_bit():
    """A forwarding resolver that sends from port 53 (query-source port 53): its query and the answer both go
    from 53 to 53, so only the answer bit says which is which (each alone: the query unanswered, or the answer
    to a query sent before the capture started)."""
    query = (
        "1796047073.334409 06:a2:b0:6d:12:09 > ee:06:ca:3e:77:3a, ethertype IPv4 (0x0800), length 98:"
        " 192.0.2.1.53 > 198.51.100.1.53: 59718+ [1au] A? web.lab.example. (56)"
    )
    answer = (
        "1796047073.334531 ee:06:ca:3e:77:3a > 06:a2:b0:6d:12:09, ethertype IPv4 (0x0800), length 102:"
        " 198.51.100.1.53 > 192.0.2.1.53: 59718* 1/0/1 A 198.51.100.1 (60)"
    )
    dns = flow_of("dns", "198.51.100.1", 53)
    asked = one_hop(jc.parse(tcpdump_parser, query, quiet=True), dns)
    assert (asked.requests, asked.replies, asked.request_seqs) == (1, 0, (59718,))
    answered = one_hop(jc.parse(tcpdump_parser, answer, quiet=True), dns)
    assert (answered.requests, answered.replies, answered.reply_seqs) == (0, 1, (59718,))


def test_the_third_datagram_is_the_third():
    line = (
        "1796047066.57537{n} 06:a2:b0:6d:12:09 > ee:06:ca:3e:77:3a, ethertype IPv4 (0x0800), length 48:"
        " 192.0.2.1.59353 > 198.51.100.1.5555: UDP, length 6"
    )
    three = jc.parse(tcpdump_parser, "\n".join(line.format(n=n) for n in range(3)), quiet=True)
    assert one_hop(three, flow_of("udp", "198.51.100.1", 5555)).request_seqs == (0, 1, 2)


def test_a_request_held_a_second_for_arp_shows_in_the_delay():
    """One echo, held on uplink0 while the node asked for its gateway (the first ARP went unanswered)."""

    def one(cap):
        return "\n".join(line for line in cap.strip().splitlines() if "request" in line and "seq 1," in line)

    held = (
        "1796056982.989956 2a:a0:a5:c4:81:4c > ca:a5:ec:9b:c6:7c, ethertype IPv4 (0x0800), length 98:"
        " 198.51.100.1 > 203.0.113.7: ICMP echo request, id 23978, seq 1, length 64"
    )
    hj = correlate(path(caps=(one(POD_CAP), one(VETH_CAP), one(BRIDGE_CAP), held)), NODE)
    assert [h.delay_from_previous_us for h in hj] == [None, 32.9, 0.0, 1000000.0]


def test_each_hop_keeps_its_note_and_tcpdumps_counters():
    hops = path()
    hops[1].note = "the peer of the pod's eth0"
    hops[1].counters = {"captured": 6, "received_by_filter": 6, "dropped_by_kernel": 0}
    hj = correlate(hops, NODE)
    assert (hj[1].note, hj[1].counters) == (
        "the peer of the pod's eth0",
        {"captured": 6, "received_by_filter": 6, "dropped_by_kernel": 0},
    )
    assert (hj[0].note, hj[0].counters) == ("", {})


def test_a_single_unanswered_arp_is_said_once():
    who_has = (
        "1796056981.989900 f6:c2:51:4c:01:f5 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 198.18.15.1 tell 198.18.15.2, length 28"
    )
    hj = correlate(path(caps=(who_has, who_has, "", "")), NODE)
    assert explain(hj, {}, "198.18.15.2", DST, None, None)[1] == (
        "No echo request left the pod: it asked who has 198.18.15.1 (ARP, tell 198.18.15.2) 1 time(s) on eth0 and"
        " nobody answered."
    )


def test_the_pods_address_is_the_pods_own_when_its_capture_saw_nothing():
    """The pod's capture lost its packets (dropped by the kernel): the pod's address is the one the scenario
    knows, and the egress shows it left unchanged."""
    unchanged = UPLINK_CAP.replace("198.51.100.1 > 203.0.113.7", "198.18.15.2 > 203.0.113.7")
    hj = correlate(path(caps=("", VETH_CAP, BRIDGE_CAP, unchanged)), NODE)
    assert hj[0].src_ip is None
    notes = explain(hj, {}, "198.18.15.2", DST, None, None)
    assert notes[-1] == "The pod's own address 198.18.15.2 left the node unchanged (no SNAT on this path)."


def test_one_reply_back_at_the_pod_is_enough_to_reach_it():
    one_back = "\n".join(
        line for line in POD_CAP.strip().splitlines() if "request" in line or "seq 3," in line
    )
    hj = correlate(path(caps=(one_back, VETH_CAP, BRIDGE_CAP, UPLINK_CAP)), NODE)
    assert explain(hj, {}, "198.18.15.2", DST, None, None)[3] == (
        "Replies came back from 203.0.113.7 and reached the pod (1 of 3)."
    )


def test_replies_are_named_by_who_sent_them_past_a_dnat():
    """A Service's ClusterIP 198.18.128.10, its endpoint 198.18.15.9 answering: on the hops past the DNAT the
    replies come from the endpoint."""
    svc = ipaddress.ip_address("198.18.128.10")
    before = POD_CAP.replace("203.0.113.7", "198.18.128.10")
    after = before.replace("198.18.128.10", "198.18.15.9")
    hj = correlate(path(caps=(before, before, after, after)), NODE)
    assert explain(hj, {}, "198.18.15.2", svc, None, None, rewrites_known=True)[2] == (
        "Replies came back from 198.18.15.9 and reached the pod (3 of 3)."
    )


def test_no_snat_on_a_two_hop_path():
    """A pod whose interface is not a veth (no host veth hop): the pod's eth0, then the node's egress."""
    unchanged = UPLINK_CAP.replace("198.51.100.1 > 203.0.113.7", "198.18.15.2 > 203.0.113.7")
    two = [path()[0], path(caps=(POD_CAP, VETH_CAP, BRIDGE_CAP, unchanged))[3]]
    notes = explain(correlate(two, NODE), {}, "198.18.15.2", DST, None, None)
    assert notes[-1] == "The pod's own address 198.18.15.2 left the node unchanged (no SNAT on this path)."
