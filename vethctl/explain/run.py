"""The walkthrough's observations: from what was captured and what ping said, to sentences a person reads.

Pure functions over parsed data: packet records (the tcpdump parser's schema), jc's ping result, and
`ip -j route get`. Each returns plain sentences; output/ lays them out.
"""

from __future__ import annotations

import ipaddress
from collections import Counter


def route_sentence(dst: str, route: dict | None) -> str:
    """`ip route get` in words: "198.51.100.7 leaves by eth0 via 198.18.0.1"."""
    if not route:
        return f"{dst} has no route in the pod: packets to it are not sent at all"
    if route.get("type") == "unreachable" or not route.get("dev"):
        return f"{dst} is unreachable by the pod's routing table ({route.get('type', 'no device')})"
    via = f" via {route['gateway']}" if route.get("gateway") else " directly (on-link)"
    src = f", from {route['prefsrc']}" if route.get("prefsrc") else ""
    return f"{dst} leaves by {route['dev']}{via}{src}"


def is_icmp_echo(p: dict, kind: str) -> bool:
    return p.get("protocol") in ("icmp", "icmp6") and p.get("icmp_type") == f"echo {kind}"


NS, NA = "neighbor solicitation", "neighbor advertisement"


def nd_target(p: dict) -> str | None:
    """The address a Neighbor Solicitation asks for, or an Advertisement answers for: `target_ip`, as ARP
    records name it (older records call it `nd_target`)."""
    return p.get("target_ip") or p.get("nd_target")


def solicited_node(address: str) -> str:
    """The multicast group a Neighbor Solicitation for `address` goes to: ff02::1:ff plus its last 24 bits."""
    low24 = int(ipaddress.IPv6Address(address)) & 0xFFFFFF
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("ff02::1:ff00:0")) | low24))


# What ping prints for its error lines, by jc's type name (where the name alone reads badly).
PING_ERRORS = {"destination_unreachable_address_unreachable": "Destination unreachable: Address unreachable"}


def explain_run(
    *,
    ping_addr: str,
    pod_end: dict,
    host_end: dict,
    route: dict | None,
    ping: dict | None,
    packets: list[dict],
    counters: dict[str, int],
    filter_expr: str,
) -> list[str]:
    """The walkthrough's observations: by which interface the pings left, what ARP said, what came back."""
    pod_if, pod_ip = pod_end["name"], pod_end["address"].split("/")[0]
    host_if, host_ip = host_end["name"], host_end["address"].split("/")[0]
    notes: list[str] = []

    leaves_by_veth = bool(route and route.get("dev") == pod_if)
    if route is not None:
        if leaves_by_veth:
            notes.append(
                f"{route_sentence(ping_addr, route)}: the new veth, so every packet for it crosses {host_if}"
                " where the capture listens."
            )
        else:
            notes.append(
                f"{route_sentence(ping_addr, route)}, not by the veth {pod_if}: the capture on {host_if}"
                " cannot see these pings; use `vethctl trace` to follow them."
            )

    v6 = ":" in ping_addr
    if v6:
        asked, answered, requests, replies, nd_notes = _neighbor_discovery(
            ping_addr, pod_if, host_if, host_ip, packets
        )
        notes += nd_notes
    else:
        asked = [p for p in packets if p.get("arp_op") == "request" and p.get("target_ip") == ping_addr]
        answered = [p for p in packets if p.get("arp_op") == "reply" and p.get("sender_ip") == ping_addr]
        requests = [p for p in packets if is_icmp_echo(p, "request") and p.get("dst_ip") == ping_addr]
        replies = [p for p in packets if is_icmp_echo(p, "reply") and p.get("src_ip") == ping_addr]
        if asked and not answered:
            asker = asked[0]["sender_ip"]  # the parser names it in every ARP request
            notes.append(
                f"The pod asked {_times(len(asked))} who has {ping_addr} (ARP request, tell {asker}) and nobody"
                f" answered: no interface on this link holds {ping_addr}."
            )
            if not requests:
                notes.append(
                    f"Without an ARP reply the pod has no MAC to send to, so no ICMP echo request for"
                    f" {ping_addr} ever left {pod_if}."
                )
        elif answered:
            mac = answered[0].get("sender_mac")
            whose = f" (the host end {host_if})" if ping_addr == host_ip else ""
            notes.append(f"{ping_addr} answered ARP: {ping_addr} is-at {mac}{whose}.")
    if requests or replies:
        icmp = "ICMPv6" if v6 else "ICMP"
        notes.append(
            f"{len(requests)} {icmp} echo request{'s' * (len(requests) != 1)} from {pod_ip} crossed {host_if},"
            f" and {len(replies)} echo repl{'ies' if len(replies) != 1 else 'y'} came back."
        )

    if ping:
        sent, got = ping.get("packets_transmitted"), ping.get("packets_received")
        errors = ping.get("errors")
        kinds = sorted({r["type"] for r in ping["responses"] if r.get("type") not in ("reply", "timeout")})
        why = f" ({', '.join(PING_ERRORS.get(k, k.replace('_', ' ')) for k in kinds)})" if kinds else ""
        err = f", {errors} error{'s' * (errors != 1)}{why}" if errors else ""
        notes.append(f"ping: {sent} sent, {got} received{err}, {ping.get('packet_loss_percent')}% loss.")
        if got == 0 and asked and not answered and errors:
            notes.append(
                "That is the unreachable-neighbour case in Neighbor Discovery's terms: the kernel gave up after"
                ' its solicitations and answered ping itself with "Address unreachable".'
                if v6
                else "That is the unreachable-neighbour case: the kernel gave up after its ARP tries and"
                " answered ping itself with Destination Host Unreachable."
            )

    ours = {id(p) for p in asked + answered + requests + replies}
    other = [p for p in packets if id(p) not in ours]
    if other:
        kinds = Counter(p.get("icmp_type") or p.get("ethertype") or "unknown" for p in other)
        what = f": {', '.join(f'{n} {k}' for k, n in kinds.items())}" if v6 else ""
        notes.append(
            f"{len(other)} other packet{'s' * (len(other) != 1)} matched the filter on {host_if}"
            f" (not part of these pings{what})."
        )
    if not packets and leaves_by_veth:
        notes.append(f"No packet matching {filter_expr!r} crossed {host_if}.")
    dropped = counters.get("dropped_by_kernel")
    if dropped:
        notes.append(
            f"The kernel dropped {dropped} packet(s) before tcpdump read them: the capture is incomplete."
        )
    return notes


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _neighbor_discovery(
    ping_addr: str, pod_if: str, host_if: str, host_ip: str, packets: list[dict]
) -> tuple[list[dict], list[dict], list[dict], list[dict], list[str]]:
    """IPv6's ARP: the pod sends a Neighbor Solicitation for the address to its solicited-node multicast
    group; whoever holds it answers with a Neighbor Advertisement carrying its MAC. Nobody: after its tries
    the kernel gives up, and ping says "Address unreachable"."""
    solicited = [p for p in packets if p.get("icmp_type") == NS and nd_target(p) == ping_addr]
    advertised = [p for p in packets if p.get("icmp_type") == NA and nd_target(p) == ping_addr]
    requests = [p for p in packets if is_icmp_echo(p, "request") and p.get("dst_ip") == ping_addr]
    replies = [p for p in packets if is_icmp_echo(p, "reply") and p.get("src_ip") == ping_addr]
    notes = []
    if solicited:
        group = solicited_node(ping_addr)
        first = solicited[0]
        # an IPv6 record always has both addresses; a solicitation to the address itself confirms a known MAC
        to = (
            f"to its solicited-node multicast address {group}"
            if first["dst_ip"] == group
            else f"to {first['dst_ip']}"
        )
        sender = first["src_ip"]
        n = len(solicited)
        asked = f"The pod sent {n} Neighbor Solicitation{'s' * (n != 1)} for {ping_addr} (from {sender}) {to}"
    if solicited and not advertised:
        notes.append(
            f"{asked}, and no Neighbor Advertisement came: no interface on this link holds {ping_addr}."
        )
        if not requests:
            notes.append(
                f"Without an advertisement the pod has no MAC to send to, so no ICMPv6 echo request for"
                f" {ping_addr} ever left {pod_if}."
            )
    elif advertised:
        na = advertised[0]
        mac = na.get("target_lladdr") or na.get("src_mac")
        who = f"The host end {host_if}" if ping_addr == host_ip else ping_addr
        answer = f"advertised its MAC: Neighbor Advertisement {ping_addr} is-at {mac}"
        then = ", and the echo request/reply followed" if requests and replies else ""
        lead = f"{asked}; " if solicited else ""
        notes.append(f"{lead}{who[0].lower() + who[1:] if lead else who} {answer}{then}.")
    return solicited, advertised, requests, replies, notes
