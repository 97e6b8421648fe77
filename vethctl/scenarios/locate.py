"""Every target kind, to one thing: the pod's netns, the node it hangs off, and the pod's host-side veth.

netns/ nspath/ pid/   the filesystem names the namespace; the node is where eth0's peer lives
ip/                   resolve/byip.py, on the node (a lab node when the address is in a lab's pod CIDR)
pod/                  kubectl get pod -o json -> its IP (refused: hostNetwork, another node) -> ip/
container/            crictl inspect -> the netns path or the pid
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from loguru import logger

from vethctl.commands import ip
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute import Executor
from vethctl.model import Netns, Node, parse_address
from vethctl.parsers.kube import refusal
from vethctl.resolve import TargetSpec, parse_target, resolve_netns
from vethctl.resolve.kube import KubeScope
from vethctl.scenarios.common import PodView, look_at_pod, node_of, parse_via, require_root


@dataclass
class Located:
    spec: TargetSpec
    netns: Netns
    node: Node
    pod: PodView
    host_veth: str | None = None
    path: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        primary = self.pod.primary or {}
        return {
            "text": str(self.spec),
            "kind": self.spec.kind,
            "netns": self.netns.name,
            "netns_path": self.netns.path,
            "pid": self.netns.pid,
            "pod_ip": str(self.pod.pod_ip) if self.pod.pod_ip else None,
            "pod_if": primary.get("ifname"),
            "mtu": self.pod.mtu,
            "host_veth": self.host_veth,
            "node": self.node.label,
        }


def _lab_node_for(address, host: Node) -> Node | None:
    """A lab node whose pod CIDR holds the address: the lab is that machine's node for its pods."""
    import ipaddress

    from vethctl.scenarios import lab

    for rec in lab.status(host):
        if rec.get("up") and address in ipaddress.ip_network(rec["pod_cidr"]):
            return Node(netns=Netns.named(rec["node_netns"]), sudo=host.sudo, host=host.host)
    return None


def _lab_node_named(name: str | None, host: Node) -> Node | None:
    from vethctl.scenarios import lab

    return next((Node(netns=Netns.named(r["node_netns"]), sudo=host.sudo, host=host.host) for r in lab.status(host)
                 if r.get("up") and r["name"] == name), None)  # fmt: skip


def locate(
    target: str, *, via: str | None = None, sudo: bool = False, kube: KubeScope | None = None
) -> tuple[Located, Executor]:
    spec = parse_target(target)
    if kube and (kube.namespace or kube.context) and spec.kind != "pod":
        raise BadInput(f"-n/--namespace and --context apply to pod/ targets, not {spec.kind}/",
                       hint="write pod/NAME, or drop them")  # fmt: skip
    requested, explicit = parse_via(via, sudo)
    debug_node = requested.host == "kubectl-debug"
    if debug_node and spec.kind != "pod":
        raise BadInput("--via kubectl-debug needs a pod/ target (it debugs the pod's node)",
                       hint=f"vethctl ... pod/NAME --via kubectl-debug, not {spec.kind}/")  # fmt: skip
    if not debug_node:
        require_root(requested)
    ex = Executor(requested)
    path: list[str] = []
    host_veth, kube_pod, links = None, None, None
    if spec.kind in ("netns", "nspath", "pid"):
        netns = resolve_netns(spec, ex.host)
    elif spec.kind == "container":
        from vethctl.resolve import crictl

        local = Executor(Node(host=requested.host))  # crictl talks to the runtime of the node itself
        info = crictl.get_container(spec.value, local)
        ex.results[:0] = local.results
        if info.netns_path:
            netns = resolve_netns(TargetSpec("nspath", info.netns_path), ex.host)
        elif info.pid:
            netns = resolve_netns(TargetSpec("pid", str(info.pid)), ex.host)
        else:
            raise BadInput(f"crictl inspect {spec.value} gives neither a netns path nor a pid",
                           hint="is the container running? `crictl ps`")  # fmt: skip
        path.append(f"crictl inspect {spec.value}: {netns}")
    else:
        if spec.kind == "pod":
            from vethctl.resolve import kube as k8s

            scope = kube or KubeScope()
            local = Executor(Node())  # kubectl runs in this machine's own namespace, whatever the node is
            kube_pod = k8s.get_pod(spec.value, scope.namespace, scope.context, local)
            ex.results[:0] = local.results
            if debug_node:  # the pod's node, through a debugging pod there: wherever it is, it is "here"
                from urllib.parse import quote

                ctx = f"?context={quote(scope.context)}" if scope.context else ""
                requested = Node(sudo=requested.sudo, host=f"kubectl-debug://{kube_pod.node_name or ''}{ctx}")
            lab_node = None if explicit or debug_node else _lab_node_named(kube_pod.node_name, requested)
            if debug_node:
                here = [kube_pod.node_name or ""]
            elif requested.host:  # over ssh, "here" is that host: its name, and the name in the URL
                from urllib.parse import urlsplit

                here = [ex.host.hostname(), urlsplit(requested.host).hostname]
                here += [h.split(".")[0] for h in here]
            else:
                here = k8s.this_node_name()
            here += [kube_pod.node_name] if lab_node else []
            if explicit and requested.netns:
                here.append(requested.netns.name)
            this = kube_pod.node_name if kube_pod.node_name in here else (here[0] if here else "")
            why = refusal(kube_pod, this)
            if why:  # another node: not found here (3); hostNetwork or no IP yet: cannot be done (2)
                on_other_node = (
                    kube_pod.node_name and kube_pod.node_name != this and not kube_pod.host_network
                )
                raise TargetNotFound(why) if on_other_node else BadInput(why)
            address = parse_address(kube_pod.pod_ip, "pod IP")
            path.append(
                f"kubectl: pod {kube_pod.namespace}/{kube_pod.name} has IP {address} on node {kube_pod.node_name}"
            )
            if lab_node:
                ex.node = requested = lab_node
            if debug_node:
                from vethctl.scenarios.common import require_tools

                ex.node = requested
                require_root(requested)
                require_tools("ip", "tcpdump", "ping", node=requested)  # the node's own, through chroot /host
        else:
            address = parse_address(spec.value, "ip/")
            if not explicit and (lab_node := _lab_node_for(address, requested)):
                ex.node = requested = lab_node
                path.append(f"{address} is in the pod CIDR of lab node {lab_node.netns}")
        from vethctl.resolve.byip import find_by_ip

        found = find_by_ip(ex, address)
        netns, host_veth, links = found.netns, found.host_veth, found.links
        path += found.path
        explicit = True  # the node is the one the address was found on
    pod = look_at_pod(ex, netns, links)
    ex.node = node = node_of(ex, pod, requested, explicit)
    for step in path:
        logger.debug("resolve {}: {}", spec, step)
    return Located(spec, netns, node, pod, host_veth, path), ex


def host_veth_of(ex: Executor, located: Located, node_links: list[dict] | None = None) -> str | None:
    """The node-side peer of the pod's eth0, when the node holds it: the link whose ifindex eth0 names."""
    if located.host_veth:
        return located.host_veth
    primary = located.pod.primary or {}
    if primary.get("link_index") is None or primary.get("link_netnsid") is None:
        return None
    if node_links is None:
        node_links = json.loads(ex.read(ip.link_show_json(), None, purpose="the node's links").stdout or "[]")
    peer = next((x for x in node_links if x.get("ifindex") == primary["link_index"]), None)
    located.host_veth = peer.get("ifname") if peer else None
    return located.host_veth
