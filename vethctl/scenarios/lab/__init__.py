"""`vethctl lab up|down|status`: lab nodes (node.py) and lab clusters of several nodes joined by an overlay
(cluster.py), made with the real CNI plugins, attached to nothing real."""

from __future__ import annotations

from vethctl.errors import BadInput
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root
from vethctl.model import Node
from vethctl.results.lab import LabDownResult, LabStatusResult, LabUpResult
from vethctl.scenarios.lab import cluster
from vethctl.scenarios.lab.node import DEFAULT_LAB, down_node, up_node, validate_name
from vethctl.state import labs
from vethctl.state.lock import AllocationLock


def up(
    hosts: Hosts,
    name: str = DEFAULT_LAB,
    pods: int = 2,
    pod_cidr: str | None = None,
    cni: str = "bridge",
    uplink: bool = False,
    servers: bool = False,
    policy: bool = False,
    services: tuple[str, ...] = (),
    proxy_mode: str = "iptables",
    nodes: int = 1,
    overlay: str = "vxlan",
    underlay_mtu: int = 1500,
    family: str | None = None,
) -> LabUpResult:
    if nodes == 1:
        return up_node(
            hosts, name, pods, pod_cidr, cni, uplink, servers, policy, services, proxy_mode, family=family
        )
    if family not in (None, "4"):
        raise BadInput(
            f"--family {family} makes one lab node; a lab cluster (--nodes) is IPv4", hint="drop --nodes"
        )
    validate_name(name)
    host = hosts.local
    require_root(host)
    with AllocationLock():
        return cluster.up(host, name, nodes, overlay, pods, cni, underlay_mtu, servers)


def down(hosts: Hosts, name: str = DEFAULT_LAB) -> LabDownResult:
    validate_name(name)
    host = hosts.local
    require_root(host)
    if cluster.read_cluster(host, name):
        return cluster.down(host, name)
    return down_node(Executor(host, Node()), host, name)


def status(hosts: Hosts) -> LabStatusResult:
    return LabStatusResult(tuple(labs.all_labs(hosts.local)))
