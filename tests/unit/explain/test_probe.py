"""Outcomes read from the packets: every outcome of the contract from records in the parsers' schema."""

from __future__ import annotations

import pytest

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
