"""`vethctl trace`: which interfaces a pod's packet crosses on its way out, hop by hop, and where it changes.

No eBPF: the path comes from the routing tables, then tcpdump listens on every hop at once while the pod
pings, and the captures are lined up by ICMP id and sequence (explain/trace.py).

  pod      ip -j route get ADDR                      -> the pod's device (eth0, or a veth vethctl attached)
  node     its peer (ifindex, netnsid)               -> the pod's host veth, and the bridge it is enslaved to
  node     ip -j route get ADDR from POD iif IN      -> the egress device (or: local, no route, no forwarding)
"""

from __future__ import annotations

import ipaddress

import jc

from vethctl.allocate import check_family
from vethctl.commands import node
from vethctl.commands.probe import PROBE_TOOLS
from vethctl.errors import BadInput
from vethctl.execute import netfilter_facts
from vethctl.execute.executor import Executor
from vethctl.execute.facts import ANY_EXIT
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_tools
from vethctl.explain.nat import drops, nat_entries, rules_matched
from vethctl.explain.nat import sentences as nat_sentences
from vethctl.explain.overlay import decapsulate, encapsulations, overlay_sentences
from vethctl.explain.probe import explain as explain_probe
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
from vethctl.model import KubectlDebug, check_pings, parse_address
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.parsers.netfilter import dnat_targets, grew, moved
from vethctl.parsers.ping import parse_ping
from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
from vethctl.plan.capture import capture_steps
from vethctl.plan.probe import probe_filter
from vethctl.plan.trace import build_trace
from vethctl.probespec import ProbeSpec, check_probe_options, parse_probe
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.resolve.nextnode import egress_encap, find_node, hops_on, mtu_facts, underlay_of
from vethctl.resolve.path import derive_path
from vethctl.resolve.via import parse_node_map, parse_via
from vethctl.results.trace import TraceResult
from vethctl.state.labs import all_clusters


def probe_trace_filter(spec: ProbeSpec, neighbours: set[str], also: list[tuple[str, int]] = ()) -> str:
    """A traced probe's packets on every hop: its flow (and, past a DNAT, the backend's), the ICMP errors about
    it, and ARP for the addresses on the path (not every ARP of a busy bridge)."""
    arp = " or ".join(f"host {a}" for a in sorted(neighbours | {b for b, _ in also}))
    flow = probe_filter(spec).rsplit(" or arp", 1)[0] if spec.address.version == 4 else probe_filter(spec)
    for backend, port in also:
        flow = f"({spec.protocol} and host {backend} and port {port}) or " + flow
    return flow + (f" or (arp and ({arp}))" if arp and spec.address.version == 4 else "")


def _next_node(
    ex: Executor, hosts: Hosts, hops: list, facts: dict, target, src, node_map: dict, role: str
) -> list:
    """When the path leaves this node by an egress that leads to a node vethctl can reach: the hops there."""
    if not hops or hops[-1].role != "egress" or "node_route" not in facts:
        return []
    remote_ip, encap = egress_encap(ex, hops[-1].interface, facts["node_route"])
    if encap is not None and encap.missing:
        facts["next_node"] = {"address": None, "reachable": False, "missing": encap.missing}
    if not remote_ip:
        return []
    debug = ex.node.machine if isinstance(ex.node.machine, KubectlDebug) else None
    remote = find_node(ex, remote_ip, all_clusters(ex.host), node_map, hosts, debug)
    if remote is None:
        facts["next_node"] = {"address": remote_ip, "reachable": False, "overlay": encap is not None}
        return []
    more, there = hops_on(ex, remote, remote_ip, encap, target, src, role)
    facts["next_node"] = {"address": remote_ip, "node": remote.label, **there}
    added = []
    if encap is not None:
        under = encap.underlay_dev or underlay_of(ex, encap.local)
        outer = (
            f"(udp and port {encap.port} and host {encap.local} and host {encap.remote}) or "
            "(icmp and icmp[icmptype] == icmp-unreach)"
        )
        if under:
            added.append(
                Hop(
                    None,
                    under,
                    "underlay",
                    True,
                    note=f"{encap.kind} to {remote_ip} (VNI {encap.vni}, UDP {encap.port})",
                    filter=outer,
                    decode_as=encap.kind,
                )
            )
        for hop in more:
            if hop.role == "underlay":
                hop.filter, hop.decode_as = outer, encap.kind
    return added + more


def _start_remote_captures(ex: Executor, hops: list, filt: str, decode_as: str | None = None) -> list:
    """The captures on hops of another machine (a node reached over ssh): started there, each on its own
    executor (same journal), before the local plan runs; stopped by the caller after it."""
    jobs = []
    try:
        for i, hop in enumerate(hops):
            if hop.remote is None:
                continue
            there = ex.on(hop.remote.node, hop.remote.host)
            start, _ = capture_steps(
                hop.interface,
                hop.filter or filt,
                None,
                key=f"hop{i}",
                netns=None if hop.node_side else hop.netns,
                decode_as=hop.decode_as or decode_as,
            )
            jobs.append((there, there.start(start)))
    except BaseException:
        ex.end_together(jobs)
        for there, job in jobs:
            there.stop(job)
        raise
    return jobs


def node_forwarding(ex: Executor, diagnostics: dict, family: int = 4) -> list[str]:
    """Read-only looks at what usually stops forwarding on a node: the forwarding sysctl, the FORWARD chain
    (IPv6: net.ipv6.conf.all.forwarding and ip6tables')."""
    key = node.forwarding_key(family)
    res = ex.read(node.sysctl_get(key), None, purpose="is forwarding on?", ok_codes=ANY_EXIT)
    forwarding = None
    if res.rc == 0:
        forwarding = diagnostics["ip_forward" if family == 4 else "ipv6_forwarding"] = res.stdout.strip()
    rules = None
    firewall = node.iptables(family)
    if ex.host.which(firewall):
        res = ex.read(
            node.iptables_rules("FORWARD", family=family),
            None,
            purpose="the FORWARD chain",
            ok_codes=ANY_EXIT,
        )
        if res.rc == 0:
            rules = diagnostics["forward_chain" if family == 4 else "forward_chain6"] = (
                res.stdout.splitlines()
            )
    return forwarding_causes(forwarding, rules, key=key, firewall=firewall)


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
    counters: bool = True,
    size: int | None = None,
    nodes: tuple[str, ...] = (),
    family: int | None = None,
) -> TraceResult:
    """--to ADDR traces pings; --probe SPEC traces that probe's packets (TCP, UDP, DNS) instead."""
    if (to is None) == (probe is None):
        raise BadInput(
            "trace follows --to ADDR or --probe SPEC (one of them)",
            hint="e.g. --to 203.0.113.7, or --probe tcp:198.51.100.10:80",
        )
    spec = parse_probe(probe) if probe is not None else None
    dst = spec.address if spec is not None else parse_address(to, "--to")
    check_family(family, dst, f"--probe {probe}" if spec is not None else f"--to {to}")
    check_pings(count, interval, max_count=1000)
    if spec is not None:
        check_probe_options(count, timeout)
    if size is not None and (spec is not None or not 0 <= size <= 65507):
        raise BadInput(
            f"--size {size} goes with --to (a ping's payload, 0 to 65507 bytes)", hint="e.g. --size 1422"
        )
    node_map = parse_node_map(nodes)
    requested, _ = parse_via(via, False)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip", "tcpdump", PROBE_TOOLS[spec.kind] if spec else "ping")
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    # the rules and counters before: where a DNAT sends the probe, and (after) which rules its packets hit
    node_rules, node_backends = netfilter_facts.rules(ex, None, "node", dst.version) if counters else ([], [])
    proto = spec.protocol if spec is not None else ("icmp" if dst.version == 4 else "icmp6")
    port = spec.port if spec is not None and spec.kind != "icmp" else None
    dnat = dnat_targets(node_rules, str(dst), proto, port) if port is not None else []
    hops, facts = derive_path(ex, located, dst, dnat)
    src = facts["pod_route"].get("prefsrc") or (str(located.pod.pod_ip) if located.pod.pod_ip else None)
    target = ipaddress.ip_address(dnat[0][0]) if dnat else dst
    hops += _next_node(ex, hosts, hops, facts, target, src, node_map, "backend" if dnat else "dst")
    # where rules and counters are read: (the executor of that machine, the namespace there)
    places: dict[str, tuple[Executor, object]] = {
        "node": (ex, None),
        f"pod {located.netns}": (ex, located.netns),
    }
    for h in hops:
        there = ex.on(h.remote.node, h.remote.host) if h.remote else ex
        if h.node_side and (h.node_netns is not None or h.remote):
            places.setdefault(h.node, (there, h.node_netns))
        elif not h.node_side and h.netns != located.netns:
            places.setdefault(f"pod {h.netns}" + (f" on {h.node}" if h.remote else ""), (there, h.netns))
    if not counters:  # --no-counters: no rules, conntrack or kernel counters read
        places = {}
    before_rules = {"node": node_rules} if counters else {}
    backends = {"node": node_backends} if counters else {}
    for where, (there, netns) in places.items():
        if where != "node":
            before_rules[where], backends[where] = netfilter_facts.rules(there, netns, where, dst.version)
    before_kernel = {
        where: netfilter_facts.kernel(there, netns, where) for where, (there, netns) in places.items()
    }
    neighbours = {str(dst)}
    for key in ("pod_route", "node_route", "would_leave_by"):
        if facts.get(key, {}).get("gateway"):
            neighbours.add(facts[key]["gateway"])
    if located.pod.pod_ip:
        neighbours.add(str(located.pod.pod_ip))
    if facts["pod_route"].get("prefsrc"):
        neighbours.add(facts["pod_route"]["prefsrc"])
    also = [(b, p) for b, p, _ in dnat[:1]]
    filt = flow_filter(dst, neighbours) if spec is None else probe_trace_filter(spec, neighbours, also)
    here = [i for i, h in enumerate(hops) if h.remote is None]
    plan = build_trace(
        [
            (
                hops[i].interface,
                hops[i].node_netns if hops[i].node_side else hops[i].netns,
                hops[i].filter,
                hops[i].decode_as or (spec.decode_as if spec else None),
            )
            for i in here
        ],
        filt,
        located.netns,
        dst,
        count=count,
        interval=interval,
        probe=spec,
        timeout=timeout,
        size=size,
        keys=[f"hop{i}" for i in here],
    )
    remote_jobs = _start_remote_captures(
        ex, hops, filt, spec.decode_as if spec else None
    )  # the captures on other machines start first
    try:
        ex.execute(plan)
    finally:
        ex.end_together(remote_jobs)
        for there, job in remote_jobs:
            there.stop(job)
    after_rules = {
        where: netfilter_facts.rules(there, netns, where, dst.version)[0]
        for where, (there, netns) in places.items()
    }
    grown = {
        where: grew(before_kernel[where], netfilter_facts.kernel(there, netns, where))
        for where, (there, netns) in places.items()
    }
    conntrack = (
        netfilter_facts.conntrack(ex, proto, str(dst), port) if counters and proto in ("tcp", "udp") else []
    )
    for i, hop in enumerate(hops):
        res = ex.by_key[f"hop{i}"]
        hop.packets = jc.parse(tcpdump_parser, res.stdout, quiet=True)
        if spec is not None and spec.decode_as == "domain":  # -T domain: DNS on another port
            hop.packets = [tcpdump_parser.as_dns(p) for p in hop.packets]
        if hop.decode_as:  # the underlay: each VXLAN packet as the packet it carries, with its outer header
            hop.packets = decapsulate(hop.packets, hop.interface)
        hop.counters = tcpdump_counters(res.stderr)
    ping_res, ping_lines = parse_ping(ex.by_key["ping"].stdout) if spec is None else (None, [])
    flow = (
        flow_of(spec.kind, str(spec.address), spec.port, also_ports=[p for _, p in also])
        if spec is not None
        else ECHO
    )
    hop_json = correlate(hops, located.node.netns, flow, located.node.label, dst.version)
    diagnostics: dict = {}
    causes = node_forwarding(ex, diagnostics, dst.version) if forwarding_stopped(hop_json, facts) else None
    pod_ip = str(located.pod.pod_ip) if located.pod.pod_ip else None
    moved_rules = {where: moved(before_rules[where], after_rules[where]) for where in places}
    # this probe's connections only (older ones to the same destination may still be tracked)
    sports = {
        str(p.get("src_port")) for p in hops[0].packets if p.get("dst_ip") == str(dst) and p.get("src_port")
    }
    conntrack = [e for e in conntrack if e["orig"].get("sport") in sports]
    nat = nat_entries(
        hop_json, conntrack, [r for rs in moved_rules.values() for r in rs], dnat, str(dst), port
    )
    observations = explain(hop_json, facts, pod_ip, dst, ping_res, causes, flow, rewrites_known=bool(nat))
    probe_outcome = None
    if spec is not None:  # what came of it, read at the pod's own interface (the first hop)
        steps = [r for k, r in ex.by_key.items() if k.startswith("probe")]
        next_hop = facts["pod_route"].get("gateway") or str(spec.address)
        probe_outcome, notes = explain_probe(
            spec, hops[0].packets, next_hop=next_hop, argv=steps[0].step.argv, attempts=len(steps)
        )
        observations += notes
    matched = rules_matched(moved_rules)
    # lost: the destination never answered (a rule's REJECT, a routing error or silence)
    lost = probe_outcome.outcome not in ("answered", "refused") if probe_outcome else not hop_json[0].replies
    found_drops = drops(moved_rules, grown, lost)
    observations += nat_sentences(nat, found_drops, backends, flow.requests)
    encap = encapsulations(hops)
    observations += overlay_sentences(hop_json, encap, facts, mtu_facts(ex, located, hops, facts), size)
    diagnostics["kernel_counters"] = {w: g for w, g in grown.items() if g}
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
        observations=(*located.notes, *observations),
        diagnostics=diagnostics,
        probe=probe_outcome,
        nat=tuple(nat),
        rules_matched=tuple(matched),
        drops=tuple(found_drops),
        encap=tuple(encap),
        commands=tuple(ex.journal.as_json()),
    )
