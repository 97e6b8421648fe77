"""What each command produced, as frozen values; `to_json()` is the contract's JSON document.

Scenarios return these; output/ renders them as text or JSON. Data that comes from tools as it is (`ip -j`
routes, jc's ping schema, packet records of the tcpdump parsers, the journal of commands) stays as the
tools' own dicts inside them. The key order of every document is the order of the fields: the golden tests
(tests/golden/plans) hold it byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

OMIT_IF_NONE = {"omit_if_none": True}


def _json(value):
    if isinstance(value, Document):
        return value.to_json()
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


class Document:
    """A dataclass whose JSON is its fields, in order (a field marked OMIT_IF_NONE is left out when None)."""

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_if_none"):
                continue
            out[f.name] = _json(value)
        return out

    def but(self, **changes):
        return replace(self, **changes)  # type: ignore[type-var]


Commands = tuple  # the journal: [{argv, started, netns, phase, rc, duration_s}]


# -- where the target is -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target(Document):
    text: str
    kind: str
    netns: str | None
    netns_path: str
    pid: int | None
    pod_ip: str | None
    pod_if: str | None
    mtu: int | None
    host_veth: str | None
    node: str
    pod_ips: tuple[str, ...] | None = field(
        default=None, metadata=OMIT_IF_NONE
    )  # a dual-stack pod's, v4 first


@dataclass(frozen=True)
class FindResult(Document):
    target: Target
    resolved_by: tuple[str, ...]
    commands: Commands

    def to_json(self) -> dict:
        return self.target.to_json() | {
            "resolved_by": list(self.resolved_by),
            "commands": _json(self.commands),
        }


# -- run -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class End(Document):
    name: str
    address: str


@dataclass(frozen=True)
class Veth(Document):
    host: End
    pod: End
    mtu: int | None
    tag: str


@dataclass(frozen=True)
class RunCapture(Document):
    interface: str
    filter: str
    pcap: str | None
    counters: dict
    packets: tuple[dict, ...]
    packets_not_kept: int = 0  # printed past the bound the report keeps (execute/bounded.py): counted only


@dataclass(frozen=True)
class Teardown(Document):
    done: bool
    removed: str | None
    already_gone: tuple[str, ...]
    how: str | None


@dataclass(frozen=True)
class RunReport(Document):
    target: Target
    resolved_by: tuple[str, ...]
    node: str
    session: str
    veth: Veth
    routes: tuple[dict, ...]
    route_to_ping: dict | None
    ping_target: str
    ping: dict | None
    ping_lines: tuple[str, ...]
    capture: RunCapture
    commands: Commands
    elapsed_s: float
    observations: tuple[str, ...]
    teardown: Teardown
    audit_log: str
    probes: tuple[ProbeOutcome, ...] | None = field(default=None, metadata=OMIT_IF_NONE)  # run --probe
    # probes that leave the pod by another interface than the veth are captured where they leave
    probe_captures: tuple[ProbeCapture, ...] | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True)
class PodRun(Document):
    """One pod of `run -l`: its report (or dry-run lines), or the error that stopped it."""

    pod: str
    node: str | None
    report: RunReport | None = field(default=None, metadata=OMIT_IF_NONE)
    dry_run: str | None = None
    error: str | None = field(default=None, metadata=OMIT_IF_NONE)
    exit_code: int | None = field(default=None, metadata=OMIT_IF_NONE)

    def to_json(self) -> dict:
        if self.error is not None:
            return {"pod": self.pod, "node": self.node, "error": self.error, "exit_code": self.exit_code}
        return {"pod": self.pod, "node": self.node, "report": _json(self.report), "dry_run": self.dry_run}


@dataclass(frozen=True)
class Skipped(Document):
    pod: str
    node: str | None
    why: str


@dataclass(frozen=True)
class ManyRunResult(Document):
    selector: str
    pods: tuple[PodRun, ...]
    skipped: tuple[Skipped, ...]


# -- looking from inside the pod -----------------------------------------------------------------------


@dataclass(frozen=True)
class RouteTo(Document):
    address: str
    route: dict | None
    sentence: str


@dataclass(frozen=True)
class RoutesResult(Document):
    target: Target
    routes: tuple[dict, ...]
    to: RouteTo | None
    commands: Commands


@dataclass(frozen=True)
class PingResult(Document):
    target: Target
    destination: str
    route: dict | None
    route_sentence: str
    ping: dict | None
    ping_lines: tuple[str, ...]
    rc: int | None
    commands: Commands


# -- probes --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeOutcome(Document):
    """The contract's `probe` object: what was sent, and what the packets say came of it."""

    kind: str
    address: str
    port: int | None
    name: str | None
    server: str | None
    outcome: str  # answered, refused, unreachable, no-reply, nxdomain, servfail
    detail: str
    answers: tuple[str, ...]
    sent: int
    received: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class ProbeCapture(Document):
    interface: str
    netns: str | None
    filter: str
    pcap: str | None
    counters: dict
    packets: tuple[dict, ...]
    packets_not_kept: int = 0


@dataclass(frozen=True)
class ProbeResult(Document):
    target: Target
    probe: ProbeOutcome
    route: dict | None
    route_sentence: str
    capture: ProbeCapture
    tool_output: tuple[str, ...]
    observations: tuple[str, ...]
    commands: Commands


# -- trace ---------------------------------------------------------------------------------------------


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


# -- capture -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureSummary(Document):
    interface: str | None
    netns: str | None
    filter: str
    pcap: str | None
    read: str | None
    counters: dict
    stopped_by: str
    packets: tuple[dict, ...]
    packets_not_kept: int = 0


@dataclass(frozen=True)
class PodCapture(Document):
    pod: str
    netns: str
    interface: str
    packets: int
    counters: dict


@dataclass(frozen=True)
class ManyCaptureSummary(Document):
    selector: str
    filter: str
    pcap: str | None
    read: None
    interface: str
    counters: dict
    stopped_by: str
    pods: tuple[PodCapture, ...]
    packets: tuple[dict, ...]
    packets_not_kept: int = 0


@dataclass(frozen=True)
class CaptureResult(Document):
    capture: CaptureSummary | ManyCaptureSummary
    skipped: tuple[Skipped, ...] | None = field(default=None, metadata=OMIT_IF_NONE)
    commands: Commands = ()

    def to_json(self) -> dict:
        out = {"capture": self.capture.to_json()}
        if self.skipped is not None:
            out["skipped"] = _json(self.skipped)
        out["commands"] = _json(self.commands)
        return out


# -- sessions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpResult(Document):
    record: dict  # the session record, as stored (state/sessions.py)
    commands: Commands

    def to_json(self) -> dict:
        return self.record | {"commands": _json(self.commands)}


@dataclass(frozen=True)
class UpFailure(Document):
    """One pod of a several-pod `up` that got no session: why, and what of its own was undone."""

    target: str
    node: str | None
    error: str
    exit_code: int
    removed: tuple[str, ...]  # its host end, deleted again (its peer with it)
    already_gone: tuple[str, ...]  # its host end, gone before the undo (with its pod's namespace)


@dataclass(frozen=True)
class ManyUpResult(Document):
    """`up TARGET TARGET...` or `up -l SELECTOR`: a session per pod (each its record), the pods that failed
    (each undone alone) and those skipped."""

    sessions: tuple[dict, ...]
    failed: tuple[UpFailure, ...]
    skipped: tuple[Skipped, ...]
    commands: Commands
    selector: str | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True)
class Removal(Document):
    session: str
    links: tuple[str, ...]


@dataclass(frozen=True)
class Stopped(Document):
    session: str
    pid: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class NotRemoved(Document):
    """What teardown could not remove, and why: the rest was removed all the same (exit 1)."""

    session: str
    links: tuple[str, ...]
    error: str


@dataclass(frozen=True)
class DownResult(Document):
    removed: tuple[Removal, ...]
    already_gone: tuple[str, ...]
    failed: tuple[NotRemoved, ...]
    stopped: tuple[Stopped, ...]
    commands: Commands


@dataclass(frozen=True)
class TaggedLink(Document):
    """A host end that carries vethctl's tag, as the kernel shows it, with what its session's record adds."""

    session: str
    mode: str
    pid: int | None
    node: str
    node_netns: str | None
    host: str | None
    host_if: str
    pod_netns: str | None
    has_peer: bool
    host_addr: str | None
    pod_if: str | None
    pod_addr: str | None
    created: float | None
    target: str | None
    jobs: tuple[dict, ...]
    recorded: bool
    alive: bool | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True)
class StatusResult(Document):
    sessions: tuple[TaggedLink, ...]
    records_without_links: tuple[str, ...]
    commands: Commands


@dataclass(frozen=True)
class Collected(Document):
    session: str
    links: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class GcResult(Document):
    removed: tuple[Collected, ...]
    stopped: tuple[Stopped, ...]
    kept_alive: tuple[str, ...]
    failed: tuple[NotRemoved, ...]
    commands: Commands


# -- the lab -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabUpResult(Document):
    record: dict  # the lab's record, as stored (state/labs.py)
    created: tuple[str, ...]
    commands: Commands

    def to_json(self) -> dict:
        return self.record | {"created": list(self.created), "commands": _json(self.commands)}


@dataclass(frozen=True)
class LabDownResult(Document):
    name: str
    removed: tuple[str, ...]
    commands: Commands
    note: str | None = field(default=None, metadata=OMIT_IF_NONE)
    left: tuple[str, ...] | None = field(default=None, metadata=OMIT_IF_NONE)  # not verified as the lab's


@dataclass(frozen=True)
class LabStatusResult(Document):
    labs: tuple[dict, ...]  # each lab's record with `up`, and `present` for each pod

    def to_json(self) -> list:  # type: ignore[override]
        return _json(self.labs)
