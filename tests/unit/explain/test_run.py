"""Observations from recorded data: the packets, ping and route of real runs (as the parsers give them)."""

from __future__ import annotations

import jc
import pytest

from vethctl.explain.run import explain_run, route_sentence, solicited_node
from vethctl.output.text import format_packet, format_route
from vethctl.parsers import tcpdump as tcpdump_parser
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
    assert notes[1] == (
        "The pod sent 1 Neighbor Solicitation for 2001:db8::200 (from 2001:db8::100) to its solicited-node"
        " multicast address ff02::1:ff00:200; the host end vh-1 advertised its MAC: Neighbor Advertisement"
        f" 2001:db8::200 is-at {HOST_MAC}, and the echo request/reply followed."
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


# -- More of the walkthrough's cases, from tcpdump's own lines (tcpdump -nn -tt -e on the host end vh-1) ------


def tcpdump(text: str) -> list[dict]:
    """Packet records exactly as the run reads its capture."""
    return jc.parse(tcpdump_parser, text.strip("\n"), quiet=True)


def walk(packets, ping_text=None, ping_addr="192.0.2.200", route=TO_HOST, counters=None, ends=None):
    pod_end, host_end = ends or (POD_END, HOST_END)
    return explain_run(
        ping_addr=ping_addr,
        pod_end=pod_end,
        host_end=host_end,
        route=route,
        ping=parse_ping(ping_text)[0] if ping_text else None,
        packets=packets,
        counters=counters or {},
        filter_expr="arp or icmp",
    )


# `ip -j route show` entries for routes `ip route get` refuses (IPv6's unreachable routes carry `dev lo`)
UNREACHABLE6 = {"type": "unreachable", "dst": "2001:db8:5::/48", "dev": "lo", "metric": 1024, "flags": []}
BLACKHOLE = {"type": "blackhole", "dst": "203.0.113.0/24", "flags": []}


def test_route_sentences_for_every_kind_of_answer():
    assert route_sentence("198.51.100.7", None) == (
        "198.51.100.7 has no route in the pod: packets to it are not sent at all"
    )
    assert route_sentence("2001:db8:5::1", UNREACHABLE6) == (
        "2001:db8:5::1 is unreachable by the pod's routing table (unreachable)"
    )
    assert route_sentence("203.0.113.5", BLACKHOLE) == (
        "203.0.113.5 is unreachable by the pod's routing table (blackhole)"
    )
    assert route_sentence("203.0.113.5", {"dst": "203.0.113.5", "flags": []}) == (
        "203.0.113.5 is unreachable by the pod's routing table (no device)"
    )
    # recorded: `ip -j route get` in a namespace with 192.0.2.100/24 on vpx and a default via 192.0.2.1
    on_link = {
        "dst": "192.0.2.101",
        "dev": "vpx",
        "prefsrc": "192.0.2.100",
        "flags": [],
        "uid": 0,
        "cache": [],
    }
    assert (
        route_sentence("192.0.2.101", on_link)
        == "192.0.2.101 leaves by vpx directly (on-link), from 192.0.2.100"
    )
    no_src = {"dst": "198.18.0.5", "gateway": "192.0.2.1", "dev": "vpx", "flags": []}
    assert route_sentence("198.18.0.5", no_src) == "198.18.0.5 leaves by vpx via 192.0.2.1"


def test_a_route_that_is_not_the_veth_sends_the_user_to_trace():
    route = {
        "dst": "198.51.100.7",
        "gateway": "198.18.0.1",
        "dev": "eth0",
        "prefsrc": "198.18.0.2",
        "flags": [],
    }
    notes = walk([], route=route, ping_addr="198.51.100.7")
    assert notes == [
        "198.51.100.7 leaves by eth0 via 198.18.0.1, from 198.18.0.2, not by the veth vp-1: the capture on vh-1"
        " cannot see these pings; use `vethctl trace` to follow them."
    ]  # and no "No packet matching ... crossed": the capture was never on the pings' way


def test_no_route_at_all_says_nothing_about_the_route():
    """run reads no route when it has none to read: then only the packets speak."""
    notes = walk([], route=None)
    assert notes == []


def test_an_empty_capture_on_the_veth_is_said_with_its_filter():
    notes = walk([])
    assert notes[1:] == ["No packet matching 'arp or icmp' crossed vh-1."]


ANSWERED = """
1795686818.849990 92:fe:c7:88:62:4e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.101 tell 192.0.2.100, length 28
1795686818.850013 0a:58:c0:00:02:65 > 92:fe:c7:88:62:4e, ethertype ARP (0x0806), length 42: Reply 192.0.2.101 is-at 0a:58:c0:00:02:65, length 28
1795686818.850020 92:fe:c7:88:62:4e > 0a:58:c0:00:02:65, ethertype IPv4 (0x0800), length 98: 192.0.2.100 > 192.0.2.101: ICMP echo request, id 31495, seq 1, length 64
1795686818.850061 0a:58:c0:00:02:65 > 92:fe:c7:88:62:4e, ethertype IPv4 (0x0800), length 98: 192.0.2.101 > 192.0.2.100: ICMP echo reply, id 31495, seq 1, length 64
"""
ONE_PING = """PING 192.0.2.101 (192.0.2.101) 56(84) bytes of data.
[1795686818.850813] 64 bytes from 192.0.2.101: icmp_seq=1 ttl=64 time=0.082 ms

--- 192.0.2.101 ping statistics ---
1 packets transmitted, 1 received, 0% packet loss, time 0ms
rtt min/avg/max/mdev = 0.082/0.082/0.082/0.000 ms
"""


def test_another_address_on_the_link_answers_arp_and_echo_one_each():
    """Not the host end: no "(the host end ...)"; one of each is singular."""
    notes = walk(tcpdump(ANSWERED), ping_text=ONE_PING, ping_addr="192.0.2.101", route=ROUTE)
    assert notes[1:] == [
        "192.0.2.101 answered ARP: 192.0.2.101 is-at 0a:58:c0:00:02:65.",
        "1 ICMP echo request from 192.0.2.100 crossed vh-1, and 1 echo reply came back.",
        "ping: 1 sent, 1 received, 0.0% loss.",
    ]


def test_arp_and_echo_of_other_addresses_are_not_taken_for_ours():
    """Near misses: the pod's ARP for its gateway, the gateway asking for the pod, and an echo exchange with
    another address cross vh-1 too; none of them is this ping's."""
    other = """
1795686818.849990 92:fe:c7:88:62:4e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.1 tell 192.0.2.100, length 28
1795686818.850013 be:f4:7f:44:c0:13 > 92:fe:c7:88:62:4e, ethertype ARP (0x0806), length 42: Reply 192.0.2.1 is-at be:f4:7f:44:c0:13, length 28
1795686818.850020 92:fe:c7:88:62:4e > be:f4:7f:44:c0:13, ethertype IPv4 (0x0800), length 98: 192.0.2.100 > 192.0.2.7: ICMP echo request, id 31495, seq 1, length 64
1795686818.850061 be:f4:7f:44:c0:13 > 92:fe:c7:88:62:4e, ethertype IPv4 (0x0800), length 98: 192.0.2.7 > 192.0.2.100: ICMP echo reply, id 31495, seq 1, length 64
1795686819.850013 be:f4:7f:44:c0:13 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.100 tell 192.0.2.200, length 28
"""
    notes = walk(tcpdump(other), ping_addr="192.0.2.101", route=ROUTE)
    assert notes[1:] == ["5 other packets matched the filter on vh-1 (not part of these pings)."]


def test_an_echo_reply_from_another_address_is_not_a_reply():
    """The request went out; what came back came from another address (a proxy answering): not our reply,
    and nothing here says the ARP went unanswered (there was no ARP: the neighbour was cached)."""
    text = """
1795686818.850020 92:fe:c7:88:62:4e > 0a:58:c0:00:02:65, ethertype IPv4 (0x0800), length 98: 192.0.2.100 > 192.0.2.101: ICMP echo request, id 31495, seq 1, length 64
1795686818.850061 0a:58:c0:00:02:65 > 92:fe:c7:88:62:4e, ethertype IPv4 (0x0800), length 98: 192.0.2.102 > 192.0.2.100: ICMP echo reply, id 31495, seq 1, length 64
"""
    notes = walk(tcpdump(text), ping_addr="192.0.2.101", route=ROUTE)
    assert notes[1:] == [
        "1 ICMP echo request from 192.0.2.100 crossed vh-1, and 0 echo replies came back.",
        "1 other packet matched the filter on vh-1 (not part of these pings).",
    ]


def test_an_unanswered_arp_while_echoes_still_went_out():
    """Twice asked and not answered, but echo requests crossed (the neighbour entry was still STALE): the
    no-MAC sentence would be false, and ping's own error sentence needs errors."""
    text = """
1795686818.849990 92:fe:c7:88:62:4e > 0a:58:c0:00:02:65, ethertype IPv4 (0x0800), length 98: 192.0.2.100 > 192.0.2.101: ICMP echo request, id 31495, seq 1, length 64
1795686823.849990 92:fe:c7:88:62:4e > 0a:58:c0:00:02:65, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.101 tell 192.0.2.100, length 28
1795686824.849990 92:fe:c7:88:62:4e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.101 tell 192.0.2.100, length 28
"""
    lost = """PING 192.0.2.101 (192.0.2.101) 56(84) bytes of data.

--- 192.0.2.101 ping statistics ---
1 packets transmitted, 0 received, 100% packet loss, time 0ms
"""
    notes = walk(tcpdump(text), ping_text=lost, ping_addr="192.0.2.101", route=ROUTE)
    assert notes[1:] == [
        "The pod asked twice who has 192.0.2.101 (ARP request, tell 192.0.2.100) and nobody answered: no"
        " interface on this link holds 192.0.2.101.",
        "1 ICMP echo request from 192.0.2.100 crossed vh-1, and 0 echo replies came back.",
        "ping: 1 sent, 0 received, 100.0% loss.",
    ]


def test_one_error_of_one_kind_and_the_unreachable_neighbour():
    text = """PING 192.0.2.101 (192.0.2.101) 56(84) bytes of data.
[1795681483.873459] From 192.0.2.100 icmp_seq=1 Destination Host Unreachable

--- 192.0.2.101 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
"""
    asked = tcpdump(
        "1795681480.849990 92:fe:c7:88:62:4e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request"
        " who-has 192.0.2.101 tell 192.0.2.100, length 28"
    )
    notes = walk(asked, ping_text=text, ping_addr="192.0.2.101", route=ROUTE)
    assert notes[1:] == [
        "The pod asked once who has 192.0.2.101 (ARP request, tell 192.0.2.100) and nobody answered: no"
        " interface on this link holds 192.0.2.101.",
        "Without an ARP reply the pod has no MAC to send to, so no ICMP echo request for 192.0.2.101 ever left"
        " vp-1.",
        "ping: 1 sent, 0 received, 1 error (destination host unreachable), 100.0% loss.",
        "That is the unreachable-neighbour case: the kernel gave up after its ARP tries and answered ping itself"
        " with Destination Host Unreachable.",
    ]


def test_errors_without_an_unanswered_arp_are_not_the_unreachable_neighbour():
    """A router's "Destination Net Unreachable" (ARP answered, or no ARP at all): ping's errors are listed by
    kind, timeouts left out, but it is not the neighbour that is missing."""
    text = """PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.
[1795681483.873459] From 192.0.2.1 icmp_seq=1 Destination Net Unreachable
[1795681484.873459] no answer yet for icmp_seq=2
[1795681485.873459] From 192.0.2.1 icmp_seq=3 Destination Net Unreachable

--- 198.51.100.7 ping statistics ---
3 packets transmitted, 0 received, +2 errors, 100% packet loss, time 2002ms
"""
    route = {"dst": "198.51.100.7", "gateway": "192.0.2.200", "dev": "vp-1", "prefsrc": "192.0.2.100"}
    notes = walk([], ping_text=text, ping_addr="198.51.100.7", route=route)
    assert notes[1:] == [
        "ping: 3 sent, 0 received, 2 errors (destination net unreachable), 100.0% loss.",
        "No packet matching 'arp or icmp' crossed vh-1.",
    ]


def test_a_rejecting_firewall_after_an_answered_arp_is_not_the_unreachable_neighbour():
    """The host end answered ARP, then its firewall rejected the echo (iptables -j REJECT --reject-with
    icmp-host-unreachable): ping shows errors and nothing came back, yet the neighbour is there."""
    text = """
1795686818.849990 92:fe:c7:88:62:4e > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.0.2.200 tell 192.0.2.100, length 28
1795686818.850013 be:f4:7f:44:c0:13 > 92:fe:c7:88:62:4e, ethertype ARP (0x0806), length 42: Reply 192.0.2.200 is-at be:f4:7f:44:c0:13, length 28
1795686818.850020 92:fe:c7:88:62:4e > be:f4:7f:44:c0:13, ethertype IPv4 (0x0800), length 98: 192.0.2.100 > 192.0.2.200: ICMP echo request, id 31495, seq 1, length 64
1795686818.850061 be:f4:7f:44:c0:13 > 92:fe:c7:88:62:4e, ethertype IPv4 (0x0800), length 126: 192.0.2.200 > 192.0.2.100: ICMP host 192.0.2.200 unreachable, length 92
"""
    rejected = """PING 192.0.2.200 (192.0.2.200) 56(84) bytes of data.
[1795686818.850100] From 192.0.2.200 icmp_seq=1 Destination Host Unreachable

--- 192.0.2.200 ping statistics ---
1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms
"""
    notes = walk(tcpdump(text), ping_text=rejected)
    assert notes[1:] == [
        "192.0.2.200 answered ARP: 192.0.2.200 is-at be:f4:7f:44:c0:13 (the host end vh-1).",
        "1 ICMP echo request from 192.0.2.100 crossed vh-1, and 0 echo replies came back.",
        "ping: 1 sent, 0 received, 1 error (destination host unreachable), 100.0% loss.",
        "1 other packet matched the filter on vh-1 (not part of these pings).",
    ]


def test_the_kernels_drops_are_said():
    notes = walk(tcpdump(ANSWERED), ping_addr="192.0.2.101", route=ROUTE, counters={"dropped_by_kernel": 1})
    assert notes[-1] == "The kernel dropped 1 packet(s) before tcpdump read them: the capture is incomplete."
    assert not any("dropped" in n for n in walk(tcpdump(ANSWERED), ping_addr="192.0.2.101", route=ROUTE))


# IPv6 on the same ends: vp-1 2001:db8::100 (72:e1:74:e7:ee:eb), vh-1 2001:db8::200 (ba:86:ab:2c:ca:30)
ENDS6 = (POD_END6, HOST_END6)


def test_a_neighbour_confirmed_by_a_unicast_solicitation_answered_without_the_echo_reply():
    """A solicitation to the address itself (the kernel confirming a STALE entry), a near-miss solicitation
    for the gateway, and the answer without the target link-address option (no -v): its MAC is the frame's.
    The echo went out and no reply came: nothing "followed"."""
    text = """
1796046889.629245 72:e1:74:e7:ee:eb > 33:33:ff:00:00:01, ethertype IPv6 (0x86dd), length 86: 2001:db8::100 > ff02::1:ff00:1: ICMP6, neighbor solicitation, who has 2001:db8::1, length 32
1796046889.629300 72:e1:74:e7:ee:eb > 0a:58:0a:f4:00:01, ethertype IPv6 (0x86dd), length 86: 2001:db8::100 > 2001:db8::101: ICMP6, neighbor solicitation, who has 2001:db8::101, length 32
1796046889.629350 0a:58:0a:f4:00:01 > 72:e1:74:e7:ee:eb, ethertype IPv6 (0x86dd), length 78: 2001:db8::101 > 2001:db8::100: ICMP6, neighbor advertisement, tgt is 2001:db8::101, length 24
1796046889.629400 72:e1:74:e7:ee:eb > 0a:58:0a:f4:00:01, ethertype IPv6 (0x86dd), length 118: 2001:db8::100 > 2001:db8::101: ICMP6, echo request, id 7, seq 1, length 64
"""
    notes = walk(tcpdump(text), ping_addr="2001:db8::101", route=route6("2001:db8::101"), ends=ENDS6)
    assert notes[1:] == [
        "The pod sent 1 Neighbor Solicitation for 2001:db8::101 (from 2001:db8::100) to 2001:db8::101;"
        " 2001:db8::101 advertised its MAC: Neighbor Advertisement 2001:db8::101 is-at 0a:58:0a:f4:00:01.",
        "1 ICMPv6 echo request from 2001:db8::100 crossed vh-1, and 0 echo replies came back.",
        "1 other packet matched the filter on vh-1 (not part of these pings: 1 neighbor solicitation).",
    ]


def test_an_advertisement_seen_without_its_solicitation_names_the_address():
    """The capture started after the solicitation (or the advertisement was unsolicited): no "The pod sent",
    the advertiser is named by its address (with -v, the MAC is the target link-address option's)."""
    text = (
        """
1796050376.994392 e6:6f:a1:b9:37:c4 > 72:e1:74:e7:ee:eb, ethertype IPv6 (0x86dd), length 86: (hlim 255, next-header ICMPv6 (58) payload length: 32) 2001:db8::101 > 2001:db8::100: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is 2001:db8::101, Flags [router, solicited, override]
"""
        "\t  destination link-address option (2), length 8 (1): e6:6f:a1:b9:37:c4\n"
    )

    notes = walk(tcpdump(text), ping_addr="2001:db8::101", route=route6("2001:db8::101"), ends=ENDS6)
    assert notes[1:] == [
        "2001:db8::101 advertised its MAC: Neighbor Advertisement 2001:db8::101 is-at e6:6f:a1:b9:37:c4."
    ]


def test_ipv6_packets_not_of_these_pings_are_counted_by_kind():
    """With a wider --filter: mDNS (no ICMPv6 type: counted by its ethertype), a line tcpdump's parser could
    not read (unknown), an echo to another address."""
    text = """
1796046889.629245 72:e1:74:e7:ee:eb > 33:33:00:00:00:fb, ethertype IPv6 (0x86dd), length 70: 2001:db8::100.5353 > ff02::fb.5353: UDP, length 8
1796046889.629300 72:e1:74:e7:ee:eb > 33:33:00:00:00:fb, ethertype IPv6 (0x86dd), length 70: 2001:db8::100.5353 > ff02::fb.5353: UDP, length 8
1796046889.629350 vh-1 a line tcpdump's parser cannot read
1796046889.629400 72:e1:74:e7:ee:eb > 0a:58:0a:f4:00:01, ethertype IPv6 (0x86dd), length 118: 2001:db8::100 > 2001:db8::7: ICMP6, echo request, id 7, seq 1, length 64
"""
    notes = walk(tcpdump(text), ping_addr="2001:db8::200", route=route6("2001:db8::200"), ends=ENDS6)
    assert notes[1:] == [
        "4 other packets matched the filter on vh-1 (not part of these pings: 2 ipv6, 1 unknown, 1 echo"
        " request)."
    ]


def test_the_solicited_node_group_is_the_addresses_last_24_bits():
    assert solicited_node("2001:db8::1:2:abcd:ef01") == "ff02::1:ffcd:ef01"
    assert solicited_node("fe80::889f:17ff:fe21:3e47") == "ff02::1:ff21:3e47"


def test_ping_errors_of_several_kinds_beside_a_reply():
    text = """PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.
[1795681483.873459] 64 bytes from 198.51.100.7: icmp_seq=1 ttl=64 time=0.082 ms
[1795681484.873459] From 192.0.2.1 icmp_seq=2 Time to live exceeded
[1795681485.873459] From 192.0.2.1 icmp_seq=3 Destination Host Unreachable
[1795681486.873459] From 192.0.2.1 icmp_seq=4 Packet filtered

--- 198.51.100.7 ping statistics ---
4 packets transmitted, 1 received, +3 errors, 75% packet loss, time 3003ms
rtt min/avg/max/mdev = 0.082/0.082/0.082/0.000 ms
"""
    route = {"dst": "198.51.100.7", "gateway": "192.0.2.200", "dev": "vp-1", "prefsrc": "192.0.2.100"}
    notes = walk([], ping_text=text, ping_addr="198.51.100.7", route=route)
    assert notes[1] == (
        "ping: 4 sent, 1 received, 3 errors (destination host unreachable, packet filtered, time to live"
        " exceeded), 75.0% loss."
    )


def test_the_unreachable_neighbour_in_neighbor_discoverys_words():
    packets = [solicitation(t, "2001:db8::101") for t in (1.0, 2.0, 3.0)]
    notes = walk(
        packets,
        ping_text=UNREACHABLE_PING6,
        ping_addr="2001:db8::101",
        route=route6("2001:db8::101"),
        ends=ENDS6,
    )
    assert notes[-1] == (
        "That is the unreachable-neighbour case in Neighbor Discovery's terms: the kernel gave up after its"
        ' solicitations and answered ping itself with "Address unreachable".'
    )


def test_the_host_end_advertising_without_a_solicitation_in_the_capture():
    na = icmp6(
        1.1,
        "2001:db8::200",
        "2001:db8::100",
        "neighbor advertisement",
        HOST_MAC,
        POD_MAC,
        target_ip="2001:db8::200",
    )
    notes = walk([na], ping_addr="2001:db8::200", route=route6("2001:db8::200"), ends=ENDS6)
    assert notes[1:] == [
        f"The host end vh-1 advertised its MAC: Neighbor Advertisement 2001:db8::200 is-at {HOST_MAC}."
    ]
