"""/proc, read: a process's start time (what tells it from a later process that got the same pid)."""

from __future__ import annotations


def start_time(stat_text: str) -> int | None:
    """Field 22 of /proc/PID/stat (starttime, clock ticks since boot). The command name (field 2) is in
    parentheses and may hold spaces or parentheses itself: the fields are counted after its last ')'."""
    fields = stat_text.rpartition(")")[2].split()
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None
