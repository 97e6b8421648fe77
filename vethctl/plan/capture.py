"""A capture in a plan: tcpdump started in the background (ready once it says it listens), stopped later."""

from __future__ import annotations

import dataclasses

from vethctl.commands import tcpdump
from vethctl.model import Netns, PcapHome
from vethctl.plan import Step


def capture_steps(
    iface: str,
    filter_expr: str,
    pcap: str | None,
    *,
    key: str = "capture",
    netns: Netns | None = None,
    count: int | None = None,
    decode_as: str | None = None,
    snaplen: int | None = None,
    home: PcapHome | None = None,
) -> tuple[Step, Step]:
    """Start tcpdump and, later, stop it: the two are separate steps with the probe between them.
    home: tcpdump writes the pcap stream on its stdout instead, and vethctl writes it there, on this machine
    (a remote capture's file comes home; "-" is vethctl's stdout); its text comes from `tcpdump -r -` here."""
    if home is not None:
        argv = tcpdump.stream(iface, filter_expr=filter_expr, count=count, snaplen=snaplen)
        home = dataclasses.replace(home, decode_as=decode_as) if decode_as else home
    else:
        argv = tcpdump.capture(
            iface,
            filter_expr=filter_expr,
            pcap=pcap is not None,
            count=count,
            decode_as=decode_as,
            snaplen=snaplen,
        )
    start = Step(
        argv,
        netns,
        purpose=f"capture on {iface}; wait until tcpdump says it is listening",
        phase="capture",
        key=key,
        background=True,
        ready="listening on ",
        writes=pcap,
        pcap_home=home,
    )
    stop = Step(
        (),
        netns,
        purpose=f"stop the capture on {iface} once every packet is printed",
        phase="capture",
        stops=key,
    )
    return start, stop
