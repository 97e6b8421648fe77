"""`vethctl trace`: which interfaces a pod's packet crosses on its way out, hop by hop, and where it changes.

No eBPF: the path comes from the routing tables, then tcpdump listens on every hop at once while the pod
pings, and the captures are lined up by ICMP id and sequence (explain/trace.py).

  pod      ip -j route get ADDR                      -> the pod's device (eth0, or a veth vethctl attached)
  node     its peer (ifindex, netnsid)               -> the pod's host veth, and the bridge it is enslaved to
  node     ip -j route get ADDR from POD iif IN      -> the egress device (or: local, no route, no forwarding)
"""

from __future__ import annotations

import jc

from vethctl.commands import ip, node
from vethctl.commands.probe import PROBE_TOOLS
from vethctl.errors import BadInput
from vethctl.execute.executor import Executor
from vethctl.execute.facts import ANY_EXIT, lookup_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_tools
from vethctl.explain.probe import explain as explain_probe
from vethctl.explain.run import route_sentence
from vethctl.explain.trace import (
    ECHO,
    Hop,
    correlate,
    explain,
    flow_filter,
    flow_of,
    forwarding_causes,
    forwarding_stopped,
)
from vethctl.model import IPAddress, check_pings, parse_address
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.parsers.ipjson import peer_of
from vethctl.parsers.ping import parse_ping
from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
from vethctl.plan.probe import probe_filter
from vethctl.plan.trace import build_trace
from vethctl.probespec import ProbeSpec, check_probe_options, parse_probe
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import Located, locate
from vethctl.resolve.via import parse_via
from vethctl.results import TraceResult


def derive_path(ex: Executor, located: Located, dst: IPAddress) -> tuple[list[Hop], dict]:
    """The hops, in path order, from the routing tables; and what the routing said on the way."""
    facts: dict = {}
    got, err = lookup_json(ex, ip.route_get_json(dst), located.netns, purpose=f"the pod's route to {dst}")
    if not got:
        raise BadInput(f"the pod has no route to {dst}: {err or 'no answer'}", hint="see `vethctl routes`")
    pod_route = facts["pod_route"] = got[0]
    pod_dev = pod_route.get("dev")
    hops = [Hop(located.netns, pod_dev, "pod", False, note=route_sentence(str(dst), pod_route))]
    pod_link = located.pod.link(pod_dev) or {}
    if pod_link.get("link_index") is None or pod_link.get("link_netnsid") is None:
        facts["end"] = f"{pod_dev} has no peer on the node: the path cannot be followed further"
        return hops, facts
    node_links, _ = lookup_json(ex, ip.link_show_json(), None, purpose="the node's links")
    peer = peer_of(node_links, pod_link["link_index"])
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
    node_route, err = lookup_json(
        ex,
        ip.route_get_from_json(dst, src, in_dev),
        None,
        purpose=f"the node's route for the pod's packet to {dst}",
    )
    if not node_route:
        facts["node_route_error"] = err or "no answer"
        plain, _ = lookup_json(ex, ip.route_get_json(dst), None, purpose=f"the node's own route to {dst}")
        if plain and plain[0].get("dev") and plain[0].get("type") != "local":
            facts["would_leave_by"] = plain[0]
            if plain[0]["dev"] not in (in_dev, peer["ifname"]):
                hops.append(
                    Hop(
                        None,
                        plain[0]["dev"],
                        "egress",
                        True,
                        note="where the node's own route to it leads (it refused to forward)",
                    )
                )
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


def probe_trace_filter(spec: ProbeSpec, neighbours: set[str]) -> str:
    """A traced probe's packets on every hop: its flow and the ICMP errors about it, and ARP for the addresses
    on the path (not every ARP of a busy bridge)."""
    arp = " or ".join(f"host {a}" for a in sorted(neighbours))
    flow = probe_filter(spec).rsplit(" or arp", 1)[0] if spec.address.version == 4 else probe_filter(spec)
    return flow + (f" or (arp and ({arp}))" if arp and spec.address.version == 4 else "")


def node_forwarding(ex: Executor, diagnostics: dict) -> list[str]:
    """Read-only looks at what usually stops forwarding on a node: ip_forward, the FORWARD chain."""
    res = ex.read(
        node.sysctl_get("net.ipv4.ip_forward"), None, purpose="is forwarding on?", ok_codes=ANY_EXIT
    )
    ip_forward = None
    if res.rc == 0:
        ip_forward = diagnostics["ip_forward"] = res.stdout.strip()
    rules = None
    if ex.host.which("iptables"):
        res = ex.read(node.iptables_rules("FORWARD"), None, purpose="the FORWARD chain", ok_codes=ANY_EXIT)
        if res.rc == 0:
            rules = diagnostics["forward_chain"] = res.stdout.splitlines()
    return forwarding_causes(ip_forward, rules)


def trace(
    target: str,
    to: str | None,
    hosts: Hosts,
    *,
    count: int = 3,
    interval: float = 0.2,
    via: str | None = None,
    kube: KubeScope | None = None,
    probe: str | None = None,
    timeout: int = 2,
) -> TraceResult:
    """--to ADDR traces pings; --probe SPEC traces that probe's packets (TCP, UDP, DNS) instead."""
    if (to is None) == (probe is None):
        raise BadInput(
            "trace follows --to ADDR or --probe SPEC (one of them)",
            hint="e.g. --to 203.0.113.7, or --probe tcp:198.51.100.10:80",
        )
    spec = parse_probe(probe) if probe is not None else None
    dst = spec.address if spec is not None else parse_address(to, "--to")
    check_pings(count, interval, max_count=1000)
    if spec is not None:
        check_probe_options(count, timeout)
    requested, _ = parse_via(via, False)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip", "tcpdump", PROBE_TOOLS[spec.kind] if spec else "ping")
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    hops, facts = derive_path(ex, located, dst)
    neighbours = {str(dst)}
    for key in ("pod_route", "node_route", "would_leave_by"):
        if facts.get(key, {}).get("gateway"):
            neighbours.add(facts[key]["gateway"])
    if located.pod.pod_ip:
        neighbours.add(str(located.pod.pod_ip))
    if facts["pod_route"].get("prefsrc"):
        neighbours.add(facts["pod_route"]["prefsrc"])
    filt = flow_filter(dst, neighbours) if spec is None else probe_trace_filter(spec, neighbours)
    plan = build_trace(
        [(h.interface, None if h.node_side else h.netns) for h in hops],
        filt,
        located.netns,
        dst,
        count=count,
        interval=interval,
        probe=spec,
        timeout=timeout,
    )
    ex.execute(plan)
    for i, hop in enumerate(hops):
        res = ex.by_key[f"hop{i}"]
        hop.packets = jc.parse(tcpdump_parser, res.stdout, quiet=True)
        hop.counters = tcpdump_counters(res.stderr)
    ping_res, ping_lines = parse_ping(ex.by_key["ping"].stdout) if spec is None else (None, [])
    flow = flow_of(spec.kind, str(spec.address), spec.port) if spec is not None else ECHO
    hop_json = correlate(hops, located.node.netns, flow)
    diagnostics: dict = {}
    causes = node_forwarding(ex, diagnostics) if forwarding_stopped(hop_json, facts) else None
    pod_ip = str(located.pod.pod_ip) if located.pod.pod_ip else None
    observations = explain(hop_json, facts, pod_ip, dst, ping_res, causes, flow)
    probe_outcome = None
    if spec is not None:  # what came of it, read at the pod's own interface (the first hop)
        steps = [r for k, r in ex.by_key.items() if k.startswith("probe")]
        next_hop = facts["pod_route"].get("gateway") or str(spec.address)
        probe_outcome, notes = explain_probe(
            spec, hops[0].packets, next_hop=next_hop, argv=steps[0].step.argv, attempts=len(steps)
        )
        observations += notes
    node_label, node_is_netns = located.node.label, located.node.netns is not None
    return TraceResult(
        target=located.target(),
        to=str(dst),
        path=tuple(f"{h.where(located.netns, node_label, node_is_netns)} {h.interface}" for h in hops),
        hops=hop_json,
        routing=facts,
        filter=filt,
        ping=ping_res,
        ping_lines=tuple(ping_lines),
        observations=tuple(observations),
        diagnostics=diagnostics,
        probe=probe_outcome,
        commands=tuple(ex.journal.as_json()),
    )
