"""Where the target is (`find`), and the pods a selector could not reach."""

from __future__ import annotations

from dataclasses import dataclass, field

from vethctl.results import OMIT_IF_NONE, Commands, Document, _json


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


@dataclass(frozen=True)
class Skipped(Document):
    pod: str
    node: str | None
    why: str
