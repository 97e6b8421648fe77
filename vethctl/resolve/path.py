"""The path a pod's packet takes, from the routing tables (and the node's DNAT rules): the pod's device, its
peer on the node, the bridge, then the egress device or, when the destination is a pod of this node, that
pod's host veth and eth0.

  pod      ip -j route get ADDR                      -> the pod's device (eth0, or a veth vethctl attached)
  node     its peer (ifindex, netnsid)               -> the pod's host veth, and the bridge it is enslaved to
  node     ip -j route get ADDR from POD iif IN      -> the egress device (or: local, no route, no forwarding)
  node     (a local pod)                             -> resolve/byip.py: its host veth and netns
"""

from __future__ import annotations

import ipaddress

from vethctl.commands import ip
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.facts import lookup_json
from vethctl.explain.run import route_sentence
from vethctl.explain.trace import Hop
from vethctl.model import IPAddress
from vethctl.parsers.ipjson import peer_of
from vethctl.resolve.byip import find_by_ip
from vethctl.resolve.locate import Located


def derive_path(
    ex: Executor, located: Located, dst: IPAddress, dnat: list[tuple[str, int, dict]] | None = None
) -> tuple[list[Hop], dict]:
    """The hops, in path order, from the routing tables; and what the routing said on the way. `dnat`: where
    the node's DNAT rules would send the packet (netfilter.dnat_targets): the path then follows the first
    backend, as the packet does once its destination is rewritten."""
    facts: dict = {}
    got, err = lookup_json(ex, ip.route_get_json(dst), located.netns, purpose=f"the pod's route to {dst}")
    if not got:
        raise BadInput(f"the pod has no route to {dst}: {err or 'no answer'}", hint="see `vethctl routes`")
    pod_route = facts["pod_route"] = got[0]
    pod_dev = pod_route.get("dev")
    hops = [Hop(located.netns, pod_dev, "pod", False, note=route_sentence(str(dst), pod_route))]
    pod_link = located.pod.link(pod_dev) or {}
    if pod_link.get("link_index") is None or pod_link.get("link_netnsid") is None:
        facts["end"] = f"{pod_dev} has no peer on the node: the path cannot be followed further"
        return hops, facts
    node_links, _ = lookup_json(ex, ip.link_show_json(), None, purpose="the node's links")
    peer = peer_of(node_links, pod_link["link_index"])
    if peer is None:
        facts["end"] = f"the peer of {pod_dev} is not on this node"
        return hops, facts
    hops.append(Hop(None, peer["ifname"], "host veth", True, note=f"the peer of the pod's {pod_dev}"))
    in_dev = peer["ifname"]
    if peer.get("master"):
        in_dev = peer["master"]
        hops.append(
            Hop(None, in_dev, "bridge", True, note=f"{peer['ifname']} is a port of the bridge {in_dev}")
        )
    src = pod_route.get("prefsrc") or (str(located.pod.pod_ip) if located.pod.pod_ip else None)
    target = dst
    if dnat:
        backend, port, rule = dnat[0]
        facts["dnat"] = [{"to": f"{b}:{p}", "chain": r["chain"], "rule": r["rule"]} for b, p, r in dnat]
        target = ipaddress.ip_address(backend)
        hops[-1].note += f"; the node's DNAT sends it to {backend}:{port} ({rule['chain']})"
    node_route, err = lookup_json(
        ex,
        ip.route_get_from_json(target, src, in_dev),
        None,
        purpose=f"the node's route for the pod's packet to {dst}",
    )
    if not node_route:
        facts["node_route_error"] = err or "no answer"
        plain, _ = lookup_json(ex, ip.route_get_json(dst), None, purpose=f"the node's own route to {dst}")
        if plain and plain[0].get("dev") and plain[0].get("type") != "local":
            facts["would_leave_by"] = plain[0]
            if plain[0]["dev"] not in (in_dev, peer["ifname"]):
                hops.append(
                    Hop(
                        None,
                        plain[0]["dev"],
                        "egress",
                        True,
                        note="where the node's own route to it leads (it refused to forward)",
                    )
                )
        return hops, facts
    route = facts["node_route"] = node_route[0]
    if route.get("dev") in (in_dev, peer["ifname"]) and route.get("type") != "local":
        hops += _to_local_pod(ex, target, backend=bool(dnat))
    elif route.get("type") == "local":
        facts["end"] = f"{dst} is an address of the node itself: the path ends on the node"
    elif route.get("dev") not in (None, in_dev, peer["ifname"]):
        via = f" via {route['gateway']}" if route.get("gateway") else ""
        hops.append(
            Hop(None, route["dev"], "egress", True, note=f"the node forwards it by {route['dev']}{via}")
        )
    return hops, facts


def _to_local_pod(ex: Executor, address, *, backend: bool) -> list[Hop]:
    """The destination is a pod of this node (back out of the same bridge): its host veth and its eth0."""
    try:
        found = find_by_ip(ex, address)
    except TargetNotFound:
        return []
    who = "backend" if backend else "dst"
    hops = []
    if found.host_veth:
        hops.append(
            Hop(
                None,
                found.host_veth,
                f"{who} veth",
                True,
                note=f"the host end of the pod that holds {address}",
            )
        )
    if found.pod_if:
        hops.append(Hop(found.netns, found.pod_if, f"{who} pod", False, note=f"{address}'s own interface"))
    return hops
