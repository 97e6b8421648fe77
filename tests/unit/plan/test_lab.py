"""The lab's plan for each family: the CNI configuration a dual-stack node's CNI has, and the uplink per family."""

from __future__ import annotations

import json

from vethctl.model import Netns
from vethctl.plan.lab import network_conf, policy_steps, server_steps, uplink_steps

NODE = Netns.named("lab")


def test_a_dual_stack_network_has_two_host_local_ranges_and_two_default_routes():
    conf = json.loads(network_conf("lab", ["198.18.0.0/24", "2001:db8:18::/64"], "bridge", "/ipam"))
    assert conf["ipam"]["ranges"] == [[{"subnet": "198.18.0.0/24"}], [{"subnet": "2001:db8:18::/64"}]]
    assert conf["ipam"]["routes"] == [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
    v4 = json.loads(network_conf("lab", "198.18.0.0/24", "bridge", "/ipam"))  # as before
    assert v4["ipam"]["ranges"] == [[{"subnet": "198.18.0.0/24"}]] and v4["ipam"]["routes"] == [
        {"dst": "0.0.0.0/0"}
    ]


def test_the_uplink_forwards_and_masquerades_each_family():
    argvs = [" ".join(s.argv) for s in uplink_steps("lab", NODE, ["198.18.0.0/24", "2001:db8:18::/64"])]
    for expected in (
        "ip addr add 2001:db8:51:100::1/64 dev uplink0",
        "ip addr add 2001:db8:203::7/128 dev lo",
        "ip route add default via 2001:db8:51:100::254 dev uplink0",
        "sysctl -qw net.ipv6.conf.all.forwarding=1",
        "ip6tables -t nat -A POSTROUTING -s 2001:db8:18::/64 -o uplink0 -j MASQUERADE",
        "iptables -t nat -A POSTROUTING -s 198.18.0.0/24 -o uplink0 -j MASQUERADE",
        "sysctl -qw net.ipv4.ip_forward=1",
    ):
        assert expected in argvs
    assert argvs.count("ip link set dev uplink0 up") == 1
    v4 = [" ".join(s.argv) for s in uplink_steps("lab", NODE, "198.18.0.0/24")]
    assert not [a for a in v4 if "2001:" in a or "ip6tables" in a or "accept_dad" in a]


def test_servers_listen_on_ipv6_where_the_pod_has_it():
    steps = {s.key: s.argv for s in server_steps(NODE, ["198.18.0.3", "2001:db8:18::3"])}
    assert steps["tcp:8080"] == ("nc", "-6", "-lk", "8080")  # an IPv6 socket takes IPv4 too (v4-mapped)
    assert steps["udp:9000"][1] == "UDP6-RECVFROM:9000,fork"
    dns = steps["dns:53"]
    assert "--listen-address=198.18.0.3" in dns and "--listen-address=2001:db8:18::3" in dns
    assert "--host-record=web.lab.example,198.18.0.3,2001:db8:18::3" in dns
    assert {s.key: s.argv for s in server_steps(NODE, "198.18.0.3")}["tcp:8080"] == ("nc", "-lk", "8080")
    rules = [s.argv for s in policy_steps(NODE, (4, 6))]
    assert [r[0] for r in rules] == ["iptables"] * 3 + ["ip6tables"] * 3
    assert "icmp6-adm-prohibited" in rules[4]
