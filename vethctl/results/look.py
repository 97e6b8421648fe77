"""Looking from inside the pod: `routes`, `ping`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vethctl.results import Commands, Document

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.target import Target


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
