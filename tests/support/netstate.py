"""What a namespace looks like, read with `ip -j`: for before/after comparisons in tests."""

from __future__ import annotations

import json
import subprocess


def ip_json(*args: str, netns: str | None = None) -> list:
    cmd = ["ip", *(["-n", netns] if netns else []), "-j", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def snapshot(netns: str | None) -> dict:
    """Links (without counters that change by themselves), addresses and routes of one namespace."""
    links = []
    for link in ip_json("addr", "show", netns=netns):
        links.append(
            {k: link.get(k) for k in ("ifname", "mtu", "flags", "address", "ifalias", "link_netnsid")}
            | {"addrs": sorted((a["local"], a["prefixlen"]) for a in link.get("addr_info", []))}
        )
    routes = ip_json("route", "show", "table", "all", netns=netns)
    return {"links": sorted(links, key=lambda x: x["ifname"]), "routes": sorted(map(json.dumps, routes))}


def tagged_links(netns: str | None) -> list[str]:
    return [
        link["ifname"]
        for link in ip_json("-d", "link", "show", netns=netns)
        if (link.get("ifalias") or "").startswith("vethctl:")
    ]
