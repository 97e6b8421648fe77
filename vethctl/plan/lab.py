"""A lab node's plan: the node (a namespace), its pods made by the real CNI plugins as a kubelet makes them,
and an uplink to an 'outside' namespace. Pure: the CNI configurations and every step, with their undos."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Sequence

from vethctl.commands import ip, node
from vethctl.commands.cni import invoke as cni_invoke
from vethctl.model import Netns
from vethctl.plan import Step

BRIDGE = "cni0"


LAB_TAG = "vethctl-lab:"


NO_DAD = node.NO_DAD


CNI_KINDS = ("bridge", "ptp")
FAMILIES = ("4", "dual", "6")  # `lab up --family`: IPv4 pods, dual-stack pods, IPv6-only pods


def cidr_list(pod_cidr: str | Sequence[str]) -> list[str]:
    """One pod CIDR, or several (a dual-stack node's, IPv4 first, as Kubernetes' podCIDRs)."""
    return [pod_cidr] if isinstance(pod_cidr, str) else list(pod_cidr)


def network_conf(
    name: str, pod_cidr: str | Sequence[str], cni: str, ipam_dir: str, mtu: int | None = None
) -> str:
    """bridge: pods on one L2 bridge (flannel, kubenet, the default CNI); ptp: routed, a /32 route per pod
    to its host veth (the shape of Calico and other routed CNIs). Dual-stack: host-local with two ranges, an
    address of each family per pod, and a default route of each family (as a dual-stack cluster's CNI)."""
    nets = [ipaddress.ip_network(c) for c in cidr_list(pod_cidr)]
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": str(net)}] for net in nets],
        "routes": [{"dst": "0.0.0.0/0" if net.version == 4 else "::/0"} for net in nets],
        "dataDir": ipam_dir,
    }
    if cni == "ptp":
        conf = {"cniVersion": "1.0.0", "name": name, "type": "ptp", "ipMasq": False, "ipam": ipam}
        return json.dumps(conf | ({"mtu": mtu} if mtu else {}), indent=1)
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": name,
            "type": "bridge",
            "bridge": BRIDGE,
            "isGateway": True,
            "ipMasq": False,
            "hairpinMode": True,
            "ipam": ipam,
        }
        | ({"mtu": mtu} if mtu else {}),
        indent=1,
    )


def loopback_conf(name: str) -> str:
    return json.dumps({"cniVersion": "1.0.0", "name": f"{name}-lo", "type": "loopback"})


def pod_steps(
    name: str,
    node_ns: Netns,
    cni_dir: str,
    pod_cidr: str | Sequence[str],
    pod_uuid: str,
    cni: str,
    ipam_dir: str,
    mtu: int | None = None,
) -> list[Step]:
    pod = f"cni-{pod_uuid}"
    path = f"/var/run/netns/{pod}"

    def plugin(p: str, cmd: str, ifname: str, conf: str, **kw) -> Step:
        return Step(
            cni_invoke(
                os.path.join(cni_dir, p),
                cmd,
                container_id=pod_uuid,
                netns_path=path,
                ifname=ifname,
                cni_path=cni_dir,
            ),
            node_ns,
            stdin=conf,
            phase="lab",
            place="node",
            **kw,
        )

    delete = Step(ip.netns_del(pod), purpose=f"remove the pod {pod}", phase="lab", quiet_fail=True)
    return [
        Step(
            ip.netns_add(pod),
            purpose=f"a pod sandbox, named as containerd names it: {pod}",
            phase="lab",
            undo=(delete,),
        ),
        Step(NO_DAD, Netns.named(pod), phase="lab", purpose="no IPv6 DAD: the lab's state settles at once"),
        plugin(
            cni,
            "ADD",
            "eth0",
            network_conf(name, pod_cidr, cni, ipam_dir, mtu),
            key=f"cni:{pod}",
            purpose=f"CNI {cni} + host-local: eth0 in the pod, its peer on the node, an address, a default route",
            undo=(
                plugin(
                    cni,
                    "DEL",
                    "eth0",
                    network_conf(name, pod_cidr, cni, ipam_dir, mtu),
                    purpose="release the pod's address",
                    quiet_fail=True,
                ),
            ),
        ),
        plugin("loopback", "ADD", "lo", loopback_conf(name), purpose="CNI loopback: lo up in the pod"),
    ]


UPLINK = "uplink0"


UPLINK_NET = "198.51.100.0/24"  # node .1, outside .254
UPLINK_NET6 = "2001:db8:51:100::/64"  # node ::1, outside ::254


OUTSIDE_ADDRESS = "203.0.113.7"  # "somewhere on the internet", held by the outside namespace
OUTSIDE_ADDRESS6 = "2001:db8:203::7"  # the same, for IPv6 (a dual-stack or IPv6-only lab)


def outside_name(name: str) -> str:
    return f"{name}-out"[:31]


def uplink_steps(name: str, node_ns: Netns, pod_cidr: str | Sequence[str]) -> list[Step]:
    """The shape of a real node's egress: an uplink to an 'outside' namespace holding a test address,
    forwarding on, and MASQUERADE for the pods' traffic leaving by the uplink; for each family of the pod
    CIDRs (IPv6: ip6tables' MASQUERADE, the SNAT66 a dual-stack node with private pod addresses does)."""
    out = outside_name(name)
    outside = Netns.named(out)
    cidrs = [ipaddress.ip_network(c) for c in cidr_list(pod_cidr)]

    def lab_step(argv, ns=None, purpose="", **kw) -> Step:
        place = "outside" if ns == outside else "node"
        return Step(argv, ns, purpose=purpose, phase="lab", place=place, **kw)

    held = " and ".join(OUTSIDE[c.version] for c in cidrs)
    steps = [
        lab_step(
            ip.netns_add(out),
            purpose=f"the outside: {out}, holding {held}",
            undo=(lab_step(ip.netns_del(out), quiet_fail=True),),
        ),
    ]
    if any(c.version == 6 for c in cidrs):
        steps.append(lab_step(NO_DAD, outside, purpose="no IPv6 DAD: the outside's addresses work at once"))
    steps.append(lab_step(ip.veth_pair(UPLINK, "eth0", out), node_ns, purpose="the node's uplink"))
    ends = {c.version: _uplink_ends(c.version) for c in cidrs}  # (prefix length, node's, outside's)
    steps += [lab_step(ip.addr_add_text(f"{n}/{plen}", UPLINK), node_ns) for plen, n, _ in ends.values()]
    steps.append(lab_step(ip.link_up(UPLINK), node_ns))
    steps += [lab_step(ip.addr_add_text(f"{o}/{plen}", "eth0"), outside) for plen, _, o in ends.values()]
    steps += [
        lab_step(ip.addr_add_text(f"{OUTSIDE[v]}/{32 if v == 4 else 128}", "lo"), outside) for v in ends
    ]
    steps += [lab_step(ip.link_up("eth0"), outside), lab_step(ip.link_up("lo"), outside)]
    steps += [
        lab_step(
            ip.route_add_default(str(o), UPLINK),
            node_ns,
            purpose=f"the node's {'IPv6 ' if v == 6 else ''}default route, by the uplink",
        )
        for v, (_, _, o) in ends.items()
    ]
    steps += [
        lab_step(
            node.sysctl_set(node.forwarding_key(v), "1"), node_ns, purpose="forwarding on, as on any node"
        )
        for v in ends
    ]
    steps += [
        lab_step(
            node.iptables_masquerade(str(c), UPLINK, family=c.version),
            node_ns,
            purpose="the pods' traffic leaves with the node's address",
        )
        for c in cidrs
    ]
    return steps


OUTSIDE = {4: OUTSIDE_ADDRESS, 6: OUTSIDE_ADDRESS6}


def _uplink_ends(version: int) -> tuple[int, object, object]:
    """The uplink's prefix length, the node's address (::1, .1) and the outside's (::254, .254)."""
    net = ipaddress.ip_network(UPLINK_NET6 if version == 6 else UPLINK_NET)
    return net.prefixlen, net.network_address + 1, net.network_address + (0x254 if version == 6 else 254)


def node_steps(name: str) -> list[Step]:
    """The lab node itself: a namespace attached to nothing real, lo up and tagged as a lab's."""
    node_ns = Netns.named(name)
    return [
        Step(
            ip.netns_add(name),
            purpose=f"the lab node {name}: a namespace attached to nothing real",
            phase="lab",
            undo=(Step(ip.netns_del(name), purpose=f"remove the lab node {name}", phase="lab"),),
        ),
        Step(
            ip.link_alias_up("lo", f"{LAB_TAG}{name}"),
            node_ns,
            phase="lab",
            place="node",
            purpose="lo up, tagged so that `lab down` knows this node is a lab's",
        ),
        Step(
            NO_DAD, node_ns, phase="lab", place="node", purpose="no IPv6 DAD: the lab's state settles at once"
        ),
    ]


def remove_steps(pods: list[str], outside: str | None, node: str | None) -> list[Step]:
    """Pods first, then the outside, then the node: nothing is left holding a link into another."""
    steps = [Step(ip.netns_del(p), phase="lab", purpose=f"remove the pod {p}") for p in pods]
    if outside:
        steps.append(Step(ip.netns_del(outside), phase="lab", purpose=f"remove the outside {outside}"))
    if node:
        steps.append(Step(ip.netns_del(node), phase="lab", purpose=f"remove the lab node {node}"))
    return steps


# -- servers for probes (`lab up --servers`), and the rules a NetworkPolicy would add (`--policy`) ----------
# In the lab's last pod. TCP: nc listens on 8080 (open), 8081 and 8082 (behind --policy's DROP and REJECT);
# nothing on 8090 (refused). UDP: socat echoes on 9000 (open) and 9001 (behind DROP); nothing on 9002.
# DNS: dnsmasq on the pod's address answers the zone lab.example (web, www -> web); other names are
# REFUSED (it has no upstream); broken.lab.example goes to an upstream that answers SERVFAIL.
DNS_ZONE = "lab.example"
TCP_OPEN, TCP_DROPPED, TCP_REJECTED, TCP_CLOSED = 8080, 8081, 8082, 8090
UDP_ECHO, UDP_DROPPED, UDP_CLOSED = 9000, 9001, 9002
BROKEN_UPSTREAM = ("127.0.0.2", 5353)
POLICY_COMMENT = "vethctl-lab policy"
# A DNS server that answers everything with SERVFAIL (rcode 2): the broken upstream of broken.lab.example.
SERVFAIL_SERVER = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.bind((sys.argv[1], int(sys.argv[2])))\n"
    "while True:\n"
    "    q, a = s.recvfrom(4096)\n"
    "    if len(q) >= 12:\n"
    "        s.sendto(q[:2] + bytes([q[2] | 0x80, (q[3] & 0xF0) | 2]) + q[4:], a)\n"
)


def server_steps(pod: Netns, pod_ip: str | Sequence[str]) -> list[Step]:
    """The servers, each a real program started detached in the pod (their pids go into the lab's record).
    A pod with an IPv6 address gets them on IPv6 too: nc and socat on an IPv6 socket, which takes IPv4 as
    well (v4-mapped), dnsmasq on each address with an A and an AAAA record for web."""
    host, port = BROKEN_UPSTREAM
    pod_ips = cidr_list(pod_ip)
    v6 = any(":" in a for a in pod_ips)

    def serve(key: str, argv: tuple[str, ...], what: str) -> Step:
        return Step(argv, pod, purpose=what, phase="lab", daemon=True, key=key)

    steps = [
        serve(f"tcp:{p}", ("nc", *(("-6",) if v6 else ()), "-lk", str(p)), f"TCP listener on {p}")
        for p in (TCP_OPEN, TCP_DROPPED, TCP_REJECTED)
    ]
    udp = "UDP6-RECVFROM" if v6 else "UDP-RECVFROM"
    steps += [
        serve(f"udp:{p}", ("socat", f"{udp}:{p},fork", "EXEC:cat"), f"UDP echo on {p}")
        for p in (UDP_ECHO, UDP_DROPPED)
    ]
    steps.append(
        serve(
            "dns:upstream",
            ("python3", "-c", SERVFAIL_SERVER, host, str(port)),
            f"a broken upstream DNS server on {host}:{port} (always SERVFAIL)",
        )
    )
    steps.append(
        serve(
            "dns:53",
            (
                "dnsmasq",
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                *(f"--listen-address={a}" for a in pod_ips),
                "--port=53",
                f"--local=/{DNS_ZONE}/",
                f"--host-record=web.{DNS_ZONE},{','.join(pod_ips)}",
                f"--cname=www.{DNS_ZONE},web.{DNS_ZONE}",
                f"--server=/broken.{DNS_ZONE}/{host}#{port}",
                "--pid-file=",
                "--log-facility=/dev/null",
            ),
            f"dnsmasq answering {DNS_ZONE} on {' and '.join(pod_ips)} port 53",
        )
    )
    return steps


def policy_steps(pod: Netns, families: Sequence[int] = (4,)) -> list[Step]:
    """Rules where a NetworkPolicy's would drop or reject the traffic, in the server pod's own INPUT chain (the
    lab's pods share a bridge, so pod-to-pod traffic crosses no chain of the node); ip6tables' too for a pod
    with IPv6."""
    return [s for family in families for s in _policy_rules(pod, family)]


def _policy_rules(pod: Netns, family: int) -> list[Step]:
    prohibited = "icmp6-adm-prohibited" if family == 6 else "icmp-admin-prohibited"

    def rule(proto: str, port: int, *target: str) -> Step:
        argv = (
            node.iptables(family),
            "-A",
            "INPUT",
            "-p",
            proto,
            "--dport",
            str(port),
            "-m",
            "comment",
            "--comment",
            POLICY_COMMENT,
            "-j",
            *target,
        )
        return Step(argv, pod, purpose=f"policy: {' '.join(target)} {proto} {port}", phase="lab")

    return [
        rule("tcp", TCP_DROPPED, "DROP"),
        rule("tcp", TCP_REJECTED, "REJECT", "--reject-with", prohibited),
        rule("udp", UDP_DROPPED, "DROP"),
    ]
