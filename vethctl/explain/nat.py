"""What netfilter did to a traced probe, in words: the rewrites (DNAT to a Service's backend, SNAT on the
way out) with the hops they happened between, the conntrack entry that holds them and the rule that made
them; the rules the probe's packets hit (their counters moved); the rule, or the kernel counter, that
counted its loss.

Pure: hops, readings of the rules before and after, conntrack entries and kernel counters in; the trace's
`nat`, `rules_matched` and `drops`, and sentences, out.
"""

from __future__ import annotations

from vethctl.parsers.netfilter import KERNEL_DROPS, is_drop, kube_service, nat_of
from vethctl.results.trace import TraceHop


def rules_matched(moved_by_where: dict[str, list[dict]]) -> list[dict]:
    return [
        {
            "where": where,
            "backend": r["backend"],
            "table": r["table"],
            "chain": r["chain"],
            "rule": r["rule"],
            "packets": r["packets"],
            **({"service": s} if (s := kube_service(r)) else {}),
        }
        for where, moved in moved_by_where.items()
        for r in moved
    ]


def _between(hops: tuple[TraceHop, ...], field: str, before: str) -> list[str] | None:
    """The first two hops between which `field` (dst_ip or src_ip) stops being `before`'s address."""
    addr = before.rsplit(":", 1)[0].strip("[]")
    for a, b in zip(hops, hops[1:], strict=False):
        if getattr(a, field) == addr and getattr(b, field) not in (None, addr):
            return [a.interface, b.interface]
    return None


def nat_entries(
    hops: tuple[TraceHop, ...],
    conntrack: list[dict],
    matched: list[dict],
    predicted: list[tuple[str, int, dict]] = (),
    dst: str = "",
    port: int | None = None,
) -> list[dict]:
    """One entry per rewrite (several connections of one probe share it: the first entry is shown). A packet
    dropped before conntrack confirms its connection leaves no entry: a DNAT rule whose counter moved
    (`predicted`, from netfilter.dnat_targets) then says the rewrite alone."""
    out, seen = [], set()
    for entry in conntrack:
        for rewrite in nat_of(entry):
            if (rewrite["kind"], rewrite["before"], rewrite["after"]) in seen:
                continue
            seen.add((rewrite["kind"], rewrite["before"], rewrite["after"]))
            kind = rewrite["kind"]
            wanted = ("DNAT", "dnat") if kind == "dnat" else ("SNAT", "MASQUERADE", "snat", "masquerade")
            rule = next((r for r in matched if r["target"] in wanted), None)
            field = "dst_ip" if kind == "dnat" else "src_ip"
            out.append(
                {
                    **rewrite,
                    "between": _between(hops, field, rewrite["before"]),
                    "rule": rule["rule"] if rule else None,
                    "chain": rule["chain"] if rule else None,
                    "service": kube_service(rule) if rule else None,
                    "conntrack": entry["line"],
                }
            )
    moved_keys = {r["key"] for r in matched}
    for backend, to_port, rule in predicted:
        if rule["key"] in moved_keys and not any(n["kind"] == "dnat" for n in out):
            before = f"{dst}:{port}" if port else dst
            out.append(
                {
                    "kind": "dnat",
                    "before": before,
                    "after": f"{backend}:{to_port}",
                    "between": _between(hops, "dst_ip", before),
                    "rule": rule["rule"],
                    "chain": rule["chain"],
                    "service": kube_service(rule),
                    "conntrack": None,
                }
            )
    return out


def drops(
    moved_by_where: dict[str, list[dict]], kernel_by_where: dict[str, dict[str, int]], lost: bool
) -> list[dict]:
    """The DROP and REJECT rules that counted the probe's packets; where none did and the probe was lost, the
    kernel counters that grew and mean a loss."""
    out = [
        {
            "where": where,
            "rule": r["rule"],
            "chain": r["chain"],
            "backend": r["backend"],
            "packets": r["packets"],
            **({"service": s} if (s := kube_service(r)) else {}),
        }
        for where, moved in moved_by_where.items()
        for r in moved
        if is_drop(r)
    ]
    if not out and lost:
        out = [
            {"where": where, "counter": name, "meaning": KERNEL_DROPS[name], "packets": n}
            for where, grown in kernel_by_where.items()
            for name, n in grown.items()
            if name in KERNEL_DROPS
        ]
    return out


def sentences(
    nat: list[dict], found_drops: list[dict], backends_with_rules: dict[str, list[str]], requests: str
) -> list[str]:
    notes = []
    for n in nat:
        where = f" between {n['between'][0]} and {n['between'][1]}" if n["between"] else " on the node"
        what = "destination" if n["kind"] == "dnat" else "source"
        by = ""
        if n["rule"]:
            by = f" by {n['chain']}" + (f" ({n['service']})" if n["service"] else "") + f": '{n['rule']}'"
        held = (
            f"; conntrack holds it: {n['conntrack']}"
            if n["conntrack"]
            else "; conntrack holds no entry for it (the packet was dropped before its connection was confirmed)"
        )
        notes.append(f"The {what} was rewritten from {n['before']} to {n['after']}{where}{by}{held}.")
    for d in found_drops:
        if "rule" in d:
            rejected = "REJECT" in d["rule"] or "reject" in d["rule"]
            if d.get("service") and "no endpoints" in d["rule"]:
                notes.append(
                    f"Service {d['service']} has no endpoints: its REJECT rule in {d['chain']} ({d['where']})"
                    f" answered {d['packets']} packet(s): '{d['rule']}'."
                )
            else:
                verb = "rejected" if rejected else "dropped"
                notes.append(
                    f"The {requests} were {verb} in {d['where']}: {d['backend']} rule '{d['rule']}' counted"
                    f" {d['packets']}."
                )
        else:
            notes.append(
                f"No rule counted the loss; in {d['where']} the kernel counted {d['packets']} {d['meaning']}"
                f" ({d['counter']})."
            )
    for where, backends in backends_with_rules.items():
        for tool in ("iptables", "ip6tables"):
            if f"{tool}-legacy" in backends and f"{tool}-nft" in backends:
                notes.append(
                    f"{where} has rules in both {tool}-legacy and {tool}-nft: two tools see two different rule"
                    f" sets, and both apply (check both: {tool}-legacy-save, {tool}-nft-save)."
                )
    return notes
