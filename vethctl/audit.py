"""The only loguru set-up: a stderr sink by verbosity, and the JSON-lines audit sink, always.

Every command vethctl drives is logged before and after it runs. The audit file gets one JSON object a
line, written with a single append-mode write so that concurrent vethctl processes never interleave.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC
from pathlib import Path

from loguru import logger

_configured: dict[str, object] = {}


def default_audit_path() -> Path:
    if env := os.environ.get("VETHCTL_AUDIT_LOG"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/log/vethctl/audit.jsonl")
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "vethctl" / "audit.jsonl"


class _AuditSink:
    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None
        self.failed = False

    def __call__(self, message) -> None:
        record = message.record
        entry = record["extra"].get("audit")
        if entry is None or self.failed:
            return
        line = json.dumps(
            {"time": record["time"].astimezone(UTC).isoformat(timespec="microseconds"), **entry},
            default=str,
            separators=(",", ":"),
        )
        try:
            if self.fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            os.write(self.fd, (line + "\n").encode())
        except OSError as exc:
            self.failed = True
            print(f"vethctl: warning: cannot write the audit log {self.path}: {exc.strerror}"
                  " (set --audit-log or VETHCTL_AUDIT_LOG)", file=sys.stderr)  # fmt: skip


def setup(verbosity: int = 0, audit_log: str | None = None, quiet: bool = False) -> Path:
    """verbosity 0: warnings; 1 (-v): every command before and after; 2 (-vv): and what resolution did."""
    path = Path(audit_log) if audit_log else default_audit_path()
    logger.remove()
    level = "WARNING" if verbosity <= 0 else ("DEBUG" if verbosity == 1 else "TRACE")
    if quiet:
        level = "ERROR"
    logger.add(sys.stderr, level=level, format="<dim>{time:HH:mm:ss.SSS}</dim> {message}",
               colorize=None, filter=lambda r: not r["extra"].get("audit_only"))  # fmt: skip
    logger.add(_AuditSink(path), level="TRACE", format="{message}", filter=lambda r: "audit" in r["extra"])
    _configured["path"] = path
    return path


def audit_path() -> Path | None:
    return _configured.get("path")  # type: ignore[return-value]


def command_started(
    argv: tuple[str, ...], *, netns: str | None, node: str, session: str | None, shown: str
) -> None:
    logger.bind(audit={"event": "start", "argv": list(argv), "netns": netns, "node": node, "session": session,
                       "pid": os.getpid()}).debug("$ {}", shown)  # fmt: skip


def command_finished(argv: tuple[str, ...], *, netns: str | None, node: str, session: str | None, rc: int | None,
                     duration_s: float, shown: str) -> None:  # fmt: skip
    logger.bind(audit={"event": "end", "argv": list(argv), "netns": netns, "node": node, "session": session,
                       "pid": os.getpid(), "rc": rc, "duration_s": round(duration_s, 6)}).debug(
        "  exit {} in {:.3f}s", rc, duration_s)  # fmt: skip
