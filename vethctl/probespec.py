"""A probe as the user writes it (SPEC), parsed and checked: what the pod sends, to whom.

    icmp:ADDR                 ping
    tcp:ADDR:PORT             a TCP connection (SYN, and what answers it)
    udp:ADDR:PORT             one UDP datagram (and what comes back)
    dns:NAME@SERVER[:PORT]    a DNS query for NAME's A record (AAAA for an IPv6 server), to SERVER

IPv6 addresses are written in brackets (`tcp:[2001:db8::1]:80`, `dns:web.example@[2001:db8::53]`), as in URLs.
Pure: nothing is looked at.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from vethctl.errors import BadInput
from vethctl.model import IPAddress, port_number

KINDS = ("icmp", "tcp", "udp", "dns")
DNS_PORT = 53
MAX_COUNT, MAX_TIMEOUT = 100, 60
FORMS = "icmp:ADDR, tcp:ADDR:PORT, udp:ADDR:PORT or dns:NAME@SERVER[:PORT] (IPv6 in brackets)"
# RFC 1123 host names, as resolvers accept them: labels of letters, digits, '-' and '_' (SRV-style), 63 at most
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


@dataclass(frozen=True)
class ProbeSpec:
    """One probe as given: icmp:, tcp:, udp: or dns:, parsed."""

    kind: str  # icmp, tcp, udp, dns
    address: IPAddress  # the destination: for dns, the server
    port: int | None = None  # tcp/udp: the destination port; dns: the server's port
    name: str | None = None  # dns: the name asked for

    @property
    def server(self) -> str | None:
        return str(self.address) if self.kind == "dns" else None

    @property
    def protocol(self) -> str:
        """The transport the probe's packets use."""
        return {"icmp": "icmp" if self.address.version == 4 else "icmp6", "dns": "udp"}.get(
            self.kind, self.kind
        )

    @property
    def decode_as(self) -> str | None:
        """tcpdump decodes DNS on port 53 by itself; on another port only when told (`-T domain`)."""
        return "domain" if self.kind == "dns" and self.port != DNS_PORT else None

    @property
    def qtype(self) -> str:
        return "AAAA" if self.address.version == 6 else "A"

    def __str__(self) -> str:
        addr = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        if self.kind == "icmp":
            return f"icmp:{addr}"
        if self.kind == "dns":
            return f"dns:{self.name}@{addr}" + (f":{self.port}" if self.port != DNS_PORT else "")
        return f"{self.kind}:{addr}:{self.port}"


def _bad(text: str, why: str) -> BadInput:
    return BadInput(f"probe {text!r}: {why}", hint=f"write {FORMS}")


def _address_and_port(text: str, rest: str, *, port_required: bool) -> tuple[IPAddress, int | None]:
    """ADDR, ADDR:PORT, [V6ADDR] or [V6ADDR]:PORT."""
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise _bad(text, "an IPv6 address opened with '[' is not closed with ']'")
        host, after = rest[1:close], rest[close + 1 :]
        if after and not after.startswith(":"):
            raise _bad(text, f"unexpected {after!r} after the address")
        port_text = after[1:] if after else None
        if after == ":":
            port_text = ""
    else:
        if rest.count(":") > 1:
            raise _bad(text, "an IPv6 address must be written in brackets, e.g. tcp:[2001:db8::1]:80")
        host, sep, port_text = rest.partition(":")
        if not sep:
            port_text = None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise _bad(text, f"{host!r} is not an IP address") from None
    if "%" in host:
        raise _bad(text, "an address with a scope id (%...) cannot be probed from a pod")
    if port_text is None:
        if port_required:
            raise _bad(text, "it names no port")
        return address, None
    port = port_number(port_text)
    if port is None:
        raise _bad(text, f"port {port_text!r} is out of range (1 to 65535)")
    return address, port


def check_dns_name(text: str, name: str) -> str:
    if not name or len(name.rstrip(".")) > 253:
        raise _bad(text, "the name to ask for is empty or longer than 253 characters")
    labels = name.rstrip(".").split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise _bad(text, f"{name!r} is not a DNS name (letters, digits, '-' and '_' in labels of 1 to 63)")
    return name


def parse_probe(text: str) -> ProbeSpec:
    if not isinstance(text, str) or not text or any(not c.isprintable() or c.isspace() for c in text):
        raise _bad(text, "it is empty or holds spaces or control characters")
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS:
        raise _bad(text, f"it starts with none of {', '.join(k + ':' for k in KINDS)}")
    if not rest:
        raise _bad(text, "nothing follows the kind")
    if kind == "icmp":
        address, port = _address_and_port(text, rest, port_required=False)
        if port is not None:
            raise _bad(text, "ICMP has no ports: write icmp:ADDR")
        return ProbeSpec("icmp", address)
    if kind in ("tcp", "udp"):
        address, port = _address_and_port(text, rest, port_required=True)
        return ProbeSpec(kind, address, port)
    name, at, server = rest.rpartition("@")
    if not at or not server:
        raise _bad(text, "a DNS probe needs a server: dns:NAME@SERVER[:PORT]")
    address, port = _address_and_port(text, server, port_required=False)
    return ProbeSpec("dns", address, port or DNS_PORT, check_dns_name(text, name))


def check_probe_options(count: int, timeout: int) -> None:
    if not 1 <= count <= MAX_COUNT:
        raise BadInput(f"--count {count} is out of range", hint=f"give 1 to {MAX_COUNT}")
    if not 1 <= timeout <= MAX_TIMEOUT:
        raise BadInput(f"--timeout {timeout} is out of range", hint=f"give 1 to {MAX_TIMEOUT} seconds")


def decode_for(probes) -> str | None:
    """`-T domain` for a capture that carries these probes when its UDP is all DNS on ports tcpdump does not
    decode as DNS by itself (it would misread another UDP probe's datagrams); None otherwise."""
    udp = [p for p in probes if p.protocol == "udp"]
    return "domain" if udp and all(p.decode_as == "domain" for p in udp) else None
