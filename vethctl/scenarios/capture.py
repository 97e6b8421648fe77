"""`vethctl capture`: tcpdump on a pod (TARGET: its eth0 from inside, or `--side host` its host veth),
on a session's host end, on any interface, or over a pcap file; packets as data. And `capture -l`: in
every matching pod at once, one stream, one merged pcap.

Packets reach the caller live through `on_line` (output/live.py shows them); the result holds them all,
parsed at the end. Ctrl-C ends a live capture the way it ends tcpdump: cleanly, with a summary. With
`--pcap`, tcpdump writes the raw stream (`-U -w -`) wherever it runs and the stream is written here
(execute/pcapstream.py): a remote capture's file is on this machine, `--pcap -` is vethctl's stdout.
"""

from __future__ import annotations

import os
import re
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
from vethctl.model import Netns, Node, PcapHome, check_filter_text, validate_ifname
from vethctl.parsers import tcpdump as tcpdump_parser
from vethctl.parsers.tcpdump_stats import counters as tcpdump_counters
from vethctl.pcap import merge
from vethctl.plan import Step
from vethctl.plan.capture import capture_steps
from vethctl.resolve.files import resolve_netns
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import Located, host_veth_of, locate
from vethctl.resolve.placement import on_its_node, refuse_nodes_without_selector
from vethctl.resolve.select import select
from vethctl.resolve.target import TargetSpec
from vethctl.resolve.via import parse_node_map, parse_via
from vethctl.results.capture import CaptureResult, CaptureSummary, ManyCaptureSummary, PodCapture
from vethctl.secure import create_file
from vethctl.state.records import check_session_id
from vethctl.state.sessions import all_records
from vethctl.state.tagged import entry_node, tagged

Notify = Callable[[str], None]

SIDES = ("pod", "host")
SNAPLEN_MAX = 262144  # tcpdump's own maximum
MAX_SIZE_MB = 1_000_000.0  # a terabyte a file
MIN_SIZE_MB = 0.001  # a kilobyte: a file holds at least one packet whatever the size
ROTATE_MAX = 1000
_SESSION_ID = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class CaptureOptions:
    session: str | None = None
    iface: str | None = None
    netns: str | None = None
    read: str | None = None
    filter: str = ""
    count: int | None = None
    duration: float | None = None
    pcap: str | None = None  # a file of this machine, or "-": the raw stream on stdout
    output: str = "text"
    via: str | None = None
    quiet: bool = False
    target: str | None = None  # a pod, any target kind (the positional word, when it is no session id)
    side: str | None = None  # pod (default: its eth0, from inside) or host (its host-side veth)
    kube: KubeScope = KubeScope()
    snaplen: int | None = None
    max_size: float | None = None  # MB (10^6 bytes) a pcap file, at most
    rotate: int | None = None  # with max_size: rotate, keeping the last K files
    nodes: tuple[str, ...] = ()  # --node ADDR=ssh://HOST: -l reaches the pods of that node over ssh

    @property
    def home(self) -> PcapHome | None:
        """Where the stream goes, with its limits (None: no --pcap)."""
        if self.pcap is None:
            return None
        path = self.pcap if self.pcap == "-" else os.path.abspath(self.pcap)
        max_bytes = int(self.max_size * 1_000_000) if self.max_size else None
        return PcapHome(path, max_bytes, self.rotate)


def split_positional(word: str | None) -> tuple[str | None, str | None]:
    """The positional word: (session, target). A session id is 8 hex digits (vethctl status); anything else,
    KIND/NAME or a bare NAME, is a target (a bare NAME is a pod, as everywhere)."""
    if word is None:
        return None, None
    return (word, None) if _SESSION_ID.fullmatch(word) else (None, word)


def validate(opts: CaptureOptions) -> None:
    sources = [x for x in (opts.target, opts.session, opts.iface, opts.read) if x]
    if len(sources) != 1:
        raise BadInput(
            "capture needs exactly one of TARGET, SESSION, --iface NAME or --read FILE",
            hint="e.g. vethctl capture pod/web-0, vethctl capture 1a2b3c4d, or --iface eth0 --netns cni-...",
        )
    if opts.session:
        check_session_id(opts.session)
    if opts.netns and not opts.iface:
        raise BadInput("--netns goes with --iface", hint="vethctl capture --iface NAME --netns NS")
    if opts.side is not None and not opts.target:
        raise BadInput("--side goes with a TARGET (or -l)", hint="vethctl capture pod/web-0 --side host")
    if opts.iface:
        validate_ifname(opts.iface, "--iface")
    if opts.read and (opts.pcap or opts.snaplen or opts.max_size):
        raise BadInput(
            "--read replays a file: --pcap, --snaplen and --max-size go with a live capture",
            hint="vethctl capture --read FILE [--filter EXPR] [--count N]",
        )
    _check_limits(opts)
    if opts.read and not os.path.isfile(opts.read):
        raise TargetNotFound(f"--read {opts.read}: no such file", hint="give a pcap file")


def _check_limits(opts: CaptureOptions) -> None:
    check_filter_text(opts.filter)
    if opts.side is not None and opts.side not in SIDES:
        raise BadInput(f"--side {opts.side!r} is not pod or host", hint="--side pod (eth0) or --side host")
    if opts.count is not None and not 1 <= opts.count <= 10_000_000:
        raise BadInput(f"--count {opts.count} is out of range", hint="give 1 or more packets")
    if opts.duration is not None and not 0 < opts.duration <= 86400:
        raise BadInput(f"--duration {opts.duration:g} is out of range", hint="give seconds, up to a day")
    if opts.snaplen is not None and not 1 <= opts.snaplen <= SNAPLEN_MAX:
        raise BadInput(
            f"--snaplen {opts.snaplen} is out of range",
            hint=f"give the bytes kept of each packet, 1 to {SNAPLEN_MAX} (e.g. 96: the headers only)",
        )
    if opts.max_size is not None:
        if not MIN_SIZE_MB <= opts.max_size <= MAX_SIZE_MB:
            raise BadInput(
                f"--max-size {opts.max_size:g} is out of range",
                hint=f"give megabytes (10^6 bytes) a file, {MIN_SIZE_MB:g} to {MAX_SIZE_MB:g}",
            )
        if opts.pcap is None:
            raise BadInput(
                "--max-size limits the pcap: give --pcap FILE (or -)", hint="--pcap out.pcap --max-size 100"
            )
    if opts.rotate is not None:
        if not 2 <= opts.rotate <= ROTATE_MAX:
            raise BadInput(
                f"--rotate {opts.rotate} is out of range", hint=f"give the files to keep, 2 to {ROTATE_MAX}"
            )
        if opts.max_size is None or opts.pcap in (None, "-"):
            raise BadInput(
                "--rotate turns files over at --max-size: give --pcap FILE and --max-size MB",
                hint="--pcap out.pcap --max-size 100 --rotate 5",
            )
    if opts.pcap == "-" and opts.output in ("json", "ndjson"):
        raise BadInput(
            f"--pcap - writes the pcap stream to stdout, and -o {opts.output} would write there too",
            hint="write the pcap to a file (--pcap FILE), or leave -o out (the text goes to stderr)",
        )
    if opts.pcap and opts.pcap != "-":
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


def _side(opts: CaptureOptions, located: Located, ex: Executor) -> tuple[str, Netns | None]:
    """The interface a TARGET is captured on: its own (eth0), from inside its namespace, or its host-side
    veth, on the node. Nothing is attached either way."""
    if (opts.side or "pod") == "host":
        veth = host_veth_of(ex, located)
        if not veth:
            raise TargetNotFound(
                f"{located.spec}: the host-side veth of its {_pod_if(located)} is not on {located.node.label}",
                hint="capture inside the pod instead (--side pod), or give the node with --via",
            )
        return veth, None
    return _pod_if(located), located.netns


def _pod_if(located: Located) -> str:
    primary = located.pod.primary
    if not primary:
        raise TargetNotFound(
            f"{located.spec}: its namespace {located.netns} has no interface but lo",
            hint="is the pod running?",
        )
    return primary["ifname"]


def capture(
    opts: CaptureOptions, hosts: Hosts, *, on_line=None, notify: Notify | None = None
) -> CaptureResult:
    validate(opts)
    refuse_nodes_without_selector(opts.nodes, "capture")
    requested, explicit = parse_via(opts.via, False)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "tcpdump")
    if opts.pcap and requested.host:  # the stream comes home: this machine reads it with tcpdump -r -
        require_tools(hosts.local, "tcpdump")
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

    located = None
    if opts.target:
        located, ex = locate(opts.target, hosts=hosts, via=opts.via, kube=opts.kube)
        ex.on_line = on_line
        iface, netns = _side(opts, located, ex)
        node = located.node
    else:
        ex = Executor(hosts.get(requested), requested, on_line=on_line)
        iface, node, netns = _where(opts, ex, requested, explicit)
        require_root(ex.host)
        ex = ex.on(node)
    check_filter(ex, opts.filter, always=True)
    home = opts.home
    start, _ = capture_steps(
        iface, opts.filter, None, netns=netns, count=opts.count, snaplen=opts.snaplen, home=home
    )
    stopped_by = "count" if opts.count else "duration"
    job = None
    try:
        job = ex.start(start)
        if notify:  # after tcpdump said it is listening: a script can wait for this line
            where = (
                f" in netns {netns}" if netns else (f" on {node.label}" if node.netns or node.host else "")
            )
            to = "; the pcap stream on stdout" if home and home.to_stdout else ""
            notify(f"capturing on {iface}{where} ({opts.filter or 'no filter'}){to}; Ctrl-C to stop")
        if ex.wait(job, opts.duration or None):  # else the duration is up
            stopped_by = "count" if opts.count else "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        if job is not None:
            ex.stop(job)
    ended_by = job.home.ended_by if job.home else None
    if ended_by and stopped_by != "Ctrl-C":  # the stream's limit came first, and stopped tcpdump
        stopped_by = ended_by
    res = ex.by_key["capture"]
    if res.rc not in (0, None, -2, 130) and stopped_by != "Ctrl-C" and ended_by is None:
        raise ex.failure(res)
    if job.home is not None and job.home.error:
        raise BadInput(f"--pcap: {job.home.error}", hint="the capture was stopped; what was whole is kept")
    packets = jc.parse(tcpdump_parser, res.stdout, quiet=True)
    result = _result(
        opts,
        iface,
        netns,
        packets,
        tcpdump_counters(res.stderr),
        ex,
        stopped_by=stopped_by,
        not_kept=res.dropped,
    )
    return _with_stream(result, opts, job, located, node)


def _with_stream(result: CaptureResult, opts: CaptureOptions, job, located: Located | None, node: Node):
    """What a TARGET capture and a stream add to the summary: the target, the side, the node, the stream's
    own counts (every packet written, also those the text view could not keep up with), the files kept."""
    cap = result.capture
    changes: dict = {}
    if located is not None:
        changes |= {"target": located.target(), "side": opts.side or "pod"}
    if located is not None or node.host:
        changes["node"] = node.label
    if job.home is not None:
        home = job.home
        changes |= {
            "pcap": home.home.path,
            "pcap_packets": home.packets,
            "pcap_bytes": home.bytes,
            "not_decoded": home.not_decoded,
            "files": tuple(home.files) if opts.rotate else None,
        }
    if opts.snaplen:
        changes["snaplen"] = opts.snaplen
    if opts.max_size:
        changes |= {"max_size_mb": opts.max_size, "rotate": opts.rotate}
    return result.but(capture=cap.but(**changes))


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
    if opts.session or opts.iface or opts.read or opts.target:
        raise BadInput(
            "-l picks the pods: no SESSION, --iface or --read with it, nor a TARGET",
            hint="vethctl capture -l app=web",
        )
    if opts.pcap not in (None, "-") and opts.max_size:
        raise BadInput(
            "with -l, --pcap FILE is merged by time at the end: --max-size and --rotate go with one target"
            " (or with --pcap -)",
            hint="vethctl capture -l app=web --pcap - --max-size 100 > all.pcap",
        )
    _check_limits(opts)
    journal = Executor(hosts.local, Node()).journal  # one list of commands, whichever node ran them
    placed, skipped = select(
        selector,
        kube,
        opts.via,
        hosts,
        Executor(hosts.local, Node(), journal=journal),
        nodes=parse_node_map(opts.nodes),
    )
    # each pod on the node that reaches it (this one, a lab node, a --node ssh host, its debugging pod)
    located, exs, shared = [], [], {}
    for pod, place in placed:
        target, scope, via = on_its_node(pod, place, kube.context)
        loc, on = locate(target, hosts=hosts, via=via, kube=scope, journal=journal)
        on.on_line, on.shared_writers = on_line, shared  # every stream to stdout: one pcap, one header
        located.append((pod, loc))
        exs.append(on)
    if labels is not None:
        labels.update({f"pod{i}": pod.ref for i, (pod, _) in enumerate(located)})
    for on in {on.node.audit_label: on for on in exs}.values():  # once per node
        check_filter(on, opts.filter, always=True)
    if opts.pcap and any(on.host.remote for on in exs):
        require_tools(hosts.local, "tcpdump")
    # each pod's stream comes home: to stdout together, as the packets come, or to a file of its own here,
    # all merged by time into --pcap at the end
    tmpdir = tempfile.mkdtemp(prefix="vethctl-capture-") if opts.pcap and opts.pcap != "-" else None
    steps, where = [], []
    for i, (_pod, loc) in enumerate(located):
        home = opts.home if opts.pcap == "-" else None
        if tmpdir:
            home = PcapHome(os.path.join(tmpdir, f"pod{i}.pcap"))
        iface, netns = _pod_if(loc), loc.netns
        if opts.side == "host":
            if not loc.host_veth:
                raise TargetNotFound(
                    f"{loc.spec}: its host-side veth is not on {loc.node.label}", hint="--side pod"
                )
            iface, netns = loc.host_veth, loc.node.netns
        where.append(iface)
        start, _stop = capture_steps(
            iface,
            opts.filter,
            None,
            key=f"pod{i}",
            netns=netns,
            count=opts.count,
            snaplen=opts.snaplen,
            home=home,
        )
        steps.append(start)
    stopped_by, jobs = "duration", []
    try:
        for on, step in zip(exs, steps, strict=True):
            jobs.append((on, on.start(step)))
        if notify:
            notify(f"capturing in {len(steps)} pod(s) matching {selector}; Ctrl-C to stop")
        deadline = time.monotonic() + opts.duration if opts.duration else None
        for on, job in jobs:  # each in turn: all have ended (count) or the time is up (duration)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not on.wait(job, remaining):
                break
        else:
            stopped_by = "count" if opts.count else "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        if exs:  # on every node at once, as `kill -INT` of them all
            exs[0].end_together(jobs)
        for on in exs:
            on.stop_jobs()
    limit = next((job.home.ended_by for _on, job in jobs if job.home and job.home.ended_by), None)
    if limit and stopped_by != "Ctrl-C":
        stopped_by = limit
    packets, per_pod, not_kept = [], [], 0
    for i, (pod, loc) in enumerate(located):
        res = exs[i].by_key[f"pod{i}"]
        not_kept += res.dropped
        recs = [p | {"pod": pod.ref} for p in jc.parse(tcpdump_parser, res.stdout, quiet=True)]
        packets += recs
        counters = tcpdump_counters(res.stderr)
        per_pod.append(PodCapture(pod.ref, str(loc.netns), where[i], len(recs), counters, loc.node.label))
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
    if opts.pcap == "-":
        merged = "-"
    summary = ManyCaptureSummary(
        selector=selector,
        filter=opts.filter,
        pcap=merged,
        read=None,
        interface="the host veth of each pod" if opts.side == "host" else "eth0 of each pod",
        counters={},
        stopped_by=stopped_by,
        pods=tuple(per_pod),
        packets=tuple(packets),
        packets_not_kept=not_kept,
    )
    return CaptureResult(summary, skipped=tuple(skipped), commands=tuple(journal.as_json()))
