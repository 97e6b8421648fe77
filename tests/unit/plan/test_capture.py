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


def test_start_and_stop_of_a_capture_in_a_pod():
    pod = Netns.named("cni-1")
    start, stop = capture_steps(
        "eth0", "udp", "/tmp/c.pcap", key="podcap:eth0", netns=pod, decode_as="domain"
    )
    assert start.argv == (
        "tcpdump",
        "-i",
        "eth0",
        "-nn",
        "-tt",
        "-e",
        "-l",
        "--immediate-mode",
        "-w",
        "/dev/stdin",
        "--print",
        "-T",
        "domain",
        "--",
        "udp",
    )
    assert (start.netns, start.key, start.phase, start.writes) == (
        pod,
        "podcap:eth0",
        "capture",
        "/tmp/c.pcap",
    )
    assert start.purpose == "capture on eth0; wait until tcpdump says it is listening"
    assert start.background and start.ready == "listening on " and not start.stops
    assert stop.argv == () and (stop.netns, stop.stops, stop.phase) == (pod, "podcap:eth0", "capture")
    assert stop.purpose == "stop the capture on eth0 once every packet is printed"
    assert not stop.background and stop.key is None and stop.writes is None


def test_a_streamed_capture_is_decoded_at_home_as_asked():
    home = PcapHome("-")
    start, _ = capture_steps("eth0", "udp", None, home=home, decode_as="domain")
    assert start.pcap_home == PcapHome("-", decode_as="domain") and "-T" not in start.argv
    assert start.writes is None
    start, _ = capture_steps("eth0", "udp", None, home=home)
    assert start.pcap_home is home
