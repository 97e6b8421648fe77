"""Session records under /run/vethctl/sessions/, and whether a session is still alive.

The records are a convenience (the created time, the pod's netns path, the capture's pid); the truth is
the kernel's tags on the links, which survive a lost record and vanish with the links.
"""

from __future__ import annotations

import json
import os
import time

from vethctl.model import Attachment, Node

STATE_DIR = os.environ.get("VETHCTL_STATE_DIR", "/run/vethctl")


def sessions_dir() -> str:
    return os.path.join(STATE_DIR, "sessions")


def _record_path(session: str) -> str:
    return os.path.join(sessions_dir(), f"{session}.json")


def session_record(att: Attachment, spec, node: Node) -> dict:
    pod_ns = att.pod_end.netns
    return {
        "session": att.session, "mode": att.mode, "pid": att.owner_pid if att.mode == "run" else None,
        "created": time.time(), "target": str(spec),
        "node_netns": node.netns.name if node.netns else None,
        "pod_netns": pod_ns.name, "pod_netns_path": pod_ns.path,
        "host": {"name": att.host_end.name, "address": str(att.host_end.address)},
        "pod": {"name": att.pod_end.name, "address": str(att.pod_end.address)},
        "mtu": att.mtu, "tag": att.tag, "jobs": [],
    }  # fmt: skip


def _host(where: Node | None):
    from vethctl.execute import host_for

    return host_for(where or Node())


def write_record(rec: dict, where: Node | None = None) -> None:
    """On the node's machine (over ssh too): the records live where the links live."""
    _host(where).write_text(_record_path(rec["session"]), json.dumps(rec, indent=1))


def read_record(session: str, where: Node | None = None) -> dict | None:
    text = _host(where).read_text(_record_path(session))
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def all_records(where: Node | None = None) -> list[dict]:
    out = []
    for name in _host(where).listdir(sessions_dir()):
        if name.endswith(".json") and (rec := read_record(name[:-5], where)):
            out.append(rec)
    return out


def forget(session: str, where: Node | None = None) -> None:
    _host(where).remove(_record_path(session))


def vethctl_alive(pid: int | None, where: Node | None = None) -> bool:
    """Is `pid` still a running vethctl (not merely some process that got the same pid later)?
    (A run driven over ssh is alive while its ssh session, whose command line is no vethctl, lives: such
    records carry the driving host's pid, and a remote gc leaves them to the records' `driver`.)"""
    if not pid:
        return False
    cmdline = _host(where).cmdline(pid)
    return bool(cmdline) and any("vethctl" in part for part in cmdline)


def job_alive(job: dict, where: Node | None = None) -> bool:
    """A recorded background process (tcpdump) that is still the same process: same pid, and its command
    line is the recorded argv or its tail (`ip netns exec NS` and `nsenter` exec into the command)."""
    argv = _host(where).cmdline(job.get("pid", 0)) if job.get("pid") else None
    recorded = job.get("argv") or []
    return bool(argv) and len(argv) <= len(recorded) and recorded[len(recorded) - len(argv) :] == argv
