"""What the pod sends: ping, as a person types it."""

from __future__ import annotations

from vethctl.commands import Argv
from vethctl.model import IPAddress


def ping(address: IPAddress, *, count: int, interval: float, wait: int | None = None) -> Argv:
    """The person's `ping -c N`, plus -n (no DNS) and -D (timestamps, to line ping up with the packets).

    No -w: with a deadline ping stops at the first error and hides the walkthrough's three
    "Destination Host Unreachable" lines."""
    wait_opt = ("-W", str(wait)) if wait else ()  # how long to wait for a late reply (ping's default: 10 s)
    return ("ping", "-n", "-D", "-c", str(count), "-i", _num(interval), *wait_opt, str(address))


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def neighbour(address: IPAddress) -> Argv:
    """One echo request, to make the kernel resolve the neighbour (fills `ip neigh`)."""
    return ("ping", "-n", "-q", "-c", "1", "-W", "1", str(address))
