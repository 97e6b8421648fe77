"""tcpdump's commands, as the parsers expect them: -nn -tt -e -l."""

from __future__ import annotations

from vethctl.commands import Argv


def capture(
    iface: str,
    *,
    filter_expr: str,
    pcap: str | None = None,
    count: int | None = None,
    decode_as: str | None = None,
) -> Argv:
    """tcpdump as the parsers expect it: -nn -tt -e -l; immediate mode so each packet prints as it arrives.
    decode_as: `-T vxlan` for an overlay on a port tcpdump does not know (flannel's 8472)."""
    write = ("-w", pcap, "--print") if pcap else ()
    limit = ("-c", str(count)) if count else ()
    decode = ("-T", decode_as) if decode_as else ()
    expr = (filter_expr,) if filter_expr else ()
    return (
        "tcpdump",
        "-i",
        iface,
        "-nn",
        "-tt",
        "-e",
        "-l",
        "--immediate-mode",
        *limit,
        *write,
        *decode,
        *expr,
    )


def check_filter(filter_expr: str, iface: str | None = None) -> Argv:
    """Compile the filter without capturing (`-d`): a bad filter is caught before anything is changed."""
    return ("tcpdump", *(("-i", iface) if iface else ()), "-d", filter_expr)


def read(path: str, *, filter_expr: str, count: int | None = None) -> Argv:
    """A pcap file, printed as a live capture is: the same parsers read both."""
    return (
        "tcpdump",
        "-r",
        path,
        "-nn",
        "-tt",
        "-e",
        *(("-c", str(count)) if count else ()),
        *((filter_expr,) if filter_expr else ()),
    )
