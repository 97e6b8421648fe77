"""A plan's teardown: every undo, last created first removed (a stack), and none when the plan keeps."""

from __future__ import annotations

import ipaddress

from vethctl import render
from vethctl.model import Attachment, Netns, Node, VethEnd
from vethctl.plan import Plan, Step
from vethctl.plan.attach import attach_steps
from vethctl.plan.session import create_pairs


def attachment(n: int) -> Attachment:
    return Attachment(
        session=f"0000000{n}",
        host_end=VethEnd(f"vh-0000000{n}", ipaddress.ip_interface(f"192.0.2.{n}/30"), None),
        pod_end=VethEnd(
            f"vp-0000000{n}", ipaddress.ip_interface(f"192.0.2.{n + 1}/30"), Netns.named(f"cni-{n}")
        ),
        mtu=None,
        owner_pid=4242,
    )


def undone(plan: Plan) -> list[str]:
    return [" ".join(s.argv) for s in plan.teardown()]


def test_undos_run_last_in_first_out_across_steps_and_within_a_step():
    """Two pairs created by one batch (two undos on one step), then a third pair by its own steps: the third
    goes first, then the batch's two, its second before its first."""
    plan = Plan((*create_pairs([attachment(1), attachment(5)]), *attach_steps(attachment(9))))
    assert [len(s.undo) for s in plan.steps] == [2, 1, 0]
    assert undone(plan) == [
        "ip link del dev vh-00000009",
        "ip link del dev vh-00000005",
        "ip link del dev vh-00000001",
    ]
    assert plan.all_steps() == (*plan.steps, *plan.teardown())
    assert render.dry_run(plan, Node()).splitlines()[-3:] == undone(plan)


def test_a_step_with_several_undos_is_undone_from_its_last():
    address = Step(("ip", "addr", "add", "192.0.2.1/24", "dev", "lo"))
    undo_first = Step(("ip", "link", "del", "dev", "vh-a"), phase="teardown")
    undo_second = Step(("ip", "addr", "del", "192.0.2.1/24", "dev", "lo"), phase="teardown")
    plan = Plan(
        (Step(("ip", "link", "add", "vh-a", "type", "dummy"), undo=(undo_first, undo_second)), address)
    )
    assert plan.teardown() == (undo_second, undo_first)
    assert (
        Plan(plan.steps, keep=True).teardown() == () and Plan(plan.steps, keep=True).all_steps() == plan.steps
    )


def test_a_batch_is_forced_only_when_its_command_says_so():
    [forced] = create_pairs([attachment(1), attachment(5)])
    assert forced.force and forced.argv == ("ip", "-force", "-batch", "-")
    [plain, _] = attach_steps(attachment(1))
    assert not plain.force and plain.argv == ("ip", "-batch", "-")
    assert not Step(("ip", "-force", "link", "del", "dev", "vh-a")).force  # not a batch


def test_a_step_runs_in_its_namespace():
    step = Step(("ip", "link", "show"), Netns.named("cni-1"))
    assert step.argv_in_netns == ("ip", "-n", "cni-1", "link", "show")
    assert Step(("ip", "link", "show")).argv_in_netns == ("ip", "link", "show")
