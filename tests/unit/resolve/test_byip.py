"""resolve/byip.py without a machine: reading `ip -all netns exec ip -j addr show to ADDR` (the remote way of
asking every named namespace at once whether it holds an address)."""

from __future__ import annotations

import ipaddress

from tests.support.fakes import FakeExecutor, Res
from vethctl.resolve.byip import _all_named, _holding

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
