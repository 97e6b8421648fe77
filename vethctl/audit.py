"""The only loguru set-up: a stderr sink by verbosity, and the JSON-lines audit sink, always.

Every command vethctl drives is logged before and after it runs. The audit file gets one JSON object a
line, written with a single append-mode write so that concurrent vethctl processes never interleave.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC

# Not loguru's default stderr handler: setup() adds the only one. (Each handler costs a few ms at start-up,
# and a CLI that starts once per command pays it every time.)
_autoinit = os.environ.get("LOGURU_AUTOINIT")
os.environ["LOGURU_AUTOINIT"] = "False"
from loguru import logger  # noqa: E402

from vethctl.errors import VethctlError  # noqa: E402
from vethctl.secure import create_file, escape_lines  # noqa: E402

if _autoinit is None:
    del os.environ["LOGURU_AUTOINIT"]
else:
    os.environ["LOGURU_AUTOINIT"] = _autoinit

_configured: dict[str, object] = {}


def default_audit_path() -> str:  # os.path, not pathlib: one module fewer at every start-up
    if env := os.environ.get("VETHCTL_AUDIT_LOG"):
        return env
    if os.geteuid() == 0:
        return "/var/log/vethctl/audit.jsonl"
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "vethctl", "audit.jsonl")


class _Sink:
    """One loguru handler for both outputs: the audit file (records that carry an `audit` entry, always)
    and stderr (by verbosity, `HH:MM:SS.mmm message`, the time dimmed on a terminal)."""

    def __init__(self, path: str, stderr_level: int):
        self.path = path
        self.stderr_level = stderr_level
        self.fd: int | None = None
        self.failed = False
        self.dim = sys.stderr.isatty() and "NO_COLOR" not in os.environ

    def __call__(self, message) -> None:
        record = message.record
        entry = record["extra"].get("audit")
        if entry is not None:
            self._audit(record, entry)
        if record["level"].no >= self.stderr_level:
            stamp = record["time"].strftime("%H:%M:%S.%f")[:-3]
            if self.dim:
                stamp = f"\x1b[2m{stamp}\x1b[0m"
            sys.stderr.write(f"{stamp} {escape_lines(record['message'])}\n")
            sys.stderr.flush()

    def _audit(self, record, entry: dict) -> None:
        if self.failed:
            return
        line = json.dumps(
            {"time": record["time"].astimezone(UTC).isoformat(timespec="microseconds"), **entry},
            default=str,
            separators=(",", ":"),
        )
        try:
            if self.fd is None:
                os.makedirs(os.path.dirname(self.path) or ".", mode=0o755, exist_ok=True)
                # appended to, never through a link, never someone else's file (secure.create_file)
                self.fd = create_file("--audit-log", self.path, 0o640, append=True)
            os.write(self.fd, (line + "\n").encode())
        except (OSError, VethctlError) as exc:
            self.failed = True
            why = exc.strerror if isinstance(exc, OSError) else str(exc)
            print(
                f"vethctl: warning: cannot write the audit log {self.path}: {why}"
                " (set --audit-log or VETHCTL_AUDIT_LOG)",
                file=sys.stderr,
            )


def setup(verbosity: int = 0, audit_log: str | None = None, quiet: bool = False) -> str:
    """verbosity 0: warnings; 1 (-v): every command before and after; 2 (-vv): and what resolution did."""
    path = audit_log if audit_log else default_audit_path()
    logger.remove()
    level = "WARNING" if verbosity <= 0 else ("DEBUG" if verbosity == 1 else "TRACE")
    if quiet:
        level = "ERROR"
    logger.add(
        _Sink(path, logger.level(level).no),
        level="TRACE",
        format="{message}",
        backtrace=False,
        diagnose=False,
    )
    _configured["path"] = path
    return path


def audit_path() -> str | None:
    return _configured.get("path")  # type: ignore[return-value]


def command_started(
    argv: tuple[str, ...],
    *,
    netns: str | None,
    node: str,
    session: str | None,
    shown: str,
    lines: list[str] | None = None,
) -> None:
    """lines: what an `ip -batch -` is fed, one command a line."""
    entry = {
        "event": "start",
        "argv": list(argv),
        "netns": netns,
        "node": node,
        "session": session,
        "pid": os.getpid(),
    }
    if lines is not None:
        entry["lines"] = lines
    logger.bind(audit=entry).debug("$ {}", shown)


def command_finished(
    argv: tuple[str, ...],
    *,
    netns: str | None,
    node: str,
    session: str | None,
    rc: int | None,
    duration_s: float,
) -> None:
    logger.bind(
        audit={
            "event": "end",
            "argv": list(argv),
            "netns": netns,
            "node": node,
            "session": session,
            "pid": os.getpid(),
            "rc": rc,
            "duration_s": round(duration_s, 6),
        }
    ).debug("  exit {} in {:.3f}s", rc, duration_s)
