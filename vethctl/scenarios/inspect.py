"""`vethctl routes` and `vethctl ping`: looking from inside the pod without attaching anything."""

from __future__ import annotations

import json

from vethctl import commands, plan as plans
from vethctl.errors import BadInput
from vethctl.execute import Executor
from vethctl.model import parse_address
from vethctl.resolve import parse_target, resolve_netns
from vethctl.scenarios.common import parse_ping, parse_via, require_root
from vethctl.scenarios.observe import route_sentence


def _target(text: str, via: str | None):
    spec = parse_target(text)
    if spec.kind not in ("netns", "nspath", "pid"):
        raise BadInput(f"{spec.kind}/ targets are not supported yet", hint="use netns/NAME, nspath/PATH or pid/PID")
    netns = resolve_netns(spec)
    node, _ = parse_via(via, False)
    require_root(node)
    return spec, netns, Executor(node)


def _target_json(spec, netns) -> dict:
    return {"text": str(spec), "kind": spec.kind, "netns": netns.name, "netns_path": netns.path, "pid": netns.pid}


def routes(target: str, *, to: str | None = None, via: str | None = None) -> dict:
    dst = parse_address(to, "--to") if to else None
    spec, netns, ex = _target(target, via)
    table = json.loads(ex.read(commands.route_show(), netns, purpose="the pod's routes").stdout or "[]")
    result = {"target": _target_json(spec, netns), "routes": table, "to": None}
    if dst is not None:
        res = ex.read(commands.route_get_json(dst), netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2})
        got = json.loads(res.stdout or "[]") if res.rc == 0 else []
        route = got[0] if got else None
        sentence = route_sentence(str(dst), route)
        if res.rc != 0:
            sentence += f" ({res.stderr.strip()})"
        result["to"] = {"address": str(dst), "route": route, "sentence": sentence}
    result["commands"] = [r.as_json() for r in ex.results]
    return result


def ping(target: str, address: str, *, count: int = 3, interval: float = 1.0, via: str | None = None) -> dict:
    dst = parse_address(address, "ADDR")
    if not 1 <= count <= 100000:
        raise BadInput(f"--count {count} is out of range", hint="give 1 to 100000")
    if not 0.002 <= interval <= 60:
        raise BadInput(f"--interval {interval:g} is out of range", hint="give 0.002 to 60 seconds")
    spec, netns, ex = _target(target, via)
    route_res = ex.read(commands.route_get_json(dst), netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2})
    got = json.loads(route_res.stdout or "[]") if route_res.rc == 0 else []
    res = ex.run(plans.ping_step(netns, dst, count=count, interval=interval))
    parsed, lines = parse_ping(res.stdout)
    return {
        "target": _target_json(spec, netns),
        "destination": str(dst),
        "route": got[0] if got else None,
        "route_sentence": route_sentence(str(dst), got[0] if got else None),
        "ping": parsed,
        "ping_lines": lines,
        "rc": res.rc,
        "commands": [r.as_json() for r in ex.results],
    }
