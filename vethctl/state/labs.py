"""Lab records under STATE/lab/ (a lab node is a namespace of this machine): read, written, forgotten, and
the registry the resolver asks: which lab node holds an address's pod CIDR, which one a pod's node name is."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil

from vethctl.execute.hosts.base import Host
from vethctl.model import IPAddress, Netns, Node
from vethctl.state import machine_dir, records

DEFAULT_POD_CIDR = "198.18.0.0/24"
LAB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}")  # a lab's name is its node's netns name
POD_CIDR6 = "2001:db8:18:{n:x}::/64"  # a lab's IPv6 pod CIDR: the same N as its IPv4 198.18.N.0/24


def pod_cidrs(rec: dict) -> list[str]:
    """Every pod CIDR of a lab (a dual-stack lab has one of each family; older records only `pod_cidr`)."""
    return rec.get("pod_cidrs") or [rec["pod_cidr"]]


def lab_dir() -> str:
    return os.path.join(machine_dir(), "lab")


def record_path(name: str) -> str:
    return os.path.join(lab_dir(), f"{name}.json")


def ipam_dir(name: str) -> str:
    """Where the lab's host-local IPAM keeps its reservations."""
    return os.path.join(lab_dir(), name, "ipam")


def read_record(name: str, host: Host) -> dict | None:
    return records.read(host, record_path(name))


def write_record(rec: dict, host: Host) -> None:
    records.write(host, record_path(rec["name"]), rec)


def forget(name: str) -> None:
    """The record and the IPAM directory (a lab lives on this machine)."""
    shutil.rmtree(os.path.join(lab_dir(), name), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(record_path(name))


def netns_exists(name: str, host: Host) -> bool:
    return host.exists(f"/var/run/netns/{name}")


def all_labs(host: Host) -> list[dict]:
    """The labs of a machine, from their records, each checked against the kernel (`up`, each pod's
    `present`)."""
    labs = []
    present = None
    for name in records.names(host, lab_dir(), LAB_NAME):
        if (rec := read_record(name, host)) and rec.get("name") == name:
            rec["up"] = netns_exists(rec["name"], host)
            if present is None:  # once, not once a lab (over ssh each is a round trip)
                present = set(host.listdir("/var/run/netns"))
            for p in rec["pods"]:
                p["present"] = p["netns"] in present
            labs.append(rec)
    return labs


def cidrs_in_use(host: Host, routed: list) -> list:
    """What a new lab's pod CIDR must not overlap: every lab's that is up, and every prefix the machine routes
    (`routed`: its own routes, decoded). Called under the allocation lock, so two `lab up` never agree."""
    used = [ipaddress.ip_network(c) for r in all_labs(host) if r.get("up") for c in pod_cidrs(r)]
    for route in routed:
        dst = route.get("dst")
        if dst and dst != "default" and route.get("type") not in ("broadcast", "multicast", "local"):
            try:
                used.append(ipaddress.ip_network(dst, strict=False))
            except ValueError:
                continue
    return used


def free_pod_cidr(used: list) -> str:
    """198.18.N.0/24, N the first that overlaps nothing in use: each lab's pod IPs then name one pod only."""
    return free_pod_cidrs(used, (4,))[0]


def free_pod_cidrs(used: list, families=(4,)) -> list[str]:
    """198.18.N.0/24 and 2001:db8:18:N::/64 (those of `families`), N the first where none overlaps anything
    in use."""
    for n in range(256):
        nets = [
            ipaddress.ip_network(f"198.18.{n}.0/24" if v == 4 else POD_CIDR6.format(n=n)) for v in families
        ]
        if not any(
            net.overlaps(u) for net in nets for u in used if u.version == net.version and u.prefixlen > 0
        ):
            return [str(net) for net in nets]
    return [DEFAULT_POD_CIDR if v == 4 else POD_CIDR6.format(n=0) for v in families]


def node_for_address(address: IPAddress, host: Host, requested: Node) -> Node | None:
    """A lab node whose pod CIDR holds the address: the lab is that machine's node for its pods."""
    for rec in all_labs(host):
        if rec.get("up") and any(address in ipaddress.ip_network(c) for c in pod_cidrs(rec)):
            return Node(netns=Netns.named(rec["node_netns"]), sudo=requested.sudo, machine=requested.machine)
    return None


def node_named(name: str | None, host: Host, requested: Node) -> Node | None:
    """The lab node a pod's nodeName names (a lab stands in for a node of that name)."""
    return next(
        (
            Node(netns=Netns.named(r["node_netns"]), sudo=requested.sudo, machine=requested.machine)
            for r in all_labs(host)
            if r.get("up") and r["name"] == name
        ),
        None,
    )


# -- lab clusters: several lab nodes on an underlay (scenarios/lab/cluster.py) --------------------------


def cluster_path(name: str) -> str:
    return os.path.join(lab_dir(), "clusters", f"{name}.json")


def read_cluster(host, name: str) -> dict | None:
    return records.read(host, cluster_path(name))


def all_clusters(host) -> list[dict]:
    return [
        c for n in records.names(host, os.path.dirname(cluster_path("x"))) if (c := read_cluster(host, n))
    ]
