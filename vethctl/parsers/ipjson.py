"""What iproute2's `-j` output says, read: one namespace's links, addresses and routes as a view, a link's
peer, a netns id's name. Pure: the commands are run elsewhere, their stdout comes here."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from vethctl.errors import VethctlError
from vethctl.model import IPAddress, IPNetwork, Netns


class NotJson(VethctlError):
    """A command that should print JSON printed something else (exit 1)."""


def decode(stdout: str, what: str = "ip -j") -> list:
    """iproute2's JSON. It prints control characters of names unescaped, hence strict=False."""
    try:
        got = json.loads(stdout or "[]", strict=False)
    except json.JSONDecodeError as exc:
        raise NotJson(f"{what} printed something that is not JSON ({exc.msg})", hint="run with -v") from None
    return got if isinstance(got, list) else []


def peer_of(links: list[dict], ifindex: int | None) -> dict | None:
    """The link whose ifindex a veth's link_index names (the other end, seen from its own namespace)."""
    if ifindex is None:
        return None
    return next((link for link in links if link.get("ifindex") == ifindex), None)


def netns_name_of(ids: list[dict], nsid: int) -> str | None:
    """`ip -j netns list-id` (or `ip -j netns list`): the name behind a netns id, as seen from there."""
    return next((i.get("name") for i in ids if i.get("nsid", i.get("id")) == nsid), None)


def netns_names(listing: list[dict]) -> dict[int, str | None]:
    """`ip -j netns list`: {netns id: name} for every named namespace that has an id here."""
    return {i["id"]: i.get("name") for i in listing if "id" in i}


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
    """A pod's links and routes, and the namespace they were read in."""

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
        ips = self.pod_ips
        return ips[0] if ips else None

    @property
    def pod_ips(self) -> list[IPAddress]:
        """The global addresses of the pod's own interface, IPv4 first (as Kubernetes' podIPs)."""
        link = self.primary
        if not link:
            return []
        addrs = [a for a in link.get("addr_info", []) if a.get("scope") == "global"]
        addrs.sort(key=lambda a: a.get("family") != "inet")  # IPv4 first
        return [ipaddress.ip_address(a["local"]) for a in addrs]

    @property
    def families(self) -> set[int]:
        """The address families of the pod's own interface (global addresses): {4}, {6}, or {4, 6} for a
        dual-stack pod. Not the other interfaces': a pair vethctl attached earlier is not the pod's."""
        link = self.primary or {}
        return {
            4 if a.get("family") == "inet" else 6
            for a in link.get("addr_info", [])
            if a.get("scope") == "global" and a.get("family") in ("inet", "inet6")
        }

    @property
    def mtu(self) -> int | None:
        link = self.primary
        return int(link["mtu"]) if link and link.get("mtu") else None
