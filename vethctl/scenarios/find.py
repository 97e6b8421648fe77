"""`vethctl find`: where the target's netns is, its pod IP and host-side veth; nothing changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vethctl.execute.hosts.registry import Hosts
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import host_veth_of, locate

if TYPE_CHECKING:
    from vethctl.results.target import FindResult


def find(target: str, hosts: Hosts, *, via: str | None = None, kube: KubeScope | None = None) -> FindResult:
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    host_veth_of(ex, located)
    from vethctl.results.target import FindResult  # the report's: after the commands, not before

    return FindResult(located.target(), tuple(located.path), tuple(ex.journal.as_json()))
