"""Type conversion of raw records: the `_process` of both jc parsers.

A raw record holds the strings tcpdump printed; `process` turns the integer, boolean and timestamp keys
into int, bool and float, in place (idempotent). The tables below say which key is which.
"""

from collections.abc import Callable

import jc.utils

INT_KEYS = frozenset(
    (
        "length",
        "llc_length",
        "ifindex",
        "vlan",
        "vlan_priority",
        "src_port",
        "dst_port",
        "icmp_id",
        "icmp_seq",
        "tcp_seq",
        "tcp_seq_end",
        "tcp_ack",
        "tcp_win",
        "tcp_urg",
        "payload_length",
        "ip_id",
        "frag_offset",
        "ttl",
        "hop_limit",
        "ip_length",
        "mtu",
        "mld_group_records",
        "pointer",
        "ip_bytes_missing",
        "mld_max_resp_delay",
        "dns_id",
        "dns_qdcount",
        "dns_ancount",
        "dns_nscount",
        "dns_arcount",
        "dns_length",
    )
)
INT_LIST_KEYS = frozenset(("vlans", "vlan_priorities"))
BOOL_KEYS = frozenset(("more_fragments", "dont_fragment", "vlan_dei", "dns_response"))


def _to_int(value: object) -> int | str | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        pass
    if value.__class__ is str and value.isdigit():  # type: ignore[attr-defined]
        # digits Python will not turn into an int (more than sys.get_int_max_str_digits(), 4,300 by
        # default): the text as printed stays, rather than a crash or a wrong number
        return value  # type: ignore[return-value]
    try:
        return jc.utils.convert_to_int(value)
    except (ValueError, OverflowError):
        return None


def _to_timestamp(value: object) -> float | None:
    if value.__class__ is not str:
        return value  # type: ignore[return-value]
    if ":" not in value:  # type: ignore[operator]
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except ValueError:
            return jc.utils.convert_to_float(value)
        # digits past a float's range give inf, which is not JSON: the text as printed stays
        return seconds if seconds != _INF else value  # type: ignore[return-value]
    # time of day (possibly after a -tttt date): seconds since midnight
    try:
        hh, mm, ss = value.rsplit(" ", 1)[-1].split(":")  # type: ignore[attr-defined]
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    except ValueError:
        return None


_INF = float("inf")


def _to_int_list(values: list) -> list:
    return [_to_int(v) for v in values]


def process(rec: dict) -> dict:
    """convert the raw strings of one record to int/float/bool in place (idempotent)"""
    get = _CONVERTERS.get
    for key, value in rec.items():
        conv = get(key)
        if conv is not None and value is not None:
            rec[key] = conv(value)
    return rec


# key -> conversion, one dict lookup per key
_CONVERTERS: dict[str, Callable] = {
    **{k: _to_int for k in INT_KEYS},
    **{k: jc.utils.convert_to_bool for k in BOOL_KEYS},
    **{k: _to_int_list for k in INT_LIST_KEYS},
    "timestamp": _to_timestamp,
    "inner": process,
}
