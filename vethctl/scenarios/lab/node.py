"""One lab node: a node in a box, so vethctl works with no cluster at all.

The lab node is itself a network namespace, attached to nothing real. Its pods are made the way a kubelet
makes them: `ip netns add cni-<uuid>`, then the real CNI `bridge` (with `host-local` IPAM) and `loopback`
plugins, run in the node's namespace (plan/lab.py). That gives the shape users see on a real node:
/var/run/netns/cni-<uuid>, eth0@ifN, a default route via the bridge, lo up.
The node's `lo` carries the tag `vethctl-lab:NAME`, so `lab down` only removes what `lab up` made.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import signal
import time
import uuid

from vethctl.commands import ip
from vethctl.commands.node import iptables
from vethctl.errors import BadInput, MissingPrerequisite, VethctlError
from vethctl.execute import namespaces
from vethctl.execute.executor import Executor
from vethctl.execute.facts import lookup_json, netns_name, read_json
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_root, require_tools
from vethctl.model import Netns, Node
from vethctl.parsers.ipjson import netns_names
from vethctl.plan import Plan, Step
from vethctl.plan.lab import (
    BRIDGE,
    CNI_KINDS,
    FAMILIES,
    LAB_TAG,
    OUTSIDE,
    UPLINK,
    node_steps,
    outside_name,
    pod_steps,
    policy_steps,
    remove_steps,
    server_steps,
    uplink_steps,
)
from vethctl.plan.services import PROXY_MODES, assign, parse_service, service_cidr, service_steps
from vethctl.results.lab import LabDownResult, LabUpResult
from vethctl.state import labs
from vethctl.state.lock import AllocationLock
from vethctl.state.sessions import job_alive, job_entry

DEFAULT_LAB = "vethlab"
CNI_DIRS = ("/opt/cni/bin", "/usr/lib/cni", "/usr/libexec/cni")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$")


def cni_bin_dir() -> str:
    candidates = [os.environ["VETHCTL_CNI_PATH"]] if os.environ.get("VETHCTL_CNI_PATH") else list(CNI_DIRS)
    for d in candidates:
        if all(os.access(os.path.join(d, p), os.X_OK) for p in ("bridge", "host-local", "loopback")):
            return d
    raise MissingPrerequisite(
        f"the CNI bridge, host-local and loopback plugins are not in {' or '.join(candidates)}",
        hint="apt-get install containernetworking-plugins, or set VETHCTL_CNI_PATH",
    )


def validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise BadInput(
            f"lab name {name!r} is not usable as a namespace name",
            hint="1 to 31 letters, digits, '_', '.' or '-', starting with a letter or digit",
        )
    return name


def up_node(
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
    family: str | None = None,
) -> LabUpResult:
    validate_name(name)
    wanted = [parse_service(s) for s in services]
    if proxy_mode not in PROXY_MODES:
        raise BadInput(
            f"--proxy-mode {proxy_mode!r} is not one kube-proxy has",
            hint=f"use one of {', '.join(PROXY_MODES)}",
        )
    if len({s.name for s in wanted}) != len(wanted):
        raise BadInput("two --service have the same name", hint="give each Service its own name")
    if cni not in CNI_KINDS:
        raise BadInput(f"--cni {cni!r} is not a lab network", hint=f"use one of {', '.join(CNI_KINDS)}")
    if family is not None and family not in FAMILIES:
        raise BadInput(f"--family {family!r} is not a lab family", hint=f"use one of {', '.join(FAMILIES)}")
    if pod_cidr is not None:
        parse_cidrs(pod_cidr, family)  # bad input before the lock is taken
    if wanted and (family == "6" or (pod_cidr and ":" in pod_cidr.split(",")[0])):
        raise BadInput(
            "--service needs IPv4 pods (its ClusterIPs and rules are IPv4's)", hint="use --family 4 or dual"
        )
    host = hosts.local
    with AllocationLock():  # the CIDR is chosen and taken (the lab made) with no other allocation meanwhile
        return make_node(
            host,
            name,
            pods,
            pod_cidr,
            cni,
            uplink,
            servers or policy or bool(wanted),
            policy,
            wanted,
            proxy_mode,
            family=family,
        )


FAMILY_VERSIONS = {"4": (4,), "dual": (4, 6), "6": (6,)}


def parse_cidrs(text: str, family: str | None) -> list:
    """--pod-cidr: one CIDR, or an IPv4 and an IPv6 one separated by a comma (as Kubernetes' --cluster-cidr
    takes a dual-stack pair), agreeing with --family when it is given."""
    nets = []
    for part in text.split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip()))
        except ValueError as exc:
            raise BadInput(
                f"--pod-cidr {text!r}: {exc}", hint="e.g. 198.18.0.0/24, or 198.18.0.0/24,2001:db8:18::/64"
            ) from None
    versions = tuple(sorted(n.version for n in nets))
    if versions not in FAMILY_VERSIONS.values():
        raise BadInput(
            f"--pod-cidr {text!r} is not one CIDR, or an IPv4 and an IPv6 one",
            hint="e.g. 198.18.0.0/24,2001:db8:18::/64",
        )
    if family is not None and versions != FAMILY_VERSIONS[family]:
        raise BadInput(
            f"--pod-cidr {text} does not match --family {family}",
            hint=f"give {' and '.join(f'an IPv{v}' for v in FAMILY_VERSIONS[family])} CIDR, or drop --family",
        )
    return sorted(nets, key=lambda n: n.version)


def _family_of(nets: list) -> str:
    return next(f for f, v in FAMILY_VERSIONS.items() if v == tuple(n.version for n in nets))


def make_node(
    host,
    name: str,
    pods: int,
    pod_cidr: str | None,
    cni: str,
    uplink: bool,
    servers: bool,
    policy: bool,
    wanted: list,
    proxy_mode: str,
    mtu: int | None = None,
    family: str | None = None,
) -> LabUpResult:
    """Under the allocation lock: the node (unless it is up), its pods (those missing), and what was asked on
    top. `mtu`: the pods' (an overlay's). `family`: 4, dual or 6 (None: the --pod-cidr's, else the lab's,
    else 4)."""
    rec = labs.read_record(name, host)
    node_up = labs.netns_exists(name, host)
    ex = Executor(host, Node())
    existing_lab = bool(rec and node_up)
    if existing_lab and family is not None and family != rec.get("family", "4"):
        raise BadInput(
            f"lab {name} is a --family {rec.get('family', '4')} lab, not {family}",
            hint="lab down first, or use another --name",
        )
    if not existing_lab:
        routed = read_json(
            ex, ip.route_show_json(), None, purpose="the machine's routes: a lab's CIDR overlaps none"
        )
        used = labs.cidrs_in_use(host, routed)
    if pod_cidr is not None:
        nets = parse_cidrs(pod_cidr, family)
    elif existing_lab:
        nets = [ipaddress.ip_network(c) for c in labs.pod_cidrs(rec)]
    else:
        nets = [ipaddress.ip_network(c) for c in labs.free_pod_cidrs(used, FAMILY_VERSIONS[family or "4"])]
    if not 1 <= pods <= 250:
        raise BadInput(f"--pods {pods} is out of range", hint="a node holds 1 to 250 pods")
    for net in nets:
        if not existing_lab and (
            clash := next(
                (u for u in used if u.version == net.version and u.prefixlen > 0 and net.overlaps(u)), None
            )
        ):
            raise BadInput(
                f"--pod-cidr {net} overlaps {clash}, already a lab's or routed here",
                hint="give another one, or omit --pod-cidr",
            )
        if net.num_addresses - 3 < pods:
            raise BadInput(
                f"--pod-cidr {net} has room for {net.num_addresses - 3} pods, not {pods}",
                hint="use a larger prefix",
            )
    pod_cidr = [str(n) for n in nets]
    node_ns = Netns.named(name)
    require_root(host)
    cni_dir = cni_bin_dir()
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
        require_tools(host, *(iptables(n.version) for n in nets))
        steps += uplink_steps(name, node_ns, pod_cidr)
    new_pods = [str(uuid.uuid4()) for _ in range(max(0, pods - len(existing)))]
    for pod_uuid in new_pods:
        steps += pod_steps(name, node_ns, cni_dir, pod_cidr, pod_uuid, cni, labs.ipam_dir(name), mtu)
    ex.execute(Plan(tuple(steps), keep=True))
    made = []
    for pod_uuid in new_pods:
        result = _cni_result(ex.by_key[f"cni:cni-{pod_uuid}"].stdout)
        host_veth = next(
            (i["name"] for i in result["interfaces"] if "sandbox" not in i and i["name"] != BRIDGE), None
        )
        ips = [a["address"].split("/")[0] for a in result["ips"]]
        ips.sort(key=lambda a: ":" in a)  # IPv4 first, as Kubernetes' podIPs
        made.append(
            {
                "netns": f"cni-{pod_uuid}",
                "container_id": pod_uuid,
                "ip": ips[0],
                "ips": ips,
                "host_veth": host_veth,
            }
        )
    with_uplink = uplink or has_uplink
    outside_addresses = [OUTSIDE[n.version] for n in nets] if with_uplink else []
    prev = rec
    rec = {
        "name": name,
        "node_netns": name,
        "cni": cni,
        "family": _family_of(nets),
        "outside": outside_name(name) if with_uplink else None,
        "outside_address": outside_addresses[0] if with_uplink else None,
        "outside_addresses": outside_addresses,
        "bridge": BRIDGE if cni == "bridge" else None,
        "pod_cidr": pod_cidr[0],
        "pod_cidrs": pod_cidr,
        "gateway": str(nets[0].network_address + 1),
        "gateways": [str(n.network_address + 1) for n in nets],
        "cni_bin_dir": cni_dir,
        "pods": existing + made,
        "servers": (prev or {}).get("servers"),
    }
    rec["services"] = (prev or {}).get("services")
    labs.write_record(rec, host)  # the lab is known from here on: a failure below still finds it to remove
    try:
        if servers and not rec["servers"]:
            firewall = tuple(iptables(n.version) for n in nets) if policy else ()
            require_tools(host, "nc", "socat", "dnsmasq", "python3", *firewall)
            rec["servers"] = _start_servers(ex, rec["pods"][-1], policy)
            labs.write_record(rec, host)
        if wanted and not rec["services"]:
            require_tools(host, "nft" if proxy_mode == "nftables" else proxy_mode)
            assigned = assign(wanted, rec["pod_cidr"], rec["servers"]["ip"])
            svc_net = str(service_cidr(rec["pod_cidr"]))
            steps = service_steps(assigned, node_ns, proxy_mode, svc_net)
            ex.execute(Plan(tuple(steps), keep=True))
            rec["services"] = {
                "proxy_mode": proxy_mode,
                "cidr": svc_net,
                "services": [s.to_json() for s in assigned],
            }
            labs.write_record(rec, host)
    except BaseException:
        if not node_up:  # made by this invocation: a failure half-way removes all of it
            down_node(Executor(host, Node()), host, name)
        raise
    return LabUpResult(rec, tuple(p["netns"] for p in made), tuple(ex.journal.as_json()))


def _start_servers(ex: Executor, pod: dict, policy: bool) -> dict:
    """The probes' servers in the lab's last pod (and the policy's rules): their pids, to stop them at down."""
    netns = Netns.named(pod["netns"])
    ips = pod.get("ips") or [pod["ip"]]
    families = sorted({6 if ":" in a else 4 for a in ips})
    steps = server_steps(netns, ips) + (policy_steps(netns, families) if policy else [])
    ex.execute(Plan(tuple(steps), keep=True))
    running = {s.key: job_entry(ex.daemons[s.key], ex.argv_of(s), s.argv, ex.host) for s in steps if s.daemon}
    return {"pod": pod["netns"], "ip": pod["ip"], "ips": ips, "policy": policy, "running": running}


def _stop_servers(host, rec: dict | None) -> list[int]:
    """Stop what `lab up --servers` started, each only if it is still the process that was started (same pid,
    start time and command line: state.sessions.job_alive); a pod's namespace would otherwise live on in
    them."""
    stopped = []
    for server in ((rec or {}).get("servers") or {}).get("running", {}).values():
        if job_alive(server, host):
            with contextlib.suppress(ProcessLookupError):
                host.kill(server["pid"], signal.SIGTERM)
            stopped.append(server["pid"])
    deadline = time.monotonic() + 5
    while stopped and time.monotonic() < deadline and any(host.exists(f"/proc/{pid}") for pid in stopped):
        time.sleep(0.02)
    return stopped


def _cni_result(stdout: str) -> dict:
    """What a CNI plugin's ADD printed: its result document (interfaces, ips)."""
    try:
        got = json.loads(stdout, strict=False)
    except json.JSONDecodeError as exc:
        raise VethctlError(f"the CNI plugin printed no JSON result ({exc.msg})", hint="run with -v") from None
    if not isinstance(got, dict) or not got.get("ips") or not isinstance(got.get("interfaces"), list):
        raise VethctlError("the CNI plugin's result names no address or interface", hint="run with -v")
    return got


def _attached_to(ex: Executor, name: str) -> set[str]:
    """The namespaces whose veth peer is on the lab node, by name: what the kernel says is plugged into it."""
    node = Netns.named(name)
    links = lookup_json(ex, ip.veths_json(), node)[0]
    names = netns_names(read_json(ex, ip.netns_list_json(), node))
    return {names.get(link.get("link_netnsid")) for link in links} - {None}


def _empty(ex: Executor, pod: str) -> bool:
    """A namespace that holds no link but lo: nothing in it is anyone's (a lab pod whose node is gone)."""
    links = lookup_json(ex, ip.link_json_all(), Netns.named(pod))[0]
    return all(link.get("link_type") == "loopback" for link in links)


def _is_lab_node(ex: Executor, name: str) -> bool:
    links = lookup_json(ex, ip.link_json("lo"), Netns.named(name))[0]
    return bool(links) and links[0].get("ifalias") == f"{LAB_TAG}{name}"


def _holds_uplink_peer(ex: Executor, name: str, out: str) -> bool:
    """The outside namespace is ours only if the lab node's uplink leads into it."""
    links = lookup_json(ex, ip.link_json(UPLINK), Netns.named(name))[0]
    if not links or links[0].get("link_netnsid") is None:
        return False
    found = netns_name(ex, links[0]["link_netnsid"], Netns.named(name), purpose="")
    # by identity: a namespace with two names is listed under either
    return bool(found) and namespaces.same(ex.host, Netns.named(found), Netns.named(out))


def down_node(ex: Executor, host, name: str) -> LabDownResult:
    """Remove what `lab up` made, and nothing else: the node (its lo carries the lab's tag), the pods its
    record names, each verified as the lab's (its eth0 leads into the lab node; or, the node gone, it holds
    nothing but lo), the outside (the node's uplink leads into it), and the servers it started (if still
    them). A namespace found plugged into the node that the record does not name (`vethctl up --via
    netns:LAB` into some other namespace, a real pod's) is never removed; one the record names that cannot
    be verified is left, and said so."""
    rec = labs.read_record(name, host)
    _stop_servers(host, rec)
    recorded = [p["netns"] for p in (rec or {}).get("pods", []) if isinstance(p, dict) and p.get("netns")]
    present = [p for p in recorded if p.startswith("cni-") and labs.netns_exists(p, host)]
    if not labs.netns_exists(name, host):
        if not rec:
            return LabDownResult(name, (), (), note=f"no lab named {name}: nothing to do")
        labs.forget(name)
        ours = [p for p in present if _empty(ex, p)]  # the node is gone, and the pods' eth0 with it
        ex.execute(Plan(tuple(remove_steps(ours, None, None)), keep=True))
        left = tuple(p for p in present if p not in ours) or None
        return LabDownResult(name, tuple(ours), tuple(ex.journal.as_json()), left=left)
    if not _is_lab_node(ex, name):
        raise BadInput(
            f"the network namespace {name!r} is not a vethctl lab node", hint="`vethctl lab status`"
        )
    attached = _attached_to(ex, name) if present else set()
    pods = sorted(p for p in present if p in attached or _empty(ex, p))
    left = tuple(p for p in present if p not in pods) or None
    out = (rec or {}).get("outside") or outside_name(name)
    ours = labs.netns_exists(out, host) and _holds_uplink_peer(ex, name, out)
    ex.execute(Plan(tuple(remove_steps(pods, out if ours else None, name)), keep=True))
    removed = set(pods) | ({out} if ours else set())
    labs.forget(name)
    return LabDownResult(name, tuple(sorted(removed)) + (name,), tuple(ex.journal.as_json()), left=left)
