"""The ICMP readers: ICMPv4 and ICMPv6 messages (type, code, id/seq, the packet an error quotes).

Each fills a raw record from the text after "ICMP " or "ICMP6, " and says (MODE_ICMP_ERROR) when a -v
error message's quoted IP header may follow on the next lines.
"""

from vethctl.parsers._tcpdump.patterns import (
    ICMP4_TYPES,
    ICMP4_UNREACH_CODES,
    ICMP6_ADDR_RE,
    ICMP6_ECHO_RE,
    ICMP6_LLADDR_RE,
    ICMP6_MLD1_RE,
    ICMP6_MLD2_GROUP_RE,
    ICMP6_MLD2_RE,
    ICMP6_MLD2Q_RE,
    ICMP6_MTU_RE,
    ICMP6_NA_FLAGS_RE,
    ICMP6_ND_RE,
    ICMP6_PORT_RE,
    ICMP6_PP_CODES,
    ICMP6_PP_RE,
    ICMP6_PROTO_PORT_RE,
    ICMP6_TEX_RE,
    ICMP6_TYPE_RENAME,
    ICMP6_TYPES,
    ICMP6_UNREACH_CODES,
    ICMP6_UNREACH_RE,
    ICMP_ECHO_RE,
    ICMP_ERROR_TYPES,
    ICMP_MTU_RE,
    ICMP_REDIRECT_RE,
    ICMP_TSTAMP_RE,
    ICMP_UNREACH_RE,
    ND_TYPES,
    PROTOCOL_NUMBERS,
    TRAIL_LEN_RE,
)
from vethctl.parsers._tcpdump.records import MODE_ICMP6_OPTIONS, MODE_ICMP_ERROR, MODE_NONE, add_unparsed


def parse_icmp4(rec: dict, text: str) -> int:
    """text after "ICMP " """
    rec["protocol"] = "icmp"
    m = TRAIL_LEN_RE.search(text)
    if m is None:
        return _parse_icmp4_message(rec, text)
    mode = _parse_icmp4_message(rec, text[: m.start()])
    rec["payload_length"] = m.group(1)
    return mode


def _parse_icmp4_message(rec: dict, text: str) -> int:
    m = ICMP_ECHO_RE.match(text)
    if m:
        rec["icmp_type"] = "echo " + m.group(1)
        rec["icmp_id"] = m.group(2)
        rec["icmp_seq"] = m.group(3)
        add_unparsed(rec, text[m.end() :])
        return MODE_NONE
    if text.startswith("time exceeded in-transit"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = "time to live exceeded"
        add_unparsed(rec, text[24:])
        return MODE_ICMP_ERROR
    if text.startswith("ip reassembly time exceeded"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = "fragment reassembly time exceeded"
        add_unparsed(rec, text[27:])
        return MODE_ICMP_ERROR
    if text.startswith("time exceeded-#"):
        rec["icmp_type"] = "time exceeded"
        rec["icmp_code"] = text[15:]
        return MODE_ICMP_ERROR
    if " unreachable" in text:
        m = ICMP_UNREACH_RE.match(text)
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
                code = ICMP4_UNREACH_CODES.get((None, kind))
            elif suffix.startswith("need to frag"):
                mm = ICMP_MTU_RE.match(suffix)
                if mm:
                    code = "fragmentation needed"
                    if mm.group(1):
                        rec["mtu"] = mm.group(1)
            elif suffix.startswith("#"):
                code = suffix[1:]
            else:
                code = ICMP4_UNREACH_CODES.get((suffix, kind))
            if code is None:
                add_unparsed(rec, text)
            else:
                rec["icmp_code"] = code
            rec["inner"] = inner
            return MODE_ICMP_ERROR
    if text.startswith("redirect"):
        m = ICMP_REDIRECT_RE.match(text)
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
        m = ICMP_TSTAMP_RE.match(text)
        if m:
            rec["icmp_type"] = "timestamp request" if m.group(1) == "query" else "timestamp reply"
            rec["icmp_id"] = m.group(2)
            rec["icmp_seq"] = m.group(3)
            add_unparsed(rec, text[m.end() :].lstrip(":"))
            return MODE_NONE
    if text.startswith("type-#"):
        rec["icmp_type"] = text[6:]
        return MODE_NONE
    for prefix, name in ICMP4_TYPES:
        if text.startswith(prefix):
            rec["icmp_type"] = name
            add_unparsed(rec, text[len(prefix) :].lstrip(","))
            return MODE_ICMP_ERROR if name in ICMP_ERROR_TYPES else MODE_NONE
    add_unparsed(rec, text)
    return MODE_NONE


def parse_icmp6(rec: dict, text: str) -> int:
    """text after "ICMP6, " """
    rec["protocol"] = "icmp6"
    m = TRAIL_LEN_RE.search(text)
    if m is None:
        _parse_icmp6_message(rec, text)
    else:
        _parse_icmp6_message(rec, text[: m.start()])
        rec["payload_length"] = m.group(1)
    return MODE_ICMP6_OPTIONS if rec.get("icmp_type") in ND_TYPES else MODE_NONE


def parse_icmp6_option(rec: dict, text: str) -> bool:
    """a -v option line of an ND/RS/RA message; True if it was read (a link-layer address option)"""
    m = ICMP6_LLADDR_RE.match(text)
    if m is None:
        return False
    rec["source_lladdr" if m.group(1) == "source" else "target_lladdr"] = m.group(2)
    return True


def _parse_icmp6_message(rec: dict, text: str) -> None:
    name = None
    for t in ICMP6_TYPES:
        if text.startswith(t):
            name = t
            break
    if name is None:
        if text.startswith("unknown icmp6 type ("):
            rec["icmp_type"] = text[20:].split(")", 1)[0]
            return
        add_unparsed(rec, text)
        return
    rec["icmp_type"] = ICMP6_TYPE_RENAME.get(name, name)
    rest = text[len(name) :]
    if rest.startswith(", length "):  # -v prints the length right after some type names
        ln, _, tail = rest[9:].partition(",")
        if ln.isdigit():
            rec["payload_length"] = ln
            rest = "," + tail if tail else ""
    if name in ("echo request", "echo reply"):
        m = ICMP6_ECHO_RE.match(rest)
        if m:
            rec["icmp_id"] = m.group(1)
            rec["icmp_seq"] = m.group(2)
            rest = rest[m.end() :]
    elif name in ("neighbor solicitation", "neighbor advertisement"):
        m = ICMP6_ND_RE.match(rest)
        if m:
            if m.group(1):
                rec["payload_length"] = m.group(1)
            rec["nd_target"] = rec["target_ip"] = m.group(2)
            rest = rest[m.end() :]
            m = ICMP6_NA_FLAGS_RE.match(rest)
            if m:
                rec["nd_flags"] = m.group(1)
                rest = rest[m.end() :]
    elif name == "multicast listener report v2":
        m = ICMP6_MLD2_RE.match(rest)
        if m:
            rec["mld_group_records"] = m.group(1)
            rest = rest[m.end() :]
            groups = ICMP6_MLD2_GROUP_RE.findall(rest)  # -v: "[gaddr G to_ex { }] [gaddr ...]"
            if groups:
                rec["mld_groups"] = groups
                rest = ""
    elif name.startswith("multicast listener"):
        # MLDv1 (tcpdump prints no separator: "multicast listener reportmax resp delay: 0 addr: G") and
        # the MLDv2 query ("[max resp delay=N] [gaddr G ...]" with -v, "[gaddr G]" without)
        m = ICMP6_MLD1_RE.match(rest) or ICMP6_MLD2Q_RE.match(rest)
        if m:
            if m.group(1) is not None:
                rec["mld_max_resp_delay"] = m.group(1)
            rec["mld_group"] = m.group(2)
            rest = rest[m.end() :]
    elif name == "destination unreachable":
        m = ICMP6_UNREACH_RE.match(rest)
        if m:
            code = m.group(1)
            rest = rest[m.end() :]
            if m.group(2) is not None:
                rec["icmp_code"] = m.group(2)
            else:
                rec["icmp_code"] = ICMP6_UNREACH_CODES[code]
            if code == "unreachable port":
                mm = ICMP6_PORT_RE.match(rest)
                if mm:
                    rec["inner"] = {"dst_ip": mm.group(1), "protocol": mm.group(2), "dst_port": mm.group(3)}
                    rest = rest[mm.end() :]
                else:
                    mm = ICMP6_PROTO_PORT_RE.match(rest)
                    if mm:
                        rec["inner"] = {
                            "dst_ip": mm.group(1),
                            "protocol": PROTOCOL_NUMBERS.get(mm.group(2), mm.group(2)),
                            "dst_port": mm.group(3),
                        }
                        rest = rest[mm.end() :]
            elif m.group(2) is None:
                mm = ICMP6_ADDR_RE.match(rest)
                if mm:
                    inner = {"dst_ip": mm.group(1)}
                    if mm.group(2):
                        inner["src_ip"] = mm.group(2)
                    rec["inner"] = inner
                    rest = rest[mm.end() :]
    elif name == "packet too big":
        m = ICMP6_MTU_RE.match(rest)
        if m:
            rec["mtu"] = m.group(1)
            rest = rest[m.end() :]
    elif name.startswith("time exceeded"):
        m = ICMP6_TEX_RE.match(rest)
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
        m = ICMP6_PP_RE.match(rest)
        if m:
            if m.group(1):
                rec["icmp_code"] = ICMP6_PP_CODES[m.group(1)]
                rec["pointer"] = m.group(2)
            else:
                rec["icmp_code"] = m.group(3)
            rest = rest[m.end() :]
    add_unparsed(rec, rest.lstrip(","))
