"""Pure argv builders: each returns the exact command a person would type, as a tuple of strings.

Nothing here runs anything or quotes anything (quoting happens once, in render.py). One module per tool
family: ip (iproute2: ip, bridge), capture (tcpdump), probe (ping), node (sysctl, iptables), cni (the CNI
plugins), kubectl, crictl. This module: where a command runs (a namespace, sudo).
"""

from __future__ import annotations

from vethctl.model import Netns

Argv = tuple[str, ...]


def in_netns(netns: Netns | None, argv: Argv) -> Argv:
    """Run argv inside a namespace: `ip -n NAME ...` for ip itself, `ip netns exec NAME` for other tools,
    `nsenter --net=PATH` for a namespace that has no name."""
    if netns is None:
        return argv
    if netns.name is None:
        return ("nsenter", f"--net={netns.path}", *argv)
    if argv[:1] == ("ip",):
        return ("ip", "-n", netns.name, *argv[1:])
    return ("ip", "netns", "exec", netns.name, *argv)


def with_sudo(sudo: bool, argv: Argv) -> Argv:
    return ("sudo", *argv) if sudo else argv


def on_node(node_netns: Netns | None, sudo: bool, argv: Argv, netns: Netns | None) -> Argv:
    """The argv as it runs from a node: in `netns` (a pod's) or else in the node's own namespace (a lab
    node's, or none), with sudo in front when asked."""
    return with_sudo(sudo, in_netns(netns if netns is not None else node_netns, argv))
