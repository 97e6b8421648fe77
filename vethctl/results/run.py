"""`run` (and `run -l`): the walkthrough's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vethctl.results import OMIT_IF_NONE, Commands, Document, _json

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.probe import ProbeCapture, ProbeOutcome
    from vethctl.results.target import Skipped, Target


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
class ManyRunResult(Document):
    selector: str
    pods: tuple[PodRun, ...]
    skipped: tuple[Skipped, ...]
