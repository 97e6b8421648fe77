"""`vethctl status`: sessions and the links they own, from the kernel's tags, each alive or dead."""

from __future__ import annotations

from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root
from vethctl.resolve.via import parse_via
from vethctl.results.sessions import StatusResult
from vethctl.state.tagged import with_liveness


def status(hosts: Hosts, *, via: str | None = None) -> StatusResult:
    requested, explicit = parse_via(via, False)
    ex = Executor(hosts.get(requested), requested)
    require_root(ex.host)
    records, found = with_liveness(ex, requested, explicit)
    sessions = {e.session for e in found}
    orphans = tuple(r["session"] for r in records if r["session"] not in sessions)
    return StatusResult(tuple(found), orphans, tuple(ex.journal.as_json()))
