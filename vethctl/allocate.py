"""Choosing the two ends: names, a free subnet, addresses; validating what the user gave instead.

Pure: it decides from views of the pod and the node (read before). Callers hold the allocation lock
(state/lock.py) until the addresses are in the kernel, so concurrent runs never pick the same ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vethctl.errors import BadInput
from vethctl.model import (
    HOST_END_OFFSET,
    PING_OFFSET,
    POD_END_OFFSET,
    Attachment,
    IPAddress,
    IPInterface,
    VethEnd,
    choose_subnet,
    default_names,
    host_at,
    is_public,
    new_session_id,
    overlapping,
    parse_interface,
    validate_ifname,
)
from vethctl.parsers.ipjson import NetView, PodView


@dataclass(frozen=True)
class EndsRequest:
    host_if: str | None = None
    pod_if: str | None = None
    host_addr: str | None = None
    pod_addr: str | None = None
    mtu: int | None = None
    allow_public: bool = False


def validate_request(req: EndsRequest) -> None:
    """Everything that can be checked without looking at the machine."""
    if req.host_if is not None:
        validate_ifname(req.host_if, "--host-if")
    if req.pod_if is not None:
        validate_ifname(req.pod_if, "--pod-if")
    if req.mtu is not None and not 68 <= req.mtu <= 65535:
        raise BadInput(f"--mtu {req.mtu} is out of range", hint="IPv4 needs 68 to 65535")
    host = parse_interface(req.host_addr, "--host-addr") if req.host_addr else None
    pod = parse_interface(req.pod_addr, "--pod-addr") if req.pod_addr else None
    if host and pod:
        _check_pair(host, pod)
    for iface in (host, pod):
        if iface and is_public(iface.network) and not req.allow_public:
            raise BadInput(
                f"{iface.network} is public address space: someone on the internet owns it, and a route to it in the"
                " pod hides the real one",
                hint="use a documentation range such as 203.0.113.0/24, or pass --allow-public",
            )


def _check_pair(host: IPInterface, pod: IPInterface) -> None:
    if host.network != pod.network:
        raise BadInput(
            f"--host-addr {host} and --pod-addr {pod} are in different subnets ({host.network} vs {pod.network})",
            hint="give both ends the same prefix",
        )
    if host.ip == pod.ip:
        raise BadInput(
            f"--host-addr and --pod-addr are the same address {host.ip}", hint="give each end its own address"
        )


def _other_end(given: IPInterface, offset: int) -> IPInterface:
    net = given.network
    candidates = [host_at(net, offset)] if offset < net.num_addresses - 1 else []
    candidates += [a for a in (net.hosts() if net.num_addresses > 2 else net)]
    for addr in candidates:
        if addr != given.ip:
            return ipaddress.ip_interface(f"{addr}/{net.prefixlen}")
    raise BadInput(f"{net} has no room for a second end", hint="use a shorter prefix")


def allocate(req: EndsRequest, pod: PodView, node: NetView, *, mode: str = "run") -> Attachment:
    """Names and addresses for a new pair: the user's, checked against both sides, or free defaults."""
    session = new_session_id()
    host_name, pod_name = default_names(session)
    host_name = req.host_if or host_name
    pod_name = req.pod_if or pod_name
    if node.link(host_name):
        raise BadInput(
            f"--host-if {host_name!r} already exists on the node", hint="choose another name, or omit it"
        )
    if pod.link(pod_name):
        raise BadInput(
            f"--pod-if {pod_name!r} already exists in the pod", hint="choose another name, or omit it"
        )

    used = pod.used_prefixes() + node.used_prefixes()
    host = parse_interface(req.host_addr, "--host-addr") if req.host_addr else None
    pod_end = parse_interface(req.pod_addr, "--pod-addr") if req.pod_addr else None
    if host is None and pod_end is None:
        net = choose_subnet(used)
        pod_end = ipaddress.ip_interface(f"{host_at(net, POD_END_OFFSET)}/{net.prefixlen}")
        host = ipaddress.ip_interface(f"{host_at(net, HOST_END_OFFSET)}/{net.prefixlen}")
    elif host is None:
        host = _other_end(pod_end, HOST_END_OFFSET)
    elif pod_end is None:
        pod_end = _other_end(host, POD_END_OFFSET)
    _check_pair(host, pod_end)
    clash = overlapping(pod_end.network, used)
    if clash is not None:
        raise BadInput(
            f"{pod_end.network} overlaps {clash}, already routed in the pod or on the node; a veth there"
            " would take over that traffic",
            hint="pick another subnet, or omit the addresses",
        )
    mtu = req.mtu or pod.mtu
    return Attachment(
        session=session,
        host_end=VethEnd(host_name, host, None),
        pod_end=VethEnd(pod_name, pod_end, pod.netns),
        mtu=mtu,
        mode=mode,
    )


def default_ping(att: Attachment) -> IPAddress:
    """An unused address of the veth subnet (.101): nobody answers its ARP, which is the walkthrough's point."""
    net = att.subnet
    taken = {att.host_end.address.ip, att.pod_end.address.ip}
    preferred = [host_at(net, PING_OFFSET)] if net.num_addresses - 1 > PING_OFFSET else []
    for addr in [*preferred, *(net.hosts() if net.num_addresses > 2 else net)]:
        if addr not in taken:
            return addr
    raise BadInput(f"{net} has no third address to ping", hint="use a shorter prefix, or give --ping")
