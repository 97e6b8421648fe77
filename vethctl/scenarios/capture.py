"""`vethctl capture`: tcpdump on a session's host end, on any interface, or over a pcap file; packets as data.
And `capture -l`: in every matching pod at once, one stream, one merged pcap.

Packets reach the caller live through `on_line` (output/live.py shows them); the result holds them all,
parsed at the end. Ctrl-C ends a live capture the way it ends tcpdump: cleanly, with a summary.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

import jc

from vethctl.commands import tcpdump
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import check_filter, check_writable, require_root, require_tools
from vethctl.model import Netns, Node, check_filter_text, validate_ifname
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
from vethctl.pcap import merge
from vethctl.plan import Step
from vethctl.plan.capture import capture_steps
from vethctl.resolve.files import resolve_netns
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.resolve.select import select
from vethctl.resolve.target import TargetSpec
from vethctl.resolve.via import parse_via
from vethctl.results.capture import CaptureResult, CaptureSummary, ManyCaptureSummary, PodCapture
from vethctl.secure import create_file
from vethctl.state.records import check_session_id
from vethctl.state.sessions import all_records
from vethctl.state.tagged import entry_node, tagged

Notify = Callable[[str], None]


@dataclass(frozen=True)
class CaptureOptions:
    session: str | None = None
    iface: str | None = None
    netns: str | None = None
    read: str | None = None
    filter: str = ""
    count: int | None = None
    duration: float | None = None
    pcap: str | None = None
    output: str = "text"
    via: str | None = None
    quiet: bool = False


def validate(opts: CaptureOptions) -> None:
    sources = [x for x in (opts.session, opts.iface, opts.read) if x]
    if len(sources) != 1:
        raise BadInput(
            "capture needs exactly one of SESSION, --iface NAME or --read FILE",
            hint="e.g. vethctl capture 1a2b3c4d, or --iface eth0 --netns cni-...",
        )
    if opts.session:
        check_session_id(opts.session)
    if opts.netns and not opts.iface:
        raise BadInput("--netns goes with --iface", hint="vethctl capture --iface NAME --netns NS")
    if opts.iface:
        validate_ifname(opts.iface, "--iface")
    _check_limits(opts)
    if opts.read and not os.path.isfile(opts.read):
        raise TargetNotFound(f"--read {opts.read}: no such file", hint="give a pcap file")


def _check_limits(opts: CaptureOptions) -> None:
    check_filter_text(opts.filter)
    if opts.count is not None and not 1 <= opts.count <= 10_000_000:
        raise BadInput(f"--count {opts.count} is out of range", hint="give 1 or more packets")
    if opts.duration is not None and not 0 < opts.duration <= 86400:
        raise BadInput(f"--duration {opts.duration:g} is out of range", hint="give seconds, up to a day")
    if opts.pcap:
        check_writable("--pcap", opts.pcap)


def _where(
    opts: CaptureOptions, ex: Executor, requested: Node, explicit: bool
) -> tuple[str, Node, Netns | None]:
    """The interface, the node it is on, and the namespace it is in (None: the node's own)."""
    if opts.session:
        found = tagged(ex, requested, explicit, all_records(ex.host))
        mine = [e for e in found if e.session == opts.session]
        if not mine:
            raise TargetNotFound(f"no session {opts.session} has links", hint="`vethctl status` lists them")
        return mine[0].host_if, entry_node(mine[0], requested), None
    netns = None
    if opts.netns:
        spec = TargetSpec("nspath" if opts.netns.startswith("/") else "netns", opts.netns)
        netns = resolve_netns(spec, ex.host)
    return opts.iface, requested, netns


def capture(
    opts: CaptureOptions, hosts: Hosts, *, on_line=None, notify: Notify | None = None
) -> CaptureResult:
    validate(opts)
    requested, explicit = parse_via(opts.via, False)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "tcpdump")
    if opts.read:
        ex = Executor(hosts.local, Node(), on_line=on_line)
        check_filter(ex, opts.filter, always=True)
        argv = tcpdump.read(os.path.abspath(opts.read), filter_expr=opts.filter, count=opts.count)
        res = ex.run(Step(argv, purpose="read the pcap", phase="capture", key="capture", stream=True))
        packets = jc.parse(tcpdump_parser, res.stdout, quiet=True)
        return _result(
            opts,
            opts.read,
            None,
            packets,
            tcpdump_counters(res.stderr),
            ex,
            stopped_by="end of file",
            not_kept=res.dropped,
        )

    ex = Executor(hosts.get(requested), requested, on_line=on_line)
    iface, node, netns = _where(opts, ex, requested, explicit)
    require_root(ex.host)
    ex = ex.on(node)
    check_filter(ex, opts.filter, always=True)
    start, _ = capture_steps(
        iface, opts.filter, opts.pcap and os.path.abspath(opts.pcap), netns=netns, count=opts.count
    )
    stopped_by = "count" if opts.count else "duration"
    job = None
    try:
        job = ex.start(start)
        if notify:  # after tcpdump said it is listening: a script can wait for this line
            where = f" in netns {netns}" if netns else (f" on {node.label}" if node.netns else "")
            notify(f"capturing on {iface}{where} ({opts.filter or 'no filter'}); Ctrl-C to stop")
        if ex.wait(job, opts.duration or None) and not opts.count:  # else the duration is up
            stopped_by = "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        if job is not None:
            ex.stop(job)
    res = ex.by_key["capture"]
    if res.rc not in (0, None, -2, 130) and stopped_by != "Ctrl-C":
        raise ex.failure(res)
    packets = jc.parse(tcpdump_parser, res.stdout, quiet=True)
    return _result(
        opts,
        iface,
        netns,
        packets,
        tcpdump_counters(res.stderr),
        ex,
        stopped_by=stopped_by,
        not_kept=res.dropped,
    )


def _result(opts, iface, netns, packets, counters, ex: Executor, *, stopped_by, not_kept=0) -> CaptureResult:
    summary = CaptureSummary(
        interface=iface,
        netns=str(netns) if netns else None,
        filter=opts.filter,
        pcap=os.path.abspath(opts.pcap) if opts.pcap else None,
        read=opts.read,
        counters=counters,
        stopped_by=stopped_by,
        packets=tuple(packets),
        packets_not_kept=not_kept,
    )
    return CaptureResult(summary, commands=tuple(ex.journal.as_json()))


def capture_many(
    selector: str,
    opts: CaptureOptions,
    kube: KubeScope,
    hosts: Hosts,
    *,
    on_line=None,
    labels: dict[str, str] | None = None,
    notify: Notify | None = None,
) -> CaptureResult:
    """`capture -l`: tcpdump in every matching pod at once (its eth0, from inside), one stream of packets.
    `labels` (the live view's) learns which pod each capture key (pod0, pod1...) is before any starts."""
    if opts.session or opts.iface or opts.read:
        raise BadInput(
            "-l picks the pods: no SESSION, --iface or --read with it", hint="vethctl capture -l app=web"
        )
    _check_limits(opts)
    placed, skipped = select(selector, kube, opts.via, hosts, Executor(hosts.local, Node()))
    pods = [pod for pod, _place in placed]
    located = [(pod, locate(f"ip/{pod.pod_ip}", hosts=hosts, via=opts.via)[0]) for pod in pods]
    if labels is not None:
        labels.update({f"pod{i}": pod.ref for i, (pod, _) in enumerate(located)})
    requested, _ = parse_via(opts.via, False)
    ex = Executor(hosts.get(requested), requested, on_line=on_line)
    check_filter(ex, opts.filter, always=True)
    tmpdir = tempfile.mkdtemp(prefix="vethctl-capture-") if opts.pcap else None
    steps = []
    for i, (_pod, loc) in enumerate(located):
        pcap = os.path.join(tmpdir, f"pod{i}.pcap") if tmpdir else None
        start, _stop = capture_steps(
            loc.pod.primary["ifname"], opts.filter, pcap, key=f"pod{i}", netns=loc.netns, count=opts.count
        )
        steps.append(start)
    stopped_by = "duration"
    try:
        for step in steps:
            ex.start(step)
        if notify:
            notify(f"capturing in {len(steps)} pod(s) matching {selector}; Ctrl-C to stop")
        deadline = time.monotonic() + opts.duration if opts.duration else None
        for job in ex.jobs.values():  # each in turn: all have ended (count) or the time is up (duration)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not ex.wait(job, remaining):
                break
        else:
            stopped_by = "count" if opts.count else "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        ex.stop_jobs()
    packets, per_pod, not_kept = [], [], 0
    for i, (pod, loc) in enumerate(located):
        res = ex.by_key[f"pod{i}"]
        not_kept += res.dropped
        recs = [p | {"pod": pod.ref} for p in jc.parse(tcpdump_parser, res.stdout, quiet=True)]
        packets += recs
        per_pod.append(
            PodCapture(
                pod.ref, str(loc.netns), loc.pod.primary["ifname"], len(recs), tcpdump_counters(res.stderr)
            )
        )
    packets.sort(key=lambda p: p.get("timestamp") or 0)
    merged = None
    if tmpdir:
        files = [os.path.join(tmpdir, f) for f in sorted(os.listdir(tmpdir))]
        with os.fdopen(create_file("--pcap", opts.pcap, 0o644), "wb") as out:
            merge(files, out)
        merged = os.path.abspath(opts.pcap)
        for f in files:
            os.unlink(f)
        os.rmdir(tmpdir)
    summary = ManyCaptureSummary(
        selector=selector,
        filter=opts.filter,
        pcap=merged,
        read=None,
        interface="eth0 of each pod",
        counters={},
        stopped_by=stopped_by,
        pods=tuple(per_pod),
        packets=tuple(packets),
        packets_not_kept=not_kept,
    )
    return CaptureResult(summary, skipped=tuple(skipped), commands=tuple(ex.journal.as_json()))
