"""tcpdump's commands, as the parsers expect them: -nn -tt -e -l.

The filter expression always comes after `--`: an expression starting with '-' would be read as options
(`-V FILE` reads a file as root, `-w FILE` writes one). A pcap file is never opened by tcpdump by name
(it would follow a planted link as root, and chown what it found): vethctl opens it and hands it over as
tcpdump's standard input, which tcpdump writes through `/dev/stdin`."""

from __future__ import annotations

from vethctl.commands import Argv

PCAP_THROUGH = "/dev/stdin"  # where tcpdump writes the pcap file vethctl opened for it


def _expression(filter_expr: str) -> Argv:
    return ("--", filter_expr) if filter_expr else ()


def capture(
    iface: str,
    *,
    filter_expr: str,
    pcap: bool = False,
    count: int | None = None,
    decode_as: str | None = None,
    snaplen: int | None = None,
) -> Argv:
    """tcpdump as the parsers expect it: -nn -tt -e -l; immediate mode so each packet prints as it arrives.
    pcap: also write the packets to the file given as its standard input (Step.writes).
    decode_as: `-T vxlan` for an overlay on a port tcpdump does not know (flannel's 8472).
    snaplen: `-s N`, the first N bytes of each packet only (headers, not payloads)."""
    write = ("-w", PCAP_THROUGH, "--print") if pcap else ()
    limit = (*(("-s", str(snaplen)) if snaplen else ()), *(("-c", str(count)) if count else ()))
    decode = ("-T", decode_as) if decode_as else ()
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
        *_expression(filter_expr),
    )


def check_filter(filter_expr: str, iface: str | None = None) -> Argv:
    """Compile the filter without capturing (`-d`): a bad filter is caught before anything is changed."""
    return ("tcpdump", *(("-i", iface) if iface else ()), "-d", *_expression(filter_expr))


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
        *_expression(filter_expr),
    )


# A stream's kernel buffer, KiB: in immediate mode (each packet handed over at once) the default 2 MiB
# overflows within a burst (a flood of 1 KB packets on the lab: 23% kept; 32 MiB: 99.6%; make bench)
STREAM_BUFFER_KIB = 32768


def stream(iface: str, *, filter_expr: str, count: int | None = None, snaplen: int | None = None) -> Argv:
    """The raw pcap on stdout, flushed packet by packet (`-U -w -`), as `tcpdump -w - | wireshark -k -i -`
    wants it; what is printed comes from decode() where the stream is read."""
    return (
        "tcpdump",
        "-i",
        iface,
        "--immediate-mode",
        "-B",
        str(STREAM_BUFFER_KIB),
        *(("-s", str(snaplen)) if snaplen else ()),
        *(("-c", str(count)) if count else ()),
        "-U",
        "-w",
        "-",
        *_expression(filter_expr),
    )


def decode(decode_as: str | None = None) -> Argv:
    """A pcap stream on stdin printed as a live capture prints it (-nn -tt -e -l): the same parsers read it."""
    return ("tcpdump", "-r", "-", "-nn", "-tt", "-e", "-l", *(("-T", decode_as) if decode_as else ()))
