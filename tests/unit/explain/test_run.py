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


REACHABLE_PING = """PING 192.0.2.200 (192.0.2.200) 56(84) bytes of data.
[1795686818.850813] 64 bytes from 192.0.2.200: icmp_seq=1 ttl=64 time=0.082 ms
[1795686819.873487] 64 bytes from 192.0.2.200: icmp_seq=2 ttl=64 time=0.053 ms
[1795686820.897486] 64 bytes from 192.0.2.200: icmp_seq=3 ttl=64 time=0.064 ms

--- 192.0.2.200 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2047ms
rtt min/avg/max/mdev = 0.053/0.066/0.082/0.011 ms
"""
POD_MAC, HOST_MAC = "92:fe:c7:88:62:4e", "be:f4:7f:44:c0:13"
TO_HOST = {"dst": "192.0.2.200", "dev": "vp-1", "prefsrc": "192.0.2.100", "flags": []}


def arp(op, ts, sender_ip, target_ip, sender_mac=POD_MAC, dst_mac="ff:ff:ff:ff:ff:ff"):
    return {
        "timestamp": ts,
        "src_mac": sender_mac,
        "dst_mac": dst_mac,
        "ethertype": "arp",
        "length": 42,
        "arp_op": op,
        "sender_ip": sender_ip,
        "target_ip": target_ip,
        **({"sender_mac": sender_mac} if op == "reply" else {}),
    }


def echo(kind, seq, src, dst):
    return {
        "timestamp": 10.0 + seq,
        "ethertype": "ipv4",
        "protocol": "icmp",
        "src_ip": src,
        "dst_ip": dst,
        "icmp_type": f"echo {kind}",
        "icmp_id": 31495,
        "icmp_seq": seq,
    }


def exchange(seqs, replies=True):
    out = []
    for seq in seqs:
        out.append(echo("request", seq, "192.0.2.100", "192.0.2.200"))
        if replies:
            out.append(echo("reply", seq, "192.0.2.200", "192.0.2.100"))
    return out


def explain(packets, ping_text=REACHABLE_PING, ping_addr="192.0.2.200", route=TO_HOST):
    ping, _ = parse_ping(ping_text)
    return explain_run(
        ping_addr=ping_addr,
        pod_end=POD_END,
        host_end=HOST_END,
        route=route,
        ping=ping,
        packets=packets,
        counters={},
        filter_expr="arp or icmp",
    )


def test_the_host_end_answers_arp_then_echo():
    """The reachable case: ARP answered, 3 echo requests and 3 replies. Nothing says nobody answered."""
    packets = [
        arp("request", 1.0, "192.0.2.100", "192.0.2.200"),
        arp("reply", 1.1, "192.0.2.200", "192.0.2.100", sender_mac=HOST_MAC, dst_mac=POD_MAC),
        *exchange([1, 2, 3]),
    ]
    assert explain(packets) == [
        "192.0.2.200 leaves by vp-1 directly (on-link), from 192.0.2.100: the new veth, so every packet for it"
        " crosses vh-1 where the capture listens.",
        f"192.0.2.200 answered ARP: 192.0.2.200 is-at {HOST_MAC} (the host end vh-1).",
        "3 ICMP echo requests from 192.0.2.100 crossed vh-1, and 3 echo replies came back.",
        "ping: 3 sent, 3 received, 0.0% loss.",
    ]


def test_an_answered_arp_after_several_asks_is_still_answered():
    """Two who-has before the reply (the kernel retried): answered, never "nobody answered"."""
    packets = [
        arp("request", 1.0, "192.0.2.100", "192.0.2.200"),
        arp("request", 2.0, "192.0.2.100", "192.0.2.200"),
        arp("reply", 2.1, "192.0.2.200", "192.0.2.100", sender_mac=HOST_MAC, dst_mac=POD_MAC),
        *exchange([1, 2, 3]),
    ]
    notes = explain(packets)
    assert not any("nobody answered" in n or "no MAC" in n for n in notes)
    assert f"192.0.2.200 answered ARP: 192.0.2.200 is-at {HOST_MAC} (the host end vh-1)." in notes


def test_echo_without_arp_when_the_neighbour_was_already_known():
    """No ARP at all in the capture (the MAC was cached): only the echo sentence and ping's."""
    notes = explain(exchange([1, 2, 3]))
    assert notes[1:] == [
        "3 ICMP echo requests from 192.0.2.100 crossed vh-1, and 3 echo replies came back.",
        "ping: 3 sent, 3 received, 0.0% loss.",
    ]


def test_echo_requests_that_get_no_reply_are_counted_singular_and_plural():
    lost = REACHABLE_PING.replace("3 received, 0%", "0 received, 100%")
    lost = "\n".join(line for line in lost.splitlines() if "bytes from" not in line and "rtt" not in line)
    notes = explain(exchange([1], replies=False), ping_text=lost)
    assert "1 ICMP echo request from 192.0.2.100 crossed vh-1, and 0 echo replies came back." in notes
    assert "ping: 3 sent, 0 received, 100.0% loss." in notes
    assert not any("answered ARP" in n or "nobody answered" in n for n in notes)


def test_other_packets_and_an_answer_for_another_address_are_told_apart():
    """A reply from someone else (not the pinged address) does not answer our who-has."""
    packets = [
        arp("request", 1.0, "192.0.2.100", "192.0.2.101"),
        arp("reply", 1.1, "192.0.2.7", "192.0.2.100", sender_mac=HOST_MAC, dst_mac=POD_MAC),
    ]
    notes = explain(packets, ping_text=UNREACHABLE_PING, ping_addr="192.0.2.101", route=ROUTE)
    assert any("asked once who has 192.0.2.101" in n and "nobody answered" in n for n in notes)
    assert "1 other packet matched the filter on vh-1 (not part of these pings)." in notes


def test_a_ping_that_got_no_reply_at_all_is_read_as_linux_ping():
    """No reply and no error: ping's output ends with its statistics line (no rtt line after it)."""
    text = "PING 192.0.2.7 (192.0.2.7) 56(84) bytes of data.\n\n--- 192.0.2.7 ping statistics ---\n"
    text += "3 packets transmitted, 0 received, 100% packet loss, time 2047ms\n"
    ping, lines = parse_ping(text)
    assert (ping["packets_transmitted"], ping["packets_received"], ping["packet_loss_percent"]) == (
        3,
        0,
        100.0,
    )
    assert ping["data_bytes"] == 56 and ping["time_ms"] == 2047.0 and ping["responses"] == []
    assert lines[-1].startswith("3 packets transmitted")
