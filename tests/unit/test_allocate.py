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
    with pytest.raises(BadInput, match="--family 6 but --ping 192.0.2.1 is an IPv4 address"):
        check_family(6, ipaddress.ip_address("192.0.2.1"), "--ping 192.0.2.1")


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
