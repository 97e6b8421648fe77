"""`vethctl lab`: a node in a box, so vethctl works with no cluster at all.

The lab node is itself a network namespace, attached to nothing real. Its pods are made the way a
kubelet makes them: `ip netns add cni-<uuid>`, then the real CNI `bridge` (with `host-local` IPAM) and
`loopback` plugins, run in the node's namespace. That gives the shape users see on a real node:
/var/run/netns/cni-<uuid>, eth0@ifN, a default route via the bridge, lo up.
The node's `lo` carries the tag `vethctl-lab:NAME`, so `lab down` only removes what `lab up` made.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import shutil
import uuid

from vethctl.commands import ip
from vethctl.errors import BadInput, MissingPrerequisite
from vethctl.execute import Executor
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step
from vethctl.plan.lab import (
    BRIDGE,
    CNI_KINDS,
    LAB_TAG,
    OUTSIDE_ADDRESS,
    UPLINK,
    node_steps,
    outside_name,
    pod_steps,
    remove_steps,
    uplink_steps,
)
from vethctl.scenarios.common import require_root, require_tools
from vethctl.sessions import STATE_DIR

DEFAULT_LAB = "vethlab"
DEFAULT_POD_CIDR = "198.18.0.0/24"
CNI_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$")


def lab_dir() -> str:
    return os.path.join(STATE_DIR, "lab")


def record_path(name: str) -> str:
    return os.path.join(lab_dir(), f"{name}.json")


def cni_bin_dir() -> str:
    candidates = [os.environ["VETHCTL_CNI_PATH"]] if os.environ.get("VETHCTL_CNI_PATH") else list(CNI_DIRS)
    for d in candidates:
        if all(os.access(os.path.join(d, p), os.X_OK) for p in ("bridge", "host-local", "loopback")):
            return d
    raise MissingPrerequisite(f"the CNI bridge, host-local and loopback plugins are not in {' or '.join(candidates)}",
                              hint="apt-get install containernetworking-plugins, or set VETHCTL_CNI_PATH")  # fmt: skip


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadInput(f"lab name {name!r} is not usable as a namespace name",
                       hint="1 to 31 letters, digits, '_', '.' or '-', starting with a letter or digit")  # fmt: skip
    return name


def read_record(name: str, host=None) -> dict | None:
    text = (host or _local()).read_text(record_path(name))
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def _local():
    from vethctl.execute import host_for

    return host_for(Node())


def _write_record(rec: dict) -> None:
    os.makedirs(lab_dir(), exist_ok=True)
    tmp = record_path(rec["name"]) + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(rec, fh, indent=1)
    os.replace(tmp, record_path(rec["name"]))


def _netns_exists(name: str, host=None) -> bool:
    return (host or _local()).exists(f"/var/run/netns/{name}")


def free_pod_cidr() -> str:
    """198.18.N.0/24, N the first no other lab uses: each lab's pod IPs then name one pod only."""
    used = {r["pod_cidr"] for r in status() if r.get("up")}
    for n in range(256):
        if f"198.18.{n}.0/24" not in used:
            return f"198.18.{n}.0/24"
    return DEFAULT_POD_CIDR


def up(name: str = DEFAULT_LAB, pods: int = 2, pod_cidr: str | None = None, cni: str = "bridge",
       uplink: bool = False) -> dict:  # fmt: skip
    validate_name(name)
    if cni not in CNI_KINDS:
        raise BadInput(f"--cni {cni!r} is not a lab network", hint=f"use one of {', '.join(CNI_KINDS)}")
    rec = read_record(name)
    node_up = _netns_exists(name)
    if pod_cidr is None:
        pod_cidr = rec["pod_cidr"] if rec and node_up else free_pod_cidr()
    if not 1 <= pods <= 250:
        raise BadInput(f"--pods {pods} is out of range", hint="a node holds 1 to 250 pods")
    try:
        net = ipaddress.ip_network(pod_cidr)
    except ValueError as exc:
        raise BadInput(f"--pod-cidr {pod_cidr!r}: {exc}", hint="e.g. 198.18.0.0/24") from None
    if net.num_addresses - 3 < pods:
        raise BadInput(f"--pod-cidr {pod_cidr} has room for {net.num_addresses - 3} pods, not {pods}",
                       hint="use a larger prefix")  # fmt: skip
    node_ns = Netns.named(name)
    require_root(Node())
    cni_dir = cni_bin_dir()
    ex = Executor(Node())
    existing = rec["pods"] if rec and node_up else []
    steps: list[Step] = []
    if not node_up:
        rec = None
        steps += node_steps(name)
    elif not rec:
        raise BadInput(
            f"a network namespace named {name!r} exists and is not a vethctl lab",
            hint="choose another --name",
        )
    elif rec.get("cni", "bridge") != cni:
        raise BadInput(
            f"lab {name} is a {rec.get('cni', 'bridge')} lab, not {cni}",
            hint="lab down first, or use another --name",
        )
    has_uplink = bool(rec and rec.get("outside"))
    if uplink and not has_uplink:
        require_tools("iptables")
        steps += uplink_steps(name, node_ns, pod_cidr)
    new_pods = [str(uuid.uuid4()) for _ in range(max(0, pods - len(existing)))]
    for pod_uuid in new_pods:
        steps += pod_steps(
            name, node_ns, cni_dir, pod_cidr, pod_uuid, cni, os.path.join(lab_dir(), name, "ipam")
        )
    plan = Plan(tuple(steps), keep=True, title=f"lab up {name}")
    ex.execute(plan)
    made = []
    for pod_uuid in new_pods:
        result = json.loads(ex.by_key[f"cni:cni-{pod_uuid}"].stdout)
        host_veth = next(
            (i["name"] for i in result["interfaces"] if "sandbox" not in i and i["name"] != BRIDGE), None
        )
        made.append({"netns": f"cni-{pod_uuid}", "container_id": pod_uuid,
                     "ip": result["ips"][0]["address"].split("/")[0], "host_veth": host_veth})  # fmt: skip
    rec = {"name": name, "node_netns": name, "cni": cni,
           "outside": outside_name(name) if uplink or has_uplink else None,
           "outside_address": OUTSIDE_ADDRESS if uplink or has_uplink else None, "bridge": BRIDGE if cni == "bridge" else None, "pod_cidr": str(net),
           "gateway": str(net.network_address + 1), "cni_bin_dir": cni_dir, "pods": existing + made}  # fmt: skip
    _write_record(rec)
    return {**rec, "created": [p["netns"] for p in made], "commands": [r.as_json() for r in ex.results]}


def _lab_pods_from_kernel(ex: Executor, name: str) -> list[str]:
    """Pods whose eth0 peer is on the lab node, by their netns names: works even if the record is gone."""
    node = Netns.named(name)
    links = json.loads(ex.read(ip.veths_json(), node, ok_codes={0, 1}).stdout or "[]")
    ids = json.loads(ex.read(ip.netns_list_json(), node).stdout or "[]")
    names = {i["id"]: i.get("name") for i in ids if "id" in i}
    return sorted({names.get(link.get("link_netnsid")) for link in links} - {None})


def _is_lab_node(ex: Executor, name: str) -> bool:
    res = ex.read(ip.link_json("lo"), Netns.named(name), ok_codes={0, 1})
    links = json.loads(res.stdout or "[]")
    return bool(links) and links[0].get("ifalias") == f"{LAB_TAG}{name}"


def down(name: str = DEFAULT_LAB) -> dict:
    validate_name(name)
    require_root(Node())
    ex = Executor(Node())
    rec = read_record(name)
    if not _netns_exists(name):
        if rec:
            _forget(name)
            # the node is gone; pods of the record may remain
            left = [p["netns"] for p in rec["pods"] if _netns_exists(p["netns"])]
            ex.execute(Plan(tuple(remove_steps(left, None, None)), keep=True))
            return {"name": name, "removed": left, "commands": [r.as_json() for r in ex.results]}
        return {"name": name, "removed": [], "commands": [], "note": f"no lab named {name}: nothing to do"}
    if not _is_lab_node(ex, name):
        raise BadInput(
            f"the network namespace {name!r} is not a vethctl lab node", hint="`vethctl lab status`"
        )
    pods = set(_lab_pods_from_kernel(ex, name))
    if rec:
        pods |= {p["netns"] for p in rec["pods"] if _netns_exists(p["netns"])}
    pods = {p for p in pods if p.startswith("cni-")}
    out = (rec or {}).get("outside") or outside_name(name)
    ours = _netns_exists(out) and _holds_uplink_peer(ex, name, out)
    ex.execute(Plan(tuple(remove_steps(sorted(pods), out if ours else None, name)), keep=True))
    if ours:
        pods.add(out)
    _forget(name)
    return {"name": name, "removed": sorted(pods) + [name], "commands": [r.as_json() for r in ex.results]}


def _holds_uplink_peer(ex: Executor, name: str, out: str) -> bool:
    """The outside namespace is ours only if the lab node's uplink leads into it."""
    links = json.loads(ex.read(ip.link_json(UPLINK), Netns.named(name), ok_codes={0, 1}).stdout
                       or "[]")  # fmt: skip
    if not links or links[0].get("link_netnsid") is None:
        return False
    ids = json.loads(ex.read(ip.netns_list_id(links[0]["link_netnsid"]), Netns.named(name)).stdout or "[]")
    return any(i.get("nsid") == links[0]["link_netnsid"] and i.get("name") == out for i in ids)


def _forget(name: str) -> None:
    shutil.rmtree(os.path.join(lab_dir(), name), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(record_path(name))


def status(where: Node | None = None) -> list[dict]:
    """The labs of a machine (this one by default), from their records, each checked against the kernel."""
    from vethctl.execute import host_for

    host = host_for(where or Node())
    labs = []
    present = None
    for fname in host.listdir(lab_dir()):
        if fname.endswith(".json") and (rec := read_record(fname[:-5], host)):
            rec["up"] = _netns_exists(rec["name"], host)
            if present is None:  # once, not once a lab (over ssh each is a round trip)
                present = set(host.listdir("/var/run/netns"))
            for p in rec["pods"]:
                p["present"] = p["netns"] in present
            labs.append(rec)
    return labs
