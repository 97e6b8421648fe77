"""`vethctl routes` and `vethctl ping`: looking from inside the pod without attaching anything."""

from __future__ import annotations

import json

from vethctl.commands import ip
from vethctl.model import parse_address
from vethctl.plan.probe import ping_step
from vethctl.scenarios.common import check_pings, parse_ping
from vethctl.scenarios.locate import KubeScope, host_veth_of, locate
from vethctl.scenarios.observe import route_sentence


def find(target: str, *, via: str | None = None, kube: KubeScope | None = None) -> dict:
    """Where the target's netns is; nothing changed."""
    located, ex = locate(target, via=via, kube=kube)
    host_veth_of(ex, located)
    return located.as_json() | {"resolved_by": located.path, "commands": [r.as_json() for r in ex.results]}


def _target(text: str, via: str | None, kube: KubeScope | None = None):
    located, ex = locate(text, via=via, kube=kube)
    return located, located.netns, ex


def routes(
    target: str, *, to: str | None = None, via: str | None = None, kube: KubeScope | None = None
) -> dict:
    dst = parse_address(to, "--to") if to else None
    located, netns, ex = _target(target, via, kube)
    table = json.loads(ex.read(ip.route_show(), netns, purpose="the pod's routes").stdout or "[]")
    result = {"target": located.as_json(), "routes": table, "to": None}
    if dst is not None:
        res = ex.read(ip.route_get_json(dst), netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2})
        got = json.loads(res.stdout or "[]") if res.rc == 0 else []
        route = got[0] if got else None
        sentence = route_sentence(str(dst), route)
        if res.rc != 0:
            sentence += f" ({res.stderr.strip()})"
        result["to"] = {"address": str(dst), "route": route, "sentence": sentence}
    result["commands"] = [r.as_json() for r in ex.results]
    return result


def ping(target: str, address: str, *, count: int = 3, interval: float = 1.0, via: str | None = None,
         kube: KubeScope | None = None) -> dict:  # fmt: skip
    dst = parse_address(address, "ADDR")
    check_pings(count, interval)
    located, netns, ex = _target(target, via, kube)
    route_res = ex.read(ip.route_get_json(dst), netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2})
    got = json.loads(route_res.stdout or "[]") if route_res.rc == 0 else []
    res = ex.run(ping_step(netns, dst, count=count, interval=interval))
    parsed, lines = parse_ping(res.stdout)
    return {
        "target": located.as_json(),
        "destination": str(dst),
        "route": got[0] if got else None,
        "route_sentence": route_sentence(str(dst), got[0] if got else None),
        "ping": parsed,
        "ping_lines": lines,
        "rc": res.rc,
        "commands": [r.as_json() for r in ex.results],
    }
