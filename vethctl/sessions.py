"""Session records under /run/vethctl/sessions/, and whether a session is still alive.

The records are a convenience (the created time, the pod's netns path, the capture's pid); the truth is
the kernel's tags on the links, which survive a lost record and vanish with the links.
"""

from __future__ import annotations

import contextlib
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


def write_record(rec: dict) -> None:
    os.makedirs(sessions_dir(), exist_ok=True)
    tmp = f"{_record_path(rec['session'])}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        json.dump(rec, fh, indent=1)
    os.replace(tmp, _record_path(rec["session"]))


def read_record(session: str) -> dict | None:
    try:
        with open(_record_path(session)) as fh:
            return json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def all_records() -> list[dict]:
    if not os.path.isdir(sessions_dir()):
        return []
    out = []
    for name in sorted(os.listdir(sessions_dir())):
        if name.endswith(".json") and (rec := read_record(name[:-5])):
            out.append(rec)
    return out


def forget(session: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_record_path(session))


def vethctl_alive(pid: int | None) -> bool:
    """Is `pid` still a running vethctl (not merely some process that got the same pid later)?"""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return False
    return b"vethctl" in cmdline


def job_alive(job: dict) -> bool:
    """A recorded background process (tcpdump) that is still the same process: same pid, and its command
    line is the recorded argv or its tail (`ip netns exec NS` and `nsenter` exec into the command)."""
    try:
        with open(f"/proc/{job['pid']}/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0")[:-1]]
    except (OSError, KeyError):
        return False
    recorded = job.get("argv") or []
    return bool(argv) and len(argv) <= len(recorded) and recorded[len(recorded) - len(argv) :] == argv
