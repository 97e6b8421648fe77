"""`vethctl gc`: remove what dead sessions left: their captures and probes first (before their interface goes,
so that none is missed), then their links (never one that is not theirs: tagged with their session, or
untagged under exactly the names their record holds), then their records. One failure does not stop the
others: what could not be removed is reported (exit 1) and its record kept for the next gc."""

from __future__ import annotations

import contextlib

from vethctl.errors import CommandFailed
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root
from vethctl.resolve.via import parse_via
from vethctl.results.sessions import Collected, GcResult, NotRemoved
from vethctl.state.lock import AllocationLock
from vethctl.state.sessions import all_records, forget, vethctl_alive
from vethctl.state.tagged import (
    alive,
    end_jobs,
    remove_links,
    take_down,
    untagged_pairs,
    why_dead,
    with_liveness,
)

NEVER_TAGGED = "never tagged: the vethctl that made it was killed before it could tag it"


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
    live = {e.session for e in found if e.alive}
    dead = [r for r in records if r["session"] not in live and not _record_alive(r, ex)]
    stopped = [s for rec in dead for s in end_jobs(rec, ex.host)]
    removed, failed = [], []
    for entry in found:
        if entry.alive:
            continue
        try:
            removed.append(Collected(entry.session, take_down(ex, entry, requested), why_dead(entry)))
        except CommandFailed as exc:
            failed.append(NotRemoved(entry.session, (entry.host_if,), str(exc)))
    tagged, kept = {e.session for e in found}, set()
    if untagged := [r for r in dead if r["session"] not in tagged]:
        # under the lock no run or up is between creating a pair and tagging it: an untagged pair under a
        # dead session's recorded names is what a SIGKILL in that window left (an ssh-driven run's lock is on
        # the machine that drives it: its records follow the ssh rule of liveness instead)
        with AllocationLock() if not ex.host.remote else contextlib.nullcontext():
            current = {r["session"] for r in all_records(ex.host)}
            pairs, kept = untagged_pairs(ex, requested, [r for r in untagged if r["session"] in current])
            for rec, node in pairs:
                name = rec["host"]["name"]
                try:
                    remove_links(ex.on(node, session=rec["session"]), [name])
                    removed.append(Collected(rec["session"], (name,), NEVER_TAGGED))
                except CommandFailed as exc:
                    failed.append(NotRemoved(rec["session"], (name,), str(exc)))
    kept |= {f.session for f in failed}
    for rec in dead:
        if rec["session"] not in kept:
            forget(rec["session"], ex.host)
    return GcResult(
        tuple(removed), tuple(stopped), tuple(sorted(live)), tuple(failed), tuple(ex.journal.as_json())
    )


def _record_alive(rec: dict, ex: Executor) -> bool:
    """A session with no live tagged link that is alive all the same: a run whose vethctl still runs (before
    its pair exists, or after it is gone), a run driven over ssh still within its grace."""
    if rec["mode"] == "run":
        return vethctl_alive(rec.get("pid"), ex.host, rec)
    if rec["mode"] == "ssh":
        return alive("ssh", None, False, rec, ex)
    return False
