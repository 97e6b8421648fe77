"""ip/ADDR: the pod that owns an address on this node, in a constant number of commands.

  ip -j route get ADDR            -> the device: a bridge (bridge CNIs) or the pod's host veth (routed CNIs)
  ip -j neigh show to ADDR        -> the pod's MAC (bridge case; one probe ping if the table has no entry)
  bridge -j fdb get MAC br BR     -> the bridge port: the pod's host-side veth
  ip -j -d link show dev VETH     -> its peer's ifindex and netnsid
  ip -j netns list-id             -> the netnsid's name
  ip -n NAME -j addr show         -> verified: ADDR is there, on the interface that is the veth's peer

When a step has no answer it falls back: a neighbour probe, then a scan of every network namespace
(named ones and unnamed ones found through /proc/*/ns/net), and -v says which path was taken.

Whichever path found it, the address must be in one namespace only: a pod with NET_ADMIN can add another
pod's address to its own eth0 and answer ARP for it (the neighbour table, the fdb and the verification then
all point at it). So every namespace that may be a pod's is asked (on this machine narrowed down without a
command, Host.netns_holding, then each left asked with `ip`; over ssh one command (commands.ip.in_every_netns),
plus `nsenter` for the unnamed ones when the node has such peers), and an address held twice is refused,
naming both (HeldTwice).
Namespaces owned by another user namespace (anyone's `unshare -rn`) are never candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger

from vethctl.commands import ip, probe
from vethctl.errors import TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.facts import ANY_EXIT, lookup_json
from vethctl.model import IPAddress, Netns, Node
from vethctl.parsers.ipjson import NotJson, decode, netns_name_of, netns_names
from vethctl.resolve.files import NETNS_DIR, candidate_namespaces


@dataclass
class Found:
    """The namespace that holds an address, its host veth and pod interface."""

    netns: Netns
    host_veth: str | None
    pod_if: str | None
    path: list[str] = field(default_factory=list)  # how it was found, for -v and the JSON
    links: list[dict] | None = None  # the namespace's `ip -j addr`, read while verifying


class HeldTwice(TargetNotFound):
    """More than one namespace holds the address: vethctl does not choose (exit 3). `holders`: each of them,
    as found."""

    def __init__(self, address: IPAddress, holders: list[Found]):
        self.address = address
        self.holders = holders
        names = ", ".join(str(h.netns) for h in holders)
        super().__init__(
            f"{address} is held by {len(holders)} network namespaces: {names}",
            hint="a pod may have taken another pod's address (NET_ADMIN); check each, then target one by"
            " netns/ or nspath/",
        )


def _json(ex: Executor, argv, netns=None, purpose="") -> list:
    return lookup_json(ex, argv, netns, purpose=purpose)[0]


def find_by_ip(ex: Executor, address: IPAddress) -> Found:
    path: list[str] = []
    route = _json(ex, ip.route_get_json(address), purpose=f"which device {address} is behind")
    if not route:
        raise TargetNotFound(f"{address} has no route on this node", hint="is it a pod IP of this node?")
    route = route[0]
    if route.get("type") == "local":
        raise TargetNotFound(
            f"{address} is an address of the node itself, not of a pod", hint="give a pod's IP"
        )
    if route.get("gateway"):
        raise TargetNotFound(
            f"{address} is not on this node: it is routed via {route['gateway']} dev {route['dev']}",
            hint="run vethctl on the node that hosts the pod (kubectl get pod -o wide)",
        )
    dev = route["dev"]
    link = _link(ex, dev)
    kind = (link.get("linkinfo") or {}).get("info_kind")
    path.append(f"route get {address}: dev {dev} ({kind or 'device'})")
    veth = None
    if kind == "veth":
        veth = link  # routed CNI (ptp, Calico): the route points straight at the pod's host veth
    elif kind == "bridge":
        veth = _bridge_port(ex, address, dev, path)
    found = None
    if veth is not None and veth.get("link_netnsid") is not None:
        found = _by_nsid(ex, address, veth, path)
    if found is None:
        path.append("falling back to a scan of every network namespace")
    return _only_holder(ex, address, found, path)


def _link(ex: Executor, dev: str) -> dict:
    got = _json(ex, ip.link_show_json(dev), purpose=f"what {dev} is")
    return got[0] if got else {}


def _bridge_port(ex: Executor, address: IPAddress, bridge: str, path: list[str]) -> dict | None:
    """neigh -> MAC -> fdb -> port. The neighbour entry outlives the bridge's learned entry (300 s), so an
    idle pod can have a MAC but no fdb entry: one probe ping refreshes both."""
    for attempt in (1, 2):
        neigh = [
            n
            for n in _json(ex, ip.neigh_show_json(address), purpose="the pod's MAC")
            if n.get("lladdr") and "FAILED" not in n.get("state", [])
        ]
        mac = neigh[0]["lladdr"] if neigh else None
        if mac:
            fdb = _json(ex, ip.fdb_get_json(mac, bridge), purpose=f"which port of {bridge} has {mac}")
            port = next(
                (
                    e["ifname"]
                    for e in fdb
                    if (e.get("mac") or "").lower() == mac.lower() and e.get("ifname") not in (None, bridge)
                ),
                None,
            )
            if port:
                path.append(f"neigh {mac} -> fdb port {port}")
                return _link(ex, port)
        if attempt == 1:
            path.append(
                "no neighbour entry: one probe ping"
                if not mac
                else f"{mac} not in {bridge}'s fdb: one probe ping"
            )
            ex.read(
                probe.neighbour(address),
                None,
                purpose="make the kernel resolve the pod's MAC",
                ok_codes=ANY_EXIT,
            )
    path.append("the neighbour did not answer")
    return None


def _by_nsid(ex: Executor, address: IPAddress, veth: dict, path: list[str]) -> Found | None:
    ids = _json(ex, ip.netns_list_id(veth["link_netnsid"]), purpose="the name of that netns id")
    name = netns_name_of(ids, veth["link_netnsid"])
    path.append(
        f"{veth['ifname']}: peer ifindex {veth.get('link_index')}, netnsid {veth['link_netnsid']} -> {name}"
    )
    if not name:
        return None
    netns = Netns.named(name)
    pod_if, links = _verify(ex, netns, address, veth.get("link_index"))
    if pod_if is None:
        path.append(f"{address} is not on the veth's peer in {name}")
        return None
    return Found(netns, veth["ifname"], pod_if, path, links)


def _verify(
    ex: Executor, netns: Netns, address: IPAddress, peer_index: int | None
) -> tuple[str | None, list]:
    """The interface of `netns` that holds `address` (and is the veth's peer, when we know the peer)."""
    links = _json(ex, ip.addr_show_json(), netns, purpose=f"verify {address} in {netns}")
    for link in links:
        holds = any(a.get("local") == str(address) for a in link.get("addr_info", []))
        if holds and (peer_index is None or link.get("ifindex") == peer_index):
            return link.get("ifname"), links
    return None, links


def holders(
    ex: Executor, address: IPAddress, unnamed: Callable[[], bool] = lambda: True, known: Found | None = None
) -> tuple[list[Found], dict[str, str]]:
    """Every namespace that may be a pod's (resolve.files.candidate_namespaces) and holds `address`, and every
    namespace file's identity. This machine narrows them down at once, without a command (Host.netns_holding:
    a namespace with no local table at all also says yes), and each it names is then asked with `ip` (but
    `known`, already verified); another host is asked: the named ones in one command, the unnamed ones one by
    one (unless `unnamed()` says none can matter)."""
    ex = ex.on(Node(sudo=ex.node.sudo, machine=ex.node.machine))  # the machine's namespaces, from its own
    inodes = ex.host.netns_inodes()
    identity = dict(inodes)
    candidates = candidate_namespaces(ex.host, inodes)
    maybe = ex.host.netns_holding([ns.path for ns in candidates], str(address))
    answers: dict[str, list] | None = {}
    if maybe is not None:
        candidates = [ns for ns in candidates if ns.path in maybe]
    else:
        if not unnamed():
            candidates = [ns for ns in candidates if ns.name]
        if any(c.name for c in candidates):
            answers = _all_named(ex, address, set(ex.host.listdir(NETNS_DIR)))
    same = identity.get(known.netns.path, known.netns.path) if known else None
    found = []
    for ns in candidates:
        if same is not None and identity.get(ns.path, ns.path) == same:
            found.append(Found(ns, None, known.pod_if))
            continue
        if ns.name and answers is not None and ns.name in answers:
            links = answers[ns.name]
        else:
            links = _json(ex, ip.addr_to_json(str(address)), ns, purpose=f"does {ns} hold {address}")
        if pod_if := _holding(links, address):
            found.append(Found(ns, None, pod_if))
    return found, identity


def _all_named(ex: Executor, address: IPAddress, names: set[str]) -> dict[str, list] | None:
    """`ip -j addr show to ADDR` in every named namespace (commands.ip.addr_holders_json), split by its `netns: NAME` lines: {name: links}; None
    when its output cannot be read that way (a name it prints is not one listed: each is then asked alone)."""
    res = ex.read(
        ip.addr_holders_json(str(address)),
        None,
        purpose=f"which namespaces hold {address}",
        ok_codes=ANY_EXIT,
    )
    sections: dict[str, list[str]] = {}
    current = None
    for line in res.stdout.splitlines():
        if line.startswith("netns: ") and line[len("netns: ") :] in names:
            current = line[len("netns: ") :]
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip():
            return None
    try:
        return {name: decode("\n".join(lines)) for name, lines in sections.items()}
    except NotJson:
        return None


def _holding(links: list, address: IPAddress) -> str | None:
    for link in links:
        if any(a.get("local") == str(address) for a in link.get("addr_info", []) if isinstance(a, dict)):
            return link.get("ifname")
    return None


def _unnamed_attached(ex: Executor) -> bool:
    """Does the node hold the peer of a veth whose namespace has no name (Docker's)? Only such a namespace, or
    a named one, can have taken a pod's address on this node's links: when there is none, the unnamed
    namespaces of the machine (a user's, a daemon's) need not be asked one by one."""
    veths = _json(ex, ip.veths_json(), purpose="which namespaces are plugged into the node")
    nsids = {v.get("link_netnsid") for v in veths} - {None}
    if not nsids:
        return False
    named = netns_names(_json(ex, ip.netns_list_json(), purpose="their names"))
    return any(nsid not in named for nsid in nsids)


def _only_holder(ex: Executor, address: IPAddress, found: Found | None, path: list[str]) -> Found:
    """The namespace `found` (by the fast path) or the scan's only one: refused when another holds it too.
    The scan asks every namespace; after the fast path, the unnamed ones only when some are plugged into the
    node (the others cannot have answered for the address on its links)."""
    held, identity = holders(ex, address, lambda: found is None or _unnamed_attached(ex), found)
    if found is not None:
        mine = identity.get(found.netns.path, found.netns.path)
        others = [h for h in held if identity.get(h.netns.path, h.netns.path) != mine]
        if others:
            raise HeldTwice(address, [found, *others])
        if len(others) == len(held):  # the only holder is not a candidate: another user namespace's
            raise TargetNotFound(
                f"{address} is in {found.netns}, which is not a pod's namespace (another user namespace owns it)",
                hint="a pod's namespace is made by root",
            )
        path.append(f"{address} is in no other namespace")
        logger.debug("ip/{}: {}", address, "; ".join(path))
        return found
    if len(held) > 1:
        raise HeldTwice(address, held)
    if not held:
        raise TargetNotFound(
            f"no network namespace on this node holds {address}", hint="check the IP: kubectl get pod -o wide"
        )
    only = held[0]
    path.append(f"found in {only.netns} by scanning")
    logger.debug("ip/{}: {}", address, "; ".join(path))
    return Found(only.netns, None, only.pod_if, path)
