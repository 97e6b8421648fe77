"""The node's own settings: sysctl and iptables, read (diagnostics) and written (the lab)."""

from __future__ import annotations

from vethctl.commands import Argv

# A lab is quiet on purpose: without DAD, IPv6 link-local addresses (and their routes) are final at once,
# so a snapshot taken right after `lab up` stays true.
NO_DAD: Argv = ("sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")


def sysctl_get(key: str) -> Argv:
    return ("sysctl", "-n", key)


def sysctl_set(key: str, value: str) -> Argv:
    return ("sysctl", "-qw", f"{key}={value}")


def iptables(family: int = 4) -> str:
    """IPv4's rules are iptables', IPv6's ip6tables' (the same package, the same syntax)."""
    return "ip6tables" if family == 6 else "iptables"


def forwarding_key(family: int = 4) -> str:
    """The sysctl that turns a node's forwarding on, per family."""
    return "net.ipv6.conf.all.forwarding" if family == 6 else "net.ipv4.ip_forward"


def iptables_rules(chain: str, table: str | None = None, family: int = 4) -> Argv:
    return (iptables(family), *(("-t", table) if table else ()), "-S", chain)


def iptables_masquerade(source: str, out_dev: str, family: int = 4) -> Argv:
    return (
        iptables(family),
        *("-t", "nat", "-A", "POSTROUTING", "-s", source, "-o", out_dev, "-j", "MASQUERADE"),
    )


# Which rules a packet met: every backend's rules with their counters (iptables-legacy, iptables-nft, native nft).
SAVE_TOOLS = {"iptables-legacy": "iptables-legacy-save", "iptables-nft": "iptables-nft-save"}
SAVE_TOOLS6 = {"ip6tables-legacy": "ip6tables-legacy-save", "ip6tables-nft": "ip6tables-nft-save"}


def save_tools(family: int = 4) -> dict[str, str]:
    """IPv4's rules are read with iptables-*-save, IPv6's with ip6tables-*-save: backend -> tool."""
    return SAVE_TOOLS6 if family == 6 else SAVE_TOOLS


def rules_with_counters(backend: str) -> Argv:
    return ({**SAVE_TOOLS, **SAVE_TOOLS6}[backend], "-c")


def nft_ruleset() -> Argv:
    return ("nft", "-a", "list", "ruleset")


def conntrack_entries(protocol: str, dst: str, port: int | None) -> Argv:
    """The connection-tracking entries of one flow, by its original destination (what the pod sent to)."""
    return (
        "conntrack",
        "-L",
        "-p",
        protocol,
        "--orig-dst",
        dst,
        *(("--orig-port-dst", str(port)) if port else ()),
    )


def kernel_counters() -> Argv:
    """The namespace's SNMP and extended counters, absolute values, history untouched."""
    return ("nstat", "-asz", "--json")
