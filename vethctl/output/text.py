"""The human text of each result: rendered from the same values the JSON documents come from.

Names come from pods (an interface renamed to `e\x01x`), kubectl and users, and iproute2 prints control
characters as they are: every report is shown with its non-printable characters escaped (`shown`), so that a
pod cannot write escape sequences to the terminal of whoever reads the report."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from vethctl.render import command_text, comment, here_document
from vethctl.secure import escape, escape_lines

if TYPE_CHECKING:  # annotations only: a command imports its own results' module, not every one
    from vethctl.results.capture import CaptureResult
    from vethctl.results.lab import LabDownResult, LabStatusResult, LabUpResult
    from vethctl.results.look import PingResult, RoutesResult
    from vethctl.results.probe import ProbeResult
    from vethctl.results.run import ManyRunResult, RunReport, Veth
    from vethctl.results.sessions import DownResult, GcResult, StatusResult
    from vethctl.results.target import FindResult
    from vethctl.results.trace import TraceResult
    from vethctl.results.up import ManyUpResult, UpResult


def shown(render: Callable[..., str]) -> Callable[..., str]:
    """A report renderer whose text is safe on a terminal: non-printable characters escaped, lines kept."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs) -> str:
        return escape_lines(render(*args, **kwargs))

    return wrapper


_ROUTE_KEYS = (
    ("gateway", "via"),
    ("dev", "dev"),
    ("protocol", "proto"),
    ("scope", "scope"),
    ("prefsrc", "src"),
    ("metric", "metric"),
)


def format_route(route: dict) -> str:
    """One `ip -j route` entry as `ip route` prints it."""
    parts = [route["type"]] if route.get("type") not in (None, "unicast") else []
    parts.append(route.get("dst", "?"))
    for key, word in _ROUTE_KEYS:
        if route.get(key) not in (None, ""):
            parts += [word, str(route[key])]
    parts += [f for f in route.get("flags", [])]
    return " ".join(parts)


def format_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")


def format_packet(p: dict) -> str:
    """A packet record in one short line: what it is, between whom (escaped: the live view prints it)."""
    t = format_time(p.get("timestamp"))
    if p.get("arp_op") == "request":
        what = f"ARP request  who-has {p.get('target_ip')} tell {p.get('sender_ip')}"
    elif p.get("arp_op") == "reply":
        what = f"ARP reply    {p.get('sender_ip')} is-at {p.get('sender_mac')}"
    elif p.get("src_ip"):
        proto = (p.get("protocol") or "ip").upper()
        src, dst = p.get("src_ip"), p.get("dst_ip")
        if p.get("src_port") is not None:
            src, dst = f"{src}.{p['src_port']}", f"{dst}.{p.get('dst_port')}"
        detail = p.get("icmp_type") or p.get("tcp_flags") and f"[{p['tcp_flags']}]" or ""
        target = p.get("target_ip") or p.get("nd_target")  # Neighbor Discovery: who is asked for
        if target and detail == "neighbor solicitation":
            detail += f", who has {target}"
        elif target and detail == "neighbor advertisement":
            detail += f", tgt is {target}"
        if p.get("icmp_seq") is not None:
            detail += f" id {p.get('icmp_id')} seq {p['icmp_seq']}"
        what = f"{proto:<5}        {src} > {dst} {detail}".rstrip()
    else:
        what = f"{p.get('ethertype') or '?'} {p.get('unparsed') or ''}".rstrip()
    macs = f"   ({p.get('src_mac')} > {p.get('dst_mac')})" if p.get("src_mac") else ""
    return escape(f"{t}  {what}{macs}")


def _not_kept(count: int) -> str:
    """What a report says of the packets it did not keep (a flood: the first ones are kept, the rest counted)."""
    return f" shown, and {count} more not kept (a report keeps the first ones)" if count else ""


def _veth_line(veth: Veth) -> str:
    h, p = veth.host, veth.pod
    return f"{h.name} {h.address} (node)  <->  {p.name} {p.address} (pod)"


@shown
def run_text(r: RunReport) -> str:
    t = r.target
    lines = [
        f"vethctl run {t.text}  (node: {r.node})",
        f"  pod   netns {t.netns or t.netns_path}, {t.pod_if or 'eth0'} {' '.join(t.pod_ips or ()) or t.pod_ip},"
        f" mtu {t.mtu}",
        f"  veth  {_veth_line(r.veth)}, mtu {r.veth.mtu}, session {r.session}",
        "",
        "pod routes after attaching (+ new):",
    ]
    for route in r.routes:
        mark = "+" if route.get("dev") == r.veth.pod.name else " "
        lines.append(f"  {mark} {format_route(route)}")
    if r.ping_target is not None:
        lines += ["", f"ping {r.ping_target} from the pod:"]
        for raw in r.ping_lines:
            lines.append(f"    {raw}")
    for p in r.probes or ():
        lines += ["", f"probe {_spec_text(p)} from the pod: {p.outcome} ({p.detail})"]
    cap = r.capture
    lines += [
        "",
        f"capture on {cap.interface} ({cap.filter or 'no filter'}): {len(cap.packets)} packet(s)"
        + _not_kept(cap.packets_not_kept)
        + (f", saved to {cap.pcap}" if cap.pcap else ""),
    ]
    for p in cap.packets:
        lines.append(f"    {format_packet(p)}")
    lines += ["", "what happened:"]
    lines += [f"  - {o}" for o in r.observations]
    cmds = r.commands
    lines += [
        "",
        f"ran {len(cmds)} commands in {r.elapsed_s:.2f} s (each one is in the audit log {r.audit_log}):",
    ]
    for c in cmds:
        shown = (
            here_document(command_text(c["argv"]), "\n".join(c["lines"]))
            if "lines" in c
            else [command_text(c["argv"])]
        )
        lines.append(f"  [{c['phase']:<8}] {shown[0]}")
        lines += [f"             {more}" for more in shown[1:]]  # a batch's input, under its command
    td = r.teardown
    if td.already_gone:
        lines.append(f"teardown: {', '.join(td.already_gone)} was already gone; nothing left.")
    elif td.done:
        lines.append(
            f"teardown: removed {td.removed} (its peer {r.veth.pod.name} went with it); nothing left."
        )
    else:
        lines.append(f"kept: {_veth_line(r.veth)}; remove with: {td.how}")
    return "\n".join(lines) + "\n"


@shown
def routes_text(r: RoutesResult) -> str:
    lines = [f"routes of {r.target.text} (netns {r.target.netns or r.target.netns_path}):"]
    lines += [f"  {format_route(route)}" for route in r.routes]
    if r.to:
        lines += ["", r.to.sentence]
    return "\n".join(lines) + "\n"


@shown
def ping_text(r: PingResult) -> str:
    lines = [f"ping {r.destination} from {r.target.text}:"]
    lines += [f"    {raw}" for raw in r.ping_lines]
    if r.route:
        lines.append(r.route_sentence)
    return "\n".join(lines) + "\n"


@shown
def lab_up_text(result: LabUpResult) -> str:
    r = result.record
    if r.get("cluster"):
        nodes = ", ".join(f"{n['name']} ({n['underlay_ip']}, pods {n['pod_cidr']})" for n in r["nodes"])
        head = (
            f"lab cluster {r['name']}: {len(r['nodes'])} nodes on the underlay {r['switch']} (mtu {r['underlay_mtu']}),"
            f" {r['overlay']} overlay"
            + (
                f" ({r['vxlan']['dev']}, UDP {r['vxlan']['port']}, pod mtu {r['pod_mtu']})"
                if r.get("vxlan")
                else ""
            )
            + f": {nodes}"
        )
        parts = [lab_up_text(result.but(record=n, commands=())) for n in r.get("node_records", [])]
        return head + "\n" + "".join(parts)
    gateways = " ".join(r.get("gateways") or [r["gateway"]])
    net = (
        f"bridge {r['bridge']} {gateways}"
        if r.get("bridge")
        else f"routed ({r.get('cni')}), gateway {gateways}"
    )
    cidrs = " ".join(r.get("pod_cidrs") or [r["pod_cidr"]])
    lines = [f"lab node {r['name']} (netns {r['node_netns']}, {net}, pods {cidrs})"]
    for p in r["pods"]:
        new = "  (new)" if p["netns"] in result.created else ""
        ips = " ".join(p.get("ips") or [p["ip"]])
        lines.append(f"  pod netns/{p['netns']}  eth0 {ips}  host veth {p['host_veth']}{new}")
    if r.get("outside"):
        held = " and ".join(r.get("outside_addresses") or [r["outside_address"]])
        family = r.get("family", "4")
        uplink = {"4": "198.51.100.1", "dual": "198.51.100.1 2001:db8:51:100::1", "6": "2001:db8:51:100::1"}
        lines.append(
            f"  uplink0 {uplink[family]} -> outside netns {r['outside']} holding {held}"
            " (forwarding on, MASQUERADE)"
        )
    if r.get("servers"):
        s = r["servers"]
        where = " ".join(s.get("ips") or [s["ip"]])
        lines.append(
            f"  servers in netns/{s['pod']} ({where}): tcp 8080 8081 8082, udp echo 9000 9001, dns lab.example"
            + ("; policy: DROP tcp 8081 and udp 9001, REJECT tcp 8082" if s.get("policy") else "")
        )
        for addr in s.get("ips") or [s["ip"]]:
            shown = f"[{addr}]" if ":" in addr else addr
            lines.append(f"try: vethctl probe netns/{r['pods'][0]['netns']} tcp:{shown}:8080")
    for s in (r.get("services") or {}).get("services", []):
        lines.append(
            f"  service {s['name']} {s['cluster_ip']}:{s['port']}/{s['protocol']} -> "
            f"{', '.join(s['endpoints']) or 'no endpoints'} ({r['services']['proxy_mode']})"
        )
    lines.append(f"try: vethctl run netns/{r['pods'][0]['netns']}")
    return "\n".join(lines) + "\n"


@shown
def lab_down_text(r: LabDownResult) -> str:
    if not r.removed and not r.left:
        return f"{r.note or 'nothing to remove'}\n"
    pods = [p for p in r.removed if p.startswith("cni-")]
    others = [p for p in r.removed if p != r.name and not p.startswith("cni-")]
    shown = ", ".join(pods[:4]) + (f" and {len(pods) - 4} more" if len(pods) > 4 else "")
    node = f"node {r.name} and " if r.name in r.removed else ""
    extra = f", and {', '.join(others)}" if others else ""
    left = f"left alone, not verified as the lab's: {', '.join(r.left)}\n" if r.left else ""
    return f"lab {r.name} removed: {node}{len(pods)} pod(s) ({shown}){extra}\n{left}"


@shown
def lab_status_text(r: LabStatusResult) -> str:
    if not r.labs:
        return "no lab is up (vethctl lab up)\n"
    lines = []
    for lab in r.labs:
        state = "up" if lab["up"] else "DOWN (its namespace is gone; `vethctl lab down` forgets it)"
        cidrs = " ".join(lab.get("pod_cidrs") or [lab["pod_cidr"]])
        lines.append(f"lab {lab['name']}: {state}, {len(lab['pods'])} pod(s) in {cidrs}")
        for p in lab["pods"]:
            ips = " ".join(p.get("ips") or [p["ip"]])
            lines.append(f"  netns/{p['netns']}  {ips}  {'' if p['present'] else '(gone)'}".rstrip())
    return "\n".join(lines) + "\n"


@shown
def up_text(result: UpResult) -> str:
    r = result.record
    return (
        f"{r['session']}\n  {r['host']['name']} {r['host']['address']} (node)  <->  {r['pod']['name']}"
        f" {r['pod']['address']} (pod {r['pod_netns'] or r['pod_netns_path']}); remove with: vethctl down {r['session']}\n"
    )


@shown
def many_up_text(r: ManyUpResult) -> str:
    """A line per session (as `up` prints one), then the pods that failed, each with what was undone."""
    lines = []
    for rec in r.sessions:
        lines.append(
            f"{rec['session']}  {rec['host']['name']} {rec['host']['address']} (node)  <->  {rec['pod']['name']}"
            f" {rec['pod']['address']} (pod {rec['pod_netns'] or rec['pod_netns_path']})"
        )
    for f in r.failed:
        undone = (
            f"removed {', '.join(f.removed)} (its peer went with it)"
            if f.removed
            else (
                f"{', '.join(f.already_gone)} was already gone" if f.already_gone else "nothing was created"
            )
        )
        lines.append(f"failed: {f.target}: {f.error}; {undone}")
    lines += [f"skipped: {s.pod}{f' (node {s.node})' if s.node else ''}: {s.why}" for s in r.skipped]
    if r.sessions:
        lines.append(
            f"{len(r.sessions)} session(s); remove with: vethctl down {' '.join(x['session'] for x in r.sessions)}"
        )
    return "\n".join(lines) + "\n"


@shown
def down_text(r: DownResult) -> str:
    lines = [f"{x.session}: stopped pid {x.pid} ({' '.join(x.argv[:4])} ...)" for x in r.stopped]
    lines += [f"{x.session}: removed {', '.join(x.links)}" for x in r.removed]
    lines += [f"{s}: already gone" for s in r.already_gone]
    lines += [f"{x.session}: NOT removed {', '.join(x.links)} (see the error below)" for x in r.failed]
    return "\n".join(lines) + "\n"


@shown
def find_text(r: FindResult) -> str:
    t = r.target
    lines = [
        f"{t.text}",
        f"  netns       {t.netns or '(no name)'}",
        f"  netns_path  {t.netns_path}",
        f"  pid         {t.pid if t.pid is not None else '-'}",
        f"  pod_ip      {' '.join(t.pod_ips or ()) or t.pod_ip or '-'}  ({t.pod_if or '?'}, mtu {t.mtu})",
        f"  host_veth   {t.host_veth or '-'}",
        f"  node        {t.node}",
    ]
    if r.resolved_by:
        lines += ["  found by:"] + [f"    {step}" for step in r.resolved_by]
    return "\n".join(lines) + "\n"


@shown
def status_text(r: StatusResult) -> str:
    if not r.sessions:
        lines = ["no vethctl session has links"]
    else:
        lines = [f"{'SESSION':<9} {'MODE':<4} {'STATE':<5} {'NODE':<22} {'HOST END':<28} POD END"]
        for s in r.sessions:
            host = f"{s.host_if} {s.host_addr or ''}".strip()
            pod = f"{s.pod_if or '?'} {s.pod_addr or ''} in {s.pod_netns or '?'}"
            state = "alive" if s.alive else "DEAD"
            lines.append(f"{s.session:<9} {s.mode:<4} {state:<5} {s.node:<22} {host:<28} {pod}")
        if any(not s.alive for s in r.sessions):
            lines.append("dead sessions: `vethctl gc` removes them")
    if r.records_without_links:
        lines.append(f"records without links (gc forgets them): {', '.join(r.records_without_links)}")
    return "\n".join(lines) + "\n"


@shown
def gc_text(r: GcResult) -> str:
    lines = [f"{x.session}: stopped pid {x.pid} ({' '.join(x.argv[:4])} ...)" for x in r.stopped]
    lines += [f"{x.session}: removed {', '.join(x.links)} ({x.why})" for x in r.removed]
    lines += [f"{x.session}: NOT removed {', '.join(x.links)} (see the error below)" for x in r.failed]
    if not lines:
        lines.append("nothing to collect")
    if r.kept_alive:
        lines.append(f"alive, left alone: {', '.join(r.kept_alive)}")
    return "\n".join(lines) + "\n"


@shown
def capture_text(r: CaptureResult) -> str:
    cap = r.capture
    c = cap.counters or {}
    counts = (
        (
            f" (tcpdump: {c.get('captured', '?')} captured, {c.get('received_by_filter', '?')} received by filter,"
            f" {c.get('dropped_by_kernel', 0)} dropped by kernel)"
        )
        if c
        else ""
    )
    saved = f"; saved to {cap.pcap}" if cap.pcap else ""
    pcap_packets = getattr(cap, "pcap_packets", None)
    if pcap_packets is not None:
        size = f"{pcap_packets} packet(s), {cap.pcap_bytes} bytes"
        saved = f"; pcap stream on stdout ({size})" if cap.pcap == "-" else f"; saved to {cap.pcap} ({size})"
        if cap.files and len(cap.files) > 1:
            saved += f"; files kept, oldest first: {', '.join(cap.files)}"
    stopped = cap.stopped_by
    if stopped == "max-size" and getattr(cap, "max_size_mb", None):
        stopped += f" ({cap.max_size_mb:g} MB)"
    where = cap.read or cap.interface
    target = getattr(cap, "target", None)
    if target is not None:
        if cap.side == "host":
            where = f"{cap.interface}, the host veth of {target.text} (on {cap.node})"
        else:
            where = f"{cap.interface} of {target.text} (inside its namespace)"
    lines = [
        f"{len(cap.packets)} packet(s){_not_kept(cap.packets_not_kept)} from {where}{counts};"
        f" stopped by {stopped}{saved}"
    ]
    if getattr(cap, "snaplen", None):
        lines.append(f"  the first {cap.snaplen} bytes of each packet only (--snaplen)")
    if getattr(cap, "not_decoded", None):
        lines.append(
            f"  {cap.not_decoded} packet(s) went into the pcap without being shown: the text fell behind the stream"
        )
    lines += [
        f"  {p.pod}: {p.packets} packet(s) on {p.interface} in {p.netns}" for p in getattr(cap, "pods", ())
    ]
    lines += [f"  skipped {s.pod}: {s.why}" for s in r.skipped or ()]
    return "\n".join(lines) + "\n"


@shown
def trace_text(r: TraceResult) -> str:
    t = r.target
    multi = (
        len({h.node for h in r.hops}) > 1
    )  # the path crosses nodes: a column says which one each hop is on
    width = max((len(h.node.removeprefix("netns ")) for h in r.hops), default=4) if multi else 0
    node_col = (lambda h: f"{h.node.removeprefix('netns '):<{width}} ") if multi else (lambda h: "")
    header_node = f"{'node':<{width}} " if multi else ""
    lines = [
        f"trace {t.text} -> {r.to}  (pod {t.netns or t.netns_path}, {t.pod_ip}; node: {t.node})",
        f"  {'#':<2} {header_node}{'side':<5} {'interface':<16} {'role':<12} {'req':>3} {'rep':>3}  {'first seen':<15}  "
        f"{'src > dst, as seen there':<34} {'delay':>9}",
    ]
    for i, h in enumerate(r.hops, 1):
        flow = f"{h.src_ip} > {h.dst_ip}" if h.src_ip else "-"
        delay = f"+{h.delay_from_previous_us:.0f} us" if h.delay_from_previous_us is not None else ""
        lines.append(
            f"  {i:<2} {node_col(h)}{h.side:<5} {h.interface:<16} {h.role:<12} {h.requests:>3} {h.replies:>3}"
            f"  {format_time(h.first_seen) if h.first_seen else '-':<15}  {flow:<34} {delay:>9}"
        )
    lines += ["", "what happened:"] + [f"  - {o}" for o in r.observations]
    return "\n".join(lines) + "\n"


@shown
def many_text(r: ManyRunResult) -> str:
    out = []
    for entry in r.pods:
        out.append(f"===== {entry.pod} (node {entry.node})")
        out.append(run_text(entry.report).rstrip() if entry.report else f"error: {entry.error}")
        out.append("")
    for s in r.skipped:
        out.append(f"skipped {s.pod}: {s.why}")
    ok = sum(1 for e in r.pods if e.report)
    out.append(f"{ok} of {len(r.pods)} pod(s) ran; {len(r.skipped)} skipped (-l {r.selector})")
    return "\n".join(out) + "\n"


def many_dry_run(r: ManyRunResult) -> str:
    """Each pod's commands under a comment naming it; a pod name (from the cluster) or an error is comment
    text, every line of it."""
    return "".join(f"{comment(e.pod)}\n{e.dry_run or comment(e.error or '') + chr(10)}" for e in r.pods)


@shown
def probe_text(r: ProbeResult) -> str:
    t, p, cap = r.target, r.probe, r.capture
    lines = [
        f"probe {t.text} -> {_spec_text(p)}  (pod {t.netns or t.netns_path}, {t.pod_ip}; node: {t.node})",
        f"  outcome  {p.outcome}: {p.detail}",
        f"  sent {p.sent}, received {p.received}"
        + (f"; answers: {', '.join(p.answers)}" if p.answers else ""),
    ]
    if r.tool_output:
        lines += ["", f"{p.argv[0] if p.argv else 'the probe'} said:"] + [
            f"    {line}" for line in r.tool_output
        ]
    if cap.interface:
        lines += [
            "",
            f"capture on {cap.interface} in the pod ({cap.filter}): {len(cap.packets)} packet(s)"
            + (f", saved to {cap.pcap}" if cap.pcap else ""),
        ]
        lines += [f"    {format_packet(pk)}" for pk in cap.packets]
    lines += ["", "what happened:"] + [f"  - {o}" for o in r.observations]
    return "\n".join(lines) + "\n"


def _spec_text(p) -> str:
    addr = f"[{p.address}]" if ":" in p.address else p.address
    if p.kind == "dns":
        return f"dns:{p.name}@{addr}"
    return f"{p.kind}:{addr}" + (f":{p.port}" if p.port is not None else "")
