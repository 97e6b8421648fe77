"""Merging pcap files by time, for `capture -l`: one file, every packet in order. Pure Python, the classic
pcap format tcpdump -w writes (microsecond or nanosecond, either byte order)."""

from __future__ import annotations

import heapq
import os
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


# -- a live stream: whole packets, written with limits ------------------------------------------------------

HEADER_LEN, RECORD_HEADER_LEN = 24, 16
MAX_RECORD = 16 * 1024 * 1024  # no link type has packets this large: past it the stream is not pcap


class NotPcap(ValueError):
    """The stream does not start with a pcap global header, or a record header makes no sense."""


class Framer:
    """Cuts a pcap byte stream (`tcpdump -w -`) into its global header and whole records, however the bytes
    arrive (a pipe, ssh's channel, kubectl exec's frames cut them anywhere). `feed()` returns the records
    completed by the bytes given, each as its 16-byte header and data; `header` is set once 24 bytes came."""

    def __init__(self) -> None:
        self.header: bytes | None = None
        self._buf = bytearray()
        self._rec: struct.Struct | None = None

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        if self.header is None:
            if len(self._buf) < HEADER_LEN:
                return []
            head = bytes(self._buf[:HEADER_LEN])
            endian = _endian(head)
            if endian is None:
                raise NotPcap(f"not a pcap stream (it starts with {head[:4].hex()})")
            self.header, self._rec = head, struct.Struct(endian + "IIII")
            del self._buf[:HEADER_LEN]
        out, pos, buf = [], 0, self._buf
        while len(buf) - pos >= RECORD_HEADER_LEN:
            incl = self._rec.unpack_from(buf, pos)[2]
            if incl > MAX_RECORD:
                raise NotPcap(f"a record of {incl} bytes: the stream is not pcap, or it is damaged")
            end = pos + RECORD_HEADER_LEN + incl
            if len(buf) < end:
                break
            out.append(bytes(buf[pos:end]))
            pos = end
        del buf[:pos]
        return out

    @property
    def pending(self) -> int:
        """Bytes of a record not complete yet (at the end of a stream: a record cut short)."""
        return len(self._buf)


class LimitReached(Exception):
    """The pcap output is as large as --max-size allows (and does not rotate)."""


class PcapWriter:
    """Writes a pcap stream's header and records to a destination, flushing after each record (a reader
    at the other end of a pipe sees every packet as it comes), within `max_bytes` per file: without
    `rotate`, a record that does not fit ends the output (LimitReached, the record not written, so every
    file is whole); with `rotate` K, the file is rotated as logrotate does (FILE -> FILE.1 -> ... -> FILE.K-1,
    the oldest removed) and FILE starts again with the header. `open_file(path)` gives a binary file object
    open for writing (the caller's: it decides how files are created); `stream` is an already open one (stdout)
    used instead of a file, which does not rotate."""

    def __init__(self, path: str | None, *, open_file=None, stream=None, max_bytes=None, rotate=None):
        if (path is None) == (stream is None):
            raise ValueError("a path or a stream")
        if rotate is not None and (stream is not None or not max_bytes):
            raise ValueError("rotation needs a file and a size")
        self.path, self.open_file, self.stream = path, open_file, stream
        self.max_bytes, self.rotate = max_bytes, rotate
        self.header: bytes | None = None
        self.out = stream
        self.size = 0  # of the file being written
        self.packets = 0
        self.bytes = 0  # every byte written, all files together
        self.rotations = 0

    def start(self, header: bytes) -> None:
        self.header = header
        if self.out is None:
            self.out = self.open_file(self.path)
        self._put(header)

    def write(self, record: bytes) -> None:
        if self.max_bytes and self.size + len(record) > self.max_bytes and self.size > len(self.header):
            if not self.rotate:
                raise LimitReached(self.max_bytes)
            self._rotate()
        self._put(record)
        self.packets += 1

    def _put(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()
        self.size += len(data)
        self.bytes += len(data)

    def _rotate(self) -> None:
        self.out.close()
        names = [self.path] + [f"{self.path}.{i}" for i in range(1, self.rotate)]
        if os.path.lexists(names[-1]):
            os.unlink(names[-1])
        for older, newer in zip(reversed(names[1:]), reversed(names[:-1]), strict=True):
            if os.path.lexists(newer):
                os.replace(newer, older)
        self.rotations += 1
        self.out = self.open_file(self.path)
        self.size = 0
        self._put(self.header)

    @property
    def files(self) -> list[str]:
        """The files kept, oldest first (rotation's numbered ones, then FILE)."""
        if self.path is None:
            return []
        kept = min(self.rotations, (self.rotate or 1) - 1)
        return [f"{self.path}.{i}" for i in range(kept, 0, -1)] + [self.path]

    def close(self) -> None:
        if self.out is not None and self.stream is None:
            self.out.close()
        elif self.out is not None:
            self.out.flush()
