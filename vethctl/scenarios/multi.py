"""Several pods at once, by label selector (`-l`): `run` and `capture` over every matching pod on its node,
one combined report (and, for capture, one merged pcap with each packet attributed to its pod).

Pods on other nodes are listed as skipped, with the reason and the way to reach them (--via), unless the
--via given reaches their node.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

from vethctl.errors import BadInput, TargetNotFound, VethctlError
from vethctl.execute import Executor
from vethctl.model import Node
from vethctl.scenarios.locate import KubeScope, locate

MAX_PARALLEL = 8


def select(selector: str, kube: KubeScope, via: str | None) -> tuple[list, list[dict]]:
    """The matching pods this node (or the --via host) can reach, and the others with why not."""
    from vethctl.parsers.kube import refusal
    from vethctl.resolve import kube as k8s
    from vethctl.scenarios import lab
    from vethctl.scenarios.common import parse_via

    node, _ = parse_via(via, False)
    pods = k8s.list_pods(selector, kube.namespace, kube.context, Executor(Node()))
    if not pods:
        ns = kube.namespace or "the current namespace"
        raise TargetNotFound(f"no pod matches -l {selector} in {ns}", hint="kubectl get pods -l ... -n ...")
    if node.host:
        from urllib.parse import urlsplit

        from vethctl.execute import host_for

        here = [host_for(node).hostname(), urlsplit(node.host).hostname]
    else:
        here = k8s.this_node_name()
    here += [r["name"] for r in lab.status(node) if r.get("up")]
    runnable, skipped = [], []
    for pod in pods:
        this = pod.node_name if pod.node_name in here else (here[0] if here else "")
        why = refusal(pod, this)
        if why:
            skipped.append({"pod": pod.ref, "node": pod.node_name, "why": why})
        else:
            runnable.append(pod)
    if not runnable:
        raise TargetNotFound(f"none of the {len(pods)} pod(s) matching -l {selector} can be reached from here: "
                             f"{skipped[0]['why']}")  # fmt: skip
    return runnable, skipped


def run_many(selector: str, opts) -> dict:
    """`run -l`: the walkthrough in every matching pod at once (each its own veth, subnet and capture)."""
    from vethctl.scenarios.run import run

    if opts.transcript:
        raise BadInput("--transcript writes one pod's run", hint="give one pod, or drop --transcript")
    if opts.ends.host_if or opts.ends.pod_if or opts.ends.host_addr or opts.ends.pod_addr:
        raise BadInput(
            "--host-if/--pod-if/--host-addr/--pod-addr name one pair", hint="let -l choose them per pod"
        )
    pods, skipped = select(selector, opts.kube, opts.via)

    def one(pod) -> dict:
        o = dataclasses.replace(opts, target=f"ip/{pod.pod_ip}", kube=KubeScope())
        try:
            out = run(o)
            return {"pod": pod.ref, "node": pod.node_name, "report": out.report, "dry_run": out.dry_run}
        except VethctlError as exc:
            return {"pod": pod.ref, "node": pod.node_name, "error": str(exc), "exit_code": exc.exit_code}

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(pods))) as pool:
        results = list(pool.map(one, pods))
    return {"selector": selector, "pods": results, "skipped": skipped}


def capture_many(selector: str, opts, kube: KubeScope) -> dict:
    """`capture -l`: tcpdump in every matching pod at once (its eth0, from inside), one stream of packets."""
    import threading

    import jc

    from vethctl.parsers import tcpdump as parser
    from vethctl.pcapmerge import merge
    from vethctl.plan.capture import capture_steps
    from vethctl.report import format_packet, packet_of_line
    from vethctl.scenarios.capture import check_filter, validate
    from vethctl.scenarios.common import parse_via
    from vethctl.scenarios.observe import tcpdump_counters

    if opts.session or opts.iface or opts.read:
        raise BadInput(
            "-l picks the pods: no SESSION, --iface or --read with it", hint="vethctl capture -l app=web"
        )
    validate(dataclasses.replace(opts, iface="eth0"))
    pods, skipped = select(selector, kube, opts.via)
    located = []
    for pod in pods:
        loc, _ = locate(f"ip/{pod.pod_ip}", via=opts.via)
        located.append((pod, loc))
    lock, seen = threading.Lock(), [0]
    names = {f"pod{i}": pod.ref for i, (pod, _) in enumerate(located)}

    def on_line(key: str, line: str) -> None:
        packet = packet_of_line(line)
        if packet is not None and opts.output in ("text", "ndjson"):
            with lock:
                seen[0] += 1
                if opts.output == "text":
                    print(f"[{seen[0]:>5}] {names[key]:<24} {format_packet(packet)}", flush=True)
                else:
                    import json

                    print(json.dumps(packet | {"pod": names[key]}), flush=True)

    node, _ = parse_via(opts.via, False)
    ex = Executor(node, on_line=on_line)
    check_filter(ex, opts.filter)
    tmpdir = tempfile.mkdtemp(prefix="vethctl-capture-") if opts.pcap else None
    steps = []
    for i, (_pod, loc) in enumerate(located):
        pcap = os.path.join(tmpdir, f"pod{i}.pcap") if tmpdir else None
        start, _stop = capture_steps(loc.pod.primary["ifname"], opts.filter, pcap, key=f"pod{i}",
                                           netns=loc.netns, count=opts.count)  # fmt: skip
        steps.append(start)
    stopped_by = "duration"
    try:
        for step in steps:
            ex.start(step)
        if not opts.quiet:
            import sys

            print(
                f"capturing in {len(steps)} pod(s) matching {selector}; Ctrl-C to stop",
                file=sys.stderr,
                flush=True,
            )
        import time

        deadline = time.monotonic() + opts.duration if opts.duration else None
        import subprocess

        for job in ex.jobs.values():  # each in turn: all have ended (count) or the time is up (duration)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                job.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                break
        else:
            stopped_by = "count" if opts.count else "tcpdump ended"
    except KeyboardInterrupt:
        stopped_by = "Ctrl-C"
    finally:
        ex.stop_jobs()
    packets, per_pod = [], []
    for i, (pod, loc) in enumerate(located):
        res = ex.by_key[f"pod{i}"]
        recs = [p | {"pod": pod.ref} for p in jc.parse(parser, res.stdout, quiet=True)]
        packets += recs
        per_pod.append({"pod": pod.ref, "netns": str(loc.netns), "interface": loc.pod.primary["ifname"],
                        "packets": len(recs), "counters": tcpdump_counters(res.stderr)})  # fmt: skip
    packets.sort(key=lambda p: p.get("timestamp") or 0)
    merged = None
    if tmpdir:
        files = [os.path.join(tmpdir, f) for f in sorted(os.listdir(tmpdir))]
        merge(files, opts.pcap)
        merged = os.path.abspath(opts.pcap)
        for f in files:
            os.unlink(f)
        os.rmdir(tmpdir)
    return {"capture": {"selector": selector, "filter": opts.filter, "pcap": merged, "read": None,
                        "interface": "eth0 of each pod", "counters": {}, "stopped_by": stopped_by,
                        "pods": per_pod, "packets": packets},
            "skipped": skipped, "commands": [r.as_json() for r in ex.results]}  # fmt: skip
