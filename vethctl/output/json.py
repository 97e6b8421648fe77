"""The contract's JSON documents: a result's to_json(), indented, one document."""

from __future__ import annotations

import json


def dumps(result) -> str:
    return json.dumps(result.to_json() if hasattr(result, "to_json") else result, indent=2, default=str)


def write(result, stream) -> None:
    stream.write(dumps(result) + "\n")


def record_line(record: dict) -> str:
    """One packet record as one ndjson line."""
    return json.dumps(record)
