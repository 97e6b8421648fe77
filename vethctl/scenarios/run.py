"""`vethctl run`: the walkthrough, end to end (and `run -l`: in every matching pod at once).

target -> look (read-only) -> allocate -> plan -> [render] -> execute -> parse -> explain -> report
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vethctl import audit, render
from vethctl.allocate import (
    EndsRequest,
    allocate,
    check_family,
    default_ping,
    ends_family,
    validate_request,
)
from vethctl.commands import ip
from vethctl.commands.probe import PROBE_TOOLS
from vethctl.errors import BadInput, VethctlError
from vethctl.execute.executor import Executor
from vethctl.execute.facts import look, lookup_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import check_filter, check_writable, default_filter, require_tools
from vethctl.model import Attachment, Node, check_filter_text, check_pings, parse_address
from vethctl.parsers.ipjson import decode
from vethctl.plan.probe import probe_filter
from vethctl.plan.run import build_run, run_filter
from vethctl.probespec import ProbeSpec, check_probe_options, decode_for, parse_probe
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import Located, host_veth_of, locate
from vethctl.resolve.placement import on_its_node, refuse_nodes_without_selector
from vethctl.resolve.via import parse_node_map, parse_via
from vethctl.secure import write_file
from vethctl.state.lock import AllocationLock
from vethctl.state.sessions import forget, job_entry, session_record, write_record

if TYPE_CHECKING:
    from vethctl.results.run import ManyRunResult, RunReport


def _import_for_the_report() -> None:
    """What only the report needs (the parsers, the explanations, the result types): imported by a thread of
    its own once the pair is attached, while the capture starts and the probes go, instead of before the
    first command (start-up) or after the last (the report)."""
    import jc  # noqa: F401

    from vethctl.explain import probe, run  # noqa: F401
    from vethctl.parsers import ping, tcpdump, tcpdump_stats  # noqa: F401
    from vethctl.results import run as run_results  # noqa: F401


def _preload() -> threading.Thread:
    thread = threading.Thread(target=_import_for_the_report, daemon=True, name="vethctl-report-imports")
    thread.start()
    return thread


MAX_PARALLEL = 8


@dataclass(frozen=True)
class RunOptions:
    """A run's options, as the CLI gives them."""

    target: str
    ends: EndsRequest = field(default_factory=EndsRequest)
    ping: str | None = None
    count: int = 3
    interval: float = 1.0
    filter: str | None = None  # None: the default (ARP and ICMP, or ICMPv6; and each probe's own flow)
    pcap: str | None = None
    transcript: str | None = None
    sudo: bool = False
    keep: bool = False
    dry_run: bool = False
    via: str | None = None
    kube: KubeScope = field(default_factory=KubeScope)
    nodes: tuple[str, ...] = ()  # --node ADDR=ssh://HOST: -l reaches the pods of that node over ssh
    probes: tuple[str, ...] = ()  # --probe SPEC...: in place of the default ping (beside an explicit --ping)
    timeout: int = 2  # each probe attempt's wait

    @property
    def probe_specs(self) -> tuple[ProbeSpec, ...]:
        return tuple(parse_probe(p) for p in self.probes)

    def capture_filter(self, family: int) -> str:
        """--filter, or the default for the ends' family (with each probe's own flow)."""
        return (
            self.filter if self.filter is not None else run_filter(default_filter(family), self.probe_specs)
        )


@dataclass
class RunOutcome:
    """What `run` produced: a report, or (with --dry-run) the plan's command lines."""

    report: RunReport | None = None
    dry_run: str | None = None
    transcript_path: str | None = None


def validate(opts: RunOptions) -> None:
    """Every check that needs no command: bad input is refused before anything is looked at."""
    validate_request(opts.ends)
    check_pings(opts.count, opts.interval)
    check_filter_text(opts.filter)
    if opts.ping is not None:
        check_family(opts.ends.family, parse_address(opts.ping, "--ping"), f"--ping {opts.ping}")
    for spec in opts.probe_specs:  # every SPEC parses, or this is bad input
        check_family(opts.ends.family, spec.address, f"--probe {spec}")
    if opts.probes:
        check_probe_options(opts.count, opts.timeout)
    # --pcap is a file of this machine, also when the capture runs elsewhere (its stream comes home)
    for option, path in (("--pcap", opts.pcap), ("--transcript", opts.transcript)):
        if path is not None:
            check_writable(option, path)


def run(opts: RunOptions, hosts: Hosts, *, on_line=None) -> RunOutcome:
    validate(opts)
    refuse_nodes_without_selector(opts.nodes, "run")
    requested, _ = parse_via(opts.via, opts.sudo)
    if requested.host != "kubectl-debug":  # that node is not known yet: locate() checks once it is
        tools = dict.fromkeys(["ip", "tcpdump", "ping", *(PROBE_TOOLS[p.kind] for p in opts.probe_specs)])
        require_tools(hosts.get(requested), *tools)
    if opts.pcap and requested.host and not opts.dry_run:  # this machine reads the stream: tcpdump -r -
        require_tools(hosts.local, "tcpdump")
    with (
        AllocationLock() as lock
    ):  # from the first look to the last address: no other run allocates meanwhile
        located, ex = locate(opts.target, hosts=hosts, via=opts.via, sudo=opts.sudo, kube=opts.kube)
        ex.on_line = on_line
        node = located.node
        node_view = look(ex, None, "the node")
        host_veth_of(ex, located, node_view.links)
        capture_filter = opts.capture_filter(ends_family(opts.ends, located.pod))
        check_filter(ex, capture_filter)
        # kept: lives with the pod; driven over ssh: no local pid means anything there
        att = allocate(
            opts.ends, located.pod, node_view, mode="up" if opts.keep else ("ssh" if node.host else "run")
        )
        ex.session = att.session
        ping_addr = (
            parse_address(opts.ping, "--ping") if opts.ping else (None if opts.probes else default_ping(att))
        )
        pod_side = _pod_side_probes(ex, located, att, opts.probe_specs)
        plan = build_run(
            att,
            ping_addr=ping_addr,
            count=opts.count,
            interval=opts.interval,
            filter_expr=capture_filter,
            pcap=opts.pcap and os.path.abspath(opts.pcap),
            pcap_home=bool(node.host),  # over ssh or kubectl exec: the stream comes back, written here
            keep=opts.keep,
            probes=opts.probe_specs,
            timeout=opts.timeout,
            pod_captures={
                dev: " or ".join(f"({probe_filter(s)})" for s in specs) for dev, specs in pod_side.items()
            },
        )
        outcome = RunOutcome()
        if opts.transcript:
            header = f"vethctl run {opts.target}: session {att.session}, node {node.label}\n{_ends_line(att)}"
            write_file("--transcript", opts.transcript, render.transcript(plan, node, header=header), 0o755)
            outcome.transcript_path = opts.transcript
        if opts.dry_run:
            outcome.dry_run = render.dry_run(plan, node)
            return outcome
        last_attach = [s for s in plan.steps if s.phase == "attach"][-1]
        record = session_record(att, located.spec, node)
        write_record(record, ex.host)
        preload: list[threading.Thread] = []

        def after_step(step):
            if step is last_attach:
                lock.release()
                preload.append(_preload())

        def spawned(argv, tool_argv, pid):  # gc can end the capture and the probes of a run that was killed
            record["jobs"].append(job_entry(pid, argv, tool_argv, ex.host))
            write_record(record, ex.host)

        ex.on_spawn = spawned
        try:
            ex.execute(plan, after_step=after_step)
        finally:
            if not opts.keep and ex.torn_down:
                forget(att.session, ex.host)
            for thread in preload:  # its imports are done before anything else imports (or exits)
                thread.join()

    outcome.report = _report(opts, located, att, ping_addr, ex, pod_side, capture_filter)
    return outcome


def _packets(text: str, dns_elsewhere: bool) -> list[dict]:
    import jc

    from vethctl.parsers import tcpdump as tcpdump_parser

    packets = jc.parse(tcpdump_parser, text, quiet=True)
    return [tcpdump_parser.as_dns(p) for p in packets] if dns_elsewhere else packets


def _pod_side_probes(ex: Executor, located: Located, att: Attachment, specs) -> dict[str, list[ProbeSpec]]:
    """{interface: probes} for the probes that leave the pod by another interface than the new veth (its
    subnet aside, nothing is routed by the veth): the capture on the host end cannot see them, so they are
    captured where they leave, in the pod."""
    out: dict[str, list[ProbeSpec]] = {}
    for spec in specs:
        if spec.address in att.subnet:
            continue
        got, _ = lookup_json(
            ex, ip.route_get_json(spec.address), located.netns, purpose=f"where {spec} leaves the pod"
        )
        dev = got[0].get("dev") if got else None
        if dev and dev != att.pod_end.name:
            out.setdefault(dev, []).append(spec)
    return out


def _ends_line(att: Attachment) -> str:
    return (
        f"host end {att.host_end.name} {att.host_end.address}, pod end {att.pod_end.name}"
        f" {att.pod_end.address} in {att.pod_end.netns}"
    )


def _report(
    opts: RunOptions,
    located: Located,
    att: Attachment,
    ping_addr,
    ex: Executor,
    pod_side: dict[str, list[ProbeSpec]],
    capture_filter: str,
) -> RunReport:
    from vethctl.explain.probe import explain as explain_probe
    from vethctl.explain.run import explain_run, route_sentence
    from vethctl.parsers.ping import parse_ping
    from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
    from vethctl.results.probe import ProbeCapture
    from vethctl.results.run import End, RunCapture, RunReport, Teardown, Veth

    routes = decode(ex.by_key["pod_routes"].stdout)
    route_get = decode(ex.by_key[f"route_get:{ping_addr}"].stdout) if ping_addr is not None else []
    route = route_get[0] if route_get else None
    ping_res = ex.by_key.get("ping")
    ping, ping_lines = parse_ping(ping_res.stdout) if ping_res else (None, [])
    cap = ex.by_key["capture"]
    dns_elsewhere = decode_for(opts.probe_specs) == "domain"  # captured with -T domain
    packets = _packets(cap.stdout, dns_elsewhere)
    counters = tcpdump_counters(cap.stderr)
    host = End(att.host_end.name, str(att.host_end.address))
    pod_end = End(att.pod_end.name, str(att.pod_end.address))
    vanished = bool(ex.already_gone) and not opts.keep
    observations = []
    if ping_addr is not None:
        observations = explain_run(
            ping_addr=str(ping_addr),
            pod_end=pod_end.to_json(),
            host_end=host.to_json(),
            route=route,
            ping=ping,
            packets=packets,
            counters=counters,
            filter_expr=capture_filter,
        )
    probes, probe_captures, seen_by = [], [], {}
    for dev, specs in pod_side.items():
        res = ex.by_key[f"podcap:{dev}"]
        pod_packets = _packets(res.stdout, dns_elsewhere)
        filt = " or ".join(f"({probe_filter(s)})" for s in specs)
        probe_captures.append(
            ProbeCapture(
                dev, str(att.pod_end.netns), filt, None, tcpdump_counters(res.stderr), tuple(pod_packets)
            )
        )
        seen_by |= {s: (dev, pod_packets) for s in specs}
    for j, spec in enumerate(opts.probe_specs):
        got = decode(ex.by_key[f"route_get:{spec.address}"].stdout)
        hop = (got[0].get("gateway") or str(spec.address)) if got else None
        steps = [r for k, r in ex.by_key.items() if k.startswith(f"probe{j}_")]
        where, seen = seen_by.get(spec, (att.host_end.name, packets))
        outcome, notes = explain_probe(spec, seen, next_hop=hop, argv=steps[0].step.argv, attempts=len(steps))
        probes.append(outcome)
        side = "captured where it leaves the pod" if spec in seen_by else "captured on the host end"
        route_text = route_sentence(str(spec.address), got[0] if got else None)
        observations += [f"{route_text} ({side}, {where}).", *notes]
    if vanished:
        observations.append(
            f"The pair {att.host_end.name} <-> {att.pod_end.name} was already gone at teardown:"
            " something else removed it (or the pod's namespace) during the run."
        )
    return RunReport(
        target=located.target(),
        resolved_by=tuple(located.path),
        node=located.node.label,
        session=att.session,
        veth=Veth(host, pod_end, att.mtu, att.tag),
        routes=tuple(routes),
        route_to_ping=route,
        ping_target=str(ping_addr) if ping_addr is not None else None,
        ping=ping,
        ping_lines=tuple(ping_lines),
        capture=RunCapture(
            att.host_end.name,
            capture_filter,
            os.path.abspath(opts.pcap) if opts.pcap else None,
            counters,
            tuple(packets),
            cap.dropped,
        ),
        commands=tuple(ex.journal.as_json()),
        elapsed_s=round(time.time() - ex.results[0].started, 3) if ex.results else 0.0,
        observations=(*located.notes, *observations),
        teardown=Teardown(
            done=ex.torn_down and not opts.keep,
            removed=att.host_end.name if not opts.keep and not vanished else None,
            already_gone=(att.host_end.name,) if vanished else (),
            how=None if not opts.keep else f"vethctl down {att.session}",
        ),
        audit_log=str(audit.audit_path()),
        probes=tuple(probes) if opts.probes else None,
        probe_captures=tuple(probe_captures) if probe_captures else None,
    )


def run_many(selector: str, opts: RunOptions, hosts: Hosts) -> ManyRunResult:
    """`run -l`: the walkthrough in every matching pod at once (each its own veth, subnet and capture)."""
    if opts.transcript:
        raise BadInput("--transcript writes one pod's run", hint="give one pod, or drop --transcript")
    if opts.ends.host_if or opts.ends.pod_if or opts.ends.host_addr or opts.ends.pod_addr:
        raise BadInput(
            "--host-if/--pod-if/--host-addr/--pod-addr name one pair", hint="let -l choose them per pod"
        )
    from concurrent.futures import ThreadPoolExecutor

    from vethctl.resolve.select import select
    from vethctl.results.run import ManyRunResult, PodRun

    placed, skipped = select(
        selector, opts.kube, opts.via, hosts, Executor(hosts.local, Node()), nodes=parse_node_map(opts.nodes)
    )

    def one(pod_place) -> PodRun:
        pod, place = pod_place
        target, scope, via = on_its_node(pod, place, opts.kube.context)
        o = dataclasses.replace(opts, target=target, kube=scope, via=via, nodes=())
        try:
            out = run(o, hosts)
            return PodRun(pod.ref, pod.node_name, report=out.report, dry_run=out.dry_run)
        except VethctlError as exc:
            return PodRun(pod.ref, pod.node_name, error=str(exc), exit_code=int(exc.exit_code))

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(placed))) as pool:
        results = tuple(pool.map(one, placed))
    return ManyRunResult(selector, results, tuple(skipped))
