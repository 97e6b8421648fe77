"""`up`: a session (or one per pod), and the pods that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vethctl.results import OMIT_IF_NONE, Commands, Document, _json

if TYPE_CHECKING:  # annotations only: importing them would create their classes too
    from vethctl.results.target import Skipped


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
