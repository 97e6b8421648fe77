"""What every scenario needs first: a look at the pod and at the node, read-only."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass

from loguru import logger

from vethctl.commands import ip
from vethctl.errors import MissingPrerequisite
from vethctl.execute import Executor
from vethctl.model import IPAddress, IPNetwork, Netns, Node


@dataclass
class NetView:
    """One namespace as `ip -j addr` and `ip -j route show table all` describe it."""

    links: list[dict]
    routes: list[dict]

    def link(self, name: str) -> dict | None:
        return next((link for link in self.links if link.get("ifname") == name), None)

    def used_prefixes(self) -> list[IPNetwork]:
        """Every prefix a route or an address covers: a new subnet must overlap none of them."""
        used = []
        for route in self.routes:
            dst = route.get("dst")
            if not dst or dst == "default" or route.get("type") in ("broadcast", "multicast"):
                continue
            try:
                used.append(ipaddress.ip_network(dst, strict=False))
            except ValueError:
                continue
        for link in self.links:
            for a in link.get("addr_info", []):
                if a.get("scope") == "global" or a.get("family") == "inet":
                    used.append(ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network)
        return used


@dataclass
class PodView(NetView):
    netns: Netns

    @property
    def primary(self) -> dict | None:
        """The pod's own interface: the one its default route leaves by, else the first non-loopback."""
        default = next((r for r in self.routes if r.get("dst") == "default" and r.get("dev")), None)
        if default and (link := self.link(default["dev"])):
            return link
        return next((link for link in self.links if link.get("link_type") != "loopback"), None)

    @property
    def pod_ip(self) -> IPAddress | None:
        link = self.primary
        if not link:
            return None
        addrs = [a for a in link.get("addr_info", []) if a.get("scope") == "global"]
        addrs.sort(key=lambda a: a.get("family") != "inet")  # IPv4 first
        return ipaddress.ip_address(addrs[0]["local"]) if addrs else None

    @property
    def mtu(self) -> int | None:
        link = self.primary
        return int(link["mtu"]) if link and link.get("mtu") else None


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


def parse_ping(text: str) -> tuple[dict | None, list[str]]:
    """jc's `ping` result, with the error lines jc's batch parser leaves out (Destination Host Unreachable)
    added to `responses` from jc's streaming parser, in the same schema."""
    import jc

    lines = [line for line in text.splitlines()]
    if not any(line.startswith("PING ") for line in lines):
        return None, lines
    result = jc.parse("ping", text, quiet=True)
    if not result:
        return None, lines
    seen = {(r.get("type"), r.get("icmp_seq")) for r in result.get("responses", [])}
    extra = []
    for rec in jc.parse("ping_s", lines, quiet=True, ignore_exceptions=True):
        kind = rec.get("type")
        if kind in (None, "summary", "reply", "timeout") or (kind, rec.get("icmp_seq")) in seen:
            continue
        extra.append({"type": kind, "timestamp": rec.get("timestamp"), "response_ip": rec.get("response_ip"),
                      "icmp_seq": rec.get("icmp_seq")})  # fmt: skip
    if extra:
        result["responses"] = sorted(
            result.get("responses", []) + extra, key=lambda r: r.get("icmp_seq") or 0
        )
    return result, [line for line in lines if line.strip()]
