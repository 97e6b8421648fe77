"""Tests of vethctl.parsers.tcpdump_stats: tcpdump's statistics lines, as a capture's report reads them
(counters) and as stopping a capture waits for them (last_stats)."""

from tests.support import paths
from vethctl.parsers.tcpdump_stats import counters, last_stats

# tcpdump's answer to SIGUSR1: the three counters on one line
USR1 = "tcpdump: 3 packets captured, 5 packets received by filter, 0 packets dropped by kernel"
# its summary when it ends: one counter a line
SUMMARY = ["7 packets captured", "7 packets received by filter", "1 packet dropped by kernel"]
LISTENING = "tcpdump: listening on vtp-a0, link-type EN10MB (Ethernet), snapshot length 262144 bytes"


def test_counters_of_the_closing_summary():
    err = "listening on x\n3 packets captured\n4 packets received by filter\n1 packet dropped by kernel\n"
    assert counters(err) == {"captured": 3, "received_by_filter": 4, "dropped_by_kernel": 1}


def test_counters_last_printed_wins():
    err = "\n".join([LISTENING, USR1, *SUMMARY, ""])
    assert counters(err) == {"captured": 7, "received_by_filter": 7, "dropped_by_kernel": 1}
    assert counters("\n".join([LISTENING, USR1])) == {
        "captured": 3,
        "received_by_filter": 5,
        "dropped_by_kernel": 0,
    }


def test_counters_never_printed_are_absent():
    assert counters("") == {}
    assert counters(LISTENING) == {}
    assert counters("tcpdump: 2 packets captured\n") == {"captured": 2}
    assert counters("1 packet dropped by interface\n") == {}
    assert counters("^C2 packets captured\n2 packets received by filter\n") == {
        "captured": 2,
        "received_by_filter": 2,
    }


def test_counters_of_a_recorded_capture():
    text = (paths.FIXTURES / "linux" / "tcpdump-live.out").read_text(encoding="utf-8")
    assert counters(text) == {"captured": 6, "received_by_filter": 6, "dropped_by_kernel": 0}


def test_last_stats_of_a_sigusr1_answer():
    assert last_stats([LISTENING, USR1]) == (3, 5, 0)
    assert last_stats([USR1 + ", 2 packets dropped by interface"]) == (3, 5, 0)
    assert last_stats([USR1 + "\n"]) == (3, 5, 0)  # lines as read keep their newline


def test_last_stats_sigusr1_answer_then_closing_summary():
    assert last_stats([LISTENING, USR1, *SUMMARY]) == (7, 7, 1)
    assert last_stats([LISTENING, USR1, "", *SUMMARY, "2 packets dropped by interface"]) == (7, 7, 1)
    assert last_stats(line + "\n" for line in [LISTENING, USR1, *SUMMARY]) == (7, 7, 1)
    # two answers: the later one
    later = "tcpdump: 9 packets captured, 9 packets received by filter, 0 packets dropped by kernel"
    assert last_stats([USR1, later]) == (9, 9, 0)
    assert last_stats([*SUMMARY, later]) == (9, 9, 0)


def test_last_stats_wants_a_complete_set():
    assert last_stats([]) is None
    assert last_stats([LISTENING]) is None
    # the summary's lines arrive one by one: until the third, the answer before it is the last complete set
    assert last_stats([USR1, *SUMMARY[:1]]) == (3, 5, 0)
    assert last_stats([USR1, *SUMMARY[:2]]) == (3, 5, 0)
    assert last_stats(SUMMARY[:2]) is None
    # the three lines of a summary follow each other
    assert last_stats([SUMMARY[0], LISTENING, *SUMMARY[1:]]) is None
    assert last_stats([SUMMARY[1], SUMMARY[0], SUMMARY[2]]) is None
    # a terminal's ^C before the first line
    assert last_stats(["^C" + SUMMARY[0], *SUMMARY[1:]]) == (7, 7, 1)


def test_last_stats_of_a_recorded_capture():
    lines = (paths.FIXTURES / "linux" / "tcpdump-live.out").read_text(encoding="utf-8").splitlines()
    assert last_stats(lines) == (6, 6, 0)
