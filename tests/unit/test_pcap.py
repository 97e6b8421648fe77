"""pcap.Framer cuts a stream into whole packets however the bytes arrive; PcapWriter keeps files whole within
--max-size, and rotates as logrotate does."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vethctl.pcap import Framer, LimitReached, NotPcap, PcapWriter

HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)


def record(n: int, size: int = 60) -> bytes:
    data = bytes([n % 256]) * size
    return struct.pack("<IIII", 1_700_000_000 + n, n, size, size) + data


def test_a_stream_in_one_piece():
    framer = Framer()
    assert framer.feed(HEADER + record(1) + record(2)) == [record(1), record(2)]
    assert framer.header == HEADER and framer.pending == 0


@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=40), st.data())
def test_any_cutting_gives_the_same_whole_records(sizes, data):
    stream = HEADER + b"".join(record(i, s) for i, s in enumerate(sizes))
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=30)))
    framer, got, last = Framer(), [], 0
    for cut in [*cuts, len(stream)]:
        got += framer.feed(stream[last:cut])
        last = cut
    assert got == [record(i, s) for i, s in enumerate(sizes)] and framer.pending == 0


def test_a_record_cut_short_stays_pending():
    framer = Framer()
    assert framer.feed(HEADER + record(1) + record(2)[:30]) == [record(1)]
    assert framer.pending == 30


def test_big_endian_and_nanosecond_streams():
    header = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
    rec = struct.pack(">IIII", 1, 2, 3, 3) + b"abc"
    assert Framer().feed(header + rec) == [rec]


def test_what_is_not_pcap_is_refused():
    with pytest.raises(NotPcap, match="not a pcap stream"):
        Framer().feed(b"tcpdump: listening on eth0, link-type EN10MB")
    with pytest.raises(NotPcap, match="not pcap"):
        Framer().feed(HEADER + struct.pack("<IIII", 1, 2, 1 << 30, 60))


def open_file(path):
    return open(path, "wb")  # noqa: SIM115 - the writer closes it


def test_stdout_is_flushed_record_by_record_and_stops_at_the_size():
    out = io.BytesIO()
    writer = PcapWriter(None, stream=out, max_bytes=24 + 3 * 76)
    writer.start(HEADER)
    for i in range(3):
        writer.write(record(i))
        assert out.getvalue().endswith(record(i))
    with pytest.raises(LimitReached):
        writer.write(record(3))
    assert (writer.packets, writer.bytes, len(out.getvalue())) == (3, 24 + 3 * 76, 24 + 3 * 76)


def test_a_file_holds_at_least_one_packet():
    out = io.BytesIO()
    writer = PcapWriter(None, stream=out, max_bytes=50)
    writer.start(HEADER)
    writer.write(record(0))  # bigger than the limit, alone in its file: kept
    with pytest.raises(LimitReached):
        writer.write(record(1))


def test_rotation_keeps_the_last_k_files_newest_under_the_name(tmp_path):
    path = str(tmp_path / "c.pcap")
    writer = PcapWriter(path, open_file=open_file, max_bytes=24 + 2 * 76, rotate=3)
    writer.start(HEADER)
    for i in range(9):  # 2 a file: 5 files made, the last 3 kept
        writer.write(record(i))
    writer.close()
    assert writer.files == [f"{path}.2", f"{path}.1", path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pcap", "c.pcap.1", "c.pcap.2"]
    got = [Framer().feed((tmp_path / name).read_bytes()) for name in ("c.pcap.2", "c.pcap.1", "c.pcap")]
    assert got == [[record(4), record(5)], [record(6), record(7)], [record(8)]]
    assert writer.packets == 9 and writer.rotations == 4


def test_rotation_needs_a_file_and_a_size():
    with pytest.raises(ValueError):
        PcapWriter(None, stream=io.BytesIO(), max_bytes=1000, rotate=2)
    with pytest.raises(ValueError):
        PcapWriter("x.pcap", open_file=open, rotate=2)
