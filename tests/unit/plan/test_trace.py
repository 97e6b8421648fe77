"""trace's plan: every hop's capture started (in path order, each with its own key, namespace and filter),
then what the pod sends, then every capture stopped; dry-run as a person would paste it."""

from __future__ import annotations

import ipaddress

from vethctl import render
from vethctl.model import Netns, Node
from vethctl.plan.trace import build_trace
from vethctl.probespec import parse_probe

POD = Netns.named("cni-1")
DST = ipaddress.ip_address("198.51.100.7")


def test_every_hop_is_captured_around_the_pods_pings():
    hops = [("eth0", POD), ("vethab12", None), ("flannel.1", None, "udp port 8472", "vxlan")]
    plan = build_trace(hops, "icmp or arp", POD, DST, count=2, interval=0.5, size=1400)
    assert not plan.keep and plan.teardown() == ()
    assert render.dry_run(plan, Node()).splitlines() == [
        "ip netns exec cni-1 tcpdump -i eth0 -nn -tt -e -l --immediate-mode -- 'icmp or arp' &",
        "tcpdump -i vethab12 -nn -tt -e -l --immediate-mode -- 'icmp or arp' &",
        "tcpdump -i flannel.1 -nn -tt -e -l --immediate-mode -T vxlan -- 'udp port 8472' &",
        "ip netns exec cni-1 ping -n -D -c 2 -i 0.5 -W 2 -s 1400 -M do 198.51.100.7",
        "kill -INT %1",
        "kill -INT %2",
        "kill -INT %3",
    ]
    assert [s.key for s in plan.steps] == ["hop0", "hop1", "hop2", "ping", None, None, None]
    assert [s.stops for s in plan.steps[4:]] == ["hop0", "hop1", "hop2"]


def test_a_hop_without_a_filter_of_its_own_takes_the_traces():
    plan = build_trace([("eth0", POD, None, None)], "icmp", POD, DST, count=1, interval=1.0)
    assert plan.steps[0].argv[-2:] == ("--", "icmp") and "-T" not in plan.steps[0].argv
    assert plan.steps[1].argv == ("ping", "-n", "-D", "-c", "1", "-i", "1", "-W", "2", "198.51.100.7")


def test_a_probe_is_sent_instead_of_pings():
    probe = parse_probe("tcp:198.51.100.7:443")
    plan = build_trace([("eth0", POD)], "tcp", POD, DST, count=2, interval=1.0, probe=probe, timeout=3)
    sends = plan.steps[1:3]
    assert [s.argv for s in sends] == [("nc", "-z", "-v", "-n", "-w", "3", "198.51.100.7", "443")] * 2
    assert [s.key for s in sends] == ["probe0", "probe1"] and all(s.netns == POD for s in sends)
    assert plan.steps[3].stops == "hop0" and len(plan.steps) == 4


def test_each_capture_takes_the_key_the_scenario_reads_it_by():
    """The scenario numbers every hop of the path and passes the keys of those captured here: a hop whose
    capture runs on another machine (hop1) leaves a gap, and hop2's result must not be filed as hop1's."""
    plan = build_trace(
        [("eth0", POD), ("ens4", None)], "icmp", POD, DST, count=1, interval=1.0, keys=["hop0", "hop2"]
    )
    assert [s.key for s in plan.steps if s.background] == ["hop0", "hop2"]
    assert [s.stops for s in plan.steps if s.stops] == ["hop0", "hop2"]


def test_a_probe_waits_two_seconds_for_an_answer_unless_told():
    plan = build_trace(
        [("eth0", POD)], "udp", POD, DST, count=1, interval=1.0, probe=parse_probe("udp:198.51.100.7:53")
    )
    assert plan.steps[1].argv == ("nc", "-u", "-n", "-w", "2", "198.51.100.7", "53")
