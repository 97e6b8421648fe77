"""Attaching one veth pair: create it with the pod end straight in the pod, tag both ends, address them.
Each step knows its undo: deleting the host end removes both."""

from __future__ import annotations

from vethctl.commands import ip
from vethctl.model import Attachment
from vethctl.plan import Step


def attach_steps(att: Attachment) -> list[Step]:
    host, pod = att.host_end, att.pod_end
    delete = Step(
        ip.link_del(host.name),
        purpose=f"remove the veth pair (deleting {host.name} removes {pod.name} too)",
        phase="teardown",
        quiet_fail=True,
    )
    return [
        Step(
            ip.veth_add(host.name, pod.name, pod.netns, mtu=att.mtu),
            purpose=f"create the veth pair, {pod.name} straight into the pod's netns",
            undo=(delete,),
            key="veth_add",
        ),
        Step(
            ip.link_tag_up(host.name, att.tag),
            purpose=f"tag the host end {att.tag} and bring it up (no IPv6 link-local: no DAD)",
        ),
        Step(ip.link_tag_up(pod.name, att.tag), pod.netns, purpose="tag the pod end and bring it up"),
        Step(ip.addr_add(pod.address, pod.name), pod.netns, purpose="address the pod end"),
        Step(ip.addr_add(host.address, host.name), purpose="address the host end"),
    ]
