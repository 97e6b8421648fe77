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


_VOLATILE_ROUTE_KEYS = ("expires", "cache", "used")  # change by themselves, as time passes


def machine_snapshot() -> dict:
    """The machine's own namespace (ours): links, addresses and routes of both families, for the suite's
    check that it ends as it began."""
    snap = snapshot(None)
    routes6 = ip_json("-6", "route", "show", "table", "all")
    snap["routes"] = sorted(
        json.dumps({k: v for k, v in r.items() if k not in _VOLATILE_ROUTE_KEYS}, sort_keys=True)
        for r in [*ip_json("route", "show", "table", "all"), *routes6]
    )
    return snap


def differences(before: dict, after: dict) -> list[str]:
    """What changed between two snapshots, one line each."""
    out = []
    for key in ("links", "routes"):
        was = [json.dumps(x, sort_keys=True) if not isinstance(x, str) else x for x in before[key]]
        now = [json.dumps(x, sort_keys=True) if not isinstance(x, str) else x for x in after[key]]
        out += [f"{key} lost: {x}" for x in was if x not in now]
        out += [f"{key} new: {x}" for x in now if x not in was]
    return out
