"""The dispatch table: each command's arguments, to its scenario, to its output. Thin by design: the
decisions live in the scenarios, the look in output/. Imports are inside the handlers so that a command does
not pay at start-up for the others."""

from __future__ import annotations

import sys

from vethctl.errors import BadInput, ExitCode


def _kube(args):
    from vethctl.resolve.kube import KubeScope

    return KubeScope(getattr(args, "namespace", None), getattr(args, "context", None))


def _ends(args):
    from vethctl.allocate import EndsRequest

    return EndsRequest(
        args.host_if, args.pod_if, args.host_addr, args.pod_addr, args.mtu, args.allow_public, args.family
    )


def emit(result, output: str, text) -> None:
    if output == "json":
        from vethctl.output import json as out_json

        out_json.write(result, sys.stdout)
    else:
        sys.stdout.write(text(result))


def run(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.run import RunOptions, run, run_many

    if bool(args.target) == bool(args.selector):
        raise BadInput("run takes a TARGET or -l SELECTOR", hint="e.g. vethctl run pod/web-0, or -l app=web")
    opts = RunOptions(
        target=args.target,
        ends=_ends(args),
        ping=args.ping,
        count=args.count,
        interval=args.interval,
        filter=args.filter,
        probes=tuple(args.probe),
        timeout=args.timeout,
        pcap=args.pcap,
        transcript=args.transcript,
        sudo=args.sudo,
        keep=args.keep,
        dry_run=args.dry_run,
        via=args.via,
        kube=_kube(args),
        nodes=tuple(args.node),
    )
    if args.selector:
        combined = run_many(args.selector, opts, hosts)
        if args.dry_run:
            sys.stdout.write(text.many_dry_run(combined))
        else:
            emit(combined, args.output, text.many_text)
        return max([p.exit_code or 0 for p in combined.pods], default=0)
    live = None
    if args.output == "text" and not args.quiet and not args.dry_run:
        from vethctl.output.live import RunView

        live = RunView(sys.stderr)
    try:
        outcome = run(opts, hosts, on_line=live.on_line if live else None)
    finally:
        if live:
            live.close()
    if outcome.dry_run is not None:
        sys.stdout.write(outcome.dry_run)
    else:
        emit(outcome.report, args.output, text.run_text)
    if outcome.transcript_path and not args.quiet:
        print(f"vethctl: transcript written to {outcome.transcript_path}", file=sys.stderr)
    return ExitCode.OK


def up(args, hosts) -> int:
    from vethctl.output import text

    if bool(args.targets) == bool(args.selector):
        raise BadInput(
            "up takes TARGET... or -l SELECTOR", hint="e.g. vethctl up pod/web-0 pod/web-1, or -l app=web"
        )
    if len(args.targets) == 1:
        from vethctl.scenarios.up import up

        result = up(args.targets[0], _ends(args), hosts, via=args.via, sudo=args.sudo, kube=_kube(args))
        emit(result, args.output, text.up_text)
        return ExitCode.OK
    from vethctl.scenarios.up import up_many

    many = up_many(
        args.targets,
        _ends(args),
        hosts,
        via=args.via,
        sudo=args.sudo,
        kube=_kube(args),
        selector=args.selector,
    )
    emit(many, args.output, text.many_up_text)
    return max([f.exit_code for f in many.failed], default=ExitCode.OK)


def down(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.down import down

    result = down(args.sessions, hosts, all_sessions=args.all, via=args.via)
    emit(result, args.output, text.down_text)
    return _not_removed(result.failed)


def status(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.status import status

    emit(status(hosts, via=args.via), args.output, text.status_text)
    return ExitCode.OK


def gc(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.gc import gc

    result = gc(hosts, via=args.via)
    emit(result, args.output, text.gc_text)
    return _not_removed(result.failed)


def _not_removed(failed) -> int:
    """Teardown removed what it could: what it could not is one error line each, and exit 1."""
    for f in failed:
        print(
            f"vethctl: error: session {f.session}: {', '.join(f.links)} not removed: {f.error}",
            file=sys.stderr,
        )
    return ExitCode.COMMAND_FAILED if failed else ExitCode.OK


def find(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.find import find

    emit(find(args.target, hosts, via=args.via, kube=_kube(args)), args.output, text.find_text)
    return ExitCode.OK


def routes(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.routes import routes

    emit(
        routes(args.target, hosts, to=args.to, via=args.via, kube=_kube(args)), args.output, text.routes_text
    )
    return ExitCode.OK


def ping(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.ping import ping

    r = ping(
        args.target,
        args.address,
        hosts,
        count=args.count,
        interval=args.interval,
        via=args.via,
        kube=_kube(args),
    )
    emit(r, args.output, text.ping_text)
    return ExitCode.OK


def trace(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.trace import trace

    r = trace(
        args.target,
        args.to,
        hosts,
        count=args.count,
        interval=args.interval,
        via=args.via,
        kube=_kube(args),
        probe=args.probe,
        timeout=args.timeout,
        counters=not args.no_counters,
        size=args.size,
        nodes=tuple(args.node),
        family=args.family,
    )
    emit(r, args.output, text.trace_text)
    return ExitCode.OK


def probe(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios.probe import probe

    live = None
    if args.output == "text" and not args.quiet:
        from vethctl.output.live import RunView

        live = RunView(sys.stderr)
    try:
        result = probe(
            args.target,
            args.spec,
            hosts,
            count=args.count,
            timeout=args.timeout,
            pcap=args.pcap,
            via=args.via,
            kube=_kube(args),
            on_line=live.on_line if live else None,
            family=args.family,
        )
    finally:
        if live:
            live.close()
    emit(result, args.output, text.probe_text)
    return ExitCode.OK


def capture(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.output.live import CaptureView
    from vethctl.scenarios.capture import CaptureOptions, capture, capture_many, split_positional
    from vethctl.secure import escape

    session, target = split_positional(args.target)
    opts = CaptureOptions(
        session=session,
        iface=args.iface,
        netns=args.netns,
        read=args.read,
        filter=args.filter,
        count=args.count,
        duration=args.duration,
        pcap=args.pcap,
        output=args.output,
        via=args.via,
        quiet=bool(args.quiet),
        target=target,
        side=args.side,
        kube=_kube(args),
        snaplen=args.snaplen,
        max_size=args.max_size,
        rotate=args.rotate,
        nodes=tuple(args.node),
    )
    # --pcap -: stdout carries the pcap stream, so the packets as text and the summary go to stderr
    text_out = sys.stderr if args.pcap == "-" else sys.stdout
    labels: dict[str, str] | None = {} if args.selector else None
    live = None
    if args.output in ("text", "ndjson") and not (args.quiet and args.pcap == "-"):
        live = CaptureView(text_out, args.output, labels)
    notify = None if args.quiet else (lambda message: print(escape(message), file=sys.stderr, flush=True))
    try:
        if args.selector:
            result = capture_many(
                args.selector,
                opts,
                _kube(args),
                hosts,
                on_line=live and live.on_line,
                labels=labels,
                notify=notify,
            )
        else:
            result = capture(opts, hosts, on_line=live and live.on_line, notify=notify)
    finally:
        if live:
            live.close()
    if args.output == "json":
        from vethctl.output import json as out_json

        print(out_json.dumps(result))
    elif args.output == "text":
        text_out.write(text.capture_text(result))
        text_out.flush()
    return ExitCode.OK


def lab(args, hosts) -> int:
    from vethctl.output import text
    from vethctl.scenarios import lab

    if args.lab_command == "up":
        result = lab.up(
            hosts,
            args.name,
            args.pods,
            args.pod_cidr,
            args.cni,
            args.uplink,
            args.servers,
            args.policy,
            tuple(args.service),
            args.proxy_mode,
            args.nodes,
            args.overlay,
            args.underlay_mtu,
            args.family,
        )
        emit(result, args.output, text.lab_up_text)
    elif args.lab_command == "down":
        emit(lab.down(hosts, args.name), args.output, text.lab_down_text)
    else:
        emit(lab.status(hosts), args.output, text.lab_status_text)
    return ExitCode.OK


def completion(args, hosts) -> int:
    from vethctl.cli.completion import SHELLS
    from vethctl.cli.parser import build_parser, prog_name

    sys.stdout.write(SHELLS[args.shell](build_parser(), prog_name()))
    return ExitCode.OK


def demo(args, hosts) -> int:
    from vethctl.cli.demo import demo

    return demo(hosts, quiet=bool(args.quiet), nodes=args.nodes)


HANDLERS = {
    "run": run,
    "up": up,
    "down": down,
    "status": status,
    "gc": gc,
    "find": find,
    "routes": routes,
    "ping": ping,
    "trace": trace,
    "probe": probe,
    "capture": capture,
    "lab": lab,
    "completion": completion,
    "demo": demo,
}
