"""Merging pcap files by time, for `capture -l`: one file, every packet in order. Pure Python, the classic
pcap format tcpdump -w writes (microsecond or nanosecond, either byte order)."""

from __future__ import annotations

import heapq
import struct
from collections.abc import Iterator

MAGICS = {0xA1B2C3D4: 1_000_000, 0xA1B23C4D: 1_000_000_000}


def _records(path: str) -> Iterator[tuple[float, int, bytes, bytes]]:
    with open(path, "rb") as fh:
        head = fh.read(24)
        if len(head) < 24:
            return
        for endian in ("<", ">"):
            magic = struct.unpack(endian + "I", head[:4])[0]
            if magic in MAGICS:
                break
        else:
            raise ValueError(f"{path}: not a pcap file")
        scale = MAGICS[magic]
        rec = struct.Struct(endian + "IIII")
        seq = 0
        while True:
            hdr = fh.read(16)
            if len(hdr) < 16:
                return
            sec, frac, incl, orig = rec.unpack(hdr)
            data = fh.read(incl)
            seq += 1
            # microseconds in the output: re-encode the header for the merged file's own byte order
            yield (
                sec + frac / scale,
                seq,
                struct.pack("<IIII", sec, frac * 1_000_000 // scale, incl, orig),
                data,
            )


def merge(inputs: list[str], output: str) -> int:
    """Write `output` with every packet of `inputs`, by time; the link type is the first file's."""
    linktype, snaplen = 1, 262144
    for path in inputs:
        with open(path, "rb") as fh:
            head = fh.read(24)
        if len(head) == 24:
            endian = "<" if struct.unpack("<I", head[:4])[0] in MAGICS else ">"
            snaplen, linktype = struct.unpack(endian + "II", head[16:24])
            break
    count = 0
    with open(output, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        streams = [
            ((ts, i, seq, hdr, data) for ts, seq, hdr, data in _records(p)) for i, p in enumerate(inputs)
        ]
        for _ts, _i, _seq, hdr, data in heapq.merge(*streams):
            out.write(hdr + data)
            count += 1
    return count
