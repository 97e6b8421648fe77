"""`vethctl probe` and `run --probe` against the lab's real servers (nc, socat, dnsmasq) and policy rules
(iptables DROP and REJECT): every outcome, read from the packets, and the sentence that explains it."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.support.cli import vethctl
from tests.support.netstate import snapshot, tagged_links


@pytest.fixture(scope="module")
def servers():
    name = f"vp-{secrets.token_hex(3)}"
    rec = json.loads(
        vethctl(
            "lab", "up", "--name", name, "--pods", "2", "--servers", "--policy", "--uplink", "-o", "json"
        ).stdout
    )
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


def probe(rec, spec, *args):
    client = rec["pods"][0]["netns"]
    proc = vethctl("probe", f"netns/{client}", spec, *args, "-o", "json")
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "port,outcome,detail,sentence",
    [
        (8080, "answered", "SYN -> SYN-ACK -> ACK", "something listens on port 8080"),
        (8090, "refused", "nothing listens on port 8090", "answered the SYN with a RST"),
        (8082, "unreachable", "prohibited", "a REJECT rule"),
        (8081, "no-reply", "retransmission", "Something drops them"),
    ],
)
def test_tcp_outcomes(servers, port, outcome, detail, sentence):
    r = probe(servers, f"tcp:{servers['servers']['ip']}:{port}", "--count", "1", "--timeout", "2")
    p = r["probe"]
    assert p["kind"] == "tcp" and p["port"] == port and p["outcome"] == outcome, r["observations"]
    assert detail in p["detail"] and any(sentence in o for o in r["observations"])
    assert p["sent"] >= 1 and p["argv"][:2] == ["nc", "-z"]
    assert r["capture"]["interface"] == "eth0" and all(
        pk.get("protocol") in ("tcp", "icmp") or pk.get("arp_op") for pk in r["capture"]["packets"]
    )


def test_unanswered_syns_are_counted_with_their_retransmissions(servers):
    r = probe(servers, f"tcp:{servers['servers']['ip']}:8081", "--count", "1", "--timeout", "3")
    syns = [p for p in r["capture"]["packets"] if p.get("tcp_flags") == "S"]
    assert (
        r["probe"]["sent"] == len(syns) >= 2 and f"{len(syns) - 1} retransmission(s)" in r["probe"]["detail"]
    )


@pytest.mark.parametrize(
    "port,outcome,sentence",
    [
        (9000, "answered", "sent a datagram back"),
        (9002, "unreachable", "nothing listens on UDP port 9002"),
        (9001, "no-reply", "Two readings"),
    ],
)
def test_udp_outcomes(servers, port, outcome, sentence):
    r = probe(servers, f"udp:{servers['servers']['ip']}:{port}", "--count", "1", "--timeout", "1")
    assert r["probe"]["outcome"] == outcome and any(sentence in o for o in r["observations"]), r[
        "observations"
    ]


def test_icmp_answered_and_an_absent_neighbour_unreachable(servers):
    assert (
        probe(servers, f"icmp:{servers['servers']['ip']}", "--count", "2")["probe"]["outcome"] == "answered"
    )
    absent = servers["gateway"].rsplit(".", 1)[0] + ".250"  # in the pod subnet, held by nobody
    r = probe(servers, f"tcp:{absent}:80", "--count", "1", "--timeout", "2")
    assert r["probe"]["outcome"] == "unreachable" and "neighbour resolution failed" in r["probe"]["detail"]
    assert r["probe"]["sent"] == 0 and any("ARP (who-has)" in o for o in r["observations"])


def test_text_report_says_the_outcome(servers):
    client = servers["pods"][0]["netns"]
    out = vethctl("probe", f"netns/{client}", f"tcp:{servers['servers']['ip']}:8090", "--count", "1").stdout
    assert "outcome  refused" in out and "what happened:" in out


def test_probe_changes_nothing(servers):
    client = servers["pods"][0]["netns"]
    before = snapshot(client), snapshot(servers["node_netns"])
    probe(servers, f"tcp:{servers['servers']['ip']}:8080", "--count", "1")
    assert (snapshot(client), snapshot(servers["node_netns"])) == before


def test_run_with_probes_beside_its_veth(servers):
    client = servers["pods"][0]["netns"]
    srv = servers["servers"]["ip"]
    r = json.loads(
        vethctl(
            "run",
            f"netns/{client}",
            "--probe",
            f"tcp:{srv}:8080",
            "--probe",
            f"udp:{srv}:9002",
            "--count",
            "1",
            "-o",
            "json",
        ).stdout
    )
    assert [p["outcome"] for p in r["probes"]] == ["answered", "unreachable"]
    assert r["ping"] is None and r["ping_target"] is None  # a probe in place of the default ping
    assert (
        r["probe_captures"][0]["interface"] == "eth0"
    )  # they leave by eth0, not by the veth: captured there
    assert r["teardown"]["done"] and not tagged_links(servers["node_netns"])


@pytest.mark.parametrize(
    "spec,needle",
    [
        ("tcp:192.0.2.1", "names no port"),
        ("udp:192.0.2.1:99999", "out of range"),
        ("dns:web.example", "needs a server"),
        ("tcp:2001:db8::1:80", "brackets"),
        ("dns:not..a.name@192.0.2.53", "not a DNS name"),
    ],
)
def test_bad_specs_are_exit_2_and_change_nothing(servers, spec, needle):
    client = servers["pods"][0]["netns"]
    before = snapshot(client)
    for argv in (["probe", f"netns/{client}", spec], ["run", f"netns/{client}", "--probe", spec]):
        proc = vethctl(*argv, check=False)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(client) == before


def test_trace_a_tcp_probe_out_through_snat(servers):
    client = servers["pods"][0]["netns"]
    r = json.loads(
        vethctl(
            "trace", f"netns/{client}", "--probe", "tcp:203.0.113.7:80", "--count", "2", "-o", "json"
        ).stdout
    )
    assert [h["role"] for h in r["hops"]] == ["pod", "host veth", "bridge", "egress"]
    assert all(h["requests"] == 2 and h["replies"] == 2 for h in r["hops"])  # SYNs out, RSTs back, by TCP seq
    assert (
        r["hops"][0]["src_ip"] == servers["pods"][0]["ip"]
        and r["hops"][-1]["src_ip"] != r["hops"][0]["src_ip"]
    )
    assert r["probe"]["outcome"] == "refused" and any("SNAT" in o for o in r["observations"])


def test_trace_a_probe_to_a_pod_answered(servers):
    client = servers["pods"][0]["netns"]
    r = json.loads(
        vethctl(
            "trace",
            f"netns/{client}",
            "--probe",
            f"tcp:{servers['servers']['ip']}:8080",
            "--count",
            "1",
            "-o",
            "json",
        ).stdout
    )
    assert r["probe"]["outcome"] == "answered" and r["hops"][0]["replies"] == 1
    assert any("SYNs crossed every hop" in o for o in r["observations"])


def test_trace_takes_to_or_probe(servers):
    client = servers["pods"][0]["netns"]
    for extra in ([], ["--to", "203.0.113.7", "--probe", "tcp:203.0.113.7:80"]):
        proc = vethctl("trace", f"netns/{client}", *extra, check=False)
        assert proc.returncode == 2 and "--to ADDR or --probe SPEC" in proc.stderr


@pytest.mark.parametrize(
    "name,outcome,detail,rcode",
    [
        ("web.lab.example", "answered", "1 answer(s): A ", "NoError"),
        ("nope.lab.example", "nxdomain", "does not exist (NXDOMAIN)", "NXDomain"),
        ("broken.lab.example", "servfail", "SERVFAIL", "ServFail"),  # dnsmasq's upstream answers SERVFAIL
        ("elsewhere.example", "refused", "REFUSED", "Refused"),  # not its zone, and it has no upstream
    ],
)
def test_dns_outcomes_are_read_from_the_answer_packet(servers, name, outcome, detail, rcode):
    server = servers["servers"]["ip"]
    r = probe(servers, f"dns:{name}@{server}", "--count", "1")
    p = r["probe"]
    assert (p["kind"], p["name"], p["outcome"]) == ("dns", name, outcome), r["observations"]
    assert detail in p["detail"] and p["argv"][0] == "dig"
    query, answer = (
        next(pk for pk in r["capture"]["packets"] if pk.get("dns_response") is flag) for flag in (False, True)
    )
    assert query["dns_id"] == answer["dns_id"] and query["dns_qname"].rstrip(".") == name
    assert answer["src_ip"] == server and answer["dns_rcode"] == rcode
    if outcome == "answered":
        assert (
            p["answers"] == [f"A {a['data']}" for a in answer["dns_answers"]] and answer["dns_ancount"] == 1
        )
    else:
        assert p["answers"] == [] and not answer.get("dns_answers")


def test_a_dns_query_traced_hop_by_hop_by_its_id(servers):
    client = servers["pods"][0]["netns"]
    server = servers["servers"]["ip"]
    r = json.loads(
        vethctl(
            "trace",
            f"netns/{client}",
            "--probe",
            f"dns:web.lab.example@{server}",
            "--count",
            "1",
            "-o",
            "json",
        ).stdout
    )
    roles = [h["role"] for h in r["hops"]]
    assert roles[0] == "pod" and roles[-1] == "dst pod", roles
    assert all(h["requests"] == 1 and h["replies"] == 1 for h in r["hops"]), r["hops"]
    ids = {p["dns_id"] for h in r["hops"] for p in h["packets"] if "dns_id" in p}
    assert len(ids) == 1  # one query, matched across every hop by its id


def test_dns_queries_that_a_rule_drops_are_no_reply_with_their_retries(servers):
    # the --policy lab drops UDP 9001 at the server pod: a DNS server "there" never answers
    r = probe(
        servers, f"dns:web.lab.example@{servers['servers']['ip']}:9001", "--count", "2", "--timeout", "1"
    )
    p = r["probe"]
    queries = [pk for pk in r["capture"]["packets"] if pk.get("dns_id") is not None]
    assert p["outcome"] == "no-reply" and p["sent"] == len(queries) == 2, (p, queries)
    assert all(not q["dns_response"] for q in queries)
    assert any("2 queries (dig's tries)" in o and "no response came" in o for o in r["observations"])
