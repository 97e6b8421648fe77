"""The record fields of the second round, on recorded lab traffic and on the synthetic kinds of real captures.

Lab fixtures (scripts/record_fixtures.sh, real tools in throw-away namespaces): probe-tcp (nc: handshake, FIN,
RST, RST-ACK, REJECT, DROP), probe-udp (nc: echo, closed port, every REJECT --reject-with type), probe-dns
(dig against dnsmasq), nd (IPv6 ND, ICMPv6 errors, packet too big, MLDv1). Synthetic fixtures
(tests/fixtures/linux/make_pcaps.py): headers, truncated, time2038, oddities, dns, icmpv6.
Each rendering is parsed under jc's defaults (quiet=False): no ParseError, no streaming error object.
"""

import jc
import pytest

import vethctl.parsers.tcpdump as tcpdump
import vethctl.parsers.tcpdump_s as tcpdump_s
from tests.support import paths

FIXTURES = paths.FIXTURES / "linux"


def parsed(case):
    """batch and streaming records of a fixture, under jc's defaults; they must agree"""
    text = (FIXTURES / f"tcpdump-{case}.out").read_text(encoding="utf-8")
    recs = jc.parse(tcpdump, text)
    srecs = list(jc.parse(tcpdump_s, text.splitlines(), ignore_exceptions=True))
    assert all(r.pop("_jc_meta")["success"] for r in srecs)
    assert srecs == recs
    return recs


def pick(recs, **want):
    return [r for r in recs if all(r.get(k) == v for k, v in want.items())]


# --------------------------------------------------------------------------- issue 18: real captures


@pytest.mark.parametrize("case", ["synth-headers", "synth-headers-verbose"])
def test_a_refused_pcap_record_is_a_record_of_its_own(case):
    recs = parsed(case)
    assert len(recs) == 6  # one record per packet, the refused ones included
    assert recs[1]["unparsed"] == "[Invalid header: caplen==0, len==0]" and recs[1]["timestamp"] is None
    assert recs[3]["unparsed"] == "[Invalid header: len(20) < caplen(44)]"
    assert recs[4]["unparsed"] == "[|ether]" and recs[4]["timestamp"] == 1795680004.0
    assert [r["src_port"] for r in (recs[0], recs[2], recs[5])] == [40000] * 3


@pytest.mark.parametrize("case", ["synth-truncated", "synth-truncated-verbose"])
def test_truncated_ip_keeps_addresses_and_ports(case):
    recs = parsed(case)
    v4u, v4t, v4i, v6u, v6t = recs[:5]
    assert (v4u["src_ip"], v4u["src_port"], v4u["dst_ip"], v4u["dst_port"]) == (
        "192.0.2.1",
        40000,
        "198.51.100.1",
        53,
    )
    assert [r["ip_bytes_missing"] for r in recs[:5]] == [120, 60, 54, 100, 44]
    assert v4t["protocol"] == "tcp" and v4t["tcp_flags"] == "S" and v4t["dst_port"] == 80
    assert v4i["icmp_type"] == "echo request" and v4i["icmp_id"] == 77
    assert (v6u["src_ip"], v6u["dst_port"], v6u["protocol"]) == ("2001:db8:1::1", 5555, "udp")
    assert v6t["src_port"] == 40001 and v6t["tcp_flags"] == "S"


@pytest.mark.parametrize("case", ["synth-truncated", "synth-truncated-verbose"])
def test_a_transport_header_cut_short_names_its_protocol(case):
    recs = parsed(case)[5:]
    assert [r["protocol"] for r in recs] == ["udp", "tcp", "icmp6", "udp", "tcp", "icmp"]
    assert [r["unparsed"] for r in recs] == ["[|udp]", "[|tcp]", "[|icmp6]", "[|udp]", "[|tcp]", "[|icmp]"]
    assert "src_port" not in recs[0] and recs[1]["src_port"] == 40001


@pytest.mark.parametrize("case", ["synth-time2038", "synth-time2038-verbose"])
def test_a_time_tcpdump_cannot_print_loses_only_the_timestamp(case):
    recs = parsed(case)
    assert len(recs) == 5
    late = recs[1:4]
    assert [r["timestamp"] for r in late] == [None] * 3
    assert [r["time"] for r in late] == ["Error converting time"] * 3
    assert (
        late[0]["src_mac"] == "02:00:00:00:0a:01" and late[0]["length"] == 46 and late[0]["dst_port"] == 5555
    )
    assert late[1]["icmp_code"] == "port unreachable" and late[1]["inner"]["dst_port"] == 9
    if case.endswith("verbose"):  # its continuation lines still belong to it
        assert late[1]["inner"]["src_port"] == 40000 and late[0]["ttl"] == 64
    assert "details" not in late[1] and recs[4]["timestamp"] == 1795680031.0


def test_verbose_oddities():
    recs = parsed("synth-oddities-verbose")
    assert len(recs) == 11
    req, rep = recs[0], recs[1]  # ARP of an unknown hardware type
    assert (req["arp_op"], req["sender_ip"], req["target_ip"]) == ("request", "192.0.2.1", "192.0.2.9")
    assert (rep["arp_op"], rep["sender_ip"], rep["sender_mac"]) == ("reply", "192.0.2.9", "02:00:00:00:0b:02")
    assert recs[2]["ttl"] == 0 and recs[2]["src_ip"] == "192.0.2.1" and recs[2]["dst_port"] == 5555
    assert recs[3]["inner"]["ttl"] == 0 and recs[3]["inner"]["src_port"] == 40000
    assert recs[4]["protocol"] == "ipcomp" and recs[4]["src_ip"] == "192.0.2.1" and recs[4]["ip_length"] == 44
    assert recs[5]["protocol"] == "mobile" and recs[5]["dst_ip"] == "198.51.100.1"
    assert recs[6]["next_header"] == "62" and recs[6]["src_ip"] == "2001:db8:1::1"
    assert recs[7]["next_header"] == "ipv6-nonxt" and recs[7]["protocol"] == "ipv6-nonxt"
    # the truncation mark at column 0 after a -v BGP decode belongs to its packet
    assert recs[8]["details"] == ["[|BGP Update]"] and recs[9]["details"] == ["[|BGP Open]"]
    assert recs[10]["dst_port"] == 5555


# --------------------------------------------------------------------------- issue 11: TCP, UDP, ICMP errors


@pytest.mark.parametrize("case", ["probe-tcp", "probe-tcp-verbose"])
def test_tcp_flags_and_sequence_numbers(case):
    recs = [r for r in parsed(case) if r.get("protocol") == "tcp"]
    v4 = [r for r in recs if r["src_ip"] in ("192.0.2.1", "198.51.100.1")]
    syn, synack, ack = v4[0], v4[1], v4[2]
    assert (syn["tcp_flags"], syn["dst_port"], syn["payload_length"]) == ("S", 7001, 0)
    assert synack["tcp_flags"] == "S." and synack["tcp_ack"] == syn["tcp_seq"] + 1
    assert ack["tcp_flags"] == "." and ack["tcp_ack"] == 1  # relative from here on
    fins = [r for r in v4 if "F" in r["tcp_flags"]]
    assert [f["tcp_flags"] for f in fins] == ["F.", "F."] and fins[1]["tcp_ack"] == 2
    rst_ack = pick(v4, src_port=7090, tcp_flags="R.")
    assert rst_ack[0]["tcp_seq"] == 0 and rst_ack[0]["tcp_win"] == 0
    (rst,) = pick(v4, tcp_flags="R")  # the answer to a stray ACK: no ACK flag, seq = the ACK's number
    assert rst["tcp_seq"] == 424242 and "tcp_ack" not in rst
    v6 = [r for r in recs if ":" in r["src_ip"]]
    assert [r["tcp_flags"] for r in v6[:3]] == ["S", "S.", "."]
    assert pick(v6, src_port=7090)[0]["tcp_flags"] == "R."
    dropped = pick(v4, dst_port=7081)
    assert len(dropped) >= 2 and {r["tcp_seq"] for r in dropped} == {dropped[0]["tcp_seq"]}  # retransmitted


@pytest.mark.parametrize("case", ["probe-tcp", "probe-tcp-verbose"])
def test_a_rejected_syn(case):
    (err,) = pick(parsed(case), icmp_type="destination unreachable")
    assert err["icmp_code"] == "communication prohibited"  # "unreachable - admin prohibited filter"
    assert err["inner"]["dst_ip"] == "198.51.100.1"
    if case.endswith("verbose"):  # -v quotes the SYN: its addresses, ports, protocol and flags
        inner = err["inner"]
        assert (inner["src_ip"], inner["protocol"], inner["dst_port"], inner["tcp_flags"]) == (
            "192.0.2.1",
            "tcp",
            7082,
            "S",
        )


# every iptables/ip6tables REJECT --reject-with type -> the icmp_code of the error it sends (in the docstring)
REJECT_CODES = {
    9101: ("icmp-net-unreachable", "net unreachable"),
    9102: ("icmp-host-unreachable", "host unreachable"),
    9103: ("icmp-port-unreachable", "port unreachable"),
    9104: ("icmp-proto-unreachable", "protocol unreachable"),
    9105: ("icmp-net-prohibited", "net prohibited"),
    9106: ("icmp-host-prohibited", "host prohibited"),
    9107: ("icmp-admin-prohibited", "communication prohibited"),
    9111: ("icmp6-no-route", "no route to destination"),
    9112: ("icmp6-adm-prohibited", "administratively prohibited"),
    9113: ("icmp6-addr-unreachable", "address unreachable"),
    9114: ("icmp6-port-unreachable", "port unreachable"),
}


@pytest.mark.parametrize("case", ["probe-udp", "probe-udp-verbose"])
def test_udp_and_the_icmp_error_of_every_reject_type(case):
    recs = parsed(case)
    echo = pick(recs, src_port=5555)
    assert [r["payload_length"] for r in echo] == [6, 6] and pick(recs, dst_port=5555)[0]["protocol"] == "udp"
    errors = pick(recs, icmp_type="destination unreachable")
    # the port each error is about: printed by tcpdump for port unreachable, else read from the datagram sent
    # just before it (the probes go one at a time)
    sent = [
        r for r in recs if r.get("protocol") == "udp" and r["src_ip"] == r.get("src_ip") and r.get("dst_port")
    ]
    codes = {}
    for err in errors:
        before = [r for r in sent if r["timestamp"] < err["timestamp"]][-1]
        codes[before["dst_port"]] = err
    assert codes[9]["icmp_code"] == "port unreachable"
    for port, (_, code) in REJECT_CODES.items():
        assert codes[port]["icmp_code"] == code, port
        inner = codes[port]["inner"]
        assert inner["dst_ip"] in ("198.51.100.1", "2001:db8:2::1")
        if code == "port unreachable":
            assert (inner["protocol"], inner["dst_port"]) == ("udp", port)
        if case.endswith("verbose") and port < 9110:  # -v quotes the datagram (IPv4)
            assert (inner["src_ip"], inner["dst_port"], inner["protocol"]) == ("192.0.2.1", port, "udp")
            assert inner["src_port"] > 1024


# --------------------------------------------------------------------------- issue 11: DNS


@pytest.mark.parametrize("case", ["probe-dns", "probe-dns-verbose"])
def test_dns_from_dig_and_dnsmasq(case):
    recs = [r for r in parsed(case) if "dns_id" in r]
    queries = [r for r in recs if not r["dns_response"]]
    answers = {r["dns_id"]: r for r in recs if r["dns_response"]}
    assert len(queries) == len(answers) == 8
    by_name = {
        (q["dns_qname"], q["dns_qtype"], q["protocol"], ":" in q["src_ip"]): answers[q["dns_id"]]
        for q in queries
    }
    assert all(
        q["dns_flags"] == "+" and q["dns_arcount"] == 1 for q in queries
    )  # dig: RD, an EDNS OPT record
    a = by_name[("web.lab.example.", "A", "udp", False)]
    assert (a["dns_rcode"], a["dns_flags"], a["dns_ancount"], a["dns_nscount"]) == ("NoError", "*", 1, 0)
    assert [(x["type"], x["data"]) for x in a["dns_answers"]] == [("A", "198.51.100.1")]
    aaaa = by_name[("web.lab.example.", "AAAA", "udp", False)]
    assert [(x["type"], x["data"]) for x in aaaa["dns_answers"]] == [("AAAA", "2001:db8:2::1")]
    chain = by_name[("alias.lab.example.", "A", "udp", False)]["dns_answers"]
    assert [(x["type"], x["data"]) for x in chain] == [
        ("CNAME", "www.lab.example."),
        ("CNAME", "web.lab.example."),
        ("A", "198.51.100.1"),
    ]
    if case.endswith("verbose"):  # -v prints each answer's name
        assert [x["name"] for x in chain] == ["alias.lab.example.", "www.lab.example.", "web.lab.example."]
    assert by_name[("missing.lab.example.", "A", "udp", False)]["dns_rcode"] == "NXDomain"
    assert by_name[("broken.lab.example.", "A", "udp", False)]["dns_rcode"] == "ServFail"
    assert by_name[("other.test.", "A", "udp", False)]["dns_rcode"] == "Refused"
    tcp = by_name[("www.lab.example.", "A", "tcp", False)]
    assert tcp["dns_ancount"] == 2 and tcp["tcp_flags"] == "P." and tcp["src_port"] == 53
    v6 = by_name[("web.lab.example.", "AAAA", "udp", True)]
    assert v6["dns_answers"][0]["data"] == "2001:db8:2::1"
    assert all("unparsed" not in r for r in recs)


def test_dns_of_every_shape():
    recs = [r for r in parsed("synth-dns") if "dns_id" in r]
    resp = {r["dns_id"]: r for r in recs if r["dns_response"]}
    assert resp[12346]["dns_rcode"] == "NXDomain" and resp[12346]["dns_nscount"] == 1
    assert resp[12347]["dns_rcode"] == "ServFail" and "dns_flags" not in resp[12347]
    assert resp[12348]["dns_rcode"] == "Refused" and resp[12348]["dns_flags"] == "-"
    assert resp[12351]["dns_flags"] == "*-" and resp[12351]["dns_answers"] == [
        {"type": "MX", "data": "mx.example. 10"}
    ]
    assert resp[12352]["dns_flags"] == "$" and resp[12352]["dns_answers"][0]["data"] == '"v=lab one" "two"'
    assert resp[12354]["dns_flags"] == "|"
    assert resp[12355]["dns_rcode"] == "FormErr" and resp[12355]["dns_qdcount"] == 0
    assert resp[12356]["dns_opcode"] == "notify" and resp[12356]["dns_rcode"] == "NotImp"
    (cd,) = [r for r in recs if r["dns_id"] == 12352 and not r["dns_response"]]
    assert cd["dns_flags"] == "+%"
    (norec,) = [r for r in recs if r["dns_id"] == 12351 and not r["dns_response"]]
    assert "dns_flags" not in norec and norec["dns_qtype"] == "MX"
    (odd,) = [r for r in recs if r["dns_id"] == 12357]
    assert odd["dns_opcode"] == "notify" and odd["dns_qtype"] == "SOA" and odd["unparsed"] == "[b2&3=0x2500]"
    (two,) = [r for r in recs if r["dns_id"] == 12358]
    assert two["dns_qdcount"] == 2 and [q["name"] for q in two["dns_questions"]] == [
        "a.example.",
        "b.example.",
    ]


# --------------------------------------------------------------------------- issue 14: ICMPv6


@pytest.mark.parametrize("case", ["nd", "nd-verbose"])
def test_neighbor_discovery_and_icmp6_errors_from_the_lab(case):
    recs = parsed(case)
    ns, na = recs[0], recs[1]
    assert (
        ns["icmp_type"] == "neighbor solicitation" and ns["target_ip"] == ns["nd_target"] == "2001:db8:1::254"
    )
    assert na["icmp_type"] == "neighbor advertisement" and na["target_ip"] == "2001:db8:1::254"
    if case.endswith("verbose"):
        assert ns["source_lladdr"] == ns["src_mac"] and na["target_lladdr"] == na["src_mac"]
        assert "details" not in ns and "details" not in na
    else:
        assert "source_lladdr" not in ns  # printed with -v only
    errors = pick(recs, icmp_type="destination unreachable")
    assert [(e["icmp_code"], e["inner"]["dst_ip"]) for e in errors] == [
        ("address unreachable", "2001:db8:2::77"),
        ("no route to destination", "2001:db8:2::2"),
        ("administratively prohibited", "2001:db8:2::3"),
    ]
    (ptb,) = pick(recs, icmp_type="packet too big")
    assert ptb["mtu"] == 1280 and ptb["src_ip"] == "2001:db8:1::254"
    (ra,) = pick(recs, icmp_type="router advertisement")
    assert ra["dst_ip"] == "ff02::1" and ra.get("source_lladdr") == (
        ra["src_mac"] if "verbose" in case else None
    )
    dad = [r for r in pick(recs, icmp_type="neighbor solicitation") if r["src_ip"] == "::"]
    assert dad and dad[0]["target_ip"].startswith("2001:db8:1:0:")  # the address vtp-a made from the prefix
    mld = [r for r in recs if r.get("icmp_type", "").startswith("multicast listener")]
    assert [(r["icmp_type"], r["mld_group"]) for r in mld][-1] == ("multicast listener done", "ff05::db8")
    assert mld[0]["icmp_type"] == "multicast listener report" and mld[0]["ext_headers"][0].startswith("HBH")


@pytest.mark.parametrize("case", ["synth-icmpv6", "synth-icmpv6-verbose"])
def test_icmp6_types_as_tcpdump_prints_them(case):
    recs = parsed(case)
    verbose = case.endswith("verbose")
    types = [r["icmp_type"] for r in recs]
    assert types[:11] == [
        "neighbor solicitation",
        "neighbor advertisement",
        "neighbor solicitation",
        "neighbor advertisement",
        "router solicitation",
        "router advertisement",
        "multicast listener report",
        "multicast listener done",
        "multicast listener query",
        "multicast listener query v2",
        "multicast listener report v2",
    ]
    assert recs[2]["src_ip"] == "::" and recs[2]["target_ip"] == "2001:db8:1::2"  # DAD
    assert recs[4].get("source_lladdr") == ("02:00:00:00:0a:01" if verbose else None)
    assert recs[5].get("source_lladdr") == ("02:00:00:00:0b:02" if verbose else None)
    assert [recs[i]["mld_group"] for i in (6, 7, 8, 9)] == ["ff02::1:ff00:1", "ff02::1:ff00:1", "::", "::"]
    assert recs[10]["mld_group_records"] == 2
    if verbose:
        assert (
            recs[10]["mld_groups"] == ["ff02::1:ff00:1", "ff05::db8"]
            and recs[9]["mld_max_resp_delay"] == 10000
        )
    codes = [r.get("icmp_code") for r in pick(recs, icmp_type="destination unreachable")]
    assert codes == [
        "no route to destination",
        "administratively prohibited",
        "address unreachable",
        "port unreachable",
        "5",
        "6",
    ]
    assert pick(recs, icmp_type="packet too big")[0]["mtu"] == 1280
    assert pick(recs, icmp_type="time exceeded")[0]["icmp_code"] == "hop limit exceeded"
    assert pick(recs, icmp_type="parameter problem")[0]["pointer"] == 6


def test_every_key_the_fixtures_give_is_in_the_schema():
    """the docstring is the documentation: each key any fixture record has is in the batch parser's schema,
    and the keys of this round are in the streaming parser's too"""
    keys = set()

    def collect(value):
        if isinstance(value, dict):
            keys.update(value)
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    for out in FIXTURES.glob("tcpdump-*.out"):
        collect(jc.parse(tcpdump, out.read_text(encoding="utf-8"), quiet=True))
    assert len(keys) > 80
    undocumented = {k for k in keys if f'"{k}":' not in tcpdump.__doc__}
    assert undocumented == set()
    new = {"target_ip", "source_lladdr", "target_lladdr", "ip_bytes_missing", "mld_group", "dns_answers"}
    new |= {
        k for k in keys if k.startswith("dns_") and k not in ("dns_questions", "dns_qdcount", "dns_length")
    }
    assert {k for k in new if f'"{k}":' not in tcpdump_s.__doc__} == set()


def test_dns_with_vv_gives_the_question_of_a_response_and_edns():
    """-vv prints a response's question and the additional section (an OPT record: dns_edns)"""
    vv = (
        "1796047073.334531 5e:db:d8:c7:00:18 > 16:66:45:53:42:bc, ethertype IPv4 (0x0800), length 102: "
        "198.51.100.1.53 > 192.0.2.1.45870: 59718*- q: A? web.lab.example. 1/0/1 web.lab.example. A 198.51.100.1 "
        "ar: . OPT UDPsize=1232 (60)"
    )
    (r,) = jc.parse(tcpdump, vv)
    assert (r["dns_qtype"], r["dns_qname"], r["dns_flags"], r["dns_edns"]) == (
        "A",
        "web.lab.example.",
        "*-",
        "UDPsize=1232",
    )
    assert r["dns_answers"] == [{"name": "web.lab.example.", "type": "A", "data": "198.51.100.1"}]
    assert "unparsed" not in r and r["dns_length"] == 60


HEAD6 = "1795680046.000000 02:00:00:00:0a:01 > 02:00:00:00:0b:02, ethertype IPv6 (0x86dd), length 70: "


@pytest.mark.parametrize(
    ("name", "number", "expected"),
    [
        ("No Next Header", "59", "ipv6-nonxt"),
        ("Mobile IP (old)", "62", "62"),
        ("unknown", "59", "ipv6-nonxt"),
    ],
)
def test_next_header_names_with_spaces_and_parentheses(name, number, expected):
    """as other tcpdump versions print them too ("No Next Header" in 4.9, "unknown" in 4.99)"""
    line = (
        f"{HEAD6}(hlim 64, next-header {name} ({number}) payload length: 16) 2001:db8:1::1.5 > 2001:db8:2::1.6: "
        "UDP, length 8"
    )
    (r,) = jc.parse(tcpdump, line)
    assert (r["next_header"], r["hop_limit"], r["ip_length"], r["src_port"]) == (expected, 64, 16, 5)
    assert "unparsed" not in r
