"""A lab cluster's plan: N lab nodes joined by an underlay (a switch namespace holding a bridge, each node's
eth0 a port of it), and an overlay between their pod CIDRs:

  vxlan    flannel's shape: a VTEP `flannel.1` per node (VNI 1, UDP 8472, the outer header's DF copied from
           the inner packet's, so that an MTU too small shows instead of fragmenting), the node's pod-CIDR /32 on it, a
           route to each remote pod CIDR via the remote VTEP's address (onlink), its MAC as a permanent
           neighbour, and an fdb entry sending that MAC to the remote node's underlay address
  routed   plain routes: each remote pod CIDR via the remote node's underlay address

Pure: names, addresses and steps.
"""

from __future__ import annotations

import ipaddress

from vethctl.commands import node as node_commands
from vethctl.model import Netns
from vethctl.plan import Step

OVERLAYS = ("vxlan", "routed")
UNDERLAY_NET = ipaddress.ip_network("192.0.2.0/24")
UNDERLAY_DEV = "eth0"  # the node's own interface on the underlay
SWITCH_BRIDGE = "ul0"
VXLAN_DEV, VXLAN_ID, VXLAN_PORT = "flannel.1", 1, 8472
VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8


def node_name(cluster: str, i: int) -> str:
    return f"{cluster}-{i}"


def switch_name(cluster: str) -> str:
    return f"{cluster}-ul"


def underlay_ip(i: int) -> str:
    return str(UNDERLAY_NET.network_address + 10 + i)


def vtep_mac(i: int) -> str:
    return f"02:42:c0:00:02:{10 + i:02x}"


def vtep_ip(pod_cidr: str) -> str:
    """flannel's VTEP address: the pod CIDR's network address, as a /32 on flannel.1."""
    return str(ipaddress.ip_network(pod_cidr).network_address)


def _step(argv, netns: Netns | None, purpose: str = "") -> Step:
    return Step(tuple(argv), netns, purpose=purpose, phase="lab", place="node")


def switch_steps(cluster: str) -> list[Step]:
    sw = Netns.named(switch_name(cluster))
    return [
        _step(("ip", "netns", "add", sw.name), None, f"the underlay: a switch namespace {sw.name}"),
        _step(("ip", "link", "add", SWITCH_BRIDGE, "type", "bridge"), sw, "its bridge"),
        _step(("ip", "link", "set", "dev", SWITCH_BRIDGE, "up"), sw),
    ]


def underlay_steps(cluster: str, i: int, mtu: int) -> list[Step]:
    """Node i's eth0 on the underlay switch, with its underlay address."""
    sw, nd = Netns.named(switch_name(cluster)), Netns.named(node_name(cluster, i))
    port = f"ul{i}"
    return [
        _step(
            (
                "ip",
                "link",
                "add",
                port,
                "mtu",
                str(mtu),
                "type",
                "veth",
                "peer",
                "name",
                UNDERLAY_DEV,
                "mtu",
                str(mtu),
                "netns",
                nd.name,
            ),
            sw,
            f"node {nd.name} on the underlay",
        ),
        _step(("ip", "link", "set", "dev", port, "master", SWITCH_BRIDGE, "up"), sw),
        _step(("ip", "addr", "add", f"{underlay_ip(i)}/{UNDERLAY_NET.prefixlen}", "dev", UNDERLAY_DEV), nd),
        _step(("ip", "link", "set", "dev", UNDERLAY_DEV, "up"), nd),
        _step(node_commands.sysctl_set("net.ipv4.ip_forward", "1"), nd, "forwarding on, as on any node"),
    ]


def vxlan_steps(cluster: str, i: int, pod_cidr: str, peers: list[tuple[int, str]], mtu: int) -> list[Step]:
    """flannel's VXLAN backend on node i; `peers`: (j, pod CIDR) of every other node; `mtu` the VTEP's."""
    nd = Netns.named(node_name(cluster, i))
    steps = [
        _step(
            (
                "ip",
                "link",
                "add",
                VXLAN_DEV,
                "address",
                vtep_mac(i),
                "type",
                "vxlan",
                "id",
                str(VXLAN_ID),
                "local",
                underlay_ip(i),
                "dev",
                UNDERLAY_DEV,
                "dstport",
                str(VXLAN_PORT),
                "nolearning",
                "df",
                "inherit",
            ),
            nd,
            f"the VTEP {VXLAN_DEV} (VNI {VXLAN_ID}, UDP {VXLAN_PORT})",
        ),
        _step(("ip", "link", "set", "dev", VXLAN_DEV, "mtu", str(mtu), "up"), nd),
        _step(("ip", "addr", "add", f"{vtep_ip(pod_cidr)}/32", "dev", VXLAN_DEV), nd),
    ]
    for j, cidr in peers:
        steps += [
            _step(
                ("ip", "route", "add", cidr, "via", vtep_ip(cidr), "dev", VXLAN_DEV, "onlink"),
                nd,
                f"the pods of node {j} by the overlay",
            ),
            _step(
                (
                    "ip",
                    "neigh",
                    "add",
                    vtep_ip(cidr),
                    "lladdr",
                    vtep_mac(j),
                    "dev",
                    VXLAN_DEV,
                    "nud",
                    "permanent",
                ),
                nd,
            ),
            _step(("bridge", "fdb", "append", vtep_mac(j), "dev", VXLAN_DEV, "dst", underlay_ip(j)), nd),
        ]
    return steps


def underlay_mtu_steps(cluster: str, i: int, mtu: int) -> list[Step]:
    """The underlay's MTU, set after the overlay is up (a VTEP cannot be made larger than its device allows,
    but a device can shrink under it: the misconfiguration an overlay meets when the network's MTU is
    smaller than the one it assumed)."""
    sw, nd = Netns.named(switch_name(cluster)), Netns.named(node_name(cluster, i))
    return [
        _step(("ip", "link", "set", "dev", f"ul{i}", "mtu", str(mtu)), sw, f"the underlay's MTU: {mtu}"),
        _step(("ip", "link", "set", "dev", UNDERLAY_DEV, "mtu", str(mtu)), nd),
    ]


def routed_steps(cluster: str, i: int, peers: list[tuple[int, str]]) -> list[Step]:
    nd = Netns.named(node_name(cluster, i))
    return [
        _step(
            ("ip", "route", "add", cidr, "via", underlay_ip(j), "dev", UNDERLAY_DEV),
            nd,
            f"the pods of node {j}, routed by the underlay",
        )
        for j, cidr in peers
    ]
