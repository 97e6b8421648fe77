"""`vethctl gc`: remove what dead sessions left: their captures first (before their interface goes, so that
none is missed), then their links (never an untagged one), then their records."""

from __future__ import annotations

import signal

from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root
from vethctl.resolve.via import parse_via
from vethctl.results import Collected, GcResult, Stopped
from vethctl.state.sessions import forget, job_alive, vethctl_alive
from vethctl.state.tagged import alive, take_down, why_dead, with_liveness


def gc(hosts: Hosts, *, via: str | None = None) -> GcResult:
    requested, explicit = parse_via(via, False)
    ex = Executor(hosts.get(requested), requested)
    require_root(ex.host)
    records, found = with_liveness(ex, requested, explicit)
    if (
        explicit
    ):  # gc --via netns:NODE looks at that node only: the records of sessions elsewhere are not its own
        here = requested.netns.name if requested.netns else None
        records = [r for r in records if r.get("node_netns") == here]
    removed, stopped = [], []
    live = {e.session for e in found if e.alive}
    for rec in records:
        if rec["session"] in live or (rec["mode"] == "run" and vethctl_alive(rec.get("pid"), ex.host, rec)):
            continue
        if rec["mode"] == "ssh" and alive("ssh", None, False, rec, ex):
            continue
        for job in rec.get("jobs", []):
            if job_alive(job, ex.host):
                ex.host.kill(job["pid"], signal.SIGTERM)
                stopped.append(Stopped(rec["session"], job["pid"], tuple(job["argv"])))
        forget(rec["session"], ex.host)
    for entry in found:
        if entry.alive:
            continue
        removed.append(Collected(entry.session, take_down(ex, entry, requested), why_dead(entry)))
    return GcResult(tuple(removed), tuple(stopped), tuple(sorted(live)), tuple(ex.journal.as_json()))
