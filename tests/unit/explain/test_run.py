"""Observations from recorded data: the packets, ping and route of real runs (as the parsers give them)."""

from __future__ import annotations

import pytest

from vethctl.explain.run import explain_run, route_sentence
from vethctl.output.text import format_packet, format_route
from vethctl.parsers.ping import parse_ping

UNREACHABLE_PING = """PING 192.0.2.101 (192.0.2.101) 56(84) bytes of data.
[1795681483.873459] From 192.0.2.100 icmp_seq=1 Destination Host Unreachable
[1795681483.873543] From 192.0.2.100 icmp_seq=2 Destination Host Unreachable
[1795681483.873550] From 192.0.2.100 icmp_seq=3 Destination Host Unreachable

--- 192.0.2.101 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2048ms
pipe 3
"""

POD_END = {"name": "vp-1", "address": "192.0.2.100/24"}
HOST_END = {"name": "vh-1", "address": "192.0.2.200/24"}
ROUTE = {"dst": "192.0.2.101", "dev": "vp-1", "prefsrc": "192.0.2.100", "flags": []}


def who_has(ts):
    return {
        "timestamp": ts,
        "src_mac": "16:d6:7e:63:9b:b3",
        "dst_mac": "ff:ff:ff:ff:ff:ff",
        "ethertype": "arp",
        "length": 42,
        "arp_op": "request",
        "target_ip": "192.0.2.101",
        "sender_ip": "192.0.2.100",
    }


def test_ping_errors_are_kept_in_jc_schema():
    ping, lines = parse_ping(UNREACHABLE_PING)
    assert ping["packets_transmitted"] == 3 and ping["errors"] == 3
    assert [r["type"] for r in ping["responses"]] == ["destination_host_unreachable"] * 3
    assert [r["icmp_seq"] for r in ping["responses"]] == [1, 2, 3]
    assert lines[0].startswith("PING")


def test_unreachable_neighbour_is_explained():
    ping, _ = parse_ping(UNREACHABLE_PING)
    notes = explain_run(
        ping_addr="192.0.2.101",
        pod_end=POD_END,
        host_end=HOST_END,
        route=ROUTE,
        ping=ping,
        packets=[who_has(1.0), who_has(2.0), who_has(3.0)],
        counters={},
        filter_expr="arp or icmp",
    )
    text = "\n".join(notes)
    assert "leaves by vp-1" in notes[0]
    assert "asked 3 times who has 192.0.2.101" in text and "nobody answered" in text
    assert "no ICMP echo request" in text and "Destination Host Unreachable" in text


def test_route_elsewhere_is_said():
    route = {"dst": "198.51.100.7", "gateway": "198.18.0.1", "dev": "eth0", "prefsrc": "198.18.0.2"}
    assert (
        route_sentence("198.51.100.7", route) == "198.51.100.7 leaves by eth0 via 198.18.0.1, from 198.18.0.2"
    )
    notes = explain_run(
        ping_addr="198.51.100.7",
        pod_end=POD_END,
        host_end=HOST_END,
        route=route,
        ping=None,
        packets=[],
        counters={"dropped_by_kernel": 2},
        filter_expr="",
    )
    assert "not by the veth vp-1" in notes[0] and any("dropped 2" in n for n in notes)


def test_formatting():
    assert (
        format_route(
            {
                "dst": "192.0.2.0/24",
                "dev": "vp-1",
                "protocol": "kernel",
                "scope": "link",
                "prefsrc": "192.0.2.100",
                "flags": [],
            }
        )
        == "192.0.2.0/24 dev vp-1 proto kernel scope link src 192.0.2.100"
    )
    assert "who-has 192.0.2.101 tell 192.0.2.100" in format_packet(who_has(0.5))


# -- IPv6 ends: Neighbor Discovery, in its own words ----------------------------------------------------------

UNREACHABLE_PING6 = """PING 2001:db8::101(2001:db8::101) 56 data bytes
[1796046892.699762] From 2001:db8::100 icmp_seq=1 Destination unreachable: Address unreachable
[1796046892.699822] From 2001:db8::100 icmp_seq=2 Destination unreachable: Address unreachable
[1796046892.699826] From 2001:db8::100 icmp_seq=3 Destination unreachable: Address unreachable

--- 2001:db8::101 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2046ms
"""
POD_END6 = {"name": "vp-1", "address": "2001:db8::100/64"}
HOST_END6 = {"name": "vh-1", "address": "2001:db8::200/64"}
POD_MAC, HOST_MAC = "72:e1:74:e7:ee:eb", "ba:86:ab:2c:ca:30"


def icmp6(ts, src, dst, icmp_type, src_mac=POD_MAC, dst_mac=HOST_MAC, **extra):
    return {
        "timestamp": ts,
        "src_mac": src_mac,
        "dst_mac": dst_mac,
        "ethertype": "ipv6",
        "length": 86,
        "src_ip": src,
        "dst_ip": dst,
        "protocol": "icmp6",
        "icmp_type": icmp_type,
        **extra,
    }


def solicitation(ts, target, key="target_ip"):
    group = "ff02::1:ff00:" + target.rsplit(":", 1)[1]
    return icmp6(
        ts, "2001:db8::100", group, "neighbor solicitation", dst_mac="33:33:ff:00:01:01", **{key: target}
    )


def route6(dst):
    return {"dst": dst, "dev": "vp-1", "prefsrc": "2001:db8::100", "flags": []}


def test_ipv6_ping_errors_are_read_as_linux_output():
    """iputils prints no rtt line and no "pipe" line here: jc alone took it for BSD output (no errors, no
    loss, the data size as the destination)."""
    ping, _ = parse_ping(UNREACHABLE_PING6)
    assert ping["destination_ip"] == "2001:db8::101" and ping["errors"] == 3
    assert ping["packet_loss_percent"] == 100.0 and ping["packets_received"] == 0
    assert [r["type"] for r in ping["responses"]] == ["destination_unreachable_address_unreachable"] * 3


@pytest.mark.parametrize("key", ["target_ip", "nd_target"])
def test_unanswered_neighbor_solicitations_are_the_unreachable_neighbour(key):
    ping, _ = parse_ping(UNREACHABLE_PING6)
    notes = explain_run(
        ping_addr="2001:db8::101",
        pod_end=POD_END6,
        host_end=HOST_END6,
        route=route6("2001:db8::101"),
        ping=ping,
        packets=[solicitation(t, "2001:db8::101", key) for t in (1.0, 2.0, 3.0)],
        counters={},
        filter_expr="icmp6",
    )
    text = "\n".join(notes)
    assert (
        "The pod sent 3 Neighbor Solicitations for 2001:db8::101 (from 2001:db8::100) to its solicited-node"
        " multicast address ff02::1:ff00:101, and no Neighbor Advertisement came" in text
    )
    assert "no ICMPv6 echo request for 2001:db8::101 ever left vp-1" in text
    assert "3 errors (Destination unreachable: Address unreachable), 100.0% loss" in text
    assert "Neighbor Discovery's terms" in text and '"Address unreachable"' in text
    assert "ARP" not in text and "other packet" not in text


def test_the_host_end_advertised_its_mac_and_the_echoes_followed():
    packets = [
        solicitation(1.0, "2001:db8::200"),
        icmp6(
            1.1,
            "2001:db8::200",
            "2001:db8::100",
            "neighbor advertisement",
            HOST_MAC,
            POD_MAC,
            nd_target="2001:db8::200",
        ),
    ]
    for seq in (1, 2):
        packets.append(icmp6(1 + seq, "2001:db8::100", "2001:db8::200", "echo request", icmp_seq=seq))
        packets.append(
            icmp6(1 + seq, "2001:db8::200", "2001:db8::100", "echo reply", HOST_MAC, POD_MAC, icmp_seq=seq)
        )
    packets.append(icmp6(4.0, "::", "ff02::16", "multicast listener report v2", dst_mac="33:33:00:00:00:16"))
    notes = explain_run(
        ping_addr="2001:db8::200",
        pod_end=POD_END6,
        host_end=HOST_END6,
        route=route6("2001:db8::200"),
        ping=None,
        packets=packets,
        counters={},
        filter_expr="icmp6",
    )
    text = "\n".join(notes)
    assert (
        f"the host end vh-1 advertised its MAC: Neighbor Advertisement 2001:db8::200 is-at {HOST_MAC}, and the"
        " echo request/reply followed" in text
    )
    assert "2 ICMPv6 echo requests from 2001:db8::100 crossed vh-1, and 2 echo replies came back" in text
    assert (
        "1 other packet matched the filter on vh-1 (not part of these pings: 1 multicast listener report v2)"
        in text
    )


def test_neighbor_discovery_packets_read_in_one_line():
    ns = format_packet(solicitation(1796046889.629245, "2001:db8::101", "nd_target"))
    assert "2001:db8::100 > ff02::1:ff00:101 neighbor solicitation, who has 2001:db8::101" in ns
    na = icmp6(1.0, "2001:db8::200", "2001:db8::100", "neighbor advertisement", target_ip="2001:db8::200")
    assert "neighbor advertisement, tgt is 2001:db8::200" in format_packet(na)
