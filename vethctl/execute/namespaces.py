"""A network namespace's identity, computed here and nowhere else: the (device, inode) of the file that names
it, as the node's Host reads it.

The same namespace can have a name (/var/run/netns/NAME, or several), be held by processes
(/proc/PID/ns/net), and be the namespace vethctl itself runs in (`ip netns exec NODE vethctl ...`, or a host
whose root namespace was given a name with `ip netns attach`). Listed or compared by name, it is two
namespaces, and what is in it is found, deleted and reported twice; by identity it is one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from vethctl.execute.hosts.base import Host
from vethctl.model import Netns

OWN = "/proc/self/ns/net"  # the namespace of a process started there: the machine's own (None below)

T = TypeVar("T")


def path_of(netns: Netns | None) -> str:
    return netns.path if netns is not None else OWN


def identity(host: Host, netns: Netns | None) -> str | None:
    """ "DEV:INODE" of a namespace (None: the machine's own); None when it cannot be told (gone, not ours to
    look at)."""
    try:
        return host.netns_id(path_of(netns))
    except PermissionError:
        return None


def same(host: Host, a: Netns | None, b: Netns | None) -> bool:
    """The same namespace, whatever each is called (False when either cannot be told)."""
    if a == b:
        return True
    ia = identity(host, a)
    return ia is not None and ia == identity(host, b)


def distinct(host: Host, items: Iterable[T], netns_of: Callable[[T], Netns | None]) -> list[T]:
    """The items, the first of each namespace only (in order); one whose identity cannot be told is kept."""
    seen: set[str] = set()
    out = []
    for item in items:
        key = identity(host, netns_of(item))
        if key is not None and key in seen:
            continue
        if key is not None:
            seen.add(key)
        out.append(item)
    return out
