"""Probes (`probe`, and `run --probe`, `trace --probe`): what was sent and what came of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vethctl.results import Commands, Document

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.target import Target


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
