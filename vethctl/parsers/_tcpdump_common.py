r"""Shared line parser behind the `tcpdump` and `tcpdump_s` jc parsers.

Not a jc parser module itself: it holds the precompiled regexes, the
per-packet line parser, the continuation-line state machine and the type
conversion used by both `tcpdump.py` (batch) and `tcpdump_s.py`
(streaming), so that the two can never disagree.

Layout of a tcpdump 4.x text line (`tcpdump -nn -tt -e -l`):

    TIME [IFNAME DIR [ifindex N] ]SRCMAC > DSTMAC, ethertype NAME (0xNNNN), length N: PAYLOAD

`TIME` is optional (`-t`), `IFNAME DIR` only appears for `-i any`
(Linux cooked capture), and the MAC header only with `-e`. Without `-e`
the payload starts with a protocol tag instead (`IP `, `IP6 `, `ARP, `...).

Lines starting with whitespace continue the packet above them (`-v`,
`-X`, hex dumps of unknown TLVs...). Once a capture has shown
timestamps, a packet line without a timestamp also continues the packet
above it (VXLAN and other tunnels print the inner frame on a line of its
own). Any other line is not tcpdump output (ParseError).

Speed (a ping flood is the common heavy case): LineParser.push() reads an
IPv4 ICMP echo line without the general machinery, first through a regex of
the parser's own for each of its (at most two) hot flows, then through a
cache of "flow templates" (the text between the timestamp and ", seq "
repeats from line to line: only the timestamp and the sequence number are
converted), then through one regex (FAST_ECHO_RE), and builds typed values
directly when the caller wants processed output. Other -nn -tt -e Ethernet II lines take
_FAST_HDR_RE and go straight to the ARP/IP readers. parse_packet_line() is
the reference; the tests check that the fast paths agree with it.
"""

import re
import sys
from collections.abc import Callable

import jc.utils
from jc.exceptions import ParseError

# ---------------------------------------------------------------------------
# regexes (all precompiled at import time)
# ---------------------------------------------------------------------------


def _re(pattern: str) -> re.Pattern:
    # tcpdump prints ASCII: \d and \w must not match other scripts' digits and letters
    return re.compile(pattern, re.ASCII)


# unrolled: a repeated group is several times slower in the re engine than six literal pairs
_MAC = ":".join([r"[0-9a-f]{2}"] * 6)
_IP4 = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
_IP6 = r"(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?"

# Fast-path regexes: hex digits in pairs rather than {2}, [0-9] and possessive quantifiers (Python
# 3.11+): a quarter faster in the re engine than the general patterns, same matches (tested).
_PX = "+" if sys.version_info >= (3, 11) else ""
_FMAC = ":".join(["[0-9a-f][0-9a-f]"] * 6)
_FIP4 = r"\.".join(["[0-9]{1,3}" + _PX] * 4)
_FNUM = "[0-9]+" + _PX
# fast path 1: the most common line of all, an IPv4 ICMP echo with -nn -tt -e (matches a trailing \n too)
FAST_ECHO_RE = _re(
    f"({_FNUM}\\.{_FNUM}) ({_FMAC}) > ({_FMAC}), ethertype IPv4 \\(0x0800\\), length ({_FNUM}): "
    f"({_FIP4}) > ({_FIP4}): ICMP echo (re(?:quest|ply)), id ({_FNUM}), seq ({_FNUM}), length ({_FNUM})$"
)
# fast path 2: the -nn -tt -e Ethernet II header of an IPv4/IPv6/ARP frame
_FAST_HDR_RE = _re(
    f"({_FNUM}\\.{_FNUM}) ({_FMAC}) > ({_FMAC}), ethertype (IPv4|IPv6|ARP) \\(0x[0-9a-f]{{4}}\\), length ({_FNUM}): "
)
_ECHO_KIND = {"request": "echo request", "reply": "echo reply"}

# time: -tt (epoch), default (time of day), -tttt (date and time of day)
_TS_RE = _re(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+|\d\d:\d\d:\d\d\.\d+|\d+\.\d+) +")
# -i any (Linux cooked capture v1/v2): "eth0  In  ifindex 2 00:11:22:33:44:55 ethertype ..."
_ANY_RE = _re(
    r"(?:([^\s:][^\s]*) +)?(In|Out|B|M|P) +(?:ifindex (\d+) )?(?:(" + _MAC + r") )?(?=ethertype |\S)"
)
_ANY_ETH_RE = _re(r"ethertype (.+?) \((0x[0-9a-f]{4})\), length (\d+): ?")
# -e Ethernet header
_ETH_RE = _re(
    r"("
    + _MAC
    + r") > ("
    + _MAC
    + r"), (?:ethertype (.+?) \((0x[0-9a-f]{4})\)|(802\.3)), length (\d+)(?:: ?|$)"
)
# 802.1Q tag and the ethertype that follows it
_VLAN_RE = _re(r"vlan (\d+), p (\d+)(, DEI)?, ")
_INNER_ET_RE = _re(r"ethertype (.+?) \((0x[0-9a-f]{4})\)(?:, |$)")
# protocol tags that start a payload printed without -e
_NOE_TAG_RE = _re(
    r"(IP6? |ARP, |RARP, |LLDP, |STP |LLC, |CDPv\d|DTPv\d|VTPv\d|Loopback, |EAPOL |PPPoE |MPLS |IPX |AARP |"
    r"ethertype |vlan \d+, )"
)

# non-packet lines printed by tcpdump (mostly on stderr)
_SKIP_RE = _re(
    r"(?:\^C)?(?:tcpdump: |listening on |reading from file |dropped privs to |Warning: |WARNING: |"
    r"\d+ packets? (?:captured|received by filter|dropped by (?:kernel|interface)))"
)

# IPv4 / IPv6
_V4_ADDRS_RE = _re(r"(" + _IP4 + r")(?:\.(\d{1,5}))? > (" + _IP4 + r")(?:\.(\d{1,5}))?:(?: |$)")
_V6_ADDRS_RE = _re(r"(" + _IP6 + r")(?:\.(\d{1,5}))? > (" + _IP6 + r")(?:\.(\d{1,5}))?:(?: |$)")
_V4_VHDR_RE = _re(
    r"\(tos (0x[0-9a-f]+)(?:,\s*(ECT\(\d\)|CE))?, ttl (\d+), id (\d+), offset (\d+), flags \[([^\]]*)\], "
    r"proto (\S+) \((\d+)\), length (\d+)(.*)\)$"
)
_V6_VHDR_RE = _re(
    r"\((?:class (0x[0-9a-f]+), )?(?:flowlabel (0x[0-9a-f]+), )?hlim (\d+), next-header (\S+) \((\d+)\) "
    r"payload length: (\d+)([^)]*)\)(?: |$)"
)
_V6_EXT_RE = _re(r"(HBH|DSTOPT|RT6|SRH|frag|CALIPSO)((?: \((?:[^()]|\([^()]*\))*\))*)(?: +|$)")
_V6_FRAG_RE = _re(r"frag \((?:(0x[0-9a-f]+):)?(\d+)\|(\d+)\)")
_V6_PORTS_RE = _re(r"(\d{1,5}) > (\d{1,5}): ")
_CKSUM_RE = _re(r"\[(?:\w+ sum ok|bad \w+ cksum [^\]]*)\] ")
_IPPROTO_RE = _re(r"ip-proto-(\d+)")
_TAG_RE = _re(r"[A-Za-z][A-Za-z0-9]*")
_TRAIL_LEN_RE = _re(r",? length (\d+)$")

# TCP / UDP
_TCP_RE = _re(
    r"Flags \[([^\]]*)\](?:, cksum (0x[0-9a-f]+) \(([^)]*)\))?(?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?"
    r"(?:, win (\d+))?(?:, urg (\d+))?(?:, options \[([^\]]*)\])?, length (\d+)(?::? (.*))?$"
)
_TCP_FLAGS_RE = _re(r"Flags \[([^\]]*)\],? ?")
_UDP_RE = _re(r"UDP, length (\d+)$")

# ICMP
_ICMP_ECHO_RE = _re(r"echo (request|reply), id (\d+), seq (\d+)")
_ICMP_UNREACH_RE = _re(
    r"(?:(net|host) )?(\S+) (?:(tcp|udp) port (\d+) |protocol (\d+) (?:port (\d+) )?)?unreachable(?: - (.+))?$"
)
_ICMP_MTU_RE = _re(r"need to frag(?: \(mtu (\d+)\))?$")
_ICMP_REDIRECT_RE = _re(r"redirect(?:-tos|-#(\d+))? (\S+) to (?:(net|host) )?(\S+)$")
_ICMP_TSTAMP_RE = _re(r"time stamp (query|reply) id (\d+) seq (\d+)")
_ICMP6_ECHO_RE = _re(r", id (\d+), seq (\d+)")
_ICMP6_ND_RE = _re(r"(?:, length (\d+))?, (?:who has|tgt is) ([^\s,]+)")
_ICMP6_NA_FLAGS_RE = _re(r", Flags \[([^\]]*)\]")
_ICMP6_MLD2_RE = _re(r", (\d+) group record\(s\)")
_ICMP6_UNREACH_RE = _re(
    r",\s+(unreachable route|unreachable prohibited|beyond scope|unreachable address|unreachable port|"
    r"unknown unreach code \((\d+)\))"
)
_ICMP6_PORT_RE = _re(r", (\S+) (tcp|udp) port (\d+)")
_ICMP6_PROTO_PORT_RE = _re(r", (\S+) protocol (\d+) port (\d+) unreachable")
_ICMP6_ADDR_RE = _re(r" (\S+?)(?:, source address (\S+))?(?=,|$)")
_ICMP6_MTU_RE = _re(r", mtu (\d+)")
_ICMP6_TEX_RE = _re(r" for (\S+?)(?=,|$)| \(reassembly\)|, unknown code \((\d+)\)")
_ICMP6_PP_RE = _re(r", (erroneous|next header|option) - octet (\d+)|, code-#(\d+)")

# ARP
_ARP_VHDR = r"(?:[^,()]+ \(len \d+\), [^,()]+ \(len \d+\), )?"
_ARP_REQ_RE = _re(_ARP_VHDR + r"Request who-has (\S+)(?: \(([0-9a-f:]+)\))? tell (\S+?)(?:, length (\d+))?$")
_ARP_REP_RE = _re(_ARP_VHDR + r"Reply (\S+) is-at ([0-9a-f:]+)(?:, length (\d+))?$")
_RARP_REQ_RE = _re(_ARP_VHDR + r"(Reverse|Inverse) Request who-is (\S+) tell (\S+?)(?:, length (\d+))?$")
_RARP_REP_RE = _re(_ARP_VHDR + r"(Reverse|Inverse) Reply (\S+) at (\S+?)(?:, length (\d+))?$")

# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------

#: IP protocol numbers tcpdump may print as `ip-proto-N` or `proto NAME (N)`
PROTOCOL_NUMBERS = {
    "1": "icmp",
    "2": "igmp",
    "4": "ipip",
    "6": "tcp",
    "8": "egp",
    "17": "udp",
    "33": "dccp",
    "41": "ipv6",
    "46": "rsvp",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "icmp6",
    "59": "ipv6-nonxt",
    "88": "eigrp",
    "89": "ospf",
    "103": "pim",
    "108": "ipcomp",
    "112": "vrrp",
    "113": "pgm",
    "132": "sctp",
    "135": "mobility",
    "136": "udplite",
}

# IPv6 extension headers by number (IANA keywords, lowercased)
_NEXT_HEADERS = {"0": "hopopt", "43": "ipv6-route", "44": "ipv6-frag", "60": "ipv6-opts"}

# first word of a payload printed by tcpdump after "SRC > DST: " -> protocol
_TAG_PROTOCOLS = {
    "ICMP": "icmp",
    "ICMP6": "icmp6",
    "igmp": "igmp",
    "GREv0": "gre",
    "GREv1": "gre",
    "ESP": "esp",
    "AH": "ah",
    "OSPFv2": "ospf",
    "OSPFv3": "ospf",
    "PIMv2": "pim",
    "VRRPv2": "vrrp",
    "VRRPv3": "vrrp",
    "CARPv2": "carp",
    "EIGRP": "eigrp",
    "RSVPv1": "rsvp",
    "sctp": "sctp",
    "DCCP": "dccp",
    "IP": "ipip",
    "IP6": "ipv6",
    "mobility": "mobility",
    "IPComp": "ipcomp",
    "PGM": "pgm",
    "EGPv2": "egp",
}
# payloads that encapsulate another packet: their trailing "length N" is not theirs
_ENCAP_PROTOCOLS = {"ipip", "ipv6", "gre"}

_ICMP4_UNREACH_CODES = {
    (None, "net"): "net unreachable",
    (None, "host"): "host unreachable",
    (None, "port"): "port unreachable",
    (None, "protocol"): "protocol unreachable",
    ("source route failed", None): "source route failed",
    ("unknown", "net"): "net unknown",
    ("unknown", "host"): "host unknown",
    ("source host isolated", None): "source host isolated",
    ("admin prohibited", "net"): "net prohibited",
    ("admin prohibited", "host"): "host prohibited",
    ("tos prohibited", "net"): "net unreachable for tos",
    ("tos prohibited", "host"): "host unreachable for tos",
    ("admin prohibited filter", "host"): "communication prohibited",
    ("host precedence violation", "host"): "host precedence violation",
    ("precedence cutoff", "host"): "precedence cutoff",
}

# ICMPv4 messages without a dedicated regex: tcpdump text prefix -> icmp_type
_ICMP4_TYPES = (
    ("router advertisement", "router advertisement"),
    ("router solicitation", "router solicitation"),
    ("source quench", "source quench"),
    ("information request", "information request"),
    ("information reply", "information reply"),
    ("address mask request", "address mask request"),
    ("address mask is", "address mask reply"),
    ("parameter problem", "parameter problem"),
    ("echo request", "echo request"),
    ("echo reply", "echo reply"),
)

# ICMPv6 type names as tcpdump prints them, longest first
_ICMP6_TYPES = sorted(
    (
        "destination unreachable",
        "packet too big",
        "time exceeded in-transit",
        "time exceeded",
        "parameter problem",
        "echo request",
        "echo reply",
        "multicast listener query v2",
        "multicast listener query",
        "multicast listener report v2",
        "multicast listener report",
        "multicast listener done",
        "router solicitation",
        "router advertisement",
        "neighbor solicitation",
        "neighbor advertisement",
        "redirect",
        "router renumbering",
        "node information query",
        "node information reply",
        "inverse neighbor solicitation",
        "inverse neighbor advertisement",
        "ha discovery request",
        "ha discovery reply",
        "mobile router solicitation",
        "mobile router advertisement",
        "certification path solicitation",
        "certification path advertisement",
        "RPL message",
        "who-are-you request",
        "who-are-you reply",
        "mtrace message",
        "mtrace response",
    ),
    key=len,
    reverse=True,
)
_ICMP6_TYPE_RENAME = {
    "time exceeded in-transit": "time exceeded",
}
_ICMP6_UNREACH_CODES = {
    "unreachable route": "no route to destination",
    "unreachable prohibited": "administratively prohibited",
    "beyond scope": "beyond scope of source address",
    "unreachable address": "address unreachable",
    "unreachable port": "port unreachable",
}
_ICMP6_PP_CODES = {
    "erroneous": "erroneous header field",
    "next header": "unrecognized next header",
    "option": "unrecognized ipv6 option",
}
ICMP_ERROR_TYPES = frozenset(
    ("destination unreachable", "time exceeded", "redirect", "parameter problem", "source quench")
)

_DIRECTIONS = {"In": "in", "Out": "out", "B": "broadcast", "M": "multicast", "P": "otherhost"}

_ET_CACHE: dict[str, str] = {}

# continuation modes of a pending record
MODE_NONE = 0
MODE_AWAIT_PAYLOAD = 1  # -v IPv4: addresses are on the next (indented) line
MODE_ICMP_ERROR = 2  # -v ICMP error: a quoted IP header may follow
MODE_AWAIT_INNER = 3  # -v ICMP error: quoted header seen, its addresses follow

ALWAYS_KEYS = ("timestamp", "src_mac", "dst_mac", "ethertype", "length")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _ethertype(name: str, hexval: str) -> str:
    """tcpdump's ethertype name, lowercased; the hex value when tcpdump has no name"""
    key = name + hexval
    et = _ET_CACHE.get(key)
    if et is None:
        et = hexval if name.startswith("Unknown") else name.lower()
        _ET_CACHE[key] = et
    return et


def _add_unparsed(rec: dict, text: str) -> None:
    text = text.strip()
    if text:
        old = rec.get("unparsed")
        rec["unparsed"] = text if old is None else old + " " + text


def _new_record(ts: str | None) -> dict:
    rec = {"timestamp": ts, "src_mac": None, "dst_mac": None, "ethertype": None, "length": None}
    if ts is not None and ":" in ts:
        rec["time"] = ts
    return rec


# ---------------------------------------------------------------------------
# protocol parsers: each fills `rec` from `text` and returns a MODE_* value
# ---------------------------------------------------------------------------


def _parse_arp(rec: dict, text: str) -> int:
    m = _ARP_REQ_RE.match(text)
    if m:
        rec["arp_op"] = "request"
        rec["sender_ip"] = m.group(3)
        rec["target_ip"] = m.group(1)
        if m.group(2):
            rec["target_mac"] = m.group(2)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    m = _ARP_REP_RE.match(text)
    if m:
        rec["arp_op"] = "reply"
        rec["sender_ip"] = m.group(1)
        rec["sender_mac"] = m.group(2)
        if m.group(3):
            rec["payload_length"] = m.group(3)
        return MODE_NONE
    m = _RARP_REQ_RE.match(text)
    if m:
        rec["arp_op"] = m.group(1).lower() + " request"
        rec["target_mac"] = m.group(2)
        rec["sender_mac"] = m.group(3)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    m = _RARP_REP_RE.match(text)
    if m:
        rec["arp_op"] = m.group(1).lower() + " reply"
        rec["target_mac"] = m.group(2)
        rec["target_ip"] = m.group(3)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    _add_unparsed(rec, text)
    return MODE_NONE


def _parse_tcp(rec: dict, text: str) -> None:
    rec["protocol"] = "tcp"
    m = _TCP_RE.match(text)
    if m:
        flags, cksum, cksum_state, seq, seq_end, ack, win, urg, options, plen, rest = m.groups()
        rec["tcp_flags"] = flags
        if cksum is not None:
            rec["tcp_checksum"] = cksum
            rec["checksum"] = "ok" if cksum_state == "correct" else "bad"
        if seq is not None:
            rec["tcp_seq"] = seq
            if seq_end is not None:
                rec["tcp_seq_end"] = seq_end
        if ack is not None:
            rec["tcp_ack"] = ack
        if win is not None:
            rec["tcp_win"] = win
        if urg is not None:
            rec["tcp_urg"] = urg
        if options is not None:
            rec["tcp_options"] = options
        rec["payload_length"] = plen
        if rest:
            _add_unparsed(rec, rest)
        return
    m = _TCP_FLAGS_RE.match(text)
    if m:
        rec["tcp_flags"] = m.group(1)
        text = text[m.end() :]
    elif text.startswith("tcp "):  # -q
        text = text[4:]
        if text.isdigit():
            rec["payload_length"] = text
            return
    _add_unparsed(rec, text)


def _parse_transport(rec: dict, text: str) -> None:
    """payload of an IP packet whose addresses carried ports"""
    c = text[:1]
    if c == "F" and text.startswith("Flags ["):
        _parse_tcp(rec, text)
        return
    if c == "U" and text.startswith("UDP"):
        rec["protocol"] = "udp"
        m = _UDP_RE.match(text)
        if m:
            rec["payload_length"] = m.group(1)
        else:
            _add_unparsed(rec, text)
        return
    if text.startswith("tcp ") or text.startswith("[|tcp]"):
        _parse_tcp(rec, text)
        return
    if text.startswith("sctp") or text.startswith("SCTP"):
        rec["protocol"] = "sctp"
    elif text.startswith("DCCP"):
        rec["protocol"] = "dccp"
    else:
        # any other application decode (DNS, NTP, BFD, VXLAN, DHCP...) rides on UDP:
        # TCP always prints "Flags [", SCTP and DCCP name themselves
        rec["protocol"] = "udp"
    _add_unparsed(rec, text)


def _parse_icmp4(rec: dict, text: str) -> int:
    """text after "ICMP " """
    rec["protocol"] = "icmp"
    m = _TRAIL_LEN_RE.search(text)
    if m is None:
        return _parse_icmp4_message(rec, text)
    mode = _parse_icmp4_message(rec, text[: m.start()])
    rec["payload_length"] = m.group(1)
    return mode


def _parse_icmp4_message(rec: dict, text: str) -> int:
    m = _ICMP_ECHO_RE.match(text)
    if m:
        rec["icmp_type"] = "echo " + m.group(1)
        rec["icmp_id"] = m.group(2)
        rec["icmp_seq"] = m.group(3)
        _add_unparsed(rec, text[m.end() :])
        return MODE_NONE
    if text.startswith("time exceeded in-transit"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = "time to live exceeded"
        _add_unparsed(rec, text[24:])
        return MODE_ICMP_ERROR
    if text.startswith("ip reassembly time exceeded"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = "fragment reassembly time exceeded"
        _add_unparsed(rec, text[27:])
        return MODE_ICMP_ERROR
    if text.startswith("time exceeded-#"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = text[15:]
        return MODE_ICMP_ERROR
    if " unreachable" in text:
        m = _ICMP_UNREACH_RE.match(text)
        if m:
            netorhost, dst, l4, port, proto, pport, suffix = m.groups()
            rec["icmp_type"] = "destination unreachable"
            inner: dict = {"dst_ip": dst}
            kind = netorhost
            if l4:
                kind = "port"
                inner["protocol"] = l4
                inner["dst_port"] = port
            elif proto:
                kind = "port" if pport else "protocol"
                inner["protocol"] = PROTOCOL_NUMBERS.get(proto, proto)
                if pport:
                    inner["dst_port"] = pport
            code = None
            if suffix is None:
                code = _ICMP4_UNREACH_CODES.get((None, kind))
            elif suffix.startswith("need to frag"):
                mm = _ICMP_MTU_RE.match(suffix)
                if mm:
                    code = "fragmentation needed"
                    if mm.group(1):
                        rec["mtu"] = mm.group(1)
            elif suffix.startswith("#"):
                code = suffix[1:]
            else:
                code = _ICMP4_UNREACH_CODES.get((suffix, kind))
            if code is None:
                _add_unparsed(rec, text)
            else:
                rec["icmp_code"] = code
            rec["inner"] = inner
            return MODE_ICMP_ERROR
    if text.startswith("redirect"):
        m = _ICMP_REDIRECT_RE.match(text)
        if m:
            num, dst, kind, gw = m.groups()
            rec["icmp_type"] = "redirect"
            if num is not None:
                rec["icmp_code"] = num
            elif text.startswith("redirect-tos"):
                rec["icmp_code"] = "redirect for tos and " + ("network" if kind == "net" else "host")
            else:
                rec["icmp_code"] = "redirect for " + ("network" if kind == "net" else "host")
            rec["gateway"] = gw
            rec["inner"] = {"dst_ip": dst}
            return MODE_ICMP_ERROR
    if text.startswith("time stamp "):
        m = _ICMP_TSTAMP_RE.match(text)
        if m:
            rec["icmp_type"] = "timestamp request" if m.group(1) == "query" else "timestamp reply"
            rec["icmp_id"] = m.group(2)
            rec["icmp_seq"] = m.group(3)
            _add_unparsed(rec, text[m.end() :].lstrip(":"))
            return MODE_NONE
    if text.startswith("type-#"):
        rec["icmp_type"] = text[6:]
        return MODE_NONE
    for prefix, name in _ICMP4_TYPES:
        if text.startswith(prefix):
            rec["icmp_type"] = name
            _add_unparsed(rec, text[len(prefix) :].lstrip(","))
            return MODE_ICMP_ERROR if name in ICMP_ERROR_TYPES else MODE_NONE
    _add_unparsed(rec, text)
    return MODE_NONE


def _parse_icmp6(rec: dict, text: str) -> None:
    """text after "ICMP6, " """
    rec["protocol"] = "icmp6"
    m = _TRAIL_LEN_RE.search(text)
    if m is None:
        _parse_icmp6_message(rec, text)
    else:
        _parse_icmp6_message(rec, text[: m.start()])
        rec["payload_length"] = m.group(1)


def _parse_icmp6_message(rec: dict, text: str) -> None:
    name = None
    for t in _ICMP6_TYPES:
        if text.startswith(t):
            name = t
            break
    if name is None:
        if text.startswith("unknown icmp6 type ("):
            rec["icmp_type"] = text[20:].split(")", 1)[0]
            return
        _add_unparsed(rec, text)
        return
    rec["icmp_type"] = _ICMP6_TYPE_RENAME.get(name, name)
    rest = text[len(name) :]
    if rest.startswith(", length "):  # -v prints the length right after some type names
        ln, _, tail = rest[9:].partition(",")
        if ln.isdigit():
            rec["payload_length"] = ln
            rest = "," + tail if tail else ""
    if name in ("echo request", "echo reply"):
        m = _ICMP6_ECHO_RE.match(rest)
        if m:
            rec["icmp_id"] = m.group(1)
            rec["icmp_seq"] = m.group(2)
            rest = rest[m.end() :]
    elif name in ("neighbor solicitation", "neighbor advertisement"):
        m = _ICMP6_ND_RE.match(rest)
        if m:
            if m.group(1):
                rec["payload_length"] = m.group(1)
            rec["nd_target"] = m.group(2)
            rest = rest[m.end() :]
            m = _ICMP6_NA_FLAGS_RE.match(rest)
            if m:
                rec["nd_flags"] = m.group(1)
                rest = rest[m.end() :]
    elif name == "multicast listener report v2":
        m = _ICMP6_MLD2_RE.match(rest)
        if m:
            rec["mld_group_records"] = m.group(1)
            rest = rest[m.end() :]
    elif name == "destination unreachable":
        m = _ICMP6_UNREACH_RE.match(rest)
        if m:
            code = m.group(1)
            rest = rest[m.end() :]
            if m.group(2) is not None:
                rec["icmp_code"] = m.group(2)
            else:
                rec["icmp_code"] = _ICMP6_UNREACH_CODES[code]
            if code == "unreachable port":
                mm = _ICMP6_PORT_RE.match(rest)
                if mm:
                    rec["inner"] = {"dst_ip": mm.group(1), "protocol": mm.group(2), "dst_port": mm.group(3)}
                    rest = rest[mm.end() :]
                else:
                    mm = _ICMP6_PROTO_PORT_RE.match(rest)
                    if mm:
                        rec["inner"] = {
                            "dst_ip": mm.group(1),
                            "protocol": PROTOCOL_NUMBERS.get(mm.group(2), mm.group(2)),
                            "dst_port": mm.group(3),
                        }
                        rest = rest[mm.end() :]
            elif m.group(2) is None:
                mm = _ICMP6_ADDR_RE.match(rest)
                if mm:
                    inner = {"dst_ip": mm.group(1)}
                    if mm.group(2):
                        inner["src_ip"] = mm.group(2)
                    rec["inner"] = inner
                    rest = rest[mm.end() :]
    elif name == "packet too big":
        m = _ICMP6_MTU_RE.match(rest)
        if m:
            rec["mtu"] = m.group(1)
            rest = rest[m.end() :]
    elif name.startswith("time exceeded"):
        m = _ICMP6_TEX_RE.match(rest)
        if m:
            if m.group(1):
                rec["icmp_code"] = "hop limit exceeded"
                rec["inner"] = {"dst_ip": m.group(1)}
            elif m.group(2):
                rec["icmp_code"] = m.group(2)
            else:
                rec["icmp_code"] = "fragment reassembly time exceeded"
            rest = rest[m.end() :]
    elif name == "parameter problem":
        m = _ICMP6_PP_RE.match(rest)
        if m:
            if m.group(1):
                rec["icmp_code"] = _ICMP6_PP_CODES[m.group(1)]
                rec["pointer"] = m.group(2)
            else:
                rec["icmp_code"] = m.group(3)
            rest = rest[m.end() :]
    _add_unparsed(rec, rest.lstrip(","))


def _parse_other_protocol(rec: dict, text: str) -> None:
    """payload of an IP packet without ports and without a dedicated parser"""
    m = _IPPROTO_RE.match(text)
    if m:
        num = m.group(1)
        rec["protocol"] = PROTOCOL_NUMBERS.get(num, num)
        _add_unparsed(rec, text[m.end() :])
        return
    if text.startswith("no next header"):
        rec["protocol"] = "ipv6-nonxt"
        _add_unparsed(rec, text[14:])
        return
    m = _TAG_RE.match(text)
    proto = _TAG_PROTOCOLS.get(m.group(0)) if m else None
    if proto is not None:
        rec["protocol"] = proto
        if proto not in _ENCAP_PROTOCOLS:
            m = _TRAIL_LEN_RE.search(text)
            if m:
                rec["payload_length"] = m.group(1)
                text = text[: m.start()]
    _add_unparsed(rec, text)


def _parse_ip_vheader4(rec: dict, text: str) -> bool:
    """-v IPv4 header "(tos 0x0, ttl 64, ..., length 84)"; True if it was one"""
    m = _V4_VHDR_RE.match(text)
    if not m:
        return False
    tos, ecn, ttl, ipid, off, flags, _pname, pnum, iplen, extra = m.groups()
    rec["ip_tos"] = tos
    if ecn:
        rec["ip_ecn"] = ecn
    rec["ttl"] = ttl
    rec["ip_id"] = ipid
    rec["frag_offset"] = off
    rec["ip_flags"] = flags
    rec["dont_fragment"] = "true" if "DF" in flags else "false"
    rec["more_fragments"] = "true" if "+" in flags else "false"
    rec["protocol"] = PROTOCOL_NUMBERS.get(pnum, pnum)
    rec["ip_length"] = iplen
    if extra:
        _add_unparsed(rec, extra.lstrip(","))
    return True


def _parse_ip(rec: dict, text: str, v6: bool) -> int:
    """IPv4/IPv6 payload, starting with the -v header or with the addresses"""
    if text[:1] == "(":
        if not v6:
            if _parse_ip_vheader4(rec, text):
                return MODE_AWAIT_PAYLOAD
        else:
            m = _V6_VHDR_RE.match(text)
            if m:
                tclass, flowlabel, hlim, _nname, nnum, plen, extra = m.groups()
                if tclass:
                    rec["ip_class"] = tclass
                if flowlabel:
                    rec["flow_label"] = flowlabel
                rec["hop_limit"] = hlim
                rec["next_header"] = _NEXT_HEADERS.get(nnum) or PROTOCOL_NUMBERS.get(nnum, nnum)
                rec["ip_length"] = plen
                if extra:
                    _add_unparsed(rec, extra)
                text = text[m.end() :]
    return _parse_ip_payload(rec, text, v6)


def _parse_ip_payload(rec: dict, text: str, v6: bool) -> int:
    """ "SRC[.PORT] > DST[.PORT]: PROTOCOL-TEXT" """
    m = (_V6_ADDRS_RE if v6 else _V4_ADDRS_RE).match(text)
    if m is None:
        # the other family (e.g. IP6 in an IPv4 header without -e) before giving up
        m = (_V4_ADDRS_RE if v6 else _V6_ADDRS_RE).match(text)
        if m is None:
            _add_unparsed(rec, text)
            return MODE_NONE
    sip, sport, dip, dport = m.groups()
    rec["src_ip"] = sip
    rec["dst_ip"] = dip
    text = text[m.end() :]
    if v6:
        # extension headers: "HBH ", "frag (0|1448) ", "RT6 (...) "
        m = _V6_EXT_RE.match(text)
        if m:
            exts: list[str] = []
            while m:
                tok = text[: m.end()].rstrip()
                exts.append(tok)
                if m.group(1) == "frag":
                    fm = _V6_FRAG_RE.match(tok)
                    if fm:
                        if fm.group(1):
                            rec["ip_id"] = str(int(fm.group(1), 16))
                        rec["frag_offset"] = fm.group(2)
                text = text[m.end() :]
                m = _V6_EXT_RE.match(text)
            rec["ext_headers"] = exts
    if text[:1] == "[":
        m = _CKSUM_RE.match(text)
        if m:
            rec["checksum"] = "ok" if m.group(0).endswith("sum ok] ") else "bad"
            text = text[m.end() :]
    if sport is None and v6:
        m = _V6_PORTS_RE.match(text)
        if m:
            sport, dport = m.groups()
            text = text[m.end() :]
    if sport is not None and dport is not None:
        rec["src_port"] = sport
        rec["dst_port"] = dport
        _parse_transport(rec, text)
        return MODE_NONE
    if sport is not None:  # "1.2.3.4.5 > 6.7.8.9: " can't happen; keep the text
        _add_unparsed(rec, text)
        return MODE_NONE
    if text.startswith("ICMP "):
        return _parse_icmp4(rec, text[5:])
    if text.startswith("ICMP6, "):
        _parse_icmp6(rec, text[7:])
        return MODE_NONE
    if text:
        _parse_other_protocol(rec, text)
    return MODE_NONE


def _parse_vlan(rec: dict, outer: str, text: str) -> int:
    """802.1Q/802.1ad payload: "vlan N, p N[, DEI], ethertype X (0xNNNN), ..." """
    rec["outer_ethertype"] = outer
    vlans: list[str] = []
    prios: list[str] = []
    dei = False
    pos = 0
    while True:
        m = _VLAN_RE.match(text, pos)
        if m is None:
            break
        vlans.append(m.group(1))
        prios.append(m.group(2))
        if m.group(3):
            dei = True
        pos = m.end()
        m = _INNER_ET_RE.match(text, pos)
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
        _add_unparsed(rec, rest[5:].lstrip(", "))
        return MODE_NONE
    if et.startswith("802.1q"):  # no inner ethertype could be read: keep the rest as it is
        _add_unparsed(rec, rest)
        return MODE_NONE
    return _dispatch_ethertype(rec, et, rest)


def _dispatch_ethertype(rec: dict, et: str, text: str) -> int:
    if et == "ipv4":
        return _parse_ip(rec, text, False)
    if et == "ipv6":
        return _parse_ip(rec, text, True)
    if et == "arp" or et == "rarp":
        return _parse_arp(rec, text)
    if et.startswith("802.1q") and text.startswith("vlan "):
        return _parse_vlan(rec, et, text)
    _add_unparsed(rec, text)
    return MODE_NONE


def _dispatch_noe(rec: dict, text: str) -> int:
    """payload printed without -e: starts with a protocol tag"""
    c = text[:1]
    if c == "I":
        if text.startswith("IP "):
            rec["ethertype"] = "ipv4"
            return _parse_ip(rec, text[3:], False)
        if text.startswith("IP6 "):
            rec["ethertype"] = "ipv6"
            return _parse_ip(rec, text[4:], True)
    elif c == "A":
        if text.startswith("ARP, "):
            rec["ethertype"] = "arp"
            return _parse_arp(rec, text[5:])
    elif c == "R":
        if text.startswith("RARP, "):
            rec["ethertype"] = "rarp"
            return _parse_arp(rec, text[6:])
    elif c == "L":
        if text.startswith("LLDP, "):
            rec["ethertype"] = "lldp"
    elif c == "e":
        m = _ANY_ETH_RE.match(text)
        if m:
            et = _ethertype(m.group(1), m.group(2))
            rec["ethertype"] = et
            rec["length"] = m.group(3)
            return _dispatch_ethertype(rec, et, text[m.end() :])
    _add_unparsed(rec, text)
    return MODE_NONE


# ---------------------------------------------------------------------------
# line parser
# ---------------------------------------------------------------------------


def parse_packet_line(line: str) -> tuple[dict, int] | None:
    """
    Parse one packet line (not a continuation line) into a raw record.

    Returns (record, mode), or None if the line does not look like a packet
    line at all (no time, no link-layer header, no known protocol tag).

    LineParser.push() reads the ICMP echo lines of FAST_ECHO_RE itself; the
    result must be the same as this function's (tested).
    """
    m = _FAST_HDR_RE.match(line)
    if m is not None:
        ts, smac, dmac, et, ln = m.groups()
        if et == "ARP":
            rec = {"timestamp": ts, "src_mac": smac, "dst_mac": dmac, "ethertype": "arp", "length": ln}
            return rec, _parse_arp(rec, line[m.end() :])
        v6 = et == "IPv6"
        rec = {
            "timestamp": ts,
            "src_mac": smac,
            "dst_mac": dmac,
            "ethertype": "ipv6" if v6 else "ipv4",
            "length": ln,
        }
        return rec, _parse_ip(rec, line[m.end() :], v6)
    return _parse_general(line)


def _parse_general(line: str) -> tuple[dict, int] | None:
    pos = 0
    ts = None
    m = _TS_RE.match(line)
    if m is not None:
        ts = m.group(1)
        pos = m.end()
    rec = _new_record(ts)
    recognised = ts is not None
    m = _ANY_RE.match(line, pos)
    if m is not None and (m.group(1) or m.group(3) or m.group(4) or line.startswith("ethertype ", m.end())):
        ifname, direction, ifindex, mac = m.groups()
        if ifname:
            rec["interface"] = ifname
        rec["direction"] = _DIRECTIONS[direction]
        if ifindex:
            rec["ifindex"] = ifindex
        if mac:
            rec["src_mac"] = mac
        pos = m.end()
        recognised = True
    m = _ETH_RE.match(line, pos)
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
            _add_unparsed(rec, text)
            return rec, MODE_NONE
        rec["length"] = ln
        et = _ethertype(etname, ethex)
        rec["ethertype"] = et
        return rec, _dispatch_ethertype(rec, et, text)
    text = line[pos:]
    if not recognised and _NOE_TAG_RE.match(text) is None:
        return None
    return rec, _dispatch_noe(rec, text)


def _parse_inner(text: str) -> dict:
    """the packet quoted in a -v ICMP error, e.g. "192.0.2.1.5 > 198.51.100.1.9: UDP, length 1" """
    tmp: dict = {}
    v6 = _V4_ADDRS_RE.match(text) is None and _V6_ADDRS_RE.match(text) is not None
    _parse_ip_payload(tmp, text, v6)
    return tmp


# ---------------------------------------------------------------------------
# line state machine
# ---------------------------------------------------------------------------

_fast_echo = FAST_ECHO_RE.match
# TIMESTAMP, the text up to ", seq " (the template key), SEQ, LENGTH (a trailing \n is allowed by $)
_echo_tail = _re(f"({_FNUM}\\.{_FNUM})( .*), seq ({_FNUM}), length ({_FNUM})$").match
# text between the timestamp and ", seq " of an ICMP echo line -> (typed record, raw record, length)
_ECHO_TEMPLATES: dict[str, tuple[dict, dict, str]] = {}
_ECHO_TEMPLATES_MAX = 4096
# A flow a parser has seen this often gets a regex of its own: the line's text as a literal but for the
# timestamp and the sequence number. It matches in half the time of the template lookup above and builds no
# key string. At most two per parser (a flood's requests and replies), so that other lines pay little.
_HOT_AFTER = 64
_HOT_MAX = 2


def _hot_pattern(key: str, plen: str) -> Callable[[str], re.Match | None]:
    return _re(f"({_FNUM}\\.{_FNUM}){re.escape(key)}, seq ({_FNUM}), length {re.escape(plen)}$").match


def _raw_template(m: re.Match) -> dict:
    ts, smac, dmac, ln, sip, dip, kind, iid, seq, plen = m.groups()
    return {
        "timestamp": ts,
        "src_mac": smac,
        "dst_mac": dmac,
        "ethertype": "ipv4",
        "length": ln,
        "src_ip": sip,
        "dst_ip": dip,
        "protocol": "icmp",
        "icmp_type": _ECHO_KIND[kind],
        "icmp_id": iid,
        "icmp_seq": seq,
        "payload_length": plen,
    }


def _typed_template(raw: dict) -> dict:
    return {
        "timestamp": float(raw["timestamp"]),
        "src_mac": raw["src_mac"],
        "dst_mac": raw["dst_mac"],
        "ethertype": "ipv4",
        "length": int(raw["length"]),
        "src_ip": raw["src_ip"],
        "dst_ip": raw["dst_ip"],
        "protocol": "icmp",
        "icmp_type": raw["icmp_type"],
        "icmp_id": int(raw["icmp_id"]),
        "icmp_seq": int(raw["icmp_seq"]),
        "payload_length": int(raw["payload_length"]),
    }


class LineParser:
    """
    Line-at-a-time state machine shared by the batch and streaming parsers.

    push(line) returns a finished record (or None) and raises ParseError for
    a line that is not tcpdump output; with lenient=True such a line becomes
    a record of its own with the text in `unparsed` instead. flush() returns
    the last pending record at the end of the input.

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
        "hot",
        "hits",
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
        # this parser's hot flows: (match, flow template); template key -> times seen
        self.hot: list[tuple[Callable[[str], re.Match | None], tuple[dict, dict, str]]] = []
        self.hits: dict[str, int] = {}

    def push(self, line: str) -> dict | None:
        # fastest path: an ICMP echo line of a hot flow (see _HOT_AFTER)
        tpl = None
        hot = self.hot
        for entry in hot:
            m = entry[0](line)
            if m is not None:
                if entry is hot[0] and len(hot) == 2:
                    hot.reverse()  # a flood alternates request and reply: try the other flow first next time
                ts, seq = m.groups()
                tpl = entry[1]
                break
        else:
            # next: an ICMP echo whose text between the timestamp and ", seq " was seen before (a flood
            # repeats it: MACs, addresses, id); only the timestamp and the sequence number are new.
            # One regex splits and checks the line (cheaper than find/rfind/partition and three checks).
            if _ECHO_TEMPLATES:
                m = _echo_tail(line)
                if m is None:  # not an echo line: FAST_ECHO_RE, a narrower pattern, cannot match it either
                    return self._push(line)
                ts, key, seq, plen = m.groups()
                tpl = _ECHO_TEMPLATES.get(key)
                if tpl is not None and plen != tpl[2]:
                    tpl = None
                elif tpl is not None and len(hot) < _HOT_MAX:
                    seen = self.hits[key] = self.hits.get(key, 0) + 1
                    if seen == _HOT_AFTER:
                        hot.append((_hot_pattern(key, plen), tpl))
        if tpl is not None:
            if self.typed:
                rec = tpl[0].copy()
                rec["timestamp"] = float(ts)
                rec["icmp_seq"] = int(seq)
            else:
                rec = tpl[1].copy()
                rec["timestamp"] = ts
                rec["icmp_seq"] = seq
            out = self.pending
            self.pending = rec
            if self.steady:
                return out
            return self._fast_swap(out)
        m = _fast_echo(line)
        if m is None:
            return self._push(line)
        # fast path: the whole record from one regex; its flow becomes the template of the lines after it
        raw = _raw_template(m)
        rec = _typed_template(raw) if self.typed else raw
        if len(_ECHO_TEMPLATES) < _ECHO_TEMPLATES_MAX:
            key = line[m.end(1) : m.start(9) - 6]
            if key not in _ECHO_TEMPLATES:
                _ECHO_TEMPLATES[key] = (_typed_template(raw), raw.copy(), raw["payload_length"])
        out = self.pending
        self.pending = rec
        if self.steady:
            return out
        return self._fast_swap(out)

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
            if self.timestamped is None:
                self.timestamped = rec["timestamp"] is not None
            elif self.timestamped and rec["timestamp"] is None and self.pending is not None:
                # no time on a timestamped capture: inner frame of VXLAN & co, -A text
                self._continuation(line)
                return None
            return self._swap(rec, mode)
        if _SKIP_RE.match(line):
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
        if not self.lenient:
            # the packet above this line is complete (a line that is not tcpdump's ends it): it travels
            # with the error, so that a streaming caller can give it first and keep the input's order
            err = ParseError(f"{why}: {line.strip()[:200]!r}")
            err.finished = self.flush()  # type: ignore[attr-defined]
            raise err
        rec = _new_record(None)
        rec["unparsed"] = line.strip()
        return self._swap(rec, MODE_NONE)

    def _continuation(self, text: str) -> None:
        rec = self.pending
        mode = self.mode
        if mode == MODE_AWAIT_PAYLOAD:
            self.mode = _parse_ip_payload(rec, text, False)  # type: ignore[arg-type]
            return
        if mode == MODE_ICMP_ERROR:
            hdr = text[3:] if text.startswith("IP (") else text
            if hdr.startswith("(tos "):
                tmp: dict = {}
                if _parse_ip_vheader4(tmp, hdr):
                    self.inner = tmp
                    self.mode = MODE_AWAIT_INNER
                    return
        elif mode == MODE_AWAIT_INNER:
            tmp = self.inner or {}
            tmp.update(_parse_inner(text))
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


# ---------------------------------------------------------------------------
# type conversion (the `_process` of both parsers)
# ---------------------------------------------------------------------------

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
    )
)
INT_LIST_KEYS = frozenset(("vlans", "vlan_priorities"))
BOOL_KEYS = frozenset(("more_fragments", "dont_fragment", "vlan_dei"))


def _to_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return jc.utils.convert_to_int(value)


def _to_timestamp(value: object) -> float | None:
    if value.__class__ is not str:
        return value  # type: ignore[return-value]
    if ":" not in value:  # type: ignore[operator]
        try:
            return float(value)  # type: ignore[arg-type]
        except ValueError:
            return jc.utils.convert_to_float(value)
    # time of day (possibly after a -tttt date): seconds since midnight
    try:
        hh, mm, ss = value.rsplit(" ", 1)[-1].split(":")  # type: ignore[attr-defined]
        return int(hh) * 3600 + int(mm) * 60 + float(ss)
    except ValueError:
        return None


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
