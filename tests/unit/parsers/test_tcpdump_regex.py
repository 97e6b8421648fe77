"""The tcpdump parser on hostile input (issue 17, item 13): no pattern takes quadratic time on an 80,000
character line, and no number too long for Python's int (more than 4,300 digits) crashes it.

Every regex of the parser is used anchored (`.match`): that is linear for each of them. Several are
quadratic with `.search` (a long run of digits or spaces makes them retry the whole rest of the line from
every position): the parser must never scan with those, which the source scan below pins. The budget of
each call is generous (LINEAR_BUDGET_S): a linear pattern takes milliseconds on 80,000 characters, a
quadratic one minutes, so the assertion tells the two apart without timing anything closely. It is the
process's CPU time that is bounded, not the wall clock: a loaded machine (two suites at once) stretched a
linear call past the budget by waiting for a core, never by working longer.
"""

import re
import time
from pathlib import Path

import jc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vethctl.parsers._tcpdump.dns as dns
import vethctl.parsers._tcpdump.fastpath as fastpath
import vethctl.parsers._tcpdump.patterns as patterns
import vethctl.parsers.tcpdump as tcpdump
import vethctl.parsers.tcpdump_s as tcpdump_s
import vethctl.parsers.tcpdump_stats as tcpdump_stats

SIZE = 80_000
LINEAR_BUDGET_S = 1.0  # per call; linear: ~1-10 ms here; quadratic on 80k characters: minutes
PARSER_DIR = Path(tcpdump.__file__).parent


def _patterns(*modules):
    found = {}
    for mod in modules:
        for name, value in vars(mod).items():
            if isinstance(value, re.Pattern):
                found[f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"] = value
            elif isinstance(getattr(value, "__self__", None), re.Pattern):  # a bound pattern.match
                found[f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"] = value.__self__
    return found


PATTERNS = _patterns(patterns, dns, fastpath)
STATS_PATTERNS = _patterns(tcpdump_stats)
# what makes a regex backtrack: runs of the characters its repeats accept, and pieces of real lines
FRAGMENTS = [
    "1",
    " ",
    "a",
    "f",
    ".",
    ":",
    "(",
    ")",
    "[",
    "]",
    ",",
    "\t",
    "1.",
    "1:",
    "f:",
    ", ",
    "0x1",
    "1.2.3.4 ",
    "1.2.3.4.5 > ",
    "ff:ff:",
    "(1)",
    " (",
    "[|",
    "- ",
    "? ",
    "1/1/1 ",
    "A? a ",
    "q: A? a ",
    "seq 1, ",
    "ethertype ",
    "vlan 1, p 1, ",
    "(tos 0x0, ",
    "IP ",
    "who-has ",
    "Request who-has 1 tell ",
    "a (len 1), ",
    "length 1 ",
    ", length 1x",
    "HBH ",
    "[gaddr ",
    "1 packets captured ",
    "In ",
    "eth0 In ",
]


def hostile(fragment: str) -> str:
    return (fragment * (SIZE // len(fragment) + 1))[:SIZE]


def _worst(call) -> tuple[float, str]:
    worst = (0.0, "")
    for frag in FRAGMENTS:
        text = hostile(frag)
        t0 = time.process_time()
        call(text)
        worst = max(worst, (time.process_time() - t0, frag))
    return worst


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_is_linear_anchored(name):
    seconds, frag = _worst(PATTERNS[name].match)
    assert seconds < LINEAR_BUDGET_S, f"{name}.match took {seconds:.2f} s on {frag!r} * {SIZE // len(frag)}"


# the parser's only scanning calls (.search/.findall/.finditer), each on a pattern that stays linear so
SCANNING = {
    "TRAIL_LEN_RE": patterns.TRAIL_LEN_RE.search,
    "ICMP6_MLD2_GROUP_RE": patterns.ICMP6_MLD2_GROUP_RE.findall,
    "_LENGTH_RE": dns._LENGTH_RE.search,
    "_COUNT_RE": dns._COUNT_RE.findall,
    "_ANY_COUNTER_RE": tcpdump_stats._ANY_COUNTER_RE.findall,
    "_ONE_LINE_RE": tcpdump_stats._ONE_LINE_RE.search,
    "_CAPTURED_RE": tcpdump_stats._CAPTURED_RE.search,
    "_RECEIVED_RE": tcpdump_stats._RECEIVED_RE.search,
    "_DROPPED_RE": tcpdump_stats._DROPPED_RE.search,
}


@pytest.mark.parametrize("name", sorted(SCANNING))
def test_the_patterns_the_parser_scans_with_are_linear_unanchored(name):
    seconds, frag = _worst(SCANNING[name])
    assert seconds < LINEAR_BUDGET_S, (
        f"{name} scanning took {seconds:.2f} s on {frag!r} * {SIZE // len(frag)}"
    )


def test_the_parser_scans_with_no_other_pattern():
    """a .search/.findall/.finditer/.sub/.split on any other pattern (several are quadratic so) fails here"""
    calls = set()
    for path in [*PARSER_DIR.glob("tcpdump*.py"), *(PARSER_DIR / "_tcpdump").glob("*.py")]:
        for m in re.finditer(
            r"(\w+)\.(search|findall|finditer|sub|subn|split|fullmatch)\(", path.read_text()
        ):
            if m.group(1) in PATTERNS_BY_NAME:
                calls.add(m.group(1))
    assert calls <= set(SCANNING), calls - set(SCANNING)


PATTERNS_BY_NAME = {name.split(".", 1)[1] for name in PATTERNS} | {
    name.split(".", 1)[1] for name in STATS_PATTERNS
}


# --------------------------------------------------------------------------- whole lines through the parser

PREFIXES = [
    "",
    "1795682803.000001 ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv6 (0x86dd), length 98: "
    "2001:db8::1 > 2001:db8::2: ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    "192.0.2.1.40000 > 192.0.2.2.53: ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    "192.0.2.1 > 192.0.2.2: ICMP ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv6 (0x86dd), length 98: "
    "2001:db8::1 > 2001:db8::2: ICMP6, ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype 802.1Q (0x8100), length 98: ",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype ARP (0x0806), length 42: ",
]
SLOW_LINE_FRAGMENTS = ["12345+ A? a ", "1 1/1/1 A 1, ", "HBH ", "vlan 1, p 1, ethertype 802.1Q (0x8100), "]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_an_80k_line_takes_linear_time_through_both_parsers(prefix):
    for frag in FRAGMENTS + SLOW_LINE_FRAGMENTS:
        line = prefix + hostile(frag)
        t0 = time.process_time()
        recs = jc.parse(tcpdump, line, quiet=True)
        srecs = list(jc.parse(tcpdump_s, [line], quiet=True, ignore_exceptions=True))
        seconds = time.process_time() - t0
        assert seconds < 2 * LINEAR_BUDGET_S, (
            f"{seconds:.2f} s on {prefix!r} + {frag!r} * {SIZE // len(frag)}"
        )
        assert len(recs) <= 1 and len(srecs) <= 1


def test_stats_on_80k_lines_take_linear_time():
    for frag in FRAGMENTS:
        text = hostile(frag)
        t0 = time.process_time()
        tcpdump_stats.counters(text)
        tcpdump_stats.last_stats([text, text, text])
        assert time.process_time() - t0 < LINEAR_BUDGET_S, frag


# --------------------------------------------------------------------------- numbers too long for int()

HUGE = "9" * 5000  # past sys.get_int_max_str_digits() (4,300): int() raises ValueError
ECHO = (
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    "192.0.2.1 > 192.0.2.2: ICMP echo request, id 7, seq {seq}, length {plen}"
)
HUGE_LINES = [
    ECHO.format(seq=HUGE, plen="64"),
    ECHO.format(seq="1", plen=HUGE),
    ECHO.replace("length 98", f"length {HUGE}").format(seq="1", plen="64"),
    f"{HUGE}.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    "192.0.2.1 > 192.0.2.2: ICMP echo request, id 7, seq 1, length 64",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    f"192.0.2.1.40000 > 192.0.2.2.80: Flags [S], seq {HUGE}, win {HUGE}, length 0",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv6 (0x86dd), length 98: "
    f"2001:db8::1 > 2001:db8::2: frag (0x{'f' * 5000}:0|1448) ICMP6, echo request, id 1, seq 1, length 64",
    "1795682803.000001 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv4 (0x0800), length 98: "
    f"192.0.2.1.40000 > 192.0.2.2.53: {HUGE}+ A? web.example. ({HUGE})",
]


@pytest.mark.parametrize("quiet", [False, True])
@pytest.mark.parametrize("line", HUGE_LINES, ids=range(len(HUGE_LINES)))
def test_a_number_past_python_int_limit_keeps_its_text(line, quiet):
    for typed in (True, False):
        (rec,) = jc.parse(tcpdump, line, quiet=quiet, raw=not typed)
        (srec,) = list(jc.parse(tcpdump_s, [line, line][:1], quiet=quiet, raw=not typed))
        assert rec == srec
        assert any(
            v == HUGE or (isinstance(v, str) and HUGE in v) for v in rec.values() if v is not None
        ) or ("f" * 5000 in str(rec))
    # the same flow twice: the second line meets the fast path's flow template
    recs = list(jc.parse(tcpdump_s, [HUGE_LINES[1], HUGE_LINES[0], HUGE_LINES[0]], quiet=quiet))
    assert recs[1]["icmp_seq"] == HUGE and recs[2]["icmp_seq"] == HUGE


def test_stats_with_a_number_past_python_int_limit():
    assert tcpdump_stats.counters(f"{HUGE} packets captured\n1 packet received by filter") == {
        "received_by_filter": 1
    }
    assert (
        tcpdump_stats.last_stats(
            [f"{HUGE} packets captured", "1 packet received by filter", "0 packets dropped by kernel"]
        )
        is None
    )


@settings(max_examples=200, deadline=None)
@given(st.integers(4301, 6000), st.sampled_from(HUGE_LINES[:3]))
def test_any_long_number_in_an_echo_line(digits, line):
    line = line.replace(HUGE, "7" * digits)
    assert jc.parse(tcpdump, line, quiet=True) == list(jc.parse(tcpdump_s, [line], quiet=True))
