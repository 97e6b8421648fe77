"""A lab node's plan: the node (a namespace), its pods made by the real CNI plugins as a kubelet makes them,
and an uplink to an 'outside' namespace. Pure: the CNI configurations and every step, with their undos."""

from __future__ import annotations

import ipaddress
import json
import os

from vethctl.commands import ip, node
from vethctl.commands.cni import invoke as cni_invoke
from vethctl.model import Netns
from vethctl.plan import Step

BRIDGE = "cni0"


LAB_TAG = "vethctl-lab:"


NO_DAD = node.NO_DAD


CNI_KINDS = ("bridge", "ptp")


def network_conf(name: str, pod_cidr: str, cni: str, ipam_dir: str, mtu: int | None = None) -> str:
    """bridge: pods on one L2 bridge (flannel, kubenet, the default CNI); ptp: routed, a /32 route per pod
    to its host veth (the shape of Calico and other routed CNIs)."""
    net = ipaddress.ip_network(pod_cidr)
    ipam = {
        "type": "host-local",
        "ranges": [[{"subnet": str(net)}]],
        "routes": [{"dst": "0.0.0.0/0"}],
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
    pod_cidr: str,
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


OUTSIDE_ADDRESS = "203.0.113.7"  # "somewhere on the internet", held by the outside namespace


def outside_name(name: str) -> str:
    return f"{name}-out"[:31]


def uplink_steps(name: str, node_ns: Netns, pod_cidr: str) -> list[Step]:
    """The shape of a real node's egress: an uplink to an 'outside' namespace holding a test address,
    forwarding on, and MASQUERADE for the pods' traffic leaving by the uplink."""
    out = outside_name(name)
    outside = Netns.named(out)
    net = ipaddress.ip_network(UPLINK_NET)
    node_ip, out_ip = net.network_address + 1, net.network_address + 254
    lab_step = lambda argv, ns=None, purpose="", **kw: Step(argv, ns, purpose=purpose, phase="lab", **kw)  # noqa: E731
    return [
        lab_step(
            ip.netns_add(out),
            purpose=f"the outside: {out}, holding {OUTSIDE_ADDRESS}",
            undo=(lab_step(ip.netns_del(out), quiet_fail=True),),
        ),
        lab_step(ip.veth_pair(UPLINK, "eth0", out), node_ns, purpose="the node's uplink"),
        lab_step(ip.addr_add_text(f"{node_ip}/{net.prefixlen}", UPLINK), node_ns),
        lab_step(ip.link_up(UPLINK), node_ns),
        lab_step(ip.addr_add_text(f"{out_ip}/{net.prefixlen}", "eth0"), outside),
        lab_step(ip.addr_add_text(f"{OUTSIDE_ADDRESS}/32", "lo"), outside),
        lab_step(ip.link_up("eth0"), outside),
        lab_step(ip.link_up("lo"), outside),
        lab_step(
            ip.route_add_default(str(out_ip), UPLINK),
            node_ns,
            purpose="the node's default route, by the uplink",
        ),
        lab_step(
            node.sysctl_set("net.ipv4.ip_forward", "1"), node_ns, purpose="forwarding on, as on any node"
        ),
        lab_step(
            node.iptables_masquerade(pod_cidr, UPLINK),
            node_ns,
            purpose="the pods' traffic leaves with the node's address",
        ),
    ]


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
            purpose="lo up, tagged so that `lab down` knows this node is a lab's",
        ),
        Step(NO_DAD, node_ns, phase="lab", purpose="no IPv6 DAD: the lab's state settles at once"),
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


def server_steps(pod: Netns, pod_ip: str) -> list[Step]:
    """The servers, each a real program started detached in the pod (their pids go into the lab's record)."""
    host, port = BROKEN_UPSTREAM

    def serve(key: str, argv: tuple[str, ...], what: str) -> Step:
        return Step(argv, pod, purpose=what, phase="lab", daemon=True, key=key)

    steps = [
        serve(f"tcp:{p}", ("nc", "-lk", str(p)), f"TCP listener on {p}")
        for p in (TCP_OPEN, TCP_DROPPED, TCP_REJECTED)
    ]
    steps += [
        serve(f"udp:{p}", ("socat", f"UDP-RECVFROM:{p},fork", "EXEC:cat"), f"UDP echo on {p}")
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
                f"--listen-address={pod_ip}",
                "--port=53",
                f"--local=/{DNS_ZONE}/",
                f"--host-record=web.{DNS_ZONE},{pod_ip}",
                f"--cname=www.{DNS_ZONE},web.{DNS_ZONE}",
                f"--server=/broken.{DNS_ZONE}/{host}#{port}",
                "--pid-file=",
                "--log-facility=/dev/null",
            ),
            f"dnsmasq answering {DNS_ZONE} on {pod_ip}:53",
        )
    )
    return steps


def policy_steps(pod: Netns) -> list[Step]:
    """Rules where a NetworkPolicy's would drop or reject the traffic, in the server pod's own INPUT chain (the
    lab's pods share a bridge, so pod-to-pod traffic crosses no chain of the node)."""

    def rule(proto: str, port: int, *target: str) -> Step:
        argv = (
            "iptables",
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
        rule("tcp", TCP_REJECTED, "REJECT", "--reject-with", "icmp-admin-prohibited"),
        rule("udp", UDP_DROPPED, "DROP"),
    ]
