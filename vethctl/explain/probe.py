"""A probe's outcome, read from the packets it made (never from the tool's exit code alone), and in words.

    icmp  echo reply: answered; ICMP unreachable: unreachable (its code); ARP/ND unanswered: unreachable
          (the neighbour); nothing: no-reply
    tcp   SYN -> SYN-ACK: answered; SYN -> RST: refused; ICMP unreachable: unreachable (its code: a REJECT
          rule says "admin prohibited"); SYNs alone: no-reply, with their retransmissions and timing
    udp   a datagram back: answered; ICMP port unreachable: unreachable; silence: no-reply (two readings)
    dns   NOERROR: answered (with its answers); NXDOMAIN, SERVFAIL, REFUSED; ICMP unreachable; no response:
          no-reply (with the retries)

Pure: packet records (the tcpdump parsers' schema) in, a ProbeOutcome and sentences out.
"""

from __future__ import annotations

from collections import defaultdict

from vethctl.explain.run import nd_target, solicited_node
from vethctl.probespec import ProbeSpec
from vethctl.results.probe import ProbeOutcome

UNREACHABLE = "destination unreachable"
RCODES = {"nxdomain": "nxdomain", "servfail": "servfail", "refused": "refused"}


def _ts(p: dict) -> float | None:
    return p.get("timestamp")


def _flags(p: dict) -> str:
    return p.get("tcp_flags") or ""


def _errors_about(packets: list[dict], spec: ProbeSpec) -> list[dict]:
    """ICMP/ICMPv6 destination unreachable quoting the probe's flow (or, when tcpdump prints less, its
    destination). A ping's errors quote ICMP or no protocol: one quoting UDP or TCP is another probe's."""
    out = []
    for p in packets:
        if p.get("icmp_type") != UNREACHABLE:
            continue
        inner = p.get("inner") or {}
        if inner.get("dst_ip") not in (None, str(spec.address)):
            continue
        if spec.port is not None and inner.get("dst_port") not in (None, spec.port):
            continue
        if inner.get("protocol") not in (None, spec.protocol, "tcp" if spec.kind == "dns" else None):
            continue
        out.append(p)
    return out


def _unanswered_neighbour(packets: list[dict], next_hop: str | None) -> tuple[str, int] | None:
    """(the address asked for, how many times) when ARP or ND asked for the next hop and nobody answered."""
    if not next_hop:
        return None
    asked = [
        p
        for p in packets
        if (p.get("arp_op") == "request" and p.get("target_ip") == next_hop)
        or (p.get("icmp_type") == "neighbor solicitation" and nd_target(p) == next_hop)
    ]
    answered = [
        p
        for p in packets
        if (p.get("arp_op") == "reply" and p.get("sender_ip") == next_hop)
        or (p.get("icmp_type") == "neighbor advertisement" and nd_target(p) == next_hop)
    ]
    return (next_hop, len(asked)) if asked and not answered else None


def _code(p: dict) -> str:
    code = p.get("icmp_code") or "unreachable"
    return f"{code} from {p.get('src_ip')}"


def _hostport(address: str, port: int | None) -> str:
    """ADDR:PORT, an IPv6 address in brackets as in SPEC."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _gaps(times: list[float]) -> str:
    gaps = [f"{b - a:.1f} s" for a, b in zip(times, times[1:], strict=False)]
    return ", ".join(gaps)


def explain(
    spec: ProbeSpec, packets: list[dict], *, next_hop: str | None, argv: tuple[str, ...], attempts: int
) -> tuple[ProbeOutcome, list[str]]:
    """next_hop: the address the pod must resolve first (the gateway, or the destination when on-link)."""
    reader = {"icmp": _icmp, "tcp": _tcp, "udp": _udp, "dns": _dns}[spec.kind]
    outcome, detail, answers, sent, received, notes = reader(spec, packets, attempts)
    neighbour = _unanswered_neighbour(packets, next_hop)
    if neighbour and not sent:
        hop, times = neighbour
        outcome = "unreachable"
        detail = f"neighbour resolution failed: nobody answered for {hop}"
        if ":" in hop:
            notes = [
                f"The pod sent {times} Neighbor Solicitation(s) for {hop} to its solicited-node multicast"
                f" address {solicited_node(hop)} and no Neighbor Advertisement came: it had nobody to send the"
                " probe to, so no probe packet left the pod."
            ]
        else:
            notes = [
                f"The pod asked {times} time(s) for {hop} by ARP (who-has) and nobody answered: it had nobody"
                " to send the probe to, so no probe packet left the pod."
            ]
    result = ProbeOutcome(
        kind=spec.kind,
        address=str(spec.address),
        port=spec.port if spec.kind != "dns" else None,
        name=spec.name,
        server=spec.server,
        outcome=outcome,
        detail=detail,
        answers=tuple(answers),
        sent=sent,
        received=received,
        argv=argv,
    )
    return result, [f"probe {spec}: {outcome} ({detail})."] + notes


def _icmp(spec: ProbeSpec, packets: list[dict], attempts: int):
    dst = str(spec.address)
    requests = [p for p in packets if p.get("icmp_type") == "echo request" and p.get("dst_ip") == dst]
    replies = [p for p in packets if p.get("icmp_type") == "echo reply" and p.get("src_ip") == dst]
    errors = _errors_about(packets, spec)
    if replies:
        return (
            "answered",
            f"{len(replies)} echo repl{'ies' if len(replies) != 1 else 'y'} to {len(requests)} requests",
            [],
            len(requests),
            len(replies),
            [],
        )
    if errors:
        return (
            "unreachable",
            _code(errors[0]),
            [],
            len(requests),
            len(errors),
            [f"ICMP {_code(errors[0])} answered the echo requests to {dst}."],
        )
    return (
        "no-reply",
        f"{len(requests)} echo requests, no reply",
        [],
        len(requests),
        0,
        [f"{len(requests)} echo requests left for {dst} and nothing came back."] if requests else [],
    )


def _tcp(spec: ProbeSpec, packets: list[dict], attempts: int):
    dst, port = str(spec.address), spec.port
    out = [
        p
        for p in packets
        if p.get("protocol") == "tcp" and p.get("dst_ip") == dst and p.get("dst_port") == port
    ]
    back = [
        p
        for p in packets
        if p.get("protocol") == "tcp" and p.get("src_ip") == dst and p.get("src_port") == port
    ]
    syns = [p for p in out if "S" in _flags(p) and "." not in _flags(p)]
    synacks = [p for p in back if "S" in _flags(p) and "." in _flags(p)]
    rsts = [p for p in back if "R" in _flags(p)]
    errors = _errors_about(packets, spec)
    by_conn: dict[int | None, list[float]] = defaultdict(list)
    for p in syns:
        by_conn[p.get("src_port")].append(_ts(p) or 0.0)
    conns = len(by_conn)
    retrans = sum(len(t) - 1 for t in by_conn.values())
    if synacks:
        return (
            "answered",
            f"SYN -> SYN-ACK -> ACK: {len({p.get('dst_port') for p in synacks})} of {conns} connection(s)"
            " completed the handshake",
            [],
            len(syns),
            len(synacks),
            [
                f"{dst} answered the SYN with SYN-ACK: something listens on port {port} and accepted the connection."
            ],
        )
    if rsts:
        return (
            "refused",
            f"SYN -> RST: nothing listens on port {port} there",
            [],
            len(syns),
            len(rsts),
            [
                f"{dst} answered the SYN with a RST: the host is there, but nothing listens on port {port}"
                " (or a rule rejects with tcp-reset)."
            ],
        )
    if errors:
        code = errors[0].get("icmp_code") or "unreachable"
        why = " (a REJECT rule: admin prohibited)" if "prohibited" in code else ""
        return (
            "unreachable",
            _code(errors[0]),
            [],
            len(syns),
            len(errors),
            [f"The SYN was answered by ICMP {_code(errors[0])}{why}, not by {dst}."],
        )
    timing = "; ".join(
        f"connection {i}: SYN retransmitted after {_gaps(sorted(t))}"
        for i, t in enumerate(by_conn.values(), 1)
        if len(t) > 1
    )
    detail = f"{len(syns)} SYN(s) in {conns} connection attempt(s), {retrans} retransmission(s), no answer"
    notes = (
        [
            f"No answer to the SYNs: {timing or 'no retransmission before the timeout'}. Something drops them on the"
            " way (a DROP rule, a NetworkPolicy) or the host does not exist there."
        ]
        if syns
        else []
    )
    return "no-reply", detail, [], len(syns), 0, notes


def _udp(spec: ProbeSpec, packets: list[dict], attempts: int):
    dst, port = str(spec.address), spec.port
    out = [
        p
        for p in packets
        if p.get("protocol") == "udp" and p.get("dst_ip") == dst and p.get("dst_port") == port
    ]
    back = [
        p
        for p in packets
        if p.get("protocol") == "udp" and p.get("src_ip") == dst and p.get("src_port") == port
    ]
    errors = _errors_about(packets, spec)
    if back:
        return (
            "answered",
            f"{len(back)} datagram(s) came back for {len(out)} sent",
            [],
            len(out),
            len(back),
            [f"{_hostport(dst, port)} sent a datagram back: a service listens there and answers."],
        )
    if errors:
        return (
            "unreachable",
            _code(errors[0]),
            [],
            len(out),
            len(errors),
            [
                f"ICMP {_code(errors[0])}: nothing listens on UDP port {port} there"
                + (" (or a REJECT rule)." if "port" not in (errors[0].get("icmp_code") or "port") else ".")
            ],
        )
    return (
        "no-reply",
        f"{len(out)} datagram(s), nothing came back",
        [],
        len(out),
        0,
        [
            f"Nothing came back from {_hostport(dst, port)}. Two readings: the datagrams were dropped on the way, or a service"
            " listens and does not answer that payload (UDP has no handshake to tell them apart)."
        ]
        if out
        else [],
    )


def _dns(spec: ProbeSpec, packets: list[dict], attempts: int):
    server, port = str(spec.address), spec.port
    queries = [
        p
        for p in packets
        if p.get("dns_id") is not None
        and not p.get("dns_response")
        and p.get("dst_ip") == server
        and p.get("dst_port") == port
    ]
    responses = [
        p
        for p in packets
        if p.get("dns_id") is not None
        and p.get("dns_response")
        and p.get("src_ip") == server
        and p.get("src_port") == port
    ]
    errors = _errors_about(packets, spec)
    if responses:
        r = responses[0]
        asked = next((q for q in queries if q.get("dns_id") == r.get("dns_id")), None)
        took = f" in {(_ts(r) - _ts(asked)) * 1000:.1f} ms" if asked and _ts(r) and _ts(asked) else ""
        rcode = (r.get("dns_rcode") or "NoError").lower()
        answers = [f"{a.get('type')} {a.get('data')}" for a in r.get("dns_answers") or []]
        who = f"{r.get('src_ip')} answered{took}"
        if rcode in RCODES:
            outcome = RCODES[rcode]
            what = {
                "nxdomain": f"{spec.name} does not exist (NXDOMAIN)",
                "servfail": "the server failed to answer (SERVFAIL: its upstream or the zone is broken)",
                "refused": "the server refuses to answer"
                " that query (REFUSED: not its zone, or not for this client)",
            }[outcome]
            return outcome, f"{what}; {who}", answers, len(queries), len(responses), [f"{who}: {what}."]
        detail = (
            f"{len(answers)} answer(s): {', '.join(answers)}"
            if answers
            else f"NOERROR without an answer of type {spec.qtype} (NODATA)"
        )
        return "answered", f"{detail}; {who}", answers, len(queries), len(responses), [f"{who}: {detail}."]
    if errors:
        return (
            "unreachable",
            _code(errors[0]),
            [],
            len(queries),
            len(errors),
            [f"ICMP {_code(errors[0])}: nothing listens for DNS on {server} port {port}."],
        )
    notes = (
        [
            f"{len(queries)} quer{'ies' if len(queries) != 1 else 'y'} (dig's tries) left for {server} and no response"
            " came: dropped on the way, or the server is not there."
        ]
        if queries
        else []
    )
    return "no-reply", f"{len(queries)} queries, no response", [], len(queries), 0, notes
