"""trace's sentences for IPv6: Neighbor Discovery on the path, and what stops a node forwarding IPv6."""

from __future__ import annotations

import ipaddress

from vethctl.explain.trace import Hop, correlate, explain, flow_filter, forwarding_causes
from vethctl.model import Netns

POD6, GONE = "2001:db8:18::2", "2001:db8:18::99"
POD_NS = Netns.named("cni-1")


def test_ipv6_flow_filter_keeps_nd_of_the_path_only():
    filt = flow_filter(ipaddress.ip_address("2001:db8:203::7"), {POD6, "2001:db8:18::1"})
    assert filt == (
        "icmp6 and (host 2001:db8:203::7 or ip6[40] == 1 or ip6[40] == 3 or ((ip6[40] == 135 or ip6[40] == 136)"
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
