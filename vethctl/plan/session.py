"""`up` and `down`: attach and leave in place; remove by the host end (the kernel removes its peer).

Several pods in one `up` (plan the steps here, run them in scenarios/up.py): every pair of a node is created
by one `ip -force -batch -` on the node, every host end tagged, brought up and addressed by a second one
(only for the pairs that were created: a name someone else took is never touched), then each pod's end by
one `ip -batch -` in that pod. -force: one pod's failing line does not stop the others'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vethctl.commands import ip
from vethctl.model import Attachment
from vethctl.plan import Plan, Step
from vethctl.plan.attach import attach_steps, node_side, pod_side
from vethctl.plan.batch import ip_batch


def build_up(att: Attachment) -> Plan:
    return Plan(tuple(attach_steps(att)), keep=True)


def create_pairs(atts: Sequence[Attachment]) -> list[Step]:
    """Every pair of one node, created: one `ip -force -batch -` (each line undone by deleting its host end)."""
    return ip_batch([node_side(att)[0] for att in atts], purpose=f"create {len(atts)} veth pairs", force=True)


def host_ends(atts: Sequence[Attachment]) -> list[Step]:
    """The host ends of pairs that exist: tagged, brought up, addressed; one `ip -force -batch -`."""
    return ip_batch(
        [s for att in atts for s in node_side(att)[1:]],
        purpose=f"tag, bring up and address {len(atts)} host ends",
        force=True,
    )


def pod_end(att: Attachment) -> list[Step]:
    """One pod's end: tagged, brought up, addressed, in the pod; one `ip -batch -` there."""
    return ip_batch(pod_side(att), purpose=f"in the pod: tag {att.pod_end.name}, bring it up, address it")


def build_down(host_names: Iterable[str]) -> Plan:
    steps = [
        Step(ip.link_del(name), purpose=f"remove {name} and its peer", phase="teardown", quiet_fail=True)
        for name in host_names
    ]
    return Plan(tuple(steps), keep=True)
