"""A capture step, printed or streamed: which tcpdump, and where its pcap goes."""

from __future__ import annotations

from vethctl.model import Netns, PcapHome
from vethctl.plan.capture import capture_steps


def test_a_streamed_capture_writes_pcap_on_stdout_packet_by_packet():
    home = PcapHome("/tmp/x.pcap", 1_000_000, 3)
    start, stop = capture_steps(
        "eth0", "icmp", None, netns=Netns.named("cni-1"), count=5, snaplen=96, home=home
    )
    assert start.argv == (
        "tcpdump",
        "-i",
        "eth0",
        "--immediate-mode",
        "-B",
        "32768",
        "-s",
        "96",
        "-c",
        "5",
        "-U",
        "-w",
        "-",
        "--",
        "icmp",
    )
    assert start.pcap_home == home and start.background and start.ready == "listening on "
    assert stop.stops == "capture"


def test_a_printed_capture_is_unchanged_by_the_limits_it_does_not_use():
    start, _ = capture_steps("vh-1", "arp or icmp", None)
    assert start.argv == (
        "tcpdump",
        "-i",
        "vh-1",
        "-nn",
        "-tt",
        "-e",
        "-l",
        "--immediate-mode",
        "--",
        "arp or icmp",
    )
    assert start.pcap_home is None
    start, _ = capture_steps("vh-1", "", None, snaplen=64)
    assert start.argv[-2:] == ("-s", "64")
