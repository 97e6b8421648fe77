"""The walkthrough's plan: attach a veth pair, look at the pod's routes, capture on the host end, ping."""

from __future__ import annotations

from collections.abc import Iterable

from vethctl.commands import ip
from vethctl.model import Attachment, IPAddress
from vethctl.plan import Plan, Step
from vethctl.plan.attach import attach_steps
from vethctl.plan.capture import capture_steps
from vethctl.plan.probe import ping_step


def observe_steps(att: Attachment, destinations: Iterable[IPAddress]) -> list[Step]:
    steps = [
        Step(
            ip.route_show(),
            att.pod_end.netns,
            purpose="the pod's routes, with the new connected one",
            phase="observe",
            key="pod_routes",
        ),
    ]
    for dst in destinations:
        steps.append(
            Step(
                ip.route_get_json(dst),
                att.pod_end.netns,
                purpose=f"which interface {dst} leaves the pod by",
                phase="observe",
                key=f"route_get:{dst}",
            )
        )
    return steps


def build_run(
    att: Attachment,
    *,
    ping_addr: IPAddress,
    count: int,
    interval: float,
    filter_expr: str,
    pcap: str | None,
    keep: bool,
) -> Plan:
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
