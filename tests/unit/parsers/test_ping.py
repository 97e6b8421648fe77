"""parsers/ping.py: iputils' ping output (recorded with iputils 20221126, `ping -n -D` as vethctl runs it,
between network namespaces made for the purpose with 192.0.2.0/24, 198.51.100.0/24 and 2001:db8:7::/64),
read with jc, the error lines jc's batch parser leaves out added back in jc's schema."""

from __future__ import annotations

import pytest

from vethctl.parsers.ping import parse_ping

REPLIES = """\
PING 192.0.2.20 (192.0.2.20) 56(84) bytes of data.
[1796067369.699978] 64 bytes from 192.0.2.20: icmp_seq=1 ttl=64 time=0.181 ms
[1796067369.911727] 64 bytes from 192.0.2.20: icmp_seq=2 ttl=64 time=0.049 ms
[1796067370.115749] 64 bytes from 192.0.2.20: icmp_seq=3 ttl=64 time=0.045 ms

--- 192.0.2.20 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 416ms
rtt min/avg/max/mdev = 0.045/0.091/0.181/0.063 ms
"""

# the router's route to the target went away after the third reply
REPLIES_THEN_NET_UNREACHABLE = """\
PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.
[1796067385.347785] 64 bytes from 198.51.100.7: icmp_seq=1 ttl=63 time=0.073 ms
[1796067385.853840] 64 bytes from 198.51.100.7: icmp_seq=2 ttl=63 time=0.057 ms
[1796067386.367755] 64 bytes from 198.51.100.7: icmp_seq=3 ttl=63 time=0.061 ms
[1796067386.875745] From 192.0.2.20 icmp_seq=4 Destination Net Unreachable
[1796067387.395150] From 192.0.2.20 icmp_seq=5 Destination Net Unreachable

--- 198.51.100.7 ping statistics ---
5 packets transmitted, 3 received, +2 errors, 40% packet loss, time 2047ms
rtt min/avg/max/mdev = 0.057/0.063/0.073/0.006 ms
"""

# ... and came back after the third request
NET_UNREACHABLE_THEN_REPLIES = """\
PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.
[1796067402.451718] From 192.0.2.20 icmp_seq=1 Destination Net Unreachable
[1796067402.987745] From 192.0.2.20 icmp_seq=2 Destination Net Unreachable
[1796067403.517409] From 192.0.2.20 icmp_seq=3 Destination Net Unreachable
[1796067404.031738] 64 bytes from 198.51.100.7: icmp_seq=4 ttl=63 time=0.075 ms
[1796067404.545904] 64 bytes from 198.51.100.7: icmp_seq=5 ttl=63 time=0.060 ms

--- 198.51.100.7 ping statistics ---
5 packets transmitted, 2 received, +3 errors, 60% packet loss, time 2094ms
rtt min/avg/max/mdev = 0.060/0.067/0.075/0.007 ms
"""

# `ping -t 1` through the router
TTL_EXCEEDED = """\
PING 198.51.100.7 (198.51.100.7) 56(84) bytes of data.
[1796067406.211463] From 192.0.2.20 icmp_seq=1 Time to live exceeded
[1796067406.527790] From 192.0.2.20 icmp_seq=2 Time to live exceeded

--- 198.51.100.7 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 316ms

"""

# the same report in BSD ping's format (macOS), which jc's batch parser reads errors and all
BSD_UNREACHABLE = """\
PING 192.168.1.123 (192.168.1.123): 56 data bytes
92 bytes from 192.168.1.254: Destination Host Unreachable
Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst
 4  5  00 5400 c7b0   0 0000  40  01 3c0c 192.168.1.221  192.168.1.123

Request timeout for icmp_seq 0
92 bytes from 192.168.1.254: Destination Host Unreachable
Vr HL TOS  Len   ID Flg  off TTL Pro  cks      Src      Dst
 4  5  00 5400 1a4d   0 0000  40  01 e96f 192.168.1.221  192.168.1.123

--- 192.168.1.123 ping statistics ---
2 packets transmitted, 0 packets received, 100.0% packet loss
"""


def kinds(result: dict) -> list[tuple[str, int | None]]:
    return [(r["type"], r.get("icmp_seq")) for r in result["responses"]]


def test_replies_are_jcs_responses_and_nothing_is_added():
    result, lines = parse_ping(REPLIES)
    assert kinds(result) == [("reply", 1), ("reply", 2), ("reply", 3)]
    assert result["responses"][0] == {
        "type": "reply",
        "timestamp": 1796067369.699978,
        "bytes": 64,
        "response_ip": "192.0.2.20",
        "icmp_seq": 1,
        "ttl": 64,
        "time_ms": 0.181,
        "duplicate": False,
    }
    assert (result["destination_ip"], result["packets_received"], result["round_trip_ms_avg"]) == (
        "192.0.2.20",
        3,
        0.091,
    )
    assert lines == [line for line in REPLIES.splitlines() if line]  # the blank line left out


def test_errors_after_replies_are_added_in_jcs_schema():
    result, _ = parse_ping(REPLIES_THEN_NET_UNREACHABLE)
    assert kinds(result) == [("reply", 1), ("reply", 2), ("reply", 3)] + [
        ("destination_net_unreachable", 4),
        ("destination_net_unreachable", 5),
    ]
    assert result["responses"][3] == {
        "type": "destination_net_unreachable",
        "timestamp": 1796067386.875745,
        "response_ip": "192.0.2.20",
        "icmp_seq": 4,
    }
    assert (result["packets_transmitted"], result["packets_received"], result["errors"]) == (5, 3, 2)


def test_errors_before_replies_are_put_in_icmp_seq_order():
    result, _ = parse_ping(NET_UNREACHABLE_THEN_REPLIES)
    assert kinds(result) == [
        ("destination_net_unreachable", 1),
        ("destination_net_unreachable", 2),
        ("destination_net_unreachable", 3),
        ("reply", 4),
        ("reply", 5),
    ]
    assert result["packet_loss_percent"] == 60.0


def test_time_to_live_exceeded_without_an_rtt_line():
    result, lines = parse_ping(TTL_EXCEEDED)
    assert kinds(result) == [("time_to_live_exceeded", 1), ("time_to_live_exceeded", 2)]
    assert (result["destination_ip"], result["errors"], result["packet_loss_percent"]) == (
        "198.51.100.7",
        2,
        100.0,
    )
    assert lines[-1] == "2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 316ms"


def test_what_jcs_batch_parser_already_has_is_not_added_twice():
    result, _ = parse_ping(BSD_UNREACHABLE)
    assert kinds(result) == [
        ("destination_host_unreachable", None),
        ("timeout", 0),
        ("destination_host_unreachable", None),
    ]


def test_an_error_before_output_cut_short_mid_line_is_kept():
    """ping killed while its output was half written (a pipe's buffer flushed mid-line): jc's streaming
    parser fails on the cut line, and what it read before that still counts."""
    text = NET_UNREACHABLE_THEN_REPLIES.split(" ttl=63", 1)[0] + " ttl=63 ti"
    result, lines = parse_ping(text)
    assert ("destination_net_unreachable", 1) in kinds(result)
    assert lines[-1] == "[1796067404.031738] 64 bytes from 198.51.100.7: icmp_seq=4 ttl=63 ti"


@pytest.mark.parametrize(
    "text",
    [
        "ping: connect: Network is unreachable\n",  # recorded: no route to 203.0.113.5
        "ping: 192.0.2.256: Name or service not known\n",
        "",
    ],
)
def test_no_ping_report_is_none_with_the_lines_as_they_came(text):
    assert parse_ping(text) == (None, text.splitlines())


def test_a_report_jc_cannot_read_is_none():
    text = "PING 192.0.2.20 (192.0.2.20) 56(84) bytes of data.\n"
    assert parse_ping(text) == (None, ["PING 192.0.2.20 (192.0.2.20) 56(84) bytes of data."])
