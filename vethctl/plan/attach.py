"""Attaching one veth pair: create it with the pod end straight in the pod, tag both ends, address them.
Each step knows its undo: deleting the host end removes both.

The node's three commands run as one `ip -batch -`, the pod's two as another (plan/batch.py): two processes
instead of five. The pod's side comes second: its end exists once the node's `link add` has run."""

from __future__ import annotations

from vethctl.commands import ip
from vethctl.model import Attachment
from vethctl.plan import Step
from vethctl.plan.batch import ip_batch


def node_side(att: Attachment) -> list[Step]:
    """Create the pair, tag the host end and bring it up, address it: on the node."""
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
        Step(
            ip.addr_add(host.address, host.name),
            purpose="address the host end" + _NODAD[host.address.version],
        ),
    ]


def pod_side(att: Attachment) -> list[Step]:
    """Tag the pod end and bring it up, address it: in the pod."""
    pod = att.pod_end
    return [
        Step(ip.link_tag_up(pod.name, att.tag), pod.netns, purpose="tag the pod end and bring it up"),
        Step(
            ip.addr_add(pod.address, pod.name),
            pod.netns,
            purpose="address the pod end" + _NODAD[pod.address.version],
        ),
    ]


def attach_steps(att: Attachment) -> list[Step]:
    return [
        *ip_batch(
            node_side(att),
            purpose=f"on the node: create the pair {att.host_end.name} <-> {att.pod_end.name}, tag, address",
        ),
        *ip_batch(pod_side(att), purpose=f"in the pod: tag {att.pod_end.name}, bring it up, address it"),
    ]


# Both IPv6 ends must be ready to send at once: with DAD each address would stay tentative for a second or
# more (no source for the pod's pings, no answer to the other end's Neighbor Solicitations). `nodad` skips it
# for these two addresses only, and changes no sysctl of the pod; a clash would be with a subnet that
# overlaps no route on either side, which allocation rules out.
_NODAD = {4: "", 6: " (nodad: no Duplicate Address Detection, ready at once)"}
