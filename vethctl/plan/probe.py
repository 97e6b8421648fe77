"""What the pod sends, as a plan step: ping, its lines shown as they come."""

from __future__ import annotations

from vethctl.commands import probe
from vethctl.model import IPAddress, Netns
from vethctl.plan import Step


def ping_step(
    netns: Netns | None,
    dst: IPAddress,
    *,
    count: int,
    interval: float,
    key: str = "ping",
    wait: int | None = None,
) -> Step:
    return Step(
        probe.ping(dst, count=count, interval=interval, wait=wait),
        netns,
        purpose=f"ping {dst} from the pod ({count} × every {interval:g} s)",
        phase="probe",
        key=key,
        stream=True,
        ok_codes=frozenset({0, 1}),  # 1: no reply, which is an observation, not a failure
    )
