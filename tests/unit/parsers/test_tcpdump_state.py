"""Each LineParser keeps its state to itself: parsers fed at the same time, interleaved or from two threads,
give what each gives alone, which is what the reference path (no fast paths, no state but the pending
packet) gives; and parsing leaves the package's module-level values as they were."""

import copy
import sys
import threading
import types
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jc.exceptions import ParseError

import vethctl.parsers._tcpdump as tcpdump_package
import vethctl.parsers._tcpdump.lines as tcpdump_lines
import vethctl.parsers.tcpdump_s as tcpdump_s
from tests.support import paths
from vethctl.parsers._tcpdump import LineParser, fastpath, process

FIXTURES = paths.FIXTURES / "linux"


def flood(n, macs, ips, ident, plen=64, start=0):
    """a ping flood as `tcpdump -nn -tt -e -l` prints it: requests and replies alternate"""
    lines = []
    for i in range(start, start + n):
        kind, (smac, dmac), (sip, dip) = (
            ("request", macs, ips) if i % 2 == 0 else ("reply", macs[::-1], ips[::-1])
        )
        lines.append(
            f"1795682803.{i:06d} {smac} > {dmac}, ethertype IPv4 (0x0800), length {plen + 34}: {sip} > {dip}: "
            f"ICMP echo {kind}, id {ident}, seq {i // 2}, length {plen}"
        )
    return lines


def fixture_lines(case):
    return (FIXTURES / f"tcpdump-{case}.out").read_text(encoding="utf-8").splitlines()


# two captures: long enough for both flows of each to become hot, with other packets (ARP, -v ICMP errors
# and their continuation lines) in the middle
FLOOD_A = (
    flood(300, ("e6:42:a5:4d:e8:d3", "8a:9f:17:21:3e:47"), ("192.0.2.1", "198.51.100.1"), 7)
    + fixture_lines("unreachable-verbose")
    + flood(300, ("e6:42:a5:4d:e8:d3", "8a:9f:17:21:3e:47"), ("192.0.2.1", "198.51.100.1"), 7, start=300)
)
FLOOD_B = (
    flood(250, ("02:00:00:00:00:01", "02:00:00:00:00:02"), ("203.0.113.5", "203.0.113.9"), 9, plen=56)
    + fixture_lines("arp")
    + flood(350, ("02:00:00:00:00:01", "02:00:00:00:00:02"), ("203.0.113.5", "203.0.113.9"), 9, 56, start=250)
)


def alone(lines, typed):
    parser = LineParser(process=process if typed else None)
    records = [r for r in map(parser.push, lines) if r is not None]
    last = parser.flush()
    return records + ([last] if last is not None else []), parser


class NoFastPaths:
    """fast paths that read no line"""

    def __init__(self, typed):
        self.hot = []
        self.flows = []
        self.record = lambda line: None


def reference(lines, typed):
    """the records of the reference path alone: no fast paths, so nothing learnt that could be shared"""
    with mock.patch.object(tcpdump_lines, "FastPaths", NoFastPaths):
        return alone(lines, typed)[0]


def interleaved(a_lines, a_typed, b_lines, b_typed):
    """two parsers fed line by line in turn"""
    pa = LineParser(process=process if a_typed else None)
    pb = LineParser(process=process if b_typed else None)
    got_a, got_b = [], []
    for i in range(max(len(a_lines), len(b_lines))):
        for parser, lines, got in ((pa, a_lines, got_a), (pb, b_lines, got_b)):
            if i < len(lines):
                rec = parser.push(lines[i])
                if rec is not None:
                    got.append(rec)
    for parser, got in ((pa, got_a), (pb, got_b)):
        rec = parser.flush()
        if rec is not None:
            got.append(rec)
    return got_a, got_b


def test_the_floods_take_the_fast_paths():
    for lines in (FLOOD_A, FLOOD_B):
        records, parser = alone(lines, typed=True)
        assert len(parser.fast.hot) == fastpath.HOT_MAX
        assert sum(r.get("icmp_type") == "echo request" for r in records) >= 300


@pytest.mark.parametrize("a_typed", [True, False])
@pytest.mark.parametrize("b_typed", [True, False])
def test_interleaved_parsers_give_what_each_gives_alone(a_typed, b_typed):
    got_a, got_b = interleaved(FLOOD_A, a_typed, FLOOD_B, b_typed)
    assert got_a == alone(FLOOD_A, a_typed)[0] == reference(FLOOD_A, a_typed)
    assert got_b == alone(FLOOD_B, b_typed)[0] == reference(FLOOD_B, b_typed)


def test_one_capture_to_a_typed_and_a_raw_parser_at_once():
    """the same flows, learnt by both: each parser keeps its own kind of record"""
    for typed, raw in (
        interleaved(FLOOD_A, True, FLOOD_A, False),
        interleaved(FLOOD_A, False, FLOOD_A, True)[::-1],
    ):
        assert typed == reference(FLOOD_A, True)
        assert raw == reference(FLOOD_A, False)
    assert isinstance(typed[-1]["icmp_seq"], int) and isinstance(raw[-1]["icmp_seq"], str)


def test_parsers_in_two_threads_give_what_each_gives_alone():
    want = {"a": reference(FLOOD_A, True), "b": reference(FLOOD_B, False)}
    got: dict[str, list] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def run(name, lines, typed):
        start.wait()
        for _ in range(5):
            got[name].append(alone(lines, typed)[0])

    threads = [
        threading.Thread(target=run, args=("a", FLOOD_A, True)),
        threading.Thread(target=run, args=("b", FLOOD_B, False)),
    ]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter allows
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert got["a"] == [want["a"]] * 5
    assert got["b"] == [want["b"]] * 5


def module_state():
    """every module-level value of the package's modules that is not a module, class, function or regex"""
    state = {}
    for name in dir(tcpdump_package):
        module = getattr(tcpdump_package, name)
        if not isinstance(module, types.ModuleType):
            continue
        for key, value in vars(module).items():
            if not key.startswith("__") and not callable(value) and not isinstance(value, types.ModuleType):
                state[f"{module.__name__}.{key}"] = copy.deepcopy(value)
    return state


def test_parsing_leaves_module_level_values_unchanged():
    before = module_state()
    assert "vethctl.parsers._tcpdump.patterns.PROTOCOL_NUMBERS" in before  # it sees the tables
    # flows no other test parses, and an ethertype of its own: a module-level cache would learn them
    macs, ips = ("02:00:00:00:0a:01", "02:00:00:00:0a:02"), ("198.18.7.1", "198.18.7.2")
    unseen = flood(200, macs, ips, 4242, plen=40) + [
        "1795682900.000001 02:00:00:00:0a:01 > 02:00:00:00:0a:02, ethertype Unknown (0x88b6), length 60: x"
    ]
    for typed in (True, False):
        alone(unseen, typed)
    assert module_state() == before


def test_a_rejected_line_leaves_the_parser_usable():
    lines = fixture_lines("icmp")[:2]
    parser = LineParser(process=process)
    # only a line before any packet can be rejected: after one, a line that is not a packet line continues it
    with pytest.raises(ParseError):
        parser.push("this is not tcpdump output")
    with pytest.raises(ParseError):
        parser.push("    a continuation line")
    assert parser.push(lines[0]) is None  # pending: continuation lines may follow
    assert parser.push("not a packet line") is None
    assert parser.push(lines[1])["details"] == ["not a packet line"]
    assert parser.flush() == alone(lines[1:], typed=True)[0][0]


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 9_999_999_999), st.integers(0, 999_999))
def test_the_exact_time_of_the_hot_flows_is_float(sec, usec):
    """(SECONDS * 10**6 + USEC) / 1e6 is the float float("SECONDS.USEC") gives, below EXACT_BELOW"""
    seconds = sec * 1_000_000
    if seconds < fastpath.EXACT_BELOW:
        assert fastpath.exact_time(seconds, f"{usec:06d}") == float(f"{sec}.{usec:06d}")


def test_a_flood_past_the_exact_range_still_gives_float_times():
    """seconds past 2**53 / 10**6 take float() on the hot path: the same records as the reference path"""
    late = [line.replace("1795682803.", "9007199255.", 1) for line in FLOOD_A[:400]]
    assert len(LineParser(process=process).fast.flows) == 0
    parser = LineParser(process=process)
    got = list(parser.stream(late, None))
    assert len(parser.fast.flows) == fastpath.HOT_MAX
    assert got == reference(late, typed=True)
    assert got[-1]["timestamp"] == float(late[-1].split()[0])


def test_the_stream_loop_reads_hot_lines_without_push():
    """past HOT_AFTER lines of each flow, push() sees none of the flood's lines (and the records agree)"""
    calls = []

    class Counting(LineParser):
        def push(self, line):
            calls.append(line)
            return super().push(line)

    parser = Counting(process=process)
    got = list(parser.stream(FLOOD_B, None))
    assert got == reference(FLOOD_B, typed=True)
    assert len(calls) < len(FLOOD_B) // 2


def test_a_line_that_is_not_a_str_in_the_middle_of_a_hot_streak():
    """the streaming loop holds the pending record in a local while hot lines come: a line a hot regex
    refuses (not a str) is reported as jc reports it, and no record is lost, doubled or reordered"""
    lines = FLOOD_B[:400]
    mixed = lines[:300] + [b"bytes are not lines"] + lines[300:]
    got = list(tcpdump_s.parse(mixed, ignore_exceptions=True))
    errors = [r for r in got if not r["_jc_meta"]["success"]]
    assert len(errors) == 1 and "TypeError" in errors[0]["_jc_meta"]["error"]
    good = [{k: v for k, v in r.items() if k != "_jc_meta"} for r in got if r["_jc_meta"]["success"]]
    assert good == reference(lines, typed=True)
    for bad in (b"bytes", None, 7):  # (jc's own error object needs a line with .strip(): bytes or str)
        with pytest.raises(TypeError):
            list(tcpdump_s.parse(lines[:300] + [bad] + lines[300:]))


def test_the_state_of_a_parser_stays_bounded_over_many_flows():
    """a capture of many short flows (each id its own flow): the templates and hit counts stop growing at
    TEMPLATES_MAX, the hot flows at HOT_MAX, and memory with them (the records are handed out, not kept)"""
    import tracemalloc

    def many(n, start=0):
        for i in range(start, start + n):
            yield (
                f"1795682803.{i % 1000000:06d} 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), "
                f"length 98: 192.0.2.1 > 192.0.2.2: ICMP echo request, id {i}, seq 1, length 64"
            )

    parser = LineParser(process=process)
    for _ in parser.stream(many(2 * fastpath.TEMPLATES_MAX), None):
        pass
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in parser.stream(many(20_000, start=10**6), None):
        pass
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(parser.fast.templates) == fastpath.TEMPLATES_MAX
    assert len(parser.fast.hits) <= fastpath.TEMPLATES_MAX and len(parser.fast.flows) <= fastpath.HOT_MAX
    assert grown < 200_000  # 20,000 more lines, 20,000 more flows: nothing kept but the last record
