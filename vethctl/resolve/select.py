"""-l SELECTOR: the pods that match, through kubectl, each placed on the node vethctl reaches it by (the
node it runs on or --via's, a lab node, a --node ssh host, a debugging pod per node), and the others with
why not. Placement is resolve/placement.py's, the same as pod/NAME's."""

from __future__ import annotations

from vethctl.errors import TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.model import KubectlDebug, Node
from vethctl.parsers.kube import PodInfo
from vethctl.resolve import kube as k8s
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.placement import Place, Placer
from vethctl.resolve.via import parse_via
from vethctl.results.target import Skipped


def select(
    selector: str,
    kube: KubeScope,
    via: str | None,
    hosts: Hosts,
    ex: Executor,
    nodes: dict[str, Node] | None = None,
) -> tuple[list[tuple[PodInfo, Place]], list[Skipped]]:
    """The matching pods vethctl can reach, each with its place, and the others with why not. `ex` runs
    kubectl on this machine (its journal keeps the command)."""
    requested, explicit = parse_via(via, False)
    if isinstance(requested.machine, KubectlDebug):
        requested = Node(sudo=requested.sudo, machine=KubectlDebug(None, kube.context))
    pods = k8s.list_pods(selector, kube.namespace, kube.context, ex.on(Node(), hosts.local))
    if not pods:
        ns = kube.namespace or "the current namespace"
        raise TargetNotFound(f"no pod matches -l {selector} in {ns}", hint="kubectl get pods -l ... -n ...")
    on_node = None
    if not isinstance(requested.machine, KubectlDebug):
        on_node = Executor(hosts.get(requested), requested, journal=ex.journal)
    placer = Placer(requested, explicit, on_node, via=via, nodes=nodes)
    runnable, skipped = [], []
    for pod in pods:
        place = placer.place(pod)
        if place.node is None:
            skipped.append(Skipped(pod.ref, pod.node_name, place.why))
        else:
            runnable.append((pod, place))
    if not runnable:
        raise TargetNotFound(
            f"none of the {len(pods)} pod(s) matching -l {selector} can be reached from here: "
            f"{skipped[0].why}"
        )
    return runnable, skipped
