"""tcpdump's argv: the filter always after `--`, the pcap never by name."""

from __future__ import annotations

from vethctl.commands import tcpdump


def test_the_expression_comes_after_double_dash_everywhere():
    for argv in (
        tcpdump.capture("eth0", filter_expr="-w/tmp/x"),
        tcpdump.check_filter("-V/root/secret"),
        tcpdump.read("/tmp/a.pcap", filter_expr="icmp", count=3),
    ):
        assert argv[-2] == "--"
    assert "--" not in tcpdump.capture("eth0", filter_expr="")


def test_the_pcap_is_written_through_stdin_never_by_name():
    argv = tcpdump.capture("eth0", filter_expr="arp", pcap=True)
    assert argv[argv.index("-w") + 1] == "/dev/stdin" and "--print" in argv
