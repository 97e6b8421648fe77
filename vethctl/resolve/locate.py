"""Every target kind, to one thing: the pod's netns, the node it hangs off, and the pod's host-side veth.

netns/ nspath/ pid/   the filesystem names the namespace; the node is where eth0's peer lives
ip/                   resolve/byip.py, on the node (a lab node when the address is in a lab's pod CIDR)
pod/                  kubectl get pod -o json -> its IP (refused: hostNetwork, another node) -> ip/
container/            crictl inspect -> the netns path or the pid
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loguru import logger

from vethctl.commands import ip
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute import namespaces
from vethctl.execute.executor import Executor, Journal
from vethctl.execute.facts import look_at_pod, netns_name, read_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root, require_tools
from vethctl.model import KubectlDebug, Netns, Node, parse_address
from vethctl.parsers.ipjson import PodView, peer_of
from vethctl.resolve.byip import Found, HeldTwice, find_by_ip
from vethctl.resolve.files import resolve_netns
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.placement import Placer
from vethctl.resolve.target import TargetSpec, parse_target
from vethctl.resolve.via import parse_via
from vethctl.state import labs

if TYPE_CHECKING:
    from vethctl.results.target import Target


@dataclass
class Located:
    """A target resolved: its namespace, node, view of the pod and path."""

    spec: TargetSpec
    netns: Netns
    node: Node
    pod: PodView
    host_veth: str | None = None
    path: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the report: a pod targeted although not Running

    def target(self) -> Target:
        from vethctl.results.target import Target  # the report's: not paid before the first command

        primary = self.pod.primary or {}
        return Target(
            text=str(self.spec),
            kind=self.spec.kind,
            netns=self.netns.name,
            netns_path=self.netns.path,
            pid=self.netns.pid,
            pod_ip=str(self.pod.pod_ip) if self.pod.pod_ip else None,
            pod_if=primary.get("ifname"),
            mtu=self.pod.mtu,
            host_veth=self.host_veth,
            node=self.node.label,
            pod_ips=_dual_stack(self.pod),
        )


def _dual_stack(pod: PodView) -> tuple[str, ...] | None:
    """Both addresses of a dual-stack pod (None for a pod of one family: pod_ip says it all)."""
    return tuple(str(a) for a in pod.pod_ips) if len(pod.families) > 1 else None


def locate(
    target: str,
    *,
    hosts: Hosts,
    via: str | None = None,
    sudo: bool = False,
    kube: KubeScope | None = None,
    journal: Journal | None = None,
) -> tuple[Located, Executor]:
    """Where the target is; the executor returned runs on its node, and its journal holds every command
    that finding it took."""
    spec = parse_target(target)
    if kube and (kube.namespace or kube.context) and spec.kind != "pod":
        raise BadInput(
            f"-n/--namespace and --context apply to pod/ targets, not {spec.kind}/",
            hint="write pod/NAME, or drop them",
        )
    requested, explicit = parse_via(via, sudo)
    debug_node = isinstance(requested.machine, KubectlDebug)
    if debug_node and spec.kind != "pod":
        raise BadInput(
            "--via kubectl-debug needs a pod/ target (it debugs the pod's node)",
            hint=f"vethctl ... pod/NAME --via kubectl-debug, not {spec.kind}/",
        )
    journal = journal if journal is not None else Journal()
    if not debug_node:
        require_root(hosts.get(requested), requested.sudo)
    path: list[str] = []
    notes: list[str] = []  # what a report must say about the target (a pod that is not Running)
    host_veth, links = None, None
    if spec.kind in ("netns", "nspath", "pid"):
        ex = Executor(hosts.get(requested), requested, journal=journal)
        netns = resolve_netns(spec, ex.host)
    elif spec.kind == "container":
        ex = Executor(hosts.get(requested), requested, journal=journal)
        # crictl talks to the runtime of the node's machine, from its own namespace
        from vethctl.resolve import crictl  # container/ targets only, like pod/'s kubectl below

        info = crictl.get_container(spec.value, ex.on(Node(machine=requested.machine)))
        if info.netns_path:
            netns = resolve_netns(TargetSpec("nspath", info.netns_path), ex.host)
        elif info.pid:
            netns = resolve_netns(TargetSpec("pid", str(info.pid)), ex.host)
        else:
            raise BadInput(
                f"crictl inspect {spec.value} gives neither a netns path nor a pid",
                hint="is the container running? `crictl ps`",
            )
        path.append(f"crictl inspect {spec.value}: {netns}")
    else:
        kube_pod = None
        if spec.kind == "pod":
            address, requested, ex, kube_pod = _pod(
                spec, kube or KubeScope(), requested, explicit, hosts, journal, path, notes
            )
        else:
            ex = Executor(hosts.get(requested), requested, journal=journal)
            address = parse_address(spec.value, "ip/")
            if not explicit and (lab_node := labs.node_for_address(address, ex.host, requested)):
                if not namespaces.same(ex.host, lab_node.netns, requested.netns):  # not the one we run in
                    ex = ex.on(lab_node)
                    requested = lab_node
                path.append(f"{address} is in the pod CIDR of lab node {lab_node.netns}")
        try:
            found = find_by_ip(ex, address)
        except HeldTwice as held:  # a pod/'s runtime knows which of them is its sandbox's
            found = _sandbox_of(held, kube_pod, ex, requested) if kube_pod else None
            if found is None:
                raise
        netns, host_veth, links = found.netns, found.host_veth, found.links
        path += found.path
        explicit = True  # the node is the one the address was found on
    pod = look_at_pod(ex, netns, links)
    node = node_of(ex, pod, requested, explicit)
    ex = ex.on(node)
    for step in path:
        logger.debug("resolve {}: {}", spec, step)
    return Located(spec, netns, node, pod, host_veth, path, notes), ex


def _pod(
    spec: TargetSpec,
    scope: KubeScope,
    requested: Node,
    explicit: bool,
    hosts: Hosts,
    journal: Journal,
    path: list[str],
    notes: list[str],
    nodes: dict[str, Node] | None = None,
):
    """pod/NAME: kubectl says its IP and node; refused when it cannot be reached from here. Its address, the
    node to look on and an executor there."""
    from vethctl.parsers.kube import note
    from vethctl.resolve import kube as k8s

    debug_node = isinstance(requested.machine, KubectlDebug)
    # kubectl runs in this machine's own namespace, whatever the node is
    kube_pod = k8s.get_pod(
        spec.value, scope.namespace, scope.context, Executor(hosts.local, Node(), journal=journal)
    )
    if debug_node:  # the debugging pod goes where kubectl says the pod is, in the same context
        requested = Node(sudo=requested.sudo, machine=KubectlDebug(None, scope.context))
    ex = None if debug_node else Executor(hosts.get(requested), requested, journal=journal)
    place = Placer(requested, explicit, ex, nodes=nodes).place(kube_pod)
    if place.node is None:
        raise TargetNotFound(place.why) if place.other_node else BadInput(place.why)
    address = parse_address(kube_pod.pod_ip, "pod IP")
    path.append(
        f"kubectl: pod {kube_pod.namespace}/{kube_pod.name} has IP {address} on node {kube_pod.node_name}"
    )
    if place.by_address:
        path.append(
            f"node {kube_pod.node_name} is this machine: its address {place.by_address} is one of ours"
        )
    if pod_note := note(kube_pod):
        path.append(pod_note)
        notes.append(pod_note)
    if place.how in ("lab", "ssh"):  # a lab node (not the one we run in), a --node host
        requested = place.node
        ex = (
            ex.on(requested)
            if place.how == "lab"
            else Executor(hosts.get(requested), requested, journal=journal)
        )
    elif debug_node:
        requested = place.node
    if debug_node:
        host = hosts.get(requested)
        ex = Executor(host, requested, journal=journal)
        require_root(host, requested.sudo)
        require_tools(host, "ip", "tcpdump", "ping")  # the node's own, through chroot /host
    return address, requested, ex, kube_pod


def _sandbox_of(held: HeldTwice, kube_pod, ex: Executor, requested: Node) -> Found | None:
    """When a pod/'s address is held twice: the holder that is the pod's sandbox namespace, as the container
    runtime says (crictl inspect of one of its containers), when crictl is on the node; else None."""
    if not kube_pod.container_ids or not ex.host.which("crictl"):
        return None
    from vethctl.resolve import crictl

    info = crictl.get_container(kube_pod.container_ids[0], ex.on(Node(machine=requested.machine)))
    return sandbox_holder(held, info, ex.host.netns_inodes())


def sandbox_holder(held: HeldTwice, info, inodes: list[tuple[str, str]]) -> Found | None:
    """The holder whose namespace is the container's (`info`: crictl's ContainerInfo): compared by identity
    (device, inode), since the runtime names it by a path (/proc/PID/ns/net) and the holders by name."""
    identity = dict(inodes)
    path = info.netns_path or (f"/proc/{info.pid}/ns/net" if info.pid else None)
    sandbox = identity.get(path) if path else None
    for h in held.holders:
        if sandbox is not None and identity.get(h.netns.path) == sandbox:
            others = ", ".join(str(o.netns) for o in held.holders if o is not h)
            note = f"{held.address} is also held by {others}: crictl says the pod's sandbox is {h.netns}"
            return Found(h.netns, h.host_veth, h.pod_if, [*h.path, note], h.links)
    return None


def node_of(ex: Executor, pod: PodView, requested: Node, explicit: bool) -> Node:
    """The node is where the pod's eth0 peer lives. On a real node that is this machine's namespace; for a
    lab pod (or a kind node) it is a named namespace, and node-side commands must run in there."""
    if explicit:
        return requested
    link = pod.primary
    if not link or link.get("link_netnsid") is None:
        return requested
    name = netns_name(ex, link["link_netnsid"], pod.netns, purpose="which namespace holds the pod's peer")
    if not name:
        return requested
    peer_ns = Netns.named(name)
    peer = namespaces.identity(ex.host, peer_ns)
    # the node vethctl runs in, under a name (`ip netns exec NODE vethctl`): no `ip -n NODE`, one namespace
    if peer is not None and peer in (
        namespaces.identity(ex.host, requested.netns),
        namespaces.identity(ex.host, pod.netns),
    ):
        return requested
    logger.debug("the pod's {} peer lives in netns {}: that is its node", link.get("ifname"), name)
    return Node(netns=peer_ns, sudo=requested.sudo, machine=requested.machine)


def host_veth_of(ex: Executor, located: Located, node_links: list[dict] | None = None) -> str | None:
    """The node-side peer of the pod's eth0, when the node holds it: the link whose ifindex eth0 names."""
    if located.host_veth:
        return located.host_veth
    primary = located.pod.primary or {}
    if primary.get("link_index") is None or primary.get("link_netnsid") is None:
        return None
    if node_links is None:
        node_links = read_json(ex, ip.link_show_json(), None, purpose="the node's links")
    peer = peer_of(node_links, primary["link_index"])
    located.host_veth = peer.get("ifname") if peer else None
    return located.host_veth
