"""A lab's Kubernetes Services, as kube-proxy writes them on a node: a ClusterIP per Service, the DNAT to its
endpoints (the lab's server pod), and a REJECT for a Service without endpoints.

  --proxy-mode iptables        kube-proxy's iptables mode: nat KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-*
                               (DNAT), filter KUBE-SERVICES (REJECT: "has no endpoints"), through `iptables`
                               (or `iptables-legacy` with --proxy-mode iptables-legacy)
  --proxy-mode nftables        kube-proxy's nftables mode: table ip kube-proxy, chains services,
                               service-*, endpoint-* (dnat), the no-endpoint reject; every rule counts

Chain names are kube-proxy's: a hash of the service port (and of the endpoint) in base32, 16 characters.
Pure: the Service specs in, the steps that write the rules (in the lab node's namespace) out.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import ipaddress
import re
from dataclasses import dataclass

from vethctl.errors import BadInput
from vethctl.model import Netns, port_number
from vethctl.plan import Step

NAMESPACE = "default"
PROXY_MODES = ("iptables", "iptables-legacy", "nftables")
SERVICE_CIDR_BASE = ipaddress.ip_network("198.19.0.0/16")  # one /24 a lab: 198.19.N.0/24 beside 198.18.N.0/24
# a veth pair (no dummy module needed) holding the route of the service range, as a node's default route would
SERVICE_DEV, SERVICE_PEER = "svc0", "svc1"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
SPEC_FORM = "NAME:PORT[/udp][:TARGETPORT|:none]"


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    protocol: str  # tcp or udp
    target_port: int | None  # None: no endpoints
    cluster_ip: str = ""
    endpoint: str | None = None  # the backend pod's address

    @property
    def ref(self) -> str:
        return f"{NAMESPACE}/{self.name}"

    @property
    def port_name(self) -> str:
        return f"{self.ref}:{self.port}/{self.protocol}"

    def to_json(self) -> dict:
        return {
            "name": self.ref,
            "cluster_ip": self.cluster_ip,
            "port": self.port,
            "protocol": self.protocol,
            "endpoints": [f"{self.endpoint}:{self.target_port}"] if self.endpoint else [],
        }


def parse_service(text: str) -> Service:
    """NAME:PORT[/udp][:TARGETPORT|:none]; TARGETPORT defaults to the server pod's TCP listener 8080 (UDP echo
    9000); `none` makes a Service without endpoints."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not _NAME.fullmatch(parts[0]):
        raise BadInput(
            f"--service {text!r} is not {SPEC_FORM}", hint="e.g. --service web:80 or --service empty:80:none"
        )
    port_text, _, proto = parts[1].partition("/")
    proto = proto or "tcp"
    port = port_number(port_text)
    if proto not in ("tcp", "udp") or port is None:
        raise BadInput(
            f"--service {text!r}: the port must be 1 to 65535, /tcp or /udp", hint=f"write {SPEC_FORM}"
        )
    target: int | None = 8080 if proto == "tcp" else 9000
    if len(parts) == 3:
        target = port_number(parts[2])  # None for `none` (no endpoints), as for anything that is not a port
        if target is None and parts[2] != "none":
            raise BadInput(
                f"--service {text!r}: the target port must be 1 to 65535 or none", hint=f"write {SPEC_FORM}"
            )
    return Service(parts[0], port, proto, target)


def service_cidr(pod_cidr: str) -> ipaddress.IPv4Network:
    third = ipaddress.ip_network(pod_cidr).network_address.packed[2]
    return ipaddress.ip_network(f"198.19.{third}.0/24")


def assign(services: list[Service], pod_cidr: str, endpoint: str) -> list[Service]:
    """ClusterIPs .10, .11... of the lab's service range, and the endpoint (when the Service has one)."""
    net = service_cidr(pod_cidr)
    return [
        Service(
            s.name,
            s.port,
            s.protocol,
            s.target_port,
            str(net.network_address + 10 + i),
            endpoint if s.target_port else None,
        )
        for i, s in enumerate(services)
    ]


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def svc_chain(s: Service) -> str:
    return f"KUBE-SVC-{_hash(s.port_name)}"


def sep_chain(s: Service) -> str:
    return f"KUBE-SEP-{_hash(s.port_name + f'{s.endpoint}:{s.target_port}')}"


def _iptables(tool: str, table: str, *rule: str) -> tuple[str, ...]:
    return (tool, "-t", table, *rule)


def iptables_rules(services: list[Service], tool: str = "iptables") -> list[tuple[str, ...]]:
    """kube-proxy's iptables mode, as `iptables` commands (chains first, then rules, in kube-proxy's order)."""
    nat, flt = "nat", "filter"
    cmds = [_iptables(tool, nat, "-N", c) for c in ("KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING")]
    cmds.append(_iptables(tool, flt, "-N", "KUBE-SERVICES"))
    cmds += [
        _iptables(
            tool,
            nat,
            "-A",
            "PREROUTING",
            "-m",
            "comment",
            "--comment",
            "kubernetes service portals",
            "-j",
            "KUBE-SERVICES",
        ),
        _iptables(
            tool,
            nat,
            "-A",
            "OUTPUT",
            "-m",
            "comment",
            "--comment",
            "kubernetes service portals",
            "-j",
            "KUBE-SERVICES",
        ),
        _iptables(
            tool,
            nat,
            "-A",
            "POSTROUTING",
            "-m",
            "comment",
            "--comment",
            "kubernetes postrouting rules",
            "-j",
            "KUBE-POSTROUTING",
        ),
        _iptables(tool, nat, "-A", "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000"),
        _iptables(
            tool, nat, "-A", "KUBE-POSTROUTING", "-m", "mark", "!", "--mark", "0x4000/0x4000", "-j", "RETURN"
        ),
        _iptables(tool, nat, "-A", "KUBE-POSTROUTING", "-j", "MARK", "--xor-mark", "0x4000"),
        _iptables(
            tool,
            nat,
            "-A",
            "KUBE-POSTROUTING",
            "-m",
            "comment",
            "--comment",
            "kubernetes service traffic requiring SNAT",
            "-j",
            "MASQUERADE",
        ),
        _iptables(
            tool,
            flt,
            "-A",
            "FORWARD",
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-m",
            "comment",
            "--comment",
            "kubernetes service portals",
            "-j",
            "KUBE-SERVICES",
        ),
    ]
    for s in services:
        p, dport = s.protocol, str(s.port)
        match = ("-d", f"{s.cluster_ip}/32", "-p", p)
        if s.endpoint is None:
            cmds.append(
                _iptables(
                    tool,
                    flt,
                    "-A",
                    "KUBE-SERVICES",
                    *match,
                    "-m",
                    "comment",
                    "--comment",
                    f"{s.ref} has no endpoints",
                    "-m",
                    p,
                    "--dport",
                    dport,
                    "-j",
                    "REJECT",
                    "--reject-with",
                    "icmp-port-unreachable",
                )
            )
            continue
        svc, sep = svc_chain(s), sep_chain(s)
        comment = f"{s.ref} cluster IP"
        cmds += [
            _iptables(tool, nat, "-N", svc),
            _iptables(tool, nat, "-N", sep),
            _iptables(
                tool,
                nat,
                "-A",
                "KUBE-SERVICES",
                *match,
                "-m",
                "comment",
                "--comment",
                comment,
                "-m",
                p,
                "--dport",
                dport,
                "-j",
                svc,
            ),
            _iptables(
                tool,
                nat,
                "-A",
                svc,
                "-m",
                "comment",
                "--comment",
                f"{s.ref} -> {s.endpoint}:{s.target_port}",
                "-j",
                sep,
            ),
            _iptables(
                tool,
                nat,
                "-A",
                sep,
                "-s",
                f"{s.endpoint}/32",
                "-m",
                "comment",
                "--comment",
                s.ref,
                "-j",
                "KUBE-MARK-MASQ",
            ),
            _iptables(
                tool,
                nat,
                "-A",
                sep,
                "-p",
                p,
                "-m",
                "comment",
                "--comment",
                s.ref,
                "-m",
                p,
                "-j",
                "DNAT",
                "--to-destination",
                f"{s.endpoint}:{s.target_port}",
            ),
        ]
    return cmds


def nft_ruleset(services: list[Service]) -> str:
    """kube-proxy's nftables mode (table ip kube-proxy), every rule with a counter, for `nft -f -`."""

    def chain(name: str, *rules: str) -> list[str]:
        return [f"  chain {name} {{", *(f"    {r}" for r in rules), "  }"]

    lines = ["table ip kube-proxy {", '  comment "rules for kube-proxy"']
    lines += chain("mark-for-masquerade", "counter meta mark set meta mark | 0x4000")
    lines += chain(
        "masquerading",
        "type nat hook postrouting priority srcnat; policy accept;",
        "meta mark & 0x4000 == 0 counter return",
        "counter meta mark set meta mark ^ 0x4000",
        "counter masquerade fully-random",
    )
    lines += chain(
        "nat-prerouting", "type nat hook prerouting priority dstnat; policy accept;", "counter jump services"
    )
    lines += chain(
        "filter-forward",
        "type filter hook forward priority -110; policy accept;",
        "ct state new counter jump service-endpoints-check",
    )
    services_rules, checks = [], []
    for s in services:
        if s.endpoint is None:
            checks.append(
                f'ip daddr {s.cluster_ip} {s.protocol} dport {s.port} counter reject comment "{s.ref} has no'
                ' endpoints"'
            )
            continue
        svc = f"service-{_hash(s.port_name)[:8]}-{NAMESPACE}-{s.name}-{s.protocol}-{s.port}"
        ep = f"endpoint-{_hash(s.port_name + str(s.endpoint))[:8]}-{str(s.endpoint).replace('.', '-')}-{s.target_port}"
        services_rules.append(f"ip daddr {s.cluster_ip} {s.protocol} dport {s.port} counter goto {svc}")
        lines += chain(svc, f'counter goto {ep} comment "{s.ref} -> {s.endpoint}:{s.target_port}"')
        lines += chain(
            ep,
            f"ip saddr {s.endpoint} counter jump mark-for-masquerade",
            f'meta l4proto {s.protocol} counter dnat to {s.endpoint}:{s.target_port} comment "{s.ref}"',
        )
    lines += chain("services", *services_rules) + chain("service-endpoints-check", *checks) + ["}"]
    return "\n".join(lines) + "\n"


def service_steps(services: list[Service], node: Netns, mode: str, service_net: str) -> list[Step]:
    """In the lab node: the service range's route (on a dummy), then the rules of the proxy mode."""
    steps = [
        Step(
            ("ip", "link", "add", SERVICE_DEV, "type", "veth", "peer", "name", SERVICE_PEER),
            node,
            phase="lab",
            purpose="a link for the service range (a node's default route takes service traffic the same way)",
        ),
        Step(("ip", "link", "set", "dev", SERVICE_DEV, "up"), node, phase="lab"),
        Step(("ip", "link", "set", "dev", SERVICE_PEER, "up"), node, phase="lab"),
        Step(
            ("ip", "route", "add", service_net, "dev", SERVICE_DEV),
            node,
            phase="lab",
            purpose=f"the service range {service_net}: routed, so a Service without endpoints meets its REJECT",
        ),
    ]
    if mode == "nftables":
        steps.append(
            Step(
                ("nft", "-f", "-"),
                node,
                stdin=nft_ruleset(services),
                phase="lab",
                purpose="kube-proxy's nftables rules: table ip kube-proxy",
            )
        )
    else:
        tool = "iptables-legacy" if mode == "iptables-legacy" else "iptables"
        steps += [Step(argv, node, phase="lab", purpose="") for argv in iptables_rules(services, tool)]
        steps[4] = Step(steps[4].argv, node, phase="lab", purpose=f"kube-proxy's iptables rules ({tool})")
    return [dataclasses.replace(s, place="node") for s in steps]  # all in the lab node (for messages)
