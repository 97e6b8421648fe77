"""`vethctl down SESSION... | --all`: remove each session's pair. Idempotent: a session already gone is
reported as such, not as an error; a link already gone counts as removed. Only a link whose tag names the
session is ever deleted. A capture or probe the session's record names is ended first. The links of many
sessions go in one `ip -force -batch -` per node, each line judged on its own: one failure does not stop
the others; what could not be removed is reported (exit 1) and its record kept."""

from __future__ import annotations

from vethctl.errors import BadInput
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root
from vethctl.resolve.via import parse_via
from vethctl.results.sessions import DownResult, NotRemoved, Removal
from vethctl.state.records import check_session_id
from vethctl.state.sessions import all_records, forget
from vethctl.state.tagged import end_jobs, tagged, take_down_all


def down(
    sessions: list[str], hosts: Hosts, *, all_sessions: bool = False, via: str | None = None
) -> DownResult:
    if all_sessions and sessions:
        raise BadInput("give sessions or --all, not both", hint="vethctl down --all")
    if not sessions and not all_sessions:
        raise BadInput("name at least one session, or --all", hint="`vethctl status` lists them")
    for session in sessions:  # all of them before anything: a bad one changes nothing
        check_session_id(session)
    requested, explicit = parse_via(via, False)
    ex = Executor(hosts.get(requested), requested)
    require_root(ex.host)
    records = all_records(ex.host)
    if explicit:  # down --via netns:NODE: the sessions of that node only (records name their node)
        here = requested.netns.name if requested.netns else None
        records = [r for r in records if r.get("node_netns") == here]
    found = tagged(ex, requested, explicit, records)
    if all_sessions:
        sessions = sorted(
            {e.session for e in found if e.mode == "up"}
            | {r["session"] for r in records if r["mode"] == "up"}
        )
    by_session = {r["session"]: r for r in records}
    order = list(dict.fromkeys(sessions))
    stopped = []
    for session in order:  # its captures and probes first, before their interface goes
        stopped += end_jobs(by_session.get(session, {"session": session}), ex.host)
    wanted = set(order)
    outcome = take_down_all(ex, [e for e in found if e.session in wanted], requested)
    removed, absent, failed = [], [], []
    for session in order:
        mine = [e.host_if for e in found if e.session == session]
        if not mine:
            absent.append(session)
        errors = [
            NotRemoved(session, (name,), str(outcome[name])) for name in mine if outcome[name] is not None
        ]
        links = tuple(name for name in mine if outcome[name] is None)
        if links:
            removed.append(Removal(session, links))
        failed += errors
        if not errors:
            forget(session, ex.host)
    return DownResult(
        tuple(removed), tuple(absent), tuple(failed), tuple(stopped), tuple(ex.journal.as_json())
    )
