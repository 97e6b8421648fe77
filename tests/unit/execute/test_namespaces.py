"""A namespace's identity is its (device, inode): the same namespace under two names, or the one vethctl
runs in under a name, is one."""

from __future__ import annotations

from tests.support.fakes import FakeNode
from vethctl.execute import namespaces
from vethctl.model import Netns, Node

IDS = {
    "/proc/self/ns/net": "4:4026532900",  # vethctl runs inside the lab node...
    "/var/run/netns/node-1": "4:4026532900",  # ...which has a name
    "/var/run/netns/node-1-alias": "4:4026532900",  # (and a second one)
    "/var/run/netns/node-2": "4:4026533000",
}


def test_the_same_namespace_under_another_name_is_the_same():
    host = FakeNode(ids=IDS)
    assert namespaces.same(host, Netns.named("node-1"), None)
    assert namespaces.same(host, Netns.named("node-1"), Netns.named("node-1-alias"))
    assert not namespaces.same(host, Netns.named("node-2"), None)


def test_a_namespace_that_cannot_be_told_is_not_the_same_as_anything():
    host = FakeNode(ids=IDS | {"/var/run/netns/locked": PermissionError("/var/run/netns/locked")})
    assert not namespaces.same(host, Netns.named("gone"), Netns.named("node-1"))
    assert not namespaces.same(host, Netns.named("locked"), None)
    assert namespaces.same(host, Netns.named("gone"), Netns.named("gone"))  # the same value is the same


def test_distinct_keeps_the_first_of_each_namespace_in_order():
    host = FakeNode(ids=IDS)
    nodes = [
        Node(),
        Node(netns=Netns.named("node-1")),
        Node(netns=Netns.named("node-2")),
        Node(netns=Netns.named("node-1-alias")),
        Node(netns=Netns.named("gone")),
    ]
    kept = namespaces.distinct(host, nodes, lambda n: n.netns)
    assert kept == [Node(), Node(netns=Netns.named("node-2")), Node(netns=Netns.named("gone"))]
