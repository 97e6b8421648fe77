"""Choosing the two ends: names, a free subnet, addresses; validating what the user gave instead.

Pure: it decides from views of the pod and the node (read before). Callers hold the allocation lock
(state/lock.py) until the addresses are in the kernel, so concurrent runs never pick the same ones.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from vethctl.errors import BadInput
from vethctl.model import (
    OFFSETS,
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
    """What the user asked of the two ends (names, addresses, MTU, family)."""

    host_if: str | None = None
    pod_if: str | None = None
    host_addr: str | None = None
    pod_addr: str | None = None
    mtu: int | None = None
    allow_public: bool = False
    family: int | None = None  # --family 4|6; None: the family of a given end, else chosen by the pod


def validate_request(req: EndsRequest) -> None:
    """Everything that can be checked without looking at the machine."""
    if req.host_if is not None:
        validate_ifname(req.host_if, "--host-if")
    if req.pod_if is not None:
        validate_ifname(req.pod_if, "--pod-if")
    if req.mtu is not None and not 68 <= req.mtu <= 65535:
        raise BadInput(f"--mtu {req.mtu} is out of range", hint="IPv4 needs 68 to 65535")
    if req.family not in (None, 4, 6):
        raise BadInput(f"--family {req.family} is not an address family", hint="give 4 or 6")
    host = parse_interface(req.host_addr, "--host-addr") if req.host_addr else None
    pod = parse_interface(req.pod_addr, "--pod-addr") if req.pod_addr else None
    for option, iface in (("--host-addr", host), ("--pod-addr", pod)):
        if iface and req.family and iface.version != req.family:
            raise BadInput(
                f"--family {req.family} but {option} {iface} is IPv{iface.version}",
                hint=f"give an IPv{req.family} address, or drop --family",
            )
    if host and pod:
        _check_pair(host, pod)
    for iface in (host, pod):
        if iface and is_public(iface.network) and not req.allow_public:
            raise BadInput(
                f"{iface.network} is public address space: someone on the internet owns it, and a route to it in the"
                " pod hides the real one",
                hint="use a documentation range such as 203.0.113.0/24, or pass --allow-public",
            )


def check_family(family: int | None, address: IPAddress, option: str) -> None:
    """--family says which family the ends and the probe use: an address of the other one contradicts it."""
    if family and address.version != family:
        raise BadInput(
            f"--family {family} but {option} is an IPv{address.version} address",
            hint=f"give an IPv{family} address, or --family {address.version}",
        )


def _check_pair(host: IPInterface, pod: IPInterface) -> None:
    if host.version != pod.version:
        raise BadInput(
            f"--host-addr {host} is IPv{host.version} and --pod-addr {pod} is IPv{pod.version}: the two ends"
            " of a pair are one family, on one subnet",
            hint="give both ends IPv4 addresses or both IPv6, or omit one and it is chosen",
        )
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
    """The partner of a given end: at the walkthrough's offset where its subnet has that host, else the first
    free host. There always is one: parse_interface refuses a /32 or /128, and the hosts() of a /31 or /127
    are both its addresses. hosts() is lazy (a /64 has 2**64 of them)."""
    net = given.network
    preferred = [host_at(net, offset)] if offset < net.num_addresses - 1 else []
    addr = next(a for a in itertools.chain(preferred, net.hosts()) if a != given.ip)
    return ipaddress.ip_interface(f"{addr}/{net.prefixlen}")


def ends_family(req: EndsRequest, pod: PodView) -> int:
    """--family; else the family of an end the user gave; else IPv4, unless the pod has no IPv4 address:
    an IPv6-only pod gets IPv6 ends (an IPv4 pair there would show nothing of the pod's own traffic)."""
    if req.family:
        return req.family
    given = req.pod_addr or req.host_addr
    if given:
        return parse_interface(given, "--pod-addr" if req.pod_addr else "--host-addr").version
    return 4 if 4 in pod.families or not pod.families else 6


def allocate(
    req: EndsRequest,
    pod: PodView,
    node: NetView,
    *,
    mode: str = "run",
    taken: Sequence[Attachment] = (),
) -> Attachment:
    """Names and addresses for a new pair: the user's, checked against both sides, or free defaults.
    taken: the pairs already chosen in this invocation (several pods at once), whose names and subnets are
    not in the views yet."""
    while True:  # a session id of its own: no pair of this invocation has it, no link has its names
        session = new_session_id()
        host_name, pod_name = default_names(session)
        if any(t.session == session for t in taken):
            continue
        if (req.host_if or not node.link(host_name)) and (req.pod_if or not pod.link(pod_name)):
            break
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

    used = pod.used_prefixes() + node.used_prefixes() + [t.subnet for t in taken]
    host = parse_interface(req.host_addr, "--host-addr") if req.host_addr else None
    pod_end = parse_interface(req.pod_addr, "--pod-addr") if req.pod_addr else None
    family = ends_family(req, pod)
    pod_offset, host_offset, _ = OFFSETS[family]
    if host is None and pod_end is None:
        net = choose_subnet(used, family)
        pod_end = ipaddress.ip_interface(f"{host_at(net, pod_offset)}/{net.prefixlen}")
        host = ipaddress.ip_interface(f"{host_at(net, host_offset)}/{net.prefixlen}")
    elif host is None:
        host = _other_end(pod_end, host_offset)
    elif pod_end is None:
        pod_end = _other_end(host, pod_offset)
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
    """An unused address of the veth subnet (.101, ::101): nobody answers its ARP or Neighbor Solicitation,
    which is the walkthrough's point."""
    net = att.subnet
    offset = OFFSETS[net.version][2]
    taken = {att.host_end.address.ip, att.pod_end.address.ip}
    preferred = [host_at(net, offset)] if net.num_addresses - 1 > offset else []
    for addr in itertools.chain(preferred, net.hosts()):
        if addr not in taken:
            return addr
    raise BadInput(f"{net} has no third address to ping", hint="use a shorter prefix, or give --ping")
