"""`vethctl run`: the walkthrough, end to end.

target -> look (read-only) -> allocate -> plan -> [render] -> execute -> parse -> report
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field

from vethctl import audit, render
from vethctl.errors import BadInput
from vethctl.execute import Executor
from vethctl.model import parse_address
from vethctl.plan.run import build_run
from vethctl.scenarios import observe
from vethctl.scenarios.allocate import AllocationLock, EndsRequest, allocate, default_ping, validate_request
from vethctl.scenarios.common import check_pings, look, parse_ping, parse_via, require_tools
from vethctl.scenarios.locate import KubeScope, host_veth_of, locate
from vethctl.sessions import forget, session_record, write_record

DEFAULT_FILTER = "arp or icmp"


@dataclass(frozen=True)
class RunOptions:
    target: str
    ends: EndsRequest = field(default_factory=EndsRequest)
    ping: str | None = None
    count: int = 3
    interval: float = 1.0
    filter: str = DEFAULT_FILTER
    pcap: str | None = None
    transcript: str | None = None
    sudo: bool = False
    keep: bool = False
    dry_run: bool = False
    via: str | None = None
    kube: KubeScope = field(default_factory=KubeScope)


@dataclass
class RunOutcome:
    """What `run` produced: a report, or (with --dry-run) the plan's command lines."""

    report: dict | None = None
    dry_run: str | None = None
    transcript_path: str | None = None


def validate(opts: RunOptions) -> None:
    """Every check that needs no command: bad input is refused before anything is looked at."""
    validate_request(opts.ends)
    check_pings(opts.count, opts.interval)
    if opts.ping is not None:
        parse_address(opts.ping, "--ping")
    remote = bool(opts.via and opts.via.startswith("ssh://"))  # --pcap is then written on that host
    for option, path in (("--pcap", None if remote else opts.pcap), ("--transcript", opts.transcript)):
        if path is not None:
            _check_writable(option, path)


def _check_writable(option: str, path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise BadInput(f"{option} {path}: the directory {directory} does not exist", hint="create it first")
    if os.path.isdir(path):
        raise BadInput(f"{option} {path} is a directory", hint="give a file name")
    if not os.access(directory, os.W_OK):
        raise BadInput(f"{option} {path}: cannot write in {directory}", hint="choose a writable directory")


def check_filter(ex: Executor, filter_expr: str, always: bool = False) -> None:
    """Compile the filter with `tcpdump -d`: a bad one is exit 2 before anything is created."""
    if not filter_expr or (
        filter_expr == DEFAULT_FILTER and not always
    ):  # the default compiles: save a process
        return
    from vethctl.commands import tcpdump

    res = ex.read(tcpdump.check_filter(filter_expr), None, purpose="compile the capture filter",
                  ok_codes={0, 1})  # fmt: skip
    if res.rc != 0:
        msg = next((line for line in res.stderr.splitlines() if "tcpdump:" in line), res.stderr.strip())
        raise BadInput(f"--filter {filter_expr!r} does not compile: {msg.replace('tcpdump: ', '')}",
                       hint="see `man pcap-filter`, e.g. 'arp or icmp'")  # fmt: skip


def run(opts: RunOptions, *, on_line=None) -> RunOutcome:
    validate(opts)
    require_tools("ip", "tcpdump", "ping", node=parse_via(opts.via, opts.sudo)[0])
    with (
        AllocationLock() as lock
    ):  # from the first look to the last address: no other run allocates meanwhile
        located, ex = locate(opts.target, via=opts.via, sudo=opts.sudo, kube=opts.kube)
        ex.on_line = on_line
        pod, node = located.pod, located.node
        node_view = look(ex, None, "the node")
        host_veth_of(ex, located, node_view.links)
        check_filter(ex, opts.filter)
        # kept: lives with the pod; driven over ssh: no local pid means anything there
        att = allocate(opts.ends, pod, node_view, mode="up" if opts.keep else ("ssh" if node.host else "run"))
        ex.session = att.session
        ping_addr = parse_address(opts.ping, "--ping") if opts.ping else default_ping(att)
        plan = build_run(att, ping_addr=ping_addr, count=opts.count, interval=opts.interval,
                               filter_expr=opts.filter, pcap=opts.pcap and os.path.abspath(opts.pcap),
                               keep=opts.keep)  # fmt: skip
        outcome = RunOutcome()
        if opts.transcript:
            header = f"vethctl run {opts.target}: session {att.session}, node {node.label}\n{_ends_line(att)}"
            with open(opts.transcript, "w") as fh:
                fh.write(render.transcript(plan, node, header=header))
            os.chmod(opts.transcript, 0o755)
            outcome.transcript_path = opts.transcript
        if opts.dry_run:
            outcome.dry_run = render.dry_run(plan, node)
            return outcome
        last_attach = [s for s in plan.steps if s.phase == "attach"][-1]
        record = session_record(att, located.spec, node)
        write_record(record, node)

        def after_step(step):
            if step is last_attach:
                lock.release()
            if step.background:  # gc can stop the capture of a run that was killed
                job = ex.jobs[step.key]
                record["jobs"].append({"pid": job.remote_pid or job.proc.pid, "argv": list(job.argv)})
                write_record(record, node)

        try:
            ex.execute(plan, after_step=after_step)
        finally:
            if not opts.keep and ex.torn_down:
                forget(att.session, node)

    outcome.report = _report(opts, located, att, ping_addr, ex, plan)
    return outcome


def _ends_line(att) -> str:
    return (f"host end {att.host_end.name} {att.host_end.address}, pod end {att.pod_end.name}"
            f" {att.pod_end.address} in {att.pod_end.netns}")  # fmt: skip


def _report(opts, located, att, ping_addr, ex: Executor, plan) -> dict:
    routes = json.loads(ex.by_key["pod_routes"].stdout or "[]")
    route_get = json.loads(ex.by_key[f"route_get:{ping_addr}"].stdout or "[]")
    route = route_get[0] if route_get else None
    ping_res = ex.by_key.get("ping")
    ping, ping_lines = parse_ping(ping_res.stdout) if ping_res else (None, [])
    import jc

    from vethctl.parsers import tcpdump as tcpdump_parser

    cap = ex.by_key["capture"]
    packets = jc.parse(tcpdump_parser, cap.stdout, quiet=True)
    counters = observe.tcpdump_counters(cap.stderr)
    host = {"name": att.host_end.name, "address": str(att.host_end.address)}
    pod_end = {"name": att.pod_end.name, "address": str(att.pod_end.address)}
    vanished = bool(ex.already_gone) and not opts.keep
    report = {
        "target": located.as_json(),
        "resolved_by": located.path,
        "node": located.node.label,
        "session": att.session,
        "veth": {"host": host, "pod": pod_end, "mtu": att.mtu, "tag": att.tag},
        "routes": routes,
        "route_to_ping": route,
        "ping_target": str(ping_addr),
        "ping": ping,
        "ping_lines": ping_lines,
        "capture": {
            "interface": att.host_end.name,
            "filter": opts.filter,
            "pcap": os.path.abspath(opts.pcap) if opts.pcap else None,
            "counters": counters,
            "packets": packets,
        },
        "commands": [r.as_json() for r in ex.results],
        "elapsed_s": round(time.time() - ex.results[0].started, 3) if ex.results else 0.0,
        "observations": observe.explain_run(
            ping_addr=str(ping_addr),
            pod_end=pod_end,
            host_end=host,
            route=route,
            ping=ping,
            packets=packets,
            counters=counters,
            filter_expr=opts.filter,
        ),  # fmt: skip
        "teardown": {
            "done": ex.torn_down and not opts.keep,
            "removed": att.host_end.name if not opts.keep and not vanished else None,
            "already_gone": [att.host_end.name] if vanished else [],
            "how": None if not opts.keep else f"vethctl down {att.session}",
        },
        "audit_log": str(audit.audit_path()),
    }
    if vanished:
        report["observations"].append(f"The pair {att.host_end.name} <-> {att.pod_end.name} was already gone at teardown:"
                                      " something else removed it (or the pod's namespace) during the run.")  # fmt: skip
    return report
