"""What the netfilter tools print, read: rules with their packet counters (`iptables-save -c` of either
backend, `nft -a list ruleset`), the DNAT a packet would meet (kube-proxy's chains followed), conntrack
entries (`conntrack -L`), and the kernel's own counters (`nstat --json`).

Pure: text in, values out. A rule is a dict: backend, table, chain, rule (as the tool prints it), target,
packets, bytes, key (what identifies it between two readings).
"""

from __future__ import annotations

import json
import re

_COUNTED = re.compile(r"^\[(\d+):(\d+)\] (-A (\S+) .*)$")
_POLICY = re.compile(r"^:(\S+) (ACCEPT|DROP) \[(\d+):(\d+)\]$")
_TARGET = re.compile(r" -j (\S+)")
_COMMENT = re.compile(r'--comment (?:"([^"]*)"|(\S+))')  # iptables'
_NFT_COMMENT = re.compile(r'(?:^| )comment "([^"]*)"')  # nft's
_DNAT = re.compile(r"--to-destination \[?([0-9a-fA-F.:]+?)\]?(?::(\d+))?(?:\s|$)")

# nft: `table ip NAME {`, `chain NAME {`, a rule `... counter packets N bytes M ... # handle H`
_NFT_TABLE = re.compile(r"^table (\S+) (\S+) \{")
_NFT_CHAIN = re.compile(r"^\s*chain (\S+) \{")
_NFT_COUNTER = re.compile(r"counter packets (\d+) bytes (\d+)")
_NFT_HANDLE = re.compile(r"\s*# handle (\d+)\s*$")
_NFT_POLICY = re.compile(r"policy (accept|drop);")
# the tables iptables-nft makes: read through iptables-nft-save, not twice
IPTABLES_NFT_TABLES = {"filter", "nat", "mangle", "raw", "security"}


def parse_iptables_save(text: str, backend: str) -> list[dict]:
    """`iptables-save -c` (backend: "iptables-legacy" or "iptables-nft"): every rule with its counters, and
    each built-in chain's policy as a rule of its own (`-P CHAIN DROP`), since a DROP policy drops too."""
    rules, table, index = [], None, {}
    for line in text.splitlines():
        if line.startswith("*"):
            table, index = line[1:].strip(), {}
            continue
        if (m := _POLICY.match(line)) and table:
            chain, policy, packets, byts = m.groups()
            rules.append(
                _rule(
                    backend,
                    table,
                    chain,
                    f"-P {chain} {policy}",
                    policy,
                    int(packets),
                    int(byts),
                    f"{table}:{chain}:policy",
                )
            )
            continue
        if (m := _COUNTED.match(line)) and table:
            packets, byts, rule, chain = m.groups()
            index[chain] = index.get(chain, 0) + 1
            target = (_TARGET.search(rule) or [None, ""])[1]
            rules.append(
                _rule(
                    backend,
                    table,
                    chain,
                    rule,
                    target,
                    int(packets),
                    int(byts),
                    f"{table}:{chain}:{index[chain]}:{rule}",
                )
            )
    return rules


def parse_nft_ruleset(text: str, skip_iptables_tables: bool = True) -> list[dict]:
    """`nft -a list ruleset`: the rules that count (a `counter` statement), and base chains' drop policies
    (which nft does not count). Tables iptables-nft made are left to iptables-nft-save."""
    rules, family, table, chain, skip = [], None, None, None, False
    for line in text.splitlines():
        if m := _NFT_TABLE.match(line):
            family, table, chain = m.group(1), m.group(2), None
            skip = skip_iptables_tables and family in ("ip", "ip6") and table in IPTABLES_NFT_TABLES
            continue
        if skip:
            continue
        if m := _NFT_CHAIN.match(line):
            chain = m.group(1)
            continue
        stripped = line.strip()
        if chain and (pm := _NFT_POLICY.search(stripped)) and pm.group(1) == "drop":
            rules.append(
                _rule(
                    "nft",
                    f"{family} {table}",
                    chain,
                    f"policy drop ({chain})",
                    "drop",
                    0,
                    0,
                    f"{family}:{table}:{chain}:policy",
                )
            )
            continue
        if chain and (cm := _NFT_COUNTER.search(stripped)):
            handle = _NFT_HANDLE.search(stripped)
            text_rule = _NFT_HANDLE.sub("", _NFT_COUNTER.sub("counter", stripped)).strip()
            words = text_rule.split()
            target = next(
                (w for w in ("drop", "reject", "accept", "dnat", "snat", "masquerade") if w in words), ""
            )
            key = f"{family}:{table}:{chain}:{handle.group(1) if handle else text_rule}"
            rules.append(
                _rule(
                    "nft",
                    f"{family} {table}",
                    chain,
                    text_rule,
                    target,
                    int(cm.group(1)),
                    int(cm.group(2)),
                    key,
                )
            )
    return rules


def _rule(backend, table, chain, rule, target, packets, byts, key) -> dict:
    comment = _COMMENT.search(rule) or _NFT_COMMENT.search(rule)
    out = {
        "backend": backend,
        "table": table,
        "chain": chain,
        "rule": rule,
        "target": target,
        "packets": packets,
        "bytes": byts,
        "key": key,
    }
    if comment:
        out["comment"] = next(g for g in comment.groups() if g is not None)
    return out


def moved(before: list[dict], after: list[dict]) -> list[dict]:
    """The rules whose packet counter grew between two readings, with `packets` the growth."""
    was = {r["key"]: r["packets"] for r in before}
    out = []
    for r in after:
        delta = r["packets"] - was.get(r["key"], 0)
        if delta > 0:
            out.append({**r, "packets": delta})
    return out


def is_drop(rule: dict) -> bool:
    return rule["target"].upper() in ("DROP", "REJECT")


def kube_service(rule: dict) -> str | None:
    """The `namespace/name` kube-proxy writes in its comments ("default/web cluster IP", "default/empty has no
    endpoints", "default/web -> 198.18.0.3:8080")."""
    comment = rule.get("comment") or ""
    m = re.match(r"([a-z0-9-]+/[a-z0-9.-]+)", comment)
    return m.group(1) if m else None


# -- where a DNAT would send a packet ------------------------------------------------------------------


def _matches(rule: str, dst: str, proto: str, port: int) -> bool:
    """Over-approximate: a rule whose destination, protocol or port says another packet is skipped; any other
    condition (marks, sources, statistics) is taken as possibly true."""
    if (m := re.search(r"(?:^| )-d (\S+?)(?:/32|/128)?(?: |$)", rule)) and m.group(1) != dst:
        return False
    if (m := re.search(r" -p (\w+)", rule)) and m.group(1) != proto:
        return False
    return not ((m := re.search(r"--dport (\d+)", rule)) and int(m.group(1)) != port)


def dnat_targets(rules: list[dict], dst: str, proto: str, port: int) -> list[tuple[str, int, dict]]:
    """(address, port, rule) of every DNAT a packet to dst:port could meet: iptables' nat PREROUTING followed
    through its jumps (kube-proxy: KUBE-SERVICES -> KUBE-SVC-* -> KUBE-SEP-*), and nft rules that say
    `ip daddr DST ... dport PORT` and jump or go to chains that `dnat to`."""
    out: list[tuple[str, int, dict]] = []
    nat = [r for r in rules if r["table"] == "nat" and not r["rule"].startswith("-P ")]
    by_chain: dict[str, list[dict]] = {}
    for r in nat:
        by_chain.setdefault(r["chain"], []).append(r)

    def follow(chain: str, depth: int = 0) -> None:
        for r in by_chain.get(chain, []) if depth < 16 else []:
            if not _matches(r["rule"], dst, proto, port):
                continue
            if r["target"] == "DNAT" and (m := _DNAT.search(r["rule"])):
                out.append((m.group(1), int(m.group(2) or port), r))
            elif r["target"] in by_chain:
                follow(r["target"], depth + 1)

    follow("PREROUTING")
    out += _nft_dnat(rules, dst, proto, port)
    return out


def _nft_dnat(rules: list[dict], dst: str, proto: str, port: int) -> list[tuple[str, int, dict]]:
    out = []
    nft = [r for r in rules if r["backend"] == "nft"]
    by_chain: dict[tuple[str, str], list[dict]] = {}
    for r in nft:
        by_chain.setdefault((r["table"], r["chain"]), []).append(r)

    def follow(table: str, chain: str, depth: int = 0) -> None:
        for r in by_chain.get((table, chain), []) if depth < 16 else []:
            text = r["rule"]
            if (m := re.search(r"ip6? daddr (\S+)", text)) and m.group(1) != dst:
                continue
            if (m := re.search(r"(tcp|udp) dport (\d+)", text)) and (
                m.group(1) != proto or int(m.group(2)) != port
            ):
                continue
            if m := re.search(r"dnat (?:ip6? )?to \[?([0-9a-fA-F.:]+?)\]?(?::(\d+))?(?:\s|$)", text):
                out.append((m.group(1), int(m.group(2) or port), r))
            elif m := re.search(r"(?:goto|jump) (\S+)", text):
                follow(table, m.group(1), depth + 1)

    for (table, chain), chain_rules in list(by_chain.items()):  # from the chains that match on a destination
        if any("daddr" in r["rule"] for r in chain_rules):
            follow(table, chain)
    seen, unique = set(), []
    for t in out:
        if (t[0], t[1], t[2]["key"]) not in seen:
            seen.add((t[0], t[1], t[2]["key"]))
            unique.append(t)
    return unique


# -- conntrack ------------------------------------------------------------------------------------------

_CT_FIELD = re.compile(r"(src|dst|sport|dport)=(\S+)")


def parse_conntrack(text: str) -> list[dict]:
    """`conntrack -L`: per entry its protocol, state, the original and the reply direction, and the line."""
    entries = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[1].isdigit():
            continue
        fields = _CT_FIELD.findall(line)
        if len(fields) < 4:
            continue
        half = len(fields) // 2
        orig, reply = dict(fields[:half]), dict(fields[half:])
        state = next((p for p in parts[3:5] if p.isupper() and "=" not in p), None)
        entries.append(
            {"protocol": parts[0], "state": state, "orig": orig, "reply": reply, "line": line.strip()}
        )
    return entries


def nat_of(entry: dict) -> list[dict]:
    """The rewrites an entry holds: DNAT (the reply comes from elsewhere than the original destination), SNAT
    (the reply goes elsewhere than the original source)."""
    o, r = entry["orig"], entry["reply"]
    out = []
    if (r.get("src"), r.get("sport")) != (o.get("dst"), o.get("dport")):
        out.append(
            {
                "kind": "dnat",
                "before": _hp(o.get("dst"), o.get("dport")),
                "after": _hp(r.get("src"), r.get("sport")),
            }
        )
    if (r.get("dst"), r.get("dport")) != (o.get("src"), o.get("sport")):
        out.append(
            {
                "kind": "snat",
                "before": _hp(o.get("src"), o.get("sport")),
                "after": _hp(r.get("dst"), r.get("dport")),
            }
        )
    return out


def _hp(host: str | None, port: str | None) -> str:
    if host and ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}" if port else str(host)


# -- the kernel's counters -------------------------------------------------------------------------------

# what a counter that grew over a probe means, when it is a loss
KERNEL_DROPS = {
    "IpInNoRoutes": "packets that arrived with no route to forward them",
    "IpOutNoRoutes": "packets the host could not route",
    "IpInAddrErrors": "packets to an address that is not here (and not forwarded)",
    "IpInDiscards": "packets discarded on input",
    "IpOutDiscards": "packets discarded on output",
    "IpExtInNoRoutes": "packets that arrived with no route",
    "TcpExtIPReversePathFilter": "packets dropped by the reverse-path filter (rp_filter)",
    "TcpExtListenDrops": "SYNs dropped by a listening socket",
    "TcpExtListenOverflows": "SYNs dropped at a full accept queue",
    "TcpExtTCPBacklogDrop": "TCP segments dropped at a full socket backlog",
    "UdpInErrors": "UDP datagrams dropped on receive",
    "UdpRcvbufErrors": "UDP datagrams dropped at a full receive buffer",
    "UdpNoPorts": "UDP datagrams to a port nothing listens on",
    "Udp6NoPorts": "UDP datagrams to a port nothing listens on",
    "Ip6InNoRoutes": "IPv6 packets that arrived with no route",
    "Ip6OutNoRoutes": "IPv6 packets the host could not route",
}


def parse_nstat(text: str) -> dict[str, int]:
    """`nstat -asz --json`: {counter: value} (absolute values)."""
    try:
        doc = json.loads(text or "{}", strict=False)
    except json.JSONDecodeError:
        return {}
    kernel = doc.get("kernel") if isinstance(doc, dict) else None
    return {k: v for k, v in (kernel if isinstance(kernel, dict) else {}).items() if isinstance(v, int)}


def grew(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}
