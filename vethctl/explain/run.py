"""The walkthrough's observations: from what was captured and what ping said, to sentences a person reads.

Pure functions over parsed data: packet records (the tcpdump parser's schema), jc's ping result, and
`ip -j route get`. Each returns plain sentences; output/ lays them out.
"""

from __future__ import annotations


def route_sentence(dst: str, route: dict | None) -> str:
    """`ip route get` in words: "198.51.100.7 leaves by eth0 via 198.18.0.1"."""
    if not route:
        return f"{dst} has no route in the pod: packets to it are not sent at all"
    if route.get("type") == "unreachable" or not route.get("dev"):
        return f"{dst} is unreachable by the pod's routing table ({route.get('type', 'no device')})"
    via = f" via {route['gateway']}" if route.get("gateway") else " directly (on-link)"
    src = f", from {route['prefsrc']}" if route.get("prefsrc") else ""
    return f"{dst} leaves by {route['dev']}{via}{src}"


def is_arp(p: dict) -> bool:
    return p.get("arp_op") is not None


def is_icmp_echo(p: dict, kind: str) -> bool:
    return p.get("protocol") in ("icmp", "icmp6") and p.get("icmp_type") == f"echo {kind}"


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

    who_has = [p for p in packets if p.get("arp_op") == "request" and p.get("target_ip") == ping_addr]
    is_at = [p for p in packets if p.get("arp_op") == "reply" and p.get("sender_ip") == ping_addr]
    requests = [p for p in packets if is_icmp_echo(p, "request") and p.get("dst_ip") == ping_addr]
    replies = [p for p in packets if is_icmp_echo(p, "reply") and p.get("src_ip") == ping_addr]
    if who_has and not is_at:
        asker = who_has[0].get("sender_ip", pod_ip)
        notes.append(
            f"The pod asked {_times(len(who_has))} who has {ping_addr} (ARP request, tell {asker}) and nobody"
            f" answered: no interface on this link holds {ping_addr}."
        )
        if not requests:
            notes.append(
                f"Without an ARP reply the pod has no MAC to send to, so no ICMP echo request for"
                f" {ping_addr} ever left {pod_if}."
            )
    elif is_at:
        mac = is_at[0].get("sender_mac")
        whose = f" (the host end {host_if})" if ping_addr == host_ip else ""
        notes.append(f"{ping_addr} answered ARP: {ping_addr} is-at {mac}{whose}.")
    if requests or replies:
        notes.append(
            f"{len(requests)} ICMP echo request{'s' * (len(requests) != 1)} from {pod_ip} crossed {host_if},"
            f" and {len(replies)} echo repl{'ies' if len(replies) != 1 else 'y'} came back."
        )

    if ping:
        sent, got = ping.get("packets_transmitted"), ping.get("packets_received")
        errors = ping.get("errors")
        kinds = sorted(
            {r["type"] for r in ping.get("responses", []) if r.get("type") not in ("reply", "timeout")}
        )
        why = f" ({', '.join(k.replace('_', ' ') for k in kinds)})" if kinds else ""
        err = f", {errors} error{'s' * (errors != 1)}{why}" if errors else ""
        notes.append(f"ping: {sent} sent, {got} received{err}, {ping.get('packet_loss_percent')}% loss.")
        if got == 0 and who_has and not is_at and errors:
            notes.append(
                "That is the unreachable-neighbour case: the kernel gave up after its ARP tries and"
                " answered ping itself with Destination Host Unreachable."
            )

    ours = {id(p) for p in who_has + is_at + requests + replies}
    other = [p for p in packets if id(p) not in ours]
    if other:
        notes.append(
            f"{len(other)} other packet{'s' * (len(other) != 1)} matched the filter on {host_if}"
            " (not part of these pings)."
        )
    if not packets and leaves_by_veth:
        notes.append(f"No packet matching {filter_expr!r} crossed {host_if}.")
    dropped = counters.get("dropped_by_kernel", 0)
    if dropped:
        notes.append(
            f"The kernel dropped {dropped} packet(s) before tcpdump read them: the capture is incomplete."
        )
    return notes


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")
