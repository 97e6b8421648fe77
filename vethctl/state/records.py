"""One JSON record store through a Host: read, write (atomically there), remove, list."""

from __future__ import annotations

import json

from vethctl.execute.hosts.base import Host


def read(host: Host, path: str) -> dict | None:
    text = host.read_text(path)
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def write(host: Host, path: str, record: dict) -> None:
    host.write_text(path, json.dumps(record, indent=1))


def remove(host: Host, path: str) -> None:
    host.remove(path)


def names(host: Host, directory: str) -> list[str]:
    """The record names (file names without .json) in a directory, sorted."""
    return [name[:-5] for name in host.listdir(directory) if name.endswith(".json")]
