"""`vethctl demo`: the walkthrough on a lab pod, start to finish, leaving nothing behind."""

from __future__ import annotations

import secrets
import subprocess
import sys

from vethctl import report
from vethctl.scenarios import lab
from vethctl.scenarios.run import RunOptions, run


def _say(text: str = "") -> None:
    print(text, flush=True)


def demo(quiet: bool = False) -> int:
    name = f"demo-{secrets.token_hex(2)}"
    _say(f"$ vethctl lab up --name {name} --pods 2")
    try:
        up = lab.up(name, 2)
        sys.stdout.write(report.lab_up_text(up))
        pod = up["pods"][0]
        target = f"netns/{pod['netns']}"

        _say(f"\n$ vethctl run {target}")
        _say("  (pings an unused address of the veth subnet: the unreachable neighbour)\n")
        first = run(RunOptions(target=target)).report
        sys.stdout.write(report.run_text(first))

        host_ip = first["veth"]["host"]["address"].split("/")[0]
        _say(f"\n$ vethctl run {target} --ping {host_ip}")
        _say("  (pings the host end: ARP is answered, then ICMP echo request and reply)\n")
        second = run(RunOptions(target=target, ping=host_ip)).report
        sys.stdout.write(report.run_text(second))
    finally:
        _say(f"\n$ vethctl lab down --name {name}")
        sys.stdout.write(report.lab_down_text(lab.down(name)))
    leftovers = _leftovers(name)
    _say(
        "\nleft behind: "
        + (", ".join(leftovers) if leftovers else "nothing (no lab namespace, no vethctl-tagged link)")
    )
    return 1 if leftovers else 0


def _leftovers(name: str) -> list[str]:
    """What a person would check: `ip netns list` and `ip -o link` for our names and tags."""
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    left = [line.split()[0] for line in netns if line.strip() and line.split()[0] == name]
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    left += [line.split(":")[1].strip() for line in links.splitlines() if "alias vethctl:" in line]
    return left
