"""The tcpdump parser against an independent decode of the same pcap (tests/unit/parsers/test_crosscheck.py).

crosscheck(pcap, rendering) runs `tcpdump -r FILE -nn -tt -e` (or with -v), parses the text with
vethctl.parsers.tcpdump under jc's defaults (quiet=False: a ParseError fails the check), decodes the pcap
with dpkt, and compares packet by packet every field that both sides define:

    timestamp (to 1e-6 s), length (original frame length), src_mac, dst_mac, ethertype,
    outer_ethertype, vlan, vlans, interface index and direction (Linux cooked captures),
    ARP op / sender_ip / target_ip / sender_mac / target_mac, src_ip, dst_ip, protocol, src_port,
    dst_port, tcp_flags, tcp_win, payload_length (TCP, UDP, ICMP), icmp_type, icmp_code, icmp_id,
    icmp_seq, nd_target, mld_group_records, frag_offset (IPv6), and the quoted packet of ICMP
    errors (inner dst_ip, protocol, dst_port); with -v also ttl, hop_limit, ip_id, ip_length,
    frag_offset, more_fragments, dont_fragment, and the inner src_ip, src_port, ttl and ip_id;
    ip_bytes_missing (truncated-ip), target_ip of ND (and nd_target), source_lladdr/target_lladdr (-v
    ND options), mld_group (MLDv1), and DNS: dns_id, dns_response, dns_opcode, dns_rcode, dns_qtype,
    dns_qname, the three counts of a response and the types (and A/AAAA/CNAME data) of its answers.

The number of records must equal the number of packets: a continuation line mistaken for a packet,
or a packet swallowed as a continuation, fails the test. A field the decoder knows, whose value
tcpdump printed in that packet's text (addresses, ports, ttl...), but which the record lacks, counts as
missing (`missed`): a field the parser stops reading cannot go unnoticed.

tcpdump quirks normalised here (the parser keeps tcpdump's view; the decoder below adapts to it):

- VLAN / QinQ frames: tcpdump prints the ethertype inside the tag(s); the parser puts it in
  `ethertype` and the frame's own ethertype in `outer_ethertype`, so the decoder compares the
  innermost type with `ethertype` and the first one with `outer_ethertype`.
- 802.3 frames carry a length where Ethernet II has an ethertype: tcpdump prints "802.3" and so does
  the parser; the decoder maps a type/length field <= 1500 to "802.3".
- ethertype names are tcpdump's (lowercased), mapped to numbers by ETHERTYPE_NAMES below; an
  unnamed type is printed by tcpdump, and kept by the parser, as its hex value.
- tcpdump prints nothing of the transport layer for IPv4 fragments past the first ("ip-proto-1"),
  nor the upper-layer protocol of IPv6 fragments past the first: those fields are absent from the
  record, hence not compared. The parser maps ip-proto-N to a name through PROTOCOL_NUMBERS.
- TCP sequence and acknowledgement numbers are relative to the first segment in tcpdump's output
  (no -S), so they are not compared; flags and window are.
- ARP with a hardware address length other than 6 (arp-too-long-tha.pcap) is decoded by hand from
  hln/pln, since dpkt's ARP header assumes 6/4.
- Linux cooked captures (-i any): one MAC (the source), the interface index and the packet type;
  the interface name tcpdump prints depends on the reading host and is not compared.
- Packets carried in tunnels (VXLAN inner frames, which tcpdump prints on a line of their own) are
  kept in `details` and not compared; the outer packet is.
- A payload length is compared only when the packet was captured whole (caplen == len) and, for
  IPv6, when the payload length field is not 0 (jumbograms).
- tcpdump prints "mobility:" for IPv6 next header 135 and for 62 ("Mobile IP (old)"): both match.
- A pcap record tcpdump refuses ("[Invalid header: ...]") has no time in the text: nothing compared.
"""

import functools
import os
import socket
import struct
import subprocess
from typing import NamedTuple

import dpkt

import vethctl.parsers.tcpdump as tcpdump_parser

TCPDUMP = "tcpdump"

# tcpdump's ethertype names (lowercased, as the parser reports them) -> number
ETHERTYPE_NAMES = {
    "ipv4": 0x0800,
    "arp": 0x0806,
    "rarp": 0x8035,
    "ipv6": 0x86DD,
    "802.1q": 0x8100,
    "802.1q-qinq": 0x88A8,
    "802.1q-9100": 0x9100,
    "lldp": 0x88CC,
    "loopback": 0x9000,
    "mpls unicast": 0x8847,
    "eapol": 0x888E,
}
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)

# protocol names the parser reports -> IP protocol number
PROTOCOLS = {
    "icmp": 1,
    "igmp": 2,
    "ipip": 4,
    "tcp": 6,
    "egp": 8,
    "udp": 17,
    "dccp": 33,
    "ipv6": 41,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmp6": 58,
    "ipv6-nonxt": 59,
    "eigrp": 88,
    "ospf": 89,
    "mobile": 55,
    "pim": 103,
    "ipcomp": 108,
    "vrrp": 112,
    "carp": 112,
    "pgm": 113,
    "sctp": 132,
    "mobility": 135,
    "udplite": 136,
}

ICMP4_TYPES = {
    "echo reply": 0,
    "destination unreachable": 3,
    "source quench": 4,
    "redirect": 5,
    "echo request": 8,
    "router advertisement": 9,
    "router solicitation": 10,
    "time exceeded": 11,
    "parameter problem": 12,
    "timestamp request": 13,
    "timestamp reply": 14,
    "information request": 15,
    "information reply": 16,
    "address mask request": 17,
    "address mask reply": 18,
}
ICMP4_CODES = {
    3: {
        "net unreachable": 0,
        "host unreachable": 1,
        "protocol unreachable": 2,
        "port unreachable": 3,
        "fragmentation needed": 4,
        "source route failed": 5,
        "net unknown": 6,
        "host unknown": 7,
        "source host isolated": 8,
        "net prohibited": 9,
        "host prohibited": 10,
        "net unreachable for tos": 11,
        "host unreachable for tos": 12,
        "communication prohibited": 13,
        "host precedence violation": 14,
        "precedence cutoff": 15,
    },
    11: {"time to live exceeded": 0, "fragment reassembly time exceeded": 1},
}
ICMP6_TYPES = {
    "destination unreachable": 1,
    "packet too big": 2,
    "time exceeded": 3,
    "parameter problem": 4,
    "echo request": 128,
    "echo reply": 129,
    "multicast listener query": 130,
    "multicast listener query v2": 130,
    "multicast listener report": 131,
    "multicast listener done": 132,
    "router solicitation": 133,
    "router advertisement": 134,
    "neighbor solicitation": 135,
    "neighbor advertisement": 136,
    "redirect": 137,
    "router renumbering": 138,
    "node information query": 139,
    "node information reply": 140,
    "inverse neighbor solicitation": 141,
    "inverse neighbor advertisement": 142,
    "multicast listener report v2": 143,
}
ICMP6_CODES = {
    1: {
        "no route to destination": 0,
        "administratively prohibited": 1,
        "beyond scope of source address": 2,
        "address unreachable": 3,
        "port unreachable": 4,
    },
    3: {"hop limit exceeded": 0, "fragment reassembly time exceeded": 1},
    4: {"erroneous header field": 0, "unrecognized next header": 1, "unrecognized ipv6 option": 2},
}
ARP_OPS = {
    1: "request",
    2: "reply",
    3: "reverse request",
    4: "reverse reply",
    8: "inverse request",
    9: "inverse reply",
}
SLL_DIRECTIONS = {0: "in", 1: "broadcast", 2: "multicast", 3: "otherhost", 4: "out"}
# in the order tcpdump prints them ("FP." is FIN+PSH+ACK)
TCP_FLAG_LETTERS = (
    (dpkt.tcp.TH_FIN, "F"),
    (dpkt.tcp.TH_SYN, "S"),
    (dpkt.tcp.TH_RST, "R"),
    (dpkt.tcp.TH_PUSH, "P"),
    (dpkt.tcp.TH_ACK, "."),
    (dpkt.tcp.TH_URG, "U"),
    (dpkt.tcp.TH_ECE, "E"),
    (dpkt.tcp.TH_CWR, "W"),
)
IPV6_EXT = (0, 43, 60, 51)  # hop-by-hop, routing, destination options, AH (fragment: 44, below)

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL2 = 276


def _mac(b):
    return ":".join(f"{x:02x}" for x in b)


def _ip(b):
    return socket.inet_ntop(socket.AF_INET6 if len(b) == 16 else socket.AF_INET, b)


# DNS as tcpdump names them (print-domain.c)
DNS_OPCODES = {1: "inv_q", 2: "stat", 4: "notify", 5: "update"}
DNS_RCODES = {
    0: "NoError",
    1: "FormErr",
    2: "ServFail",
    3: "NXDomain",
    4: "NotImp",
    5: "Refused",
    6: "YXDomain",
    7: "YXRRSet",
    8: "NXRRSet",
    9: "NotAuth",
    10: "NotZone",
}
DNS_TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV"}


def _ethertype_name(t):
    if t <= 1500:
        return "802.3"
    for name, num in ETHERTYPE_NAMES.items():
        if num == t:
            return name
    return f"0x{t:04x}"


def _tcp_flags(flags):
    return "".join(letter for bit, letter in TCP_FLAG_LETTERS if flags & bit) or "none"


def read_pcap(path):
    """the link type and [(timestamp, frame bytes, original length, -tt text of the time)]: dpkt reads the
    frames; the original lengths and the times as tcpdump prints them come from the record headers"""
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        linktype = reader.datalink()
        packets = list(reader)
    # dpkt.pcap.Reader yields (ts, buf) only; the original length is read from the record headers
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    heads, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, caplen, origlen = struct.unpack(endian + "IIII", data[pos : pos + 16])
        heads.append((origlen, f"{sec}.{frac // 1000 if nano else frac:06d} "))
        pos += 16 + caplen
    assert len(heads) == len(packets)
    return linktype, [(ts, buf, ln, stamp) for (ts, buf), (ln, stamp) in zip(packets, heads, strict=True)]


def decode(linktype, ts, buf, origlen):
    """the fields of one packet, named as in the parser's schema"""
    exp = {"timestamp": ts, "length": origlen}
    whole = len(buf) == origlen
    if len(buf) < 20:  # no whole link-layer header ("[|ether]", "[Invalid header: caplen==0...]")
        return exp
    if linktype == LINKTYPE_ETHERNET:
        exp["dst_mac"] = _mac(buf[0:6])
        exp["src_mac"] = _mac(buf[6:12])
        (etype,) = struct.unpack("!H", buf[12:14])
        outer, pos, vlans = etype, 14, []
        while etype in VLAN_TPIDS and len(buf) >= pos + 4:
            tci, etype = struct.unpack("!HH", buf[pos : pos + 4])
            vlans.append(tci & 0x0FFF)
            pos += 4
        if vlans:
            exp["outer_ethertype"] = _ethertype_name(outer)
            exp["vlan"] = vlans[0]
            if len(vlans) > 1:
                exp["vlans"] = vlans
        payload = buf[pos:]
        if etype <= 1500 and not vlans:
            # 802.3: tcpdump prints the length field, not the frame length (parser: llc_length)
            exp["llc_length"] = etype
            del exp["length"]
    elif linktype == LINKTYPE_LINUX_SLL2:
        sll = dpkt.sll2.SLL2(buf)
        etype = sll.ethtype
        exp["ifindex"] = sll.intindex
        exp["direction"] = SLL_DIRECTIONS.get(sll.type)
        exp["src_mac"] = _mac(sll.hdr[: sll.hlen])
        payload = buf[20:]
    else:
        raise AssertionError(f"link type {linktype} not handled by the cross-check")
    exp["ethertype"] = _ethertype_name(etype)
    try:
        if etype == 0x0806:
            _decode_arp(exp, payload)
        elif etype == 0x0800:
            _decode_ipv4(exp, payload, whole)
        elif etype == 0x86DD:
            _decode_ipv6(exp, payload, whole)
    except (dpkt.UnpackError, struct.error, ValueError, IndexError):
        pass  # undecodable (truncated, malformed): only the fields decoded so far are compared
    return exp


def _decode_arp(exp, payload):
    htype, ptype, hln, pln, op = struct.unpack("!HHBBH", payload[:8])
    exp["arp_op"] = ARP_OPS.get(op)
    if hln == 6 and pln == 4:
        arp = dpkt.arp.ARP(payload)
        sha, spa, tha, tpa = arp.sha, arp.spa, arp.tha, arp.tpa
    else:  # dpkt's ARP assumes 6-byte hardware and 4-byte protocol addresses
        pos = 8
        sha, pos = payload[pos : pos + hln], pos + hln
        spa, pos = payload[pos : pos + pln], pos + pln
        tha, pos = payload[pos : pos + hln], pos + hln
        tpa = payload[pos : pos + pln]
    exp["sender_mac"] = _mac(sha)
    exp["target_mac"] = _mac(tha)
    if ptype == 0x0800 and pln == 4 and len(tpa) == 4:
        exp["sender_ip"] = _ip(spa)
        exp["target_ip"] = _ip(tpa)


def _decode_ipv4(exp, payload, whole):
    ip = dpkt.ip.IP(payload)
    if ip.len > len(payload):  # tcpdump: "truncated-ip - N bytes missing!"
        exp["ip_bytes_missing"] = ip.len - len(payload)
        whole = False
    exp["src_ip"] = _ip(ip.src)
    exp["dst_ip"] = _ip(ip.dst)
    exp["protocol"] = ip.p
    # printed with -v only
    exp["ttl"] = ip.ttl
    exp["ip_id"] = ip.id
    exp["ip_length"] = ip.len
    exp["frag_offset"] = ip.offset * 8  # dpkt counts 8-byte units
    exp["more_fragments"] = bool(ip.mf)
    exp["dont_fragment"] = bool(ip.df)
    if ip.offset:  # not the first fragment: no transport header
        return
    l4 = ip.data
    l4len = ip.len - ip.hl * 4
    _decode_l4(exp, ip.p, l4, l4len, whole)


def _decode_ipv6(exp, payload, whole):
    ip6 = dpkt.ip6.IP6(payload)
    if 40 + ip6.plen > len(payload) and ip6.plen:  # "truncated-ip6 - N bytes missing!"
        exp["ip_bytes_missing"] = 40 + ip6.plen - len(payload)
        whole = False
    exp["src_ip"] = _ip(ip6.src)
    exp["dst_ip"] = _ip(ip6.dst)
    exp["hop_limit"] = ip6.hlim  # -v
    exp["ip_length"] = ip6.plen  # -v
    # walk the extension headers by hand: the protocol tcpdump names is the first non-extension one
    nh, pos, body = ip6.nxt, 0, payload[40:]
    while True:
        if nh in IPV6_EXT:
            nxt, hlen = body[pos], body[pos + 1]
            pos += (hlen + 2) * 4 if nh == 51 else (hlen + 1) * 8
            nh = nxt
        elif nh == 44:
            nxt, offlg = body[pos], struct.unpack("!H", body[pos + 2 : pos + 4])[0]
            exp["frag_offset"] = offlg & 0xFFF8
            exp["ip_id"] = struct.unpack("!I", body[pos + 4 : pos + 8])[0]  # -v
            if offlg & 0xFFF8:
                return  # not the first fragment: tcpdump prints no upper layer
            pos += 8
            nh = nxt
        else:
            break
    exp["protocol"] = nh
    l4len = ip6.plen - pos if ip6.plen else None
    _decode_l4(exp, nh, ip6.data, l4len, whole and ip6.plen != 0 and 44 not in ip6.extension_hdrs)


def _decode_l4(exp, proto, l4, l4len, whole):
    if isinstance(l4, bytes):
        return  # dpkt could not decode it: compare the IP layer only
    if proto in (6, 17):
        exp["src_port"] = l4.sport
        exp["dst_port"] = l4.dport
        if proto == 6:
            exp["tcp_flags"] = _tcp_flags(l4.flags)
            exp["tcp_win"] = l4.win
            if whole and l4len is not None:
                exp["payload_length"] = l4len - l4.off * 4
            data = bytes(l4.data)
            if (
                53 in (l4.sport, l4.dport)
                and len(data) > 2
                and struct.unpack("!H", data[:2])[0] == len(data) - 2
            ):
                _decode_dns(exp, data[2:])
        else:
            if whole:
                exp["payload_length"] = l4.ulen - 8
            if 53 in (l4.sport, l4.dport) and whole:
                _decode_dns(exp, bytes(l4.data))
    elif proto == 1:
        exp["icmp_type"] = l4.type
        exp["icmp_code"] = (l4.type, l4.code)
        if whole and l4len is not None:
            exp["payload_length"] = l4len
        if l4.type in (0, 8):
            exp["icmp_id"] = l4.data.id
            exp["icmp_seq"] = l4.data.seq
        elif l4.type in (3, 11, 5) and isinstance(l4.data.data, dpkt.ip.IP):
            inner = l4.data.data
            exp["inner"] = {
                "src_ip": _ip(inner.src),
                "dst_ip": _ip(inner.dst),
                "protocol": inner.p,
                "ttl": inner.ttl,
                "ip_id": inner.id,
            }
            if inner.p in (6, 17) and len(inner.data) >= 4:
                body = inner.data if isinstance(inner.data, bytes) else bytes(inner.data)
                exp["inner"]["src_port"], exp["inner"]["dst_port"] = struct.unpack("!HH", body[:4])
    elif proto == 58:
        exp["icmp_type"] = l4.type
        exp["icmp_code"] = (l4.type, l4.code)
        if whole and l4len is not None:
            exp["payload_length"] = l4len
        body = bytes(l4)[4:]
        if l4.type in (128, 129):
            exp["icmp_id"], exp["icmp_seq"] = struct.unpack("!HH", body[:4])
        elif l4.type in (135, 136) and len(body) >= 20:
            exp["nd_target"] = exp["target_ip"] = _ip(body[4:20])
            _decode_nd_options(exp, body[20:])
        elif l4.type in (133, 134):
            _decode_nd_options(exp, body[4:] if l4.type == 133 else body[12:])
        elif l4.type in (130, 131, 132) and len(body) == 20:  # MLDv1 (and the MLDv2 query's first part)
            exp["mld_group"] = _ip(body[4:20])
        elif l4.type == 143 and len(body) >= 4:
            exp["mld_group_records"] = struct.unpack("!H", body[2:4])[0]
        elif l4.type == 1 and l4.code == 4 and len(body) >= 4 + 40 + 4:
            inner = body[4:]
            exp["inner"] = {
                "dst_ip": _ip(inner[24:40]),
                "protocol": inner[6],
                "dst_port": struct.unpack("!H", inner[42:44])[0],
            }


def _decode_nd_options(exp, opts):
    """the link-layer address options of ND/RS/RA (type 1 source, 2 target), as -v prints them"""
    pos = 0
    while pos + 2 <= len(opts) and opts[pos + 1]:
        kind, size = opts[pos], opts[pos + 1] * 8
        if kind in (1, 2) and size == 8:
            exp["source_lladdr" if kind == 1 else "target_lladdr"] = _mac(opts[pos + 2 : pos + 8])
        pos += size


def _decode_dns(exp, data):
    """the header, first question and answers of a DNS message, named as the parser names them"""
    try:
        msg = dpkt.dns.DNS(data)
    except (dpkt.UnpackError, struct.error, IndexError, ValueError):
        return
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    response = bool(flags & 0x8000)
    opcode, rcode = (flags >> 11) & 0xF, flags & 0xF
    exp["dns_id"] = ident
    exp["dns_response"] = response
    if opcode in DNS_OPCODES:
        exp["dns_opcode"] = DNS_OPCODES[opcode]
    if response:
        if rcode in DNS_RCODES:
            exp["dns_rcode"] = DNS_RCODES[rcode]
        exp["dns_ancount"], exp["dns_nscount"], exp["dns_arcount"] = an, ns, ar
        answers = []
        for rr in msg.an:
            typ = DNS_TYPES.get(rr.type, f"Type{rr.type}")
            entry = {"type": typ}
            if rr.type == 1:
                entry["data"] = _ip(rr.ip)
            elif rr.type == 28:
                entry["data"] = _ip(rr.ip6)
            elif rr.type == 5:
                entry["data"] = rr.cname + "."
            answers.append(entry)
        if answers:
            exp["dns_answers"] = answers
    elif msg.qd:
        exp["dns_qtype"] = DNS_TYPES.get(msg.qd[0].type, f"Type{msg.qd[0].type}")
        exp["dns_qname"] = msg.qd[0].name + "."


def normalise(rec):
    """the parser's record with names turned into the numbers the decoder produces"""
    got = dict(rec)
    if "protocol" in got:
        p = got["protocol"]
        got["protocol"] = PROTOCOLS[p] if p in PROTOCOLS else int(p)
    if "icmp_type" in got:
        table = ICMP6_TYPES if got.get("protocol") == 58 else ICMP4_TYPES
        t = got["icmp_type"]
        got["icmp_type"] = table[t] if t in table else int(t)
        if "icmp_code" in got:
            codes = (ICMP6_CODES if got.get("protocol") == 58 else ICMP4_CODES).get(got["icmp_type"], {})
            c = got["icmp_code"]
            got["icmp_code"] = (got["icmp_type"], codes[c] if c in codes else int(c))
    if "inner" in got and "protocol" in got["inner"]:
        inner = dict(got["inner"])
        p = inner["protocol"]
        inner["protocol"] = PROTOCOLS[p] if p in PROTOCOLS else int(p)
        got["inner"] = inner
    return got


COMPARED = (
    "timestamp",
    "length",
    "llc_length",
    "src_mac",
    "dst_mac",
    "ethertype",
    "outer_ethertype",
    "vlan",
    "vlans",
    "ifindex",
    "direction",
    "arp_op",
    "sender_ip",
    "target_ip",
    "sender_mac",
    "target_mac",
    "src_ip",
    "dst_ip",
    "protocol",
    "src_port",
    "dst_port",
    "tcp_flags",
    "tcp_win",
    "payload_length",
    "icmp_type",
    "icmp_code",
    "icmp_id",
    "icmp_seq",
    "nd_target",
    "mld_group_records",
    "frag_offset",
    "inner",
    "ip_bytes_missing",
    "target_ip",
    "mld_group",
    "dns_id",
    "dns_response",
    "dns_opcode",
    "dns_rcode",
    "dns_qtype",
    "dns_qname",
    "dns_ancount",
    "dns_nscount",
    "dns_arcount",
    "dns_answers",
    # -v only
    "source_lladdr",
    "target_lladdr",
    "ttl",
    "hop_limit",
    "ip_id",
    "ip_length",
    "more_fragments",
    "dont_fragment",
)


def compare(name, index, exp, got):
    """list of mismatch descriptions for one packet"""
    problems = []
    for key in COMPARED:
        if key not in exp or key not in got or exp[key] is None or got[key] is None:
            continue
        e, g = exp[key], got[key]
        if key == "timestamp":
            ok = abs(e - g) <= 1e-6
        elif key == "inner":
            ok = all(g[k] == v for k, v in e.items() if k in g)
        elif key == "dns_answers":  # the decoder knows the data of A, AAAA and CNAME only
            ok = len(e) == len(g) and all(
                ea["type"] == ga["type"] and ea.get("data", ga["data"]) == ga["data"]
                for ea, ga in zip(e, g, strict=True)
            )
        elif key == "protocol" and g == 135 and e == 62:  # "mobility:" for both
            ok = True
        elif key == "ethertype" and isinstance(g, str) and g not in ETHERTYPE_NAMES and g != "802.3":
            ok = g == e or (g.startswith("0x") and e.startswith("0x") and int(g, 16) == int(e, 16))
        else:
            ok = e == g
        if not ok:
            problems.append(f"{name} packet {index + 1}: {key}: pcap {e!r} != parsed {g!r}")
    return problems


RENDERINGS = {"plain": ["-nn", "-tt", "-e"], "verbose": ["-nn", "-tt", "-e", "-v"]}


class Check(NamedTuple):
    """what one crosscheck found"""

    packets: int  # in the pcap
    records: int  # parsed from tcpdump's text
    fields: int  # fields compared (both sides had them)
    problems: list  # mismatches and a record count that differs from the packet count
    missed: list  # fields tcpdump printed (the value is in the packet's text) that the record lacks


# a field tcpdump printed, found in the text of its packet: the ways tcpdump writes each value
PRINTED = {
    "src_ip": lambda v: (f"{v}.", f"{v} "),
    "dst_ip": lambda v: (f"{v}.", f"{v}:"),
    "sender_ip": lambda v: (f"tell {v}", f"Reply {v} "),
    "target_ip": lambda v: (f"who-has {v} ", f"who has {v}", f"tgt is {v}"),
    "src_mac": lambda v: (f"{v} > ",),
    "dst_mac": lambda v: (f"> {v},",),
    "ttl": lambda v: (f"ttl {v},",),
    "hop_limit": lambda v: (f"hlim {v},",),
    "ip_bytes_missing": lambda v: (f"- {v} bytes missing!",),
    "tcp_win": lambda v: (f"win {v},", f"win {v} "),
    "icmp_seq": lambda v: (f"seq {v},", f"seq {v} "),
    "source_lladdr": lambda v: (f"source link-address option (1), length 8 (1): {v}",),
    "target_lladdr": lambda v: (f"destination link-address option (2), length 8 (1): {v}",),
    "dns_qname": lambda v: (f"? {v} ",),
}


def _chunks(text: str, stamps: list) -> list:
    """the text of each packet: from its first line (its -tt time, or a line tcpdump starts with "[" for
    a record it refused or a time it could not print) to the next packet's"""
    lines = text.splitlines()
    starts, pos = [], 0
    for stamp in stamps:
        j = pos
        while j < len(lines) and not (lines[j].startswith(stamp) or lines[j].startswith("[")):
            j += 1
        starts.append(j)
        pos = min(j + 1, len(lines))
    ends = starts[1:] + [len(lines)]
    return ["\n".join(lines[a:b]) + "\n" for a, b in zip(starts, ends, strict=True)]


def _missed(name, index, exp, rec, chunk):
    out = []
    for key, forms in PRINTED.items():
        value = exp.get(key)
        if value is None or rec.get(key) is not None:
            continue
        if key == "src_ip" and exp.get("ethertype") not in ("ipv4", "ipv6"):
            continue
        if any(f in chunk for f in forms(value)):
            out.append(f"{name} packet {index + 1}: {key} {value!r} printed but not read")
    for key, other, fmt in (("src_port", "src_ip", "{}.{} > "), ("dst_port", "dst_ip", "{}.{}:")):
        value = exp.get(key)
        if value is not None and rec.get(key) is None and fmt.format(exp.get(other), value) in chunk:
            out.append(f"{name} packet {index + 1}: {key} {value!r} printed but not read")
    return out


def run_tcpdump(path, rendering):
    """tcpdump's text for a pcap; a tcpdump that fails fails the caller (never an empty text)"""
    return subprocess.run(
        [TCPDUMP, "-r", str(path), *RENDERINGS[rendering]],
        capture_output=True,
        text=True,
        errors="replace",
        check=True,
        env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
    ).stdout


@functools.cache
def crosscheck(path, rendering="plain") -> Check:
    """the parser against dpkt for one pcap, under jc's defaults (a ParseError is raised to the caller)"""
    linktype, packets = read_pcap(path)
    text = run_tcpdump(path, rendering)
    records = tcpdump_parser.parse(text)
    name = f"{path.name} ({' '.join(RENDERINGS[rendering])})"
    problems, missed = [], []
    if len(records) != len(packets):
        problems.append(f"{name}: {len(packets)} packets in the pcap, {len(records)} records parsed")
    chunks = _chunks(text, [stamp for *_, stamp in packets])
    fields = 0
    for i, (rec, (ts, buf, origlen, _)) in enumerate(zip(records, packets, strict=False)):
        exp = decode(linktype, ts, buf, origlen)
        got = normalise(rec)
        fields += sum(1 for k in COMPARED if exp.get(k) is not None and got.get(k) is not None)
        problems.extend(compare(name, i, exp, got))
        missed.extend(_missed(name, i, exp, rec, chunks[i]))
    return Check(len(packets), len(records), fields, problems, missed)
