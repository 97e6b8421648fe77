"""Validation and allocation: pure rules, checked without a machine."""

from __future__ import annotations

import ipaddress

import pytest

from vethctl.allocate import EndsRequest, validate_request
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute.hosts.local import LocalHost
from vethctl.model import choose_subnet, is_public, parse_interface, parse_tag, session_tag, validate_ifname
from vethctl.resolve.files import resolve_netns
from vethctl.resolve.target import parse_target

net = ipaddress.ip_network


@pytest.mark.parametrize("name", ["a" * 16, "", "has space", "a/b", "a:b", ".", "..", "-x"])
def test_bad_interface_names(name):
    with pytest.raises(BadInput):
        validate_ifname(name, "--host-if")


@pytest.mark.parametrize("name", ["a" * 15, "veth-a", "eth0.10", "x_y"])
def test_good_interface_names(name):
    assert validate_ifname(name, "--pod-if") == name


@pytest.mark.parametrize(
    "text",
    ["203.0.113.5", "203.0.113.5/33", "nonsense/24", "203.0.113.0/24", "203.0.113.255/24", "203.0.113.5/32"],
)
def test_bad_addresses(text):
    with pytest.raises(BadInput):
        parse_interface(text, "--pod-addr")


def test_ends_in_different_subnets_are_refused():
    with pytest.raises(BadInput, match="different subnets"):
        validate_request(EndsRequest(host_addr="203.0.113.200/24", pod_addr="198.51.100.100/24"))


def test_public_space_needs_allow_public():
    with pytest.raises(BadInput, match="public address space"):
        validate_request(EndsRequest(host_addr="172.168.0.2/24", pod_addr="172.168.0.1/24"))
    validate_request(EndsRequest(host_addr="172.168.0.2/24", pod_addr="172.168.0.1/24", allow_public=True))
    assert (
        not is_public(net("203.0.113.0/24"))
        and not is_public(net("10.0.0.0/8"))
        and is_public(net("172.168.0.0/24"))
    )


def test_choose_subnet_skips_used_prefixes_but_not_default_routes():
    assert choose_subnet([net("0.0.0.0/0")]) == net("192.0.2.0/24")
    assert choose_subnet([net("192.0.2.0/24"), net("198.51.100.128/25")]) == net("203.0.113.0/24")
    assert choose_subnet([net("192.0.0.0/8"), net("198.51.0.0/16"), net("203.0.113.0/24")]) == net(
        "198.18.0.0/24"
    )


def test_tags_round_trip():
    assert parse_tag(session_tag("0123abcd", "run", 42)) == {"session": "0123abcd", "mode": "run", "pid": 42}
    assert parse_tag(session_tag("0123abcd", "up", None)) == {
        "session": "0123abcd",
        "mode": "up",
        "pid": None,
    }
    assert parse_tag("something else") is None and parse_tag(None) is None


@pytest.mark.parametrize(
    "text,kind,value",
    [
        ("web-0", "pod", "web-0"),
        ("pod/web-0", "pod", "web-0"),
        ("netns/cni-1", "netns", "cni-1"),
        ("nspath//proc/1/ns/net", "nspath", "/proc/1/ns/net"),
        ("pid/42", "pid", "42"),
        ("ip/198.18.0.2", "ip", "198.18.0.2"),
    ],
)
def test_parse_target(text, kind, value):
    spec = parse_target(text)
    assert (spec.kind, spec.value) == (kind, value)


@pytest.mark.parametrize("text", ["", "bogus/x", "netns/"])
def test_parse_target_refuses(text):
    with pytest.raises(BadInput):
        parse_target(text)


def test_resolve_refuses_missing_and_non_netns_files(tmp_path):
    with pytest.raises(TargetNotFound):
        resolve_netns(parse_target("netns/vt-surely-absent"), LocalHost())
    with pytest.raises(TargetNotFound):
        resolve_netns(parse_target(f"nspath/{tmp_path}/absent"), LocalHost())
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(BadInput, match="not a network namespace"):
        resolve_netns(parse_target(f"nspath/{plain}"), LocalHost())
    with pytest.raises(BadInput):
        resolve_netns(parse_target("pid/abc"), LocalHost())


@pytest.mark.parametrize("text", ["fe80::1%x\ntouch PWNED #", "fe80::1%$(id)", "fe80::1%a b", "fe80::1%"])
def test_a_scope_id_is_an_interface_name_or_a_number(text):
    """ipaddress accepts anything after '%': the review planted a command in a transcript through it."""
    from vethctl.model import parse_address

    with pytest.raises(BadInput, match="scope id"):
        parse_address(text, "--ping")
    with pytest.raises(BadInput, match="scope id"):
        parse_interface(text + "/64", "--pod-addr")


def test_good_scope_ids():
    from vethctl.model import parse_address

    assert str(parse_address("fe80::1%eth0.10", "--ping")) == "fe80::1%eth0.10"
    assert str(parse_address("fe80::1%7", "--ping")) == "fe80::1%7"


@pytest.mark.parametrize("expr", ["-V/root/secret", "-w/tmp/x", " -r x", "--version"])
def test_a_filter_is_never_options(expr):
    from vethctl.model import check_filter_text

    with pytest.raises(BadInput, match="starts with '-'"):
        check_filter_text(expr)
