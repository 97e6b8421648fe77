"""Session records under STATE/sessions/, and whether a session is still alive.

The records are a convenience (the created time, the pod's netns path, the capture's pid); the truth is the
kernel's tags on the links, which survive a lost record and vanish with the links.
"""

from __future__ import annotations

import os
import time

from vethctl.execute.hosts.base import Host
from vethctl.model import Attachment, Node
from vethctl.state import records, state_dir


def sessions_dir() -> str:
    return os.path.join(state_dir(), "sessions")


def _path(session: str) -> str:
    return os.path.join(sessions_dir(), f"{session}.json")


def session_record(att: Attachment, spec, node: Node) -> dict:
    pod_ns = att.pod_end.netns
    return {
        "session": att.session,
        "mode": att.mode,
        "pid": att.owner_pid if att.mode == "run" else None,
        "created": time.time(),
        "target": str(spec),
        "node_netns": node.netns.name if node.netns else None,
        "pod_netns": pod_ns.name,
        "pod_netns_path": pod_ns.path,
        "host": {"name": att.host_end.name, "address": str(att.host_end.address)},
        "pod": {"name": att.pod_end.name, "address": str(att.pod_end.address)},
        "mtu": att.mtu,
        "tag": att.tag,
        "jobs": [],
    }


def write_record(rec: dict, host: Host) -> None:
    """On the node's machine (over ssh too): the records live where the links live."""
    records.write(host, _path(rec["session"]), rec)


def read_record(session: str, host: Host) -> dict | None:
    return records.read(host, _path(session))


def all_records(host: Host) -> list[dict]:
    return [rec for name in records.names(host, sessions_dir()) if (rec := read_record(name, host))]


def forget(session: str, host: Host) -> None:
    records.remove(host, _path(session))


def vethctl_alive(pid: int | None, host: Host) -> bool:
    """Is `pid` still a running vethctl (not merely some process that got the same pid later)?
    (A run driven over ssh is alive while its ssh session, whose command line is no vethctl, lives: such
    records carry the driving host's pid, and a remote gc leaves them to the records' `driver`.)"""
    if not pid:
        return False
    cmdline = host.cmdline(pid)
    return bool(cmdline) and any("vethctl" in part for part in cmdline)


def job_alive(job: dict, host: Host) -> bool:
    """A recorded background process (tcpdump) that is still the same process: same pid, and its command
    line is the recorded argv or its tail (`ip netns exec NS` and `nsenter` exec into the command)."""
    argv = host.cmdline(job.get("pid", 0)) if job.get("pid") else None
    recorded = job.get("argv") or []
    return bool(argv) and len(argv) <= len(recorded) and recorded[len(recorded) - len(argv) :] == argv
