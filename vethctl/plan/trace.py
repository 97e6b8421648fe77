"""trace's plan: a capture on every hop of the path at once, the pod's pings, then every capture stopped."""

from __future__ import annotations

from collections.abc import Sequence

from vethctl.model import IPAddress, Netns
from vethctl.plan import Plan
from vethctl.plan.capture import capture_steps
from vethctl.plan.probe import ping_step, probe_steps
from vethctl.probespec import ProbeSpec


def build_trace(
    hops: Sequence[tuple],
    filter_expr: str,
    pod_netns: Netns,
    dst: IPAddress,
    *,
    count: int,
    interval: float,
    probe: ProbeSpec | None = None,
    timeout: int = 2,
    size: int | None = None,
    keys: Sequence[str] | None = None,
) -> Plan:
    """hops: (interface, the namespace it is in: None for the node's own[, a filter of its own, tcpdump -T]) in
    path order; hop i's capture has the key keys[i] (`hop{i}` without keys: the scenario numbers every hop of
    the path, those whose captures run on another machine too). The pod pings `dst`, or sends `probe` (keys
    `probe...`)."""
    starts, stops = [], []
    for i, hop in enumerate(hops):
        interface, netns, own_filter, decode_as = (*hop, None, None)[:4]
        start, stop = capture_steps(
            interface,
            own_filter or filter_expr,
            None,
            key=keys[i] if keys else f"hop{i}",
            netns=netns,
            decode_as=decode_as,
        )
        starts.append(start)
        stops.append(stop)
    if probe is None:
        sends = [ping_step(pod_netns, dst, count=count, interval=interval, wait=2, size=size)]
    else:
        sends = probe_steps(probe, pod_netns, count=count, timeout=timeout)
    return Plan((*starts, *sends, *stops))
