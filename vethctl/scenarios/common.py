"""What every scenario needs first: a look at the pod and at the node, read-only."""

from __future__ import annotations

import json
import os

from loguru import logger

from vethctl.commands import ip
from vethctl.errors import MissingPrerequisite
from vethctl.execute import Executor
from vethctl.model import Netns, Node
from vethctl.parsers.ipjson import NetView, PodView
from vethctl.parsers.ping import parse_ping  # noqa: F401 (still imported from here)


def check_pings(count: int, interval: float, max_count: int = 100000) -> None:
    """--count and --interval of any command that pings: one rule everywhere."""
    from vethctl.errors import BadInput

    if not 1 <= count <= max_count:
        raise BadInput(f"--count {count} is out of range", hint=f"give 1 to {max_count}")
    if not 0.002 <= interval <= 60:
        raise BadInput(f"--interval {interval:g} is out of range", hint="give 0.002 to 60 seconds")


def require_tools(*tools: str, node: Node | None = None) -> None:
    """Before anything is changed: every tool the plan drives is on PATH there (exit 4 naming it otherwise)."""
    from vethctl.execute import host_for, missing_tool

    if node is not None and node.host == "kubectl-debug":
        return  # the node is not known yet: locate() checks once the debugging pod is there
    host = host_for(node or Node())
    where = f" on {host.label}" if host.remote else ""
    for tool in tools:
        if not host.which(tool):
            raise missing_tool(tool, where)


CAP_NET_ADMIN, CAP_SYS_ADMIN = 12, 21


def require_root(node: Node) -> None:
    """CAP_NET_ADMIN to make links, CAP_SYS_ADMIN to enter namespaces: root has both, a container may not."""
    from vethctl.execute import host_for

    host = host_for(node)
    if node.sudo and not host.remote and os.geteuid() != 0:
        return
    euid, caps = host.caps()
    missing = [name for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"))
               if not caps & (1 << bit)]  # fmt: skip
    if missing:
        who = "root" if euid == 0 else f"user {euid}"
        where = f" on {host.label}" if host.remote else ""
        raise MissingPrerequisite(f"vethctl needs root with {' and '.join(missing)}{where} ({who} lacks it)",
                                  hint="connect as root (ssh://root@HOST)" if host.remote else
                                  "run it with sudo, or pass --sudo to prefix each command with sudo")  # fmt: skip


def look(ex: Executor, netns: Netns | None, what: str, links: list[dict] | None = None) -> NetView:
    if links is None:
        links = json.loads(
            ex.read(ip.addr_show_json(), netns, purpose=f"{what}: links and addresses").stdout or "[]"
        )
    routes = json.loads(
        ex.read(ip.route_show_json(), netns, purpose=f"{what}: routes, all tables").stdout or "[]"
    )
    return NetView(links, routes)


def look_at_pod(ex: Executor, netns: Netns, links: list[dict] | None = None) -> PodView:
    view = look(ex, netns, "the pod", links)
    return PodView(view.links, view.routes, netns)


def node_of(ex: Executor, pod: PodView, requested: Node, explicit: bool) -> Node:
    """The node is where the pod's eth0 peer lives. On a real node that is this machine's namespace; for a
    lab pod (or a kind node) it is a named namespace, and node-side commands must run in there."""
    if explicit:
        return requested
    link = pod.primary
    if not link or link.get("link_netnsid") is None:
        return requested
    ids = json.loads(ex.read(ip.netns_list_id(link["link_netnsid"]), pod.netns,
                             purpose="which namespace holds the pod's peer").stdout or "[]")  # fmt: skip
    name = next((i.get("name") for i in ids if i.get("nsid") == link["link_netnsid"]), None)
    if name and name != pod.netns.name:
        logger.debug("the pod's {} peer lives in netns {}: that is its node", link.get("ifname"), name)
        return Node(netns=Netns.named(name), sudo=requested.sudo, host=requested.host)
    return requested


def parse_via(via: str | None, sudo: bool) -> tuple[Node, bool]:
    """--via: where node-side commands run. `netns:NAME` treats a named namespace as the node (a lab node)."""
    from vethctl.errors import BadInput

    if via in (None, "", "local"):
        return Node(sudo=sudo), False
    if via.startswith("netns:"):
        name = via[len("netns:") :]
        if not name or "/" in name:
            raise BadInput(f"--via {via!r} names no namespace", hint="write --via netns:NAME")
        if not os.path.exists(f"/var/run/netns/{name}"):
            from vethctl.errors import TargetNotFound

            raise TargetNotFound(f"--via {via}: no network namespace named {name!r}", hint="`ip netns list`")
        return Node(netns=Netns.named(name), sudo=sudo), True
    if via.startswith("ssh://"):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(via)
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise BadInput(f"--via {via!r}: {exc}", hint="write ssh://[USER@]HOST[:PORT]") from None
        if not parts.hostname or parts.path not in ("", "/"):
            raise BadInput(f"--via {via!r} names no host", hint="write ssh://[USER@]HOST[:PORT]")
        return Node(sudo=sudo, host=via.rstrip("/")), False
    if via == "kubectl-debug":  # the node is known once the pod is: locate() makes it kubectl-debug://NODE
        return Node(sudo=sudo, host="kubectl-debug"), False
    raise BadInput(
        f"--via {via!r} is not understood",
        hint="use local, netns:NAME, ssh://[USER@]HOST[:PORT] or kubectl-debug",
    )
