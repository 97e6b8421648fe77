"""parsers/ipjson.py: iproute2's `-j` output read (recorded in namespaces made for it, see
tests/fixtures/kubectl/SOURCES.md "iproute2 JSON")."""

from __future__ import annotations

import ipaddress

import pytest

from tests.support.paths import FIXTURES
from vethctl.model import Netns
from vethctl.parsers.ipjson import NetView, NotJson, PodView, decode, netns_name_of, netns_names, peer_of

FIX = FIXTURES / "linux"


def recorded(name: str) -> list:
    return decode((FIX / f"ipj-{name}.json").read_text())


def pod(which: str) -> PodView:
    return PodView(recorded(f"addr-{which}"), recorded(f"route-{which}"), Netns.named(f"vtest-{which}"))


def net(*prefixes: str) -> list:
    return [ipaddress.ip_network(p) for p in prefixes]


# -- decode --------------------------------------------------------------------------------------


def test_decode_reads_what_ip_prints():
    links = recorded("addr-dualstack")
    assert [link["ifname"] for link in links] == ["lo", "vtestx"]


def test_nothing_printed_is_no_entries():
    assert decode("") == [] and decode(None) == []


def test_an_object_is_no_list_of_entries():
    assert decode('{"ifindex": 1}') == []


def test_control_characters_in_names_are_read():
    """iproute2 prints an interface alias as it was set, control characters and all."""
    assert decode('[{"ifindex": 2, "ifname": "eth0", "ifalias": "uplink\tto\nrack 4"}]')[0]["ifalias"] == (
        "uplink\tto\nrack 4"
    )


def test_not_json_names_the_command():
    with pytest.raises(NotJson) as err:
        decode("Error: Peer netns reference is invalid.\n")
    assert err.value.message == "ip -j printed something that is not JSON (Expecting value)"
    assert err.value.hint == "run with -v" and err.value.exit_code == 1
    with pytest.raises(NotJson) as err:
        decode("[{", what="ip -j -n pod-1 route")
    assert err.value.message.startswith("ip -j -n pod-1 route printed something that is not JSON (")


# -- peer_of, netns names ------------------------------------------------------------------------


def test_peer_of_finds_the_link_by_ifindex():
    links = recorded("addr-twolinks")
    assert peer_of(links, 3)["ifname"] == "vtestw"
    assert peer_of(links, 2)["ifname"] == "vtestv"
    assert peer_of(links, 9) is None and peer_of(links, None) is None


def test_netns_name_of_reads_list_id_and_list():
    ids = recorded("netns-list-id")
    assert (netns_name_of(ids, 0), netns_name_of(ids, 1), netns_name_of(ids, 2)) == ("vtesta", "vtestc", None)
    listing = recorded("netns-list")
    assert (netns_name_of(listing, 0), netns_name_of(listing, 1), netns_name_of(listing, 7)) == (
        "vtesta",
        "vtestc",
        None,
    )


def test_netns_names_keeps_the_namespaces_with_an_id():
    assert netns_names(recorded("netns-list")) == {1: "vtestc", 0: "vtesta"}
    assert netns_names([]) == {}


# -- NetView -------------------------------------------------------------------------------------


def test_link_by_name():
    view = NetView(recorded("addr-dualstack"), recorded("route-dualstack"))
    assert view.link("vtestx")["ifindex"] == 2 and view.link("lo")["ifindex"] == 1
    assert view.link("eth0") is None


def test_used_prefixes_of_a_dual_stack_namespace():
    """Routes (not the default ones, not broadcast or multicast), then addresses (global ones, and every
    IPv4 one: 127.0.0.1/8 too)."""
    view = NetView(recorded("addr-dualstack"), recorded("route-dualstack"))
    assert view.used_prefixes() == net(
        "192.0.2.0/24",
        "198.51.100.0/24",
        "127.0.0.0/8",
        "127.0.0.1/32",
        "192.0.2.10/32",
        "2001:db8:7::/64",
        "fe80::/64",
        "::1/128",
        "2001:db8:7::10/128",
        "fe80::34d1:ddff:fe36:aaff/128",
        "127.0.0.0/8",
        "192.0.2.0/24",
        "2001:db8:7::/64",
    )


def test_used_prefixes_skip_what_is_not_a_prefix():
    view = NetView([], [{"dst": "192.0.2.0/24"}, {"dst": "unreachable"}, {"dst": "198.51.100.0/24"}, {}])
    assert view.used_prefixes() == net("192.0.2.0/24", "198.51.100.0/24")


# -- PodView -------------------------------------------------------------------------------------


def test_a_dual_stack_pod():
    view = pod("dualstack")
    assert view.primary["ifname"] == "vtestx"
    assert view.pod_ips == [ipaddress.ip_address("192.0.2.10"), ipaddress.ip_address("2001:db8:7::10")]
    assert view.pod_ip == ipaddress.ip_address("192.0.2.10")
    assert view.families == {4, 6} and view.mtu == 1500


def test_ipv4_comes_first_whatever_order_ip_prints():
    links = recorded("addr-dualstack")
    links[1]["addr_info"].reverse()
    view = PodView(links, recorded("route-dualstack"), Netns.named("vtest-a"))
    assert view.pod_ips == [ipaddress.ip_address("192.0.2.10"), ipaddress.ip_address("2001:db8:7::10")]


def test_the_primary_link_is_the_default_routes_not_the_first():
    view = pod("twolinks")
    assert view.primary["ifname"] == "vtestw"
    assert view.pod_ips == [ipaddress.ip_address("2001:db8:9::7")] and view.families == {6}
    assert view.mtu == 1400


def test_without_a_default_route_the_first_link_that_is_not_loopback():
    routes = [r for r in recorded("route-twolinks") if r["dst"] != "default"]
    view = PodView(recorded("addr-twolinks"), routes, Netns.named("vtest-c"))
    assert view.primary["ifname"] == "vtestv"
    assert view.pod_ips == [ipaddress.ip_address("198.51.100.7")] and view.families == {4}
    assert view.mtu == 1500


def test_a_default_route_through_a_link_not_listed_falls_back_too():
    routes = [{"dst": "default", "dev": "gone0", "flags": []}, {"dst": "default", "flags": []}]
    view = PodView(recorded("addr-twolinks"), routes, Netns.named("vtest-c"))
    assert view.primary["ifname"] == "vtestv"


def test_only_loopback_is_no_pod_interface():
    links = recorded("addr-dualstack")[:1]
    view = PodView(links, [], Netns.named("vtest-a"))
    assert (view.primary, view.pod_ip, view.pod_ips, view.families, view.mtu) == (None, None, [], set(), None)


def test_a_link_without_an_mtu():
    links = recorded("addr-dualstack")
    del links[1]["mtu"]
    assert PodView(links, recorded("route-dualstack"), Netns.named("vtest-a")).mtu is None
