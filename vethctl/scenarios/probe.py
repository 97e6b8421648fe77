"""`vethctl probe TARGET SPEC`: probe from inside the pod (TCP, UDP, DNS, ICMP), capture where the probe leaves
the pod, and say what happened, read from the packets. Nothing is attached.

  pod   ip -j route get ADDR          -> the interface the probe leaves by, and the next hop to resolve
  pod   tcpdump -i DEV FILTER &       -> just the probe's packets (its flow, ICMP errors, ARP/ND)
  pod   nc / dig / ping                -> the probe itself, as a person types it
"""

from __future__ import annotations

import os

import jc

from vethctl.allocate import check_family
from vethctl.commands import ip
from vethctl.commands.probe import PROBE_TOOLS
from vethctl.execute.facts import lookup_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import check_writable, require_tools
from vethctl.explain.probe import explain
from vethctl.explain.run import route_sentence
from vethctl.model import PcapHome
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
from vethctl.plan import Plan
from vethctl.plan.capture import capture_steps
from vethctl.plan.probe import probe_filter, probe_steps
from vethctl.probespec import check_probe_options, parse_probe
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.resolve.via import parse_via
from vethctl.results.probe import ProbeCapture, ProbeOutcome, ProbeResult


def probe(
    target: str,
    spec_text: str,
    hosts: Hosts,
    *,
    count: int = 3,
    timeout: int = 2,
    pcap: str | None = None,
    via: str | None = None,
    kube: KubeScope | None = None,
    on_line=None,
    family: int | None = None,
) -> ProbeResult:
    spec = parse_probe(spec_text)
    check_family(family, spec.address, spec_text)
    check_probe_options(count, timeout)
    if pcap is not None:
        check_writable("--pcap", pcap)
    requested, _ = parse_via(via, False)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip", "tcpdump", PROBE_TOOLS[spec.kind])
    if pcap is not None and requested.host:
        require_tools(hosts.local, "tcpdump")  # this machine reads the stream that comes home
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    ex.on_line = on_line
    got, err = lookup_json(
        ex, ip.route_get_json(spec.address), located.netns, purpose=f"which way {spec.address} leaves"
    )
    route = got[0] if got else None
    sentence = route_sentence(str(spec.address), route) + (f" ({err})" if err and not route else "")
    if not route or not route.get("dev") or route.get("type") == "unreachable":
        outcome = ProbeOutcome(
            spec.kind,
            str(spec.address),
            spec.port if spec.kind != "dns" else None,
            spec.name,
            spec.server,
            "unreachable",
            f"no route in the pod: {err or 'unreachable'}",
            (),
            0,
            0,
            (),
        )
        return ProbeResult(
            located.target(),
            outcome,
            route,
            sentence,
            ProbeCapture("", None, "", None, {}, ()),
            (),
            (sentence + ": nothing was sent.",),
            tuple(ex.journal.as_json()),
        )
    dev = route["dev"]
    filt = probe_filter(spec)
    path = pcap and os.path.abspath(pcap)
    home = PcapHome(path) if path and ex.host.remote else None  # the stream comes home, written here
    start, stop = capture_steps(
        dev, filt, None if home else path, netns=located.netns, decode_as=spec.decode_as, home=home
    )
    steps = probe_steps(spec, located.netns, count=count, timeout=timeout)
    ex.execute(Plan((start, *steps, stop)))
    cap = ex.by_key["capture"]
    packets = jc.parse(tcpdump_parser, cap.stdout, quiet=True)
    if spec.decode_as == "domain":  # captured with -T domain: DNS on another port, read as port 53's
        packets = [tcpdump_parser.as_dns(p) for p in packets]
    counters = tcpdump_counters(cap.stderr)
    results = [ex.by_key[s.key] for s in steps]
    outcome, notes = explain(
        spec,
        packets,
        next_hop=route.get("gateway") or str(spec.address),
        argv=steps[0].argv,
        attempts=len(steps),
    )
    tool_output = tuple(line for r in results for line in (r.stdout + r.stderr).splitlines() if line.strip())
    observations = [f"{sentence}: the capture listens on {dev} in the pod, where the probe leaves.", *notes]
    if counters.get("dropped_by_kernel"):
        observations.append(
            f"The kernel dropped {counters['dropped_by_kernel']} packet(s) before tcpdump read them."
        )
    capture = ProbeCapture(
        dev,
        str(located.netns),
        filt,
        os.path.abspath(pcap) if pcap else None,
        counters,
        tuple(packets),
        cap.dropped,
    )
    return ProbeResult(
        located.target(),
        outcome,
        route,
        sentence,
        capture,
        tool_output,
        (*located.notes, *observations),
        tuple(ex.journal.as_json()),
    )
