"""Tests of the jc-style tcpdump parsers (vethctl.parsers.tcpdump and tcpdump_s).

Fixtures: tests/fixtures/linux/tcpdump-<case>.out (tcpdump text recorded from lab traffic by
scripts/record_fixtures.sh) with the expected tcpdump-<case>.json (batch) and
tcpdump-<case>-streaming.json (streaming), reviewed by eye when recorded.
"""

import contextlib
import json
import subprocess
from unittest import mock

import jc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jc.exceptions import ParseError

import vethctl.parsers._tcpdump.fastpath as fastpath
import vethctl.parsers._tcpdump.lines as tcpdump_lines
import vethctl.parsers.tcpdump as tcpdump
import vethctl.parsers.tcpdump_s as tcpdump_s
from tests.support import paths
from tests.support.pcapcheck import RENDERINGS, run_tcpdump
from vethctl.parsers._tcpdump import LineParser, process
from vethctl.parsers._tcpdump.patterns import FAST_ECHO_RE
from vethctl.parsers._tcpdump.records import ALWAYS_KEYS

FIXTURES = paths.FIXTURES / "linux"
CORPUS = paths.CORPUS
CASES = sorted(p.name[len("tcpdump-") : -len(".out")] for p in FIXTURES.glob("tcpdump-*.out"))


def text_of(case):
    return (FIXTURES / f"tcpdump-{case}.out").read_text(encoding="utf-8")


def expected(case, streaming=False):
    suffix = "-streaming.json" if streaming else ".json"
    return json.loads((FIXTURES / f"tcpdump-{case}{suffix}").read_text(encoding="utf-8"))


def batch(text, **kw):
    return jc.parse(tcpdump, text, **kw)


def stream(lines, **kw):
    return list(jc.parse(tcpdump_s, lines, **kw))


def by_case(case):
    return batch(text_of(case))


def strip_meta(records):
    return [{k: v for k, v in r.items() if k != "_jc_meta"} for r in records]


@pytest.fixture(scope="module")
def corpus_texts():
    """tcpdump -r -nn -tt -e text (and -v) of every pcap of tcpdump's regression corpus (if present). A
    tcpdump that fails, or a pcap that gives no text, fails the tests that use this: the corpus never
    shrinks silently."""
    if not CORPUS.is_dir():
        return {}
    texts = {}
    for pcap in sorted(CORPUS.glob("*.pcap")):
        for rendering in RENDERINGS:
            out = run_tcpdump(pcap, rendering)
            assert out.strip(), f"tcpdump -r {pcap} printed nothing"
            texts[f"{pcap.name} {rendering}"] = out
    assert len(texts) == 2 * len(list(CORPUS.glob("*.pcap")))
    return texts


def test_a_tcpdump_that_fails_fails_the_corpus(tmp_path):
    """the corpus is read with check=True: an unreadable capture is an error, not a missing text"""
    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"not a pcap")
    with pytest.raises(subprocess.CalledProcessError):
        run_tcpdump(bad, "plain")


def all_texts(corpus_texts):
    texts = {f"fixture:{c}": text_of(c) for c in CASES}
    texts.update({f"corpus:{n}": t for n, t in corpus_texts.items()})
    return texts


# --------------------------------------------------------------------------- jc conventions


def test_fixtures_present():
    for case in ("arp", "icmp", "icmp6", "unreachable", "ttl", "frag", "tcp", "udp", "vlan", "l2", "linkup"):
        assert case in CASES


def test_info_metadata():
    assert tcpdump.info.compatible == ["linux", "darwin", "freebsd"]
    assert tcpdump_s.info.compatible == ["linux", "darwin", "freebsd"]
    assert tcpdump_s.info.streaming is True
    assert not getattr(tcpdump.info, "streaming", False)
    for mod in (tcpdump, tcpdump_s):
        assert mod.__version__ == mod.info.version
        assert "Schema:" in mod.__doc__ and "Examples:" in mod.__doc__ and "Usage (module):" in mod.__doc__
        assert mod.info.tags == ["command"]


def test_empty_input():
    assert batch("") == []
    assert batch("  \n\n") == []
    assert stream([]) == []
    assert stream(["", "   "]) == []


def test_input_type_checks():
    with pytest.raises(TypeError):
        batch(["not", "a", "string"])
    with pytest.raises(TypeError):
        stream("a string, not an iterable of lines")


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("case", CASES)
def test_fixture_batch(case):
    assert batch(text_of(case)) == expected(case)


@pytest.mark.parametrize("case", CASES)
def test_fixture_streaming(case):
    assert stream(text_of(case).splitlines()) == expected(case, streaming=True)


@pytest.mark.parametrize("case", CASES)
def test_fixture_streaming_from_file_lines(case):
    """lines as read from a file or stdin keep their newline"""
    with open(FIXTURES / f"tcpdump-{case}.out", encoding="utf-8") as f:
        assert stream(f) == expected(case, streaming=True)


def test_streaming_agrees_with_batch_everywhere(corpus_texts):
    for name, text in all_texts(corpus_texts).items():
        assert stream(text.splitlines(), quiet=True) == batch(text, quiet=True), name
        assert stream(text.splitlines(), quiet=True, raw=True) == batch(text, quiet=True, raw=True), name
        meta = stream(text.splitlines(), quiet=True, ignore_exceptions=True)
        assert all(r["_jc_meta"] == {"success": True} for r in meta), name
        assert strip_meta(meta) == batch(text, quiet=True), name


class NoFastPaths:
    """fast paths that read no line"""

    def __init__(self, typed):
        self.hot = []
        self.flows = []
        self.record = lambda line: None


@contextlib.contextmanager
def reference_parser_only():
    """disable the ICMP echo fast paths (regexes and flow templates) of the parsers made meanwhile: every
    line takes the general path"""
    with mock.patch.object(tcpdump_lines, "FastPaths", NoFastPaths):
        yield


def flood_text(n=300, start=0):
    return "\n".join(
        f"1795682803.{i:06d} ce:52:9c:35:50:bf > 82:e5:64:1d:ee:a3, ethertype IPv4 (0x0800), length 98: "
        f"192.0.2.{i % 5 + 1} > 192.0.2.2: ICMP echo {('request', 'reply')[i % 2]}, id {i % 3}, seq {i}, length 64"
        for i in range(start, start + n)
    )


def test_fast_paths_agree_with_reference_parser(corpus_texts):
    """the ICMP echo fast paths give what the general (regex) path gives"""
    texts = all_texts(corpus_texts)
    texts["flood"] = flood_text()
    # flow templates belong to one parser: the second flood meets the templates the first one made
    texts["flood again (flow templates known)"] = flood_text() + "\n" + flood_text(start=7)
    with_fast = {n: (batch(t, quiet=True), stream(t.splitlines(), quiet=True)) for n, t in texts.items()}
    with_fast_raw = {n: stream(t.splitlines(), quiet=True, raw=True) for n, t in texts.items()}
    with reference_parser_only():
        for name, text in texts.items():
            assert (batch(text, quiet=True), stream(text.splitlines(), quiet=True)) == with_fast[name], name
            assert stream(text.splitlines(), quiet=True, raw=True) == with_fast_raw[name], name
    assert with_fast["flood"][1][3]["icmp_seq"] == 3
    assert with_fast["flood"][1][3]["timestamp"] == pytest.approx(1795682803.000003)


def test_hot_flows_agree_with_reference_parser():
    """a two-flow flood long enough for both flows to get a regex of their own, then near misses of them"""
    mac = {
        "request": "ce:52:9c:35:50:bf > 82:e5:64:1d:ee:a3",
        "reply": "82:e5:64:1d:ee:a3 > ce:52:9c:35:50:bf",
    }
    ips = {"request": "192.0.2.1 > 192.0.2.2", "reply": "192.0.2.2 > 192.0.2.1"}

    def line(i, kind, ident=7, seq=None, plen="64", tail=""):
        return (
            f"1795682803.{i:06d} {mac[kind]}, ethertype IPv4 (0x0800), length 98: {ips[kind]}: "
            f"ICMP echo {kind}, id {ident}, seq {i // 2 if seq is None else seq}, length {plen}{tail}"
        )

    flood = [line(i, ("request", "reply")[i % 2]) for i in range(2 * fastpath.HOT_AFTER + 10)]
    n = len(flood)
    near = [
        line(n, "request", plen="56"),
        line(n + 1, "reply", ident=8),
        line(n + 2, "request", seq="x"),
        line(n + 3, "reply", tail=" extra"),
        line(n + 4, "request", seq="١٢"),
        line(n + 5, "reply") + "\n",
        "1795682803.x" + line(n + 6, "request")[17:],
        line(n + 7, "reply"),
    ]
    text = "\n".join(flood + near)
    parser = LineParser(process=process)
    for each in flood:
        parser.push(each)
    assert len(parser.fast.hot) == fastpath.HOT_MAX  # the fastest path was taken
    opts = {"quiet": True, "ignore_exceptions": True}  # the lines that are not tcpdump's become errors
    fast = (stream(text.splitlines(), **opts), stream(text.splitlines(), raw=True, **opts))
    mixed = stream(flood + near, **opts)  # lines that keep their \n
    with reference_parser_only():
        assert (stream(text.splitlines(), **opts), stream(text.splitlines(), raw=True, **opts)) == fast
        assert stream(flood + near, **opts) == mixed
    assert fast[0][n]["payload_length"] == 56 and fast[0][n + 1]["icmp_id"] == 8
    ok = [r for r in fast[0][n:] if r["_jc_meta"]["success"]]
    assert [r.get("unparsed") for r in ok] == [
        None,
        None,
        "id 7, seq x",
        ", length 64 extra",
        "id 7, seq \u0661\u0662",
        None,
        None,
    ]
    assert [r.get("icmp_seq") for r in ok] == [
        n // 2,
        n // 2,
        None,
        (n + 3) // 2,
        None,
        (n + 5) // 2,
        (n + 7) // 2,
    ]
    # the line with "x" for a timestamp is not a packet line: at column 0 after a packet, it continues it
    assert len(fast[0][n:]) == len(ok)
    assert ok[5]["details"] == [near[6]]
    assert fast[0][-1]["icmp_seq"] == (n + 7) // 2 and "unparsed" not in fast[0][-1]


# --------------------------------------------------------------------------- representative lines


def test_arp_who_has_without_reply():
    recs = by_case("arp")
    unanswered = [r for r in recs if r.get("target_ip") == "192.0.2.99"]
    assert len(unanswered) == 3
    for r in unanswered:
        assert r["arp_op"] == "request"
        assert r["sender_ip"] == "192.0.2.1"
        assert r["dst_mac"] == "ff:ff:ff:ff:ff:ff"
        assert r["ethertype"] == "arp" and r["length"] == 42 and r["payload_length"] == 28
        assert "target_mac" not in r and "sender_mac" not in r
    assert not [r for r in recs if r.get("sender_ip") == "192.0.2.99"]
    reply = next(r for r in recs if r.get("arp_op") == "reply")
    assert reply["sender_ip"] == "192.0.2.254"
    assert reply["sender_mac"] == reply["src_mac"]


def test_arp_target_mac_when_printed():
    line = (
        "1575842394.599412 00:20:d2:5a:fb:3f > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: "
        "Request who-has 172.21.79.100 (ff:ff:ff:ff:ff:ff) tell 172.21.79.97, length 46"
    )
    (r,) = batch(line)
    assert r["target_mac"] == "ff:ff:ff:ff:ff:ff"
    assert (r["sender_ip"], r["target_ip"]) == ("172.21.79.97", "172.21.79.100")


def test_icmp_echo_id_seq():
    recs = by_case("icmp")
    echoes = [r for r in recs if r.get("protocol") == "icmp"]
    assert [r["icmp_type"] for r in echoes] == ["echo request", "echo reply"] * 3
    assert [r["icmp_seq"] for r in echoes] == [1, 1, 2, 2, 3, 3]
    assert len({r["icmp_id"] for r in echoes}) == 1
    first = echoes[0]
    assert first["src_ip"] == "192.0.2.1" and first["dst_ip"] == "198.51.100.1"
    assert first["payload_length"] == 64 and first["length"] == 98
    assert isinstance(first["timestamp"], float) and isinstance(first["icmp_id"], int)


def test_icmp6_echo_and_neighbor_discovery():
    recs = by_case("icmp6")
    ns = next(r for r in recs if r.get("icmp_type") == "neighbor solicitation")
    na = next(r for r in recs if r.get("icmp_type") == "neighbor advertisement")
    assert ns["nd_target"] == na["nd_target"] == "2001:db8:1::254"
    assert ns["dst_ip"] == "ff02::1:ff00:254" and ns["protocol"] == "icmp6"
    echo = next(r for r in recs if r.get("icmp_type") == "echo request")
    assert echo["icmp_seq"] == 1 and echo["dst_ip"] == "2001:db8:2::1"


def test_port_unreachable_with_inner_packet():
    recs = by_case("unreachable")
    v4 = next(r for r in recs if r.get("icmp_code") == "port unreachable" and r["protocol"] == "icmp")
    assert v4["icmp_type"] == "destination unreachable"
    assert v4["inner"] == {"dst_ip": "198.51.100.1", "protocol": "udp", "dst_port": 9}
    v6 = next(r for r in recs if r.get("icmp_code") == "port unreachable" and r["protocol"] == "icmp6")
    assert v6["inner"] == {"dst_ip": "2001:db8:2::1", "protocol": "udp", "dst_port": 9}
    host = next(r for r in recs if r.get("icmp_code") == "host unreachable")
    assert host["src_ip"] == "192.0.2.254" and host["inner"] == {"dst_ip": "198.51.100.77"}


def test_verbose_unreachable_reads_the_quoted_packet():
    recs = by_case("unreachable-verbose")
    v4 = next(r for r in recs if r.get("icmp_code") == "port unreachable" and r["protocol"] == "icmp")
    udp = recs[0]
    inner = v4["inner"]
    assert inner["src_ip"] == udp["src_ip"] == "192.0.2.1"
    assert inner["src_port"] == udp["src_port"]
    assert (inner["dst_ip"], inner["dst_port"], inner["protocol"]) == ("198.51.100.1", 9, "udp")
    assert inner["ttl"] == 63 and inner["dont_fragment"] is True
    assert "details" not in v4
    assert v4["ttl"] == 63 and v4["ip_tos"] == "0xc0"


def test_time_exceeded():
    recs = by_case("ttl")
    v4 = [r for r in recs if r.get("icmp_type") == "time exceeded" and r["protocol"] == "icmp"]
    assert len(v4) == 2
    assert all(r["icmp_code"] == "time to live exceeded" and r["src_ip"] == "192.0.2.254" for r in v4)
    v6 = [r for r in recs if r.get("icmp_type") == "time exceeded" and r["protocol"] == "icmp6"]
    assert [r["icmp_code"] for r in v6] == ["hop limit exceeded"] * 2
    assert v6[0]["inner"] == {"dst_ip": "2001:db8:2::1"}
    verbose = [r for r in by_case("ttl-verbose") if r.get("icmp_code") == "time to live exceeded"]
    assert verbose[0]["inner"]["icmp_type"] == "echo request" and verbose[0]["inner"]["ttl"] == 1


def test_tcp_flags_seq_ack_win():
    recs = [r for r in by_case("tcp") if r["ethertype"] == "ipv4"]
    syn, synack, ack, req = recs[:4]
    assert syn["tcp_flags"] == "S" and "tcp_ack" not in syn and syn["tcp_win"] == 64240
    assert syn["tcp_options"].startswith("mss 1460,sackOK")
    assert synack["tcp_flags"] == "S." and synack["tcp_ack"] == syn["tcp_seq"] + 1
    assert ack["tcp_flags"] == "." and ack["tcp_ack"] == 1 and "tcp_seq" not in ack
    assert req["tcp_flags"] == "P." and (req["tcp_seq"], req["tcp_seq_end"]) == (1, 82)
    assert req["payload_length"] == 81 and req["unparsed"] == "HTTP: GET / HTTP/1.1"
    assert (req["src_port"], req["dst_port"]) == (syn["src_port"], 8080)
    assert [r["tcp_flags"] for r in recs].count("F.") == 2
    rst = recs[-1]
    assert rst["tcp_flags"] == "R." and rst["tcp_win"] == 0 and rst["src_port"] == 8081
    v6 = [r for r in by_case("tcp") if r["ethertype"] == "ipv6"]
    assert v6[0]["src_ip"] == "2001:db8:1::1" and v6[0]["dst_port"] == 8080


def test_udp_ports_and_length():
    recs = by_case("udp")
    assert all(r["protocol"] == "udp" and r["payload_length"] == 6 for r in recs)
    assert recs[0]["dst_port"] == 5555 and recs[1]["src_port"] == 5555
    assert recs[4]["src_ip"] == "2001:db8:1::1"


def test_vlan_and_qinq():
    arp, icmp, udp, qarp, qicmp = by_case("vlan")
    assert arp["outer_ethertype"] == "802.1q" and arp["ethertype"] == "arp"
    assert (arp["vlan"], arp["vlan_priority"]) == (10, 0) and arp["arp_op"] == "request"
    assert icmp["vlan_priority"] == 5 and icmp["icmp_type"] == "echo request" and icmp["icmp_id"] == 0x1234
    assert udp["vlan"] == 20 and udp["vlan_dei"] is True and udp["dst_port"] == 5555
    assert "vlan_dei" not in arp and "vlans" not in arp
    assert qarp["outer_ethertype"] == "802.1q-qinq" and qarp["vlans"] == [100, 10] and qarp["vlan"] == 100
    assert qarp["vlan_priorities"] == [1, 0] and qarp["ethertype"] == "arp"
    assert qicmp["vlans"] == [100, 10] and qicmp["icmp_seq"] == 2


def test_ipv4_and_ipv6_fragments():
    plain = by_case("frag")
    assert [r.get("protocol") for r in plain[:3]] == ["icmp"] * 3  # "ip-proto-1" -> icmp
    assert plain[0]["icmp_type"] == "echo request" and "icmp_type" not in plain[1]
    v6 = [r for r in plain if r["ethertype"] == "ipv6"]
    assert [r["frag_offset"] for r in v6[:3]] == [0, 1448, 2896]
    assert v6[0]["icmp_type"] == "echo request" and "protocol" not in v6[1]
    verbose = by_case("frag-verbose")
    req = verbose[:3]
    assert len({r["ip_id"] for r in req}) == 1
    assert [r["frag_offset"] for r in req] == [0, 1480, 2960]
    assert [r["more_fragments"] for r in req] == [True, True, False]
    assert all(r["dont_fragment"] is False for r in req)
    assert [r["ip_length"] for r in req] == [1500, 1500, 68]
    v6v = [r for r in verbose if r["ethertype"] == "ipv6"]
    assert len({r["ip_id"] for r in v6v[:3]}) == 1 and v6v[0]["next_header"] == "ipv6-frag"


def test_lldp_stp_and_unknown_ethertype_unparsed():
    lldp, stp, unknown = by_case("l2")
    assert lldp["ethertype"] == "lldp" and lldp["length"] == 60
    assert lldp["unparsed"] == "LLDP, length 46: vtp-lab"
    assert stp["ethertype"] == "802.3" and stp["llc_length"] == 38 and stp["length"] is None
    assert stp["unparsed"].startswith("LLC, dsap STP (0x42)")
    assert unknown["ethertype"] == "0x88b5" and len(unknown["details"]) == 3
    assert "unparsed" not in unknown


def test_mld_behind_hop_by_hop_and_router_solicitation():
    recs = by_case("linkup")
    mld = [r for r in recs if r.get("icmp_type") == "multicast listener report v2"]
    assert mld and all(r["ext_headers"] == ["HBH"] and r["dst_ip"] == "ff02::16" for r in mld)
    assert all(isinstance(r["mld_group_records"], int) for r in mld)
    dad = [r for r in recs if r.get("icmp_type") == "neighbor solicitation"]
    assert dad and all(r["src_ip"] == "::" for r in dad)
    assert any(r.get("icmp_type") == "router solicitation" and r["dst_ip"] == "ff02::2" for r in recs)


def test_linux_cooked_any_interface():
    recs = by_case("any")
    assert recs[0]["interface"] == "vtp-a0" and recs[0]["direction"] == "out" and recs[0]["ifindex"] == 2
    assert recs[1]["direction"] == "in" and recs[0]["dst_mac"] is None
    plain = by_case("any-plain")
    assert plain[2]["interface"] == "vtp-a0" and plain[2]["icmp_type"] == "echo request"
    assert plain[2]["src_mac"] is None and plain[2]["time"].count(":") == 2


# --------------------------------------------------------------------------- formats


def test_without_e():
    recs = by_case("udp-plain")
    assert len(recs) == 8
    for r in recs:
        assert r["src_mac"] is None and r["dst_mac"] is None and r["length"] is None
        assert r["timestamp"] is None
        assert r["protocol"] == "udp" and r["payload_length"] == 6
    assert [r["ethertype"] for r in recs] == ["ipv4"] * 4 + ["ipv6"] * 4


def test_without_tt_time_of_day():
    recs = by_case("icmp-tod")
    with_tt = by_case("icmp")
    for tod, tt in zip(recs, with_tt, strict=True):
        h, m, s = tod["time"].split(":")
        assert tod["timestamp"] == pytest.approx(int(h) * 3600 + int(m) * 60 + float(s))
        # the fixtures are rendered with TZ=UTC: same second of the day as the epoch timestamp
        assert tod["timestamp"] == pytest.approx(tt["timestamp"] % 86400, abs=1e-6)
        assert tod.get("icmp_seq") == tt.get("icmp_seq") and tod["ethertype"] == tt["ethertype"]


def test_without_any_time():
    recs = by_case("arp-notime")
    assert all(r["timestamp"] is None and "time" not in r for r in recs)
    assert recs[0]["src_mac"] and recs[0]["arp_op"] == "request"


def test_date_and_time_format():
    (r,) = batch(
        "2026-11-26 08:43:52.485983 IP 192.0.2.1 > 198.51.100.1: ICMP echo request, id 1, seq 2, length 64"
    )
    assert r["time"] == "2026-11-26 08:43:52.485983"
    assert r["timestamp"] == pytest.approx(8 * 3600 + 43 * 60 + 52.485983)
    assert r["icmp_seq"] == 2


def test_raw_output_keeps_strings():
    raw = batch(text_of("icmp"), raw=True)
    assert raw[0]["timestamp"].count(".") == 1 and isinstance(raw[0]["timestamp"], str)
    assert raw[0]["icmp_seq"] == "1" and raw[0]["length"] == "98"
    vlan = batch(text_of("vlan"), raw=True)
    assert vlan[3]["vlans"] == ["100", "10"] and vlan[2]["vlan_dei"] == "true"
    sraw = stream(text_of("icmp").splitlines(), raw=True)
    assert sraw == raw


# --------------------------------------------------------------------------- continuation lines

VXLAN = """\
1368908504.837063 36:dc:85:1e:b3:40 > 00:16:3e:08:71:cf, ethertype IPv4 (0x0800), length 148: 192.168.203.1.45149 > 192.168.202.1.4789: VXLAN, flags [I] (0x08), vni 100
00:16:3e:37:f6:04 > 00:30:88:01:00:02, ethertype IPv4 (0x0800), length 98: 192.168.203.3 > 192.168.203.5: ICMP echo request, id 1292, seq 1, length 64
1368908504.882198 00:16:3e:08:71:cf > 36:dc:85:1e:b3:40, ethertype IPv4 (0x0800), length 92: 192.168.202.1.42710 > 192.168.203.1.4789: VXLAN, flags [I] (0x08), vni 100
00:30:88:01:00:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 192.168.203.3 tell 192.168.203.5, length 28
"""

CDP = """\
1285988434.141848 00:18:ba:98:68:8f > 01:00:0c:cc:cc:cc, 802.3, length 374: LLC, dsap SNAP (0xaa) Individual, ssap SNAP (0xaa) Command, ctrl 0x03: oui Cisco (0x00000c), pid CDP (0x2000), length 366: CDPv2, ttl: 180s, Device-ID 'S1'
\t  0x0000:  4369 7363 6f20 494f 5320 536f 6674 7761
\t  0x0010:  7265 2c20 4333 3536 3020 536f 6674 7761
1285988441.163180 00:19:2f:a7:b2:8d > 01:80:c2:00:00:0e, ethertype LLDP (0x88cc), length 296: LLDP, length 282: S2.cisco.com
"""


def test_continuation_lines_belong_to_the_packet_above():
    ns, na = (r for r in by_case("ttl-verbose") if r.get("icmp_type", "").startswith("neighbor"))
    # the -v option line of a neighbor solicitation is read (source_lladdr), not left in details
    assert ns["source_lladdr"] == ns["src_mac"] and "details" not in ns
    assert "details" not in na and na["nd_flags"] == "solicited" and na["nd_target"] == "2001:db8:1::1"
    assert na["target_ip"] == "2001:db8:1::1"
    cdp, lldp = batch(CDP)
    assert cdp["details"] == [
        "0x0000:  4369 7363 6f20 494f 5320 536f 6674 7761",
        "0x0010:  7265 2c20 4333 3536 3020 536f 6674 7761",
    ]
    assert "details" not in lldp and lldp["unparsed"] == "LLDP, length 282: S2.cisco.com"
    assert stream(CDP.splitlines()) == [cdp, lldp]


def test_unindented_inner_frame_of_a_tunnel_is_a_continuation():
    first, second = batch(VXLAN)
    assert first["dst_port"] == 4789 and first["unparsed"] == "VXLAN, flags [I] (0x08), vni 100"
    assert first["details"] == [VXLAN.splitlines()[1]]
    assert second["details"] == [VXLAN.splitlines()[3]]
    assert stream(VXLAN.splitlines()) == [first, second]


def test_streaming_yields_a_packet_when_the_next_one_arrives():
    fed = []

    def lines():
        for line in CDP.splitlines():
            fed.append(line)
            yield line

    gen = jc.parse(tcpdump_s, lines())
    cdp = next(gen)
    assert len(fed) == 4  # the CDP packet comes out when the LLDP line is read, with its 2 details
    assert len(cdp["details"]) == 2
    lldp = next(gen)
    assert lldp["ethertype"] == "lldp"
    assert list(gen) == []


# --------------------------------------------------------------------------- non-packet lines

NOISE = """\
tcpdump: verbose output suppressed, use -v[v]... for full protocol decode
listening on vtp-a0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
reading from file capture.pcap, link-type EN10MB (Ethernet), snapshot length 262144
1795682563.705954 e2:4b:a1:e1:43:2c > fa:fd:32:36:f1:b6, ethertype IPv4 (0x0800), length 98: 192.0.2.1 > 198.51.100.1: ICMP echo request, id 17082, seq 1, length 64
1795682563.706025 fa:fd:32:36:f1:b6 > e2:4b:a1:e1:43:2c, ethertype IPv4 (0x0800), length 98: 198.51.100.1 > 192.0.2.1: ICMP echo reply, id 17082, seq 1, length 64
^C2 packets captured
2 packets received by filter
0 packets dropped by kernel
1 packet dropped by interface
"""


def test_non_packet_lines_are_skipped():
    for recs in (batch(NOISE), stream(NOISE.splitlines())):
        assert [r["icmp_type"] for r in recs] == ["echo request", "echo reply"]
        assert not any("unparsed" in r or "details" in r for r in recs)
    live = by_case("live")
    assert len(live) == 6 and text_of("live").startswith("tcpdump: listening on")


# --------------------------------------------------------------------------- errors

GARBAGE = "this is not tcpdump output"


def test_batch_raises_parse_error_on_a_foreign_line():
    with pytest.raises(ParseError):
        batch(GARBAGE + "\n" + text_of("icmp"))
    with pytest.raises(ParseError):
        batch("    0x0000:  4500 0054  (a continuation line with no packet before it)")


def test_a_line_at_column_0_after_a_packet_continues_it():
    """tcpdump's decoders print some lines at column 0 ("[|BGP Update]" after a -v BGP decode, SMB fields):
    after a packet, a line that is not a packet line belongs to it, as an indented line does"""
    text = text_of("icmp")
    recs = batch(text + GARBAGE + "\n")
    assert len(recs) == len(by_case("icmp")) and recs[-1]["details"] == [GARBAGE]
    assert recs[:-1] == by_case("icmp")[:-1]
    assert stream((text + GARBAGE).splitlines()) == recs


def test_batch_quiet_keeps_a_foreign_line_as_unparsed():
    recs = batch(GARBAGE + "\n" + text_of("icmp"), quiet=True)
    assert recs[0] == {
        "timestamp": None,
        "src_mac": None,
        "dst_mac": None,
        "ethertype": None,
        "length": None,
        "unparsed": GARBAGE,
    }
    assert recs[1:] == by_case("icmp")


def test_streaming_raises_parse_error_on_a_foreign_line():
    with pytest.raises(ParseError):
        stream([GARBAGE])


def test_streaming_ignore_exceptions_reports_the_line_and_goes_on():
    lines = [GARBAGE] + text_of("icmp").splitlines()
    recs = stream(lines, ignore_exceptions=True)
    assert recs[0]["_jc_meta"]["success"] is False
    assert recs[0]["_jc_meta"]["line"] == GARBAGE
    assert "ParseError" in recs[0]["_jc_meta"]["error"]
    assert set(recs[0]) == {"_jc_meta"}
    assert strip_meta(recs[1:]) == by_case("icmp")
    assert all(r["_jc_meta"]["success"] for r in recs[1:])


def test_streaming_ignore_exceptions_on_a_non_string_line():
    recs = stream([b"bytes are not lines"], ignore_exceptions=True)
    assert recs[0]["_jc_meta"]["success"] is False and "TypeError" in recs[0]["_jc_meta"]["error"]


def test_truncated_and_odd_lines_keep_what_they_can():
    (r,) = batch(
        "1795682552.355875 fa:fd:32:36:f1:b6 > e2:4b:a1:e1:43:2c, ethertype IPv4 (0x0800), length 54: "
        "198.51.100.1.8081 > 192.0.2.1.45162: Flags [R.], seq 0, [|tcp]"
    )
    assert r["tcp_flags"] == "R." and r["src_port"] == 8081 and r["unparsed"] == "seq 0, [|tcp]"
    (r,) = batch(
        "1795682552.355875 fa:fd:32:36:f1:b6 > e2:4b:a1:e1:43:2c, ethertype IPv4 (0x0800), length 54: [|ip]"
    )
    assert r["ethertype"] == "ipv4" and r["unparsed"] == "[|ip]"
    (r,) = batch("1795682552.355875 whatever tcpdump may print one day")
    assert (
        r["timestamp"] == pytest.approx(1795682552.355875)
        and r["unparsed"] == "whatever tcpdump may print one day"
    )


# --------------------------------------------------------------------------- properties

REAL_LINES = [line for case in CASES for line in text_of(case).splitlines() if line.strip()]
ECHO_LINES = [line for line in REAL_LINES if FAST_ECHO_RE.match(line)]
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_line(draw):
    line = draw(st.sampled_from(REAL_LINES))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["cut", "insert", "replace", "truncate"]))
        junk = draw(st.text(min_size=1, max_size=4))
        if op == "cut":
            line = line[:i] + line[i + len(junk) :]
        elif op == "insert":
            line = line[:i] + junk + line[i:]
        elif op == "replace":
            line = line[:i] + junk + line[i + 1 :]
        else:
            line = line[:i]
    return line


any_line = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", errors="replace")),
    st.sampled_from(REAL_LINES),
    mutated_line(),
)


def _clean_or_parse_error(fn):
    with contextlib.suppress(ParseError):
        fn()


@PROPS
@given(any_line)
def test_any_line_gives_records_or_a_parse_error(line):
    _clean_or_parse_error(lambda: batch(line))
    _clean_or_parse_error(lambda: stream([line]))
    _clean_or_parse_error(lambda: batch(line, raw=True))


@PROPS
@given(st.lists(any_line, max_size=8))
def test_quiet_and_ignore_exceptions_never_raise(lines):
    text = "\n".join(lines)
    recs = batch(text, quiet=True)
    assert all(set(ALWAYS_KEYS) <= set(r) for r in recs)
    srecs = stream(lines, quiet=True, ignore_exceptions=True)
    good = [r for r in srecs if r["_jc_meta"]["success"]]
    assert all(set(ALWAYS_KEYS) <= set(r) for r in good)
    json.dumps(recs)
    json.dumps(srecs)


@PROPS
@given(st.lists(st.one_of(st.sampled_from(REAL_LINES), mutated_line()), max_size=8))
def test_streaming_and_batch_agree_on_any_input(lines):
    text = "\n".join(lines)
    # the lines the batch parser reads: a mutation may have brought a line break of its own (\r, \x1c, ...)
    lines = text.splitlines()
    try:
        expected_records = batch(text)
    except ParseError:
        with pytest.raises(ParseError):
            stream(lines)
        return
    assert stream(lines) == expected_records
    assert stream(lines, raw=True) == batch(text, raw=True)


@PROPS
@given(st.sampled_from(ECHO_LINES + flood_text(20).splitlines()), st.integers(0, 160), st.text(max_size=3))
def test_fast_paths_equal_general_path_on_mutated_echo_lines(line, i, junk):
    line = line[:i] + junk + line[i + 1 :]

    def twice(typed):
        """the line's record, twice from one parser: the second time the line's flow template is known"""
        parser = LineParser(lenient=True, process=process if typed else None)
        records = []
        for _ in range(2):
            parser.push(line)
            records.append(parser.flush())
        return records

    got = {typed: twice(typed) for typed in (False, True)}
    with reference_parser_only():
        want = {typed: twice(typed) for typed in (False, True)}
    for attempt in (0, 1):
        assert [got[typed][attempt] for typed in got] == [want[typed][attempt] for typed in got], attempt


def test_as_dns_reads_a_dns_message_on_another_port_as_port_53s():
    """`-T domain` makes tcpdump print DNS on any port as on 53; as_dns reads it the same way."""
    line = (
        "1796051853.372113 86:6d:de:4d:c1:91 > 32:39:d6:a1:0d:c9, ethertype IPv4 (0x0800), length 98: "
        "198.18.8.2.34674 > 198.18.8.3.{port}: 19890+ [1au] A? web.lab.example. (56)"
    )
    (other,) = jc.parse(tcpdump, line.format(port=9001), quiet=True)
    (on53,) = jc.parse(tcpdump, line.format(port=53), quiet=True)
    assert "dns_id" not in other and other["unparsed"].startswith("19890+")
    assert tcpdump.as_dns(other) == on53 | {"dst_port": 9001}
    echo = {"protocol": "udp", "unparsed": "hello", "src_port": 9000}
    assert tcpdump.as_dns(echo) is echo  # not DNS: left as it is
    assert tcpdump.as_dns(on53) is on53
