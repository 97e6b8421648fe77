"""What kubectl prints, read: a Pod (or a List of them) as PodInfo, the debugging pod it created, its errors
as the project's errors (one line naming the problem and the fix), and why a pod cannot be targeted."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound, VethctlError

REACH_HINT = (
    "kubectl must work from this node: set KUBECONFIG or --context so that `kubectl get pods` succeeds here"
)


@dataclass(frozen=True)
class PodInfo:
    name: str
    namespace: str
    uid: str
    pod_ip: str | None
    pod_ips: tuple[str, ...]  # every address of status.podIPs: IPv4 and IPv6 on a dual-stack cluster
    node_name: str | None
    host_network: bool
    phase: str
    container_ids: tuple[
        str, ...
    ]  # runtime prefix stripped: containers, init containers, ephemeral containers
    runtime: str | None  # the prefix that was stripped: "containerd", "cri-o", "docker"
    containers: tuple[str, ...]  # spec.containers' names
    ready: bool
    host_ips: tuple[str, ...] = ()  # status.hostIP(s): the node's addresses, whatever the node is called
    waiting: tuple[str, ...] = ()  # why containers are not running yet, a phrase each (init ones first)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def parse_pod_list(text: str) -> list[PodInfo]:
    """`kubectl get pods -o json` prints a List (or the API's PodList) of Pods."""
    try:
        obj = json.loads(text, strict=False)  # control characters as tools print them
    except json.JSONDecodeError as exc:
        raise BadInput(f"kubectl did not print a JSON document ({exc.msg})", hint="run with -v") from None
    if not isinstance(obj, dict) or obj.get("kind") not in ("List", "PodList"):
        raise BadInput(
            f"kubectl printed a {obj.get('kind') if isinstance(obj, dict) else 'non-object'}, not a list",
            hint="`kubectl get pods -l SELECTOR -o json` prints a List",
        )
    items = obj.get("items") or []
    if not isinstance(items, list):
        raise BadInput(
            "kubectl printed a List whose items are not a list", hint="is this kubectl's own output?"
        )
    pods = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadInput(
                f"kubectl printed a List whose item {i} is not a Pod object ({type(item).__name__})",
                hint="is this kubectl's own output? `kubectl get pods -l SELECTOR -o json` prints Pods",
            )
        pods.append(_pod_info(item))
    return pods


_CREATED = re.compile(r"Creating debugging pod (\S+) with container (\S+) on node (\S+?)\.?$", re.M)


def parse_debug_created(text: str) -> tuple[str, str, str]:
    """(pod, container, node) from `Creating debugging pod P with container C on node N.`"""
    m = _CREATED.search(text or "")
    if not m:
        raise BadInput(
            "kubectl debug did not say which pod it created", hint="run `kubectl debug node/NODE` by hand"
        )
    return m.group(1), m.group(2), m.group(3)


def _strip_runtime(container_id: str) -> tuple[str | None, str]:
    runtime, sep, rest = container_id.partition("://")
    return (runtime, rest) if sep else (None, container_id)


def parse_pod(text: str) -> PodInfo:
    """`kubectl get pod -o json` (or the API's Pod) -> PodInfo. Anything but a Pod is BadInput."""
    if not isinstance(text, str | bytes):
        raise BadInput("kubectl printed nothing", hint="run the command with -v to see what kubectl printed")
    try:
        obj = json.loads(text, strict=False)  # control characters as tools print them
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"kubectl did not print a JSON document ({exc.msg} at line {exc.lineno})",
            hint="run the command with -v to see what kubectl printed",
        ) from None
    if not isinstance(obj, dict) or obj.get("kind") != "Pod":
        kind = obj.get("kind") if isinstance(obj, dict) else type(obj).__name__
        raise BadInput(
            f"kubectl printed a {kind or 'document without a kind'}, not a Pod",
            hint="`kubectl get pod NAME -o json` prints one Pod",
        )
    return _pod_info(obj)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _pod_info(obj: dict) -> PodInfo:
    """A Pod object (already decoded) -> PodInfo. A field of the wrong type counts as absent."""
    meta, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    if not _text(meta.get("name")):
        raise BadInput("kubectl printed a Pod without metadata.name", hint="is this kubectl's own output?")
    pod_ips = tuple(str(e["ip"]) for e in _dicts(status.get("podIPs")) if _text(e.get("ip")))
    pod_ip = _text(status.get("podIP")) or (pod_ips[0] if pod_ips else None)
    if pod_ip and not pod_ips:  # an API server before dual-stack (1.16) has podIP only
        pod_ips = (pod_ip,)
    host_ips = tuple(str(e["ip"]) for e in _dicts(status.get("hostIPs")) if _text(e.get("ip")))
    if _text(status.get("hostIP")) and status["hostIP"] not in host_ips:
        host_ips = (status["hostIP"], *host_ips)
    ids: list[str] = []
    runtime = None
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for cs in _dicts(status.get(key)):
            raw = _text(cs.get("containerID"))
            if not raw:  # a container still waiting has no id yet
                continue
            prefix, cid = _strip_runtime(raw)
            runtime = runtime or prefix
            if cid and cid not in ids:
                ids.append(cid)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in _dicts(status.get("conditions"))
    )
    return PodInfo(
        name=meta["name"],
        namespace=_text(meta.get("namespace")) or "default",
        uid=_text(meta.get("uid")) or "",
        pod_ip=pod_ip,
        pod_ips=pod_ips,
        node_name=_text(spec.get("nodeName")),
        host_network=spec.get("hostNetwork") is True,
        phase=_text(status.get("phase")) or "Unknown",
        container_ids=tuple(ids),
        runtime=runtime,
        containers=tuple(str(c.get("name", "")) for c in _dicts(spec.get("containers"))),
        ready=ready,
        host_ips=host_ips,
        waiting=_waiting(status),
    )


def _waiting(status: dict) -> tuple[str, ...]:
    """Why the pod's containers are not running, as kubectl would say it: init containers first (one that
    crash-loops holds the whole pod in Pending), e.g. `init container NAME: CrashLoopBackOff (restarted 5
    times, last exit 95)`."""
    out = []
    for key, kind in (("initContainerStatuses", "init container"), ("containerStatuses", "container")):
        for cs in _dicts(status.get(key)):
            waiting = _dict(_dict(cs.get("state")).get("waiting"))
            reason = _text(waiting.get("reason"))
            if not reason or reason == "PodInitializing":
                continue
            last = _dict(_dict(cs.get("lastState")).get("terminated"))
            details = []
            if isinstance(cs.get("restartCount"), int) and cs["restartCount"] > 0:
                details.append(f"restarted {cs['restartCount']} times")
            if isinstance(last.get("exitCode"), int):
                details.append(f"last exit {last['exitCode']}")
            more = f" ({', '.join(details)})" if details else ""
            out.append(f"{kind} {cs.get('name', '?')}: {reason}{more}")
    return tuple(out)


_NOT_FOUND = re.compile(r'Error from server \(NotFound\): (\w[\w.]*) "([^"]*)" not found')


_FORBIDDEN = re.compile(r"Error from server \(Forbidden\): (.*)")


_USER = re.compile(r'User "([^"]*)" cannot (\w+) resource "([^"]*)"')


_REFUSED = re.compile(r"The connection to the server (\S+) was refused")


_UNABLE = re.compile(r"Unable to connect to the server: (.*)")


_NO_CONTEXT = re.compile(
    r'context was not found for specified context: (\S+)|context "([^"]+)" does not exist'
)


_EXEC_PLUGIN = re.compile(r"exec: executable (\S+) not found|exec plugin: .*?executable (\S+) not found")


_NETWORK = (
    "connection refused",
    "no such host",
    "i/o timeout",
    "timeout",
    "deadline exceeded",
    "no route to host",
    "network is unreachable",
    "connection reset",
    "EOF",
    "x509:",
    "tls:",
)


def _last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no error output"


def kubectl_error(
    stderr: str,
    argv: tuple[str, ...],
    rc: int,
    *,
    name: str,
    namespace: str | None,
    context: str | None = None,
    shown: str,
) -> VethctlError:
    """What a failed `kubectl get pod` means, as the project's error: one line naming the problem and the fix."""
    ns = f'namespace "{namespace}"' if namespace else "kubectl's current namespace"
    ns_flag = f" -n {namespace}" if namespace else ""
    if m := _NOT_FOUND.search(stderr):
        kind, what = m.groups()
        if kind == "namespaces":
            return TargetNotFound(
                f'namespace "{what}" does not exist in the cluster',
                hint="`kubectl get namespaces` lists them; give the right one with -n",
            )
        return TargetNotFound(
            f'pod "{name}" not found in {ns}',
            hint=f"`kubectl get pods{ns_flag}` lists the pods there; "
            f"`kubectl get pods -A | grep {name}` finds it in another namespace",
        )
    if m := _FORBIDDEN.search(stderr):
        who = _USER.search(m.group(1))
        subject = f'user "{who.group(1)}" ' if who else "the credentials in the kubeconfig "
        return MissingPrerequisite(
            f"{subject}may not get pods in {ns} (Forbidden)",
            hint=f"grant the permission `get` on `pods` (RBAC Role and RoleBinding; "
            f"`kubectl auth can-i get pods{ns_flag}` checks it), or use another "
            f"--context / KUBECONFIG",
        )
    if "(Unauthorized)" in stderr or "You must be logged in to the server" in stderr:
        return MissingPrerequisite(
            "the API server refused kubectl's credentials (Unauthorized)",
            hint=f"renew the credentials in the kubeconfig; {REACH_HINT}",
        )
    if m := _NO_CONTEXT.search(stderr):
        missing = m.group(1) or m.group(2) or context
        return BadInput(
            f'the kubeconfig has no context "{missing}"',
            hint="`kubectl config get-contexts` lists them; KUBECONFIG chooses the file",
        )
    if m := _EXEC_PLUGIN.search(stderr):
        plugin = m.group(1) or m.group(2)
        return MissingPrerequisite(
            f"kubectl's credential plugin {plugin} is not installed on this node",
            hint=f"install it (the kubeconfig's users[].user.exec names it); {REACH_HINT}",
        )
    if (
        "no configuration has been provided" in stderr
        or "Missing or incomplete configuration" in stderr
        or re.search(r"server localhost:8080 was refused", stderr)
    ):
        return MissingPrerequisite(
            "kubectl has no cluster configured on this node (it fell back to localhost:8080)",
            hint=f"point KUBECONFIG at a kubeconfig (or copy one to ~/.kube/config); {REACH_HINT}",
        )
    if m := _REFUSED.search(stderr):
        return MissingPrerequisite(
            f"cannot reach the Kubernetes API server: the connection to {m.group(1)} was refused",
            hint=REACH_HINT,
        )
    if m := _UNABLE.search(stderr):
        return MissingPrerequisite(
            f"cannot reach the Kubernetes API server: {m.group(1).strip()}", hint=REACH_HINT
        )
    last = _last_line(stderr)
    if any(word in last for word in _NETWORK):
        return MissingPrerequisite(f"cannot reach the Kubernetes API server: {last}", hint=REACH_HINT)
    return CommandFailed(argv, rc, stderr, shown=shown)


NODE_NAME_HINT = (
    "if this is that node (its name in the cluster is not its hostname), set VETHCTL_NODE_NAME to it"
)


def refusal(pod: PodInfo, this_node: str) -> str | None:
    """Why this pod cannot be targeted from here, as one line; None when it can.

    A pod that is not Running but has an IP can: the IP is set once its sandbox exists, and with the sandbox
    its network namespace (a Pending pod whose init container crash-loops on a network timeout is exactly
    when one wants to look; phase Unknown only says its kubelet stopped reporting). note() says so."""
    who = f"pod {pod.ref}"
    if pod.host_network:
        return (
            f"{who} uses hostNetwork: it shares the node's network namespace, so there is no pod namespace "
            f"to attach to; debug the node's own interfaces instead"
        )
    if pod.phase in ("Succeeded", "Failed"):
        return f"{who} has finished (phase {pod.phase}): its network namespace is gone; target a running pod"
    if not pod.pod_ip:
        watch = f"`kubectl get pod {pod.name} -n {pod.namespace} -w`"
        if not pod.node_name:
            return f"{who} is {pod.phase}, not scheduled on a node yet, and has no IP: wait until it runs ({watch})"
        if pod.phase == "Unknown":
            return (
                f"{who} is in phase Unknown on node {pod.node_name} (its kubelet stopped reporting) and the "
                f"API server knows no IP for it: check the node ({watch})"
            )
        why = f" ({'; '.join(pod.waiting)})" if pod.waiting else ""
        return (
            f"{who} is {pod.phase} on node {pod.node_name} and has no IP yet{why}: its sandbox and network "
            f"namespace are not made yet; wait until it has one ({watch})"
        )
    if pod.node_name and pod.node_name != this_node:
        node = pod.node_name
        return (
            f"{who} runs on node {node}, not on this node ({this_node or 'unknown'}): run vethctl on {node}, "
            f"or use --via ssh://{node} or --via kubectl-debug; {NODE_NAME_HINT}"
        )
    return None


def note(pod: PodInfo) -> str | None:
    """What a report says about a pod that is targeted although it is not Running: its phase, and why."""
    if pod.phase == "Running" or not pod.pod_ip:
        return None
    who = f"pod {pod.ref}"
    if pod.phase == "Unknown":
        return (
            f"{who} is in phase Unknown (its kubelet stopped reporting to the API server), with IP "
            f"{pod.pod_ip}: its network namespace was found here all the same"
        )
    why = f": {'; '.join(pod.waiting)}" if pod.waiting else ""
    return (
        f"{who} is {pod.phase}, not Running{why}; its IP {pod.pod_ip} is set, so its sandbox and network "
        f"namespace exist, and that is what vethctl attaches to"
    )


def node_addresses(text: str) -> dict[str, list[str]]:
    """`kubectl get nodes -o json`: each node's name and its addresses (InternalIP, ExternalIP; status.addresses
    in the API's order)."""
    try:
        doc = json.loads(text, strict=False)  # control characters as tools print them
    except ValueError:
        return {}
    out: dict[str, list[str]] = {}
    for item in doc.get("items", []) if isinstance(doc, dict) else []:
        name = ((item or {}).get("metadata") or {}).get("name")
        if not name:
            continue
        addrs = ((item.get("status") or {}).get("addresses")) or []
        out[name] = [
            a["address"]
            for a in addrs
            if isinstance(a, dict) and a.get("type") in ("InternalIP", "ExternalIP") and a.get("address")
        ]
    return out
