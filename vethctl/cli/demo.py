"""`vethctl demo`: the walkthrough on a lab pod, then a TCP probe, start to finish, leaving nothing behind.

A presentation of other commands (lab up, run twice, lab down), so it lives beside the command line and not
among the scenarios, which never call each other."""

from __future__ import annotations

import secrets
import sys

from vethctl.commands import ip
from vethctl.execute.executor import Executor
from vethctl.execute.facts import read_json
from vethctl.model import Node, parse_tag
from vethctl.output import text
from vethctl.scenarios import lab
from vethctl.scenarios.probe import probe
from vethctl.scenarios.run import RunOptions, run
from vethctl.scenarios.trace import trace


def _say(line: str = "") -> None:
    print(line, flush=True)


def demo(hosts, quiet: bool = False, nodes: int = 1) -> int:
    name = f"demo-{secrets.token_hex(2)}"
    if nodes > 1:
        return _across_nodes(hosts, name, nodes)
    _say(f"$ vethctl lab up --name {name} --pods 2 --servers")
    try:
        up = lab.up(hosts, name, 2, servers=True)
        sys.stdout.write(text.lab_up_text(up))
        pod = up.record["pods"][0]
        target = f"netns/{pod['netns']}"

        _say(f"\n$ vethctl run {target}")
        _say("  (pings an unused address of the veth subnet: the unreachable neighbour)\n")
        first = run(RunOptions(target=target), hosts).report
        sys.stdout.write(text.run_text(first))

        host_ip = first.veth.host.address.split("/")[0]
        _say(f"\n$ vethctl run {target} --ping {host_ip}")
        _say("  (pings the host end: ARP is answered, then ICMP echo request and reply)\n")
        second = run(RunOptions(target=target, ping=host_ip), hosts).report
        sys.stdout.write(text.run_text(second))

        spec = f"tcp:{up.record['servers']['ip']}:8080"
        _say(f"\n$ vethctl probe {target} {spec} --count 1")
        _say("  (a TCP connection from the pod to the lab's server pod, read from the packets)\n")
        sys.stdout.write(text.probe_text(probe(target, spec, hosts, count=1)))
    finally:
        _say(f"\n$ vethctl lab down --name {name}")
        sys.stdout.write(text.lab_down_text(lab.down(hosts, name)))
    return _left_behind(hosts, name, {first.session, second.session})


def _across_nodes(hosts, name: str, nodes: int) -> int:
    """A lab cluster joined by a VXLAN overlay; a trace from the first node's pod to the last node's, through
    the overlay (each hop says its node); lab down."""
    _say(f"$ vethctl lab up --name {name} --nodes {nodes} --pods 1")
    try:
        up = lab.up(hosts, name, 1, nodes=nodes)
        sys.stdout.write(text.lab_up_text(up))
        first, last = up.record["node_records"][0], up.record["node_records"][-1]
        target, dst = f"netns/{first['pods'][0]['netns']}", last["pods"][0]["ip"]
        _say(f"\n$ vethctl trace {target} --to {dst} --count 2")
        _say(
            f"  (a pod on {first['name']} pings a pod on {last['name']}: out through the VXLAN device,"
            " across the underlay, decapsulated there)\n"
        )
        sys.stdout.write(text.trace_text(trace(target, dst, hosts, count=2)))
    finally:
        _say(f"\n$ vethctl lab down --name {name}")
        sys.stdout.write(text.lab_down_text(lab.down(hosts, name)))
    return _left_behind(hosts, name)


def _left_behind(hosts, name: str, sessions: set[str] | None = None) -> int:
    leftovers = _leftovers(Executor(hosts.local, Node()), name, sessions or set())
    _say(
        "\nleft behind: "
        + (", ".join(leftovers) if leftovers else "nothing (no lab namespace, no vethctl-tagged link)")
    )
    return 1 if leftovers else 0


def _leftovers(ex: Executor, name: str, sessions: set[str]) -> list[str]:
    """What a person would check: the namespaces, and the links for our tags (through the executor, so the
    audit log has them too). Only the demo's own: other runs on this machine have links and labs of theirs."""
    left = [
        n["name"]
        for n in read_json(ex, ip.netns_list_json(), purpose="is the lab node gone?")
        if n.get("name") == name or n.get("name", "").startswith(f"{name}-")
    ]
    links = read_json(ex, ip.link_show_json(), purpose="is any vethctl-tagged link left?")
    ours = [x for x in links if (parse_tag(x.get("ifalias")) or {}).get("session") in sessions]
    return left + [x["ifname"] for x in ours]
