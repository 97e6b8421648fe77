"""A lab cluster (`lab up --nodes N --overlay vxlan|routed`): N lab nodes, an underlay switch joining them,
and the overlay between their pod CIDRs (plan/cluster.py). Its record lists the nodes; each node keeps its
own lab record, so everything that finds a lab node (find ip/, trace) finds these too."""

from __future__ import annotations

from vethctl.errors import BadInput
from vethctl.execute.executor import Executor
from vethctl.model import Node
from vethctl.plan import Plan
from vethctl.plan.cluster import (
    OVERLAYS,
    UNDERLAY_DEV,
    VXLAN_DEV,
    VXLAN_OVERHEAD,
    VXLAN_PORT,
    node_name,
    routed_steps,
    switch_name,
    switch_steps,
    underlay_ip,
    underlay_mtu_steps,
    underlay_steps,
    vxlan_steps,
)
from vethctl.plan.lab import remove_steps
from vethctl.results.lab import LabDownResult, LabUpResult
from vethctl.scenarios.lab.node import down_node, make_node
from vethctl.state import labs, records
from vethctl.state.labs import cluster_path, read_cluster

MAX_NODES = 8
ASSUMED_UNDERLAY_MTU = 1500  # what the overlay's MTU is derived from, as flannel does


def up(
    host, name: str, nodes: int, overlay: str, pods: int, cni: str, underlay_mtu: int, servers: bool
) -> LabUpResult:
    """Under the allocation lock (the caller holds it)."""
    if overlay not in OVERLAYS:
        raise BadInput(
            f"--overlay {overlay!r} is not a lab overlay", hint=f"use one of {', '.join(OVERLAYS)}"
        )
    if not 2 <= nodes <= MAX_NODES:
        raise BadInput(f"--nodes {nodes} is out of range", hint=f"a lab cluster has 2 to {MAX_NODES} nodes")
    if not 576 <= underlay_mtu <= 9000:
        raise BadInput(f"--underlay-mtu {underlay_mtu} is out of range", hint="give 576 to 9000")
    if read_cluster(host, name) or labs.netns_exists(switch_name(name), host):
        raise BadInput(
            f"a lab cluster named {name!r} is up", hint="lab down --name it first, or choose another"
        )
    pod_mtu = ASSUMED_UNDERLAY_MTU - VXLAN_OVERHEAD if overlay == "vxlan" else underlay_mtu
    ex = Executor(host, Node())
    made: list[dict] = []
    rec = {
        "name": name,
        "cluster": True,
        "overlay": overlay,
        "switch": switch_name(name),
        "underlay_dev": UNDERLAY_DEV,
        "underlay_mtu": underlay_mtu,
        "pod_mtu": pod_mtu,
        "vxlan": {"dev": VXLAN_DEV, "port": VXLAN_PORT, "vni": 1} if overlay == "vxlan" else None,
        "nodes": [],
    }
    try:
        ex.execute(Plan(tuple(switch_steps(name)), keep=True))
        for i in range(1, nodes + 1):
            node = up_node_for_cluster(host, node_name(name, i), pods, cni, pod_mtu, servers and i == nodes)
            made.append(node.record)
            rec["nodes"].append(
                {
                    "name": node.record["name"],
                    "underlay_ip": underlay_ip(i),
                    "pod_cidr": node.record["pod_cidr"],
                }
            )
        steps = []
        for i, node in enumerate(rec["nodes"], 1):
            peers = [(j, other["pod_cidr"]) for j, other in enumerate(rec["nodes"], 1) if j != i]
            steps += underlay_steps(name, i, ASSUMED_UNDERLAY_MTU)
            if overlay == "vxlan":
                steps += vxlan_steps(name, i, node["pod_cidr"], peers, pod_mtu)
            else:
                steps += routed_steps(name, i, peers)
        if underlay_mtu != ASSUMED_UNDERLAY_MTU:
            for i in range(1, nodes + 1):
                steps += underlay_mtu_steps(name, i, underlay_mtu)
        ex.execute(Plan(tuple(steps), keep=True))
        records.write(host, cluster_path(name), rec)
    except BaseException:
        down(host, name, made=[n["name"] for n in made])
        raise
    return LabUpResult(
        rec | {"node_records": made},
        tuple(p["netns"] for n in made for p in n["pods"]),
        tuple(ex.journal.as_json()),
    )


def up_node_for_cluster(host, name: str, pods: int, cni: str, mtu: int, servers: bool) -> LabUpResult:
    return make_node(host, name, pods, None, cni, False, servers, False, [], "iptables", mtu)


def down(host, name: str, made: list[str] | None = None) -> LabDownResult:
    """Every node (each as `lab down` removes one), then the underlay switch, then the record."""
    rec = read_cluster(host, name) or {}
    names = [n["name"] for n in rec.get("nodes", [])] if made is None else made
    ex = Executor(host, Node())
    removed: list[str] = []
    for node in names:
        removed += down_node(ex, host, node).removed
    if labs.netns_exists(switch_name(name), host):
        ex.execute(Plan(tuple(remove_steps([], None, switch_name(name))), keep=True))
        removed.append(switch_name(name))
    records.remove(host, cluster_path(name))
    return LabDownResult(name, tuple(removed), tuple(ex.journal.as_json()))
