"""The protocol readers other than ICMP: ARP/RARP, the IPv4 and IPv6 headers and addresses (with IPv6
extension headers), TCP, UDP and the IP payloads without a reader of their own.

Each fills a raw record from the text of its layer and returns a MODE_* value (see `records`); what it
cannot read goes to `unparsed`. ICMP messages are read by `icmp`.
"""

from vethctl.parsers._tcpdump.dns import DNS_PORTS, parse_dns
from vethctl.parsers._tcpdump.icmp import parse_icmp4, parse_icmp6
from vethctl.parsers._tcpdump.patterns import (
    ARP_REP_RE,
    ARP_REQ_RE,
    CKSUM_RE,
    CUT_PROTOCOLS,
    ENCAP_PROTOCOLS,
    IP_TRUNC_RE,
    IPPROTO_RE,
    NEXT_HEADERS,
    PROTOCOL_NUMBERS,
    RARP_REP_RE,
    RARP_REQ_RE,
    TAG_PROTOCOLS,
    TAG_RE,
    TCP_FLAGS_RE,
    TCP_RE,
    TRAIL_LEN_RE,
    TRUNC_MARK_RE,
    UDP_RE,
    V4_ADDRS_RE,
    V4_VHDR_RE,
    V6_ADDRS_RE,
    V6_EXT_RE,
    V6_FRAG_RE,
    V6_PORTS_RE,
    V6_VHDR_RE,
)
from vethctl.parsers._tcpdump.records import MODE_AWAIT_PAYLOAD, MODE_NONE, add_unparsed

# ---------------------------------------------------------------------------
# ARP
# ---------------------------------------------------------------------------


def parse_arp(rec: dict, text: str) -> int:
    m = ARP_REQ_RE.match(text)
    if m:
        rec["arp_op"] = "request"
        rec["sender_ip"] = m.group(3)
        rec["target_ip"] = m.group(1)
        if m.group(2):
            rec["target_mac"] = m.group(2)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    m = ARP_REP_RE.match(text)
    if m:
        rec["arp_op"] = "reply"
        rec["sender_ip"] = m.group(1)
        rec["sender_mac"] = m.group(2)
        if m.group(3):
            rec["payload_length"] = m.group(3)
        return MODE_NONE
    m = RARP_REQ_RE.match(text)
    if m:
        rec["arp_op"] = m.group(1).lower() + " request"
        rec["target_mac"] = m.group(2)
        rec["sender_mac"] = m.group(3)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    m = RARP_REP_RE.match(text)
    if m:
        rec["arp_op"] = m.group(1).lower() + " reply"
        rec["target_mac"] = m.group(2)
        rec["target_ip"] = m.group(3)
        if m.group(4):
            rec["payload_length"] = m.group(4)
        return MODE_NONE
    add_unparsed(rec, text)
    return MODE_NONE


# ---------------------------------------------------------------------------
# IPv4 / IPv6
# ---------------------------------------------------------------------------


def parse_ip_vheader4(rec: dict, text: str) -> bool:
    """-v IPv4 header "(tos 0x0, ttl 64, ..., length 84)"; True if it was one"""
    m = V4_VHDR_RE.match(text)
    if not m:
        return False
    tos, ecn, ttl, ipid, off, flags, _pname, pnum, iplen, extra = m.groups()
    rec["ip_tos"] = tos
    if ecn:
        rec["ip_ecn"] = ecn
    # tcpdump leaves "ttl" out of the header when the TTL is 0
    rec["ttl"] = "0" if ttl is None else ttl
    rec["ip_id"] = ipid
    rec["frag_offset"] = off
    rec["ip_flags"] = flags
    rec["dont_fragment"] = "true" if "DF" in flags else "false"
    rec["more_fragments"] = "true" if "+" in flags else "false"
    rec["protocol"] = PROTOCOL_NUMBERS.get(pnum, pnum)
    rec["ip_length"] = iplen
    if extra:
        add_unparsed(rec, extra.lstrip(","))
    return True


def parse_ip(rec: dict, text: str, v6: bool) -> int:
    """IPv4/IPv6 payload, starting with the -v header or with the addresses"""
    if text[:1] == "t":
        m = IP_TRUNC_RE.match(text)
        if m is not None:  # "truncated-ip - N bytes missing! ": the rest is read as usual
            rec["ip_bytes_missing"] = m.group(1)
            text = text[m.end() :]
    if text[:1] == "(":
        if not v6:
            if parse_ip_vheader4(rec, text):
                return MODE_AWAIT_PAYLOAD
        else:
            m = V6_VHDR_RE.match(text)
            if m:
                tclass, flowlabel, hlim, _nname, nnum, plen, extra = m.groups()
                if tclass:
                    rec["ip_class"] = tclass
                if flowlabel:
                    rec["flow_label"] = flowlabel
                rec["hop_limit"] = hlim
                rec["next_header"] = NEXT_HEADERS.get(nnum) or PROTOCOL_NUMBERS.get(nnum, nnum)
                rec["ip_length"] = plen
                if extra:
                    add_unparsed(rec, extra)
                text = text[m.end() :]
    return parse_ip_payload(rec, text, v6)


def parse_ip_payload(rec: dict, text: str, v6: bool) -> int:
    """ "SRC[.PORT] > DST[.PORT]: PROTOCOL-TEXT" """
    m = (V6_ADDRS_RE if v6 else V4_ADDRS_RE).match(text)
    if m is None:
        # the other family (e.g. IP6 in an IPv4 header without -e) before giving up
        m = (V4_ADDRS_RE if v6 else V6_ADDRS_RE).match(text)
        if m is None:
            add_unparsed(rec, text)
            return MODE_NONE
    sip, sport, dip, dport = m.groups()
    rec["src_ip"] = sip
    rec["dst_ip"] = dip
    text = text[m.end() :]
    if v6:
        # extension headers: "HBH ", "frag (0|1448) ", "RT6 (...) "
        m = V6_EXT_RE.match(text)
        if m:
            exts: list[str] = []
            while m:
                tok = text[: m.end()].rstrip()
                exts.append(tok)
                if m.group(1) == "frag":
                    fm = V6_FRAG_RE.match(tok)
                    if fm:
                        if fm.group(1) and len(fm.group(1)) <= 10:  # a 32-bit id, "0x" and 8 hex digits
                            rec["ip_id"] = str(int(fm.group(1), 16))
                        rec["frag_offset"] = fm.group(2)
                text = text[m.end() :]
                m = V6_EXT_RE.match(text)
            rec["ext_headers"] = exts
    if text[:1] == "[":
        m = CKSUM_RE.match(text)
        if m:
            rec["checksum"] = "ok" if m.group(0).endswith("sum ok] ") else "bad"
            text = text[m.end() :]
    if sport is None and v6:
        m = V6_PORTS_RE.match(text)
        if m:
            sport, dport = m.groups()
            text = text[m.end() :]
    if text[:1] == " ":  # "A.p > B.q:  [|udp]": tcpdump printed two spaces before a truncation mark
        text = text.lstrip(" ")
    if sport is not None and dport is not None:
        rec["src_port"] = sport
        rec["dst_port"] = dport
        _parse_transport(rec, text)
        return MODE_NONE
    if sport is not None:  # "1.2.3.4.5 > 6.7.8.9: " can't happen; keep the text
        add_unparsed(rec, text)
        return MODE_NONE
    if text.startswith("ICMP "):
        return parse_icmp4(rec, text[5:])
    if text.startswith("ICMP6, "):
        return parse_icmp6(rec, text[7:])
    if text[:2] == "[|":
        _parse_cut(rec, text)
        return MODE_NONE
    if text:
        _parse_other_protocol(rec, text)
    return MODE_NONE


def parse_inner(text: str) -> dict:
    """the packet quoted in a -v ICMP error, e.g. "192.0.2.1.5 > 198.51.100.1.9: UDP, length 1" """
    tmp: dict = {}
    v6 = V4_ADDRS_RE.match(text) is None and V6_ADDRS_RE.match(text) is not None
    parse_ip_payload(tmp, text, v6)
    return tmp


# ---------------------------------------------------------------------------
# TCP, UDP and the payloads without a reader of their own
# ---------------------------------------------------------------------------


def _parse_tcp(rec: dict, text: str) -> None:
    rec["protocol"] = "tcp"
    m = TCP_RE.match(text)
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
            if rest[:1].isdigit() and (rec.get("src_port") in DNS_PORTS or rec.get("dst_port") in DNS_PORTS):
                rest = parse_dns(rec, rest)  # DNS over TCP: tcpdump decodes it after "length N "
            add_unparsed(rec, rest)
        return
    m = TCP_FLAGS_RE.match(text)
    if m:
        rec["tcp_flags"] = m.group(1)
        text = text[m.end() :]
    elif text.startswith("tcp "):  # -q
        text = text[4:]
        if text.isdigit():
            rec["payload_length"] = text
            return
    add_unparsed(rec, text)


def _parse_transport(rec: dict, text: str) -> None:
    """payload of an IP packet whose addresses carried ports"""
    c = text[:1]
    if c == "F" and text.startswith("Flags ["):
        _parse_tcp(rec, text)
        return
    if c == "U" and text.startswith("UDP"):
        rec["protocol"] = "udp"
        m = UDP_RE.match(text)
        if m:
            rec["payload_length"] = m.group(1)
        else:
            add_unparsed(rec, text)
        return
    if text.startswith("tcp ") or text.startswith("[|tcp]"):
        _parse_tcp(rec, text)
        return
    if text[:2] == "[|":  # the transport header itself was cut: "[|udp]", "[|sctp]"...
        _parse_cut(rec, text)
        return
    if c.isdigit() and (rec["src_port"] in DNS_PORTS or rec["dst_port"] in DNS_PORTS):
        rec["protocol"] = "udp"
        add_unparsed(rec, parse_dns(rec, text))
        return
    if text.startswith("sctp") or text.startswith("SCTP"):
        rec["protocol"] = "sctp"
    elif text.startswith("DCCP"):
        rec["protocol"] = "dccp"
    else:
        # any other application decode (DNS, NTP, BFD, VXLAN, DHCP...) rides on UDP:
        # TCP always prints "Flags [", SCTP and DCCP name themselves
        rec["protocol"] = "udp"
    add_unparsed(rec, text)


def _parse_cut(rec: dict, text: str) -> None:
    """ "[|udp]": tcpdump stopped where the capture did; the mark names the protocol it was decoding"""
    m = TRUNC_MARK_RE.match(text)
    if m is not None:
        proto = CUT_PROTOCOLS.get(m.group(1))
        if proto is not None:
            rec["protocol"] = proto
    add_unparsed(rec, text)


def _parse_other_protocol(rec: dict, text: str) -> None:
    """payload of an IP packet without ports and without a dedicated parser"""
    m = IPPROTO_RE.match(text)
    if m:
        num = m.group(1)
        rec["protocol"] = PROTOCOL_NUMBERS.get(num, num)
        add_unparsed(rec, text[m.end() :])
        return
    if text.startswith("no next header"):
        rec["protocol"] = "ipv6-nonxt"
        add_unparsed(rec, text[14:])
        return
    m = TAG_RE.match(text)
    proto = TAG_PROTOCOLS.get(m.group(0)) if m else None
    if proto is not None:
        rec["protocol"] = proto
        if proto not in ENCAP_PROTOCOLS:
            m = TRAIL_LEN_RE.search(text)
            if m:
                rec["payload_length"] = m.group(1)
                text = text[: m.start()]
    add_unparsed(rec, text)
