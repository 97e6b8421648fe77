"""The lab's plan for each family: the CNI configuration a dual-stack node's CNI has, and the uplink per family."""

from __future__ import annotations

import json
import re

import pytest

from tests.support import recorded
from vethctl.model import Netns
from vethctl.plan.lab import (
    cidr_list,
    loopback_conf,
    network_conf,
    node_steps,
    outside_name,
    pod_steps,
    policy_steps,
    remove_steps,
    server_steps,
    uplink_steps,
)

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


def test_a_ptp_network_routes_each_pod_and_takes_the_mtu_only_when_given():
    ptp = json.loads(network_conf("lab", "198.18.0.0/24", "ptp", "/ipam", mtu=1450))
    assert (ptp["type"], ptp["ipMasq"], ptp["mtu"], ptp["cniVersion"]) == ("ptp", False, 1450, "1.0.0")
    assert ptp["ipam"] == {
        "type": "host-local",
        "ranges": [[{"subnet": "198.18.0.0/24"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "/ipam",
    }
    assert "mtu" not in json.loads(network_conf("lab", "198.18.0.0/24", "ptp", "/ipam"))
    bridge = json.loads(network_conf("lab", "2001:db8:18::/64", "bridge", "/ipam", mtu=1450))
    assert (bridge["bridge"], bridge["isGateway"], bridge["hairpinMode"], bridge["mtu"]) == (
        "cni0",
        True,
        True,
        1450,
    )
    assert bridge["ipam"]["routes"] == [{"dst": "::/0"}]
    assert "mtu" not in json.loads(network_conf("lab", "198.18.0.0/24", "bridge", "/ipam"))
    assert json.loads(loopback_conf("lab")) == {"cniVersion": "1.0.0", "name": "lab-lo", "type": "loopback"}


def test_a_pod_is_made_by_the_cni_plugin_in_the_lab_node_and_undone_by_its_del():
    steps = pod_steps("lab", NODE, "/opt/cni/bin", "198.18.0.0/24", "c0ffee", "bridge", "/ipam", mtu=1400)
    add_netns, no_dad, add, lo = steps
    assert add_netns.argv == ("ip", "netns", "add", "cni-c0ffee") and add_netns.netns is None
    assert [u.argv for u in add_netns.undo] == [("ip", "netns", "del", "cni-c0ffee")]
    assert add_netns.undo[0].quiet_fail and add_netns.undo[0].phase == "lab"
    assert no_dad.netns == Netns.named("cni-c0ffee")
    assert (
        add.argv[-1] == "/opt/cni/bin/bridge"
        and "CNI_COMMAND=ADD" in add.argv
        and "CNI_IFNAME=eth0" in add.argv
    )
    assert (add.netns, add.place, add.key) == (NODE, "node", "cni:cni-c0ffee")
    assert add.stdin == network_conf("lab", "198.18.0.0/24", "bridge", "/ipam", 1400)
    (delete,) = add.undo
    assert "CNI_COMMAND=DEL" in delete.argv and delete.stdin == add.stdin and delete.quiet_fail
    assert "CNI_IFNAME=eth0" in delete.argv and delete.argv[-1] == "/opt/cni/bin/bridge"
    (ptp_del,) = pod_steps("lab", NODE, "/opt/cni/bin", "198.18.0.0/24", "c0ffee", "ptp", "/ipam")[2].undo
    assert ptp_del.stdin == network_conf("lab", "198.18.0.0/24", "ptp", "/ipam")  # the DEL has the ADD's conf
    assert lo.argv[-1] == "/opt/cni/bin/loopback" and "CNI_IFNAME=lo" in lo.argv
    assert lo.stdin == loopback_conf("lab") and (lo.netns, lo.place) == (NODE, "node")
    assert {s.phase for s in steps} == {"lab"}


def test_the_outside_is_named_after_the_lab_within_31_characters():
    assert outside_name("lab") == "lab-out"
    assert outside_name("x" * 27) == "x" * 27 + "-out"
    assert outside_name("x" * 28) == "x" * 28 + "-ou"
    assert len(outside_name("x" * 40)) == 31


def test_the_ipv4_uplink_is_198_51_100_1_to_254_and_its_steps_say_where_they_run():
    steps = uplink_steps("lab", NODE, "198.18.0.0/24")
    out = Netns.named("lab-out")
    by_argv = {" ".join(s.argv): s for s in steps}
    assert by_argv["ip addr add 198.51.100.1/24 dev uplink0"].netns == NODE
    assert by_argv["ip addr add 198.51.100.254/24 dev eth0"].netns == out
    assert by_argv["ip addr add 203.0.113.7/32 dev lo"].netns == out
    assert by_argv["ip route add default via 198.51.100.254 dev uplink0"].netns == NODE
    assert {s.place for s in steps if s.netns == out} == {"outside"}  # a failure names the lab's outside
    assert {s.place for s in steps if s.netns != out} == {"node"}
    assert steps[0].argv == ("ip", "netns", "add", "lab-out") and steps[0].netns is None
    assert [u.argv for u in steps[0].undo] == [("ip", "netns", "del", "lab-out")] and steps[0].undo[
        0
    ].quiet_fail
    assert {s.phase for s in steps} == {"lab"}


def test_a_lab_is_removed_pods_first_then_the_outside_then_the_node():
    steps = remove_steps(["cni-a", "cni-b"], "lab-out", "lab")
    assert [s.argv for s in steps] == [
        ("ip", "netns", "del", "cni-a"),
        ("ip", "netns", "del", "cni-b"),
        ("ip", "netns", "del", "lab-out"),
        ("ip", "netns", "del", "lab"),
    ]
    assert {s.phase for s in steps} == {"lab"}
    assert [s.argv for s in remove_steps(["cni-a"], None, None)] == [("ip", "netns", "del", "cni-a")]
    assert [s.argv for s in remove_steps([], None, "lab-ul")] == [("ip", "netns", "del", "lab-ul")]


def test_the_servers_are_daemons_in_the_pod_under_the_keys_lab_down_stops():
    steps = server_steps(NODE, "198.18.0.3")
    assert [s.key for s in steps] == [
        "tcp:8080",
        "tcp:8081",
        "tcp:8082",
        "udp:9000",
        "udp:9001",
        "dns:upstream",
        "dns:53",
    ]
    assert {(s.daemon, s.netns, s.phase) for s in steps} == {(True, NODE, "lab")}
    byk = {s.key: s.argv for s in steps}
    assert byk["udp:9001"] == ("socat", "UDP-RECVFROM:9001,fork", "EXEC:cat")
    assert byk["dns:upstream"][:2] == ("python3", "-c") and byk["dns:upstream"][3:] == ("127.0.0.2", "5353")
    dns = byk["dns:53"]
    assert (
        "--server=/broken.lab.example/127.0.0.2#5353" in dns
        and "--cname=www.lab.example,web.lab.example" in dns
    )
    assert "--listen-address=198.18.0.3" in dns and "--host-record=web.lab.example,198.18.0.3" in dns


def test_the_policy_drops_and_rejects_in_the_server_pods_input_chain():
    rules = policy_steps(NODE)
    assert [" ".join(s.argv) for s in rules] == [
        "iptables -A INPUT -p tcp --dport 8081 -m comment --comment vethctl-lab policy -j DROP",
        "iptables -A INPUT -p tcp --dport 8082 -m comment --comment vethctl-lab policy -j REJECT"
        " --reject-with icmp-admin-prohibited",
        "iptables -A INPUT -p udp --dport 9001 -m comment --comment vethctl-lab policy -j DROP",
    ]
    assert {(s.netns, s.phase) for s in rules} == {(NODE, "lab")}
    assert [s.argv[0] for s in policy_steps(NODE, (6,))] == ["ip6tables"] * 3


def test_a_lab_node_is_a_tagged_namespace_removed_by_its_undo():
    add, lo, no_dad = node_steps("lab")
    assert add.argv == ("ip", "netns", "add", "lab") and add.netns is None
    assert [(u.argv, u.phase) for u in add.undo] == [(("ip", "netns", "del", "lab"), "lab")]
    assert "vethctl-lab:lab" in lo.argv and (lo.netns, lo.place) == (NODE, "node")
    assert (no_dad.netns, no_dad.place) == (NODE, "node")
    assert cidr_list("198.18.0.0/24") == ["198.18.0.0/24"]
    assert cidr_list(("198.18.0.0/24", "2001:db8::/64")) == ["198.18.0.0/24", "2001:db8::/64"]


def recorded_node(name: str) -> dict:
    """A one-node `lab up` recorded from a real lab, as its args and its output give it."""
    rec = recorded.case(name)
    args, out = rec["args"], rec["stdout"]
    if out.startswith("{"):
        lab = json.loads(out)
        pods = [(p["netns"], p["ips"]) for p in lab["pods"]]
        cidrs = lab["pod_cidrs"]
    else:
        cidrs = re.search(r"pods ([^)]+)\)", out).group(1).split()
        pods = [
            (n, ips.split())
            for n, ips in re.findall(r"pod netns/(\S+)  eth0 ([0-9a-f.: ]+?)  host veth", out)
        ]
    add = next(a for a, _ in rec["stdins"] if "CNI_COMMAND=ADD" in a and "CNI_IFNAME=eth0" in a)
    return {
        "rec": rec,
        "name": args[args.index("--name") + 1],
        "cni": args[args.index("--cni") + 1] if "--cni" in args else "bridge",
        "cidrs": cidrs,
        "pods": pods,
        "cni_dir": add[-1].rsplit("/", 1)[0],
        "ipam_dir": json.loads(recorded.stdins(rec, add[-1])[0])["ipam"]["dataDir"],
    }


@pytest.mark.parametrize("case", ["lab-up-dual-ptp-text", "lab-up-v6-json", "lab-up-services-text"])
def test_a_node_its_pods_and_its_uplink_are_what_a_real_lab_up_ran(case):
    lab = recorded_node(case)
    rec, name, node_ns = lab["rec"], lab["name"], Netns.named(lab["name"])
    assert recorded.ran_in_order(node_steps(name), rec)
    for netns, ips in lab["pods"]:
        steps = pod_steps(
            name,
            node_ns,
            lab["cni_dir"],
            lab["cidrs"],
            netns.removeprefix("cni-"),
            lab["cni"],
            lab["ipam_dir"],
        )
        assert recorded.ran_in_order(steps, rec)
        assert [text for argv, text in rec["stdins"] if netns.removeprefix("cni-") in " ".join(argv)] == [
            s.stdin for s in steps[2:]
        ]
        assert len(ips) == len(lab["cidrs"])
    assert recorded.ran_in_order(uplink_steps(name, node_ns, lab["cidrs"]), rec)


@pytest.mark.parametrize("case", ["lab-up-dual-ptp-text", "lab-up-services-text"])
def test_the_servers_and_the_policy_are_what_a_real_lab_up_ran(case):
    lab = recorded_node(case)
    pod, ips = lab["pods"][-1]  # the servers run in the last pod
    families = sorted({6 if ":" in a else 4 for a in ips})
    steps = server_steps(Netns.named(pod), ips) + policy_steps(Netns.named(pod), families)
    assert recorded.ran_in_order(steps, lab["rec"])
