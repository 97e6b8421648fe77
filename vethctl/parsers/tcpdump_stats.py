"""tcpdump's statistics lines, read: "N packets captured", "N packets received by filter", "N packets dropped
by kernel" (three lines at the end; one line, comma-separated, in answer to SIGUSR1)."""

from __future__ import annotations

import re

_ONE_LINE = re.compile(
    r"(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel"
)
_ANY = re.compile(
    r"(\d+) packets? captured|(\d+) packets? received by filter|(\d+) packets? dropped by kernel"
)


def one_line_stats(line: str) -> tuple[int, int, int] | None:
    """(captured, received by filter, dropped by kernel) from tcpdump's answer to SIGUSR1, else None."""
    m = _ONE_LINE.search(line)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def counters(stderr: str) -> dict[str, int]:
    """tcpdump's closing counters: captured, received by filter, dropped by kernel (the last ones printed)."""
    out: dict[str, int] = {}
    for m in _ANY.finditer(stderr):
        if m.group(1):
            out["captured"] = int(m.group(1))
        elif m.group(2):
            out["received_by_filter"] = int(m.group(2))
        elif m.group(3):
            out["dropped_by_kernel"] = int(m.group(3))
    return out
