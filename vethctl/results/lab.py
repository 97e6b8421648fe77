"""`lab up`, `lab down`, `lab status`."""

from __future__ import annotations

from dataclasses import dataclass, field

from vethctl.results import OMIT_IF_NONE, Commands, Document, _json


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
