"""`down`, `status`, `gc`: sessions as the kernel's tags show them, and what was removed."""

from __future__ import annotations

from dataclasses import dataclass, field

from vethctl.results import OMIT_IF_NONE, Commands, Document


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
