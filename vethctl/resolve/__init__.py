"""Targets: where the pod's network namespace is.

`parse_target` is pure (text -> TargetSpec). `resolve` turns a spec into a Netns without changing
anything; the kinds that need a cluster or a container runtime live in their own modules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from vethctl.errors import BadInput, TargetNotFound
from vethctl.model import Netns

KINDS = ("pod", "netns", "nspath", "pid", "ip", "container")
NETNS_DIR = "/var/run/netns"


@dataclass(frozen=True)
class TargetSpec:
    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.value}"


def parse_target(text: str) -> TargetSpec:
    """kubectl-style KIND/NAME; a bare NAME is a pod."""
    if not text or not text.strip():
        raise BadInput("the target is empty", hint="e.g. netns/cni-1234..., pod/web-0, pid/4242")
    kind, sep, value = text.partition("/")
    if not sep:
        return TargetSpec("pod", text)
    if kind not in KINDS:
        raise BadInput(
            f"unknown target kind {kind!r} in {text!r}",
            hint=f"use one of {', '.join(k + '/' for k in KINDS)}",
        )
    if not value:
        raise BadInput(f"the target {text!r} names no {kind}", hint=f"write {kind}/NAME")
    return TargetSpec(kind, value)


def resolve_netns(spec: TargetSpec, host=None) -> Netns:
    """netns/, nspath/ and pid/ need nothing but the (node's) filesystem."""
    if host is None:
        from vethctl.execute import LocalHost

        host = LocalHost()
    if spec.kind == "netns":
        if "/" in spec.value or spec.value in (".", ".."):
            raise BadInput(
                f"netns name {spec.value!r} cannot contain '/'", hint="for a file, use nspath/PATH"
            )
        ns = Netns.named(spec.value)
        if not host.exists(ns.path):
            raise TargetNotFound(f"no network namespace named {spec.value!r} ({ns.path} does not exist)",
                                 hint="`ip netns list` shows the names")  # fmt: skip
        return ns
    if spec.kind == "nspath":
        path = spec.value if spec.value.startswith("/") else "/" + spec.value
        _check_nsfile(path, host)
        name = _name_of(path)
        return Netns(name=name, path=path) if name else Netns(name=None, path=path)
    if spec.kind == "pid":
        if not spec.value.isdigit() or int(spec.value) <= 0:
            raise BadInput(f"pid {spec.value!r} is not a process id", hint="e.g. pid/4242")
        path = f"/proc/{int(spec.value)}/ns/net"
        if not host.exists(f"/proc/{int(spec.value)}"):
            raise TargetNotFound(
                f"no process with pid {spec.value}", hint="`ps` or `crictl inspect` give a live pid"
            )
        _check_nsfile(path, host)
        return Netns(name=None, path=path, pid=int(spec.value))
    raise BadInput(
        f"{spec.kind}/ targets are not supported yet", hint="use netns/NAME, nspath/PATH or pid/PID"
    )


def _check_nsfile(path: str, host) -> None:
    if not host.exists(path):
        raise TargetNotFound(f"{path} does not exist", hint="give a netns file such as /proc/PID/ns/net")
    if not host.is_netns_file(path):
        raise BadInput(
            f"{path} is not a network namespace file", hint="e.g. /proc/PID/ns/net or /var/run/netns/NAME"
        )


def _name_of(path: str) -> str | None:
    """A file under /var/run/netns (or /run/netns) is a named namespace: use the name, as a person would."""
    for base in (NETNS_DIR, "/run/netns"):
        if os.path.dirname(path) == base:
            return os.path.basename(path)
    return None
