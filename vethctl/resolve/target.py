"""Targets as the user writes them, kubectl-style KIND/NAME (a bare NAME is a pod): parsed, nothing looked at."""

from __future__ import annotations

from dataclasses import dataclass

from vethctl.errors import BadInput

KINDS = ("pod", "netns", "nspath", "pid", "ip", "container")


@dataclass(frozen=True)
class TargetSpec:
    """A target as typed: its kind (pod, netns, ip, ...) and value."""

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
