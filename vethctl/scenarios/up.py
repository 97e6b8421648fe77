"""`vethctl up`: attach and leave in place, as a session with a record and tagged links."""

from __future__ import annotations

from vethctl.allocate import EndsRequest, allocate, validate_request
from vethctl.execute.facts import look
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_tools
from vethctl.plan.session import build_up
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import locate
from vethctl.resolve.via import parse_via
from vethctl.results import UpResult
from vethctl.state.lock import AllocationLock
from vethctl.state.sessions import forget, session_record, write_record


def up(
    target: str,
    ends: EndsRequest,
    hosts: Hosts,
    *,
    via: str | None = None,
    sudo: bool = False,
    kube: KubeScope | None = None,
) -> UpResult:
    validate_request(ends)
    requested, _ = parse_via(via, sudo)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip")
    with AllocationLock():
        located, ex = locate(target, hosts=hosts, via=via, sudo=sudo, kube=kube)
        att = allocate(ends, located.pod, look(ex, None, "the node"), mode="up")
        ex.session = att.session
        rec = session_record(att, located.spec, located.node)
        write_record(rec, ex.host)
        try:
            ex.execute(build_up(att))
        except BaseException:
            forget(att.session, ex.host)
            raise
    return UpResult(rec, tuple(ex.journal.as_json()))
