"""SPEC, parsed: every form of the contract, and every malformed one refused with exit 2 and the fix."""

from __future__ import annotations

import ipaddress

import pytest

from vethctl.errors import BadInput, ExitCode
from vethctl.probespec import ProbeSpec, check_probe_options, parse_probe


@pytest.mark.parametrize(
    "text,kind,address,port,name",
    [
        ("icmp:198.18.0.3", "icmp", "198.18.0.3", None, None),
        ("tcp:198.18.0.3:8080", "tcp", "198.18.0.3", 8080, None),
        ("udp:192.0.2.53:53", "udp", "192.0.2.53", 53, None),
        ("tcp:[2001:db8::1]:80", "tcp", "2001:db8::1", 80, None),
        ("icmp:[2001:db8::1]", "icmp", "2001:db8::1", None, None),
        ("dns:web.lab.example@198.18.0.3", "dns", "198.18.0.3", 53, "web.lab.example"),
        ("dns:web.lab.example.@198.18.0.3:5353", "dns", "198.18.0.3", 5353, "web.lab.example."),
        ("dns:_srv._tcp.lab.example@[2001:db8::53]:53", "dns", "2001:db8::53", 53, "_srv._tcp.lab.example"),
    ],
)
def test_every_form_parses(text, kind, address, port, name):
    spec = parse_probe(text)
    assert (spec.kind, spec.address, spec.port, spec.name) == (
        kind,
        ipaddress.ip_address(address),
        port,
        name,
    )
    assert parse_probe(str(spec)) == spec  # it prints as it is written


@pytest.mark.parametrize(
    "text,needle",
    [
        ("", "empty"),
        ("tcp", "starts with none"),
        ("http:192.0.2.1:80", "starts with none"),
        ("tcp:", "nothing follows"),
        ("tcp:192.0.2.1", "names no port"),
        ("tcp:192.0.2.1:0", "out of range"),
        ("tcp:192.0.2.1:65536", "out of range"),
        ("udp:192.0.2.1:http", "out of range"),
        ("tcp:192.0.2.1:²", "out of range"),  # str.isdigit takes it, int() does not: once a traceback
        ("tcp:2001:db8::1:80", "must be written in brackets"),
        ("tcp:[2001:db8::1:80", "is not closed"),
        ("tcp:[2001:db8::1]x80", "unexpected"),
        ("icmp:192.0.2.1:7", "ICMP has no ports"),
        ("tcp:not-an-ip:80", "is not an IP address"),
        ("tcp:[fe80::1%eth0]:80", "scope id"),
        ("dns:web.example", "needs a server"),
        ("dns:web.example@", "needs a server"),
        ("dns:@192.0.2.53", "empty"),
        ("dns:bad..name@192.0.2.53", "is not a DNS name"),
        ("dns:-bad.example@192.0.2.53", "is not a DNS name"),
        ("dns:" + "a" * 64 + ".example@192.0.2.53", "is not a DNS name"),
        ("tcp:192.0.2.1:80\n", "control characters"),
        ("tcp:192.0.2.1 :80", "spaces"),
    ],
)
def test_malformed_specs_are_bad_input_with_the_forms(text, needle):
    with pytest.raises(BadInput) as exc:
        parse_probe(text)
    assert needle in exc.value.message and exc.value.exit_code == ExitCode.BAD_INPUT
    assert "tcp:ADDR:PORT" in exc.value.hint


def test_dns_asks_for_the_family_of_its_server():
    assert parse_probe("dns:a.example@192.0.2.1").qtype == "A"
    assert parse_probe("dns:a.example@[2001:db8::1]").qtype == "AAAA"
    assert ProbeSpec("icmp", ipaddress.ip_address("2001:db8::1")).protocol == "icmp6"


@pytest.mark.parametrize("count,timeout", [(0, 2), (101, 2), (3, 0), (3, 61)])
def test_counts_and_timeouts_out_of_range(count, timeout):
    with pytest.raises(BadInput):
        check_probe_options(count, timeout)


def test_dns_on_another_port_is_decoded_as_dns_when_nothing_else_is_udp():
    from vethctl.probespec import decode_for

    dns53, dns9053 = parse_probe("dns:web.example@192.0.2.53"), parse_probe("dns:web.example@192.0.2.53:9053")
    udp, tcp = parse_probe("udp:192.0.2.7:9000"), parse_probe("tcp:192.0.2.7:80")
    assert dns53.decode_as is None and dns9053.decode_as == "domain"
    assert decode_for([dns9053]) == "domain" and decode_for([dns9053, tcp]) == "domain"
    assert decode_for([dns9053, udp]) is None  # -T domain would misread the UDP probe's datagrams
    assert decode_for([dns53]) is None and decode_for([tcp]) is None and decode_for([]) is None
