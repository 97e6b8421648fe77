"""What crictl prints, read: `crictl inspect` as ContainerInfo, `crictl inspectp` as SandboxInfo, and its
errors as the project's errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound, VethctlError

RUNTIME_HINT = (
    "is the container runtime (containerd, CRI-O) running? set runtime-endpoint in /etc/crictl.yaml "
    "or CONTAINER_RUNTIME_ENDPOINT, and run as root"
)


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    pod_sandbox_id: str | None
    pid: int | None  # info.pid: the container's first process, as the node sees it
    netns_path: str | None  # the runtime spec's network namespace: /proc/PID/ns/net or /var/run/netns/cni-...
    pod_name: str | None  # labels io.kubernetes.pod.name / .namespace
    pod_namespace: str | None
    state: str  # CONTAINER_RUNNING, CONTAINER_EXITED, ...
    name: str | None = None  # the container's own name (metadata.name)


@dataclass(frozen=True)
class SandboxInfo:
    id: str
    pid: int | None
    netns_path: str | None
    pod_name: str | None
    pod_namespace: str | None
    state: str  # SANDBOX_READY, SANDBOX_NOTREADY
    ip: str | None = None
    network: str | None = None  # status.linux.namespaces.options.network: POD, or NODE for hostNetwork


def _document(text: str, command: str) -> dict:
    if not isinstance(text, str | bytes):
        raise BadInput(f"crictl {command} printed nothing", hint=f"run `crictl {command} ID` to see why")
    try:
        obj = json.loads(text, strict=False)  # control characters as tools print them
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"crictl {command} did not print JSON ({exc.msg} at line {exc.lineno})",
            hint=f"run `crictl {command} -o json ID` to see what it prints",
        ) from None
    if isinstance(obj, list):  # newer crictl prints a list when asked about several ids
        obj = obj[0] if obj else {}
    if not isinstance(obj, dict) or not isinstance(obj.get("status"), dict) or not obj["status"].get("id"):
        raise BadInput(
            f"crictl {command} printed JSON without status.id", hint=f"is this `crictl {command}` output?"
        )
    return obj


def _pid(info: dict) -> int | None:
    pid = info.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None


def _netns_path(info: dict) -> str | None:
    spec = info.get("runtimeSpec") or {}
    for ns in (spec.get("linux") or {}).get("namespaces") or ():
        if isinstance(ns, dict) and ns.get("type") == "network" and ns.get("path"):
            return ns["path"]
    return info.get("netNamespace") or None  # containerd before 1.2 put it here, in inspectp's info


def _labels(obj: dict) -> dict:
    labels = dict(((obj.get("info") or {}).get("config") or {}).get("labels") or {})
    labels.update(obj["status"].get("labels") or {})
    return labels


def parse_inspect(text: str) -> ContainerInfo:
    """`crictl inspect ID` -> ContainerInfo (containerd and CRI-O both put pid, sandboxID and runtimeSpec
    under `info`)."""
    obj = _document(text, "inspect")
    status, info = obj["status"], obj.get("info") or {}
    labels = _labels(obj)
    annotations = (info.get("runtimeSpec") or {}).get("annotations") or {}
    sandbox = (
        info.get("sandboxID")
        or labels.get("io.kubernetes.sandbox.id")
        or annotations.get("io.kubernetes.cri.sandbox-id")
        or annotations.get("io.kubernetes.cri-o.SandboxID")
    )
    return ContainerInfo(
        id=status["id"],
        pod_sandbox_id=sandbox or None,
        pid=_pid(info),
        netns_path=_netns_path(info),
        pod_name=labels.get("io.kubernetes.pod.name"),
        pod_namespace=labels.get("io.kubernetes.pod.namespace"),
        state=status.get("state") or "CONTAINER_UNKNOWN",
        name=(status.get("metadata") or {}).get("name"),
    )


def parse_inspectp(text: str) -> SandboxInfo:
    """`crictl inspectp ID` -> SandboxInfo: the pod sandbox's netns path lives in its runtime spec."""
    obj = _document(text, "inspectp")
    status, info = obj["status"], obj.get("info") or {}
    labels = _labels(obj)
    meta = status.get("metadata") or {}
    return SandboxInfo(
        id=status["id"],
        pid=_pid(info),
        netns_path=_netns_path(info),
        pod_name=labels.get("io.kubernetes.pod.name") or meta.get("name"),
        pod_namespace=labels.get("io.kubernetes.pod.namespace") or meta.get("namespace"),
        state=status.get("state") or "SANDBOX_UNKNOWN",
        ip=(status.get("network") or {}).get("ip") or None,
        network=_network_mode(status),
    )


def _network_mode(status: dict) -> str | None:
    """The sandbox's network namespace mode as the CRI reports it: POD (its own), NODE (hostNetwork)."""
    linux = status.get("linux")
    namespaces = linux.get("namespaces") if isinstance(linux, dict) else None
    options = namespaces.get("options") if isinstance(namespaces, dict) else None
    mode = options.get("network") if isinstance(options, dict) else None
    return mode if isinstance(mode, str) and mode else None


_UNREACHABLE = (
    "code = Unavailable",
    "connect: no such file or directory",
    "connection refused",
    "context deadline exceeded",
    "failed to connect",
    "connect endpoint",
    "validate service connection",
    "permission denied",
    "code = Unimplemented",
)


def _fatal_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith("FATA") or "level=fatal" in ln or ln.startswith("ERRO")]
    return (fatal or lines or ["no error output"])[-1]


def crictl_error(
    stderr: str, argv: tuple[str, ...], rc: int, *, what: str = "container", ident: str, shown: str
) -> VethctlError:
    """What a failed `crictl inspect`/`inspectp` means, as the project's error."""
    line = _fatal_line(stderr)
    if "code = NotFound" in stderr or re.search(r"\bnot found\b", line) or "No such" in line:
        listing = "crictl ps -a" if what == "container" else "crictl pods"
        return TargetNotFound(
            f"no {what} {ident} in this node's container runtime",
            hint=f"`{listing}` lists them; the id must be of a {what} on this node",
        )
    if any(mark in stderr for mark in _UNREACHABLE):
        endpoint = re.search(r"(unix://\S+?\.sock|/\S+?\.sock)", stderr)
        where = f" at {endpoint.group(1)}" if endpoint else ""
        return MissingPrerequisite(
            f"crictl cannot reach the container runtime's CRI socket{where}", hint=RUNTIME_HINT
        )
    return CommandFailed(argv, rc, stderr, shown=shown)
