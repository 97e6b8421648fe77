"""The command line's grammar: every command, its options, the global options (added once to each command),
and the exit code 2 for what argparse refuses. Nothing here runs anything."""

from __future__ import annotations

import argparse
import os
import sys

from vethctl import __version__
from vethctl.errors import ExitCode


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other bad input
        self.exit(ExitCode.BAD_INPUT, f"vethctl: error: {message} (see `{self.prog} --help`)\n")


def _globals(parser: argparse.ArgumentParser, suppress: bool) -> None:
    d = argparse.SUPPRESS if suppress else None
    g = parser.add_argument_group("global options")
    g.add_argument(
        "--via",
        default=d,
        metavar="WHERE",
        help="where node-side commands run: local (default), netns:NAME (a lab node), "
        "ssh://[USER@]HOST[:PORT], kubectl-debug (pod/ targets: a debugging pod on the pod's node)",
    )
    g.add_argument(
        "--tools",
        choices=("node", "image"),
        default=d,
        help="with --via kubectl-debug: the node's own ip, tcpdump, ping (node, through chroot /host; the"
        " default) or the debugging image's (image: nodes without them; VETHCTL_DEBUG_IMAGE)",
    )
    g.add_argument(
        "--audit-log",
        default=d,
        metavar="FILE",
        help="JSON-lines audit log (default: $VETHCTL_AUDIT_LOG, "
        "/var/log/vethctl/audit.jsonl for root, else $XDG_STATE_HOME/vethctl/audit.jsonl)",
    )
    g.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=d if suppress else 0,
        help="show every command before and after it runs (-vv: and how targets were resolved)",
    )
    g.add_argument("-q", "--quiet", action="store_true", default=d if suppress else False, help="only errors")


def _output(p: argparse.ArgumentParser, choices=("text", "json")) -> None:
    p.add_argument(
        "-o", "--output", choices=choices, default="text", help="text (default) or one JSON document"
    )


TARGET_HELP = "pod/NAME (or NAME), netns/NAME, nspath/PATH, pid/PID, ip/ADDR or container/ID"


def _target(p: argparse.ArgumentParser, selector: bool = False) -> None:
    if selector:
        p.add_argument("target", nargs="?", help=TARGET_HELP + " (or -l SELECTOR)")
    else:
        p.add_argument("target", help=TARGET_HELP)
    k = p.add_argument_group("pod/ targets")
    if selector:
        k.add_argument("-l", "--selector", help="every pod matching this label selector, each on its node")
    k.add_argument("-n", "--namespace", help="the pod's Kubernetes namespace (kubectl's default otherwise)")
    k.add_argument("--context", help="the kubeconfig context to ask")


def _pod_nodes(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--node",
        action="append",
        default=[],
        metavar="ADDR=ssh://HOST",
        help="with -l: the node whose address (its pods' hostIP) is ADDR, reached over ssh; repeatable",
    )


def _attach_options(p: argparse.ArgumentParser) -> None:
    a = p.add_argument_group("attach options")
    a.add_argument("--host-if", metavar="NAME", help="host end name (default vh-SESSION)")
    a.add_argument("--pod-if", metavar="NAME", help="pod end name (default vp-SESSION)")
    a.add_argument(
        "--host-addr",
        metavar="CIDR",
        help="host end address (default .200 of a free documentation /24; IPv6: ::200 of a free /64)",
    )
    a.add_argument(
        "--pod-addr", metavar="CIDR", help="pod end address (default .100 of the same subnet; IPv6: ::100)"
    )
    a.add_argument("--mtu", type=_positive_int, help="MTU of both ends (default: the pod's eth0 MTU)")
    a.add_argument("--allow-public", action="store_true", help="allow public address space for the ends")
    _family(a, "the ends' address family (default: IPv4, or IPv6 on a pod with no IPv4 address)")


def _family(p, help_text: str) -> None:
    p.add_argument("--family", type=int, choices=(4, 6), metavar="4|6", help=help_text)


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def prog_name() -> str:
    """`kubectl veth ...` runs this program as kubectl-veth: it then calls itself that."""
    return "kubectl-veth" if os.path.basename(sys.argv[0]) == "kubectl-veth" else "vethctl"


class _Skipped:
    """A command's parser that is not built (build_parser(only=...)): whatever is added to it goes nowhere."""

    required = False

    def __getattr__(self, name):
        return lambda *args, **kwargs: self


class _Commands:
    """The sub-parsers, of which only `only` (None: all) gets its options; the others are listed by name and
    help (`vethctl --help`, the choices argparse checks) with nothing in them. Building every command's
    options costs a few milliseconds at each start-up; a command parses its own."""

    def __init__(self, sub, only: str | None):
        self.sub, self.only, self.built = sub, only, []

    def add_parser(self, name: str, **kwargs):
        if self.only not in (None, name):
            self.sub.add_parser(name, **kwargs)
            return _Skipped()
        self.built.append(name)
        return self.sub.add_parser(name, **kwargs)


def command_of(argv: list[str]) -> str | None:
    """The command that argv names, when exactly one of its words is a command's name; else None (every
    command is then built: `lab up`, a value that is also a command's name, no command at all)."""
    named = [a for a in argv if a in COMMANDS]
    return named[0] if len(named) == 1 else None


COMMANDS = (
    "run",
    "up",
    "down",
    "status",
    "gc",
    "find",
    "routes",
    "ping",
    "trace",
    "probe",
    "capture",
    "lab",
    "completion",
    "demo",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole grammar; with `only`, that command's options and the others' names alone."""
    parser = _Parser(
        prog="kubectl veth" if prog_name() == "kubectl-veth" else "vethctl",
        description="Attach a veth to a pod's network namespace, capture on the host "
        "end, ping from the pod, and explain what happened.",
    )
    parser.add_argument("--version", action="version", version=f"vethctl {__version__}")
    _globals(parser, suppress=False)
    real = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    real.required = True
    sub = _Commands(real, only)

    run = sub.add_parser("run", help="attach, capture on the host end, ping from the pod, report, tear down")
    _target(run, selector=True)
    _pod_nodes(run)
    _attach_options(run)
    run.add_argument(
        "--ping", metavar="ADDR", help="address to ping from the pod (default: an unused one, .101 or ::101)"
    )
    run.add_argument("--count", type=_positive_int, default=3, help="pings to send (default 3)")
    run.add_argument("--interval", type=_number, default=1.0, help="seconds between pings (default 1)")
    run.add_argument(
        "--filter",
        default=None,
        metavar="EXPR",
        help="tcpdump filter (default 'arp or icmp', 'icmp6' for IPv6 ends; '' for everything)",
    )
    run.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="SPEC",
        help="also (or, without --ping, instead) probe: icmp:ADDR, tcp:ADDR:PORT, udp:ADDR:PORT,"
        " dns:NAME@SERVER[:PORT]; repeatable",
    )
    run.add_argument(
        "--timeout",
        type=_positive_int,
        default=2,
        metavar="S",
        help="seconds each probe attempt waits for an answer (default 2)",
    )
    run.add_argument("--pcap", metavar="FILE", help="also save the raw packets to FILE")
    run.add_argument("--transcript", metavar="FILE", help="write the run as a bash script that replays it")
    run.add_argument("--sudo", action="store_true", help="prefix every command with sudo")
    run.add_argument("--keep", action="store_true", help="leave the veth in place afterwards")
    run.add_argument("--dry-run", action="store_true", help="print the commands, change nothing")
    _output(run)

    up = sub.add_parser(
        "up", help="attach and leave in place; prints the session id (several pods: a session each)"
    )
    up.add_argument(
        "targets", nargs="*", metavar="TARGET", help=TARGET_HELP + "; several, or -l SELECTOR: a pair each"
    )
    k = up.add_argument_group("pod/ targets")
    k.add_argument("-l", "--selector", help="every pod matching this label selector, each on its node")
    k.add_argument("-n", "--namespace", help="the pod's Kubernetes namespace (kubectl's default otherwise)")
    k.add_argument("--context", help="the kubeconfig context to ask")
    _attach_options(up)
    up.add_argument("--sudo", action="store_true", help="prefix every command with sudo")
    _output(up)

    down = sub.add_parser("down", help="detach sessions; idempotent")
    down.add_argument("sessions", nargs="*", metavar="SESSION")
    down.add_argument("--all", action="store_true", help="every `up` session")
    _output(down)

    status = sub.add_parser("status", help="sessions and the links they own (from the kernel's tags)")
    _output(status)

    gc = sub.add_parser("gc", help="remove every link (and capture) a dead session left")
    _output(gc)

    find = sub.add_parser(
        "find", help="where the target's netns is, its pod IP and host-side veth; nothing changed"
    )
    _target(find)
    _output(find)

    routes = sub.add_parser("routes", help="the pod's routes; which interface ADDR leaves by")
    _target(routes)
    routes.add_argument("--to", metavar="ADDR", help="say which interface and gateway ADDR leaves the pod by")
    _output(routes)

    ping = sub.add_parser("ping", help="ping ADDR from inside the pod")
    _target(ping)
    ping.add_argument("address")
    ping.add_argument("--count", type=_positive_int, default=3)
    ping.add_argument("--interval", type=_number, default=1.0)
    _output(ping)

    trace = sub.add_parser("trace", help="which interfaces a pod's packet crosses on its way out, hop by hop")
    _target(trace)
    trace.add_argument("--to", metavar="ADDR", help="the destination to follow (pings)")
    trace.add_argument(
        "--probe",
        metavar="SPEC",
        help="follow this probe instead of pings: tcp:ADDR:PORT,"
        " udp:ADDR:PORT, dns:NAME@SERVER[:PORT], icmp:ADDR",
    )
    trace.add_argument(
        "--size",
        type=int,
        metavar="N",
        help="with --to: pings of N bytes of payload, never fragmented (MTU questions)",
    )
    trace.add_argument(
        "--node",
        action="append",
        default=[],
        metavar="ADDR=ssh://HOST",
        help="the node that owns underlay address ADDR, reached over ssh, to follow the path onto it; repeatable",
    )
    trace.add_argument(
        "--no-counters",
        action="store_true",
        help="read no rule counters, conntrack or kernel counters (faster on nodes with huge rule sets)",
    )
    trace.add_argument(
        "--timeout",
        type=_positive_int,
        default=2,
        metavar="S",
        help="seconds each probe attempt waits for an answer (default 2)",
    )
    trace.add_argument("--count", type=_positive_int, default=3, help="pings to send (default 3)")
    trace.add_argument("--interval", type=_number, default=0.2, help="seconds between pings (default 0.2)")
    _family(trace, "the destination's address family (checked against it)")
    _output(trace)

    probe = sub.add_parser(
        "probe", help="probe from the pod (tcp, udp, dns, icmp), capture where it leaves, explain"
    )
    _target(probe)
    probe.add_argument(
        "spec",
        metavar="SPEC",
        help="icmp:ADDR, tcp:ADDR:PORT, udp:ADDR:PORT or dns:NAME@SERVER[:PORT] (IPv6 in brackets)",
    )
    probe.add_argument(
        "--count",
        type=_positive_int,
        default=3,
        help="connections, datagrams, pings or DNS tries (default 3)",
    )
    probe.add_argument(
        "--timeout",
        type=_positive_int,
        default=2,
        metavar="S",
        help="seconds each attempt waits for an answer (default 2)",
    )
    probe.add_argument("--pcap", metavar="FILE", help="also save the raw packets to FILE")
    _family(probe, "the probe's address family (checked against its address)")
    _output(probe)

    cap = sub.add_parser(
        "capture",
        help="tcpdump in a pod or on its veth, a session, an interface, a pcap",
    )
    cap.add_argument(
        "target",
        nargs="?",
        metavar="TARGET|SESSION",
        help=TARGET_HELP + "; or a session id (vethctl status): its host end",
    )
    cap.add_argument(
        "--side",
        choices=("pod", "host"),
        help="with TARGET or -l: pod (default: its eth0, from inside its namespace) or host (its host-side veth)",
    )
    cap.add_argument("--iface", metavar="NAME", help="capture on this interface instead")
    cap.add_argument("--netns", metavar="NS", help="the namespace --iface is in (a name or a netns file)")
    cap.add_argument("--read", metavar="FILE.pcap", help="read packets from a pcap file instead")
    cap.add_argument(
        "--filter", default="", metavar="EXPR", help="tcpdump filter (checked before anything starts)"
    )
    cap.add_argument("--count", type=_positive_int, help="stop after N packets")
    cap.add_argument("--duration", type=_number, metavar="S", help="stop after S seconds")
    cap.add_argument(
        "--pcap",
        metavar="FILE|-",
        help="also write the raw packets to FILE on this machine (also with --via); '-': the pcap stream on"
        " stdout, packet by packet (| wireshark -k -i -), the text on stderr",
    )
    cap.add_argument(
        "--snaplen",
        type=_positive_int,
        metavar="N",
        help="keep the first N bytes of each packet (96: headers)",
    )
    cap.add_argument(
        "--max-size", type=_number, metavar="MB", help="stop when the pcap reaches MB megabytes (or rotate)"
    )
    cap.add_argument(
        "--rotate",
        type=_positive_int,
        metavar="K",
        help="with --max-size: rotate FILE, keeping the last K files",
    )
    cap.add_argument(
        "-l", "--selector", help="capture in every pod matching this label selector (one stream)"
    )
    _pod_nodes(cap)
    cap.add_argument("-n", "--namespace", help="the pod's (pods') Kubernetes namespace, with pod/ or -l")
    cap.add_argument("--context", help="the kubeconfig context, with pod/ or -l")
    _output(cap, ("text", "json", "ndjson"))

    lab = sub.add_parser("lab", help="a lab node (a namespace) with pods made by the real CNI plugins")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="up|down|status", parser_class=_Parser)
    lab_sub.required = True
    lab_up = lab_sub.add_parser("up", help="create the lab node and its pods")
    lab_up.add_argument("--name", default="vethlab", help="node name, also its netns name (default vethlab)")
    lab_up.add_argument("--pods", type=_positive_int, default=2, help="how many pods (default 2)")
    lab_up.add_argument(
        "--pod-cidr",
        help="the node's pod subnet, or an IPv4,IPv6 pair (default: 198.18.N.0/24 and 2001:db8:18:N::/64,"
        " the first no other lab uses)",
    )
    lab_up.add_argument(
        "--family",
        choices=("4", "dual", "6"),
        default=None,
        help="IPv4 pods (default), dual-stack pods, or IPv6-only pods",
    )
    lab_up.add_argument(
        "--cni",
        choices=("bridge", "ptp"),
        default="bridge",
        help="bridge (pods on a bridge, the default) or ptp (routed: a /32 route per pod)",
    )
    lab_up.add_argument(
        "--servers",
        action="store_true",
        help="servers in the last pod for probes: TCP 8080-8082, UDP echo 9000-9001, DNS (dnsmasq) for lab.example",
    )
    lab_up.add_argument(
        "--policy",
        action="store_true",
        help="with --servers: DROP tcp 8081 and udp 9001, REJECT tcp 8082 (admin prohibited), as a policy would",
    )
    lab_up.add_argument("--nodes", type=_positive_int, default=1, help="a cluster of N lab nodes (default 1)")
    lab_up.add_argument(
        "--overlay",
        choices=("vxlan", "routed"),
        default="vxlan",
        help="with --nodes: flannel-shaped VXLAN (default) or plain routes between the nodes' pod CIDRs",
    )
    lab_up.add_argument(
        "--underlay-mtu",
        type=_positive_int,
        default=1500,
        metavar="N",
        help="with --nodes: the underlay's MTU",
    )
    lab_up.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="NAME:PORT[/udp][:TARGETPORT|:none]",
        help="a ClusterIP Service as kube-proxy writes it, endpoints on the server pod (none: no endpoints); repeatable",
    )
    lab_up.add_argument(
        "--proxy-mode",
        default="iptables",
        choices=("iptables", "iptables-legacy", "nftables"),
        help="how --service's rules are written (default iptables)",
    )
    lab_up.add_argument(
        "--uplink",
        action="store_true",
        help="an uplink to an 'outside' namespace holding 203.0.113.7 (and 2001:db8:203::7),"
        " with forwarding and MASQUERADE (a real node's egress)",
    )
    _output(lab_up)
    lab_down = lab_sub.add_parser("down", help="remove the lab node and its pods")
    lab_down.add_argument("--name", default="vethlab")
    _output(lab_down)
    lab_status = lab_sub.add_parser("status", help="labs and their pods")
    _output(lab_status)

    comp = sub.add_parser("completion", help="print a shell completion script: bash, zsh or fish")
    comp.add_argument("shell", choices=("bash", "zsh", "fish"))

    demo = sub.add_parser("demo", help="lab up, run against its first pod, lab down")
    demo.add_argument(
        "--nodes",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a two-node lab cluster, and a trace from a pod on one node to a pod on the other",
    )
    # the global options, once, at the end of every command's own (completion takes none)
    for name in sub.built:
        p = real.choices[name]
        if name == "lab":
            for lab_p in lab_sub.choices.values():
                _globals(lab_p, suppress=True)
        elif name != "completion":
            _globals(p, suppress=True)
    return parser
