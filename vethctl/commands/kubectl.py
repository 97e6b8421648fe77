"""kubectl's commands, as a person types them, and the checks that keep what goes into them well-formed:
`get pod`, `get pods -l`, and the node debugging pod of `--via kubectl-debug` (debug, wait, exec, delete)."""

from __future__ import annotations

import re

from vethctl.commands import ip
from vethctl.errors import BadInput

# RFC 1123: a DNS subdomain (pod names) and a DNS label (namespaces), as the API server checks them.
_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"


DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


DNS1123_LABEL = re.compile(_LABEL)


SUBDOMAIN_MAX, LABEL_MAX, CONTEXT_MAX = 253, 63, 512


def check_pod_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise BadInput("the pod name is empty", hint="write pod/NAME")
    if len(name) > SUBDOMAIN_MAX or not DNS1123_SUBDOMAIN.fullmatch(name):
        raise BadInput(
            f"{name!r} is not a valid pod name",
            hint="pod names are lower-case letters, digits, '-' and '.', starting and ending with a "
            "letter or digit (RFC 1123), at most 253 characters",
        )
    return name


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or len(namespace) > LABEL_MAX or not DNS1123_LABEL.fullmatch(namespace):
        raise BadInput(
            f"{namespace!r} is not a valid namespace name",
            hint="namespaces are lower-case letters, digits and '-', starting and ending with a letter "
            "or digit (RFC 1123 label), at most 63 characters",
        )
    return namespace


def check_context(context: str) -> str:
    """Context names are free-form in a kubeconfig (`arn:aws:eks:...:cluster/x`, `gke_p_z_c`, `kind-kind`), so
    only what cannot be one is refused: empty, blank, control characters, a leading '-' (it would read as a flag)."""
    if (
        not isinstance(context, str)
        or not context.strip()
        or len(context) > CONTEXT_MAX
        or context.startswith("-")
        or any(c.isspace() or not c.isprintable() for c in context)
    ):
        raise BadInput(
            f"{context!r} is not a plausible kubeconfig context name",
            hint="`kubectl config get-contexts` lists the names",
        )
    return context


def get_pod_argv(name: str, namespace: str | None = None, context: str | None = None) -> tuple[str, ...]:
    """The command a person types: `kubectl [--context C] get pod NAME [-n NS] -o json`."""
    check_pod_name(name)
    if namespace is not None:
        check_namespace(namespace)
    if context is not None:
        check_context(context)
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "get",
        "pod",
        name,
        *(("-n", namespace) if namespace else ()),
        "-o",
        "json",
    )


def get_nodes_argv(context: str | None = None) -> tuple[str, ...]:
    """`kubectl [--context C] get nodes -o json`: each node's addresses (which one owns an underlay address)."""
    if context is not None:
        check_context(context)
    return ("kubectl", *(("--context", context) if context else ()), "get", "nodes", "-o", "json")


_SELECTOR = re.compile(r"^[A-Za-z0-9_./=!,() -]+$")


def list_pods_argv(
    selector: str, namespace: str | None = None, context: str | None = None
) -> tuple[str, ...]:
    """`kubectl [--context C] get pods -l SELECTOR [-n NS] -o json`."""
    if not selector or not selector.strip() or not _SELECTOR.match(selector):
        raise BadInput(
            f"-l {selector!r} is not a label selector", hint="e.g. -l app=web or -l 'tier in (web,api)'"
        )
    if namespace is not None:
        check_namespace(namespace)
    if context is not None:
        check_context(context)
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "get",
        "pods",
        "-l",
        selector,
        *(("-n", namespace) if namespace else ()),
        "-o",
        "json",
    )


DEBUG_IMAGE = "busybox:1.36"  # only needs chroot: the node's own ip, tcpdump and ping do the work

# --tools image: the image's own ip, tcpdump, ping and nsenter do the work (nodes without them: Bottlerocket,
# Talos, RHCOS without tcpdump); netshoot is the usual such image
DEBUG_TOOLS_IMAGE = "nicolaka/netshoot:v0.13"


DEBUG_NAMESPACE = "default"


DEBUG_LIFETIME_S = 3600  # the pod's own command: it ends by itself even if nothing deletes it


def debug_node_argv(
    node: str, *, image: str = DEBUG_IMAGE, namespace: str = DEBUG_NAMESPACE, context: str | None = None
) -> tuple[str, ...]:
    """A privileged pod in the node's namespaces with its filesystem at /host (kubectl's sysadmin profile)."""
    check_pod_name(node)
    check_namespace(namespace)
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "debug",
        f"node/{node}",
        "-n",
        namespace,
        "--image",
        image,
        "--profile=sysadmin",
        "--attach=false",
        "--",
        "sleep",
        str(DEBUG_LIFETIME_S),
    )


def debug_wait_argv(
    pod: str, *, namespace: str = DEBUG_NAMESPACE, context: str | None = None, timeout_s: int = 120
) -> tuple[str, ...]:
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "wait",
        "-n",
        namespace,
        "--for=condition=Ready",
        f"pod/{pod}",
        f"--timeout={timeout_s}s",
    )


def debug_exec_argv(
    pod: str,
    container: str,
    argv: tuple[str, ...],
    *,
    namespace: str = DEBUG_NAMESPACE,
    context: str | None = None,
    stdin: bool = False,
    chroot: bool = True,
) -> tuple[str, ...]:
    """The node's own tools, through the debugging pod: `kubectl exec POD -- chroot /host ARGV...`; without
    chroot, ARGV as it is, for the image's own tools (image_argv() made it so)."""
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "exec",
        *(("-i",) if stdin else ()),
        "-n",
        namespace,
        pod,
        "-c",
        container,
        "--",
        *(("chroot", "/host") if chroot else ()),
        *argv,
    )


NODE_NET = ("nsenter", "--target", "1", "--net")  # the node's namespace: pid 1's (the pod has hostPID)


def host_path(path: str) -> str:
    """A path of the node as the debugging pod sees it: its root is at /host, its processes in /proc (hostPID).
    /var/run is /run on every node (and often an absolute link to it, which /host/var/run would not follow
    into /host): /var/run/netns/NAME is /host/run/netns/NAME."""
    if path.startswith("/proc/"):
        return path
    if path.startswith("/var/run/"):
        path = path[len("/var") :]
    return "/host" + path


def image_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """ARGV, as a command of the node, run by the debugging image's own tools instead of the node's (chroot):

      ip netns exec NAME CMD...   ->  nsenter --net=/host/run/netns/NAME CMD...
      ip -n NAME ...              ->  nsenter --net=/host/run/netns/NAME ip ...
      nsenter --net=PATH CMD...   ->  nsenter --net=/host/PATH CMD...  (/proc/PID/ns/net as it is)
      sh -c SCRIPT ...            ->  as it is: the image's shell (a host's file looks map their paths)
      CMD... (the node's own ns)  ->  nsenter --target 1 --net CMD...

      sh -c 'for f in /var/run/netns/*...' sh CMD...  (commands.ip.in_every_netns)
                                  ->  the same loop over /host/run/netns/*

    The image's `ip netns` would look for names in the image's /var/run/netns, not the node's."""
    if argv[:1] == ("sudo",):
        return ("sudo", *image_argv(argv[1:]))
    if (
        argv[:3] == ip.in_every_netns(())[:3]
    ):  # the loop over the node's namespace files, as the image sees them
        return ip.in_every_netns(argv[4:], host_path("/var/run/netns"))
    if argv[:3] == ("ip", "netns", "exec") and len(argv) > 4:
        return ("nsenter", f"--net={host_path('/var/run/netns/' + argv[3])}", *_link_netns(argv[4:]))
    if argv[:2] == ("ip", "-n") and len(argv) > 3:
        return ("nsenter", f"--net={host_path('/var/run/netns/' + argv[2])}", *_link_netns(("ip", *argv[3:])))
    if argv[:1] == ("nsenter",) and len(argv) > 1 and argv[1].startswith("--net=/"):
        return ("nsenter", "--net=" + host_path(argv[1][len("--net=") :]), *_link_netns(argv[2:]))
    if argv[:1] == ("sh",):
        return argv
    return (*NODE_NET, *_link_netns(argv))


def _link_netns(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`ip link ... netns NAME` names a namespace the image's ip would look for in its own /var/run/netns: the
    node's file instead (ip takes a path there: a NAME with a '/' is one)."""
    if argv[:1] != ("ip",) or "link" not in argv:
        return argv
    out = list(argv)
    for i in range(len(out) - 1):
        if out[i] == "netns" and "/" not in out[i + 1] and not out[i + 1].isdigit():
            out[i + 1] = host_path("/var/run/netns/" + out[i + 1])
    return tuple(out)


def image_batch(text: str) -> str:
    """The lines of an `ip -batch -` for the image's ip: each `link ... netns NAME` names the node's file, as
    _link_netns does on a command line (a batch line is an ip command without its `ip`)."""
    lines = (
        " ".join(_link_netns(("ip", *line.split(" ")))[1:]) if line else line for line in text.split("\n")
    )
    return "\n".join(lines)


def debug_delete_argv(
    pod: str, *, namespace: str = DEBUG_NAMESPACE, context: str | None = None
) -> tuple[str, ...]:
    return (
        "kubectl",
        *(("--context", context) if context else ()),
        "delete",
        "pod",
        pod,
        "-n",
        namespace,
        "--wait=false",
    )
