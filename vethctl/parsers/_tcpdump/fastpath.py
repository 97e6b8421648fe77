"""The flood fast paths of one LineParser: IPv4 ICMP echo lines of `tcpdump -nn -tt -e` read without the
general machinery.

A ping flood is the common heavy case. FastPaths.record() reads such a line, first through each of its
(at most two) hot flows (`hot_flow`: a small regex and a startswith), then through its "flow templates"
(the text between the timestamp and ", seq " repeats from line to line: only the timestamp and the
sequence number are converted), then through one regex (FAST_ECHO_RE), and builds typed values directly
when the parser wants processed output. Any other line gives None: the parser then takes the reference
path (`lines.parse_packet_line`), and the tests check that the two agree. The streaming loop
(`stream.records`) reads the hot flows' lines itself, from `flows`, without calling record().

All state (templates, hit counts, hot flows) belongs to the one FastPaths object a LineParser owns:
parsers in other threads or over other captures never see it.
"""

import re
from collections.abc import Callable

from vethctl.parsers._tcpdump.patterns import ECHO_KIND, FAST_ECHO_RE, FNUM, ascii_re

_fast_echo = FAST_ECHO_RE.match
# TIMESTAMP, the text up to ", seq " (the template key), SEQ, LENGTH (a trailing \n is allowed by $)
_echo_tail = ascii_re(f"({FNUM}\\.{FNUM})( .*), seq ({FNUM}), length ({FNUM})$").match
# flow templates a parser keeps at most (a capture of many short flows must not grow without bound)
TEMPLATES_MAX = 4096
# A flow a parser has seen this often becomes hot (see hot_flow): read in a fraction of the template lookup's
# time, with no key string built. At most two per parser (a flood's requests and replies), so that other
# lines pay little.
HOT_AFTER = 64
HOT_MAX = 2  # FastPaths keeps them in two cells, `first` and `second`

# a flow template: (the flow's record, typed or raw as the parser wants them; payload length as printed)
Template = tuple[dict, str]
# a hot flow: its regex's match (groups: the time as printed, its seconds, its microseconds, the sequence
# number), the text between time and sequence number, where that text starts, its record template
HotFlow = tuple[Callable[[str], re.Match | None], str, int, dict]


def hot_flow(key: str, plen: str, ts: str, template: dict) -> HotFlow | None:
    """A hot flow for the lines of `key` (the text between the time and ", seq ") whose time has as many
    digits of seconds as `ts`, 6 of microseconds: `exact_time` turns those into the float float() gives,
    without float()'s cost (a line with any other time takes the flow templates). None if `ts` is not so.

    Its regex checks the time, the sequence number and the end of the line and skips the text between
    (`.{N}`: one step of the regex engine, where the text as a literal costs one per character); the text
    itself is then compared at once, `line.startswith(prefix, offset)`. Together: the old regex's matches."""
    sec, _, usec = ts.partition(".")
    if not (sec.isdigit() and usec.isdigit() and len(usec) == 6 and len(sec) <= 10):
        return None
    prefix = key + ", seq "
    regex = ascii_re(
        f"(?s)(([0-9]{{{len(sec)}}})\\.([0-9]{{6}})).{{{len(prefix)}}}({FNUM}), length {re.escape(plen)}$"
    )
    return regex.match, prefix, len(ts), template


# below this, every SECONDS * 1000000 + MICROSECONDS is an integer a float holds exactly
EXACT_BELOW = 2**53 - 10**6


def exact_time(seconds: int, usec: str) -> float:
    """the float of "SECONDS.USEC" (6 digits), as float() gives it: both are the double nearest to the
    decimal, since the integer numerator and 1e6 are exact and IEEE division rounds correctly (tested)"""
    return (seconds + int(usec)) / 1e6


def _raw_template(m: re.Match) -> dict:
    ts, smac, dmac, ln, sip, dip, kind, iid, seq, plen = m.groups()
    return {
        "timestamp": ts,
        "src_mac": smac,
        "dst_mac": dmac,
        "ethertype": "ipv4",
        "length": ln,
        "src_ip": sip,
        "dst_ip": dip,
        "protocol": "icmp",
        "icmp_type": ECHO_KIND[kind],
        "icmp_id": iid,
        "icmp_seq": seq,
        "payload_length": plen,
    }


def _typed_template(raw: dict) -> dict:
    return {
        "timestamp": float(raw["timestamp"]),
        "src_mac": raw["src_mac"],
        "dst_mac": raw["dst_mac"],
        "ethertype": "ipv4",
        "length": int(raw["length"]),
        "src_ip": raw["src_ip"],
        "dst_ip": raw["dst_ip"],
        "protocol": "icmp",
        "icmp_type": raw["icmp_type"],
        "icmp_id": int(raw["icmp_id"]),
        "icmp_seq": int(raw["icmp_seq"]),
        "payload_length": int(raw["payload_length"]),
    }


class FastPaths:
    """The fast paths of one LineParser and what they learnt from its input.

    `record(line)`: the record of an ICMP echo line the fast paths read, a new dict; None for any other
    line. With `typed`, records hold the values `types.process` would give (the parser processes its
    output); otherwise the strings as printed.
    """

    __slots__ = ("templates", "hits", "hot", "flows", "record")

    def __init__(self, typed: bool) -> None:
        # text between the timestamp and ", seq " of an ICMP echo line -> its flow's template
        self.templates: dict[str, Template] = {}
        # template key -> times seen, until the flow is hot or the hot flows are full
        self.hits: dict[str, int] = {}
        # the template keys of the hot flows, in the order they became hot
        self.hot: list[str] = []
        # the hot flows themselves (see hot_flow), in the same order: the streaming loop
        # (LineParser.stream) reads their lines without calling record()
        self.flows: list[HotFlow] = []
        # a closure over this object's state: a flood calls it for every line, and cells are read
        # faster than attributes
        self.record = _reader(typed, self.templates, self.hits, self.hot, self.flows)


def _reader(
    typed: bool, templates: dict[str, Template], hits: dict[str, int], hot: list[str], flows: list
) -> Callable[[str], dict | None]:
    # the hot flows (see hot_flow), `first` the one to try first for the next line
    first: HotFlow | None = None
    second: HotFlow | None = None

    def record(line: str) -> dict | None:
        nonlocal first, second
        # fastest: a hot flow's own regex; a flood alternates request and reply, so the flow that did not
        # match this line is tried first for the next one
        if first is not None:
            flow = first
            m = flow[0](line)
            if m is not None and line.startswith(flow[1], flow[2]):
                if second is not None:
                    first, second = second, first
            elif second is not None:
                flow = second
                m = flow[0](line)
                if m is not None and not line.startswith(flow[1], flow[2]):
                    m = None
            else:
                m = None
            if m is not None:
                ts, sec, usec, seq = m.groups()
                rec = flow[3].copy()
                if typed:
                    seconds = int(sec) * 1000000
                    rec["timestamp"] = exact_time(seconds, usec) if seconds < EXACT_BELOW else float(ts)
                    rec["icmp_seq"] = int(seq)
                else:
                    rec["timestamp"] = ts
                    rec["icmp_seq"] = seq
                return rec
        # next: an ICMP echo whose text between the timestamp and ", seq " was seen before (a flood
        # repeats it: MACs, addresses, id); only the timestamp and the sequence number are new.
        # One regex splits and checks the line (cheaper than find/rfind/partition and three checks).
        if templates:
            m = _echo_tail(line)
            if m is None:  # not an echo line: FAST_ECHO_RE, a narrower pattern, cannot match it either
                return None
            ts, key, seq, plen = m.groups()
            tpl = templates.get(key)
            if tpl is not None and plen == tpl[1]:
                if len(hot) < HOT_MAX:
                    seen = hits[key] = hits.get(key, 0) + 1
                    if seen == HOT_AFTER:
                        hot.append(key)
                        flow = hot_flow(key, plen, ts, tpl[0])
                        if flow is not None:
                            flows.append(flow)
                            if first is None:
                                first = flow
                            else:
                                second = flow
                rec = tpl[0].copy()
                if typed:
                    rec["timestamp"] = float(ts)
                    rec["icmp_seq"] = int(seq)
                else:
                    rec["timestamp"] = ts
                    rec["icmp_seq"] = seq
                return rec
        m = _fast_echo(line)
        if m is None:
            return None
        # the whole record from one regex; its flow becomes the template of the lines after it
        rec = _raw_template(m)
        if typed:
            rec = _typed_template(rec)
        if len(templates) < TEMPLATES_MAX:
            key = line[m.end(1) : m.start(9) - 6]
            if key not in templates:
                templates[key] = (rec.copy(), m.group(10))
        return rec

    return record
