"""The lab registry's CIDRs: both families chosen together, and an address of either found in its lab."""

from __future__ import annotations

import ipaddress

from vethctl.state.labs import free_pod_cidrs, pod_cidrs

net = ipaddress.ip_network


def test_a_dual_stack_lab_takes_the_first_n_free_in_both_families():
    assert free_pod_cidrs([], (4, 6)) == ["198.18.0.0/24", "2001:db8:18::/64"]
    used = [net("198.18.0.0/24"), net("2001:db8:18:1::/64"), net("::/0")]
    assert free_pod_cidrs(used, (4, 6)) == ["198.18.2.0/24", "2001:db8:18:2::/64"]
    assert free_pod_cidrs(used, (6,)) == ["2001:db8:18::/64"]


def test_old_records_have_one_pod_cidr():
    assert pod_cidrs({"pod_cidr": "198.18.0.0/24"}) == ["198.18.0.0/24"]
    assert pod_cidrs({"pod_cidr": "198.18.0.0/24", "pod_cidrs": ["198.18.0.0/24", "2001:db8:18::/64"]}) == [
        "198.18.0.0/24",
        "2001:db8:18::/64",
    ]
