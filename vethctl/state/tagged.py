"""What the kernel says about sessions: every vethctl-tagged host end on a machine's nodes (its own
namespace, every lab node, every node a record names), whether its session is alive, and taking one down.

Liveness (what `gc` removes):
  run  the vethctl process that made it (the pid in the tag) is gone
  ssh  a run driven from another machine: alive while its capture on this node runs (or, just started,
       before its capture does); without its record (kept in another state directory), not known to be dead
  up   the pod's network namespace is gone: the host end has lost its peer, or the recorded netns
       file no longer exists
"""

from __future__ import annotations

import signal
import time

from vethctl.commands import ip
from vethctl.errors import CommandFailed
from vethctl.execute import batches, namespaces
from vethctl.execute.executor import Executor, already_gone
from vethctl.execute.facts import lookup_json, read_json
from vethctl.execute.hosts.base import Host
from vethctl.model import Netns, Node, parse_tag
from vethctl.parsers.ipjson import netns_names
from vethctl.plan.batch import ip_batch
from vethctl.plan.session import build_down
from vethctl.results.sessions import Stopped, TaggedLink
from vethctl.state.labs import all_labs
from vethctl.state.sessions import all_records, job_alive, vethctl_alive

REMOTE_RUN_GRACE_S = 60  # a run driven over ssh counts as alive this long before its capture starts


def nodes_to_look(ex: Executor, requested: Node, explicit: bool, records: list[dict]) -> list[Node]:
    """Where tagged links can be: the machine's own namespace, every lab node, every node a record names;
    each namespace once (a lab node vethctl runs inside is the machine's own namespace, under a name)."""
    if explicit:
        return [requested]
    names = {r["node_netns"] for r in records if r.get("node_netns")}
    names |= {r["node_netns"] for r in all_labs(ex.host) if r.get("up")}
    present = set(ex.host.listdir("/var/run/netns"))
    candidates = [requested] + [
        Node(netns=Netns.named(n), machine=requested.machine) for n in sorted(names) if n in present
    ]
    return namespaces.distinct(ex.host, candidates, lambda node: node.netns)


def half_made(stderr: str) -> bool:
    """`ip -n NAME` on a namespace file not bound yet (another `lab up` making it): iproute2's setns fails
    with EINVAL ('setting the network namespace "NAME" failed: Invalid argument')."""
    return "setting the network namespace" in stderr and "Invalid argument" in stderr


def tagged(ex: Executor, requested: Node, explicit: bool, records: list[dict]) -> list[TaggedLink]:
    """Every vethctl-tagged host end, from the kernel, with what the session records add."""
    by_session = {r["session"]: r for r in records}
    found = []
    for node in nodes_to_look(ex, requested, explicit, records):
        on_node = ex.on(node)
        try:
            links = read_json(on_node, ip.link_show_json(), None, purpose="tagged links")
            ids = None
            for link in links:
                if parse_tag(link.get("ifalias")) and (link.get("linkinfo") or {}).get("info_kind") == "veth":
                    ids = netns_names(read_json(on_node, ip.netns_list_json(), None, purpose="netns names"))
                    break
        except CommandFailed as exc:
            # a lab node (or a recorded one) taken down between listing it and reading it, or still being
            # made (its file there, not yet bound: setns says EINVAL): nothing of ours can be in it; the
            # node asked for, or one that is there whole, is a real failure
            if node is requested or (
                node.netns is not None and ex.host.exists(node.netns.path) and not half_made(exc.stderr)
            ):
                raise
            continue
        for link in links:
            tag = parse_tag(link.get("ifalias"))
            if not tag or (link.get("linkinfo") or {}).get("info_kind") != "veth":
                continue
            rec = by_session.get(tag["session"], {})
            peer_ns = ids.get(link.get("link_netnsid")) if link.get("link_netnsid") is not None else None
            found.append(
                TaggedLink(
                    session=tag["session"],
                    mode=tag["mode"],
                    pid=tag["pid"],
                    node=node.label,
                    node_netns=node.netns.name if node.netns else None,
                    host=node.host,
                    host_if=link["ifname"],
                    pod_netns=peer_ns or rec.get("pod_netns") or rec.get("pod_netns_path"),
                    has_peer=link.get("link_netnsid") is not None
                    and "NO-CARRIER" not in link.get("flags", []),
                    host_addr=(rec.get("host") or {}).get("address"),
                    pod_if=(rec.get("pod") or {}).get("name"),
                    pod_addr=(rec.get("pod") or {}).get("address"),
                    created=rec.get("created"),
                    target=rec.get("target"),
                    jobs=tuple(rec.get("jobs", [])),
                    recorded=bool(rec),
                )
            )
    return found


def entry_node(entry: TaggedLink, requested: Node) -> Node:
    """The node (and its namespace) that holds a tagged host end that tagged() found."""
    return Node(netns=Netns.named(entry.node_netns) if entry.node_netns else None, machine=requested.machine)


def alive(mode: str, pid: int | None, has_peer: bool, rec: dict | None, ex: Executor) -> bool:
    if mode == "run":
        return vethctl_alive(pid, ex.host, rec)
    if mode == "ssh":  # driven from elsewhere: alive while its capture on this node runs
        if rec is None:  # its record is not in this state directory (another user's, another run's): its
            return True  # capture is unknown here, so it is not known to be dead; `down SESSION` removes it
        jobs = (rec or {}).get("jobs", [])
        young = rec is not None and time.time() - rec.get("created", 0) < REMOTE_RUN_GRACE_S
        return any(job_alive(j, ex.host) for j in jobs) or (young and not jobs)
    if not has_peer:
        return False
    path = (rec or {}).get("pod_netns_path")
    return path is None or ex.host.exists(path)


def why_dead(entry: TaggedLink) -> str:
    if entry.mode == "run":
        return f"the vethctl run (pid {entry.pid}) that made it is gone"
    return "the pod's network namespace is gone"


def take_down(ex: Executor, entry: TaggedLink, requested: Node) -> tuple[str, ...]:
    """Delete a tagged host end (its peer goes with it); the links removed. Raises CommandFailed when it
    could not be removed, for the caller to report while it goes on with the others."""
    return remove_links(ex.on(entry_node(entry, requested), session=entry.session), [entry.host_if])


def remove_links(ex: Executor, host_names: list[str]) -> tuple[str, ...]:
    """Delete host ends on ex's node. One already gone counts as removed: the kernel took it with its peer or
    its namespace, or another `down` got there first. Each in a session of its own (a Ctrl-C cannot cut it)."""
    for step in build_down(host_names).steps:
        try:
            ex.run(step, isolate=True)
        except CommandFailed as exc:
            if not already_gone(exc.stderr):
                raise
    return tuple(host_names)


def end_jobs(rec: dict, host: Host) -> list[Stopped]:
    """The captures and probes a session's record names that still run (the same processes: pid and command
    line): ended first, before their interface goes, so that none is left behind or misses the teardown."""
    stopped = []
    for job in rec.get("jobs", []):
        if job_alive(job, host):
            try:
                host.kill(job["pid"], signal.SIGTERM)
            except ProcessLookupError:
                continue
            stopped.append(Stopped(rec["session"], job["pid"], tuple(job["argv"])))
    return stopped


def untagged_pairs(
    ex: Executor, requested: Node, records: list[dict]
) -> tuple[list[tuple[dict, Node]], set[str]]:
    """For the records of dead sessions that had no tagged link: the pairs the kernel still holds under
    exactly the recorded names, untagged (a vethctl killed between `ip link add` and its tag). A pair is
    one only when both names match: the host end, on the recorded node, and its peer, in the recorded pod
    namespace. Call it under the allocation lock: no run or up is then between creating and tagging.
    Also: the sessions whose recorded host end now carries their own tag (an `up` that was still making
    its pair when the records were read): alive, not to be forgotten."""
    found, tagged_now = [], set()
    by_node: dict[str | None, list[dict]] = {}
    for rec in records:
        if (rec.get("host") or {}).get("name") and (rec.get("pod") or {}).get("name"):
            by_node.setdefault(rec.get("node_netns"), []).append(rec)
    for node_name, recs in by_node.items():
        node = Node(netns=Netns.named(node_name), machine=requested.machine) if node_name else requested
        on_node = ex.on(node)
        links = {link.get("ifname"): link for link in lookup_json(on_node, ip.link_show_json())[0]}
        for rec in recs:
            link = links.get(rec["host"]["name"])
            if link and (parse_tag(link.get("ifalias")) or {}).get("session") == rec["session"]:
                tagged_now.add(rec["session"])
            if not link or link.get("ifalias") or (link.get("linkinfo") or {}).get("info_kind") != "veth":
                continue  # gone, or tagged (by us or anyone): not an untagged pair of this record
            pod_ns = Netns(name=rec.get("pod_netns"), path=rec.get("pod_netns_path") or "")
            if not pod_ns.name and not pod_ns.path:
                continue
            peer = lookup_json(on_node, ip.link_show_json(rec["pod"]["name"]), pod_ns)[0]
            if (
                peer
                and peer[0].get("ifindex") == link.get("link_index")
                and peer[0].get("link_index") == link.get("ifindex")
                and not peer[0].get("ifalias")
            ):
                found.append((rec, node))
    return found, tagged_now


def take_down_all(
    ex: Executor, entries: list[TaggedLink], requested: Node
) -> dict[str, CommandFailed | None]:
    """Delete many tagged host ends: on each node, one `ip -force -batch -` of `link del` lines (each line
    judged on its own; a link already gone counts as removed). {host end: None, or why it is still there}."""
    by_node: dict[Node, list[TaggedLink]] = {}
    for entry in entries:
        by_node.setdefault(entry_node(entry, requested), []).append(entry)
    out: dict[str, CommandFailed | None] = {}
    for node, mine in by_node.items():
        on_node = ex.on(node, session=mine[0].session if len(mine) == 1 else None)
        for step in ip_batch(
            build_down([e.host_if for e in mine]).steps, purpose="remove the pairs", force=True
        ):
            result = on_node.run(step, isolate=True, check=False)
            lines = step.batch or (step,)
            out |= {line.argv[-1]: None for line in lines}
            if result.rc in step.ok_codes:
                continue
            for line, exc in batches.line_failures(result, on_node.argv_of, "node"):
                out[line.argv[-1]] = None if already_gone(exc.stderr) else exc
    return out


def with_liveness(ex: Executor, requested: Node, explicit: bool) -> tuple[list[dict], list[TaggedLink]]:
    """For status and gc: the machine's session records (read once) and the tagged links, each with
    `alive`."""
    records = all_records(ex.host)
    by_session = {r["session"]: r for r in records}
    found = [
        e.but(alive=alive(e.mode, e.pid, e.has_peer, by_session.get(e.session), ex))
        for e in tagged(ex, requested, explicit, records)
    ]
    return records, found
