"""Choosing the ends: the family (IPv4, or IPv6 where the pod has no IPv4 address), a free subnet, the
walkthrough's offsets in each family, and the bad input refused before anything is looked at."""

from __future__ import annotations

import ipaddress

import pytest

from vethctl.allocate import EndsRequest, allocate, check_family, default_ping, ends_family, validate_request
from vethctl.errors import BadInput, ExitCode
from vethctl.model import Netns
from vethctl.parsers.ipjson import NetView, PodView

POD_NS = Netns.named("cni-1")


def addr(local: str, prefixlen: int, scope: str = "global") -> dict:
    family = "inet6" if ":" in local else "inet"
    return {"family": family, "local": local, "prefixlen": prefixlen, "scope": scope}


def pod(*addresses: dict, routes: list[dict] | None = None) -> PodView:
    """A pod as `ip -j addr` and `ip -j route show table all` describe it: lo, and eth0 with `addresses`."""
    links = [
        {"ifname": "lo", "link_type": "loopback", "addr_info": [addr("127.0.0.1", 8, "host")]},
        {"ifname": "eth0", "link_type": "ether", "mtu": 1500, "addr_info": list(addresses)},
    ]
    default = [{"dst": "default", "dev": "eth0"}]
    return PodView(links, default + (routes or []), POD_NS)


V4_POD = pod(addr("198.18.0.2", 24), routes=[{"dst": "198.18.0.0/24", "dev": "eth0"}])
V6_POD = pod(
    addr("2001:db8:18::2", 64),
    addr("fe80::1", 64, "link"),
    routes=[{"dst": "2001:db8:18::/64", "dev": "eth0"}, {"dst": "fe80::/64", "dev": "eth0"}],
)
DUAL_POD = pod(addr("198.18.0.2", 24), addr("2001:db8:18::2", 64))
NODE = NetView([], [{"dst": "default", "gateway": "2001:db8:51:100::254"}])


def ends(att) -> tuple[str, str]:
    return str(att.pod_end.address), str(att.host_end.address)


def test_an_ipv6_only_pod_gets_ipv6_ends_at_100_200_and_pings_101():
    att = allocate(EndsRequest(), V6_POD, NODE)
    assert ends(att) == ("2001:db8::100/64", "2001:db8::200/64")
    assert default_ping(att) == ipaddress.ip_address("2001:db8::101")


def test_a_dual_stack_pod_gets_ipv4_ends_unless_family_6():
    assert ends(allocate(EndsRequest(), DUAL_POD, NODE)) == ("192.0.2.100/24", "192.0.2.200/24")
    assert ends(allocate(EndsRequest(family=6), DUAL_POD, NODE)) == ("2001:db8::100/64", "2001:db8::200/64")
    assert ends(allocate(EndsRequest(family=4), V6_POD, NODE)) == ("192.0.2.100/24", "192.0.2.200/24")


def test_the_ipv6_subnet_overlaps_no_route_on_either_side():
    busy_pod = pod(addr("2001:db8::5", 64), routes=[{"dst": "2001:db8:0:1::/64", "dev": "eth0"}])
    busy_node = NetView([], [{"dst": "2001:db8:0:2::/63", "dev": "cni0"}])
    att = allocate(EndsRequest(), busy_pod, busy_node)
    assert ends(att) == ("2001:db8:0:4::100/64", "2001:db8:0:4::200/64")


def test_every_64_taken_is_bad_input_at_once():
    covering = NetView([], [{"dst": "2001:db8::/32", "dev": "eth1"}])
    with pytest.raises(BadInput, match=r"every /64 of 2001:db8::/32 overlaps a route"):
        allocate(EndsRequest(), V6_POD, covering)


def test_one_given_ipv6_end_gets_its_partner_without_walking_the_64():
    att = allocate(EndsRequest(pod_addr="2001:db8:7::1/64"), V4_POD, NODE)
    assert ends(att) == ("2001:db8:7::1/64", "2001:db8:7::200/64")
    assert default_ping(att) == ipaddress.ip_address("2001:db8:7::101")
    att = allocate(EndsRequest(host_addr="2001:db8:7::100/64"), V4_POD, NODE)
    assert str(att.pod_end.address) == "2001:db8:7::1/64"  # ::100 is taken by the host end: the first free


def test_the_family_follows_a_given_end():
    assert ends_family(EndsRequest(host_addr="2001:db8:7::2/64"), V4_POD) == 6
    assert ends_family(EndsRequest(pod_addr="192.0.2.7/24"), V6_POD) == 4
    assert ends_family(EndsRequest(), pod()) == 4  # no address at all: IPv4, as before


@pytest.mark.parametrize(
    "req,message",
    [
        (
            EndsRequest(host_addr="2001:db8:7::200/64", pod_addr="192.0.2.100/24"),
            "is IPv6 and --pod-addr 192.0.2.100/24 is IPv4",
        ),
        (
            EndsRequest(pod_addr="192.0.2.100/24", family=6),
            "--family 6 but --pod-addr 192.0.2.100/24 is IPv4",
        ),
        (
            EndsRequest(host_addr="2001:db8::1/64", family=4),
            "--family 4 but --host-addr 2001:db8::1/64 is IPv6",
        ),
        (EndsRequest(family=5), "--family 5 is not an address family"),
    ],
)
def test_mixed_families_are_bad_input(req, message):
    with pytest.raises(BadInput, match=message) as exc:
        validate_request(req)
    assert exc.value.exit_code == ExitCode.BAD_INPUT


def test_an_ipv6_prefix_that_overlaps_the_pods_is_refused():
    with pytest.raises(BadInput, match="2001:db8:18::/64 overlaps 2001:db8:18::/64"):
        allocate(EndsRequest(pod_addr="2001:db8:18::50/64"), V6_POD, NODE)


def test_a_probe_of_the_other_family_contradicts_family():
    check_family(None, ipaddress.ip_address("192.0.2.1"), "--ping 192.0.2.1")
    check_family(6, ipaddress.ip_address("2001:db8::1"), "--ping 2001:db8::1")
    with pytest.raises(BadInput) as exc:
        check_family(6, ipaddress.ip_address("192.0.2.1"), "--ping 192.0.2.1")
    assert (
        str(exc.value)
        == "--family 6 but --ping 192.0.2.1 is an IPv4 address (give an IPv6 address, or --family 4)"
    )


def test_pod_families_are_its_own_interfaces_not_an_earlier_pair():
    earlier = PodView(
        V6_POD.links + [{"ifname": "vp-1", "link_type": "ether", "addr_info": [addr("192.0.2.100", 24)]}],
        V6_POD.routes,
        POD_NS,
    )
    assert earlier.families == {6} and DUAL_POD.families == {4, 6} and V4_POD.families == {4}
    assert [str(a) for a in DUAL_POD.pod_ips] == ["198.18.0.2", "2001:db8:18::2"]


# IPv4: the walkthrough's defaults, and what each side already uses

POD4_NETNS = Netns.named("cni-1")


def link4(name, *addrs, mtu=1500, kind="ether"):
    return {
        "ifname": name,
        "mtu": mtu,
        "link_type": kind,
        "addr_info": [
            {"family": "inet", "local": a.split("/")[0], "prefixlen": int(a.split("/")[1]), "scope": "global"}
            for a in addrs
        ],
    }


def pod4(routes=(), mtu=1450, extra_links=()):
    links = [
        link4("lo", "127.0.0.1/8", kind="loopback"),
        link4("eth0", "198.18.0.2/24", mtu=mtu),
        *extra_links,
    ]
    base = [
        {"dst": "default", "gateway": "198.18.0.1", "dev": "eth0"},
        {"dst": "198.18.0.0/24", "dev": "eth0", "protocol": "kernel", "scope": "link"},
    ]
    return PodView(links, [*base, *routes], POD4_NETNS)


def node4(routes=(), links=()):
    return NetView([link4("lo", "127.0.0.1/8", kind="loopback"), *links], list(routes))


def test_the_first_free_documentation_subnet_with_the_walkthroughs_addresses():
    att = allocate(EndsRequest(), pod4(), node4())
    assert str(att.pod_end.address) == "192.0.2.100/24" and str(att.host_end.address) == "192.0.2.200/24"
    assert att.host_end.name == f"vh-{att.session}" and att.pod_end.name == f"vp-{att.session}"
    assert att.pod_end.netns == POD4_NETNS and att.host_end.netns is None
    assert att.mtu == 1450  # the pod's eth0
    assert str(default_ping(att)) == "192.0.2.101"


def test_a_subnet_the_pod_routes_is_never_chosen():
    """A route of the pod's own to 192.0.2.0/24 (via its gateway): a veth there would hijack that traffic."""
    routed = pod4(routes=[{"dst": "192.0.2.0/24", "gateway": "198.18.0.1", "dev": "eth0"}])
    att = allocate(EndsRequest(), routed, node4())
    assert att.subnet == ipaddress.ip_network("198.51.100.0/24")


def test_a_subnet_the_node_routes_or_holds_is_never_chosen():
    att = allocate(EndsRequest(), pod4(), node4(routes=[{"dst": "192.0.2.0/24", "dev": "eth0"}]))
    assert att.subnet == ipaddress.ip_network("198.51.100.0/24")
    att = allocate(EndsRequest(), pod4(), node4(links=[link4("eth0", "198.51.100.7/25", "192.0.2.2/24")]))
    assert att.subnet == ipaddress.ip_network("203.0.113.0/24")


def test_an_address_of_the_pod_on_another_link_counts_too():
    att = allocate(EndsRequest(), pod4(extra_links=[link4("net1", "192.0.2.9/24")]), node4())
    assert att.subnet == ipaddress.ip_network("198.51.100.0/24")


def test_default_routes_do_not_count():
    att = allocate(
        EndsRequest(), pod4(), node4(routes=[{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"}])
    )
    assert att.subnet == ipaddress.ip_network("192.0.2.0/24")


@pytest.mark.parametrize(
    "where",
    ["pod", "node"],
)
def test_given_addresses_overlapping_a_route_are_refused_naming_it(where):
    route = [{"dst": "203.0.113.0/25", "dev": "eth0"}]
    views = (pod4(routes=route), node4()) if where == "pod" else (pod4(), node4(routes=route))
    with pytest.raises(BadInput, match=r"203\.0\.113\.0/24 overlaps 203\.0\.113\.0/25"):
        allocate(EndsRequest(pod_addr="203.0.113.100/24"), *views)


def test_one_given_end_gets_the_other_at_its_offset():
    att = allocate(EndsRequest(pod_addr="203.0.113.7/24"), pod4(), node4())
    assert str(att.host_end.address) == "203.0.113.200/24"
    att = allocate(EndsRequest(host_addr="203.0.113.100/24"), pod4(), node4())
    assert str(att.pod_end.address) == "203.0.113.1/24"  # .100 is the host end's: the first free one
    att = allocate(EndsRequest(pod_addr="203.0.113.5/30"), pod4(), node4())
    assert str(att.host_end.address) == "203.0.113.6/30"


def test_names_taken_on_either_side_are_refused():
    with pytest.raises(BadInput, match="already exists on the node"):
        allocate(EndsRequest(host_if="eth0"), pod4(), node4(links=[link4("eth0", "192.0.2.2/24")]))
    with pytest.raises(BadInput, match="already exists in the pod"):
        allocate(EndsRequest(pod_if="eth0"), pod4(), node4())


def test_the_mtu_given_wins_and_public_space_needs_allow_public():
    assert allocate(EndsRequest(mtu=9000), pod4(), node4()).mtu == 9000
    with pytest.raises(BadInput, match="public address space"):
        validate_request(EndsRequest(pod_addr="8.8.8.1/24"))
    validate_request(EndsRequest(pod_addr="8.8.8.1/24", allow_public=True))  # accepted
    att = allocate(EndsRequest(pod_addr="8.8.8.1/24", allow_public=True), pod4(), node4())
    assert str(att.pod_end.address) == "8.8.8.1/24"


def test_several_pods_get_distinct_subnets_and_sessions(monkeypatch):
    """Pairs chosen earlier in the same invocation are not in the views yet: `taken` keeps them apart."""
    taken = []
    for _ in range(4):
        taken.append(allocate(EndsRequest(), V4_POD, NODE, mode="up", taken=taken))
    assert [str(a.subnet) for a in taken] == [
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "198.18.1.0/24",  # 198.18.0.0/24 is the pod's own
    ]
    ids = iter(["aaaa0001", "aaaa0001", "aaaa0002"])
    monkeypatch.setattr("vethctl.allocate.new_session_id", lambda: next(ids))
    first = allocate(EndsRequest(), V4_POD, NODE)
    assert allocate(EndsRequest(), V4_POD, NODE, taken=[first]).session == "aaaa0002"


def test_a_generated_name_that_exists_is_not_chosen(monkeypatch):
    """A link already named vh-SESSION (on the node) or vp-SESSION (in the pod): another session id is drawn,
    not an error about a --host-if nobody gave."""
    ids = iter(["aaaa0001", "aaaa0002", "aaaa0003", "aaaa0004"])
    monkeypatch.setattr("vethctl.allocate.new_session_id", lambda: next(ids))
    node = NetView([{"ifname": "vh-aaaa0001"}], NODE.routes)
    busy_pod = PodView([*V4_POD.links, {"ifname": "vp-aaaa0002"}], V4_POD.routes, POD_NS)
    att = allocate(EndsRequest(), busy_pod, node)
    assert (att.session, att.host_end.name, att.pod_end.name) == ("aaaa0003", "vh-aaaa0003", "vp-aaaa0003")
    with pytest.raises(BadInput, match="--host-if 'vh-aaaa0001' already exists"):
        allocate(EndsRequest(host_if="vh-aaaa0001"), V4_POD, node)


# -- the refusals a user meets, each with its line, and the bounds of "overlaps" ---------------------------


def recorded(name: str) -> tuple[PodView, NetView]:
    """A pod and its node as `ip -j addr show` and `ip -j route show table all` printed them (tests/fixtures)."""
    import json

    from tests.support.paths import FIXTURES

    doc = json.loads((FIXTURES / "linux" / name).read_text())
    return (
        PodView(doc["pod"]["addr"], doc["pod"]["route"], POD_NS),
        NetView(doc["node"]["addr"], doc["node"]["route"]),
    )


def refusal(func, *args, **kwargs) -> str:
    with pytest.raises(BadInput) as exc:
        func(*args, **kwargs)
    assert exc.value.exit_code == ExitCode.BAD_INPUT
    return str(exc.value)


def overlap_line(ours: str, theirs: str) -> str:
    return (
        f"{ours} overlaps {theirs}, already routed in the pod or on the node; a veth there would take over that"
        " traffic (pick another subnet, or omit the addresses)"
    )


def test_the_pods_own_route_to_the_first_documentation_range_is_honoured():
    """Issue 16: allocation picked 192.0.2.0/24 while the pod had a route to 192.0.2.0/24 (recorded here as
    the kernel prints it): the veth would have hijacked that traffic."""
    pod_view, node_view = recorded("ip-pod-route-to-192.0.2.0.json")
    att = allocate(EndsRequest(), pod_view, node_view)
    assert ends(att) == ("198.51.100.100/24", "198.51.100.200/24")
    assert att.mtu == 1450 and att.pod_end.netns == POD_NS
    assert refusal(allocate, EndsRequest(pod_addr="192.0.2.100/24"), pod_view, node_view) == overlap_line(
        "192.0.2.0/24", "192.0.2.0/24"
    )
    assert refusal(allocate, EndsRequest(host_addr="192.0.2.7/25"), pod_view, node_view) == overlap_line(
        "192.0.2.0/25", "192.0.2.0/24"
    )
    # the pod's own subnet, its address and the node's side of it (198.18.0.1/24) are taken as well
    assert refusal(allocate, EndsRequest(pod_addr="198.18.0.50/24"), pod_view, node_view) == overlap_line(
        "198.18.0.0/24", "198.18.0.0/24"
    )


@pytest.mark.parametrize(
    "route,clash",
    [
        ("203.0.113.252/30", "203.0.113.252/30"),  # the last /30 of the /24
        ("203.0.113.0/30", "203.0.113.0/30"),  # the first
        ("203.0.113.100/32", "203.0.113.100/32"),  # a host route to the very address
        ("203.0.112.0/23", "203.0.112.0/23"),  # a wider route around it
    ],
)
def test_a_given_subnet_that_just_overlaps_a_route_is_refused(route, clash):
    views = (pod4(routes=[{"dst": route, "gateway": "198.18.0.1", "dev": "eth0"}]), node4())
    assert refusal(allocate, EndsRequest(pod_addr="203.0.113.100/24"), *views) == overlap_line(
        "203.0.113.0/24", clash
    )


@pytest.mark.parametrize(
    "routes,pod_addr",
    [
        (["203.0.112.0/24", "203.0.114.0/24"], "203.0.113.100/24"),  # the /24s on either side
        (["203.0.112.255/32", "203.0.114.0/32"], "203.0.113.100/24"),  # the addresses just outside
        (["203.0.113.0/30", "203.0.113.8/30"], "203.0.113.5/30"),  # the /30s on either side
        (["default", "0.0.0.0/0"], "203.0.113.100/24"),  # a default route overlaps everything, and counts not
        (["2001:db8::/32"], "203.0.113.100/24"),  # the other family
    ],
)
def test_adjacent_routes_do_not_overlap(routes, pod_addr):
    pod_view = pod4(routes=[{"dst": r, "dev": "eth0"} for r in routes])
    att = allocate(
        EndsRequest(pod_addr=pod_addr), pod_view, node4(routes=[{"dst": r, "dev": "eth1"} for r in routes])
    )
    assert str(att.pod_end.address) == pod_addr


def test_addresses_in_use_on_either_side_are_refused():
    node_view = node4(links=[link4("eth1", "203.0.113.1/24")])
    assert refusal(allocate, EndsRequest(pod_addr="203.0.113.100/24"), pod4(), node_view) == overlap_line(
        "203.0.113.0/24", "203.0.113.0/24"
    )
    pod_view = pod4(extra_links=[link4("net1", "198.51.100.9/25")])
    assert refusal(allocate, EndsRequest(host_addr="198.51.100.200/24"), pod_view, node4()) == overlap_line(
        "198.51.100.0/24", "198.51.100.0/25"
    )
    # the pairs chosen earlier in the same invocation are not in the views yet: they count too
    first = allocate(EndsRequest(pod_addr="203.0.113.100/25"), pod4(), node4())
    assert refusal(
        allocate, EndsRequest(pod_addr="203.0.113.7/24"), pod4(), node4(), taken=[first]
    ) == overlap_line("203.0.113.0/24", "203.0.113.0/25")
    assert str(allocate(EndsRequest(pod_addr="203.0.113.130/25"), pod4(), node4(), taken=[first]).subnet) == (
        "203.0.113.128/25"
    )


PUBLIC_HINT = "(use a documentation range such as 203.0.113.0/24, or pass --allow-public)"


@pytest.mark.parametrize(
    "req,network",
    [
        (EndsRequest(pod_addr="8.8.8.1/24"), "8.8.8.0/24"),
        (EndsRequest(host_addr="8.8.8.1/24"), "8.8.8.0/24"),
        (EndsRequest(host_addr="192.0.2.1/23", pod_addr="192.0.2.2/23"), "192.0.2.0/23"),  # reaches 192.0.3.x
        (EndsRequest(pod_addr="198.20.0.1/24"), "198.20.0.0/24"),  # just past the benchmark range
        (EndsRequest(pod_addr="2606:4700::1/64"), "2606:4700::/64"),
    ],
)
def test_public_space_is_refused_without_allow_public(req, network):
    assert refusal(validate_request, req) == (
        f"{network} is public address space: someone on the internet owns it, and a route to it in the pod"
        f" hides the real one {PUBLIC_HINT}"
    )
    validate_request(EndsRequest(**{**req.__dict__, "allow_public": True}))


@pytest.mark.parametrize(
    "req",
    [
        EndsRequest(pod_addr="198.18.255.1/24"),
        EndsRequest(pod_addr="198.19.255.254/24"),
        EndsRequest(host_addr="203.0.113.254/24", pod_addr="203.0.113.1/24"),
        EndsRequest(pod_addr="10.244.1.7/24"),
        EndsRequest(pod_addr="2001:db8:ffff::1/64"),
        EndsRequest(),
    ],
)
def test_documentation_benchmark_and_private_space_need_no_flag(req):
    assert validate_request(req) is None


@pytest.mark.parametrize(
    "req,line",
    [
        (EndsRequest(mtu=67), "--mtu 67 is out of range (IPv4 needs 68 to 65535)"),
        (EndsRequest(mtu=65536), "--mtu 65536 is out of range (IPv4 needs 68 to 65535)"),
        (EndsRequest(family=0), "--family 0 is not an address family (give 4 or 6)"),
        (
            EndsRequest(host_if="-x"),
            "--host-if '-x' starts with '-', which commands read as an option (rename it)",
        ),
        (
            EndsRequest(pod_if="a" * 16),
            f"--pod-if {'a' * 16!r} is 16 characters long; Linux allows 15 (choose a shorter name)",
        ),
        (
            EndsRequest(host_addr="203.0.113.5"),
            "--host-addr '203.0.113.5' has no prefix length (write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24)",
        ),
        (
            EndsRequest(pod_addr="203.0.113.5"),
            "--pod-addr '203.0.113.5' has no prefix length (write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24)",
        ),
        (
            EndsRequest(pod_addr="2001:db8::1/64", family=4),
            "--family 4 but --pod-addr 2001:db8::1/64 is IPv6 (give an IPv4 address, or drop --family)",
        ),
        (
            EndsRequest(host_addr="203.0.113.5/24", pod_addr="203.0.113.5/24"),
            "--host-addr and --pod-addr are the same address 203.0.113.5 (give each end its own address)",
        ),
        (
            EndsRequest(host_addr="203.0.113.200/24", pod_addr="203.0.113.100/25"),
            "--host-addr 203.0.113.200/24 and --pod-addr 203.0.113.100/25 are in different subnets"
            " (203.0.113.0/24 vs 203.0.113.0/25) (give both ends the same prefix)",
        ),
        (
            EndsRequest(host_addr="2001:db8::200/64", pod_addr="203.0.113.100/24"),
            "--host-addr 2001:db8::200/64 is IPv6 and --pod-addr 203.0.113.100/24 is IPv4: the two ends of a pair"
            " are one family, on one subnet (give both ends IPv4 addresses or both IPv6, or omit one and it is"
            " chosen)",
        ),
    ],
)
def test_each_bad_request_is_one_line(req, line):
    assert refusal(validate_request, req) == line


@pytest.mark.parametrize(
    "req",
    [
        EndsRequest(mtu=68),
        EndsRequest(mtu=65535),
        EndsRequest(family=4, pod_addr="203.0.113.5/24", host_addr="203.0.113.6/24"),
        EndsRequest(family=6, pod_addr="2001:db8::5/64"),
        EndsRequest(host_if="vh-x", pod_if="eth1"),
        EndsRequest(host_addr="203.0.113.5/30", pod_addr="203.0.113.6/30"),
    ],
)
def test_requests_at_the_bounds_are_accepted(req):
    assert validate_request(req) is None


def test_a_pair_of_given_ends_is_checked_against_the_machine_too():
    att = allocate(
        EndsRequest(host_addr="203.0.113.6/30", pod_addr="203.0.113.5/30", mtu=1400), pod4(), node4()
    )
    assert ends(att) == ("203.0.113.5/30", "203.0.113.6/30") and att.mtu == 1400
    assert refusal(
        allocate, EndsRequest(host_addr="203.0.113.5/30", pod_addr="203.0.113.5/30"), pod4(), node4()
    ) == ("--host-addr and --pod-addr are the same address 203.0.113.5 (give each end its own address)")


@pytest.mark.parametrize(
    "req,pod_end,host_end",
    [
        # the walkthrough's offset where the subnet has it, else the first free host
        (EndsRequest(pod_addr="203.0.113.5/25"), "203.0.113.5/25", "203.0.113.1/25"),
        (EndsRequest(pod_addr="203.0.113.130/25"), "203.0.113.130/25", "203.0.113.129/25"),
        (EndsRequest(host_addr="203.0.113.1/26"), "203.0.113.2/26", "203.0.113.1/26"),
        (EndsRequest(host_addr="203.0.113.100/25"), "203.0.113.1/25", "203.0.113.100/25"),
        (EndsRequest(pod_addr="203.0.113.4/31"), "203.0.113.4/31", "203.0.113.5/31"),
        (EndsRequest(host_addr="203.0.113.4/31"), "203.0.113.5/31", "203.0.113.4/31"),
        (EndsRequest(host_addr="2001:db8::1/120"), "2001:db8::2/120", "2001:db8::1/120"),
        (EndsRequest(host_addr="2001:db8::1/119"), "2001:db8::100/119", "2001:db8::1/119"),
        (EndsRequest(pod_addr="2001:db8::1/119"), "2001:db8::1/119", "2001:db8::2/119"),
        (EndsRequest(pod_addr="2001:db8::1/118"), "2001:db8::1/118", "2001:db8::200/118"),
        (EndsRequest(pod_addr="2001:db8::/127"), "2001:db8::/127", "2001:db8::1/127"),
    ],
)
def test_one_given_end_gets_its_partner_inside_its_subnet(req, pod_end, host_end):
    assert ends(allocate(req, pod4(), node4())) == (pod_end, host_end)


@pytest.mark.parametrize(
    "req,ping",
    [
        (EndsRequest(pod_addr="203.0.113.100/25"), "203.0.113.101"),
        (EndsRequest(pod_addr="203.0.113.101/24"), "203.0.113.1"),  # .101 is the pod's: the first free one
        (EndsRequest(pod_addr="203.0.113.1/24", host_addr="203.0.113.101/24"), "203.0.113.2"),
        (EndsRequest(pod_addr="203.0.113.1/29"), "203.0.113.3"),
        (EndsRequest(pod_addr="2001:db8::1/120"), "2001:db8::3"),
        (EndsRequest(pod_addr="2001:db8::1/119"), "2001:db8::101"),
    ],
)
def test_the_default_ping_is_a_third_address_of_the_subnet(req, ping):
    assert str(default_ping(allocate(req, pod4(), node4()))) == ping


def test_a_subnet_with_no_third_address_asks_for_ping():
    att = allocate(EndsRequest(pod_addr="203.0.113.5/30"), pod4(), node4())
    assert refusal(default_ping, att) == (
        "203.0.113.4/30 has no third address to ping (use a shorter prefix, or give --ping)"
    )
    att = allocate(EndsRequest(pod_addr="203.0.113.4/31"), pod4(), node4())
    assert refusal(default_ping, att) == (
        "203.0.113.4/31 has no third address to ping (use a shorter prefix, or give --ping)"
    )


def test_the_family_of_the_ends():
    assert ends_family(EndsRequest(family=6), V4_POD) == 6
    assert ends_family(EndsRequest(family=4, pod_addr="2001:db8::1/64"), V6_POD) == 4
    assert ends_family(EndsRequest(pod_addr="2001:db8::1/64", host_addr="192.0.2.1/24"), V4_POD) == 6
    assert ends_family(EndsRequest(), V6_POD) == 6
    assert ends_family(EndsRequest(), DUAL_POD) == 4
    assert ends_family(EndsRequest(), V4_POD) == 4


def test_the_mode_and_names_given_are_kept():
    att = allocate(EndsRequest(host_if="vh-mine", pod_if="eth9"), pod4(), node4(), mode="up")
    assert (att.mode, att.host_end.name, att.pod_end.name, att.tag) == (
        "up",
        "vh-mine",
        "eth9",
        f"vethctl:{att.session}:up",
    )
    assert allocate(EndsRequest(), pod4(), node4()).mode == "run"
    assert refusal(allocate, EndsRequest(host_if="cali1"), pod4(), node4(links=[link4("cali1")])) == (
        "--host-if 'cali1' already exists on the node (choose another name, or omit it)"
    )
    assert refusal(allocate, EndsRequest(pod_if="eth0"), pod4(), node4(links=[link4("eth9")])) == (
        "--pod-if 'eth0' already exists in the pod (choose another name, or omit it)"
    )


@pytest.mark.parametrize(
    "req,line",
    [
        (
            EndsRequest(host_addr="203.0.113.0/24"),
            "--host-addr '203.0.113.0/24' is the network address of 203.0.113.0/24 (pick a host address inside it)",
        ),
        (
            EndsRequest(pod_addr="203.0.113.255/24", host_addr="203.0.113.7/24"),
            "--pod-addr '203.0.113.255/24' is the broadcast address of 203.0.113.0/24"
            " (pick a host address inside it)",
        ),
    ],
)
def test_allocate_names_the_option_of_an_address_it_refuses(req, line):
    """allocate checks what it is given, whether or not validate_request ran first."""
    assert refusal(allocate, req, pod4(), node4()) == line


def test_the_family_of_an_address_that_is_not_one_names_its_option():
    assert refusal(ends_family, EndsRequest(host_addr="2001:db8::1"), V4_POD) == (
        "--host-addr '2001:db8::1' has no prefix length (write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24)"
    )
    assert refusal(ends_family, EndsRequest(host_addr="2001:db8::1/64", pod_addr="192.0.2.1"), V4_POD) == (
        "--pod-addr '192.0.2.1' has no prefix length (write it as ADDRESS/PREFIX, e.g. 203.0.113.100/24)"
    )
