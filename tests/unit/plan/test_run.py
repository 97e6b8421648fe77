"""The walkthrough's plan with probes, captures in the pod and a pcap that comes home: the order of its
steps, their keys (how the scenario finds each result), and the capture filter."""

from __future__ import annotations

import ipaddress

from vethctl import render
from vethctl.model import Attachment, Netns, Node, PcapHome, VethEnd
from vethctl.plan.run import build_run, observe_steps, run_filter
from vethctl.probespec import parse_probe

POD = Netns.named("cni-1234")


def attachment(pod="203.0.113.100/24", host="203.0.113.200/24") -> Attachment:
    return Attachment(
        session="0123abcd",
        host_end=VethEnd("vh-0123abcd", ipaddress.ip_interface(host), None),
        pod_end=VethEnd("vp-0123abcd", ipaddress.ip_interface(pod), POD),
        mtu=None,
        owner_pid=4242,
    )


def test_the_pods_routes_and_each_destinations_route_are_one_batch_of_reads():
    dsts = [ipaddress.ip_address("203.0.113.101"), ipaddress.ip_address("198.51.100.7")]
    [step] = observe_steps(attachment(), dsts)
    assert step.argv == ("ip", "-j", "-batch", "-") and step.netns == POD and step.phase == "observe"
    assert step.stdin == "route show\nroute get 203.0.113.101\nroute get 198.51.100.7\n"
    assert step.purpose == "the pod's routes, and which interface each destination leaves by"
    assert [(s.key, s.purpose) for s in step.batch] == [
        ("pod_routes", "the pod's routes, with the new connected one"),
        ("route_get:203.0.113.101", "which interface 203.0.113.101 leaves the pod by"),
        ("route_get:198.51.100.7", "which interface 198.51.100.7 leaves the pod by"),
    ]
    assert all(s.netns == POD and s.phase == "observe" for s in step.batch)


def test_an_ipv6_pod_reads_its_ipv6_routes():
    att = attachment(pod="2001:db8:7::100/64", host="2001:db8:7::200/64")
    routes, get = observe_steps(att, [ipaddress.ip_address("2001:db8:7::101")])
    assert routes.argv == ("ip", "-j", "-6", "route", "show") and routes.key == "pod_routes"
    # another option than the route get's (-6): not one batch
    assert (
        get.argv == ("ip", "-j", "route", "get", "2001:db8:7::101") and get.key == "route_get:2001:db8:7::101"
    )


def test_probes_are_sent_after_the_pings_with_their_own_keys_and_captures_in_the_pod():
    tcp, dns = parse_probe("tcp:198.51.100.7:443"), parse_probe("dns:web.example@198.51.100.53:5353")
    plan = build_run(
        attachment(),
        ping_addr=ipaddress.ip_address("198.51.100.7"),
        count=2,
        interval=1.0,
        filter_expr="arp or icmp",
        pcap=None,
        keep=False,
        probes=[tcp, dns],
        timeout=4,
        pod_captures={"eth1": "udp"},
    )
    lines = [
        line for line in render.dry_run(plan, Node()).splitlines() if not line.startswith(("link ", "addr "))
    ]
    assert lines[lines.index("route show") :] == [
        "route show",
        "route get 198.51.100.7",  # once, for the pings and the tcp probe
        "route get 198.51.100.53",
        "VETHCTL_EOF",
        "tcpdump -i vh-0123abcd -nn -tt -e -l --immediate-mode -T domain -- 'arp or icmp' &",
        "ip netns exec cni-1234 tcpdump -i eth1 -nn -tt -e -l --immediate-mode -T domain -- udp &",
        "ip netns exec cni-1234 ping -n -D -c 2 -i 1 198.51.100.7",
        "ip netns exec cni-1234 nc -z -v -n -w 4 198.51.100.7 443",
        "ip netns exec cni-1234 nc -z -v -n -w 4 198.51.100.7 443",
        "ip netns exec cni-1234 dig @198.51.100.53 -p 5353 +time=4 +tries=2 web.example A",
        "kill -INT %1",
        "kill -INT %2",
        "ip link del dev vh-0123abcd",
    ]
    keys = [s.key for s in plan.steps if s.key]
    assert keys == ["capture", "podcap:eth1", "ping", "probe0_0", "probe0_1", "probe1_"]
    assert [s.stops for s in plan.steps if s.stops] == ["capture", "podcap:eth1"]


def test_without_a_ping_only_the_probes_are_sent_and_routed():
    plan = build_run(
        attachment(),
        ping_addr=None,
        count=1,
        interval=1.0,
        filter_expr="icmp",
        pcap="/tmp/run.pcap",
        keep=True,
        probes=[parse_probe("icmp:198.51.100.9")],
    )
    text = render.dry_run(plan, Node())
    assert "route show\nroute get 198.51.100.9\nVETHCTL_EOF\n" in text
    # the probe's ping alone (its default timeout: -W 2), and no walkthrough ping
    assert [s.argv for s in plan.steps if s.phase == "probe"] == [
        ("ping", "-n", "-D", "-c", "1", "-i", "0.5", "-W", "2", "198.51.100.9")
    ]
    assert "--print -- icmp 0>/tmp/run.pcap &" in text and "link del" not in text


def test_a_remote_runs_pcap_comes_home_as_a_stream():
    def plan(pcap_home, pcap="/tmp/run.pcap"):
        return build_run(
            attachment(),
            ping_addr=ipaddress.ip_address("198.51.100.7"),
            count=1,
            interval=1.0,
            filter_expr="icmp",
            pcap=pcap,
            keep=False,
            pcap_home=pcap_home,
        )

    [start] = [s for s in plan(True).steps if s.background]
    assert start.pcap_home == PcapHome("/tmp/run.pcap") and start.writes is None and "-U" in start.argv
    [start] = [s for s in plan(False).steps if s.background]
    assert start.pcap_home is None and start.writes == "/tmp/run.pcap"
    [start] = [s for s in plan(True, pcap=None).steps if s.background]
    assert start.pcap_home is None and start.writes is None


def test_the_filter_of_a_run_with_probes_keeps_each_probes_packets():
    assert run_filter("arp or icmp", []) == "arp or icmp"
    assert run_filter("arp or icmp", [parse_probe("tcp:198.51.100.7:443")]) == (
        "(arp or icmp) or ((tcp and host 198.51.100.7 and port 443) or "
        "(icmp and icmp[icmptype] == icmp-unreach) or arp)"
    )
