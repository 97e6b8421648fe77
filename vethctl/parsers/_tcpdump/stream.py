"""The streaming loop of a LineParser: push() and flush() over an iterable of lines, with the lines of a hot
flow (a flood's ICMP echo requests and replies, see `fastpath`) read in the loop itself.

A flood's line costs here what the hot flow's regex, two int() and a dict copy cost, and nothing else: no
call into the parser, no attribute of it (the pending record is held in a local while hot lines come, and
handed back before any other line goes to push()). The records are push()'s own (tested against the
reference path).
"""

from collections.abc import Callable, Iterable, Iterator

from jc.streaming import streaming_line_input_type_check

from vethctl.parsers._tcpdump.fastpath import EXACT_BELOW


def records(parser, lines: Iterable, on_error: Callable[[Exception, object], object]) -> Iterator:
    """The records of `parser` (a LineParser) for `lines` as they come, then the last one; in place of a line
    that raised, what on_error(exception, line) returns (or raises)."""
    push = parser.push
    flows = parser.fast.flows
    typed = parser.typed
    known = 0  # hot flows this loop has taken from `flows`
    # those flows, A and B (fastpath.hot_flow: regex match, text, where it starts, record template);
    # `next_b`: a flood alternates, so after a line of A, B is tried first. `hot`: a flow is known and
    # the pending record is a fast-path one (`steady`, see LineParser): a hot flow's line can replace it
    match_a = match_b = None
    prefix_a = prefix_b = ""
    at_a = at_b = 0
    tpl_a = tpl_b = {}
    next_b = hot = False
    pending = parser.pending  # held in a local while hot lines come
    last_sec = last_seq = None
    seconds = seq_n = 0
    exact = False
    for line in lines:
        try:
            if hot:
                if next_b:
                    m = match_b(line)  # type: ignore[misc]
                    if m is not None and line.startswith(prefix_b, at_b):
                        tpl = tpl_b
                        next_b = False
                    else:
                        m = match_a(line)  # type: ignore[misc]
                        if m is not None and not line.startswith(prefix_a, at_a):
                            m = None
                        tpl = tpl_a
                else:
                    m = match_a(line)  # type: ignore[misc]
                    if m is not None and line.startswith(prefix_a, at_a):
                        tpl = tpl_a
                        next_b = match_b is not None
                    elif match_b is not None:
                        m = match_b(line)
                        if m is not None and not line.startswith(prefix_b, at_b):
                            m = None
                        tpl = tpl_b
                    else:
                        m = None
                if m is not None:
                    ts, sec, usec, seq = m.groups()
                    rec = tpl.copy()
                    if typed:
                        if sec != last_sec:
                            last_sec = sec
                            seconds = int(sec) * 1000000
                            exact = seconds < EXACT_BELOW
                        # exact_time(seconds, usec), inline: a flood's every line comes here
                        rec["timestamp"] = (seconds + int(usec)) / 1e6 if exact else float(ts)
                        if seq != last_seq:  # a reply carries its request's number: one int() for both
                            last_seq = seq
                            seq_n = int(seq)
                        rec["icmp_seq"] = seq_n
                    else:
                        rec["timestamp"] = ts
                        rec["icmp_seq"] = seq
                    out = pending
                    pending = rec
                    yield out  # (the pending record was a finished fast-path one, never None)
                    continue
                parser.pending = pending
            rec = push(line)
            pending = parser.pending
            if len(flows) != known:
                known = len(flows)
                match_a, prefix_a, at_a, tpl_a = flows[0]
                if known > 1:
                    match_b, prefix_b, at_b, tpl_b = flows[1]
            hot = parser.steady and match_a is not None
            if rec is not None:
                yield rec
        except Exception as e:
            if line.__class__ is str:  # push() raised: it holds the pending record
                pending = parser.pending
            else:  # a regex refused the line before anything changed: the local one is current
                parser.pending = pending
            # a line that is not a str: the error jc's own check gives (a hot flow's regex raised first)
            yield on_error(_not_a_line(line) or e, line)
    parser.pending = pending
    try:
        rec = parser.flush()
        if rec is not None:
            yield rec
    except Exception as e:
        yield on_error(e, "")


def _not_a_line(line: object) -> Exception | None:
    """the exception jc's streaming_line_input_type_check raises for `line`, or None for a str"""
    if line.__class__ is str:
        return None
    try:
        streaming_line_input_type_check(line)
    except Exception as e:  # noqa: BLE001 - handed to the caller as jc's check gives it
        return e
    return None
