"""Which package brings each tool vethctl drives (Debian/Ubuntu names), for the exit-4 message."""

from __future__ import annotations

from vethctl.errors import MissingPrerequisite

TOOL_PACKAGES = {
    "ip": "iproute2",
    "bridge": "iproute2",
    "tcpdump": "tcpdump",
    "ping": "iputils-ping",
    "nsenter": "util-linux",
    "sudo": "sudo",
    "env": "coreutils",
    "sysctl": "procps",
    "iptables": "iptables",
    "nc": "netcat-openbsd",
    "dig": "bind9-dnsutils",
    "socat": "socat",
    "dnsmasq": "dnsmasq-base",
    "python3": "python3",
    "iptables-legacy-save": "iptables",
    "iptables-nft-save": "iptables",
    "ip6tables-legacy-save": "iptables",
    "ip6tables-nft-save": "iptables",
    "nft": "nftables",
    "conntrack": "conntrack",
    "nstat": "iproute2",
}


def missing_tool(tool: str, where: str = "") -> MissingPrerequisite:
    pkg = TOOL_PACKAGES.get(tool, tool)
    return MissingPrerequisite(
        f"{tool} is not installed or not on PATH{where}", hint=f"apt-get install {pkg}, or run `make install`"
    )
