"""Observations from recorded data: the packets, ping and route of real runs (as the parsers give them)."""

from __future__ import annotations

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
