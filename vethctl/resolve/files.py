"""netns/, nspath/ and pid/ targets: the (node's) filesystem names the namespace. And every namespace of a
node, each once, for the scan that ip/ falls back to.

A namespace's identity is its (device, inode): the same namespace may have a name, a holder process, and
be our own; it is visited once.
"""

from __future__ import annotations

import os

from loguru import logger

from vethctl.errors import BadInput, MissingPrerequisite, TargetNotFound
from vethctl.execute.hosts.base import Host
from vethctl.model import Netns
from vethctl.resolve.target import TargetSpec

NETNS_DIR = "/var/run/netns"


def resolve_netns(spec: TargetSpec, host: Host) -> Netns:
    """netns/, nspath/ and pid/ need nothing but the (node's) filesystem."""
    if spec.kind == "netns":
        if "/" in spec.value or spec.value in (".", ".."):
            raise BadInput(
                f"netns name {spec.value!r} cannot contain '/'", hint="for a file, use nspath/PATH"
            )
        ns = Netns.named(spec.value)
        if not host.exists(ns.path):
            raise TargetNotFound(
                f"no network namespace named {spec.value!r} ({ns.path} does not exist)",
                hint="`ip netns list` shows the names",
            )
        return ns
    if spec.kind == "nspath":
        path = spec.value if spec.value.startswith("/") else "/" + spec.value
        _check_nsfile(path, host)
        name = _name_of(path)
        return Netns(name=name, path=path) if name else Netns(name=None, path=path)
    if spec.kind == "pid":
        if not spec.value.isdigit() or int(spec.value) <= 0:
            raise BadInput(f"pid {spec.value!r} is not a process id", hint="e.g. pid/4242")
        path = f"/proc/{int(spec.value)}/ns/net"
        if not host.exists(f"/proc/{int(spec.value)}"):
            raise TargetNotFound(
                f"no process with pid {spec.value}", hint="`ps` or `crictl inspect` give a live pid"
            )
        _check_nsfile(path, host)
        return Netns(name=None, path=path, pid=int(spec.value))
    raise BadInput(
        f"{spec.kind}/ targets are not supported yet", hint="use netns/NAME, nspath/PATH or pid/PID"
    )


def _check_nsfile(path: str, host: Host) -> None:
    try:
        there = host.netns_id(path) is not None
    except PermissionError:  # there, and not ours to look at: another user's process, and we are not root
        raise MissingPrerequisite(f"cannot read {path}: permission denied", hint="run as root") from None
    if not there:
        raise TargetNotFound(f"{path} does not exist", hint="give a netns file such as /proc/PID/ns/net")
    if not host.is_netns_file(path):
        raise BadInput(
            f"{path} is not a network namespace file", hint="e.g. /proc/PID/ns/net or /var/run/netns/NAME"
        )


def _name_of(path: str) -> str | None:
    """A file under /var/run/netns (or /run/netns) is a named namespace: use the name, as a person would."""
    for base in (NETNS_DIR, "/run/netns"):
        if os.path.dirname(path) == base:
            return os.path.basename(path)
    return None


def candidate_namespaces(host: Host, inodes: list[tuple[str, str]] | None = None) -> list[Netns]:
    """Every network namespace of the node that may be a pod's, once each: named ones (the first name of
    each), then unnamed ones held by a process (not our own, not one that also has a name). A namespace
    owned by another user namespace than ours is none of them: anyone can make one (`unshare -rn`) and
    put any address in it, and a pod's is made by root. `inodes`: host.netns_inodes(), if already read."""
    found, seen = [], set()
    for path, identity in inodes if inodes is not None else host.netns_inodes():
        if path == "/proc/self/ns/net":
            seen.add(identity)
        elif identity in seen:
            continue
        elif path.startswith(NETNS_DIR + "/"):
            seen.add(identity)
            found.append(Netns.named(path[len(NETNS_DIR) + 1 :]))
        elif (pid := path.split("/")[2]).isdigit():
            seen.add(identity)
            found.append(Netns(name=None, path=path, pid=int(pid)))
    found.sort(key=lambda ns: ns.name is None)  # named first (netns_inodes lists them before /proc)
    elsewhere = set(host.netns_owned_elsewhere([ns.path for ns in found])) if found else set()
    if elsewhere:
        logger.debug("skipped, owned by another user namespace: {}", ", ".join(sorted(elsewhere)))
    return [ns for ns in found if ns.path not in elsewhere]
