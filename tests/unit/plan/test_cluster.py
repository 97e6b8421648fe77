"""A lab cluster's plan: the names and addresses of its nodes, the underlay switch, flannel's VXLAN backend
and the routed overlay, for several node indexes (a golden case shows the whole of a two-node lab)."""

from __future__ import annotations

import json
import re

import pytest

from tests.support import recorded
from vethctl.model import Netns
from vethctl.plan.cluster import (
    node_name,
    routed_steps,
    switch_name,
    switch_steps,
    underlay_ip,
    underlay_mtu_steps,
    underlay_steps,
    vtep_ip,
    vtep_mac,
    vxlan_steps,
)


def argvs(steps) -> list[str]:
    return [" ".join(s.argv) for s in steps]


@pytest.mark.parametrize(
    ("i", "ip", "mac"),
    [
        (0, "192.0.2.10", "02:42:c0:00:02:0a"),
        (1, "192.0.2.11", "02:42:c0:00:02:0b"),
        (2, "192.0.2.12", "02:42:c0:00:02:0c"),
        (6, "192.0.2.16", "02:42:c0:00:02:10"),  # two hex digits, not "0x10" nor "16"
        (245, "192.0.2.255", "02:42:c0:00:02:ff"),
    ],
)
def test_each_node_has_its_own_underlay_address_and_vtep_mac(i, ip, mac):
    assert underlay_ip(i) == ip
    assert vtep_mac(i) == mac


def test_names_and_the_vtep_address():
    assert node_name("rn", 1) == "rn-1" and node_name("rn", 12) == "rn-12"
    assert switch_name("rn") == "rn-ul"
    assert vtep_ip("198.18.6.0/24") == "198.18.6.0"  # flannel's: the pod CIDR's network address
    assert vtep_ip("198.18.7.0/24") == "198.18.7.0"


def test_the_switch_is_a_namespace_with_a_bridge():
    steps = switch_steps("rn")
    assert argvs(steps) == ["ip netns add rn-ul", "ip link add ul0 type bridge", "ip link set dev ul0 up"]
    assert [s.netns for s in steps] == [None, Netns.named("rn-ul"), Netns.named("rn-ul")]
    assert {(s.phase, s.place) for s in steps} == {("lab", "node")}  # a failure names a lab node's netns


def test_a_node_joins_the_underlay_with_its_own_port_and_address():
    steps = underlay_steps("rn", 2, 1400)
    assert argvs(steps) == [
        "ip link add ul2 mtu 1400 type veth peer name eth0 mtu 1400 netns rn-2",
        "ip link set dev ul2 master ul0 up",
        "ip addr add 192.0.2.12/24 dev eth0",
        "ip link set dev eth0 up",
        "sysctl -qw net.ipv4.ip_forward=1",
    ]
    assert [s.netns for s in steps] == [Netns.named("rn-ul")] * 2 + [Netns.named("rn-2")] * 3


def test_vxlan_a_vtep_per_node_and_for_each_peer_a_route_a_neighbour_and_an_fdb_entry():
    steps = vxlan_steps("rn", 1, "198.18.6.0/24", [(2, "198.18.7.0/24"), (3, "198.18.8.0/24")], 1350)
    assert argvs(steps) == [
        "ip link add flannel.1 address 02:42:c0:00:02:0b type vxlan id 1 local 192.0.2.11 dev eth0"
        " dstport 8472 nolearning df inherit",
        "ip link set dev flannel.1 mtu 1350 up",
        "ip addr add 198.18.6.0/32 dev flannel.1",
        "ip route add 198.18.7.0/24 via 198.18.7.0 dev flannel.1 onlink",
        "ip neigh add 198.18.7.0 lladdr 02:42:c0:00:02:0c dev flannel.1 nud permanent",
        "bridge fdb append 02:42:c0:00:02:0c dev flannel.1 dst 192.0.2.12",
        "ip route add 198.18.8.0/24 via 198.18.8.0 dev flannel.1 onlink",
        "ip neigh add 198.18.8.0 lladdr 02:42:c0:00:02:0d dev flannel.1 nud permanent",
        "bridge fdb append 02:42:c0:00:02:0d dev flannel.1 dst 192.0.2.13",
    ]
    assert {s.netns for s in steps} == {Netns.named("rn-1")}
    assert {(s.phase, s.place) for s in steps} == {("lab", "node")}


def test_the_underlay_mtu_shrinks_on_both_ends_of_a_nodes_port():
    steps = underlay_mtu_steps("rn", 3, 1400)
    assert argvs(steps) == ["ip link set dev ul3 mtu 1400", "ip link set dev eth0 mtu 1400"]
    assert [s.netns for s in steps] == [Netns.named("rn-ul"), Netns.named("rn-3")]


def test_routed_each_peers_pods_via_its_underlay_address():
    steps = routed_steps("rn", 2, [(1, "198.18.6.0/24"), (3, "198.18.8.0/24")])
    assert argvs(steps) == [
        "ip route add 198.18.6.0/24 via 192.0.2.11 dev eth0",
        "ip route add 198.18.8.0/24 via 192.0.2.13 dev eth0",
    ]
    assert {(s.netns, s.phase, s.place) for s in steps} == {(Netns.named("rn-2"), "lab", "node")}
    assert routed_steps("rn", 1, []) == []


def test_a_vxlan_cluster_runs_what_a_real_lab_up_ran():
    rec = recorded.case("lab-up-vxlan-json")
    lab = json.loads(rec["stdout"])
    name, nodes = lab["name"], [(i + 1, n["pod_cidr"]) for i, n in enumerate(lab["nodes"])]
    assert [n["underlay_ip"] for n in lab["nodes"]] == [underlay_ip(i) for i, _ in nodes]
    assert recorded.ran_in_order(switch_steps(name), rec)
    for i, cidr in nodes:
        peers = [(j, c) for j, c in nodes if j != i]
        # made at 1500 (the MTU assumed), the VTEP 50 bytes smaller, then the underlay shrunk to 1400
        assert recorded.ran_in_order(
            underlay_steps(name, i, 1500) + vxlan_steps(name, i, cidr, peers, 1450), rec
        )
        assert recorded.ran_in_order(underlay_mtu_steps(name, i, lab["underlay_mtu"]), rec)
    assert lab["pod_mtu"] == 1450


def test_a_routed_cluster_runs_what_a_real_lab_up_ran():
    rec = recorded.case("lab-up-routed-text")
    first = rec["stdout"].splitlines()[0]
    name = first.split()[2].rstrip(":")
    nodes = [
        (int(n.rsplit("-", 1)[1]), cidr) for n, _, cidr in re.findall(r"(\S+) \((\S+), pods (\S+)\)", first)
    ]
    assert len(nodes) == 3
    for i, _ in nodes:
        peers = [(j, c) for j, c in nodes if j != i]
        assert recorded.ran_in_order(underlay_steps(name, i, 1500) + routed_steps(name, i, peers), rec)
