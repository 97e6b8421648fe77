"""What each command produced, as frozen values; `to_json()` is the contract's JSON document.

Scenarios return these; output/ renders them as text or JSON. Data that comes from tools as it is (`ip -j`
routes, jc's ping schema, packet records of the tcpdump parsers, the journal of commands) stays as the
tools' own dicts inside them. The key order of every document is the order of the fields: the golden tests
(tests/golden/plans) hold it byte for byte.

One module per command (target, run, look, probe, trace, capture, up, sessions, lab), each imported only by
what uses it: a frozen dataclass costs about a millisecond to create, and a command pays at start-up only
for its own. This package holds what they share: Document, and how a value becomes JSON.
"""

from __future__ import annotations

from dataclasses import fields, replace

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
