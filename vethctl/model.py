"""The nouns: network namespaces, veth ends, attachments; and the checks that keep bad values out.

Everything here is a frozen value and pure: no command is run from this module.
Addresses are `ipaddress` interfaces so that an IPv6 end is an addition, not a rewrite.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from vethctl.errors import BadInput

IFNAME_MAX = 15  # IFNAMSIZ - 1
TAG_PREFIX = "vethctl:"

# Free /24s are taken from these, in this order: the documentation ranges, then the benchmark range.
DOC_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
)
POD_END_OFFSET = 100  # as in the original walkthrough: pod end .100, host end .200, ping .101
HOST_END_OFFSET = 200
PING_OFFSET = 101
# IPv6 ends: a free /64 of the documentation prefix, the same three ends written as IPv6 reads them
# (::100, ::200, ::101 are hexadecimal offsets).
DOC_RANGE6 = ipaddress.ip_network("2001:db8::/32")
END_PREFIX6 = 64
OFFSETS = {4: (POD_END_OFFSET, HOST_END_OFFSET, PING_OFFSET), 6: (0x100, 0x200, 0x101)}

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Netns:
    """A network namespace: by name (/var/run/netns/NAME) or only by a path (/proc/PID/ns/net)."""

    name: str | None
    path: str
    pid: int | None = None

    @classmethod
    def named(cls, name: str) -> Netns:
        return cls(name=name, path=f"/var/run/netns/{name}")

    @property
    def ref(self) -> str:
        """What `ip link set ... netns REF` accepts: the name, or the file."""
        return self.name or self.path

    def __str__(self) -> str:
        return self.name or self.path


@dataclass(frozen=True)
class VethEnd:
    """One end of the pair: its name, address and namespace."""

    name: str
    address: IPInterface
    netns: Netns | None  # None: the node's own namespace


@dataclass(frozen=True)
class Attachment:
    """One veth pair between the node and a pod: what `run` and `up` create, tagged with the session."""

    session: str
    host_end: VethEnd
    pod_end: VethEnd
    mtu: int | None
    mode: str = "run"  # "run": lives as long as the process; "up": as long as the pod's netns; "ssh": a run
    #                    driven from another machine, alive while its capture runs
    owner_pid: int = field(default_factory=os.getpid)

    @property
    def subnet(self) -> IPNetwork:
        return self.pod_end.address.network

    @property
    def tag(self) -> str:
        return session_tag(self.session, self.mode, self.owner_pid if self.mode == "run" else None)


def session_tag(session: str, mode: str, pid: int | None) -> str:
    """The kernel-side alias both ends carry: `vethctl:SESSION:run:PID` or `vethctl:SESSION:up`."""
    return f"{TAG_PREFIX}{session}:{mode}" + (f":{pid}" if pid is not None else "")


def parse_tag(alias: str | None) -> dict | None:
    if not alias or not alias.startswith(TAG_PREFIX):
        return None
    parts = alias[len(TAG_PREFIX) :].split(":")
    if len(parts) < 2 or not re.fullmatch(r"[0-9a-f]{8}", parts[0]):
        return None
    pid = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else None
    return {"session": parts[0], "mode": parts[1], "pid": pid}


def new_session_id() -> str:
    import secrets  # commands that attach nothing do not import it (random, hashlib, hmac)

    return secrets.token_hex(4)


def default_names(session: str) -> tuple[str, str]:
    """Host end `vh-SESSION`, pod end `vp-SESSION`: 11 characters, and the prefix says who made them."""
    return f"vh-{session}", f"vp-{session}"


_FORBIDDEN_IFNAME = re.compile(r"[/:\s]")


def validate_ifname(name: str, option: str) -> str:
    """The kernel's own rule (dev_valid_name), plus no leading '-' that a command would read as an option."""
    if not name:
        raise BadInput(f"{option}: an interface name cannot be empty", hint="give 1 to 15 characters")
    if len(name) > IFNAME_MAX:
        raise BadInput(
            f"{option} {name!r} is {len(name)} characters long; Linux allows {IFNAME_MAX}",
            hint="choose a shorter name",
        )
    if name in (".", "..") or _FORBIDDEN_IFNAME.search(name):
        raise BadInput(
            f"{option} {name!r} is not a valid interface name (no '/', ':' or spaces, not '.' or '..')",
            hint="use letters, digits, '-', '_' or '.'",
        )
    if name.startswith("-"):
        raise BadInput(
            f"{option} {name!r} starts with '-', which commands read as an option", hint="rename it"
        )
    return name


_DIGITS = re.compile(r"[0-9]+")


def port_number(text: str) -> int | None:
    """A TCP/UDP port written in ASCII digits, 1 to 65535; None for anything else (str.isdigit takes '²',
    which int() refuses: that was a traceback in --service and in a probe's SPEC)."""
    return int(text) if _DIGITS.fullmatch(text) and 1 <= int(text) <= 65535 else None


_SCOPE_ID = re.compile(r"[A-Za-z0-9_.-]+")


def check_scope_id(text: str, option: str) -> None:
    """An IPv6 scope id (`fe80::1%eth0`) is an interface name or a number: `ipaddress` accepts anything
    after the '%' (newlines, '$', spaces), which would reach a transcript and the commands."""
    if "%" not in text:
        return
    scope = text.partition("/")[0].partition("%")[2]
    if not _SCOPE_ID.fullmatch(scope):
        raise BadInput(
            f"{option} {text!r}: the scope id {scope!r} is not an interface name or number",
            hint="write it as fe80::1%eth0 (letters, digits, '_', '.', '-')",
        )


def parse_interface(text: str, option: str) -> IPInterface:
    """An address with its prefix (CIDR), e.g. 203.0.113.100/24."""
    if "/" not in text:
        raise BadInput(
            f"{option} {text!r} has no prefix length",
            hint="write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24",
        )
    check_scope_id(text, option)
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError as exc:
        raise BadInput(
            f"{option} {text!r} is not an address with a prefix: {exc}", hint="e.g. 203.0.113.100/24"
        ) from None
    net = iface.network
    if net.prefixlen == net.max_prefixlen:
        raise BadInput(
            f"{option} {text!r}: a /{net.prefixlen} leaves no room for two ends",
            hint="use /30 or shorter, e.g. /24",
        )
    if (
        net.num_addresses > 2
        and iface.ip in (net.network_address, net.broadcast_address)
        and net.version == 4
    ):
        which = "network" if iface.ip == net.network_address else "broadcast"
        raise BadInput(
            f"{option} {text!r} is the {which} address of {net}", hint="pick a host address inside it"
        )
    return iface


def parse_address(text: str, option: str) -> IPAddress:
    check_scope_id(text, option)
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise BadInput(f"{option} {text!r} is not an IP address", hint="e.g. 203.0.113.101") from None


def is_public(net: IPNetwork) -> bool:
    """Address space that belongs to somebody on the internet (not private, documentation, benchmark...)."""
    return net.is_global and not any(net.subnet_of(r) for r in DOC_RANGES if r.version == net.version)


def host_at(net: IPNetwork, offset: int) -> IPAddress:
    return net.network_address + offset


def overlapping(net: IPNetwork, used: Iterable[IPNetwork]) -> IPNetwork | None:
    """The first used prefix that overlaps `net`; default routes (/0) overlap everything and do not count."""
    for other in used:
        if other.version == net.version and other.prefixlen > 0 and net.overlaps(other):
            return other
    return None


def first_free(rng: IPNetwork, prefixlen: int, used: list[IPNetwork]) -> IPNetwork | None:
    """The first /prefixlen of `rng` that overlaps nothing in `used`. It jumps past each prefix it meets, so
    that a /64 is found in 2001:db8::/32 in as many steps as there are routes, not /64s."""
    candidate = int(rng.network_address)
    end = int(rng.broadcast_address)
    while candidate <= end:
        net = type(rng)((candidate, prefixlen))
        clash = overlapping(net, used)
        if clash is None:
            return net
        candidate = max(int(net.broadcast_address), int(clash.broadcast_address)) + 1
    return None


def choose_subnet(used: Iterable[IPNetwork], version: int = 4) -> IPNetwork:
    """IPv4: the first /24 of the documentation ranges, then the benchmark range; IPv6: the first /64 of
    2001:db8::/32. Either overlapping no used prefix."""
    used = [u for u in used if u.version == version]
    ranges, prefixlen = (DOC_RANGES, 24) if version == 4 else ((DOC_RANGE6,), END_PREFIX6)
    for rng in ranges:
        net = first_free(rng, max(prefixlen, rng.prefixlen), used)
        if net is not None:
            return net
    what = "/24 of the documentation and benchmark ranges" if version == 4 else f"/64 of {DOC_RANGE6}"
    raise BadInput(f"every {what} overlaps a route here", hint="give --pod-addr and --host-addr")


def check_filter_text(filter_expr: str | None, option: str = "--filter") -> None:
    """A capture filter is an expression, never an option: one starting with '-' is refused (tcpdump would
    read `-V FILE` or `-w FILE` as root), whatever `--` in the argv already does about it."""
    if filter_expr and filter_expr.lstrip().startswith("-"):
        raise BadInput(
            f"{option} {filter_expr!r} starts with '-': a filter is an expression, not tcpdump options",
            hint="see `man pcap-filter`, e.g. 'arp or icmp'",
        )


def check_pings(count: int, interval: float, max_count: int = 100000) -> None:
    """--count and --interval of any command that pings: one rule everywhere."""
    if not 1 <= count <= max_count:
        raise BadInput(f"--count {count} is out of range", hint=f"give 1 to {max_count}")
    if not 0.002 <= interval <= 60:
        raise BadInput(f"--interval {interval:g} is out of range", hint="give 0.002 to 60 seconds")


# -- where commands run: --via, as typed values ------------------------------------------------------------


@dataclass(frozen=True)
class PcapHome:
    """Where a capture's pcap stream (`tcpdump -U -w -`, wherever tcpdump runs) is written on this machine:
    a file, or "-" for vethctl's own stdout; at most `max_bytes` a file (--max-size), and with `rotate` K the
    last K files kept (--rotate)."""

    path: str
    max_bytes: int | None = None
    rotate: int | None = None
    decode_as: str | None = None  # how it is printed here: tcpdump -r - -T ... (a probe on an unusual port)

    @property
    def to_stdout(self) -> bool:
        return self.path == "-"


@dataclass(frozen=True)
class Local:
    """This machine (the default)."""

    url = None


@dataclass(frozen=True)
class NetnsNode:
    """`--via netns:NAME`: a named namespace of this machine stands in for the node (a lab node)."""

    name: str
    url = None


@dataclass(frozen=True)
class Ssh:
    """`--via ssh://[USER@]HOST[:PORT]`: another machine; `url` as the user wrote it (without a trailing /)."""

    url: str
    user: str | None
    host: str
    port: int | None

    @property
    def label(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal, as in the URL
        return f"ssh://{user}{host}{port}"


@dataclass(frozen=True)
class KubectlDebug:
    """`--via kubectl-debug`: a node debugging pod on the pod's node, known once the pod is."""

    node: str | None = None
    context: str | None = None

    @property
    def url(self) -> str:
        if self.node is None:
            return "kubectl-debug"
        from urllib.parse import quote

        ctx = f"?context={quote(self.context)}" if self.context else ""
        return f"kubectl-debug://{self.node}{ctx}"


Via = Local | NetnsNode | Ssh | KubectlDebug
Machine = Local | Ssh | KubectlDebug  # where a command runs; a lab node is a namespace of the local machine


@dataclass(frozen=True)
class Node:
    """Where the node-side commands run: a machine (this one, over ssh, through a debugging pod), and on it
    the node's namespace (None: the machine's own; a named one for a lab node).

    Pod-side commands enter the pod's namespace by its name or file, wherever they start from.
    """

    netns: Netns | None = None
    sudo: bool = False
    machine: Machine = Local()

    @property
    def host(self) -> str | None:
        """None for this machine, else the URL of the other one (as records and reports show it)."""
        return self.machine.url

    @property
    def label(self) -> str:
        """For people (reports): "this machine", "netns NODE", "netns NODE on ssh://...", "the host on ..."."""
        where = f"netns {self.netns}" if self.netns else ("this machine" if not self.host else "the host")
        return f"{where} on {self.host}" if self.host else where

    @property
    def audit_label(self) -> str:
        """For the audit log, a stable key: "local", "netns:NODE", "ssh://... netns:NODE" (scripts read it)."""
        where = f"netns:{self.netns}" if self.netns else "local"
        return f"{self.host} {where}" if self.host else where
