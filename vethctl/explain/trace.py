"""trace's explanation: the captures of every hop lined up by ICMP sequence, and what they say in words.

Pure: hops with their packets in, TraceHop values and sentences out. What a node's settings say about
forwarding (ip_forward, the FORWARD chain) is read by the scenario and interpreted here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from vethctl.explain.run import NA, NS, nd_target
from vethctl.model import IPAddress, Netns
from vethctl.results.trace import TraceHop


@dataclass
class Hop:
    """One interface on the path, where it was captured, and (after the capture) what it saw."""

    netns: Netns | None  # None: the node
    interface: str
    role: str  # "pod", "host veth", "bridge", "egress"
    node_side: bool
    note: str = ""
    packets: list[dict] = field(default_factory=list)
    counters: dict = field(default_factory=dict)
    node: str | None = None  # another node's label (None: the trace's own node)
    node_netns: Netns | None = None  # that node's namespace, when it is a lab node of this machine
    filter: str | None = None  # a capture filter of its own (the underlay: the overlay's UDP)
    decode_as: str | None = None  # tcpdump -T (vxlan on flannel's port 8472)
    remote: object = None  # resolve.nextnode.RemoteNode: a node of another machine (its captures run there)

    def where(self, pod_netns: Netns, node_label: str, node_is_netns: bool) -> str:
        if not self.node_side:
            return f"pod {pod_netns}"
        return node_label if node_is_netns else "node"


def flow_filter(dst: IPAddress, neighbours: set[str]) -> str:
    """ICMP to and from the destination, ICMP errors about it (IPv6: destination unreachable, packet too big,
    time exceeded), and ARP (IPv6: Neighbor Discovery) for the addresses on the path (not every ARP or ND of a
    busy bridge)."""
    arp = " or ".join(f"host {a}" for a in sorted(neighbours))
    if dst.version == 6:
        nd = f" or ((ip6[40] == 135 or ip6[40] == 136) and ({arp}))" if arp else ""
        return f"icmp6 and (host {dst} or ip6[40] == 1 or ip6[40] == 2 or ip6[40] == 3{nd})"
    return (
        f"(icmp and host {dst}) or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed))"
        + (f" or (arp and ({arp}))" if arp else "")
    )


@dataclass(frozen=True)
class Flow:
    """What a traced probe's packets are, hop by hop: which are its requests and which its replies, each with
    a key that stays the same across the node (NAT rewrites addresses and ports, not these), and the words
    the sentences use."""

    kind: str  # icmp, tcp, udp, dns
    address: str  # the destination (the DNS server)
    port: int | None = None
    also_ports: tuple[int, ...] = ()  # the destination ports past a DNAT (a Service's target port)
    request: str = "echo request"
    requests: str = "echo requests"

    def request_key(self, p: dict, index: int):
        if self.kind == "icmp":
            return p.get("icmp_seq") if p.get("icmp_type") == "echo request" else None
        if p.get("dst_port") not in (self.port, *self.also_ports) or p.get("protocol") not in ("tcp", "udp"):
            return None
        if self.kind == "tcp":
            flags = p.get("tcp_flags") or ""
            return p.get("tcp_seq") if "S" in flags and "." not in flags else None
        if self.kind == "dns":
            return p.get("dns_id") if p.get("dns_id") is not None and not p.get("dns_response") else None
        return index  # udp: the n-th datagram (tcpdump prints no payload to tell them apart)

    def reply_key(self, p: dict, index: int):
        if self.kind == "icmp":
            return p.get("icmp_seq") if p.get("icmp_type") == "echo reply" else None
        if p.get("src_port") not in (self.port, *self.also_ports) or p.get("protocol") not in ("tcp", "udp"):
            return None
        if self.kind == "tcp":
            ack = p.get("tcp_ack")
            return (
                ack - 1
                if ack is not None
                and ("S" in (p.get("tcp_flags") or "") or "R" in (p.get("tcp_flags") or ""))
                else None
            )
        if self.kind == "dns":
            return p.get("dns_id") if p.get("dns_response") else None
        return index


ECHO = Flow("icmp", "")
WORDS = {
    "tcp": ("SYN", "SYNs"),
    "udp": ("datagram", "datagrams"),
    "dns": ("DNS query", "DNS queries"),
    "icmp": ("echo request", "echo requests"),
}


def flow_of(kind: str, address: str, port: int | None, also_ports=()) -> Flow:
    request, requests = WORDS[kind]
    return Flow(kind, address, port, tuple(also_ports), request, requests)


def _keyed(packets: list[dict], key) -> dict:
    """Packets by their flow key (the first one seen of each)."""
    out: dict = {}
    n = 0
    for p in packets:
        k = key(p, n)
        if k is not None:
            out.setdefault(k, p)
            n += 1
    return out


def correlate(
    hops: list[Hop],
    node_netns: Netns | None,
    flow: Flow = ECHO,
    node_label: str = "",
    family: int = 4,
) -> tuple[TraceHop, ...]:
    """Per hop: what was seen each way, first seen, addresses as seen there, delay from the previous hop; and
    the neighbour resolution there (ARP; IPv6: Neighbor Solicitations and Advertisements)."""
    out, prev = [], None
    for hop in hops:
        req, rep = _keyed(hop.packets, flow.request_key), _keyed(hop.packets, flow.reply_key)
        arp_req = [p for p in hop.packets if p.get("arp_op") == "request"]
        arp_rep = [p for p in hop.packets if p.get("arp_op") == "reply"]
        errors = [
            p
            for p in hop.packets
            if p.get("icmp_type") not in (None, "echo request", "echo reply", NS, NA)
            and (p.get("protocol") in ("icmp", "icmp6"))
        ]
        nd = None
        if family == 6:
            nd = (
                tuple(
                    {"who_has": nd_target(p), "from": p.get("src_ip"), "to": p.get("dst_ip")}
                    for p in hop.packets
                    if p.get("icmp_type") == NS
                ),
                tuple(
                    {
                        "ip": nd_target(p),
                        "is_at": p.get("target_lladdr") or p.get("src_mac"),
                        "to": p.get("dst_ip"),
                    }
                    for p in hop.packets
                    if p.get("icmp_type") == NA
                ),
            )
        first = min((p["timestamp"] for p in req.values() if p.get("timestamp") is not None), default=None)
        sample = req[min(req)] if req else None
        delays = []
        if prev is not None:
            for seq, p in req.items():
                before = prev.get(seq)
                if (
                    before is not None
                    and p.get("timestamp") is not None
                    and before.get("timestamp") is not None
                ):
                    delays.append((p["timestamp"] - before["timestamp"]) * 1e6)
        out.append(
            TraceHop(
                netns=str(hop.netns)
                if not hop.node_side
                else (str(hop.node_netns) if hop.node_netns else (str(node_netns) if node_netns else None)),
                node=hop.node or node_label,
                side="node" if hop.node_side else "pod",
                interface=hop.interface,
                role=hop.role,
                note=hop.note,
                requests=len(req),
                replies=len(rep),
                request_seqs=tuple(sorted(req)),
                reply_seqs=tuple(sorted(rep)),
                first_seen=first,
                src_ip=sample.get("src_ip") if sample else None,
                dst_ip=sample.get("dst_ip") if sample else None,
                icmp_id=sample.get("icmp_id") if sample else None,
                reply_src_ip=rep[min(rep)].get("src_ip") if rep else None,
                reply_dst_ip=rep[min(rep)].get("dst_ip") if rep else None,
                delay_from_previous_us=round(statistics.median(delays), 1) if delays else None,
                arp_requests=tuple(
                    {"who_has": p.get("target_ip"), "tell": p.get("sender_ip")} for p in arp_req
                ),
                arp_replies=tuple({"ip": p.get("sender_ip"), "is_at": p.get("sender_mac")} for p in arp_rep),
                icmp_errors=tuple(
                    {"type": p.get("icmp_type"), "code": p.get("icmp_code"), "from": p.get("src_ip")}
                    for p in errors
                ),
                packets=tuple(hop.packets),
                counters=hop.counters,
                nd_solicitations=nd[0] if nd else None,
                nd_advertisements=nd[1] if nd else None,
            )
        )
        prev = req
    return tuple(out)


def forwarding_stopped(hops: tuple[TraceHop, ...], facts: dict) -> bool:
    """The requests stopped where the node forwards (before the egress, or the node would not route them):
    then the node's forwarding settings are worth reading."""
    seen = [i for i, h in enumerate(hops) if h.requests]
    if not seen or seen[-1] >= len(hops) - 1:
        return False
    return hops[seen[-1] + 1].role == "egress" or bool(facts.get("node_route_error"))


def forwarding_causes(
    ip_forward: str | None,
    forward_rules: list[str] | None,
    *,
    key: str = "net.ipv4.ip_forward",
    firewall: str = "iptables",
) -> list[str]:
    """What usually stops forwarding on a node, from `sysctl KEY` and `iptables -S FORWARD` (IPv6:
    net.ipv6.conf.all.forwarding and `ip6tables -S FORWARD`)."""
    causes = []
    if ip_forward == "0":
        causes.append(f"{key} is 0 on the node: it does not forward at all")
    if forward_rules is not None:
        drops = [
            r for r in forward_rules if r.startswith("-A FORWARD") and (" -j DROP" in r or " -j REJECT" in r)
        ]
        chain = "the FORWARD chain" if firewall == "iptables" else f"the {firewall} FORWARD chain"
        if "-P FORWARD DROP" in forward_rules:
            causes.append(f"{chain}'s policy is DROP")
        if drops:
            causes.append(f"{chain} has {len(drops)} DROP/REJECT rule(s): {drops[0][3:]}")
    return causes


def explain(
    hj: tuple[TraceHop, ...],
    facts: dict,
    pod_ip: str | None,
    dst: IPAddress,
    ping: dict | None,
    causes: list[str] | None,
    flow: Flow = ECHO,
    rewrites_known: bool = False,
) -> list[str]:
    """rewrites_known: the NAT is explained elsewhere (conntrack, the rule: explain/nat.py); the hop table's
    own evidence of it is then not said again."""
    """causes: forwarding_causes() when forwarding_stopped(), else None."""
    multi = len({h.node for h in hj}) > 1

    def at(h: TraceHop) -> str:  # an interface and its role (and its node, when the path crosses nodes)
        return f"{h.interface} ({h.role}, {h.node})" if multi else f"{h.interface} ({h.role})"

    notes = ["path: " + " -> ".join(at(h) for h in hj)]
    if facts.get("end"):
        notes.append(facts["end"] + ".")
    if facts.get("node_route_error"):
        notes.append(
            f"The node would not route the pod's packet: `ip route get {dst} ... iif` says"
            f' "{facts["node_route_error"]}".'
        )
    pod_src = hj[0].src_ip if hj and hj[0].src_ip else pod_ip
    for before, after in zip(hj, hj[1:], strict=False) if not rewrites_known else ():
        if before.src_ip and after.src_ip and before.src_ip != after.src_ip:
            notes.append(
                f"The source was rewritten from {before.src_ip} to {after.src_ip} between"
                f" {before.interface} and {after.interface}: SNAT/masquerade on the node."
            )
        if before.dst_ip and after.dst_ip and before.dst_ip != after.dst_ip:
            notes.append(
                f"The destination was rewritten from {before.dst_ip} to {after.dst_ip} between"
                f" {before.interface} and {after.interface}: DNAT on the node."
            )
    seen = [i for i, h in enumerate(hj) if h.requests]
    if not seen:
        arp_only = [h for h in hj if h.arp_requests and not h.arp_replies]
        nd_only = [h for h in hj if h.nd_solicitations and not h.nd_advertisements]
        if nd_only:
            asked = nd_only[0].nd_solicitations[0]
            notes.append(
                f"No {flow.request} left the pod: it sent {len(nd_only[0].nd_solicitations)} Neighbor"
                f" Solicitation(s) for {asked['who_has']} (from {asked['from']}, to {asked['to']}) on"
                f" {nd_only[0].interface} and no Neighbor Advertisement came."
            )
        elif arp_only:
            asked = arp_only[0].arp_requests[0]
            notes.append(
                f"No {flow.request} left the pod: it asked who has {asked['who_has']} (ARP, tell {asked['tell']})"
                f" {len(arp_only[0].arp_requests)} time(s) on {arp_only[0].interface} and nobody"
                " answered."
            )
        else:
            notes.append(f"No {flow.request} to {dst} was seen on any hop.")
    else:
        last = seen[-1]
        if last < len(hj) - 1:
            lost_at, next_hop = hj[last], hj[last + 1]
            notes.append(f"The {flow.requests} were last seen on {at(lost_at)} and never on {at(next_hop)}.")
            if causes is not None:
                causes = list(causes)
                if facts.get("node_route_error") and not causes:
                    causes.append("the node has no usable route for it")
                notes.append(
                    "On the node, that is where forwarding happens: "
                    + (
                        "; ".join(causes)
                        if causes
                        else "ip_forward is on and no FORWARD rule drops it: look at other tables (raw, mangle), "
                        "rp_filter, or a policy route"
                    )
                    + "."
                )
        else:
            notes.append(f"The {flow.requests} crossed every hop, up to {hj[last].interface}.")
            egress = hj[last]
            unanswered = [
                a for a in egress.arp_requests if not any(r["ip"] == a["who_has"] for r in egress.arp_replies)
            ]
            unanswered += [
                a
                for a in egress.nd_solicitations or ()
                if not any(r["ip"] == a["who_has"] for r in egress.nd_advertisements or ())
            ]
            if unanswered and not egress.replies:
                how = "ARP" if egress.arp_requests else "Neighbor Solicitation"
                notes.append(
                    f"On {egress.interface}, {how} for {unanswered[0]['who_has']} was not answered: the next hop"
                    " is not there."
                )
        back = [h for h in hj if h.replies]
        if back:
            reached_pod = hj[0].replies > 0
            furthest = back[0]
            notes.append(
                f"Replies came back from {hj[-1].reply_src_ip or dst}"
                + (
                    f" and reached the pod ({hj[0].replies} of {hj[0].requests})."
                    if reached_pod
                    else f", but were last seen on {furthest.interface} and never reached the pod."
                )
            )
        elif seen and seen[-1] == len(hj) - 1:
            notes.append(f"No reply came back on {hj[-1].interface}: the loss is beyond this node.")
    for h in hj:
        for e in h.icmp_errors:
            notes.append(
                f"{h.interface}: ICMP {e['type']}{' (' + e['code'] + ')' if e.get('code') else ''} from"
                f" {e['from']}."
            )
    if ping:
        notes.append(
            f"ping: {ping.get('packets_transmitted')} sent, {ping.get('packets_received')} received."
        )
    if pod_src and hj[-1].src_ip == pod_src and len(hj) > 1 and hj[-1].role == "egress":
        notes.append(f"The pod's own address {pod_src} left the node unchanged (no SNAT on this path).")
    return notes
