"""Which node a pod (as kubectl describes it) is on, and how vethctl reaches that node: one answer for
`pod/NAME` and for every pod of `-l` (they drifted apart once: `run -l --via ssh://node1.example` skipped
pods that `run pod/X` reached).

A pod's node is reachable when it is
  here             the node vethctl runs on, or --via's: one of its names (VETHCTL_NODE_NAME, the hostname and
                   its short form; over ssh the host's hostname and the URL's host, short forms too; with
                   --via netns:NAME, NAME), or the pod's hostIP is one of its addresses
  an ssh host      the pod's hostIP is ADDR of a --node ADDR=ssh://HOST (before a lab node of that name)
  a lab node       a lab node of that name on this machine (or on --via's)
  kubectl-debug    with --via kubectl-debug, a debugging pod on the pod's node, wherever it is
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vethctl.commands import ip
from vethctl.errors import BadInput
from vethctl.execute import namespaces
from vethctl.execute.executor import Executor
from vethctl.execute.facts import read_json
from vethctl.model import KubectlDebug, Node, Ssh
from vethctl.resolve import kube as k8s
from vethctl.resolve.kube import KubeScope
from vethctl.state import labs

if TYPE_CHECKING:  # kubectl's parsers: imported once a pod is placed (pod/ and -l only)
    from vethctl.parsers.kube import PodInfo


@dataclass(frozen=True)
class Place:
    """Where a pod is, for vethctl: `node` to run on (None: not reachable, `why` says why in one line)."""

    node: Node | None
    how: str  # "here", "lab", "ssh" (a --node host), "kubectl-debug"; "" when not reachable
    via: str | None = None  # the --via that reaches that node from this machine (None: this machine)
    by_address: str | None = None  # the pod's hostIP that is one of ours (the node's name did not say)
    why: str | None = None
    other_node: bool = False  # not reachable because it is on a node vethctl cannot reach


def on_its_node(pod: PodInfo, place: Place, context: str | None) -> tuple[str, KubeScope, str | None]:
    """The target, kube scope and --via that name `pod` where `place` says it is: by its name through its
    node's debugging pod (kubectl finds it again), else by its address on the node that holds it (this one,
    a lab node, a --node ssh host)."""
    if place.how == "kubectl-debug":
        return f"pod/{pod.name}", KubeScope(namespace=pod.namespace, context=context), place.via
    return f"ip/{pod.pod_ip}", KubeScope(), place.via


def refuse_nodes_without_selector(nodes: tuple[str, ...], command: str) -> None:
    """--node reaches the pods of -l on other nodes; one target's node is --via's."""
    if nodes:
        raise BadInput(
            "--node reaches the pods of -l on other nodes; one target's node is given with --via",
            hint=f"vethctl {command} pod/NAME --via ssh://HOST, or vethctl {command} -l SELECTOR"
            " --node ADDR=ssh://HOST",
        )


class Placer:
    """Places pods as seen from `requested` (the node --via names, `explicit` when it names a namespace);
    `ex` runs there. `nodes`: --node ADDR=ssh://HOST, the ssh host that owns node address ADDR (None: the
    command takes no --node, and a refusal does not suggest one). What it reads
    (the node's names, its addresses, the labs) it reads once, when a pod first needs it."""

    def __init__(
        self,
        requested: Node,
        explicit: bool,
        ex: Executor | None,
        via: str | None = None,
        nodes: dict[str, Node] | None = None,
    ):
        self.requested, self.explicit, self.ex, self.via = requested, explicit, ex, via
        self.nodes = nodes
        self._here: list[str] | None = None
        self._addresses: set[str] | None = None

    @property
    def debug(self) -> bool:
        return isinstance(self.requested.machine, KubectlDebug)

    def here(self) -> list[str]:
        """The names the node vethctl looks on may have in the cluster."""
        if self._here is None:
            if isinstance(self.requested.machine, Ssh):  # over ssh, "here" is that host
                names = [self.ex.host.hostname(), self.requested.machine.host]
                names += [n.split(".")[0] for n in names]
            else:
                names = k8s.this_node_name()
            if self.explicit and self.requested.netns:
                names.append(self.requested.netns.name)
            self._here = list(dict.fromkeys(n for n in names if n))
        return self._here

    def addresses(self) -> set[str]:
        """Every address of the node's own namespace."""
        if self._addresses is None:
            links = read_json(
                self.ex,
                ip.addr_show_json(),
                None,
                purpose="this machine's addresses: is the pod's node this one?",
            )
            self._addresses = {
                a.get("local") for link in links for a in link.get("addr_info", []) if a.get("local")
            }
        return self._addresses

    def place(self, pod: PodInfo) -> Place:
        reached = self._reach(pod)
        this = pod.node_name if reached else (self.here()[0] if self.here() else "")
        from vethctl.parsers.kube import refusal

        if why := refusal(pod, this or ""):
            # another node: not found here (exit 3); hostNetwork or no IP yet: cannot be done (exit 2)
            other = bool(pod.node_name) and pod.node_name != this and not pod.host_network
            if other and self.nodes is not None and pod.host_ips:
                why += f"; or give that node with --node {pod.host_ips[0]}=ssh://HOST"
            return Place(None, "", why=why, other_node=other)
        return reached

    def _reach(self, pod: PodInfo) -> Place | None:
        if self.debug:  # the pod's node, through a debugging pod there: wherever it is, it is "here"
            machine = KubectlDebug(pod.node_name or "", self.requested.machine.context)
            return Place(
                Node(sudo=self.requested.sudo, machine=machine), "kubectl-debug", via="kubectl-debug"
            )
        name = pod.node_name
        if not name or name in self.here():
            return Place(self.requested, "here", via=self.via)
        # a node given with --node first: the user said how to reach it
        if ssh := next((self.nodes[a] for a in pod.host_ips if a in (self.nodes or {})), None):
            return Place(Node(sudo=self.requested.sudo, machine=ssh.machine), "ssh", via=ssh.machine.url)
        if not self.explicit and (lab := labs.node_named(name, self.ex.host, self.requested)):
            if namespaces.same(self.ex.host, lab.netns, self.requested.netns):  # the one we run in
                return Place(self.requested, "here", via=self.via)
            return Place(lab, "lab", via=self.via)
        # the cloud's node name (ip-10-0-1-2.us-east-2.compute.internal) is often not the hostname: the pod's
        # hostIP being one of the node's own addresses (this machine's, or --via's) says it is this node
        if pod.host_ips and (mine := next((a for a in pod.host_ips if a in self.addresses()), None)):
            return Place(self.requested, "here", via=self.via, by_address=mine)
        return None
