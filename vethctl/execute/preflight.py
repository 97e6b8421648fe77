"""The checks before anything changes: the tools a plan drives are there, the privileges are there, the
capture filter compiles, the output files can be written. Each failure is one line and its exit code."""

from __future__ import annotations

import os

from vethctl.commands import tcpdump
from vethctl.errors import BadInput, MissingPrerequisite
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.base import Host
from vethctl.model import check_filter_text
from vethctl.secure import check_output_path

CAP_NET_ADMIN, CAP_SYS_ADMIN = 12, 21
DEFAULT_FILTER = "arp or icmp"  # IPv4 ends: ARP, and ICMP
DEFAULT_FILTER6 = "icmp6"  # IPv6 ends: ICMPv6 carries Neighbor Discovery as well as the echoes and errors


def default_filter(family: int) -> str:
    return DEFAULT_FILTER6 if family == 6 else DEFAULT_FILTER


def require_tools(host: Host, *tools: str) -> None:
    """Every tool the plan drives is on PATH there (exit 4 naming it and its package otherwise)."""
    for tool in tools:
        if not host.which(tool):
            raise host.missing(tool)


def require_root(host: Host, sudo: bool = False) -> None:
    """CAP_NET_ADMIN to make links, CAP_SYS_ADMIN to enter namespaces: root has both, a container may not."""
    if sudo and not host.remote and os.geteuid() != 0:
        return
    euid, caps = host.caps()
    missing = [
        name
        for bit, name in ((CAP_NET_ADMIN, "CAP_NET_ADMIN"), (CAP_SYS_ADMIN, "CAP_SYS_ADMIN"))
        if not caps & (1 << bit)
    ]
    if missing:
        who = "root" if euid == 0 else f"user {euid}"
        where = f" on {host.label}" if host.remote else ""
        raise MissingPrerequisite(
            f"vethctl needs root with {' and '.join(missing)}{where} ({who} lacks it)",
            hint="connect as root (ssh://root@HOST)"
            if host.remote
            else "run it with sudo, or pass --sudo to prefix each command with sudo",
        )


def check_filter(ex: Executor, filter_expr: str, always: bool = False) -> None:
    """Compile the filter with `tcpdump -d`: a bad one is exit 2 before anything is created. The default
    filter compiles: unless `always`, it saves a process."""
    check_filter_text(filter_expr)
    if not filter_expr or (filter_expr in (DEFAULT_FILTER, DEFAULT_FILTER6) and not always):
        return
    res = ex.read(
        tcpdump.check_filter(filter_expr), None, purpose="compile the capture filter", ok_codes={0, 1}
    )
    if res.rc != 0:
        msg = next((line for line in res.stderr.splitlines() if "tcpdump:" in line), res.stderr.strip())
        raise BadInput(
            f"--filter {filter_expr!r} does not compile: {msg.replace('tcpdump: ', '')}",
            hint="see `man pcap-filter`, e.g. 'arp or icmp'",
        )


def check_writable(option: str, path: str) -> None:
    """An output file of this machine (--pcap, --transcript): its directory exists and is writable, and the
    name is free or a file of ours (secure.check_output_path: never a link, never someone else's)."""
    check_output_path(option, path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        if os.path.lexists(directory):
            raise BadInput(
                f"{option} {path}: {directory} is not a directory", hint="give a file in a directory"
            )
        raise BadInput(f"{option} {path}: the directory {directory} does not exist", hint="create it first")
    if os.path.isdir(path):
        raise BadInput(f"{option} {path} is a directory", hint="give a file name")
    if not os.access(directory, os.W_OK):
        raise BadInput(f"{option} {path}: cannot write in {directory}", hint="choose a writable directory")
