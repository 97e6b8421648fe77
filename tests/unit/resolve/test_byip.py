"""resolve/byip.py without a machine: reading `ip -j addr show to ADDR` in every named namespace (as `ip -all netns exec` prints it) (the remote way of
asking every named namespace at once whether it holds an address)."""

from __future__ import annotations

import ipaddress

from tests.support.fakes import FakeExecutor, Res
from vethctl.resolve.byip import _all_named, _bridge_port, _holding

ADDR = ipaddress.ip_address("198.18.0.5")
HOLDS = '[{"ifname":"eth0","addr_info":[{"family":"inet","local":"198.18.0.5","prefixlen":24}]}]'


def test_every_named_namespace_s_answer_by_its_header():
    out = f"\nnetns: cni-a\n[]\n\nnetns: cni-b\n{HOLDS}\n\nnetns: lab1\n[]\n"
    got = _all_named(FakeExecutor([Res(0, out)]), ADDR, {"cni-a", "cni-b", "lab1"})
    assert got == {
        "cni-a": [],
        "cni-b": [
            {"ifname": "eth0", "addr_info": [{"family": "inet", "local": "198.18.0.5", "prefixlen": 24}]}
        ],
        "lab1": [],
    }
    assert _holding(got["cni-b"], ADDR) == "eth0" and _holding(got["cni-a"], ADDR) is None


def test_a_name_that_breaks_the_headers_makes_each_be_asked_alone():
    """A name with a newline (or output that is not ip's) cannot be split safely: None, and the caller asks
    each namespace with its own command."""
    out = f"\nnetns: cni-a\n[]\n\nnetns: evil\nnetns: cni-b\n{HOLDS}\n"
    assert _all_named(FakeExecutor([Res(0, out)]), ADDR, {"cni-a", "evil\nnetns: cni-b"}) is None
    assert _all_named(FakeExecutor([Res(0, "garbage\n")]), ADDR, {"cni-a"}) is None


MAC = "0a:58:c6:12:00:05"
NEIGH = f'[{{"dst":"198.18.0.5","lladdr":"{MAC}","state":["REACHABLE"]}}]'


def test_the_bridge_port_is_the_entry_of_the_pods_own_mac():
    """The fdb answer lists another pod's MAC with the same first bytes first (and ours in capitals): the
    port is the one whose MAC is the pod's, exactly; taking the first port (or a prefix match) picks veth-b,
    which misses the address and falls back to a scan, more commands for the same answer."""
    fdb = '[{"mac":"0a:58:c6:12:00:50","ifname":"veth-b"},{"mac":"0A:58:C6:12:00:05","ifname":"veth-a"}]'
    link = '[{"ifname":"veth-a","link_index":2,"link_netnsid":0}]'
    ex = FakeExecutor([Res(0, NEIGH), Res(0, fdb), Res(0, link)])
    path: list[str] = []
    assert _bridge_port(ex, ADDR, "cni0", path)["ifname"] == "veth-a"
    assert path == [f"neigh {MAC} -> fdb port veth-a"]
    assert [c.argv for c in ex.calls] == [
        ("ip", "-j", "neigh", "show", "to", "198.18.0.5"),
        ("bridge", "-j", "fdb", "get", MAC, "br", "cni0"),
        ("ip", "-j", "-d", "link", "show", "dev", "veth-a"),
    ]


def test_an_fdb_without_the_pods_mac_means_one_probe_then_no_port():
    other = '[{"mac":"0a:58:c6:12:00:50","ifname":"veth-b"}]'
    ex = FakeExecutor([Res(0, NEIGH), Res(0, other), Res(0, ""), Res(0, NEIGH), Res(0, other)])
    path: list[str] = []
    assert _bridge_port(ex, ADDR, "cni0", path) is None
    assert path == [f"{MAC} not in cni0's fdb: one probe ping", "the neighbour did not answer"]
