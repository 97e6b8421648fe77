"""Attaching one pair: the node's three commands (create, tag, address) and the pod's two, each with its
purpose; only the creation has an undo, and it deletes the host end (the kernel removes the peer)."""

from __future__ import annotations

import ipaddress

from vethctl.model import Attachment, Netns, VethEnd
from vethctl.plan import Step
from vethctl.plan.attach import attach_steps, node_side, pod_side

POD = Netns.named("cni-1234")
TAG = "vethctl:0123abcd:run:4242"


def attachment(host="203.0.113.200/24", pod="203.0.113.100/24", mtu=1450) -> Attachment:
    return Attachment(
        session="0123abcd",
        host_end=VethEnd("vh-0123abcd", ipaddress.ip_interface(host), None),
        pod_end=VethEnd("vp-0123abcd", ipaddress.ip_interface(pod), POD),
        mtu=mtu,
        owner_pid=4242,
    )


DELETE = Step(
    ("ip", "link", "del", "dev", "vh-0123abcd"),
    purpose="remove the veth pair (deleting vh-0123abcd removes vp-0123abcd too)",
    phase="teardown",
    quiet_fail=True,
)


def test_the_node_side_creates_the_pair_into_the_pod_tags_and_addresses_the_host_end():
    assert node_side(attachment()) == [
        Step(
            ("ip", "link", "add", "vh-0123abcd", "mtu", "1450", "type", "veth", "peer", "name", "vp-0123abcd")
            + ("mtu", "1450", "netns", "cni-1234"),
            purpose="create the veth pair, vp-0123abcd straight into the pod's netns",
            undo=(DELETE,),
            key="veth_add",
        ),
        Step(
            ("ip", "link", "set", "dev", "vh-0123abcd", "alias", TAG, "addrgenmode", "none", "up"),
            purpose=f"tag the host end {TAG} and bring it up (no IPv6 link-local: no DAD)",
        ),
        Step(("ip", "addr", "add", "203.0.113.200/24", "dev", "vh-0123abcd"), purpose="address the host end"),
    ]


def test_the_pod_side_tags_and_addresses_the_pod_end_in_the_pod():
    assert pod_side(attachment()) == [
        Step(
            ("ip", "link", "set", "dev", "vp-0123abcd", "alias", TAG, "addrgenmode", "none", "up"),
            POD,
            purpose="tag the pod end and bring it up",
        ),
        Step(
            ("ip", "addr", "add", "203.0.113.100/24", "dev", "vp-0123abcd"),
            POD,
            purpose="address the pod end",
        ),
    ]


def test_ipv6_ends_are_addressed_without_duplicate_address_detection():
    att = attachment(host="2001:db8:7::200/64", pod="2001:db8:7::100/64", mtu=None)
    create, _, host_addr = node_side(att)
    assert "mtu" not in create.argv
    nodad = " (nodad: no Duplicate Address Detection, ready at once)"
    assert host_addr.argv[-1] == "nodad" and host_addr.purpose == "address the host end" + nodad
    assert pod_side(att)[1].purpose == "address the pod end" + nodad


def test_attach_is_one_batch_on_the_node_then_one_in_the_pod():
    att = attachment()
    node, pod = attach_steps(att)
    assert node.argv == ("ip", "-batch", "-") and node.netns is None and node.batch == tuple(node_side(att))
    assert node.purpose == "on the node: create the pair vh-0123abcd <-> vp-0123abcd, tag, address"
    assert node.undo == (DELETE,) and node.key is None
    assert pod.argv == ("ip", "-batch", "-") and pod.netns == POD and pod.batch == tuple(pod_side(att))
    assert pod.purpose == "in the pod: tag vp-0123abcd, bring it up, address it" and pod.undo == ()
