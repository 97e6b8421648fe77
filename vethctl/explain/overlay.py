"""Overlays in a trace: the packets an underlay capture saw, decapsulated (the inner packet, with its outer
header as `encap`), the encapsulations crossed, where packets were lost between nodes, and the MTU arithmetic
of a packet too big for the overlay.

Pure: packet records (the tcpdump parsers' schema) and facts in; records, `encap` entries and sentences out.
"""

from __future__ import annotations

import re

import jc

from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.results.trace import TraceHop

_VNI = re.compile(r"VXLAN, flags \[[^\]]*\] \(0x[0-9a-f]+\), vni (\d+)")
FRAG_NEEDED = ("fragmentation needed", "need to frag", "packet too big")


def decapsulate(packets: list[dict], interface: str) -> list[dict]:
    """A VXLAN packet (the outer UDP record, its inner frame on the continuation line tcpdump prints) as the
    packet it carries, with `encap` naming the outer header; other packets as they are."""
    out = []
    for p in packets:
        m = _VNI.search(p.get("unparsed") or "")
        inner_line = (p.get("details") or [None])[0]
        if not m or not inner_line:
            out.append(p)
            continue
        inner = jc.parse(tcpdump_parser, inner_line.strip(), quiet=True)
        if not inner or inner[0].get("src_mac") is None:  # not a frame: cut short ([|ether]), or unreadable
            out.append(p)
            continue
        rec = inner[0] | {"timestamp": p.get("timestamp")}
        rec["encap"] = {
            "kind": "vxlan",
            "vni": int(m.group(1)),
            "outer_src": p.get("src_ip"),
            "outer_dst": p.get("dst_ip"),
            "port": p.get("dst_port"),
            "interface": interface,
            "outer_length": p.get("length"),
        }
        out.append(rec)
    return out


def encapsulations(hops) -> list[dict]:
    """Each encapsulation seen (kind, VNI, outer source and destination, UDP port, interface), once."""
    seen, out = set(), []
    for hop in hops:
        for p in hop.packets:
            e = p.get("encap")
            if not e:
                continue
            key = (e["kind"], e["vni"], e["outer_src"], e["outer_dst"], e["port"], e["interface"])
            if key not in seen:
                seen.add(key)
                out.append({k: e[k] for k in ("kind", "vni", "outer_src", "outer_dst", "port", "interface")})
    return out


def overlay_sentences(
    hops: tuple[TraceHop, ...], encap: list[dict], facts: dict, mtu: dict, size: int | None
) -> list[str]:
    notes = []
    for e in encap[:1]:
        notes.append(
            f"Between the nodes the packets travel in {e['kind'].upper()} (VNI {e['vni']}, UDP {e['port']}):"
            f" outer {e['outer_src']} > {e['outer_dst']} on {e['interface']}."
        )
    nxt = facts.get("next_node") or {}
    if nxt.get("missing"):
        notes.append(
            f"The overlay has no way to the next node: {nxt['missing']}. The CNI's agent (flannel) writes these"
            " entries when it learns the other nodes: look at it on this node."
        )
    elif nxt.get("reachable") is False and nxt.get("overlay", True):
        notes.append(
            f"The path goes on to the node at {nxt['address']}, which vethctl cannot reach from here"
            + (f" ({nxt['why']})" if nxt.get("why") else "")
            + f": give it with --node {nxt['address']}=ssh://HOST."
        )
    elif nxt.get("reachable") is False:  # a plain gateway: a router, or a node of a routed network
        notes.append(
            f"Past this node the packets go to the gateway {nxt['address']}, not a node vethctl knows: if it is"
            f" one (a routed pod network), --node {nxt['address']}=ssh://HOST follows them there."
        )
    notes += _lost_between_nodes(hops)
    notes += _mtu(hops, mtu, size)
    return notes


def _lost_between_nodes(hops: tuple[TraceHop, ...]) -> list[str]:
    seen = [i for i, h in enumerate(hops) if h.requests]
    if not seen or seen[-1] == len(hops) - 1:
        return []
    last, nxt = hops[seen[-1]], hops[seen[-1] + 1]
    if last.node == nxt.node:
        if last.role == "underlay" and nxt.role == "vtep":
            return [
                f"{nxt.node} received the encapsulated packets on {last.interface} but did not decapsulate them on"
                f" {nxt.interface}: its INPUT rules for the overlay's UDP port (see drops), or no VTEP for that"
                " VNI and port."
            ]
        return []
    return [
        f"The packets left {last.node} by {last.interface} ({last.role}) and never reached {nxt.node}"
        f" ({nxt.interface}): they were lost between the nodes, on the underlay (a firewall between the nodes,"
        " or the underlay's MTU)."
    ]


def _mtu(hops: tuple[TraceHop, ...], mtu: dict, size: int | None) -> list[str]:
    notes = []
    # IPv4 names it in the code (unreachable, fragmentation needed), ICMPv6 in the type (packet too big)
    frag = [
        e
        for h in hops
        for e in h.icmp_errors
        if any(w in f"{e.get('type') or ''} {e.get('code') or ''}" for w in FRAG_NEEDED)
    ]
    pod, under, over = mtu.get("pod_mtu"), mtu.get("underlay_mtu"), mtu.get("overhead")
    numbers = ""
    if pod and under and over:
        numbers = (
            f" The pod's MTU is {pod}; {over} bytes of encapsulation make a full-size packet {pod + over} bytes,"
            f" and the underlay's MTU is {under}" + (": it does not fit." if pod + over > under else ".")
        )
    if frag:
        e = frag[0]
        notes.append(
            f"A packet too big for the path came back as ICMP {e.get('code') or e.get('type')} from"
            f" {e['from']}.{numbers}"
        )
    elif size is not None and pod and under and over:
        six = any(":" in (h.src_ip or "") for h in hops)
        packet = size + (48 if six else 28)  # ICMP header 8 + IPv6 header 40 or IPv4 header 20
        if packet + over > under and any(h.requests for h in hops) and not all(h.requests for h in hops):
            notes.append(
                f"Lost without an ICMP error: a {packet}-byte packet with {over} bytes of encapsulation is"
                f" {packet + over} bytes, more than the underlay's MTU {under} (DF is set).{numbers}"
            )
    return notes
