"""`vethctl find`: where the target's netns is, its pod IP and host-side veth; nothing changed."""

from __future__ import annotations

from vethctl.execute.hosts.registry import Hosts
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import host_veth_of, locate
from vethctl.results import FindResult


def find(target: str, hosts: Hosts, *, via: str | None = None, kube: KubeScope | None = None) -> FindResult:
    located, ex = locate(target, hosts=hosts, via=via, kube=kube)
    host_veth_of(ex, located)
    return FindResult(located.target(), tuple(located.path), tuple(ex.journal.as_json()))
