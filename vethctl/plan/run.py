"""The walkthrough's plan: attach a veth pair, look at the pod's routes, capture on the host end, ping."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from vethctl.commands import ip
from vethctl.model import Attachment, IPAddress, PcapHome
from vethctl.plan import Plan, Step
from vethctl.plan.attach import attach_steps
from vethctl.plan.batch import ip_batch
from vethctl.plan.capture import capture_steps
from vethctl.plan.probe import ping_step, probe_filter, probe_steps
from vethctl.probespec import ProbeSpec, decode_for


def observe_steps(att: Attachment, destinations: Iterable[IPAddress]) -> list[Step]:
    """The pod's routes and, for each destination, the route it takes: one `ip -j -batch -` in the pod,
    each line's JSON found under its own key."""
    steps = [
        Step(
            ip.route_show(att.subnet.version),
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
    return ip_batch(steps, purpose="the pod's routes, and which interface each destination leaves by")


def build_run(
    att: Attachment,
    *,
    ping_addr: IPAddress | None,
    count: int,
    interval: float,
    filter_expr: str,
    pcap: str | None,
    keep: bool,
    probes: Sequence[ProbeSpec] = (),
    timeout: int = 2,
    pod_captures: Mapping[str, str] | None = None,
    pcap_home: bool = False,
) -> Plan:
    """The walkthrough: attach, look at the routes, capture on the host end, ping from the pod (and send each
    probe, key `probeJ_`...), tear down. pod_captures: {interface of the pod: filter} for probes that leave
    the pod by another interface than the veth: captured there too (key `podcap:IFACE`). pcap_home: the
    node is another machine, and the pcap comes home as a stream (`tcpdump -U -w -`) written to `pcap` here."""
    decode_as = decode_for(probes)
    home = PcapHome(pcap) if pcap and pcap_home else None
    start, stop = capture_steps(
        att.host_end.name, filter_expr, None if home else pcap, decode_as=decode_as, home=home
    )
    extra = [
        capture_steps(dev, filt, None, key=f"podcap:{dev}", netns=att.pod_end.netns, decode_as=decode_as)
        for dev, filt in (pod_captures or {}).items()
    ]
    destinations = ([ping_addr] if ping_addr is not None else []) + [p.address for p in probes]
    sends = (
        [ping_step(att.pod_end.netns, ping_addr, count=count, interval=interval)]
        if ping_addr is not None
        else []
    )
    for j, spec in enumerate(probes):
        sends += probe_steps(spec, att.pod_end.netns, count=count, timeout=timeout, key=f"probe{j}_")
    steps = [
        *attach_steps(att),
        *observe_steps(att, dict.fromkeys(destinations)),
        start,
        *(s for s, _ in extra),
        *sends,
        stop,
        *(s for _, s in extra),
    ]
    return Plan(tuple(steps), keep=keep)


def run_filter(base: str, probes: Sequence[ProbeSpec]) -> str:
    """The capture filter of a run with probes: the walkthrough's (ARP, ICMP) and each probe's own."""
    return " or ".join([f"({base})" if probes else base, *(f"({probe_filter(p)})" for p in probes)])
