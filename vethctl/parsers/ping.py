"""What ping printed, read with jc: its `ping` schema, with the error lines jc's batch parser leaves out."""

from __future__ import annotations

import jc
from jc.exceptions import ParseError

# what jc's parsers may raise on text they do not expect (a pod answers ping as it likes)
_JC_FAILURES = (ParseError, ValueError, IndexError, KeyError, TypeError, AttributeError)


def parse_ping(text: str) -> tuple[dict | None, list[str]]:
    """jc's `ping` result, with the error lines jc's batch parser leaves out (Destination Host Unreachable)
    added to `responses` from jc's streaming parser, in the same schema."""
    lines = [line for line in text.splitlines()]
    if not any(line.startswith("PING ") for line in lines):
        return None, lines
    # jc tells Linux from BSD output by " time " in the second or third line from the end: iputils prints
    # no rtt line when nothing came back, and no "pipe N" line when the errors came at once (IPv6's "Address
    # unreachable"), and jc then reads Linux output as BSD's (wrong address, no errors, no loss). A blank
    # last line puts iputils' summary back where jc looks; BSD and busybox output have no " time " there.
    try:
        result = jc.parse("ping", text.rstrip("\n") + "\n\n", quiet=True)
    except _JC_FAILURES:
        return None, lines
    if not result:
        return None, lines
    seen = {(r.get("type"), r.get("icmp_seq")) for r in result["responses"]}  # jc always sets responses
    extra = []
    for rec in _stream(lines):
        kind = rec.get("type")
        if kind in (None, "summary", "reply", "timeout") or (kind, rec.get("icmp_seq")) in seen:
            continue
        extra.append(
            {
                "type": kind,
                "timestamp": rec.get("timestamp"),
                "response_ip": rec.get("response_ip"),
                "icmp_seq": rec.get("icmp_seq"),
            }
        )
    if extra:
        result["responses"] = sorted(result["responses"] + extra, key=lambda r: r.get("icmp_seq") or 0)
    return result, [line for line in lines if line.strip()]


def _stream(lines: list[str]) -> list[dict]:
    try:
        return list(jc.parse("ping_s", lines, quiet=True, ignore_exceptions=True))
    except _JC_FAILURES:
        return []
