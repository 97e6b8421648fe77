"""What the pod sends, as a person types it: ping, nc (TCP, UDP), dig (DNS)."""

from __future__ import annotations

from vethctl.commands import Argv
from vethctl.model import IPAddress


def ping(
    address: IPAddress, *, count: int, interval: float, wait: int | None = None, size: int | None = None
) -> Argv:
    """The person's `ping -c N`, plus -n (no DNS) and -D (timestamps, to line ping up with the packets).

    No -w: with a deadline ping stops at the first error and hides the walkthrough's three
    "Destination Host Unreachable" lines."""
    wait_opt = ("-W", str(wait)) if wait else ()  # how long to wait for a late reply (ping's default: 10 s)
    # a given size: that many bytes of payload, and never fragmented (-M do): the MTU question, asked
    size_opt = ("-s", str(size), "-M", "do") if size is not None else ()
    return ("ping", "-n", "-D", "-c", str(count), "-i", _num(interval), *wait_opt, *size_opt, str(address))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def neighbour(address: IPAddress) -> Argv:
    """One echo request, to make the kernel resolve the neighbour (fills `ip neigh`)."""
    return ("ping", "-n", "-q", "-c", "1", "-W", "1", str(address))


# TCP and UDP: netcat-openbsd's `nc`, as a person types it; DNS: bind9-dnsutils' `dig`.
PROBE_TOOLS = {"icmp": "ping", "tcp": "nc", "udp": "nc", "dns": "dig"}
UDP_PAYLOAD = "vethctl probe\n"  # what the datagram carries (fed on stdin): an echo service sends it back


def tcp_connect(address: IPAddress, port: int, *, timeout: int) -> Argv:
    """One TCP connection attempt, closed at once (-z); -v says how it went; -n: no DNS."""
    return ("nc", "-z", "-v", "-n", "-w", str(timeout), str(address), str(port))


def udp_send(address: IPAddress, port: int, *, timeout: int) -> Argv:
    """One UDP datagram (its payload on stdin), then whatever comes back until `timeout` s of silence."""
    return ("nc", "-u", "-n", "-w", str(timeout), str(address), str(port))


def dns_query(name: str, server: IPAddress, port: int, qtype: str, *, timeout: int, tries: int) -> Argv:
    """`dig @SERVER NAME TYPE`, each try waiting `timeout` s (dig's own retries are the probe's count)."""
    return ("dig", f"@{server}", "-p", str(port), f"+time={timeout}", f"+tries={tries}", name, qtype)
