"""Merging pcap files by time, for `capture -l`: one file, every packet in order. Pure Python, the classic
pcap format tcpdump -w writes (microsecond or nanosecond, either byte order)."""

from __future__ import annotations

import heapq
import struct
from collections.abc import Iterator
from operator import itemgetter
from typing import BinaryIO

MAGICS = {0xA1B2C3D4: 1_000_000, 0xA1B23C4D: 1_000_000_000}


def _endian(head: bytes) -> str | None:
    """The struct byte order of a pcap file from its global header, or None when it is not a pcap file."""
    for endian in ("<", ">"):
        if struct.unpack(endian + "I", head[:4])[0] in MAGICS:
            return endian
    return None


def _records(path: str) -> Iterator[tuple[float, bytes, bytes]]:
    with open(path, "rb") as fh:
        head = fh.read(24)
        if len(head) < 24:
            return
        endian = _endian(head)
        if endian is None:
            raise ValueError(f"{path}: not a pcap file")
        scale = MAGICS[struct.unpack(endian + "I", head[:4])[0]]
        rec = struct.Struct(endian + "IIII")
        while True:
            hdr = fh.read(16)
            if len(hdr) < 16:
                return
            sec, frac, incl, orig = rec.unpack(hdr)
            data = fh.read(incl)
            # microseconds in the output: re-encode the header for the merged file's own byte order
            yield sec + frac / scale, struct.pack("<IIII", sec, frac * 1_000_000 // scale, incl, orig), data


def merge(inputs: list[str], out: BinaryIO) -> int:
    """Write to `out` (a file the caller opened: secure.create_file) every packet of `inputs`, by time; the
    link type is the first file's. Packets with the same time keep the order of their files, then their
    order within the file (heapq.merge)."""
    linktype, snaplen = 1, 262144
    for path in inputs:
        with open(path, "rb") as fh:
            head = fh.read(24)
        if len(head) == 24:
            snaplen, linktype = struct.unpack((_endian(head) or ">") + "II", head[16:24])
            break
    count = 0
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
    for _ts, hdr, data in heapq.merge(*(_records(p) for p in inputs), key=itemgetter(0)):
        out.write(hdr + data)
        count += 1
    return count
