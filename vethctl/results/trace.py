"""`trace`: the hops a packet crossed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vethctl.results import OMIT_IF_NONE, Commands, Document

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.probe import ProbeOutcome
    from vethctl.results.target import Target


@dataclass(frozen=True)
class TraceHop(Document):
    netns: str | None
    node: str  # where it was captured: this node's label, or the next node's
    side: str
    interface: str
    role: str
    note: str
    requests: int
    replies: int
    request_seqs: tuple[int, ...]
    reply_seqs: tuple[int, ...]
    first_seen: float | None
    src_ip: str | None
    dst_ip: str | None
    icmp_id: int | None
    reply_src_ip: str | None
    reply_dst_ip: str | None
    delay_from_previous_us: float | None
    arp_requests: tuple[dict, ...]
    arp_replies: tuple[dict, ...]
    icmp_errors: tuple[dict, ...]
    packets: tuple[dict, ...]
    counters: dict
    # IPv6's ARP, in an IPv6 trace: [{who_has, from, to}], [{ip, is_at, to}]
    nd_solicitations: tuple[dict, ...] | None = field(default=None, metadata=OMIT_IF_NONE)
    nd_advertisements: tuple[dict, ...] | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True)
class TraceResult(Document):
    target: Target
    to: str
    path: tuple[str, ...]
    hops: tuple[TraceHop, ...]
    routing: dict
    filter: str
    ping: dict | None
    ping_lines: tuple[str, ...]
    observations: tuple[str, ...]
    diagnostics: dict
    commands: Commands
    probe: ProbeOutcome | None = field(default=None, metadata=OMIT_IF_NONE)  # trace --probe
    nat: tuple[dict, ...] = ()  # [{kind, before, after, between, rule, chain, service, conntrack}]
    rules_matched: tuple[
        dict, ...
    ] = ()  # [{where, backend, table, chain, rule, packets}]: counters that moved
    drops: tuple[dict, ...] = ()  # [{where, rule|counter, packets}]: what counted the loss
    encap: tuple[dict, ...] = ()  # [{kind, vni, outer_src, outer_dst, port, interface}]: overlays crossed
