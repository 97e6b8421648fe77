"""What the pod sends, as plan steps: ping (its lines shown as they come), nc, dig; and the capture filter
that keeps just a probe's packets."""

from __future__ import annotations

from vethctl.commands import probe
from vethctl.model import IPAddress, Netns
from vethctl.plan import Step
from vethctl.probespec import ProbeSpec

ICMP_INTERVAL = 0.5  # seconds between the pings of an icmp: probe


def ping_step(
    netns: Netns | None,
    dst: IPAddress,
    *,
    count: int,
    interval: float,
    key: str = "ping",
    wait: int | None = None,
    size: int | None = None,
) -> Step:
    return Step(
        probe.ping(dst, count=count, interval=interval, wait=wait, size=size),
        netns,
        purpose=f"ping {dst} from the pod ({count} × every {interval:g} s)",
        phase="probe",
        key=key,
        stream=True,
        ok_codes=frozenset({0, 1}),  # 1: no reply, which is an observation, not a failure
    )


def probe_steps(
    spec: ProbeSpec, netns: Netns | None, *, count: int, timeout: int, key: str = "probe"
) -> list[Step]:
    """The probe as the commands a person would type, `count` times: ping -c, nc once per connection or
    datagram, dig with `count` tries. Keys: `key` for ping and dig, `key0`, `key1`... for nc."""
    where = f"from the pod to {spec}"
    if spec.kind == "icmp":
        return [ping_step(netns, spec.address, count=count, interval=ICMP_INTERVAL, key=key, wait=timeout)]
    if spec.kind == "dns":
        argv = probe.dns_query(spec.name, spec.address, spec.port, spec.qtype, timeout=timeout, tries=count)
        # dig: 0 answered (NXDOMAIN and SERVFAIL are answers too), 9 no reply
        return [
            Step(
                argv,
                netns,
                purpose=f"ask {spec.server} for {spec.name} {where}",
                phase="probe",
                key=key,
                ok_codes=frozenset({0, 9}),
            )
        ]
    steps = []
    for i in range(count):
        if spec.kind == "tcp":
            argv, stdin, what = probe.tcp_connect(spec.address, spec.port, timeout=timeout), None, "connect"
        else:
            argv, stdin, what = (
                probe.udp_send(spec.address, spec.port, timeout=timeout),
                probe.UDP_PAYLOAD,
                "send",
            )
        steps.append(
            Step(
                argv,
                netns,
                purpose=f"{what} {i + 1} of {count} {where}",
                phase="probe",
                key=f"{key}{i}",
                stdin=stdin,
                ok_codes=frozenset({0, 1}),
            )
        )  # 1: refused or no answer: an observation
    return steps


def probe_filter(spec: ProbeSpec) -> str:
    """Just the probe's packets: its flow (to and from the address and port), the ICMP errors that can be
    about it, and neighbour resolution (ARP, or ND for IPv6)."""
    addr = spec.address
    v6 = addr.version == 6
    errors = "(icmp6 and ip6[40] == 1)" if v6 else "(icmp and icmp[icmptype] == icmp-unreach)"
    neighbours = "(icmp6 and (ip6[40] == 135 or ip6[40] == 136))" if v6 else "arp"
    if spec.kind == "icmp":
        flow = f"({'icmp6' if v6 else 'icmp'} and host {addr})"
    elif spec.kind == "dns":
        flow = f"((udp or tcp) and host {addr} and port {spec.port})"
    else:
        flow = f"({spec.kind} and host {addr} and port {spec.port})"
    return f"{flow} or {errors} or {neighbours}"
