"""`vethctl capture`: tcpdump on a session's host end, on any interface, or over a pcap file; packets as data.

Text shows each packet as it arrives with a running count; ndjson prints each record as it arrives; json
prints one document at the end. Ctrl-C ends a live capture the way it ends tcpdump: cleanly, with a summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

from vethctl.commands import tcpdump
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute import Executor
from vethctl.model import Netns, Node, validate_ifname
from vethctl.plan import Step
from vethctl.plan.capture import capture_steps
from vethctl.scenarios.common import parse_via, require_root, require_tools
from vethctl.scenarios.observe import tcpdump_counters


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
        raise BadInput("capture needs exactly one of SESSION, --iface NAME or --read FILE",
                       hint="e.g. vethctl capture 1a2b3c4d, or --iface eth0 --netns cni-...")  # fmt: skip
    if opts.netns and not opts.iface:
        raise BadInput("--netns goes with --iface", hint="vethctl capture --iface NAME --netns NS")
    if opts.iface:
        validate_ifname(opts.iface, "--iface")
    if opts.count is not None and not 1 <= opts.count <= 10_000_000:
        raise BadInput(f"--count {opts.count} is out of range", hint="give 1 or more packets")
    if opts.duration is not None and not 0 < opts.duration <= 86400:
        raise BadInput(f"--duration {opts.duration:g} is out of range", hint="give seconds, up to a day")
    if opts.read and not os.path.isfile(opts.read):
        raise TargetNotFound(f"--read {opts.read}: no such file", hint="give a pcap file")
    if opts.pcap:
        from vethctl.scenarios.run import _check_writable

        _check_writable("--pcap", opts.pcap)


def _where(opts: CaptureOptions) -> tuple[str, Node, Netns | None]:
    """The interface, the node it is on, and the namespace it is in (None: the node's own)."""
    node, _ = parse_via(opts.via, False)
    if opts.session:
        from vethctl.scenarios.session import entry_node, tagged

        found, _ = tagged(opts.via)
        mine = [e for e in found if e["session"] == opts.session]
        if not mine:
            raise TargetNotFound(f"no session {opts.session} has links", hint="`vethctl status` lists them")
        return mine[0]["host_if"], entry_node(mine[0]), None
    netns = None
    if opts.netns:
        from vethctl.resolve import TargetSpec, resolve_netns

        netns = resolve_netns(TargetSpec("nspath" if opts.netns.startswith("/") else "netns", opts.netns))
    return opts.iface, node, netns


def check_filter(ex: Executor, filter_expr: str) -> None:
    from vethctl.scenarios.run import check_filter as check

    check(ex, filter_expr, always=True)


def capture(opts: CaptureOptions, out=sys.stdout) -> dict:
    validate(opts)
    require_tools("tcpdump", node=parse_via(opts.via, False)[0])
    import jc

    from vethctl.parsers import tcpdump as parser
    from vethctl.report import format_packet, packet_of_line

    if opts.read:
        ex = Executor(Node())
        check_filter(ex, opts.filter)
        argv = tcpdump.read(os.path.abspath(opts.read), filter_expr=opts.filter, count=opts.count)
        res = ex.run(Step(argv, purpose="read the pcap", phase="capture"))
        packets = jc.parse(parser, res.stdout, quiet=True)
        if opts.output == "ndjson":
            for p in packets:
                out.write(json.dumps(p) + "\n")
        elif opts.output == "text":
            for i, p in enumerate(packets, 1):
                out.write(f"[{i:>5}] {format_packet(p)}\n")
        return _summary(
            opts, opts.read, None, packets, tcpdump_counters(res.stderr), ex, stopped_by="end of file"
        )

    iface, node, netns = _where(opts)
    require_root(node)
    lock = threading.Lock()
    seen = [0]

    def on_line(key: str, line: str) -> None:
        packet = packet_of_line(line)
        if packet is None:
            return
        with lock:
            seen[0] += 1
            if opts.output == "text":
                out.write(f"[{seen[0]:>5}] {format_packet(packet)}\n")
            elif opts.output == "ndjson":
                out.write(json.dumps(packet) + "\n")
            out.flush()

    ex = Executor(node, on_line=on_line)
    check_filter(ex, opts.filter)
    start, _ = capture_steps(iface, opts.filter, opts.pcap and os.path.abspath(opts.pcap), netns=netns,
                                   count=opts.count)  # fmt: skip
    stopped_by = "count" if opts.count else "duration"
    job = None
    try:
        job = ex.start(start)
        if not opts.quiet:  # after tcpdump said it is listening: a script can wait for this line
            where = f" in netns {netns}" if netns else (f" on {node.label}" if node.netns else "")
            print(f"capturing on {iface}{where} ({opts.filter or 'no filter'}); Ctrl-C to stop", file=sys.stderr,
                  flush=True)  # fmt: skip
        with contextlib.suppress(subprocess.TimeoutExpired):  # the duration is up; Ctrl-C still interrupts
            job.proc.wait(timeout=opts.duration or None)
        if job.proc.returncode is not None and not opts.count:
            stopped_by = "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        if job is not None:
            ex.stop(job)
    res = ex.by_key["capture"]
    if res.rc not in (0, None, -2, 130) and stopped_by != "Ctrl-C":
        from vethctl.errors import CommandFailed
        from vethctl.render import command_text

        raise CommandFailed(res.argv, res.rc, res.stderr, shown=command_text(res.argv))
    packets = jc.parse(parser, res.stdout, quiet=True)
    return _summary(opts, iface, netns, packets, tcpdump_counters(res.stderr), ex, stopped_by=stopped_by)


def _summary(opts, iface, netns, packets, counters, ex, *, stopped_by) -> dict:
    return {
        "capture": {
            "interface": iface,
            "netns": str(netns) if netns else None,
            "filter": opts.filter,
            "pcap": os.path.abspath(opts.pcap) if opts.pcap else None,
            "read": opts.read,
            "counters": counters,
            "stopped_by": stopped_by,
            "packets": packets,
        },  # fmt: skip
        "commands": [r.as_json() for r in ex.results],
    }
