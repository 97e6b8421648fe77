"""Outcomes read from the packets: every outcome of the contract from records in the parsers' schema."""

from __future__ import annotations

import jc
import pytest

import vethctl.parsers.tcpdump as tcpdump_parser
from vethctl.explain.probe import explain
from vethctl.probespec import parse_probe

POD, SRV = "198.18.0.2", "198.18.0.3"


def tcp(src, sport, dst, dport, flags, ts, seq=1, ack=None):
    return {
        "timestamp": ts,
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "protocol": "tcp",
        "tcp_flags": flags,
        "tcp_seq": seq,
        **({"tcp_ack": ack} if ack else {}),
    }


def udp(src, sport, dst, dport, ts):
    return {
        "timestamp": ts,
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "protocol": "udp",
    }


def unreach(code, proto, dport, ts=2.0):
    return {
        "timestamp": ts,
        "src_ip": SRV,
        "dst_ip": POD,
        "protocol": "icmp",
        "icmp_type": "destination unreachable",
        "icmp_code": code,
        "inner": {"dst_ip": SRV, "protocol": proto, "dst_port": dport},
    }


def run(spec, packets, next_hop=SRV):
    return explain(parse_probe(spec), packets, next_hop=next_hop, argv=("nc",), attempts=1)


def test_tcp_handshake_is_answered():
    out, notes = run(
        f"tcp:{SRV}:8080",
        [
            tcp(POD, 40000, SRV, 8080, "S", 1.0),
            tcp(SRV, 8080, POD, 40000, "S.", 1.001),
            tcp(POD, 40000, SRV, 8080, ".", 1.002),
        ],
    )
    assert (out.outcome, out.sent, out.received) == ("answered", 1, 1) and "listens on port 8080" in notes[-1]


def test_tcp_rst_is_refused():
    out, notes = run(
        f"tcp:{SRV}:8090", [tcp(POD, 40000, SRV, 8090, "S", 1.0), tcp(SRV, 8090, POD, 40000, "R.", 1.001)]
    )
    assert out.outcome == "refused" and "nothing listens on port 8090" in out.detail


def test_tcp_admin_prohibited_is_unreachable_and_names_a_reject_rule():
    out, notes = run(
        f"tcp:{SRV}:8082",
        [tcp(POD, 40000, SRV, 8082, "S", 1.0), unreach("communication prohibited", "tcp", 8082)],
    )
    assert out.outcome == "unreachable" and "prohibited" in out.detail and "REJECT rule" in notes[-1]


def test_unanswered_syns_are_no_reply_with_their_retransmissions():
    syns = [tcp(POD, 40000, SRV, 8081, "S", t) for t in (1.0, 2.0, 4.0)]
    out, notes = run(f"tcp:{SRV}:8081", syns)
    assert out.outcome == "no-reply" and out.sent == 3 and "2 retransmission(s)" in out.detail
    assert "retransmitted after 1.0 s, 2.0 s" in notes[-1]


def test_an_icmp_error_about_another_flow_is_not_this_probes_answer():
    out, _ = run(
        f"tcp:{SRV}:8081", [tcp(POD, 40000, SRV, 8081, "S", 1.0), unreach("port unreachable", "udp", 53)]
    )
    assert out.outcome == "no-reply"


def test_udp_answered_unreachable_and_silent():
    assert (
        run(f"udp:{SRV}:9000", [udp(POD, 5000, SRV, 9000, 1.0), udp(SRV, 9000, POD, 5000, 1.1)])[0].outcome
        == "answered"
    )
    out, notes = run(
        f"udp:{SRV}:9002", [udp(POD, 5000, SRV, 9002, 1.0), unreach("port unreachable", "udp", 9002)]
    )
    assert out.outcome == "unreachable" and "nothing listens on UDP port 9002" in notes[-1]
    out, notes = run(f"udp:{SRV}:9001", [udp(POD, 5000, SRV, 9001, 1.0)])
    assert out.outcome == "no-reply" and "Two readings" in notes[-1]


def dns(src, dst, ident, response, ts, **kw):
    sport, dport = (53, 40000) if response else (40000, 53)
    return {
        "timestamp": ts,
        "src_ip": src,
        "dst_ip": dst,
        "src_port": sport,
        "dst_port": dport,
        "protocol": "udp",
        "dns_id": ident,
        "dns_response": response,
        **kw,
    }


def test_dns_outcomes_from_the_rcode():
    q = dns(POD, SRV, 7, False, 1.0, dns_qtype="A", dns_qname="web.lab.example.")
    ok = dns(SRV, POD, 7, True, 1.004, dns_rcode="NoError", dns_answers=[{"type": "A", "data": SRV}])
    out, _ = run(f"dns:web.lab.example@{SRV}", [q, ok])
    assert (out.outcome, out.answers, out.server) == (
        "answered",
        (f"A {SRV}",),
        SRV,
    ) and "4.0 ms" in out.detail
    for rcode, outcome in (("NXDomain", "nxdomain"), ("ServFail", "servfail"), ("Refused", "refused")):
        out, _ = run(f"dns:x.lab.example@{SRV}", [q, dns(SRV, POD, 7, True, 1.01, dns_rcode=rcode)])
        assert out.outcome == outcome
    out, notes = run(f"dns:x.lab.example@{SRV}", [q, dns(POD, SRV, 8, False, 3.0)])
    assert out.outcome == "no-reply" and out.sent == 2 and "tries" in notes[-1]


def test_an_unanswered_neighbour_is_unreachable_before_anything_leaves():
    who_has = {"arp_op": "request", "sender_ip": POD, "target_ip": "198.18.0.99", "timestamp": 1.0}
    out, notes = run("tcp:198.18.0.99:80", [who_has, dict(who_has, timestamp=2.0)], next_hop="198.18.0.99")
    assert (
        out.outcome == "unreachable"
        and "nobody answered for 198.18.0.99" in out.detail
        and "2 time(s)" in notes[-1]
    )


def test_icmp_echo():
    req = {"icmp_type": "echo request", "src_ip": POD, "dst_ip": SRV, "protocol": "icmp", "icmp_seq": 1}
    rep = {"icmp_type": "echo reply", "src_ip": SRV, "dst_ip": POD, "protocol": "icmp", "icmp_seq": 1}
    assert run(f"icmp:{SRV}", [req, rep])[0].outcome == "answered"
    assert run(f"icmp:{SRV}", [req])[0].outcome == "no-reply"


@pytest.mark.parametrize("key", ["target_ip", "nd_target"])
def test_unanswered_neighbor_solicitations_are_unreachable_in_nd_words(key):
    pod6, gone = "2001:db8:18::2", "2001:db8:18::99"
    ns = {
        "timestamp": 1.0,
        "src_ip": pod6,
        "dst_ip": "ff02::1:ff00:99",
        "protocol": "icmp6",
        "icmp_type": "neighbor solicitation",
        key: gone,
    }
    out, notes = run(f"tcp:[{gone}]:80", [ns, {**ns, "timestamp": 2.0}], next_hop=gone)
    assert out.outcome == "unreachable" and out.sent == 0
    assert out.detail == f"neighbour resolution failed: nobody answered for {gone}"
    assert (
        f"The pod sent 2 Neighbor Solicitation(s) for {gone} to its solicited-node multicast address"
        " ff02::1:ff00:99 and no Neighbor Advertisement came" in notes[1]
    )


def test_an_ipv6_udp_answer_names_address_and_port_in_brackets():
    pod6, srv6 = "2001:db8:18::2", "2001:db8:18::3"
    out, notes = run(
        f"udp:[{srv6}]:9000", [udp(pod6, 40000, srv6, 9000, 1.0), udp(srv6, 9000, pod6, 40000, 1.1)]
    )
    assert out.outcome == "answered" and f"[{srv6}]:9000 sent a datagram back" in notes[1]


# --- From tcpdump text: recorded lab lines (tests/fixtures/linux/tcpdump-probe-*.out, tcpdump-unreachable.out) and
# lines written in the same form for what a run with several probes captures too (the same server on another
# port, another server on the same port, the other probes' ICMP errors), parsed by the parser the probe uses.

POD4, SRV4, GW4 = "192.0.2.1", "198.51.100.1", "192.0.2.254"
POD6, SRV6, GW6 = "2001:db8:1::1", "2001:db8:2::1", "2001:db8:1::254"
OUT, BACK = "06:a2:b0:6d:12:09 > ee:06:ca:3e:77:3a", "ee:06:ca:3e:77:3a > 06:a2:b0:6d:12:09"
V4, V6, ARP = "ethertype IPv4 (0x0800)", "ethertype IPv6 (0x86dd)", "ethertype ARP (0x0806)"


def captured(*lines: str) -> list[dict]:
    return jc.parse(tcpdump_parser, "\n".join(lines) + "\n", quiet=True)


def probe(spec, lines, next_hop=GW4, argv=("nc", "-z")):
    out, notes = explain(parse_probe(spec), captured(*lines), next_hop=next_hop, argv=argv, attempts=1)
    return out, notes


def syn(ts, sport, dst, dport, src=POD4):
    return (
        f"{ts} {OUT}, {V4}, length 74: {src}.{sport} > {dst}.{dport}: Flags [S], seq 3301641721, win 64240,"
        " options [mss 1460,sackOK,TS val 1408096351 ecr 0,nop,wscale 10], length 0"
    )


def tcp_back(ts, src, sport, dport, flags, dst=POD4):
    return (
        f"{ts} {BACK}, {V4}, length 54: {src}.{sport} > {dst}.{dport}: Flags [{flags}], seq 0, ack 1249880803,"
        " win 0, length 0"
    )


def datagram(ts, src, sport, dst, dport, way=OUT):
    return f"{ts} {way}, {V4}, length 48: {src}.{sport} > {dst}.{dport}: UDP, length 6"


def icmp_error(ts, text, src=SRV4):
    return f"{ts} {BACK}, {V4}, length 76: {src} > {POD4}: ICMP {text}, length 42"


# A run with probes to 198.51.100.1 on 7001 (answered), 7090 (refused) and to 198.51.100.2:7081 (answered): the
# packets each probe of the same run must leave alone.
OTHER_TCP = [
    syn("1796047089.333887", 40754, SRV4, 7001),
    tcp_back("1796047089.333921", SRV4, 7001, 40754, "S."),
    syn("1796047089.339178", 47680, SRV4, 7090),
    tcp_back("1796047089.339196", SRV4, 7090, 47680, "R."),
    syn("1796047089.339300", 47700, "198.51.100.2", 7081),
    tcp_back("1796047089.339400", "198.51.100.2", 7081, 47700, "S."),
    tcp_back("1796047089.339500", "198.51.100.2", 7081, 47700, "R."),
    # the pod's listener accepting a connection the server opened from port 7081: a SYN-ACK, not a SYN
    f"1796047089.339550 {OUT}, {V4}, length 74: {POD4}.8080 > {SRV4}.7081: Flags [S.], seq 1, ack 2, win 64240,"
    " length 0",
    datagram("1796047089.339600", POD4, 5000, SRV4, 7081),
    datagram("1796047089.339700", SRV4, 7081, POD4, 5000, way=BACK),
]


def test_tcp_no_reply_is_not_confused_by_the_other_probes_of_the_run():
    out, notes = probe(
        f"tcp:{SRV4}:7081",
        [
            *OTHER_TCP,
            syn("1796047089.431380", 33954, SRV4, 7081),
            syn("1796047090.459667", 33954, SRV4, 7081),
        ],
    )
    assert out.to_json() == {
        "kind": "tcp",
        "address": SRV4,
        "port": 7081,
        "name": None,
        "server": None,
        "outcome": "no-reply",
        "detail": "2 SYN(s) in 1 connection attempt(s), 1 retransmission(s), no answer",
        "answers": [],
        "sent": 2,
        "received": 0,
        "argv": ["nc", "-z"],
    }
    assert notes == [
        f"probe tcp:{SRV4}:7081: no-reply (2 SYN(s) in 1 connection attempt(s), 1 retransmission(s), no answer).",
        "No answer to the SYNs: connection 1: SYN retransmitted after 1.0 s. Something drops them on the way"
        " (a DROP rule, a NetworkPolicy) or the host does not exist there.",
    ]


def test_tcp_connections_are_told_apart_by_their_source_port():
    out, notes = probe(
        f"tcp:{SRV4}:7081",
        [
            syn("1.0", 33954, SRV4, 7081),
            syn("2.0", 33954, SRV4, 7081),
            syn("4.0", 33954, SRV4, 7081),
            syn("5.0", 33960, SRV4, 7081),
            syn("6.0", 33970, SRV4, 7081),
            syn("7.5", 33970, SRV4, 7081),
        ],
    )
    assert out.detail == "6 SYN(s) in 3 connection attempt(s), 3 retransmission(s), no answer"
    assert notes[1].startswith(
        "No answer to the SYNs: connection 1: SYN retransmitted after 1.0 s, 2.0 s;"
        " connection 3: SYN retransmitted after 1.5 s. Something drops"
    )


def test_a_single_unanswered_syn_says_there_was_no_retransmission():
    out, notes = probe(f"tcp:{SRV4}:7081", [syn("1.0", 33954, SRV4, 7081)])
    assert (out.outcome, out.sent, out.received) == ("no-reply", 1, 0)
    assert notes[1] == (
        "No answer to the SYNs: no retransmission before the timeout. Something drops them on the way"
        " (a DROP rule, a NetworkPolicy) or the host does not exist there."
    )


def test_tcp_answered_counts_the_probes_own_syns_and_syn_acks():
    # the SYN-ACK came after nc gave up: the pod's kernel answered it with a bare RST
    out, notes = probe(
        f"tcp:{SRV4}:7081",
        [
            *OTHER_TCP,
            syn("2.0", 33954, SRV4, 7081),
            syn("3.0", 33954, SRV4, 7081),
            tcp_back("3.5", SRV4, 7081, 33954, "S."),
            f"3.6 {OUT}, {V4}, length 54: {POD4}.33954 > {SRV4}.7081: Flags [R], seq 1186396574, win 0, length 0",
        ],
    )
    assert (out.outcome, out.sent, out.received) == ("answered", 2, 1)
    assert out.detail == "SYN -> SYN-ACK -> ACK: 1 of 1 connection(s) completed the handshake"
    assert notes[1] == (
        f"{SRV4} answered the SYN with SYN-ACK: something listens on port 7081 and accepted the connection."
    )


def test_tcp_refused_in_words():
    out, notes = probe(
        f"tcp:{SRV4}:7090", [syn("1.0", 47680, SRV4, 7090), tcp_back("1.1", SRV4, 7090, 47680, "R.")]
    )
    assert (out.outcome, out.sent, out.received) == ("refused", 1, 1)
    assert notes == [
        f"probe tcp:{SRV4}:7090: refused (SYN -> RST: nothing listens on port 7090 there).",
        f"{SRV4} answered the SYN with a RST: the host is there, but nothing listens on port 7090"
        " (or a rule rejects with tcp-reset).",
    ]


@pytest.mark.parametrize(
    ("text", "detail", "why"),
    [
        (
            f"host {SRV4} unreachable - admin prohibited filter",
            f"communication prohibited from {SRV4}",
            " (a REJECT rule: admin prohibited)",
        ),
        (f"{SRV4} tcp port 7081 unreachable", f"port unreachable from {SRV4}", ""),
        (f"host {SRV4} unreachable - strange code", f"unreachable from {SRV4}", ""),
    ],
)
def test_tcp_answered_by_an_icmp_error(text, detail, why):
    out, notes = probe(
        f"tcp:{SRV4}:7081",
        [
            syn("1.0", 33954, SRV4, 7081),
            icmp_error("0.5", f"{SRV4} udp port 7081 unreachable"),  # the udp: probe's, same port
            icmp_error("0.6", f"{SRV4} tcp port 7090 unreachable"),  # another port's
            icmp_error("0.7", "host 198.51.100.77 unreachable", src=GW4),  # another address's
            icmp_error("1.1", text),
        ],
    )
    assert (out.outcome, out.detail, out.sent, out.received) == ("unreachable", detail, 1, 1)
    assert notes[1] == f"The SYN was answered by ICMP {detail}{why}, not by {SRV4}."


def test_icmp_errors_about_other_flows_leave_a_tcp_probe_unanswered():
    out, _ = probe(
        f"tcp:{SRV4}:9",
        [
            syn("1.0", 33954, SRV4, 9),
            icmp_error("1.1", f"{SRV4} udp port 9 unreachable"),
            icmp_error("1.2", f"{SRV4} tcp port 7090 unreachable"),
            icmp_error("1.3", "host 198.51.100.77 unreachable", src=GW4),
        ],
    )
    assert (out.outcome, out.received) == ("no-reply", 0)


UDP_OTHERS = [
    datagram("0.1", POD4, 59353, SRV4, 5555),
    datagram("0.2", SRV4, 5555, POD4, 59353, way=BACK),
    datagram("0.3", POD4, 59354, "198.51.100.2", 9001),
    datagram("0.4", "198.51.100.2", 9001, POD4, 59354, way=BACK),
    syn("0.5", 9001, SRV4, 9001),
    tcp_back("0.6", SRV4, 9001, 9001, "S."),
    icmp_error("0.7", f"{SRV4} udp port 9 unreachable"),
]


def test_udp_no_reply_is_not_confused_by_the_other_probes_of_the_run():
    out, notes = probe(f"udp:{SRV4}:9001", [*UDP_OTHERS, datagram("1.0", POD4, 44004, SRV4, 9001)])
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "no-reply",
        "1 datagram(s), nothing came back",
        1,
        0,
    )
    assert notes[1] == (
        f"Nothing came back from {SRV4}:9001. Two readings: the datagrams were dropped on the way, or a service"
        " listens and does not answer that payload (UDP has no handshake to tell them apart)."
    )


def test_udp_answered_names_the_address_and_port():
    out, notes = probe(f"udp:{SRV4}:5555", [*UDP_OTHERS[2:], *UDP_OTHERS[:2]])
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "answered",
        "1 datagram(s) came back for 1 sent",
        1,
        1,
    )
    assert notes[1] == f"{SRV4}:5555 sent a datagram back: a service listens there and answers."


@pytest.mark.parametrize(
    ("text", "code", "tail"),
    [
        (f"{SRV4} udp port 9 unreachable", "port unreachable", "."),
        (f"host {SRV4} unreachable - admin prohibited", "host prohibited", " (or a REJECT rule)."),
        (f"host {SRV4} unreachable - strange code", "unreachable", "."),
    ],
)
def test_udp_unreachable_says_whether_a_reject_rule_may_have_answered(text, code, tail):
    out, notes = probe(
        f"udp:{SRV4}:9",
        [
            datagram("1.0", POD4, 44004, SRV4, 9),
            icmp_error("0.5", f"{SRV4} tcp port 9 unreachable"),  # the tcp: probe's, same port
            icmp_error("1.1", text),
        ],
    )
    assert (out.outcome, out.detail, out.sent, out.received) == ("unreachable", f"{code} from {SRV4}", 1, 1)
    assert notes[1] == f"ICMP {code} from {SRV4}: nothing listens on UDP port 9 there{tail}"


@pytest.mark.parametrize("kind", ["tcp", "udp", "dns", "icmp"])
def test_nothing_captured_is_no_reply_with_nothing_more_to_say(kind):
    spec = {"tcp": f"tcp:{SRV4}:80", "udp": f"udp:{SRV4}:80", "dns": f"dns:web.lab.example@{SRV4}"}.get(
        kind, f"icmp:{SRV4}"
    )
    out, notes = probe(spec, [])
    assert (out.outcome, out.sent, out.received) == ("no-reply", 0, 0)
    assert notes == [f"probe {spec}: no-reply ({out.detail})."]


def ping(ts, seq, dst=SRV4, reply=False):
    src, dst = (dst, POD4) if reply else (POD4, dst)
    what = "reply" if reply else "request"
    return f"{ts} {BACK if reply else OUT}, {V4}, length 98: {src} > {dst}: ICMP echo {what}, id 19418, seq {seq}, length 64"


def test_icmp_counts_the_echoes_of_this_destination_only():
    others = [
        ping("0.1", 1, dst="198.51.100.77"),
        ping("0.2", 1, dst="198.51.100.77", reply=True),
        datagram("0.3", POD4, 59353, SRV4, 5555),
        datagram("0.4", SRV4, 5555, POD4, 59353, way=BACK),
    ]
    out, notes = probe(f"icmp:{SRV4}", [*others, ping("1.0", 1), ping("1.1", 1, reply=True)], argv=("ping",))
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "answered",
        "1 echo reply to 1 requests",
        1,
        1,
    )
    out, _ = probe(
        f"icmp:{SRV4}",
        [*others, ping("1.0", 1), ping("1.1", 1, reply=True), ping("2.0", 2), ping("2.1", 2, reply=True)],
    )
    assert (out.detail, out.sent, out.received) == ("2 echo replies to 2 requests", 2, 2)
    out, notes = probe(f"icmp:{SRV4}", [*others, ping("1.0", 1), ping("2.0", 2), ping("3.0", 3)])
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "no-reply",
        "3 echo requests, no reply",
        3,
        0,
    )
    assert notes[1] == f"3 echo requests left for {SRV4} and nothing came back."


def test_icmp_unreachable_names_the_code_and_who_said_it():
    out, notes = probe(
        f"icmp:{SRV4}",
        [
            ping("1.0", 1),
            icmp_error("1.1", "host 198.51.100.77 unreachable", src=GW4),  # an earlier ping's, elsewhere
            icmp_error("1.2", f"host {SRV4} unreachable", src=GW4),
        ],
    )
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "unreachable",
        f"host unreachable from {GW4}",
        1,
        1,
    )
    assert notes[1] == f"ICMP host unreachable from {GW4} answered the echo requests to {SRV4}."


def test_a_host_that_rejects_pings_is_unreachable_not_answered():
    out, _ = probe(
        f"icmp:{SRV4}",
        [ping("1.0", 1), icmp_error("1.1", f"host {SRV4} unreachable - admin prohibited filter")],
    )
    assert (out.outcome, out.detail) == ("unreachable", f"communication prohibited from {SRV4}")


def who_has(ts, target, tell=POD4):
    return f"{ts} {OUT}, {ARP}, length 42: Request who-has {target} tell {tell}, length 28"


def is_at(ts, sender, mac="5e:db:d8:c7:00:18"):
    return f"{ts} {BACK}, {ARP}, length 42: Reply {sender} is-at {mac}, length 28"


def test_an_unanswered_gateway_is_told_apart_from_the_arp_around_it():
    out, notes = probe(
        f"tcp:{SRV4}:7081",
        [
            who_has("1.0", GW4),
            who_has("1.5", POD4, tell=GW4),  # the gateway asks for the pod: not an answer
            is_at("1.6", POD4, mac="06:a2:b0:6d:12:09"),  # the pod answers it: not the gateway's answer
            who_has("2.0", GW4),
            who_has("3.0", "192.0.2.7"),
        ],
    )
    assert out.to_json() == {
        "kind": "tcp",
        "address": SRV4,
        "port": 7081,
        "name": None,
        "server": None,
        "outcome": "unreachable",
        "detail": f"neighbour resolution failed: nobody answered for {GW4}",
        "answers": [],
        "sent": 0,
        "received": 0,
        "argv": ["nc", "-z"],
    }
    assert notes == [
        f"probe tcp:{SRV4}:7081: unreachable (neighbour resolution failed: nobody answered for {GW4}).",
        f"The pod asked 2 time(s) for {GW4} by ARP (who-has) and nobody answered: it had nobody to send the"
        " probe to, so no probe packet left the pod.",
    ]


def test_an_answered_neighbour_is_not_the_reason_nothing_left():
    # the gateway answered (late); no probe packet is in the capture: no-reply, not a neighbour failure
    out, _ = probe(f"udp:{SRV4}:9001", [who_has("1.0", GW4), who_has("2.0", GW4), is_at("2.5", GW4)])
    assert (out.outcome, out.detail) == ("no-reply", "0 datagram(s), nothing came back")


def ns(ts, target, src=POD6, dst="ff02::1:ff00:254"):
    return f"{ts} {OUT}, {V6}, length 86: {src} > {dst}: ICMP6, neighbor solicitation, who has {target}, length 32"


def na(ts, target, src=GW6, dst=POD6):
    return f"{ts} {BACK}, {V6}, length 86: {src} > {dst}: ICMP6, neighbor advertisement, tgt is {target}, length 32"


def test_an_unanswered_ipv6_gateway_is_told_apart_from_the_nd_around_it():
    out, notes = probe(
        f"tcp:[{SRV6}]:7081",
        [
            ns("1.0", GW6),
            ns("1.5", POD6, src="fe80::ec06:caff:fe3e:773a", dst=POD6),  # the router asks for the pod
            na("1.6", POD6, src=POD6, dst="fe80::ec06:caff:fe3e:773a"),  # the pod answers for itself
            ns("2.0", GW6),
        ],
        next_hop=GW6,
    )
    assert (out.outcome, out.sent) == ("unreachable", 0)
    assert notes[1] == (
        f"The pod sent 2 Neighbor Solicitation(s) for {GW6} to its solicited-node multicast address"
        " ff02::1:ff00:254 and no Neighbor Advertisement came: it had nobody to send the probe to, so no probe"
        " packet left the pod."
    )


def test_an_answered_ipv6_neighbour_is_not_the_reason_nothing_left():
    out, _ = probe(f"udp:[{SRV6}]:9001", [ns("1.0", GW6), na("1.1", GW6)], next_hop=GW6)
    assert out.outcome == "no-reply"


def query(ts, ident, name="web.lab.example.", sport=45870, server=SRV4, port=53, qtype="A"):
    return (
        f"{ts} {OUT}, {V4}, length 98: {POD4}.{sport} > {server}.{port}: {ident}+ [1au] {qtype}? {name} (56)"
    )


def response(ts, ident, what, dport=45870, server=SRV4, port=53):
    return f"{ts} {BACK}, {V4}, length 102: {server}.{port} > {POD4}.{dport}: {ident}{what}"


DNS_OTHERS = [
    query("0.1", 1111, server="198.51.100.53"),  # another resolver of the run, same port
    response("0.2", 1111, "* 1/0/1 A 198.51.100.9 (60)", server="198.51.100.53"),
    query("0.3", 2222, port=5353),  # the same server, another port
    response("0.4", 2222, "* 1/0/1 A 198.51.100.9 (60)", port=5353),
    syn("0.5", 40799, SRV4, 53),  # dig's TCP try: not a query
]


def test_dns_answered_with_the_answers_and_the_time_it_took():
    out, notes = probe(
        f"dns:alias.lab.example@{SRV4}",
        [
            *DNS_OTHERS,
            query("1.0", 25519, name="alias.lab.example."),
            response(
                "1.25",
                25519,
                "* 3/0/1 CNAME www.lab.example., CNAME web.lab.example., A 198.51.100.1 (120)",
            ),
        ],
        argv=("dig",),
    )
    detail = (
        "3 answer(s): CNAME www.lab.example., CNAME web.lab.example., A 198.51.100.1;"
        f" {SRV4} answered in 250.0 ms"
    )
    assert out.to_json() == {
        "kind": "dns",
        "address": SRV4,
        "port": None,
        "name": "alias.lab.example",
        "server": SRV4,
        "outcome": "answered",
        "detail": detail,
        "answers": ["CNAME www.lab.example.", "CNAME web.lab.example.", "A 198.51.100.1"],
        "sent": 1,
        "received": 1,
        "argv": ["dig"],
    }
    assert notes[1] == f"{SRV4} answered in 250.0 ms: {detail.split(';')[0]}."


def test_dns_nodata_and_a_response_whose_query_was_not_captured():
    out, notes = probe(
        f"dns:web.lab.example@{SRV4}", [query("1.0", 7, qtype="A"), response("1.1", 8, " 0/0/1 (48)")]
    )
    assert (out.outcome, out.detail) == (
        "answered",
        f"NOERROR without an answer of type A (NODATA); {SRV4} answered",
    )


@pytest.mark.parametrize(
    ("rcode", "outcome", "what"),
    [
        ("NXDomain", "nxdomain", "missing.lab.example does not exist (NXDOMAIN)"),
        (
            "ServFail",
            "servfail",
            "the server failed to answer (SERVFAIL: its upstream or the zone is broken)",
        ),
        (
            "Refused",
            "refused",
            "the server refuses to answer that query (REFUSED: not its zone, or not for this client)",
        ),
    ],
)
def test_dns_error_rcodes_in_words(rcode, outcome, what):
    out, notes = probe(
        f"dns:missing.lab.example@{SRV4}",
        [*DNS_OTHERS, query("1.0", 53950), response("1.0015", 53950, f" {rcode} 0/0/1 (48)")],
    )
    who = f"{SRV4} answered in 1.5 ms"
    assert (out.outcome, out.detail, out.sent, out.received) == (outcome, f"{what}; {who}", 1, 1)
    assert notes[1] == f"{who}: {what}."


@pytest.mark.parametrize("quoted", ["udp", "tcp"])
def test_dns_unreachable_whether_the_query_went_over_udp_or_tcp(quoted):
    out, notes = probe(
        f"dns:web.lab.example@{SRV4}",
        [query("1.0", 7), icmp_error("1.1", f"{SRV4} {quoted} port 53 unreachable")],
    )
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "unreachable",
        f"port unreachable from {SRV4}",
        1,
        1,
    )
    assert notes[1] == f"ICMP port unreachable from {SRV4}: nothing listens for DNS on {SRV4} port 53."


def test_a_udp_probe_is_not_answered_by_an_error_about_tcp():
    out, _ = probe(
        f"udp:{SRV4}:53",
        [datagram("1.0", POD4, 44004, SRV4, 53), icmp_error("1.1", f"{SRV4} tcp port 53 unreachable")],
    )
    assert out.outcome == "no-reply"


@pytest.mark.parametrize(("tries", "words"), [(1, "1 query"), (3, "3 queries")])
def test_dns_no_response_counts_digs_tries(tries, words):
    out, notes = probe(
        f"dns:web.lab.example@{SRV4}", [*DNS_OTHERS, *(query(f"{1 + 5 * i}.0", 7) for i in range(tries))]
    )
    assert (out.outcome, out.detail, out.sent, out.received) == (
        "no-reply",
        f"{tries} queries, no response",
        tries,
        0,
    )
    assert notes[1] == (
        f"{words} (dig's tries) left for {SRV4} and no response came: dropped on the way, or the server is not there."
    )


def test_a_ping_is_not_answered_by_an_error_about_another_probes_datagram_or_connection():
    out, _ = probe(
        f"icmp:{SRV4}",
        [
            ping("1.0", 1),
            icmp_error("1.1", f"{SRV4} udp port 9 unreachable"),
            icmp_error("1.2", f"{SRV4} tcp port 7081 unreachable"),
        ],
    )
    assert (out.outcome, out.received) == ("no-reply", 0)
    out, notes = probe(f"icmp:{SRV4}", [ping("1.0", 1), icmp_error("1.1", f"{SRV4} protocol 1 unreachable")])
    assert (out.outcome, out.detail) == ("unreachable", f"protocol unreachable from {SRV4}")
