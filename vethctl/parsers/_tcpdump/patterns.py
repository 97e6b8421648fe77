r"""The precompiled regexes and the name tables of tcpdump's text output.

Everything here is built once, at import time, and never changed after: the readers in `protocols`, `icmp`
and `lines` and the fast paths in `fastpath` only read it. A tcpdump 4.x text line (`tcpdump -nn -tt -e -l`):

    TIME [IFNAME DIR [ifindex N] ]SRCMAC > DSTMAC, ethertype NAME (0xNNNN), length N: PAYLOAD
"""

import re
import sys

# ---------------------------------------------------------------------------
# regexes
# ---------------------------------------------------------------------------


def ascii_re(pattern: str) -> re.Pattern:
    # tcpdump prints ASCII: \d and \w must not match other scripts' digits and letters
    return re.compile(pattern, re.ASCII)


# unrolled: a repeated group is several times slower in the re engine than six literal pairs
_MAC = ":".join([r"[0-9a-f]{2}"] * 6)
_IP4 = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
_IP6 = r"(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?"

# Fast-path regexes: hex digits in pairs rather than {2}, [0-9] and possessive quantifiers (Python
# 3.11+): a quarter faster in the re engine than the general patterns, same matches (tested).
PX = "+" if sys.version_info >= (3, 11) else ""
_FMAC = ":".join(["[0-9a-f][0-9a-f]"] * 6)
_FIP4 = r"\.".join(["[0-9]{1,3}" + PX] * 4)
# at most 19 digits: every number the fast paths convert fits int() and float() (a longer one, which tcpdump
# never prints, takes the reference path, which keeps what int() refuses as text)
FNUM = "[0-9]{1,19}" + PX
# fast path 1: the most common line of all, an IPv4 ICMP echo with -nn -tt -e (matches a trailing \n too)
FAST_ECHO_RE = ascii_re(
    f"({FNUM}\\.{FNUM}) ({_FMAC}) > ({_FMAC}), ethertype IPv4 \\(0x0800\\), length ({FNUM}): "
    f"({_FIP4}) > ({_FIP4}): ICMP echo (re(?:quest|ply)), id ({FNUM}), seq ({FNUM}), length ({FNUM})$"
)
# fast path 2: the -nn -tt -e Ethernet II header of an IPv4/IPv6/ARP frame
FAST_HDR_RE = ascii_re(
    f"({FNUM}\\.{FNUM}) ({_FMAC}) > ({_FMAC}), ethertype (IPv4|IPv6|ARP) \\(0x[0-9a-f]{{4}}\\), length ({FNUM}): "
)
ECHO_KIND = {"request": "echo request", "reply": "echo reply"}

# time: -tt (epoch), default (time of day), -tttt (date and time of day)
# (a time alone on its line: tcpdump printed nothing after it, e.g. for some 802.11 frames without -e)
TS_RE = ascii_re(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+|\d\d:\d\d:\d\d\.\d+|\d+\.\d+)(?: +|$)")
# what tcpdump prints at the start of a line instead of the time: a pcap record header it refuses (group 1,
# the whole line), or the time it could not format (group 2: "Error converting time" for -tt past 2^31 s in
# 4.99, "timestamp overflow", "gmtime() error", "localtime() error"), followed by the rest of a packet line
BRACKET_RE = ascii_re(
    r"(\[Invalid header: [^\]]*\]$)|\[(Error converting time|timestamp overflow|(?:gm|local)time\(\) error)\] ?"
)
# -i any (Linux cooked capture v1/v2): "eth0  In  ifindex 2 00:11:22:33:44:55 ethertype ..."
ANY_RE = ascii_re(
    r"(?:([^\s:][^\s]*) +)?(In|Out|B|M|P) +(?:ifindex (\d+) )?(?:(" + _MAC + r") )?(?=ethertype |\S)"
)
ANY_ETH_RE = ascii_re(r"ethertype (.+?) \((0x[0-9a-f]{4})\), length (\d+): ?")
# -e Ethernet header
ETH_RE = ascii_re(
    r"("
    + _MAC
    + r") > ("
    + _MAC
    + r"), (?:ethertype (.+?) \((0x[0-9a-f]{4})\)|(802\.3)), length (\d+)(?:: ?|$)"
)
# 802.1Q tag and the ethertype that follows it
VLAN_RE = ascii_re(r"vlan (\d+), p (\d+)(, DEI)?, ")
INNER_ET_RE = ascii_re(r"ethertype (.+?) \((0x[0-9a-f]{4})\)(?:, |$)")
# protocol tags that start a payload printed without -e
NOE_TAG_RE = ascii_re(
    r"(IP6? |ARP, |RARP, |LLDP, |STP |LLC, |CDPv\d|DTPv\d|VTPv\d|Loopback, |EAPOL |PPPoE |MPLS |IPX |AARP |"
    r"ethertype |vlan \d+, )"
)

# non-packet lines printed by tcpdump (mostly on stderr)
SKIP_RE = ascii_re(
    r"(?:\^C)?(?:tcpdump: |listening on |reading from file |dropped privs to |Warning: |WARNING: |"
    r"\d+ packets? (?:captured|received by filter|dropped by (?:kernel|interface)))"
)

# IPv4 / IPv6
V4_ADDRS_RE = ascii_re(r"(" + _IP4 + r")(?:\.(\d{1,5}))? > (" + _IP4 + r")(?:\.(\d{1,5}))?:(?: |$)")
V6_ADDRS_RE = ascii_re(r"(" + _IP6 + r")(?:\.(\d{1,5}))? > (" + _IP6 + r")(?:\.(\d{1,5}))?:(?: |$)")
# -v IPv4 header: tcpdump leaves `ttl` out when it is 0; protocol names may hold spaces and parentheses
# ("proto Compressed IP (108)", "Mobile IP (old)"): the name is everything up to the last "(N), length N"
V4_VHDR_RE = ascii_re(
    r"\(tos (0x[0-9a-f]+)(?:,\s*(ECT\(\d\)|CE))?(?:, ttl (\d+))?, id (\d+), offset (\d+), flags \[([^\]]*)\], "
    r"proto ([^,]+?) \((\d+)\), length (\d+)(.*)\)$"
)
V6_VHDR_RE = ascii_re(
    r"\((?:class (0x[0-9a-f]+), )?(?:flowlabel (0x[0-9a-f]+), )?hlim (\d+), next-header ([^,]+?) \((\d+)\) "
    r"payload length: (\d+)([^)]*)\)(?: |$)"
)
# an IP packet whose header says more than was captured: "truncated-ip - N bytes missing! " (IPv6: no space
# after the "!")
IP_TRUNC_RE = ascii_re(r"truncated-ip6? - (\d+) bytes missing! ?")
# where tcpdump stopped decoding a header cut short: "[|udp]", "[|tcp]", "[|icmp6]", "[|BGP Update]"...
TRUNC_MARK_RE = ascii_re(r" *\[\|([^\]]*)\]")
V6_EXT_RE = ascii_re(r"(HBH|DSTOPT|RT6|SRH|frag|CALIPSO)((?: \((?:[^()]|\([^()]*\))*\))*)(?: +|$)")
V6_FRAG_RE = ascii_re(r"frag \((?:(0x[0-9a-f]+):)?(\d+)\|(\d+)\)")
V6_PORTS_RE = ascii_re(r"(\d{1,5}) > (\d{1,5}): ")
CKSUM_RE = ascii_re(r"\[(?:\w+ sum ok|bad \w+ cksum [^\]]*)\] ")
IPPROTO_RE = ascii_re(r"ip-proto-(\d+)")
TAG_RE = ascii_re(r"[A-Za-z][A-Za-z0-9]*")
TRAIL_LEN_RE = ascii_re(r",? length (\d+)$")

# TCP / UDP
TCP_RE = ascii_re(
    r"Flags \[([^\]]*)\](?:, cksum (0x[0-9a-f]+) \(([^)]*)\))?(?:, seq (\d+)(?::(\d+))?)?(?:, ack (\d+))?"
    r"(?:, win (\d+))?(?:, urg (\d+))?(?:, options \[([^\]]*)\])?, length (\d+)(?::? (.*))?$"
)
TCP_FLAGS_RE = ascii_re(r"Flags \[([^\]]*)\],? ?")
UDP_RE = ascii_re(r"UDP, length (\d+)$")

# ICMP
ICMP_ECHO_RE = ascii_re(r"echo (request|reply), id (\d+), seq (\d+)")
ICMP_UNREACH_RE = ascii_re(
    r"(?:(net|host) )?(\S+) (?:(tcp|udp) port (\d+) |protocol (\d+) (?:port (\d+) )?)?unreachable(?: - (.+))?$"
)
ICMP_MTU_RE = ascii_re(r"need to frag(?: \(mtu (\d+)\))?$")
ICMP_REDIRECT_RE = ascii_re(r"redirect(?:-tos|-#(\d+))? (\S+) to (?:(net|host) )?(\S+)$")
ICMP_TSTAMP_RE = ascii_re(r"time stamp (query|reply) id (\d+) seq (\d+)")
ICMP6_ECHO_RE = ascii_re(r", id (\d+), seq (\d+)")
ICMP6_ND_RE = ascii_re(r"(?:, length (\d+))?, (?:who has|tgt is) ([^\s,]+)")
ICMP6_NA_FLAGS_RE = ascii_re(r", Flags \[([^\]]*)\]")
ICMP6_MLD2_RE = ascii_re(r", (\d+) group record\(s\)")
ICMP6_MLD2_GROUP_RE = ascii_re(r"\[gaddr (\S+)")
ICMP6_MLD1_RE = ascii_re(r"max resp delay: (\d+) addr: (\S+)")
ICMP6_MLD2Q_RE = ascii_re(r" (?:\[max resp delay=(\d+)\] )?\[gaddr ([^\s\]]+)")
# -v option line of ND/RS/RA: "source link-address option (1), length 8 (1): 02:00:00:00:0a:01"
ICMP6_LLADDR_RE = ascii_re(
    r"(source|destination) link-address option \(\d+\), length \d+ \(\d+\): ([0-9a-f:]+)$"
)
# the ICMPv6 messages whose -v option lines follow on lines of their own
ND_TYPES = frozenset(
    (
        "neighbor solicitation",
        "neighbor advertisement",
        "router solicitation",
        "router advertisement",
        "redirect",
    )
)
ICMP6_UNREACH_RE = ascii_re(
    r",\s+(unreachable route|unreachable prohibited|beyond scope|unreachable address|unreachable port|"
    r"unknown unreach code \((\d+)\))"
)
ICMP6_PORT_RE = ascii_re(r", (\S+) (tcp|udp) port (\d+)")
ICMP6_PROTO_PORT_RE = ascii_re(r", (\S+) protocol (\d+) port (\d+) unreachable")
ICMP6_ADDR_RE = ascii_re(r" (\S+?)(?:, source address (\S+))?(?=,|$)")
ICMP6_MTU_RE = ascii_re(r", mtu (\d+)")
ICMP6_TEX_RE = ascii_re(r" for (\S+?)(?=,|$)| \(reassembly\)|, unknown code \((\d+)\)")
ICMP6_PP_RE = ascii_re(r", (erroneous|next header|option) - octet (\d+)|, code-#(\d+)")

# ARP
# -v: "Ethernet (len 6), IPv4 (len 4), ", or "Unknown Hardware (513) (len 6), IPv4 (len 4), "
_ARP_VHDR = r"(?:[^,]+? \(len \d+\), [^,]+? \(len \d+\), )?"
ARP_REQ_RE = ascii_re(
    _ARP_VHDR + r"Request who-has (\S+)(?: \(([0-9a-f:]+)\))? tell (\S+?)(?:, length (\d+))?$"
)
ARP_REP_RE = ascii_re(_ARP_VHDR + r"Reply (\S+) is-at ([0-9a-f:]+)(?:, length (\d+))?$")
RARP_REQ_RE = ascii_re(_ARP_VHDR + r"(Reverse|Inverse) Request who-is (\S+) tell (\S+?)(?:, length (\d+))?$")
RARP_REP_RE = ascii_re(_ARP_VHDR + r"(Reverse|Inverse) Reply (\S+) at (\S+?)(?:, length (\d+))?$")

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
    "55": "mobile",
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
NEXT_HEADERS = {"0": "hopopt", "43": "ipv6-route", "44": "ipv6-frag", "60": "ipv6-opts"}

# first word of a payload printed by tcpdump after "SRC > DST: " -> protocol
TAG_PROTOCOLS = {
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
    "mobile": "mobile",
    "IPComp": "ipcomp",
    "PGM": "pgm",
    "EGPv2": "egp",
}
# the protocol named by a truncation mark right after the addresses ("[|udp]")
CUT_PROTOCOLS = {
    "udp": "udp",
    "tcp": "tcp",
    "icmp": "icmp",
    "icmp6": "icmp6",
    "sctp": "sctp",
    "dccp": "dccp",
    "igmp": "igmp",
    "gre": "gre",
    "esp": "esp",
    "ah": "ah",
    "pim": "pim",
    "ospf": "ospf",
    "vrrp": "vrrp",
    "carp": "carp",
    "mobility": "mobility",
}
# payloads that encapsulate another packet: their trailing "length N" is not theirs
ENCAP_PROTOCOLS = frozenset(("ipip", "ipv6", "gre"))

ICMP4_UNREACH_CODES = {
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
ICMP4_TYPES = (
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
ICMP6_TYPES = sorted(
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
ICMP6_TYPE_RENAME = {
    "time exceeded in-transit": "time exceeded",
}
ICMP6_UNREACH_CODES = {
    "unreachable route": "no route to destination",
    "unreachable prohibited": "administratively prohibited",
    "beyond scope": "beyond scope of source address",
    "unreachable address": "address unreachable",
    "unreachable port": "port unreachable",
}
ICMP6_PP_CODES = {
    "erroneous": "erroneous header field",
    "next header": "unrecognized next header",
    "option": "unrecognized ipv6 option",
}
ICMP_ERROR_TYPES = frozenset(
    ("destination unreachable", "time exceeded", "redirect", "parameter problem", "source quench")
)

DIRECTIONS = {"In": "in", "Out": "out", "B": "broadcast", "M": "multicast", "P": "otherhost"}
