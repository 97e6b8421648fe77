"""`up` and `down`: attach and leave in place; remove by the host end (the kernel removes its peer)."""

from __future__ import annotations

from collections.abc import Iterable

from vethctl.commands import ip
from vethctl.model import Attachment
from vethctl.plan import Plan, Step
from vethctl.plan.attach import attach_steps


def build_up(att: Attachment) -> Plan:
    return Plan(tuple(attach_steps(att)), keep=True, title=f"up session {att.session}")


def build_down(host_names: Iterable[str]) -> Plan:
    steps = [
        Step(ip.link_del(name), purpose=f"remove {name} and its peer", phase="teardown", quiet_fail=True)
        for name in host_names
    ]
    return Plan(tuple(steps), keep=True, title="down")
