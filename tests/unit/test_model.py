"""Validation and allocation: pure rules, checked without a machine."""

from __future__ import annotations

import ipaddress

import pytest

from vethctl.allocate import EndsRequest, validate_request
from vethctl.errors import BadInput, TargetNotFound
from vethctl.execute.hosts.local import LocalHost
from vethctl.model import (
    choose_subnet,
    is_public,
    parse_interface,
    parse_tag,
    port_number,
    session_tag,
    validate_ifname,
)
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


# -- the one line a user reads for each refusal, and the bounds of each rule ------------------------------


def refusal(func, *args) -> str:
    """The line the CLI prints for a BadInput (message and hint), with its exit code checked."""
    with pytest.raises(BadInput) as exc:
        func(*args)
    assert exc.value.exit_code == 2
    return str(exc.value)


@pytest.mark.parametrize(
    "name,line",
    [
        ("", "--host-if: an interface name cannot be empty (give 1 to 15 characters)"),
        (
            "a" * 16,
            "--host-if 'aaaaaaaaaaaaaaaa' is 16 characters long; Linux allows 15 (choose a shorter name)",
        ),
        ("-x", "--host-if '-x' starts with '-', which commands read as an option (rename it)"),
    ]
    + [
        (
            bad,
            f"--host-if {bad!r} is not a valid interface name (no '/', ':' or spaces, not '.' or '..')"
            " (use letters, digits, '-', '_' or '.')",
        )
        for bad in (".", "..", "a/b", "a:b", "a b", "a\tb", "/", ":")
    ],
)
def test_each_bad_interface_name_gets_its_own_line(name, line):
    assert refusal(validate_ifname, name, "--host-if") == line


@pytest.mark.parametrize("name", ["...", ".a", "a.", "x-", "a-b-", "_", "7"])
def test_names_near_the_refused_ones_are_accepted(name):
    """The kernel refuses '.' and '..' only, and '-' only where a command would read an option."""
    assert validate_ifname(name, "--pod-if") == name


@pytest.mark.parametrize(
    "text,line",
    [
        (
            "203.0.113.5",
            "--pod-addr '203.0.113.5' has no prefix length (write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24)",
        ),
        (
            "203.0.113.5/32",
            "--pod-addr '203.0.113.5/32': a /32 leaves no room for two ends (use /30 or shorter, e.g. /24)",
        ),
        (
            "2001:db8::5/128",
            "--pod-addr '2001:db8::5/128': a /128 leaves no room for two ends (use /30 or shorter, e.g. /24)",
        ),
        (
            "203.0.113.0/24",
            "--pod-addr '203.0.113.0/24' is the network address of 203.0.113.0/24 (pick a host address inside it)",
        ),
        (
            "203.0.113.255/24",
            "--pod-addr '203.0.113.255/24' is the broadcast address of 203.0.113.0/24"
            " (pick a host address inside it)",
        ),
        (
            "203.0.113.4/30",
            "--pod-addr '203.0.113.4/30' is the network address of 203.0.113.4/30 (pick a host address inside it)",
        ),
        (
            "203.0.113.7/30",
            "--pod-addr '203.0.113.7/30' is the broadcast address of 203.0.113.4/30"
            " (pick a host address inside it)",
        ),
        (
            "fe80::1%a;b/64",
            "--pod-addr 'fe80::1%a;b/64': the scope id 'a;b' is not an interface name or number"
            " (write it as fe80::1%eth0 (letters, digits, '_', '.', '-'))",
        ),
    ],
)
def test_each_bad_address_gets_its_own_line(text, line):
    assert refusal(parse_interface, text, "--pod-addr") == line


def test_an_address_that_is_not_one_names_what_ipaddress_said():
    line = refusal(parse_interface, "nonsense/24", "--host-addr")
    assert line.startswith("--host-addr 'nonsense/24' is not an address with a prefix: ")
    assert "does not appear to be an IPv4 or IPv6 interface" in line
    assert line.endswith(" (e.g. 203.0.113.100/24)")


@pytest.mark.parametrize(
    "text",
    [
        "203.0.113.5/30",
        "203.0.113.6/30",
        "203.0.113.4/31",  # a /31 has no network or broadcast address (RFC 3021)
        "203.0.113.5/31",
        "203.0.113.1/24",
        "203.0.113.254/24",
        "2001:db8::/64",  # IPv6 has no broadcast; the subnet-router anycast is an address like another
        "2001:db8::5/127",
        "fe80::1%eth0/64",
        "fe80::1%eth0.10/64",
    ],
)
def test_addresses_at_the_bounds_are_accepted(text):
    assert parse_interface(text, "--pod-addr") == ipaddress.ip_interface(text)


def test_a_bad_probe_address_and_its_scope_id():
    from vethctl.model import parse_address

    assert (
        refusal(parse_address, "203.0.113", "--ping")
        == "--ping '203.0.113' is not an IP address (e.g. 203.0.113.101)"
    )
    assert (
        refusal(parse_address, "fe80::1%a b", "--ping")
        == "--ping 'fe80::1%a b': the scope id 'a b' is not an interface name or number"
        " (write it as fe80::1%eth0 (letters, digits, '_', '.', '-'))"
    )
    assert parse_address("203.0.113.9", "--ping") == ipaddress.ip_address("203.0.113.9")


def test_the_tag_both_ends_carry():
    from vethctl.model import Attachment, Netns, VethEnd

    assert session_tag("0123abcd", "run", 42) == "vethctl:0123abcd:run:42"
    assert session_tag("0123abcd", "up", None) == "vethctl:0123abcd:up"
    assert session_tag("0123abcd", "run", 0) == "vethctl:0123abcd:run:0"
    host = VethEnd("vh-0123abcd", ipaddress.ip_interface("192.0.2.200/24"), None)
    pod = VethEnd("vp-0123abcd", ipaddress.ip_interface("192.0.2.100/24"), Netns.named("cni-1"))
    run = Attachment("0123abcd", host, pod, 1450, mode="run", owner_pid=4242)
    assert run.tag == "vethctl:0123abcd:run:4242" and run.subnet == net("192.0.2.0/24")
    assert Attachment("0123abcd", host, pod, None, mode="up", owner_pid=4242).tag == "vethctl:0123abcd:up"
    assert Attachment("0123abcd", host, pod, None, mode="ssh", owner_pid=4242).tag == "vethctl:0123abcd:ssh"
    assert Attachment("0123abcd", host, pod, None).owner_pid == __import__("os").getpid()
    assert Attachment("0123abcd", host, pod, None).tag.endswith(f":run:{__import__('os').getpid()}")


@pytest.mark.parametrize(
    "alias,parsed",
    [
        ("vethctl:0123abcd:run:42", {"session": "0123abcd", "mode": "run", "pid": 42}),
        ("vethctl:0123abcd:up", {"session": "0123abcd", "mode": "up", "pid": None}),
        ("vethctl:0123abcd:run:x42", {"session": "0123abcd", "mode": "run", "pid": None}),
        ("vethctl:0123abcd:run:", {"session": "0123abcd", "mode": "run", "pid": None}),
        ("vethctl:0123abcd:run:42:later", {"session": "0123abcd", "mode": "run", "pid": 42}),
        ("vethctl:0123abcd", None),  # no mode
        ("vethctl:0123ABCD:up", None),  # not a session id vethctl makes
        ("vethctl:0123abc:up", None),
        ("vethctl:0123abcde:up", None),
        ("vethctl:x0123abcd:up", None),
        ("xvethctl:0123abcd:up", None),
        ("Vethctl:0123abcd:up", None),
        ("vethctl0123abcd:up", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_tag_reads_only_vethctls_own_aliases(alias, parsed):
    assert parse_tag(alias) == parsed


def test_names_and_namespaces_as_commands_and_people_see_them():
    from vethctl.model import Netns, default_names, new_session_id

    assert default_names("0123abcd") == ("vh-0123abcd", "vp-0123abcd")
    assert parse_tag(session_tag(new_session_id(), "up", None)) is not None
    named = Netns.named("cni-1")
    assert (named.name, named.path, named.pid, named.ref, str(named)) == (
        "cni-1",
        "/var/run/netns/cni-1",
        None,
        "cni-1",
        "cni-1",
    )
    unnamed = Netns(None, "/proc/4242/ns/net", 4242)
    assert (unnamed.ref, str(unnamed)) == ("/proc/4242/ns/net", "/proc/4242/ns/net")


def test_choose_subnet_bounds():
    """A /30 that just overlaps the first /24 (at either end) skips it; the /24s on either side do not."""
    assert choose_subnet([net("192.0.2.252/30")]) == net("198.51.100.0/24")
    assert choose_subnet([net("192.0.2.0/30")]) == net("198.51.100.0/24")
    assert choose_subnet([net("192.0.2.128/25"), net("198.51.100.0/30")]) == net("203.0.113.0/24")
    assert choose_subnet([net("192.0.1.0/24"), net("192.0.3.0/24"), net("192.0.1.255/32")]) == net(
        "192.0.2.0/24"
    )
    assert choose_subnet([net("192.0.2.0/24"), net("198.51.99.0/24"), net("198.51.101.0/24")]) == net(
        "198.51.100.0/24"
    )
    # routes of the other family are no clash, either way round
    assert choose_subnet([net("2001:db8::/32")]) == net("192.0.2.0/24")
    assert choose_subnet([net("192.0.2.0/24")], 6) == net("2001:db8::/64")
    assert choose_subnet([net("2001:db8::/64"), net("2001:db8:0:1::/120")], 6) == net("2001:db8:0:2::/64")


def test_choose_subnet_walks_the_benchmark_range_by_24s():
    docs = [net("192.0.2.0/24"), net("198.51.100.0/24"), net("203.0.113.0/24")]
    assert choose_subnet([*docs, net("198.18.0.0/30"), net("198.18.1.0/24")]) == net("198.18.2.0/24")
    assert choose_subnet([*docs, net("198.18.0.0/16"), net("198.19.0.0/17")]) == net("198.19.128.0/24")
    assert choose_subnet([*docs, net("198.18.0.0/16"), net("198.19.0.0/24"), net("198.19.2.0/23")]) == net(
        "198.19.1.0/24"
    )
    assert choose_subnet(
        [
            *docs,
            net("198.18.0.0/16"),
            net("198.19.0.0/17"),
            net("198.19.128.0/18"),
            net("198.19.192.0/19"),
            net("198.19.224.0/20"),
            net("198.19.240.0/21"),
            net("198.19.248.0/22"),
            net("198.19.252.0/23"),
            net("198.19.254.0/24"),
        ]
    ) == net("198.19.255.0/24")


@pytest.mark.parametrize(
    "used,version,line",
    [
        (
            # an OpenVPN-style "def1" pair of routes: no default route, every address covered
            [net("0.0.0.0/1"), net("128.0.0.0/1")],
            4,
            "every /24 of the documentation and benchmark ranges overlaps a route here"
            " (give --pod-addr and --host-addr)",
        ),
        (
            [net("192.0.0.0/8"), net("198.0.0.0/8"), net("203.0.113.0/24")],
            4,
            "every /24 of the documentation and benchmark ranges overlaps a route here"
            " (give --pod-addr and --host-addr)",
        ),
        (
            [net("::/1"), net("8000::/1")],
            6,
            "every /64 of 2001:db8::/32 overlaps a route here (give --pod-addr and --host-addr)",
        ),
    ],
)
def test_no_free_subnet_is_one_line(used, version, line):
    assert refusal(choose_subnet, used, version) == line


@pytest.mark.parametrize(
    "network,public",
    [
        ("8.8.8.0/24", True),
        ("172.168.0.0/24", True),
        ("192.0.2.0/23", True),  # reaches into 192.0.3.0/24, which somebody owns
        ("198.20.0.0/24", True),  # just past the benchmark range
        ("203.0.114.0/24", True),
        ("2606:4700::/64", True),
        ("192.0.2.0/24", False),
        ("198.51.100.0/25", False),
        ("203.0.113.0/24", False),
        ("198.18.0.0/15", False),
        ("198.19.255.0/24", False),
        ("10.1.0.0/16", False),
        ("100.64.0.0/24", False),
        ("2001:db8:1::/64", False),
        ("fd00::/64", False),
    ],
)
def test_public_space(network, public):
    assert is_public(net(network)) is public


@pytest.mark.parametrize("expr", [None, "", "icmp", "arp or icmp", "not port 22", "ip[0] & 0xf != 5"])
def test_filters_that_are_expressions_are_accepted(expr):
    from vethctl.model import check_filter_text

    assert check_filter_text(expr) is None


def test_a_filter_starting_with_a_dash_is_one_line_naming_the_option():
    from vethctl.model import check_filter_text

    assert (
        refusal(check_filter_text, " -r x")
        == "--filter ' -r x' starts with '-': a filter is an expression, not tcpdump options"
        " (see `man pcap-filter`, e.g. 'arp or icmp')"
    )
    assert refusal(check_filter_text, "-w/tmp/x", "--trace-filter").startswith(
        "--trace-filter '-w/tmp/x' starts"
    )


def test_count_and_interval_bounds():
    from vethctl.model import check_pings

    for count, interval in ((1, 0.002), (100000, 60), (5, 1.0)):
        assert check_pings(count, interval) is None
    assert check_pings(1000, 0.2, max_count=1000) is None
    assert refusal(check_pings, 0, 1.0) == "--count 0 is out of range (give 1 to 100000)"
    assert refusal(check_pings, 100001, 1.0) == "--count 100001 is out of range (give 1 to 100000)"
    assert refusal(check_pings, 1001, 1.0, 1000) == "--count 1001 is out of range (give 1 to 1000)"
    assert refusal(check_pings, 3, 0.001) == "--interval 0.001 is out of range (give 0.002 to 60 seconds)"
    assert refusal(check_pings, 3, 60.5) == "--interval 60.5 is out of range (give 0.002 to 60 seconds)"


def test_where_commands_run_as_records_reports_and_the_audit_log_name_it():
    from vethctl.model import KubectlDebug, Local, Netns, NetnsNode, Node, PcapHome, Ssh

    ssh = Ssh(url="ssh://root@node1:2222", user="root", host="node1", port=2222)
    assert ssh.label == "ssh://root@node1:2222"
    assert Ssh(url="ssh://node1", user=None, host="node1", port=None).label == "ssh://node1"
    assert KubectlDebug().url == "kubectl-debug"
    assert KubectlDebug(node="worker-1").url == "kubectl-debug://worker-1"
    assert (
        KubectlDebug(node="worker-1", context="kind-a b/c").url
        == "kubectl-debug://worker-1?context=kind-a%20b/c"
    )
    assert Local().url is None and NetnsNode("lab1").url is None

    lab = Netns.named("lab1")
    cases = [
        (Node(), None, "this machine", "local"),
        (Node(netns=lab), None, "netns lab1", "netns:lab1"),
        (
            Node(machine=ssh),
            "ssh://root@node1:2222",
            "the host on ssh://root@node1:2222",
            "ssh://root@node1:2222 local",
        ),
        (
            Node(netns=lab, machine=ssh),
            "ssh://root@node1:2222",
            "netns lab1 on ssh://root@node1:2222",
            "ssh://root@node1:2222 netns:lab1",
        ),
        (
            Node(machine=KubectlDebug(node="worker-1")),
            "kubectl-debug://worker-1",
            "the host on kubectl-debug://worker-1",
            "kubectl-debug://worker-1 local",
        ),
    ]
    for node, host, label, audit in cases:
        assert (node.host, node.label, node.audit_label) == (host, label, audit)
    assert Node().sudo is False and Node().machine == Local()

    assert PcapHome("-").to_stdout and not PcapHome("out.pcap").to_stdout
    home = PcapHome("out.pcap")
    assert (home.max_bytes, home.rotate, home.decode_as) == (None, None, None)


@pytest.mark.parametrize(
    "text,scope",
    [
        ("fe80::1%eth0%x/64", "eth0%x"),  # the scope is all that follows the first '%'
        ("fe80::1%a/b/64", None),  # it ends at the first '/': 'a', then ipaddress refuses 'a/b/64'
    ],
)
def test_where_a_scope_id_starts_and_ends(text, scope):
    line = refusal(parse_interface, text, "--pod-addr")
    if scope is None:
        assert line.startswith(f"--pod-addr {text!r} is not an address with a prefix: ")
    else:
        assert line.startswith(f"--pod-addr {text!r}: the scope id {scope!r} is not an interface name")


def test_a_port_is_ascii_digits_from_1_to_65535():
    assert [port_number(t) for t in ("1", "80", "65535", "08")] == [1, 80, 65535, 8]
    assert [port_number(t) for t in ("0", "65536", "²", "", "8 0", "-1", "http", "none")] == [None] * 8
