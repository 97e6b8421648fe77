"""Plans: the steps a scenario will take, as values, before anything runs.

A Step is one command (or the stop of a background one), where it runs, why, and how to undo it.
build_* functions are pure: the same inputs give the same plan, which tests compare as golden lists,
`--dry-run` prints and `--transcript` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from vethctl.commands import Argv, in_netns, ip, probe, tcpdump
from vethctl.model import Attachment, IPAddress, Netns

PHASES = ("attach", "observe", "capture", "probe", "teardown", "lab")


@dataclass(frozen=True)
class Step:
    argv: Argv
    netns: Netns | None = None  # None: on the node
    purpose: str = ""
    phase: str = "attach"
    undo: tuple[Step, ...] = ()
    key: str | None = None  # name under which the scenario finds this step's result
    background: bool = False  # a process that runs alongside the next steps (tcpdump)
    ready: str | None = None  # what a background process prints on stderr once it is ready
    stops: str | None = None  # this step stops the background step with this key (argv is empty)
    ok_codes: frozenset[int] = frozenset({0})
    stdin: str | None = None
    stream: bool = False  # a foreground command whose lines are shown as they come (ping)
    quiet_fail: bool = False  # an undo that may find nothing to undo (already gone) is not an error

    @property
    def argv_in_netns(self) -> Argv:
        return in_netns(self.netns, self.argv)


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    keep: bool = False  # leave what was attached in place (no teardown)
    title: str = ""
    notes: tuple[str, ...] = field(default=())

    def teardown(self) -> tuple[Step, ...]:
        """What undoes the whole plan once every step has run: the undos, last first."""
        if self.keep:
            return ()
        return tuple(u for s in reversed(self.steps) for u in reversed(s.undo))

    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + self.teardown()


def attach_steps(att: Attachment) -> list[Step]:
    host, pod = att.host_end, att.pod_end
    delete = Step(
        ip.link_del(host.name),
        purpose=f"remove the veth pair (deleting {host.name} removes {pod.name} too)",
        phase="teardown",
        quiet_fail=True,
    )
    return [
        Step(
            ip.veth_add(host.name, pod.name, pod.netns, mtu=att.mtu),
            purpose=f"create the veth pair, {pod.name} straight into the pod's netns",
            undo=(delete,),
            key="veth_add",
        ),
        Step(ip.link_tag_up(host.name, att.tag), purpose=f"tag the host end {att.tag} and bring it up"
             " (no IPv6 link-local: no DAD)"),
        Step(ip.link_tag_up(pod.name, att.tag), pod.netns, purpose="tag the pod end and bring it up"),
        Step(ip.addr_add(pod.address, pod.name), pod.netns, purpose="address the pod end"),
        Step(ip.addr_add(host.address, host.name), purpose="address the host end"),
    ]  # fmt: skip


def observe_steps(att: Attachment, destinations: Iterable[IPAddress]) -> list[Step]:
    steps = [
        Step(ip.route_show(), att.pod_end.netns, purpose="the pod's routes, with the new connected one",
             phase="observe", key="pod_routes"),
    ]  # fmt: skip
    for dst in destinations:
        steps.append(
            Step(ip.route_get_json(dst), att.pod_end.netns, purpose=f"which interface {dst} leaves the pod by",
                 phase="observe", key=f"route_get:{dst}")
        )  # fmt: skip
    return steps


def capture_steps(iface: str, filter_expr: str, pcap: str | None, *, key: str = "capture",
                  netns: Netns | None = None, count: int | None = None) -> tuple[Step, Step]:  # fmt: skip
    """Start tcpdump and, later, stop it: the two are separate steps with the probe between them."""
    start = Step(
        tcpdump.capture(iface, filter_expr=filter_expr, pcap=pcap, count=count),
        netns,
        purpose=f"capture on {iface}; wait until tcpdump says it is listening",
        phase="capture",
        key=key,
        background=True,
        ready="listening on ",
    )
    stop = Step((), netns, purpose=f"stop the capture on {iface} once every packet is printed", phase="capture",
                stops=key)  # fmt: skip
    return start, stop


def ping_step(netns: Netns | None, dst: IPAddress, *, count: int, interval: float, key: str = "ping",
              wait: int | None = None) -> Step:  # fmt: skip
    return Step(
        probe.ping(dst, count=count, interval=interval, wait=wait),
        netns,
        purpose=f"ping {dst} from the pod ({count} × every {interval:g} s)",
        phase="probe",
        key=key,
        stream=True,
        ok_codes=frozenset({0, 1}),  # 1: no reply, which is an observation, not a failure
    )


def build_run(att: Attachment, *, ping_addr: IPAddress, count: int, interval: float, filter_expr: str,
              pcap: str | None, keep: bool) -> Plan:  # fmt: skip
    """The walkthrough: attach, look at the routes, capture on the host end, ping from the pod, tear down."""
    start, stop = capture_steps(att.host_end.name, filter_expr, pcap)
    steps = [
        *attach_steps(att),
        *observe_steps(att, [ping_addr]),
        start,
        ping_step(att.pod_end.netns, ping_addr, count=count, interval=interval),
        stop,
    ]
    return Plan(tuple(steps), keep=keep, title=f"run session {att.session}")


def build_up(att: Attachment) -> Plan:
    return Plan(tuple(attach_steps(att)), keep=True, title=f"up session {att.session}")


def build_down(host_names: Iterable[str]) -> Plan:
    steps = [
        Step(ip.link_del(name), purpose=f"remove {name} and its peer", phase="teardown", quiet_fail=True)
        for name in host_names
    ]
    return Plan(tuple(steps), keep=True, title="down")
