"""`up` and `down` as plans: several pods' pairs created by one forced batch, their host ends set up by a
second, each pod's end by its own; `down` deletes each host end, and an end already gone is no error."""

from __future__ import annotations

import ipaddress

from vethctl import render
from vethctl.model import Attachment, Netns, Node, VethEnd
from vethctl.plan import Step
from vethctl.plan.attach import attach_steps
from vethctl.plan.session import build_down, build_up, create_pairs, host_ends, pod_end


def attachment(n: int) -> Attachment:
    return Attachment(
        session=f"0000000{n}",
        host_end=VethEnd(f"vh-0000000{n}", ipaddress.ip_interface(f"192.0.2.{n}/30"), None),
        pod_end=VethEnd(
            f"vp-0000000{n}", ipaddress.ip_interface(f"192.0.2.{n + 1}/30"), Netns.named(f"cni-{n}")
        ),
        mtu=None,
        mode="up",
    )


def test_up_attaches_and_keeps():
    plan = build_up(attachment(1))
    assert plan.steps == tuple(attach_steps(attachment(1))) and plan.keep and plan.teardown() == ()


def test_several_pairs_are_created_by_one_batch_that_goes_on_after_a_failing_line():
    [step] = create_pairs([attachment(1), attachment(5)])
    assert step.argv == ("ip", "-force", "-batch", "-") and step.netns is None
    assert step.purpose == "create 2 veth pairs"
    assert step.stdin == (
        "link add vh-00000001 type veth peer name vp-00000001 netns cni-1\n"
        "link add vh-00000005 type veth peer name vp-00000005 netns cni-5\n"
    )
    assert [u.argv for u in step.undo] == [("ip", "link", "del", "dev", f"vh-0000000{n}") for n in (1, 5)]


def test_the_host_ends_of_several_pairs_are_set_up_by_one_forced_batch():
    [step] = host_ends([attachment(1), attachment(5)])
    assert step.argv == ("ip", "-force", "-batch", "-") and step.netns is None and step.undo == ()
    assert step.purpose == "tag, bring up and address 2 host ends"
    assert step.stdin == (
        "link set dev vh-00000001 alias vethctl:00000001:up addrgenmode none up\n"
        "addr add 192.0.2.1/30 dev vh-00000001\n"
        "link set dev vh-00000005 alias vethctl:00000005:up addrgenmode none up\n"
        "addr add 192.0.2.5/30 dev vh-00000005\n"
    )


def test_one_pods_end_is_one_batch_in_that_pod():
    [step] = pod_end(attachment(5))
    assert step.argv == ("ip", "-batch", "-") and step.netns == Netns.named("cni-5") and not step.force
    assert step.purpose == "in the pod: tag vp-00000005, bring it up, address it"
    assert step.stdin == (
        "link set dev vp-00000005 alias vethctl:00000005:up addrgenmode none up\naddr add 192.0.2.6/30 dev vp-00000005\n"
    )


def test_down_deletes_each_host_end_and_an_end_already_gone_is_no_error():
    plan = build_down(["vh-00000001", "vh-00000005"])
    assert plan.keep and plan.teardown() == ()
    assert plan.steps == tuple(
        Step(
            ("ip", "link", "del", "dev", name),
            purpose=f"remove {name} and its peer",
            phase="teardown",
            quiet_fail=True,
        )
        for name in ("vh-00000001", "vh-00000005")
    )
    assert render.dry_run(plan, Node()) == "ip link del dev vh-00000001\nip link del dev vh-00000005\n"
