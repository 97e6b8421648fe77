"""tcpdump's statistics lines: "N packets captured", "N packets received by filter", "N packets dropped by
kernel".

tcpdump prints them on stderr in two shapes. Its answer to SIGUSR1 is one line:

    tcpdump: 3 packets captured, 4 packets received by filter, 0 packets dropped by kernel

and its summary when it ends is three lines (after an empty one):

    3 packets captured
    4 packets received by filter
    0 packets dropped by kernel

Either may go on with "N packets dropped by interface" when the interface counts drops. `counters` reads
the last value of each counter from the whole stderr text (a capture's report); `last_stats` the three
numbers of the last complete set, one-line or three-line (stopping a capture waits for one).
"""

import re
from collections.abc import Iterable

# A number starts where no digit stands before it: these patterns are searched for anywhere in a line, and
# without the look-behind a long run of digits would be retried from each of its digits (quadratic time).
# At most 19 digits (a 64-bit counter): a longer run is no counter of tcpdump's (and int() refuses past 4,300).
_N = r"(?<![0-9])([0-9]{1,19})"
_CAPTURED = _N + r" packets? captured"
_RECEIVED = _N + r" packets? received by filter"
_DROPPED = _N + r" packets? dropped by kernel"

# any one of the three, wherever it is printed
_ANY_COUNTER_RE = re.compile(f"{_CAPTURED}|{_RECEIVED}|{_DROPPED}")
# the SIGUSR1 answer: the three on one line
_ONE_LINE_RE = re.compile(f"{_CAPTURED}, {_RECEIVED}, {_DROPPED}")
# the closing summary: one a line
_CAPTURED_RE = re.compile(_CAPTURED)
_RECEIVED_RE = re.compile(_RECEIVED)
_DROPPED_RE = re.compile(_DROPPED)


def counters(stderr_text: str) -> dict[str, int]:
    """The counters tcpdump printed: `captured`, `received_by_filter`, `dropped_by_kernel`, each the last
    one printed; a counter never printed is absent."""
    out: dict[str, int] = {}
    for m in _ANY_COUNTER_RE.finditer(stderr_text):
        if m.group(1):
            out["captured"] = int(m.group(1))
        elif m.group(2):
            out["received_by_filter"] = int(m.group(2))
        elif m.group(3):
            out["dropped_by_kernel"] = int(m.group(3))
    return out


def last_stats(lines: Iterable[str]) -> tuple[int, int, int] | None:
    """(captured, received by filter, dropped by kernel) of the last complete set of statistics lines:
    a SIGUSR1 answer (one line) or the closing summary (three lines in a row); None if there is none.
    A summary whose lines have not all arrived yet does not count."""
    lines = list(lines)
    found = None
    for i, line in enumerate(lines):
        m = _ONE_LINE_RE.search(line)
        if m is not None:
            found = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
            continue
        m = _CAPTURED_RE.search(line)
        if m is not None and i + 2 < len(lines):
            received = _RECEIVED_RE.search(lines[i + 1])
            dropped = _DROPPED_RE.search(lines[i + 2])
            if received is not None and dropped is not None:
                found = (int(m.group(1)), int(received.group(1)), int(dropped.group(1)))
    return found
