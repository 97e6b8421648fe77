"""Read-only looks at a namespace's netfilter and kernel counters, through an executor: the rules of every
backend that is there (iptables-legacy, iptables-nft, native nft) with their packet counters, the
conntrack entries of one flow, the SNMP counters. Read before and after a probe, their differences say
which rules its packets hit and where it was lost."""

from __future__ import annotations

from vethctl.commands import node
from vethctl.execute.executor import Executor
from vethctl.execute.facts import ANY_EXIT
from vethctl.model import Netns
from vethctl.parsers.netfilter import parse_conntrack, parse_iptables_save, parse_nft_ruleset, parse_nstat


def rules(ex: Executor, netns: Netns | None, where: str, family: int = 4) -> tuple[list[dict], list[str]]:
    """Every counted rule of the namespace for one address family (ip6tables' for 6), and the backends that
    hold rules there."""
    found, holding = [], []
    for backend, tool in node.save_tools(family).items():
        if not ex.host.which(tool):
            continue
        res = ex.read(
            node.rules_with_counters(backend),
            netns,
            purpose=f"{where}: {backend} rules and counters",
            ok_codes=ANY_EXIT,
        )
        parsed = parse_iptables_save(res.stdout, backend) if res.rc == 0 else []
        found += parsed
        if any(not r["rule"].startswith("-P ") for r in parsed):
            holding.append(backend)
    if ex.host.which("nft"):
        res = ex.read(
            node.nft_ruleset(), netns, purpose=f"{where}: nft rules and counters", ok_codes=ANY_EXIT
        )
        parsed = parse_nft_ruleset(res.stdout) if res.rc == 0 else []
        found += parsed
        if parsed:
            holding.append("nft")
    return found, holding


def kernel(ex: Executor, netns: Netns | None, where: str) -> dict[str, int]:
    if not ex.host.which("nstat"):
        return {}
    res = ex.read(node.kernel_counters(), netns, purpose=f"{where}: the kernel's counters", ok_codes=ANY_EXIT)
    return parse_nstat(res.stdout) if res.rc == 0 else {}


def conntrack(ex: Executor, protocol: str, dst: str, port: int | None) -> list[dict]:
    """The node's conntrack entries of the flow (conntrack-tools; none when it is not installed)."""
    if not ex.host.which("conntrack"):
        return []
    res = ex.read(
        node.conntrack_entries(protocol, dst, port),
        None,
        purpose="the flow's conntrack entries",
        ok_codes=ANY_EXIT,
    )
    return parse_conntrack(res.stdout) if res.rc == 0 else []
