"""Placement of pods on nodes: one answer for pod/NAME and for each pod of -l (they drifted: -l over
`--via ssh://node1.example` skipped the pods of node `node1` that pod/NAME reached)."""

from __future__ import annotations

import json

import pytest

from tests.support.fakes import FakeNode
from vethctl.execute.executor import Executor
from vethctl.model import KubectlDebug, Node, Ssh
from vethctl.parsers.kube import PodInfo
from vethctl.resolve.placement import Placer
from vethctl.resolve.via import parse_node_map, parse_via

ADDR_SHOW = ("ip", "-j", "addr", "show")


def pod(node="node1", host_ips=("192.0.2.11",), ip="198.18.0.5", **kw) -> PodInfo:
    fields = dict(
        name="web-0",
        namespace="shop",
        uid="u",
        pod_ip=ip,
        pod_ips=(ip,) if ip else (),
        node_name=node,
        host_network=False,
        phase="Running",
        container_ids=(),
        runtime=None,
        containers=("web",),
        ready=True,
        host_ips=host_ips,
    )
    return PodInfo(**(fields | kw))


def placer(via=None, nodes=None, addresses=("192.0.2.99",)):
    requested, explicit = parse_via(via, False)
    addrs = json.dumps([{"ifname": "eth0", "addr_info": [{"local": a} for a in addresses]}])
    host = FakeNode({ADDR_SHOW: (0, addrs, "")})
    host.hostname = lambda: "ip-192-0-2-11"  # the ssh host's own hostname is not its node name
    return Placer(requested, explicit, Executor(host, requested), via=via, nodes=nodes), host


def test_over_ssh_the_urls_short_name_is_this_node():
    p, host = placer("ssh://root@node1.example")
    place = p.place(pod())
    assert place.how == "here" and place.via == "ssh://root@node1.example"
    assert isinstance(place.node.machine, Ssh)
    assert ADDR_SHOW not in host.ran  # the name said it: no address needed


def test_a_node_known_by_its_hostip_only_is_this_node_and_says_which_address():
    p, _ = placer(addresses=("192.0.2.11",))
    place = p.place(pod(node="ip-10-0-1-2.compute.internal"))
    assert place.how == "here" and place.by_address == "192.0.2.11"


def test_the_addresses_are_read_once_for_every_pod():
    p, host = placer()
    for i in range(3):
        p.place(pod(node=f"worker-{i}", host_ips=(f"203.0.113.{i}",)))
    assert host.ran.count(ADDR_SHOW) == 1


def test_a_node_given_with_node_is_reached_over_ssh():
    nodes = parse_node_map(("192.0.2.12=ssh://root@192.0.2.12:2222",))
    p, _ = placer(nodes=nodes)
    place = p.place(pod(node="node2", host_ips=("192.0.2.12",)))
    assert place.how == "ssh" and place.via == "ssh://root@192.0.2.12:2222"


def test_a_node_nobody_reaches_is_refused_with_the_node_that_would_reach_it():
    p, _ = placer(nodes={})
    place = p.place(pod(node="node2", host_ips=("192.0.2.12",)))
    assert place.node is None and place.other_node
    assert "runs on node node2" in place.why and "--node 192.0.2.12=ssh://HOST" in place.why
    # a command without --node does not suggest it
    p, _ = placer(nodes=None)
    assert "--node" not in p.place(pod(node="node2", host_ips=("192.0.2.12",))).why


def test_with_kubectl_debug_every_node_is_reached_through_its_own_debugging_pod():
    requested = Node(machine=KubectlDebug(None, "prod"))
    p = Placer(requested, False, None, via="kubectl-debug")
    place = p.place(pod(node="node7"))
    assert place.how == "kubectl-debug" and place.node.machine == KubectlDebug("node7", "prod")


@pytest.mark.parametrize(
    ("kw", "other"),
    [
        (dict(host_network=True), False),  # hostNetwork: no pod namespace, wherever it runs (exit 2)
        (dict(ip=None, phase="Pending"), True),  # no IP yet, on a node we do not reach (exit 3)
        (dict(ip=None, phase="Pending", node_name="node1"), False),  # no IP yet, here (exit 2)
    ],
)
def test_refusals_say_whether_the_pod_is_elsewhere(kw, other):
    p, _ = placer("ssh://root@node1.example")
    place = p.place(pod(**({"node": "node2"} | kw)))
    assert place.node is None and place.other_node is other
