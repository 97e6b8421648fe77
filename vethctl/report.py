"""Reports: the JSON document of the contract is the data; the human text is rendered from it."""

from __future__ import annotations

import json
import shlex
from datetime import datetime

_ROUTE_KEYS = (("gateway", "via"), ("dev", "dev"), ("protocol", "proto"), ("scope", "scope"),
               ("prefsrc", "src"), ("metric", "metric"))  # fmt: skip


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, default=str)


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


def packet_of_line(line: str) -> dict | None:
    """One packet line of a live capture as its record; None for a continuation line (it belongs to the
    packet above, kept in the final JSON) or a line that gives no record."""
    if not line or line[0].isspace():
        return None
    import jc

    from vethctl.parsers import tcpdump as parser

    got = jc.parse(parser, line, quiet=True)
    return got[0] if got else None


def format_packet(p: dict) -> str:
    """A packet record in one short line: what it is, between whom."""
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
        if p.get("icmp_seq") is not None:
            detail += f" id {p.get('icmp_id')} seq {p['icmp_seq']}"
        what = f"{proto:<5}        {src} > {dst} {detail}".rstrip()
    else:
        what = f"{p.get('ethertype') or '?'} {p.get('unparsed') or ''}".rstrip()
    macs = f"   ({p.get('src_mac')} > {p.get('dst_mac')})" if p.get("src_mac") else ""
    return f"{t}  {what}{macs}"


def _veth_line(veth: dict) -> str:
    h, p = veth["host"], veth["pod"]
    return f"{h['name']} {h['address']} (node)  <->  {p['name']} {p['address']} (pod)"


def run_text(r: dict) -> str:
    t = r["target"]
    lines = [
        f"vethctl run {t['text']}  (node: {r['node']})",
        f"  pod   netns {t['netns'] or t['netns_path']}, {t.get('pod_if') or 'eth0'} {t['pod_ip']}, mtu {t.get('mtu')}",
        f"  veth  {_veth_line(r['veth'])}, mtu {r['veth'].get('mtu')}, session {r['session']}",
        "",
        "pod routes after attaching (+ new):",
    ]
    for route in r["routes"]:
        mark = "+" if route.get("dev") == r["veth"]["pod"]["name"] else " "
        lines.append(f"  {mark} {format_route(route)}")
    ping = r.get("ping") or {}
    lines += ["", f"ping {r['ping_target']} from the pod:"]
    for raw in r.get("ping_lines", []):
        lines.append(f"    {raw}")
    cap = r["capture"]
    lines += ["", f"capture on {cap['interface']} ({cap['filter'] or 'no filter'}): {len(cap['packets'])} packet(s)"
              + (f", saved to {cap['pcap']}" if cap.get("pcap") else "")]  # fmt: skip
    for p in cap["packets"]:
        lines.append(f"    {format_packet(p)}")
    lines += ["", "what happened:"]
    lines += [f"  - {o}" for o in r["observations"]]
    cmds = r["commands"]
    lines += [
        "",
        f"ran {len(cmds)} commands in {r.get('elapsed_s', 0):.2f} s (each one is in the audit log {r['audit_log']}):",
    ]
    for c in cmds:
        lines.append(f"  [{c['phase']:<8}] {shlex.join(c['argv'])}")
    td = r["teardown"]
    if td.get("already_gone"):
        lines.append(f"teardown: {', '.join(td['already_gone'])} was already gone; nothing left.")
    elif td["done"]:
        lines.append(
            f"teardown: removed {td['removed']} (its peer {r['veth']['pod']['name']} went with it); nothing left."
        )
    else:
        lines.append(f"kept: {_veth_line(r['veth'])}; remove with: {td['how']}")
    _ = ping
    return "\n".join(lines) + "\n"


def routes_text(r: dict) -> str:
    lines = [f"routes of {r['target']['text']} (netns {r['target']['netns'] or r['target']['netns_path']}):"]
    lines += [f"  {format_route(route)}" for route in r["routes"]]
    if r.get("to"):
        lines += ["", r["to"]["sentence"]]
    return "\n".join(lines) + "\n"


def ping_text(r: dict) -> str:
    lines = [f"ping {r['destination']} from {r['target']['text']}:"]
    lines += [f"    {raw}" for raw in r.get("ping_lines", [])]
    if r.get("route"):
        lines.append(r["route_sentence"])
    return "\n".join(lines) + "\n"


def lab_up_text(r: dict) -> str:
    net = (
        f"bridge {r['bridge']} {r['gateway']}"
        if r.get("bridge")
        else f"routed ({r.get('cni')}), gateway {r['gateway']}"
    )
    lines = [f"lab node {r['name']} (netns {r['node_netns']}, {net}, pods {r['pod_cidr']})"]
    for p in r["pods"]:
        new = "  (new)" if p["netns"] in r.get("created", []) else ""
        lines.append(f"  pod netns/{p['netns']}  eth0 {p['ip']}  host veth {p['host_veth']}{new}")
    if r.get("outside"):
        lines.append(f"  uplink0 198.51.100.1 -> outside netns {r['outside']} holding {r['outside_address']}"
                     " (forwarding on, MASQUERADE)")  # fmt: skip
    lines.append(f"try: vethctl run netns/{r['pods'][0]['netns']}")
    return "\n".join(lines) + "\n"


def lab_down_text(r: dict) -> str:
    if not r["removed"]:
        return f"{r.get('note', 'nothing to remove')}\n"
    pods = [p for p in r["removed"] if p.startswith("cni-")]
    others = [p for p in r["removed"] if p != r["name"] and not p.startswith("cni-")]
    shown = ", ".join(pods[:4]) + (f" and {len(pods) - 4} more" if len(pods) > 4 else "")
    node = f"node {r['name']} and " if r["name"] in r["removed"] else ""
    extra = f", and {', '.join(others)}" if others else ""
    return f"lab {r['name']} removed: {node}{len(pods)} pod(s) ({shown}){extra}\n"


def lab_status_text(labs: list[dict]) -> str:
    if not labs:
        return "no lab is up (vethctl lab up)\n"
    lines = []
    for lab in labs:
        state = "up" if lab["up"] else "DOWN (its namespace is gone; `vethctl lab down` forgets it)"
        lines.append(f"lab {lab['name']}: {state}, {len(lab['pods'])} pod(s) in {lab['pod_cidr']}")
        for p in lab["pods"]:
            lines.append(f"  netns/{p['netns']}  {p['ip']}  {'' if p['present'] else '(gone)'}".rstrip())
    return "\n".join(lines) + "\n"


def up_text(r: dict) -> str:
    return (f"{r['session']}\n  {r['host']['name']} {r['host']['address']} (node)  <->  {r['pod']['name']}"
            f" {r['pod']['address']} (pod {r['pod_netns'] or r['pod_netns_path']}); remove with: vethctl down {r['session']}\n")  # fmt: skip


def down_text(r: dict) -> str:
    lines = [f"{x['session']}: removed {', '.join(x['links'])}" for x in r["removed"]]
    lines += [f"{s}: already gone" for s in r["already_gone"]]
    return "\n".join(lines) + "\n"


def find_text(r: dict) -> str:
    lines = [
        f"{r['text']}",
        f"  netns       {r['netns'] or '(no name)'}",
        f"  netns_path  {r['netns_path']}",
        f"  pid         {r['pid'] if r['pid'] is not None else '-'}",
        f"  pod_ip      {r['pod_ip'] or '-'}  ({r.get('pod_if') or '?'}, mtu {r.get('mtu')})",
        f"  host_veth   {r['host_veth'] or '-'}",
        f"  node        {r['node']}",
    ]
    if r.get("resolved_by"):
        lines += ["  found by:"] + [f"    {step}" for step in r["resolved_by"]]
    return "\n".join(lines) + "\n"


def status_text(r: dict) -> str:
    if not r["sessions"]:
        lines = ["no vethctl session has links"]
    else:
        lines = [f"{'SESSION':<9} {'MODE':<4} {'STATE':<5} {'NODE':<22} {'HOST END':<28} POD END"]
        for s in r["sessions"]:
            host = f"{s['host_if']} {s['host_addr'] or ''}".strip()
            pod = f"{s['pod_if'] or '?'} {s['pod_addr'] or ''} in {s['pod_netns'] or '?'}"
            state = "alive" if s["alive"] else "DEAD"
            lines.append(f"{s['session']:<9} {s['mode']:<4} {state:<5} {s['node']:<22} {host:<28} {pod}")
        if any(not s["alive"] for s in r["sessions"]):
            lines.append("dead sessions: `vethctl gc` removes them")
    if r.get("records_without_links"):
        lines.append(f"records without links (gc forgets them): {', '.join(r['records_without_links'])}")
    return "\n".join(lines) + "\n"


def gc_text(r: dict) -> str:
    lines = [f"{x['session']}: removed {', '.join(x['links'])} ({x['why']})" for x in r["removed"]]
    lines += [f"{x['session']}: stopped pid {x['pid']} ({' '.join(x['argv'][:4])} ...)" for x in r["stopped"]]
    if not lines:
        lines.append("nothing to collect")
    if r["kept_alive"]:
        lines.append(f"alive, left alone: {', '.join(r['kept_alive'])}")
    return "\n".join(lines) + "\n"


def capture_summary(r: dict) -> str:
    cap = r["capture"]
    c = cap.get("counters") or {}
    counts = (f" (tcpdump: {c.get('captured', '?')} captured, {c.get('received_by_filter', '?')} received by filter,"
              f" {c.get('dropped_by_kernel', 0)} dropped by kernel)") if c else ""  # fmt: skip
    saved = f"; saved to {cap['pcap']}" if cap.get("pcap") else ""
    lines = [f"{len(cap['packets'])} packet(s) from {cap['read'] or cap['interface']}{counts};"
             f" stopped by {cap['stopped_by']}{saved}"]  # fmt: skip
    lines += [
        f"  {p['pod']}: {p['packets']} packet(s) on {p['interface']} in {p['netns']}"
        for p in cap.get("pods", [])
    ]
    lines += [f"  skipped {s['pod']}: {s['why']}" for s in r.get("skipped", [])]
    return "\n".join(lines) + "\n"


def trace_text(r: dict) -> str:
    t = r["target"]
    lines = [f"trace {t['text']} -> {r['to']}  (pod {t['netns'] or t['netns_path']}, {t['pod_ip']}; node: {t['node']})",
             f"  {'#':<2} {'side':<5} {'interface':<16} {'role':<10} {'req':>3} {'rep':>3}  {'first seen':<15}  "
             f"{'src > dst, as seen there':<34} {'delay':>9}"]  # fmt: skip
    for i, h in enumerate(r["hops"], 1):
        flow = f"{h['src_ip']} > {h['dst_ip']}" if h["src_ip"] else "-"
        delay = f"+{h['delay_from_previous_us']:.0f} us" if h["delay_from_previous_us"] is not None else ""
        lines.append(f"  {i:<2} {h['side']:<5} {h['interface']:<16} {h['role']:<10} {h['requests']:>3} {h['replies']:>3}"
                     f"  {format_time(h['first_seen']) if h['first_seen'] else '-':<15}  {flow:<34} {delay:>9}")  # fmt: skip
    lines += ["", "what happened:"] + [f"  - {o}" for o in r["observations"]]
    return "\n".join(lines) + "\n"


def many_text(r: dict) -> str:
    out = []
    for entry in r["pods"]:
        out.append(f"===== {entry['pod']} (node {entry['node']})")
        out.append(run_text(entry["report"]).rstrip() if entry.get("report") else f"error: {entry['error']}")
        out.append("")
    for s in r["skipped"]:
        out.append(f"skipped {s['pod']}: {s['why']}")
    ok = sum(1 for e in r["pods"] if e.get("report"))
    out.append(f"{ok} of {len(r['pods'])} pod(s) ran; {len(r['skipped'])} skipped (-l {r['selector']})")
    return "\n".join(out) + "\n"


class LiveView:
    """While a run goes: each packet as the capture prints it, each ping line through jc's `ping_s` as ping
    prints it (on stderr, so that stdout keeps only the report)."""

    def __init__(self, out):
        import queue
        import threading

        self.out = out
        self.lock = threading.Lock()
        self.ping_lines: queue.Queue = queue.Queue()
        self.count = 0
        self.reader = threading.Thread(target=self._ping_records, daemon=True)
        self.reader.start()

    def on_line(self, key: str, line: str) -> None:
        if key == "ping":
            self.ping_lines.put(line)
        elif (packet := packet_of_line(line)) is not None:
            self.count += 1  # only the capture's own pump thread counts
            self._say(f"  [{self.count:>3}] {format_packet(packet)}")

    def _ping_records(self) -> None:
        import jc

        for rec in jc.parse("ping_s", iter(self.ping_lines.get, None), quiet=True, ignore_exceptions=True):
            kind = rec.get("type")
            if kind == "reply":
                self._say(f"  ping  seq {rec.get('icmp_seq')}: reply from {rec.get('response_ip')}, ttl {rec.get('ttl')},"
                          f" {rec.get('time_ms')} ms")  # fmt: skip
            elif kind == "summary":
                self._say(
                    f"  ping  {rec.get('packets_transmitted')} sent, {rec.get('packets_received')} received"
                )
            elif kind and kind != "timeout" and rec.get("icmp_seq") is not None:
                self._say(
                    f"  ping  seq {rec.get('icmp_seq')}: {kind.replace('_', ' ')} (from {rec.get('response_ip')})"
                )

    def _say(self, text: str) -> None:
        with self.lock:
            print(text, file=self.out, flush=True)

    def close(self) -> None:
        self.ping_lines.put(None)
        self.reader.join(5)
