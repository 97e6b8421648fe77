"""-l SELECTOR: the pods that match, through kubectl, split into those this node (or the --via host) can
reach and the others, each with why not."""

from __future__ import annotations

from vethctl.errors import TargetNotFound
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.model import Node, Ssh
from vethctl.parsers.kube import PodInfo, refusal
from vethctl.resolve import kube as k8s
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.via import parse_via
from vethctl.results import Skipped
from vethctl.state.labs import all_labs


def select(
    selector: str, kube: KubeScope, via: str | None, hosts: Hosts, ex: Executor
) -> tuple[list[PodInfo], list[Skipped]]:
    """The matching pods this node (or the --via host) can reach, and the others with why not. `ex` runs
    kubectl on this machine (its journal keeps the command)."""
    node, _ = parse_via(via, False)
    pods = k8s.list_pods(selector, kube.namespace, kube.context, ex.on(Node(), hosts.local))
    if not pods:
        ns = kube.namespace or "the current namespace"
        raise TargetNotFound(f"no pod matches -l {selector} in {ns}", hint="kubectl get pods -l ... -n ...")
    host = hosts.get(node)
    here = [host.hostname(), node.machine.host] if isinstance(node.machine, Ssh) else k8s.this_node_name()
    here += [r["name"] for r in all_labs(host) if r.get("up")]
    runnable, skipped = [], []
    for pod in pods:
        this = pod.node_name if pod.node_name in here else (here[0] if here else "")
        why = refusal(pod, this)
        if why:
            skipped.append(Skipped(pod.ref, pod.node_name, why))
        else:
            runnable.append(pod)
    if not runnable:
        raise TargetNotFound(
            f"none of the {len(pods)} pod(s) matching -l {selector} can be reached from here: "
            f"{skipped[0].why}"
        )
    return runnable, skipped
