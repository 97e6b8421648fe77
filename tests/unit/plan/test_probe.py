"""A probe's plan: the commands a person would type, and the filter that keeps just its packets."""

from __future__ import annotations

import pytest

from vethctl.model import Netns
from vethctl.plan.probe import ping_step, probe_filter, probe_steps
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


def test_each_probe_step_says_what_it_does_where_and_is_found_by_its_key():
    tcp = probe_steps(parse_probe("tcp:198.18.0.3:8080"), POD, count=2, timeout=2, key="probe1_")
    assert [(s.purpose, s.key, s.stdin) for s in tcp] == [
        ("connect 1 of 2 from the pod to tcp:198.18.0.3:8080", "probe1_0", None),
        ("connect 2 of 2 from the pod to tcp:198.18.0.3:8080", "probe1_1", None),
    ]
    (udp,) = probe_steps(parse_probe("udp:198.18.0.3:9000"), POD, count=1, timeout=3)
    assert (udp.purpose, udp.key, udp.stdin) == (
        "send 1 of 1 from the pod to udp:198.18.0.3:9000",
        "probe0",
        "vethctl probe\n",
    )
    (dns,) = probe_steps(parse_probe("dns:web.lab.example@198.18.0.3"), POD, count=2, timeout=1, key="q")
    assert (dns.netns, dns.purpose, dns.phase, dns.key) == (
        POD,
        "ask 198.18.0.3 for web.lab.example from the pod to dns:web.lab.example@198.18.0.3",
        "probe",
        "q",
    )


def test_icmp_is_ping_every_half_second_waiting_the_timeout_for_a_late_reply():
    (step,) = probe_steps(parse_probe("icmp:198.18.0.3"), POD, count=3, timeout=4, key="p")
    assert step.argv == ("ping", "-n", "-D", "-c", "3", "-i", "0.5", "-W", "4", "198.18.0.3")
    assert (step.netns, step.key, step.phase, step.ok_codes) == (POD, "p", "probe", {0, 1})
    assert step.purpose == "ping 198.18.0.3 from the pod (3 × every 0.5 s)"


def test_the_filter_of_an_ipv6_ping():
    assert probe_filter(parse_probe("icmp:[2001:db8::3]")) == (
        "(icmp6 and host 2001:db8::3) or (icmp6 and ip6[40] == 1) or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))"
    )


def test_a_ping_of_a_given_size_is_never_fragmented():
    step = ping_step(POD, parse_probe("icmp:198.18.0.3").address, count=1, interval=1, size=1472, key="mtu")
    assert step.argv == ("ping", "-n", "-D", "-c", "1", "-i", "1", "-s", "1472", "-M", "do", "198.18.0.3")
    assert step.purpose == "ping 198.18.0.3 from the pod (1 × every 1 s)"
