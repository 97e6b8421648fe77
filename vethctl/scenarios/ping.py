"""`vethctl ping`: ping from inside the pod (which has no ping of its own); nothing attached."""

from __future__ import annotations

from vethctl.commands import ip
from vethctl.execute.hosts.registry import Hosts
from vethctl.explain.run import route_sentence
from vethctl.model import check_pings, parse_address
from vethctl.parsers.ipjson import decode
from vethctl.parsers.ping import parse_ping
from vethctl.plan.probe import ping_step
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.results.look import PingResult


def ping(
    target: str,
    address: str,
    hosts: Hosts,
    *,
    count: int = 3,
    interval: float = 1.0,
    via: str | None = None,
    kube: KubeScope | None = None,
) -> PingResult:
    dst = parse_address(address, "ADDR")
    check_pings(count, interval)
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    netns = located.netns
    route_res = ex.read(ip.route_get_json(dst), netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2})
    got = decode(route_res.stdout) if route_res.rc == 0 else []
    res = ex.run(ping_step(netns, dst, count=count, interval=interval))
    parsed, lines = parse_ping(res.stdout)
    route = got[0] if got else None
    return PingResult(
        located.target(),
        str(dst),
        route,
        route_sentence(str(dst), route),
        parsed,
        tuple(lines),
        res.rc,
        tuple(ex.journal.as_json()),
    )
