"""`vethctl trace`: which interfaces a pod's packet crosses on its way out, hop by hop, and where it changes.

No eBPF: the path comes from the routing tables, then tcpdump listens on every hop at once while the pod
pings, and the captures are lined up by ICMP id and sequence.

  pod      ip -j route get ADDR                      -> the pod's device (eth0, or a veth vethctl attached)
  node     its peer (ifindex, netnsid)               -> the pod's host veth, and the bridge it is enslaved to
  node     ip -j route get ADDR from POD iif IN      -> the egress device (or: local, no route, no forwarding)
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field

from vethctl.commands import ip, node
from vethctl.errors import BadInput
from vethctl.execute import Executor
from vethctl.model import IPAddress, Netns, parse_address
from vethctl.plan.trace import build_trace
from vethctl.resolve.byip import ANY_EXIT
from vethctl.scenarios.common import check_pings, parse_ping, parse_via, require_tools
from vethctl.scenarios.locate import KubeScope, Located, locate
from vethctl.scenarios.observe import route_sentence, tcpdump_counters


@dataclass
class Hop:
    netns: Netns | None  # None: the node
    interface: str
    role: str  # "pod", "host veth", "bridge", "egress"
    node_side: bool
    note: str = ""
    packets: list[dict] = field(default_factory=list)
    counters: dict = field(default_factory=dict)

    def where(self, located: Located) -> str:
        if not self.node_side:
            return f"pod {located.netns}"
        return located.node.label if located.node.netns else "node"


def _json(ex: Executor, argv, netns=None, purpose="") -> tuple[list, str]:
    res = ex.read(argv, netns, purpose=purpose, ok_codes=ANY_EXIT)
    try:
        return (json.loads(res.stdout or "[]") if res.rc == 0 else []), res.stderr.strip()
    except json.JSONDecodeError:
        return [], res.stderr.strip()


def derive_path(ex: Executor, located: Located, dst: IPAddress) -> tuple[list[Hop], dict]:
    """The hops, in path order, from the routing tables; and what the routing said on the way."""
    facts: dict = {}
    got, err = _json(ex, ip.route_get_json(dst), located.netns, purpose=f"the pod's route to {dst}")
    if not got:
        raise BadInput(f"the pod has no route to {dst}: {err or 'no answer'}", hint="see `vethctl routes`")
    pod_route = facts["pod_route"] = got[0]
    pod_dev = pod_route.get("dev")
    hops = [Hop(located.netns, pod_dev, "pod", False, note=route_sentence(str(dst), pod_route))]
    pod_link = located.pod.link(pod_dev) or {}
    if pod_link.get("link_index") is None or pod_link.get("link_netnsid") is None:
        facts["end"] = f"{pod_dev} has no peer on the node: the path cannot be followed further"
        return hops, facts
    node_links, _ = _json(ex, ip.link_show_json(), None, purpose="the node's links")
    peer = next((x for x in node_links if x.get("ifindex") == pod_link["link_index"]), None)
    if peer is None:
        facts["end"] = f"the peer of {pod_dev} is not on this node"
        return hops, facts
    hops.append(Hop(None, peer["ifname"], "host veth", True, note=f"the peer of the pod's {pod_dev}"))
    in_dev = peer["ifname"]
    if peer.get("master"):
        in_dev = peer["master"]
        hops.append(
            Hop(None, in_dev, "bridge", True, note=f"{peer['ifname']} is a port of the bridge {in_dev}")
        )
    src = pod_route.get("prefsrc") or (str(located.pod.pod_ip) if located.pod.pod_ip else None)
    argv = ip.route_get_from_json(dst, src, in_dev)
    node_route, err = _json(ex, argv, None, purpose=f"the node's route for the pod's packet to {dst}")
    if not node_route:
        facts["node_route_error"] = err or "no answer"
        plain, _ = _json(ex, ip.route_get_json(dst), None, purpose=f"the node's own route to {dst}")
        if plain and plain[0].get("dev") and plain[0].get("type") != "local":
            facts["would_leave_by"] = plain[0]
            if plain[0]["dev"] not in (in_dev, peer["ifname"]):
                hops.append(Hop(None, plain[0]["dev"], "egress", True,
                                note="where the node's own route to it leads (it refused to forward)"))  # fmt: skip
        return hops, facts
    route = facts["node_route"] = node_route[0]
    if route.get("type") == "local":
        facts["end"] = f"{dst} is an address of the node itself: the path ends on the node"
    elif route.get("dev") not in (None, in_dev, peer["ifname"]):
        via = f" via {route['gateway']}" if route.get("gateway") else ""
        hops.append(
            Hop(None, route["dev"], "egress", True, note=f"the node forwards it by {route['dev']}{via}")
        )
    return hops, facts


def flow_filter(dst: IPAddress, neighbours: set[str]) -> str:
    """ICMP to and from the destination, ICMP errors about it, and ARP for the addresses on the path."""
    if dst.version == 6:
        return f"icmp6 and (host {dst} or ip6[40] == 1 or ip6[40] == 3)"
    arp = " or ".join(f"host {a}" for a in sorted(neighbours))
    return (
        f"(icmp and host {dst}) or (icmp and (icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed))"
        + (f" or (arp and ({arp}))" if arp else "")
    )


def trace(target: str, to: str, *, count: int = 3, interval: float = 0.2, via: str | None = None,
          kube: KubeScope | None = None) -> dict:  # fmt: skip
    dst = parse_address(to, "--to")
    check_pings(count, interval, max_count=1000)
    require_tools("ip", "tcpdump", "ping", node=parse_via(via, False)[0])
    located, ex = locate(target, via=via, kube=kube)
    hops, facts = derive_path(ex, located, dst)
    neighbours = {str(dst)}
    for key in ("pod_route", "node_route", "would_leave_by"):
        if facts.get(key, {}).get("gateway"):
            neighbours.add(facts[key]["gateway"])
    if located.pod.pod_ip:
        neighbours.add(str(located.pod.pod_ip))
    if facts["pod_route"].get("prefsrc"):
        neighbours.add(facts["pod_route"]["prefsrc"])
    filt = flow_filter(dst, neighbours)
    plan = build_trace([(h.interface, None if h.node_side else h.netns) for h in hops], filt, located.netns,
                       dst, count=count, interval=interval)  # fmt: skip
    ex.execute(plan)
    for i, hop in enumerate(hops):
        import jc

        from vethctl.parsers import tcpdump as parser

        res = ex.by_key[f"hop{i}"]
        hop.packets = jc.parse(parser, res.stdout, quiet=True)
        hop.counters = tcpdump_counters(res.stderr)
    ping_res, ping_lines = parse_ping(ex.by_key["ping"].stdout)
    hop_json = correlate(hops, located, dst)
    diagnostics = {}
    observations = explain(hops, hop_json, facts, located, dst, ping_res, ex, diagnostics)
    return {
        "target": located.as_json(),
        "to": str(dst),
        "path": [f"{h.where(located)} {h.interface}" for h in hops],
        "hops": hop_json,
        "routing": facts,
        "filter": filt,
        "ping": ping_res,
        "ping_lines": ping_lines,
        "observations": observations,
        "diagnostics": diagnostics,
        "commands": [r.as_json() for r in ex.results],
    }


def _echo(packets: list[dict], kind: str) -> dict[int, dict]:
    """Echo requests or replies by sequence number (the first one seen of each)."""
    out: dict[int, dict] = {}
    for p in packets:
        if p.get("icmp_type") == f"echo {kind}" and p.get("icmp_seq") is not None:
            out.setdefault(p["icmp_seq"], p)
    return out


def correlate(hops: list[Hop], located: Located, dst: IPAddress) -> list[dict]:
    """Per hop: what was seen each way, first seen, addresses as seen there, delay from the previous hop."""
    out, prev = [], None
    for hop in hops:
        req, rep = _echo(hop.packets, "request"), _echo(hop.packets, "reply")
        arp_req = [p for p in hop.packets if p.get("arp_op") == "request"]
        arp_rep = [p for p in hop.packets if p.get("arp_op") == "reply"]
        errors = [p for p in hop.packets if p.get("icmp_type") not in (None, "echo request", "echo reply")]
        first = min((p["timestamp"] for p in req.values() if p.get("timestamp") is not None), default=None)
        sample = req[min(req)] if req else None
        delays = []
        if prev is not None:
            for seq, p in req.items():
                if (
                    seq in prev[0]
                    and p.get("timestamp") is not None
                    and prev[0][seq].get("timestamp") is not None
                ):
                    delays.append((p["timestamp"] - prev[0][seq]["timestamp"]) * 1e6)
        out.append({
            "netns": str(hop.netns) if not hop.node_side else (str(located.node.netns) if located.node.netns else None),
            "side": "node" if hop.node_side else "pod",
            "interface": hop.interface,
            "role": hop.role,
            "note": hop.note,
            "requests": len(req),
            "replies": len(rep),
            "request_seqs": sorted(req),
            "reply_seqs": sorted(rep),
            "first_seen": first,
            "src_ip": sample.get("src_ip") if sample else None,
            "dst_ip": sample.get("dst_ip") if sample else None,
            "icmp_id": sample.get("icmp_id") if sample else None,
            "reply_src_ip": rep[min(rep)].get("src_ip") if rep else None,
            "reply_dst_ip": rep[min(rep)].get("dst_ip") if rep else None,
            "delay_from_previous_us": round(statistics.median(delays), 1) if delays else None,
            "arp_requests": [{"who_has": p.get("target_ip"), "tell": p.get("sender_ip")} for p in arp_req],
            "arp_replies": [{"ip": p.get("sender_ip"), "is_at": p.get("sender_mac")} for p in arp_rep],
            "icmp_errors": [{"type": p.get("icmp_type"), "code": p.get("icmp_code"), "from": p.get("src_ip")}
                            for p in errors],  # fmt: skip
            "packets": hop.packets,
            "counters": hop.counters,
        })  # fmt: skip
        prev = (req, rep)
    return out


def _node_diagnostics(ex: Executor, diagnostics: dict) -> list[str]:
    """Read-only looks at what usually stops forwarding on a node: ip_forward, the FORWARD chain."""
    causes = []
    res = ex.read(
        node.sysctl_get("net.ipv4.ip_forward"), None, purpose="is forwarding on?", ok_codes=ANY_EXIT
    )
    if res.rc == 0:
        diagnostics["ip_forward"] = res.stdout.strip()
        if res.stdout.strip() == "0":
            causes.append("net.ipv4.ip_forward is 0 on the node: it does not forward at all")
    import shutil

    if shutil.which("iptables"):
        res = ex.read(node.iptables_rules("FORWARD"), None, purpose="the FORWARD chain", ok_codes=ANY_EXIT)
        if res.rc == 0:
            rules = res.stdout.splitlines()
            diagnostics["forward_chain"] = rules
            drops = [
                r for r in rules if r.startswith("-A FORWARD") and (" -j DROP" in r or " -j REJECT" in r)
            ]
            if "-P FORWARD DROP" in rules:
                causes.append("the FORWARD chain's policy is DROP")
            if drops:
                causes.append(f"the FORWARD chain has {len(drops)} DROP/REJECT rule(s): {drops[0][3:]}")
    return causes


def explain(hops: list[Hop], hj: list[dict], facts: dict, located: Located, dst: IPAddress, ping: dict | None,
            ex: Executor, diagnostics: dict) -> list[str]:  # fmt: skip
    notes = ["path: " + " -> ".join(f"{h['interface']} ({h['role']})" for h in hj)]
    if facts.get("end"):
        notes.append(facts["end"] + ".")
    if facts.get("node_route_error"):
        notes.append(f"The node would not route the pod's packet: `ip route get {dst} ... iif` says"
                     f" \"{facts['node_route_error']}\".")  # fmt: skip
    pod_src = (
        hj[0]["src_ip"]
        if hj and hj[0]["src_ip"]
        else (str(located.pod.pod_ip) if located.pod.pod_ip else None)
    )
    for before, after in zip(hj, hj[1:], strict=False):
        if before["src_ip"] and after["src_ip"] and before["src_ip"] != after["src_ip"]:
            notes.append(f"The source was rewritten from {before['src_ip']} to {after['src_ip']} between"
                         f" {before['interface']} and {after['interface']}: SNAT/masquerade on the node.")  # fmt: skip
        if before["dst_ip"] and after["dst_ip"] and before["dst_ip"] != after["dst_ip"]:
            notes.append(f"The destination was rewritten from {before['dst_ip']} to {after['dst_ip']} between"
                         f" {before['interface']} and {after['interface']}: DNAT on the node.")  # fmt: skip
    seen = [i for i, h in enumerate(hj) if h["requests"]]
    if not seen:
        arp_only = [h for h in hj if h["arp_requests"] and not h["arp_replies"]]
        if arp_only:
            asked = arp_only[0]["arp_requests"][0]
            notes.append(f"No echo request left the pod: it asked who has {asked['who_has']} (ARP, tell {asked['tell']})"
                         f" {len(arp_only[0]['arp_requests'])} time(s) on {arp_only[0]['interface']} and nobody"
                         " answered.")  # fmt: skip
        else:
            notes.append(f"No echo request to {dst} was seen on any hop.")
    else:
        last = seen[-1]
        if last < len(hj) - 1:
            lost_at, next_hop = hj[last], hj[last + 1]
            notes.append(f"The echo requests were last seen on {lost_at['interface']} ({lost_at['role']}) and never on"
                         f" {next_hop['interface']} ({next_hop['role']}).")  # fmt: skip
            if next_hop["role"] == "egress" or facts.get("node_route_error"):
                causes = _node_diagnostics(ex, diagnostics)
                if facts.get("node_route_error") and not causes:
                    causes.append("the node has no usable route for it")
                notes.append("On the node, that is where forwarding happens: " + ("; ".join(causes) if causes else
                             "ip_forward is on and no FORWARD rule drops it: look at other tables (raw, mangle), "
                             "rp_filter, or a policy route") + ".")  # fmt: skip
        else:
            notes.append(f"The echo requests crossed every hop, up to {hj[last]['interface']}.")
            egress = hj[last]
            unanswered = [
                a
                for a in egress["arp_requests"]
                if not any(r["ip"] == a["who_has"] for r in egress["arp_replies"])
            ]
            if unanswered and not egress["replies"]:
                notes.append(f"On {egress['interface']}, ARP for {unanswered[0]['who_has']} was not answered: the next hop"
                             " is not there.")  # fmt: skip
        back = [h for h in hj if h["replies"]]
        if back:
            reached_pod = hj[0]["replies"] > 0
            furthest = back[0]
            notes.append(f"Replies came back from {hj[-1]['reply_src_ip'] or dst}"
                         + (f" and reached the pod ({hj[0]['replies']} of {hj[0]['requests']})." if reached_pod
                            else f", but were last seen on {furthest['interface']} and never reached the pod."))  # fmt: skip
        elif seen and seen[-1] == len(hj) - 1:
            notes.append(f"No reply came back on {hj[-1]['interface']}: the loss is beyond this node.")
    for h in hj:
        for e in h["icmp_errors"]:
            notes.append(f"{h['interface']}: ICMP {e['type']}{' (' + e['code'] + ')' if e.get('code') else ''} from"
                         f" {e['from']}.")  # fmt: skip
    if ping:
        notes.append(
            f"ping: {ping.get('packets_transmitted')} sent, {ping.get('packets_received')} received."
        )
    if pod_src and hj[-1].get("src_ip") == pod_src and len(hj) > 1 and hj[-1]["role"] == "egress":
        notes.append(f"The pod's own address {pod_src} left the node unchanged (no SNAT on this path).")
    return notes
