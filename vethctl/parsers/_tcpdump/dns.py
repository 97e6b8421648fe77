"""The DNS reader: a DNS message as tcpdump prints it after the ports (UDP) or after "length N" (TCP).

tcpdump 4.99 (print-domain.c) prints a query as

    ID[ OPCODE][+][%][ [b2&3=0xN]][ [Na]][ [Nq]][ [Nn]][ [Nau]] TYPE? NAME[ TYPE? NAME...] (LEN)

(`+` recursion desired, `%` checking disabled) and a response as

    ID[ OPCODE][ RCODE][*][-][|][$][ [Nq]][ q: TYPE? NAME] AN/NS/AR[ ANSWER[, ANSWER...]][ ns: ...][ ar: ...] (LEN)

(`*` authoritative, `-` recursion not available, `|` truncated, `$` authenticated data). An answer is
`TYPE DATA` (with -v `NAME TYPE DATA`); the ns:/ar: sections and the question of a response only with -vv.
A message cut short ends in "[|domain]" instead of "(LEN)". Whatever is not read stays in `unparsed`.
"""

from vethctl.parsers._tcpdump.convert import process
from vethctl.parsers._tcpdump.patterns import ascii_re

# ports tcpdump decodes as DNS (53) and multicast DNS (5353), as the raw record holds them
DNS_PORTS = frozenset(("53", "5353"))

# the head of a response: id, opcode, rcode, flag characters, [Nq], -vv question, the three counts
_RESPONSE_RE = ascii_re(
    r"(\d+)(?: ([a-z][A-Za-z0-9_]*))?(?: ([A-Z][A-Za-z0-9]*))?([*\-|$]*)(?: \[(\d+)q\])?"
    r"(?: q: ([A-Za-z0-9_]+)\? (\S+))? (\d+)/(\d+)/(\d+)(?= |$)"
)
# the head of a query: id, opcode, flag characters, the odd-bits note, the counts that are not 0 or 1
_QUERY_RE = ascii_re(
    r"(\d+)(?: ([a-z][A-Za-z0-9_]*))?([+%]*)(?: (\[b2&3=0x[0-9a-f]+\]))?((?: \[\d+(?:a|q|n|au)\])*)(?= |$)"
)
_COUNT_RE = ascii_re(r" \[(\d+)(a|q|n|au)\]")
_QUESTION_RE = ascii_re(r" ([A-Za-z0-9_]+)\? (\S+)")
_LENGTH_RE = ascii_re(r" \((\d+)\)$")
_COUNT_KEYS = {"a": "dns_ancount", "q": "dns_qdcount", "n": "dns_nscount", "au": "dns_arcount"}

#: record type names tcpdump prints (ns_type2str), and "TypeN" for the others
DNS_TYPES = frozenset(
    [
        "A",
        "NS",
        "MD",
        "MF",
        "CNAME",
        "SOA",
        "MB",
        "MG",
        "MR",
        "NULL",
        "WKS",
        "PTR",
        "HINFO",
        "MINFO",
        "MX",
        "TXT",
        "RP",
        "AFSDB",
        "X25",
        "ISDN",
        "RT",
        "NSAP",
        "NSAP_PTR",
        "SIG",
        "KEY",
        "PX",
        "GPOS",
        "AAAA",
        "LOC",
        "NXT",
        "EID",
        "NIMLOC",
        "SRV",
        "ATMA",
        "NAPTR",
        "KX",
        "CERT",
        "A6",
        "DNAME",
        "SINK",
        "OPT",
        "APL",
        "DS",
        "SSHFP",
        "IPSECKEY",
        "RRSIG",
        "NSEC",
        "DNSKEY",
        "DHCID",
        "NSEC3",
        "NSEC3PARAM",
        "TLSA",
        "SMIMEA",
        "HIP",
        "NINFO",
        "RKEY",
        "TALINK",
        "CDS",
        "CDNSKEY",
        "OPENPGPKEY",
        "CSYNC",
        "ZONEMD",
        "SVCB",
        "HTTPS",
        "SPF",
        "UINFO",
        "UID",
        "GID",
        "UNSPEC",
        "NID",
        "L32",
        "L64",
        "LP",
        "EUI48",
        "EUI64",
        "TKEY",
        "TSIG",
        "IXFR",
        "AXFR",
        "MAILB",
        "MAILA",
        "ANY",
        "URI",
        "CAA",
        "AVC",
        "DOA",
        "AMTRELAY",
        "TA",
        "DLV",
    ]
)


def _is_type(token: str) -> bool:
    return token in DNS_TYPES or (token.startswith("Type") and token[4:].isdigit())


def _answer(piece: str) -> dict | None:
    """one answer as printed ("A 192.0.2.7", -v "web.example. A 192.0.2.7"); None if it is not one"""
    first, _, rest = piece.partition(" ")
    if _is_type(first):
        return {"type": first, "data": rest}
    second, _, data = rest.partition(" ")
    if _is_type(second):
        return {"name": first, "type": second, "data": data}
    return None


def _answers(text: str) -> tuple[list[dict], str]:
    """the answer list up to the -vv sections: [{type, data[, name]}] in order, and what follows it"""
    section = ""
    for mark in (" ns: ", " ar: "):
        i = text.find(mark)
        if i >= 0:
            text, section = text[:i], text[i:] + section
    text = text.strip()
    answers: list[dict] = []
    if not text:
        return answers, section.strip()
    for piece in text.split(", "):
        ans = _answer(piece)
        if ans is not None:
            answers.append(ans)
        elif answers:  # a comma inside the data (a TXT string): it belongs to the answer before it
            answers[-1]["data"] += ", " + piece
        else:
            return answers, (text + section).strip()
    return answers, section.strip()


def parse_dns(rec: dict, text: str) -> str:
    """fill the dns_* keys of a raw record from the DNS text; returns what it did not read"""
    length = None
    m = _LENGTH_RE.search(text, max(0, len(text) - 12))
    if m is not None:
        length = m.group(1)
        text = text[: m.start()]
    m = _RESPONSE_RE.match(text)
    if m is not None:
        ident, opcode, rcode, flags, qd, qtype, qname, an, ns, ar = m.groups()
        rec["dns_id"] = ident
        rec["dns_response"] = "true"
        if opcode:
            rec["dns_opcode"] = opcode
        rec["dns_rcode"] = rcode or "NoError"
        if flags:
            rec["dns_flags"] = flags
        if qd is not None:
            rec["dns_qdcount"] = qd
        if qtype is not None:
            rec["dns_qtype"] = qtype
            rec["dns_qname"] = qname
        rec["dns_ancount"] = an
        rec["dns_nscount"] = ns
        rec["dns_arcount"] = ar
        answers, rest = _answers(text[m.end() :])
        if answers:
            rec["dns_answers"] = answers
        rest = _edns(rec, rest)
    else:
        m = _QUERY_RE.match(text)
        if m is None:
            return text if length is None else f"{text} ({length})"
        ident, opcode, flags, _odd, counts = m.groups()
        rec["dns_id"] = ident
        rec["dns_response"] = "false"
        if opcode:
            rec["dns_opcode"] = opcode
        if flags:
            rec["dns_flags"] = flags
        for cm in _COUNT_RE.finditer(counts):
            rec[_COUNT_KEYS[cm.group(2)]] = cm.group(1)
        rest = text[m.end() :]
        q = _QUESTION_RE.match(rest)
        if q is not None:
            rec["dns_qtype"], rec["dns_qname"] = q.groups()
            rest = rest[q.end() :]
            questions = [{"type": q.group(1), "name": q.group(2)}]
            q = _QUESTION_RE.match(rest)
            while q is not None:  # more than one question ("[2q]"): all of them in dns_questions
                questions.append({"type": q.group(1), "name": q.group(2)})
                rest = rest[q.end() :]
                q = _QUESTION_RE.match(rest)
            if len(questions) > 1:
                rec["dns_questions"] = questions
        rest = _edns(rec, rest.strip())
        if _odd:  # "[b2&3=0xN]": bits a query should not have set, kept in unparsed
            rest = f"{_odd} {rest}".strip()
    if length is not None:
        rec["dns_length"] = length
    return rest


def _edns(rec: dict, rest: str) -> str:
    """-vv prints the OPT record of the additional section: "ar: . OPT UDPsize=1232 DO" -> dns_edns"""
    i = rest.find(" OPT ")
    if i >= 0:
        j = rest.find(", ", i)
        rec["dns_edns"] = rest[i + 5 : j if j >= 0 else len(rest)]
        if j < 0 and rest.startswith("ar: . OPT "):  # the additional section was the OPT record alone: read
            return ""
    return rest


def as_dns(record: dict) -> dict:
    """
    A processed UDP record of a capture made with `-T domain` (DNS on a port tcpdump does not decode as DNS
    by itself, which it prints as it prints port 53's): its dns_* fields read from `unparsed`, as for port
    53. Other records are returned as they are.
    """
    text = record.get("unparsed")
    if record.get("protocol") != "udp" or not text or not text[:1].isdigit() or "dns_id" in record:
        return record
    raw: dict = {}
    rest = parse_dns(raw, text)
    if "dns_id" not in raw:
        return record
    out = {k: v for k, v in record.items() if k != "unparsed"} | process(raw)
    if rest:
        out["unparsed"] = rest
    return out
