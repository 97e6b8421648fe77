"""A probe's plan: the commands a person would type, and the filter that keeps just its packets."""

from __future__ import annotations

import pytest

from vethctl.model import Netns
from vethctl.plan.probe import probe_filter, probe_steps
from vethctl.probespec import parse_probe

POD = Netns.named("cni-1")


def test_tcp_is_one_nc_per_connection_and_refusal_is_not_a_failure():
    steps = probe_steps(parse_probe("tcp:198.18.0.3:8080"), POD, count=3, timeout=2)
    assert [s.argv for s in steps] == [("nc", "-z", "-v", "-n", "-w", "2", "198.18.0.3", "8080")] * 3
    assert [s.key for s in steps] == ["probe0", "probe1", "probe2"] and all(
        s.ok_codes == {0, 1} for s in steps
    )
    assert all(s.netns == POD and s.phase == "probe" for s in steps)


def test_udp_carries_a_payload_on_stdin():
    (step,) = probe_steps(parse_probe("udp:198.18.0.3:9000"), POD, count=1, timeout=3)
    assert step.argv == ("nc", "-u", "-n", "-w", "3", "198.18.0.3", "9000") and step.stdin.strip()


def test_dns_is_one_dig_whose_tries_are_the_count():
    (step,) = probe_steps(parse_probe("dns:web.lab.example@198.18.0.3:5353"), POD, count=4, timeout=1)
    assert step.argv == ("dig", "@198.18.0.3", "-p", "5353", "+time=1", "+tries=4", "web.lab.example", "A")
    assert step.ok_codes == {0, 9}


def test_icmp_is_ping():
    (step,) = probe_steps(parse_probe("icmp:198.18.0.3"), POD, count=2, timeout=2)
    assert step.argv[0] == "ping" and "-c" in step.argv and step.argv[-1] == "198.18.0.3" and step.stream


@pytest.mark.parametrize(
    "spec,expected",
    [
        (
            "tcp:198.18.0.3:80",
            "(tcp and host 198.18.0.3 and port 80) or (icmp and icmp[icmptype] == icmp-unreach) or arp",
        ),
        (
            "udp:198.18.0.3:53",
            "(udp and host 198.18.0.3 and port 53) or (icmp and icmp[icmptype] == icmp-unreach) or arp",
        ),
        (
            "dns:a.example@198.18.0.3",
            "((udp or tcp) and host 198.18.0.3 and port 53) or (icmp and icmp[icmptype] =="
            " icmp-unreach) or arp",
        ),
        (
            "tcp:[2001:db8::3]:80",
            "(tcp and host 2001:db8::3 and port 80) or (icmp6 and ip6[40] == 1) or (icmp6 and"
            " (ip6[40] == 135 or ip6[40] == 136))",
        ),
        ("icmp:198.18.0.3", "(icmp and host 198.18.0.3) or (icmp and icmp[icmptype] == icmp-unreach) or arp"),
    ],
)
def test_the_filter_follows_the_probe(spec, expected):
    assert probe_filter(parse_probe(spec)) == expected
