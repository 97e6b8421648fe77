"""Session records under STATE/sessions/, and whether a session is still alive.

The records are a convenience (the created time, the pod's netns path, the capture's pid); the truth is the
kernel's tags on the links, which survive a lost record and vanish with the links.

A process is "still the one recorded" only when its start time (field 22 of /proc/PID/stat, in clock ticks
since boot) and its whole command line are the recorded ones: a pid alone is reused, and anyone can start a
process whose command line ends like a capture's or says "vethctl".
"""

from __future__ import annotations

import os
import time

from vethctl.execute.hosts.base import Host
from vethctl.model import Attachment, Node
from vethctl.parsers import procfs
from vethctl.state import records, state_dir
from vethctl.state.records import SESSION_ID, check_session_id


def sessions_dir() -> str:
    return os.path.join(state_dir(), "sessions")


def _path(session: str) -> str:
    return os.path.join(sessions_dir(), f"{check_session_id(session)}.json")


def own_identity() -> dict:
    """This vethctl process as a record names it: start time and command line, read from /proc/self."""
    try:
        with open("/proc/self/stat") as fh:
            start = procfs.start_time(fh.read())
        with open("/proc/self/cmdline", "rb") as fh:
            argv = [a.decode(errors="replace") for a in fh.read().split(b"\0")[:-1]]
    except OSError:
        return {"start": None, "argv": None}
    return {"start": start, "argv": argv}


def job_entry(pid: int, argv: tuple[str, ...], tool_argv: tuple[str, ...], host: Host) -> dict:
    """A background process (a capture) as its session's record keeps it, for gc: its pid, its start time,
    the argv it was started with and the tool's own argv (what `ip netns exec`/`nsenter` exec into)."""
    return {"pid": pid, "start": host.start_time(pid), "argv": list(argv), "tool_argv": list(tool_argv)}


def same_process(pid: int | None, start: int | None, argvs: list[list[str]], host: Host) -> bool:
    """Is `pid` still the process that was recorded: the same start time and exactly one of `argvs`?"""
    if not pid or start is None:
        return False
    if host.start_time(pid) != start:
        return False
    cmdline = host.cmdline(pid)
    return cmdline is not None and any(_same_argv(cmdline, list(a)) for a in argvs if a)


def _same_argv(running: list[str], recorded: list[str]) -> bool:
    """The same command line; the program may run by its full path (/usr/bin/tcpdump) where the argv named
    it (tcpdump): a process spawned directly, not through `ip netns exec`, which keeps the name."""
    return (
        len(running) == len(recorded)
        and running[1:] == recorded[1:]
        and os.path.basename(running[0]) == os.path.basename(recorded[0])
    )


def session_record(att: Attachment, spec, node: Node) -> dict:
    pod_ns = att.pod_end.netns
    return {
        "session": att.session,
        "mode": att.mode,
        "pid": att.owner_pid if att.mode == "run" else None,
        "owner": own_identity() if att.mode == "run" else None,
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
    """Every session record of the machine that is root's own and names itself (session == file name)."""
    return [
        rec
        for name in records.names(host, sessions_dir(), SESSION_ID)
        if (rec := read_record(name, host)) and rec.get("session") == name
    ]


def forget(session: str, host: Host) -> None:
    records.remove(host, _path(session))


def vethctl_alive(pid: int | None, host: Host, rec: dict | None = None) -> bool:
    """Is `pid` still the vethctl run that made a session (not some process that got the same pid later, nor
    one that merely says "vethctl")? With its record: the recorded start time and command line. Without one
    (lost), only a process whose program is vethctl itself, by its first two arguments, counts.
    (A run driven over ssh is alive while its ssh session, whose command line is no vethctl, lives: such
    records carry the driving host's pid, and a remote gc leaves them to the records' `driver`.)"""
    if not pid:
        return False
    owner = (rec or {}).get("owner")
    if isinstance(owner, dict):
        return same_process(pid, owner.get("start"), [owner.get("argv") or []], host)
    cmdline = host.cmdline(pid) or []
    programs = [os.path.basename(a) for a in cmdline[:2]]
    return any(p in ("vethctl", "kubectl-veth") for p in programs)


def job_alive(job: dict, host: Host) -> bool:
    """A recorded background process (tcpdump) that is still the same process: the recorded start time,
    and exactly the recorded argv, or the tool's own argv (`ip netns exec NS` and `nsenter` exec into it).
    A record without a start time proves nothing: not alive."""
    pid = job.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool):
        return False
    return same_process(pid, job.get("start"), [job.get("tool_argv") or [], job.get("argv") or []], host)
