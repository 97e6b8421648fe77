"""`vethctl up` and `vethctl down`: an attachment that outlives the command, and its removal.

Every session has a record under /run/vethctl/sessions/ (gone on reboot, like the links), and both of
its links carry the kernel-side tag `vethctl:SESSION:up`, so they can be found without the record.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from vethctl import commands
from vethctl import plan as plans
from vethctl.errors import BadInput
from vethctl.execute import Executor
from vethctl.model import Netns, Node, parse_tag
from vethctl.scenarios.allocate import STATE_DIR, AllocationLock, EndsRequest, allocate, validate_request
from vethctl.scenarios.common import look, parse_via, require_root
from vethctl.scenarios.locate import KubeScope, locate


def sessions_dir() -> str:
    return os.path.join(STATE_DIR, "sessions")


def _record_path(session: str) -> str:
    return os.path.join(sessions_dir(), f"{session}.json")


def write_record(rec: dict) -> None:
    os.makedirs(sessions_dir(), exist_ok=True)
    tmp = _record_path(rec["session"]) + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(rec, fh, indent=1)
    os.replace(tmp, _record_path(rec["session"]))


def read_record(session: str) -> dict | None:
    try:
        with open(_record_path(session)) as fh:
            return json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def forget(session: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_record_path(session))


def up(target: str, ends: EndsRequest, *, via: str | None = None, sudo: bool = False,
       kube: KubeScope | None = None) -> dict:  # fmt: skip
    validate_request(ends)
    with AllocationLock():
        located, ex = locate(target, via=via, sudo=sudo, kube=kube)
        node, netns, spec = located.node, located.netns, located.spec
        att = allocate(ends, located.pod, look(ex, None, "the node"), mode="up")
        ex.session = att.session
        ex.execute(plans.build_up(att))
    rec = {
        "session": att.session, "mode": "up", "created": time.time(), "target": str(spec),
        "node_netns": node.netns.name if node.netns else None,
        "pod_netns": netns.name, "pod_netns_path": netns.path,
        "host": {"name": att.host_end.name, "address": str(att.host_end.address)},
        "pod": {"name": att.pod_end.name, "address": str(att.pod_end.address)},
        "mtu": att.mtu, "tag": att.tag,
    }  # fmt: skip
    write_record(rec)
    return rec | {"commands": [r.as_json() for r in ex.results]}


def down(sessions: list[str], *, via: str | None = None) -> dict:
    """Remove each session's pair (deleting the host end removes both). Idempotent: a session already gone
    is reported as such, not as an error. Only a link whose tag names the session is ever deleted."""
    if not sessions:
        raise BadInput("name at least one session", hint="`vethctl status` lists them")
    requested, explicit = parse_via(via, False)
    require_root(requested)
    removed, absent = [], []
    results = []
    for session in sessions:
        rec = read_record(session)
        node = requested
        if rec and rec.get("node_netns") and not explicit:
            node = Node(netns=Netns.named(rec["node_netns"]))
        ex = Executor(node, session=session)
        if node.netns and not os.path.exists(node.netns.path):
            absent.append(session)
            forget(session)
            continue
        links = json.loads(ex.read(commands.link_show_json(), None, purpose="find the session's links").stdout or "[]")
        mine = [link["ifname"] for link in links if (parse_tag(link.get("ifalias")) or {}).get("session") == session
                and link.get("link_kind", link.get("linkinfo", {}).get("info_kind")) in (None, "veth")]  # fmt: skip
        if not mine:
            absent.append(session)
        else:
            ex.execute(plans.build_down(mine))
            removed.append({"session": session, "links": mine})
        forget(session)
        results += [r.as_json() for r in ex.results]
    return {"removed": removed, "already_gone": absent, "commands": results}
