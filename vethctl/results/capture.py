"""`capture` (and `capture -l`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vethctl.results import OMIT_IF_NONE, Commands, Document, _json

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.target import Skipped, Target


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
    # capture TARGET: the target as found, the side captured (pod: its eth0; host: its host veth), the node
    target: Target | None = field(default=None, metadata=OMIT_IF_NONE)
    side: str | None = field(default=None, metadata=OMIT_IF_NONE)
    node: str | None = field(default=None, metadata=OMIT_IF_NONE)
    # --pcap: the stream written on this machine ("-": stdout), every packet counted (pcap_packets), also the
    # ones the text did not keep up with (not_decoded); with --rotate the files kept, oldest first
    pcap_packets: int | None = field(default=None, metadata=OMIT_IF_NONE)
    pcap_bytes: int | None = field(default=None, metadata=OMIT_IF_NONE)
    not_decoded: int | None = field(default=None, metadata=OMIT_IF_NONE)
    files: tuple[str, ...] | None = field(default=None, metadata=OMIT_IF_NONE)
    snaplen: int | None = field(default=None, metadata=OMIT_IF_NONE)
    max_size_mb: float | None = field(default=None, metadata=OMIT_IF_NONE)
    rotate: int | None = field(default=None, metadata=OMIT_IF_NONE)


@dataclass(frozen=True)
class PodCapture(Document):
    pod: str
    netns: str
    interface: str
    packets: int
    counters: dict
    node: str | None = None  # where it was captured (this machine, a lab node, an ssh host, a debugging pod)


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
