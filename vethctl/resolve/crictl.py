"""container/ID targets: what the node's container runtime says about a container, through crictl.

  crictl inspect ID      -> ContainerInfo: its pid, its netns path, its pod sandbox, its pod
  crictl inspectp POD    -> SandboxInfo, when the container's own spec names no network namespace (the
                            sandbox's runtime spec holds the /var/run/netns/cni-... path on containerd);
                            refused when the sandbox's network mode is NODE (hostNetwork): the
                            container's process is then in the node's own namespace

crictl runs in the node's own namespace (an executor for the node's machine, not inside a lab node): it
talks to the runtime's socket on this node. parsers/crictl.py reads what it prints and its failures.
"""

from __future__ import annotations

from vethctl.commands.crictl import inspect_argv, inspectp_argv
from vethctl.errors import BadInput, MissingPrerequisite
from vethctl.parsers.crictl import ContainerInfo, crictl_error, parse_inspect, parse_inspectp
from vethctl.render import command_text

CRICTL_INSTALL = (
    "install it from https://github.com/kubernetes-sigs/cri-tools (release tarball) or your "
    "distribution's cri-tools package"
)


def _run(executor, argv: tuple[str, ...], purpose: str, what: str, ident: str):
    try:
        res = executor.read(argv, None, purpose=purpose, ok_codes={0, 1})
    except MissingPrerequisite as exc:
        if "not installed" in exc.message:
            raise MissingPrerequisite("crictl is not installed", hint=CRICTL_INSTALL) from None
        raise
    if res.rc != 0:
        raise crictl_error(res.stderr, argv, res.rc, what=what, ident=ident, shown=command_text(argv))
    return res.stdout


def get_container(container_id: str, executor) -> ContainerInfo:
    """Ask the runtime about one container; when its own spec names no network namespace, ask its sandbox."""
    argv = inspect_argv(container_id)
    info = parse_inspect(
        _run(executor, argv, f"where container {container_id} runs", "container", container_id)
    )
    if info.netns_path or not info.pod_sandbox_id:
        return info
    sandbox_argv = inspectp_argv(info.pod_sandbox_id)
    sandbox = parse_inspectp(
        _run(
            executor,
            sandbox_argv,
            f"the network namespace of pod sandbox {info.pod_sandbox_id}",
            "pod sandbox",
            info.pod_sandbox_id,
        )
    )
    if sandbox.network == "NODE":
        pod = (
            f"pod {sandbox.pod_namespace}/{sandbox.pod_name}" if sandbox.pod_name else f"sandbox {sandbox.id}"
        )
        raise BadInput(
            f"container {container_id} ({pod}) uses hostNetwork (crictl inspectp: network NODE): it shares the"
            " node's network namespace, so there is no pod namespace to attach to",
            hint="debug the node's own interfaces instead",
        )
    return ContainerInfo(
        id=info.id,
        pod_sandbox_id=info.pod_sandbox_id,
        pid=info.pid,
        netns_path=sandbox.netns_path,
        pod_name=info.pod_name or sandbox.pod_name,
        pod_namespace=info.pod_namespace or sandbox.pod_namespace,
        state=info.state,
        name=info.name,
    )
