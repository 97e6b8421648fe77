"""What `ip -batch -` says: which of its lines failed (and with what message), and the JSON documents that
`ip -j -batch -` prints, one per line that succeeded. Pure: the command runs elsewhere.

iproute2 reads the lines one by one; a line that fails prints its error, then `Command failed -:N` (N counts
from 1) on stderr. Without `-force` it stops there: the lines before N happened, N and those after did not.
With `-force` it goes on: every line but the failed ones happened. A failure before any line is read (a
namespace that cannot be entered) prints no `Command failed` line: nothing happened.
"""

from __future__ import annotations

import json
import re

from vethctl.parsers.ipjson import NotJson

_FAILED = re.compile(r"^Command failed -:(\d+)$")


def failed_lines(stderr: str) -> dict[int, str]:
    """{line number (from 1): the error it printed} for every line of the batch that failed."""
    out: dict[int, str] = {}
    said: list[str] = []
    for line in stderr.splitlines():
        m = _FAILED.match(line.strip())
        if m:
            out[int(m.group(1))] = "\n".join(said).strip()
            said = []
        elif line.strip():
            said.append(line)
    return out


def done_lines(count: int, stderr: str, rc: int | None, *, force: bool) -> list[int]:
    """The lines (from 1) of a batch of `count` that happened."""
    if rc == 0:
        return list(range(1, count + 1))
    failed = failed_lines(stderr)
    if not failed:
        return []  # it failed before reading a line
    if force:
        return [n for n in range(1, count + 1) if n not in failed]
    return list(range(1, min(failed)))


def documents(stdout: str, what: str = "ip -j -batch") -> list[list]:
    """The JSON arrays `ip -j -batch -` printed, in order (one per line that succeeded). iproute2 prints
    control characters of names unescaped, hence strict=False."""
    return [doc if isinstance(doc, list) else [] for doc, _ in _split(stdout, what)]


def document_texts(stdout: str, what: str = "ip -j -batch") -> list[str]:
    """The same documents as the text each one was printed as."""
    return [text for _, text in _split(stdout, what)]


def _split(stdout: str, what: str) -> list[tuple[object, str]]:
    decoder = json.JSONDecoder(strict=False)
    out, i, n = [], 0, len(stdout)
    while True:
        while i < n and stdout[i] in " \t\r\n":
            i += 1
        if i >= n:
            return out
        try:
            doc, end = decoder.raw_decode(stdout, i)
        except json.JSONDecodeError as exc:
            raise NotJson(
                f"{what} printed something that is not JSON ({exc.msg})", hint="run with -v"
            ) from None
        out.append((doc, stdout[i:end]))
        i = end
