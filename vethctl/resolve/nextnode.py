"""When a pod's packet leaves its node: which node it goes to, and the hops there.

  vxlan (flannel)  the egress is a VTEP: route gateway -> its neighbour's MAC -> the fdb entry's `dst` (the
                   remote node's underlay address); on the underlay the packet travels encapsulated (UDP, VNI)
  routed           the egress route's gateway is the remote node's underlay address

The remote node is one vethctl can reach: a lab node of this machine (a lab cluster's record says whose
underlay address it is) or a host given with `--node ADDR=ssh://HOST`. There: the underlay interface that
holds the address, the VTEP (vxlan), then that node's way to the destination (its bridge, the pod's host
veth and eth0).
"""

from __future__ import annotations

from dataclasses import dataclass

from vethctl.commands import ip
from vethctl.errors import TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.facts import lookup_json
from vethctl.execute.hosts.base import Host
from vethctl.explain.trace import Hop
from vethctl.model import KubectlDebug, Netns, Node
from vethctl.resolve import kube as k8s
from vethctl.resolve.byip import find_by_ip


@dataclass(frozen=True)
class Encap:
    kind: str  # vxlan
    vni: int | None
    port: int | None
    local: str | None  # this node's underlay address
    remote: str | None  # the other node's
    underlay_dev: str | None
    missing: str | None = None  # why the VTEP cannot say where the packet goes: which entry it lacks


@dataclass(frozen=True)
class RemoteNode:
    label: str
    node: Node  # where its commands run (a lab node: a namespace of this machine)
    capture_netns: Netns | None  # what a capture there enters (a lab node's namespace)
    host: Host | None = None  # another machine's (ssh); None: this machine's


def _link(ex: Executor, dev: str) -> dict:
    got, _ = lookup_json(ex, ip.link_show_json(dev), None, purpose=f"what {dev} is")
    return got[0] if got else {}


def egress_encap(ex: Executor, egress: str, route: dict) -> tuple[str | None, Encap | None]:
    """(the next node's underlay address, the encapsulation on the way) for a packet leaving by `egress`."""
    link = _link(ex, egress)
    info = (link.get("linkinfo") or {}).get("info_data") or {}
    if (link.get("linkinfo") or {}).get("info_kind") != "vxlan":
        return route.get("gateway"), None
    remote = missing = None
    if gw := route.get("gateway"):
        neigh, _ = lookup_json(ex, ip.neigh_show_json(gw), None, purpose=f"the MAC of the remote VTEP {gw}")
        mac = next((n.get("lladdr") for n in neigh if n.get("lladdr")), None)
        if mac:
            fdb, _ = lookup_json(
                ex,
                ("bridge", "-j", "fdb", "show", "dev", egress),
                None,
                purpose=f"where {egress} sends {mac}",
            )
            remote = next((e.get("dst") for e in fdb if e.get("mac") == mac and e.get("dst")), None)
            if remote is None:
                missing = (
                    f"{egress} knows the remote VTEP {gw} as {mac} but has no forwarding entry for that MAC"
                    f" (bridge fdb show dev {egress}): the packets are encapsulated to no node and dropped"
                )
        else:
            missing = (
                f"{egress} has no neighbour entry for the remote VTEP {gw} (ip neigh show dev {egress}):"
                " the kernel cannot address the inner frame, and the packets go no further"
            )
    under = info.get("link")
    if isinstance(under, int) or under is None:  # iproute2 prints the ifindex on some versions
        under = None
    return remote, Encap("vxlan", info.get("id"), info.get("port"), info.get("local"), remote, under, missing)


def find_node(
    ex: Executor,
    address: str,
    clusters: list[dict],
    extra: dict[str, Node],
    hosts=None,
    debug: KubectlDebug | None = None,
) -> RemoteNode | None:
    """The node that owns an underlay address: one given with --node (reached over ssh), a lab cluster's, or
    (with --via kubectl-debug) the cluster's node with that InternalIP, through a debugging pod of its own."""
    if address in extra:
        node = extra[address]
        return RemoteNode(node.host or node.label, node, None, hosts.get(node) if hosts is not None else None)
    if debug is not None and hosts is not None:
        name = k8s.node_with_address(address, debug.context, ex.on(Node(), hosts.local))
        if name is None:
            return None
        node = Node(machine=KubectlDebug(node=name, context=debug.context))
        host = hosts.get(node)
        return RemoteNode(host.label, node, None, host)
    here = ex.node.netns.name if ex.node.netns is not None else None
    ours = [c for c in clusters if any(n.get("name") == here for n in c.get("nodes", []))]
    for cluster in ours or clusters:  # underlay addresses repeat across lab clusters: this node's own first
        for n in cluster.get("nodes", []):
            if n.get("underlay_ip") == address:
                ns = Netns.named(n["name"])
                return RemoteNode(
                    f"netns {n['name']}", Node(netns=ns, sudo=ex.node.sudo, machine=ex.node.machine), ns
                )
    return None


def hops_on(
    ex: Executor, remote: RemoteNode, address: str, encap: Encap | None, target, src: str | None, role: str
) -> tuple[list[Hop], dict]:
    """The hops on the next node: the underlay interface holding `address`, its VTEP, then its way to `target`."""
    there = ex.on(remote.node, remote.host)
    facts: dict = {"node": remote.label}
    links, _ = lookup_json(there, ip.addr_show_json(), None, purpose=f"{remote.label}: its interfaces")
    under = next(
        (lk["ifname"] for lk in links if any(a.get("local") == address for a in lk.get("addr_info", []))),
        None,
    )
    if under is None:
        facts["end"] = f"no interface of {remote.label} holds {address}"
        return [], facts
    hops = [_hop(remote, under, "underlay", note=f"{address}, {remote.label}'s side of the underlay")]
    in_dev = under
    if encap is not None:
        vteps, _ = lookup_json(
            there,
            ("ip", "-j", "-d", "link", "show", "type", "vxlan"),
            None,
            purpose=f"{remote.label}: its VTEP",
        )
        vtep = next(
            (v for v in vteps if ((v.get("linkinfo") or {}).get("info_data") or {}).get("id") == encap.vni),
            None,
        )
        if vtep is None:
            facts["end"] = (
                f"{remote.label} has no VTEP for VNI {encap.vni}: the packets are not decapsulated there"
            )
            return hops, facts
        hops.append(_hop(remote, vtep["ifname"], "vtep", note=f"VNI {encap.vni}: decapsulated here"))
        in_dev = vtep["ifname"]
    route, err = lookup_json(
        there,
        ip.route_get_from_json(target, src, in_dev),
        None,
        purpose=f"{remote.label}: its route to {target}",
    )
    if not route:
        facts["node_route_error"] = err or "no answer"
        return hops, facts
    facts["route"] = route[0]
    dev = route[0].get("dev")
    if route[0].get("type") == "local":
        facts["end"] = f"{target} is an address of {remote.label}"
        return hops, facts
    bridge_ports = {lk["ifname"] for lk in links if lk.get("master") == dev}
    if dev and (bridge_ports or dev.startswith(("cni", "cbr", "docker", "br"))):
        hops.append(_hop(remote, dev, "bridge", note=f"{remote.label}'s bridge"))
    try:
        found = find_by_ip(there, target)
    except TargetNotFound:
        if dev and dev != in_dev:
            hops.append(_hop(remote, dev, "egress", note=f"{remote.label} forwards it by {dev}"))
        return hops, facts
    if found.host_veth:
        hops.append(
            _hop(remote, found.host_veth, f"{role} veth", note=f"the host end of the pod holding {target}")
        )
    if found.pod_if:
        hops.append(
            Hop(
                found.netns,
                found.pod_if,
                f"{role} pod",
                False,
                note=f"{target}'s own interface",
                node=remote.label,
                remote=remote if remote.host is not None else None,
            )
        )
    return hops, facts


def _hop(remote: RemoteNode, interface: str, role: str, note: str) -> Hop:
    return Hop(
        None,
        interface,
        role,
        True,
        note=note,
        node=remote.label,
        node_netns=remote.capture_netns,
        remote=remote if remote.host is not None else None,
    )


def underlay_of(ex: Executor, local: str | None) -> str | None:
    """The interface of this node that holds the VTEP's local address (when iproute2 does not name it)."""
    if not local:
        return None
    links, _ = lookup_json(ex, ip.addr_show_json(), None, purpose=f"which interface holds {local}")
    return next(
        (lk["ifname"] for lk in links if any(a.get("local") == local for a in lk.get("addr_info", []))), None
    )


def mtu_facts(ex: Executor, located, hops: list[Hop], facts: dict) -> dict:
    """The MTUs that decide whether a full-size packet crosses the overlay: the pod's, this node's VTEP's, this
    node's underlay's, and the encapsulation's overhead."""
    out: dict = {"pod_mtu": located.pod.mtu}
    underlay = next((h for h in hops if h.role == "underlay" and h.node is None), None)
    vtep = next(
        (h for h in hops if h.role == "egress" and h.decode_as is None and underlay is not None), None
    )
    for key, hop in (("vtep_mtu", vtep), ("underlay_mtu", underlay)):
        if hop is not None:
            out[key] = _link(ex, hop.interface).get("mtu")
    if underlay is not None and underlay.decode_as == "vxlan":
        out["overhead"] = VXLAN_OVERHEAD
    return out


VXLAN_OVERHEAD = 50  # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8
