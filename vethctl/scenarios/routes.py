"""`vethctl routes`: the pod's routes, and which way an address leaves it; nothing attached."""

from __future__ import annotations

from vethctl.commands import ip
from vethctl.execute.facts import read_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.explain.run import route_sentence
from vethctl.model import parse_address
from vethctl.parsers.ipjson import decode
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.results.look import RoutesResult, RouteTo


def routes(
    target: str, hosts: Hosts, *, to: str | None = None, via: str | None = None, kube: KubeScope | None = None
) -> RoutesResult:
    dst = parse_address(to, "--to") if to else None
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    table = read_json(ex, ip.route_show(), located.netns, purpose="the pod's routes")
    if 6 in located.pod.families or (dst is not None and dst.version == 6):  # `ip route` alone is IPv4's
        table += read_json(ex, ip.route_show(6), located.netns, purpose="the pod's IPv6 routes")
    route_to = None
    if dst is not None:
        res = ex.read(
            ip.route_get_json(dst), located.netns, purpose=f"which way {dst} leaves", ok_codes={0, 1, 2}
        )
        got = decode(res.stdout) if res.rc == 0 else []
        route = got[0] if got else None
        sentence = route_sentence(str(dst), route)
        if res.rc != 0:
            sentence += f" ({res.stderr.strip()})"
        route_to = RouteTo(str(dst), route, sentence)
    return RoutesResult(located.target(), tuple(table), route_to, tuple(ex.journal.as_json()))
