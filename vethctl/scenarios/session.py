"""`vethctl up`, `down`, `status` and `gc`: attachments that outlive the command, and their removal.

Every session has a record under /run/vethctl/sessions/ (gone on reboot, like the links), and both of
its links carry the kernel-side tag `vethctl:SESSION:MODE[:PID]`, so `status` and `gc` find them even
without the records, and never touch an untagged link.

Liveness (what `gc` removes):
  run  the vethctl process that made it (the pid in the tag) is gone
  up   the pod's network namespace is gone: the host end has lost its peer, or the recorded netns
       file no longer exists
"""

from __future__ import annotations

import json
import signal
import time

from vethctl.commands import ip
from vethctl.errors import BadInput
from vethctl.execute import Executor
from vethctl.model import Netns, Node, parse_tag
from vethctl.plan.session import build_down, build_up
from vethctl.scenarios.allocate import AllocationLock, EndsRequest, allocate, validate_request
from vethctl.scenarios.common import look, parse_via, require_root, require_tools
from vethctl.scenarios.locate import KubeScope, locate
from vethctl.sessions import all_records, forget, job_alive, session_record, vethctl_alive, write_record


def up(target: str, ends: EndsRequest, *, via: str | None = None, sudo: bool = False,
       kube: KubeScope | None = None) -> dict:  # fmt: skip
    validate_request(ends)
    require_tools("ip", node=parse_via(via, sudo)[0])
    with AllocationLock():
        located, ex = locate(target, via=via, sudo=sudo, kube=kube)
        node, spec = located.node, located.spec
        att = allocate(ends, located.pod, look(ex, None, "the node"), mode="up")
        ex.session = att.session
        rec = session_record(att, spec, node)
        write_record(rec, node)
        try:
            ex.execute(build_up(att))
        except BaseException:
            forget(att.session, node)
            raise
    return rec | {"commands": [r.as_json() for r in ex.results]}


def _machine(via: str | None) -> tuple[Node, bool]:
    requested, explicit = parse_via(via, False)
    require_root(requested)
    return requested, explicit


def _nodes(via: str | None, records: list[dict]) -> list[Node]:
    """Where tagged links can be: the machine's own namespace, every lab node, every node a record names."""
    requested, explicit = parse_via(via, False)
    if explicit:
        return [requested]
    from vethctl.execute import host_for
    from vethctl.scenarios import lab

    host = host_for(requested)
    names = {r["node_netns"] for r in records if r.get("node_netns")}
    names |= {r["node_netns"] for r in lab.status(requested) if r.get("up")}
    present = set(host.listdir("/var/run/netns"))
    return [requested] + [
        Node(netns=Netns.named(n), host=requested.host) for n in sorted(names) if n in present
    ]


def tagged(via: str | None = None, records: list[dict] | None = None) -> tuple[list[dict], list[Executor]]:
    """Every vethctl-tagged host end, from the kernel, with what the session records (read here unless the
    caller has them) add."""
    if records is None:
        records = all_records(parse_via(via, False)[0])
    by_session = {r["session"]: r for r in records}
    found, executors = [], []
    for node in _nodes(via, records):
        ex = Executor(node)
        executors.append(ex)
        links = json.loads(ex.read(ip.link_show_json(), None, purpose="tagged links").stdout or "[]")
        ids = None
        for link in links:
            tag = parse_tag(link.get("ifalias"))
            if not tag or (link.get("linkinfo") or {}).get("info_kind") != "veth":
                continue
            if ids is None:
                ids = {i["id"]: i.get("name") for i in
                       json.loads(ex.read(ip.netns_list_json(), None, purpose="netns names").stdout or "[]")
                       if "id" in i}  # fmt: skip
            rec = by_session.get(tag["session"], {})
            peer_ns = ids.get(link.get("link_netnsid")) if link.get("link_netnsid") is not None else None
            found.append({
                "session": tag["session"], "mode": tag["mode"], "pid": tag["pid"], "node": node.label,
                "node_netns": node.netns.name if node.netns else None, "host": node.host, "host_if": link["ifname"],
                "pod_netns": peer_ns or rec.get("pod_netns") or rec.get("pod_netns_path"),
                "has_peer": link.get("link_netnsid") is not None and "NO-CARRIER" not in link.get("flags", []),
                "host_addr": (rec.get("host") or {}).get("address"), "pod_if": (rec.get("pod") or {}).get("name"),
                "pod_addr": (rec.get("pod") or {}).get("address"), "created": rec.get("created"),
                "target": rec.get("target"), "jobs": rec.get("jobs", []), "recorded": bool(rec),
            })  # fmt: skip
    return found, executors


def entry_node(entry: dict) -> Node:
    """The node (and its namespace) that holds a tagged host end that tagged() found."""
    return Node(netns=Netns.named(entry["node_netns"]) if entry["node_netns"] else None, host=entry["host"])


def _with_liveness(via: str | None) -> tuple[Node, list[dict], list[dict], list[Executor]]:
    """For status and gc: the machine, its session records (read once), and the tagged links, each with
    `alive`."""
    where, _ = _machine(via)
    records = all_records(where)
    found, executors = tagged(via, records)
    by_session = {r["session"]: r for r in records}
    for entry in found:
        entry["alive"] = _alive(entry, by_session.get(entry["session"]), where)
    return where, records, found, executors


def _take_down(entry: dict, executors: list[Executor]) -> list[str]:
    """Delete a tagged host end (its peer goes with it); the links removed."""
    ex = Executor(entry_node(entry), session=entry["session"])
    executors.append(ex)
    ex.execute(build_down([entry["host_if"]]))
    return [entry["host_if"]]


REMOTE_RUN_GRACE_S = 60  # a run driven over ssh counts as alive this long before its capture starts


def _alive(entry: dict, rec: dict | None, where: Node) -> bool:
    if entry["mode"] == "run":
        return vethctl_alive(entry["pid"], where)
    if entry["mode"] == "ssh":  # driven from elsewhere: alive while its capture on this node runs
        jobs = (rec or {}).get("jobs", [])
        young = rec is not None and time.time() - rec.get("created", 0) < REMOTE_RUN_GRACE_S
        return any(job_alive(j, where) for j in jobs) or (young and not jobs)
    if not entry["has_peer"]:
        return False
    from vethctl.execute import host_for

    path = (rec or {}).get("pod_netns_path")
    return path is None or host_for(where).exists(path)


def status(via: str | None = None) -> dict:
    _, records, found, executors = _with_liveness(via)
    sessions = {e["session"] for e in found}
    orphans = [r["session"] for r in records if r["session"] not in sessions]
    return {"sessions": found, "records_without_links": orphans,
            "commands": [r.as_json() for ex in executors for r in ex.results]}  # fmt: skip


def gc(via: str | None = None) -> dict:
    """Remove what dead sessions left: their links (never an untagged one), their captures, their records."""
    from vethctl.execute import host_for

    where, records, found, executors = _with_liveness(via)
    removed, stopped = [], []
    live = {e["session"] for e in found if e["alive"]}
    # first the captures (before their interface goes, so that none is missed), then the links
    for rec in records:
        if rec["session"] in live or (rec["mode"] == "run" and vethctl_alive(rec.get("pid"), where)):
            continue
        if rec["mode"] == "ssh" and _alive({"mode": "ssh"}, rec, where):
            continue
        for job in rec.get("jobs", []):
            if job_alive(job, where):
                host_for(where).kill(job["pid"], signal.SIGTERM)
                stopped.append({"session": rec["session"], "pid": job["pid"], "argv": job["argv"]})
        forget(rec["session"], where)
    for entry in found:
        if entry["alive"]:
            continue
        removed.append(
            {"session": entry["session"], "links": _take_down(entry, executors), "why": _why_dead(entry)}
        )
    return {"removed": removed, "stopped": stopped, "kept_alive": sorted(live),
            "commands": [r.as_json() for ex in executors for r in ex.results]}  # fmt: skip


def _why_dead(entry: dict) -> str:
    if entry["mode"] == "run":
        return f"the vethctl run (pid {entry['pid']}) that made it is gone"
    return "the pod's network namespace is gone"


def down(sessions: list[str], *, all_sessions: bool = False, via: str | None = None) -> dict:
    """Remove each session's pair (deleting the host end removes both). Idempotent: a session already gone
    is reported as such, not as an error. Only a link whose tag names the session is ever deleted."""
    if all_sessions and sessions:
        raise BadInput("give sessions or --all, not both", hint="vethctl down --all")
    if not sessions and not all_sessions:
        raise BadInput("name at least one session, or --all", hint="`vethctl status` lists them")
    where, _ = _machine(via)
    records = all_records(where)
    found, executors = tagged(via, records)
    if all_sessions:
        sessions = sorted({e["session"] for e in found if e["mode"] == "up"} |
                          {r["session"] for r in records if r["mode"] == "up"})  # fmt: skip
    removed, absent = [], []
    for session in sessions:
        mine = [e for e in found if e["session"] == session]
        if not mine:
            absent.append(session)
        for entry in mine:
            removed.append({"session": session, "links": _take_down(entry, executors)})
        forget(session, where)
    return {"removed": removed, "already_gone": absent,
            "commands": [r.as_json() for ex in executors for r in ex.results]}  # fmt: skip
