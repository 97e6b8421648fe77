"""--via: where node-side commands run, as a typed value, and the node it means."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from vethctl.errors import BadInput, TargetNotFound
from vethctl.model import KubectlDebug, Netns, Node, Ssh

SSH_FORM = "write ssh://[USER@]HOST[:PORT]"


def parse_ssh(url: str) -> Ssh:
    """The one check of an ssh URL: scheme, a host, a port that is a port, no path."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"--via {url!r}: {exc}", hint=SSH_FORM) from None
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/"):
        raise BadInput(f"--via {url!r} names no host", hint=SSH_FORM)
    return Ssh(url=url.rstrip("/"), user=parts.username, host=parts.hostname, port=port)


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
