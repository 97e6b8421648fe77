r"""The reference line parser and the continuation-line state machine.

parse_packet_line() reads one packet line: the time, the -i any cooked header, the -e Ethernet header
(802.1Q/802.1ad tags included) or, without -e, the protocol tag, and hands the payload to the readers of
`protocols`. Layout of a tcpdump 4.x text line (`tcpdump -nn -tt -e -l`):

    TIME [IFNAME DIR [ifindex N] ]SRCMAC > DSTMAC, ethertype NAME (0xNNNN), length N: PAYLOAD

`TIME` is optional (`-t`), `IFNAME DIR` only appears for `-i any`
(Linux cooked capture), and the MAC header only with `-e`. Without `-e`
the payload starts with a protocol tag instead (`IP `, `IP6 `, `ARP, `...).

LineParser turns lines into records. Lines starting with whitespace continue the packet above them
(`-v`, `-X`, hex dumps of unknown TLVs...). Once a capture has shown timestamps, a packet line without a
timestamp also continues the packet above it (VXLAN and other tunnels print the inner frame on a line of
its own), and so does any other line after a packet (tcpdump prints some at column 0: "[|BGP Update]").
"[Invalid header: ...]" and "[Error converting time] ..." start packets of their own. A line that is not
tcpdump output before the first packet raises ParseError. Each LineParser offers a line to its own
FastPaths (`fastpath`) first: a flood's ICMP echo lines never reach parse_packet_line().
"""

from collections.abc import Callable, Iterable, Iterator

from jc.exceptions import ParseError

from vethctl.parsers._tcpdump.fastpath import FastPaths
from vethctl.parsers._tcpdump.icmp import parse_icmp6_option
from vethctl.parsers._tcpdump.patterns import (
    ANY_ETH_RE,
    ANY_RE,
    BRACKET_RE,
    DIRECTIONS,
    ETH_RE,
    FAST_HDR_RE,
    INNER_ET_RE,
    NOE_TAG_RE,
    SKIP_RE,
    TS_RE,
    VLAN_RE,
)
from vethctl.parsers._tcpdump.protocols import (
    parse_arp,
    parse_inner,
    parse_ip,
    parse_ip_payload,
    parse_ip_vheader4,
)
from vethctl.parsers._tcpdump.records import (
    ALWAYS_KEYS,
    MODE_AWAIT_INNER,
    MODE_AWAIT_PAYLOAD,
    MODE_ICMP6_OPTIONS,
    MODE_ICMP_ERROR,
    MODE_NONE,
    add_unparsed,
    new_record,
)
from vethctl.parsers._tcpdump.stream import records


def _ethertype(name: str, hexval: str) -> str:
    """tcpdump's ethertype name, lowercased; the hex value when tcpdump has no name"""
    return hexval if name.startswith("Unknown") else name.lower()


# ---------------------------------------------------------------------------
# link layer
# ---------------------------------------------------------------------------


def _parse_vlan(rec: dict, outer: str, text: str) -> int:
    """802.1Q/802.1ad payload: "vlan N, p N[, DEI], ethertype X (0xNNNN), ..." """
    rec["outer_ethertype"] = outer
    vlans: list[str] = []
    prios: list[str] = []
    dei = False
    pos = 0
    while True:
        m = VLAN_RE.match(text, pos)
        if m is None:
            break
        vlans.append(m.group(1))
        prios.append(m.group(2))
        if m.group(3):
            dei = True
        pos = m.end()
        m = INNER_ET_RE.match(text, pos)
        if m is None:
            break
        pos = m.end()
        et = _ethertype(m.group(1), m.group(2))
        rec["ethertype"] = et
        if not et.startswith("802.1q"):
            break
    if vlans:
        rec["vlan"] = vlans[0]
        rec["vlan_priority"] = prios[0]
        if dei:
            rec["vlan_dei"] = "true"
        if len(vlans) > 1:
            rec["vlans"] = vlans
            rec["vlan_priorities"] = prios
    rest = text[pos:]
    et = rec["ethertype"]
    if et == outer and rest.startswith("802.3"):  # LLC frame inside the tag ("802.3LLC, dsap ...")
        rec["ethertype"] = "802.3"
        add_unparsed(rec, rest[5:].lstrip(", "))
        return MODE_NONE
    if et.startswith("802.1q"):  # no inner ethertype could be read: keep the rest as it is
        add_unparsed(rec, rest)
        return MODE_NONE
    return _dispatch_ethertype(rec, et, rest)


def _dispatch_ethertype(rec: dict, et: str, text: str) -> int:
    if et == "ipv4":
        return parse_ip(rec, text, False)
    if et == "ipv6":
        return parse_ip(rec, text, True)
    if et == "arp" or et == "rarp":
        return parse_arp(rec, text)
    if et.startswith("802.1q") and text.startswith("vlan "):
        return _parse_vlan(rec, et, text)
    add_unparsed(rec, text)
    return MODE_NONE


def _dispatch_noe(rec: dict, text: str) -> int:
    """payload printed without -e: starts with a protocol tag"""
    c = text[:1]
    if c == "I":
        if text.startswith("IP "):
            rec["ethertype"] = "ipv4"
            return parse_ip(rec, text[3:], False)
        if text.startswith("IP6 "):
            rec["ethertype"] = "ipv6"
            return parse_ip(rec, text[4:], True)
    elif c == "A":
        if text.startswith("ARP, "):
            rec["ethertype"] = "arp"
            return parse_arp(rec, text[5:])
    elif c == "R":
        if text.startswith("RARP, "):
            rec["ethertype"] = "rarp"
            return parse_arp(rec, text[6:])
    elif c == "L":
        if text.startswith("LLDP, "):
            rec["ethertype"] = "lldp"
    elif c == "e":
        m = ANY_ETH_RE.match(text)
        if m:
            et = _ethertype(m.group(1), m.group(2))
            rec["ethertype"] = et
            rec["length"] = m.group(3)
            return _dispatch_ethertype(rec, et, text[m.end() :])
    add_unparsed(rec, text)
    return MODE_NONE


# ---------------------------------------------------------------------------
# line parser
# ---------------------------------------------------------------------------


def parse_packet_line(line: str) -> tuple[dict, int] | None:
    """
    Parse one packet line (not a continuation line) into a raw record.

    Returns (record, mode), or None if the line does not look like a packet
    line at all (no time, no link-layer header, no known protocol tag).

    The -nn -tt -e Ethernet II header of an IPv4/IPv6/ARP frame takes one
    regex (FAST_HDR_RE) straight to the readers. The fast paths of a
    LineParser read the ICMP echo lines of FAST_ECHO_RE without this
    function; their records must be the same as this function's (tested).
    """
    m = FAST_HDR_RE.match(line)
    if m is not None:
        ts, smac, dmac, et, ln = m.groups()
        if et == "ARP":
            rec = {"timestamp": ts, "src_mac": smac, "dst_mac": dmac, "ethertype": "arp", "length": ln}
            return rec, parse_arp(rec, line[m.end() :])
        v6 = et == "IPv6"
        rec = {
            "timestamp": ts,
            "src_mac": smac,
            "dst_mac": dmac,
            "ethertype": "ipv6" if v6 else "ipv4",
            "length": ln,
        }
        return rec, parse_ip(rec, line[m.end() :], v6)
    return _parse_general(line)


def _parse_general(line: str) -> tuple[dict, int] | None:
    pos = 0
    if line[:1] == "[":
        m = BRACKET_RE.match(line)
        if m is None:
            return None
        rec = new_record(None)
        if m.group(1) is not None:
            # a pcap record tcpdump refuses ("[Invalid header: caplen==0, len==0]"): a packet it could not
            # print; a record of its own, with the text in `unparsed`
            rec["unparsed"] = line.strip()
            return rec, MODE_NONE
        # "[Error converting time] ": tcpdump could not print the time; the rest of the line is as usual
        rec["time"] = m.group(2)
        pos = m.end()
        recognised = True
    else:
        m = TS_RE.match(line)
        ts = None
        if m is not None:
            ts = m.group(1)
            pos = m.end()
        rec = new_record(ts)
        recognised = ts is not None
    m = ANY_RE.match(line, pos)
    if m is not None and (m.group(1) or m.group(3) or m.group(4) or line.startswith("ethertype ", m.end())):
        ifname, direction, ifindex, mac = m.groups()
        if ifname:
            rec["interface"] = ifname
        rec["direction"] = DIRECTIONS[direction]
        if ifindex:
            rec["ifindex"] = ifindex
        if mac:
            rec["src_mac"] = mac
        pos = m.end()
        recognised = True
    m = ETH_RE.match(line, pos)
    if m is not None:
        smac, dmac, etname, ethex, llc, ln = m.groups()
        rec["src_mac"] = smac
        rec["dst_mac"] = dmac
        text = line[m.end() :]
        if llc:
            # an 802.3 frame has a length field where Ethernet II has an ethertype: tcpdump
            # prints that field (the LLC payload length), not the frame length
            rec["ethertype"] = "802.3"
            rec["llc_length"] = ln
            add_unparsed(rec, text)
            return rec, MODE_NONE
        rec["length"] = ln
        et = _ethertype(etname, ethex)
        rec["ethertype"] = et
        return rec, _dispatch_ethertype(rec, et, text)
    text = line[pos:]
    if not recognised and NOE_TAG_RE.match(text) is None:
        return None
    return rec, _dispatch_noe(rec, text)


# ---------------------------------------------------------------------------
# line state machine
# ---------------------------------------------------------------------------


class LineParser:
    """
    Line-at-a-time state machine shared by the batch and streaming parsers.

    push(line) returns a finished record (or None). After a packet line, every
    line that is not a packet line (indented or not) continues that packet:
    tcpdump's decoders print some lines at column 0. Before the first packet,
    a line that is not tcpdump output raises ParseError; with lenient=True it
    becomes a record of its own with the text in `unparsed` instead (nothing
    is pending then, so no packet is cut by it). flush() returns the last
    pending record at the end of the input.

    Records are raw (strings) when `process` is None; otherwise each is
    passed through `process` (the parser's `_process`) when finished, except
    the fast-path ICMP echo records, built with typed values in the first
    place (the result is the same, checked by the tests).
    """

    __slots__ = (
        "pending",
        "converted",
        "mode",
        "inner",
        "timestamped",
        "lenient",
        "process",
        "typed",
        "steady",
        "fast",
        "fast_record",
    )

    def __init__(self, lenient: bool = False, process: Callable[[dict], dict] | None = None) -> None:
        self.pending: dict | None = None
        self.converted = False  # pending record already has typed values
        self.mode = MODE_NONE
        self.inner: dict | None = None
        self.timestamped: bool | None = None
        self.lenient = lenient
        self.process = process
        self.typed = process is not None
        # steady: the pending record came from the fast path and needs nothing more (no processing,
        # mode NONE, timestamped capture), so the next fast-path line can simply replace it
        self.steady = False
        # the flood fast paths and what they learnt, this parser's alone
        self.fast = FastPaths(self.typed)
        self.fast_record = self.fast.record

    def push(self, line: str) -> dict | None:
        # an ICMP echo line of a flood: the fast paths build the record (see fastpath)
        rec = self.fast_record(line)
        if rec is None:
            return self._push(line)
        out = self.pending
        self.pending = rec
        if self.steady:
            return out
        return self._fast_swap(out)

    def stream(self, lines: Iterable, on_error: Callable[[Exception, object], object]) -> Iterator:
        """The records of `lines` as they come, and in place of a line that raised, what on_error(exception,
        line) returns (or raises): push() and flush() in one loop (`stream.records`), which reads the lines
        of a hot flow itself (a flood's echo requests and replies, see `fastpath`): the same records."""
        return records(self, lines, on_error)

    def _fast_swap(self, out: dict | None) -> dict | None:
        """bookkeeping after a fast-path record replaced `out` as the pending one"""
        out_converted = self.converted
        self.converted = self.typed
        self.mode = MODE_NONE
        self.inner = None
        if self.timestamped is None:
            self.timestamped = True
        self.steady = self.timestamped
        if out is None or out_converted or self.process is None:
            return out
        return self.process(out)

    def _push(self, line: str) -> dict | None:
        line = line.rstrip()
        if not line:
            return None
        c = line[0]
        if c == " " or c == "\t":
            if self.pending is None:
                return self._bad(line, "continuation line without a packet line before it")
            self._continuation(line.strip())
            return None
        parsed = parse_packet_line(line)
        if parsed is not None:
            rec, mode = parsed
            if c == "[":  # "[Invalid header: ...]", "[Error converting time] ...": always a packet of its own
                if self.timestamped is None and "time" in rec:
                    self.timestamped = True
            elif self.timestamped is None:
                self.timestamped = rec["timestamp"] is not None
            elif self.timestamped and rec["timestamp"] is None and self.pending is not None:
                # no time on a timestamped capture: inner frame of VXLAN & co, -A text
                self._continuation(line)
                return None
            return self._swap(rec, mode)
        if SKIP_RE.match(line):
            return None
        if self.pending is not None:
            # tcpdump's own decoders print some lines at column 0 (a truncation mark after a -v decode,
            # "[|BGP Update]"; SMB/NetBIOS fields with -v): they belong to the packet above, as indented
            # lines do (one record per packet)
            self._continuation(line)
            return None
        return self._bad(line, "not a tcpdump packet line")

    def flush(self) -> dict | None:
        return self._swap(None, MODE_NONE)

    def _swap(self, rec: dict | None, mode: int) -> dict | None:
        out = self.pending
        out_converted = self.converted
        self.pending = rec
        self.converted = False
        self.steady = False
        self.mode = mode
        self.inner = None
        if out is None or out_converted or self.process is None:
            return out
        return self.process(out)

    def _bad(self, line: str, why: str) -> dict | None:
        if not self.lenient:  # (no packet is pending: after one, such a line would have continued it)
            raise ParseError(f"{why}: {line.strip()[:200]!r}")
        rec = new_record(None)
        rec["unparsed"] = line.strip()
        return self._swap(rec, MODE_NONE)

    def _continuation(self, text: str) -> None:
        rec = self.pending
        mode = self.mode
        if mode == MODE_AWAIT_PAYLOAD:
            self.mode = parse_ip_payload(rec, text, False)  # type: ignore[arg-type]
            return
        if mode == MODE_ICMP_ERROR:
            hdr = text[3:] if text.startswith("IP (") else text
            if hdr.startswith("(tos "):
                tmp: dict = {}
                if parse_ip_vheader4(tmp, hdr):
                    self.inner = tmp
                    self.mode = MODE_AWAIT_INNER
                    return
        elif mode == MODE_ICMP6_OPTIONS:
            if parse_icmp6_option(rec, text):  # type: ignore[arg-type]
                return
        elif mode == MODE_AWAIT_INNER:
            tmp = self.inner or {}
            tmp.update(parse_inner(text))
            inner = rec.setdefault("inner", {})  # type: ignore[union-attr]
            for k, v in tmp.items():
                if k not in ALWAYS_KEYS:
                    inner[k] = v
            self.inner = None
            self.mode = MODE_NONE
            return
        details = rec.get("details")  # type: ignore[union-attr]
        if details is None:
            rec["details"] = [text]  # type: ignore[index]
        else:
            details.append(text)
