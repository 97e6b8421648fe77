"""--via: where node-side commands run, as a typed value, and the node it means."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from vethctl.errors import BadInput, TargetNotFound
from vethctl.model import KubectlDebug, Netns, Node, Ssh, check_scope_id, parse_address
from vethctl.secure import printable

SSH_FORM = "write ssh://[USER@]HOST[:PORT]"
# What ssh takes as a user and a host, and nothing it could read as an option (-oProxyCommand=... runs a
# command as whoever runs vethctl): a POSIX-ish user name; a DNS name or an IP literal.
_SSH_USER = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
_DNS_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _dns_name(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    # an empty name is one empty label, which _DNS_LABEL refuses like any other
    return len(name) <= 253 and all(_DNS_LABEL.fullmatch(label) for label in name.split("."))


def _ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    check_scope_id(host, "--via")
    return True


def parse_ssh(url: str) -> Ssh:
    """The one check of an ssh URL: scheme, a user and a host ssh cannot read as options, a port that is a
    port, no path, no control character anywhere."""
    if not printable(url):
        raise BadInput(f"--via {url!r} holds control characters", hint=SSH_FORM)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"--via {url!r}: {exc}", hint=SSH_FORM) from None
    if port == 0:  # urlsplit takes it; ssh, given no `-p` for a falsy port, would connect to 22
        raise BadInput(f"--via {url!r}: port 0 is not a port", hint=SSH_FORM)
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
        raise BadInput(f"--via {url!r} names no host", hint=SSH_FORM)
    if parts.query or parts.fragment or parts.password is not None:
        raise BadInput(f"--via {url!r}: only a user, a host and a port go in an ssh URL", hint=SSH_FORM)
    user, host = parts.username, parts.hostname
    if user is not None and not _SSH_USER.fullmatch(user):
        raise BadInput(
            f"--via {url!r}: {user!r} is not a user name",
            hint="letters, digits, '.', '_' or '-', not starting with '-' or a digit",
        )
    if not (_ip_literal(host) or _dns_name(host)):
        raise BadInput(
            f"--via {url!r}: {host!r} is neither a host name nor an IP address",
            hint="a DNS name (letters, digits, '-', '.') or an address, IPv6 in brackets",
        )
    return Ssh(url=url.rstrip("/"), user=user, host=host, port=port)


def parse_via(via: str | None, sudo: bool) -> tuple[Node, bool]:
    """The node --via asks for, and whether it names the node explicitly (netns:NAME) rather than the
    machine (the node is then found from the target: the namespace holding the pod's peer)."""
    if via in (None, "", "local"):
        return Node(sudo=sudo), False
    if via.startswith("netns:"):
        name = via[len("netns:") :]
        if not name or "/" in name:
            raise BadInput(f"--via {via!r} names no namespace", hint="write --via netns:NAME")
        if not os.path.exists(f"/var/run/netns/{name}"):
            raise TargetNotFound(f"--via {via}: no network namespace named {name!r}", hint="`ip netns list`")
        return Node(netns=Netns.named(name), sudo=sudo), True
    if via.startswith("ssh://"):
        return Node(sudo=sudo, machine=parse_ssh(via)), False
    if via == "kubectl-debug":  # the node is known once the pod is: locate() names it
        return Node(sudo=sudo, machine=KubectlDebug()), False
    raise BadInput(
        f"--via {via!r} is not understood",
        hint="use local, netns:NAME, ssh://[USER@]HOST[:PORT] or kubectl-debug",
    )


def parse_node_map(nodes: tuple[str, ...]) -> dict[str, Node]:
    """--node ADDR=ssh://HOST...: the node that owns address ADDR (an underlay address, a pod's hostIP),
    reached over ssh."""
    out = {}
    for text in nodes:
        addr, sep, url = text.partition("=")
        if not sep:
            raise BadInput(
                f"--node {text!r} is not ADDR=ssh://HOST", hint="e.g. --node 192.0.2.12=ssh://root@node2"
            )
        out[str(parse_address(addr, "--node"))] = Node(machine=parse_ssh(url))
    return out
