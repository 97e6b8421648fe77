"""Whatever tcpdump prints, plain or -v, with -e or without: captures of damaged frames (the frames of every
fixture and corpus pcap with bytes changed and ends cut, also re-framed for other link types: raw IP, BSD
loopback, Linux cooked, PPP, 802.11 with and without radiotap; seeded) give exactly one record per packet
under jc's defaults, and the streaming parser no error object (issue 18: "no exception and no streaming
failure"). It found what the fixtures had not: a time alone on its line (an 802.11 frame without -e)."""

import random
import struct
import subprocess

import jc
import pytest

import vethctl.parsers.tcpdump as tcpdump
import vethctl.parsers.tcpdump_s as tcpdump_s
from tests.support import paths
from tests.support.pcapcheck import LINKTYPE_ETHERNET, read_pcap

SOURCES = sorted((paths.FIXTURES / "linux").glob("tcpdump-*.pcap"))
if paths.CORPUS.is_dir():
    SOURCES += sorted(paths.CORPUS.glob("*.pcap"))
FRAMES_PER_CAPTURE = 150
# link type -> the header put before an IPv4/IPv6 packet (ethertype given)
LINK_HEADERS = {
    101: lambda et, rng: b"",  # raw IP
    0: lambda et, rng: struct.pack("<I", 2 if et == 0x0800 else 24),  # BSD loopback
    113: lambda et, rng: struct.pack("!HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", et),  # Linux cooked v1
    9: lambda et, rng: b"\xff\x03" + struct.pack("!H", 0x21 if et == 0x0800 else 0x57),  # PPP
    105: lambda et, rng: rng.randbytes(rng.randrange(10, 40)),  # 802.11
    127: lambda et, rng: rng.randbytes(rng.randrange(8, 40)),  # radiotap
}
RENDERINGS = {"plain": ["-nn", "-tt", "-e"], "verbose": ["-nn", "-tt", "-e", "-v"], "no -e": ["-nn", "-tt"]}

needs_tcpdump = pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v tcpdump"], capture_output=True).returncode != 0,
    reason="tcpdump not installed",
)


@pytest.fixture(scope="module")
def frames():
    out = []
    for path in SOURCES:
        linktype, packets = read_pcap(path)
        if linktype == LINKTYPE_ETHERNET:
            out += [buf for _, buf, _, _ in packets if len(buf) > 14]
    return out


def damaged_capture(rng, frames, linktype):
    """a pcap (bytes) of FRAMES_PER_CAPTURE damaged frames of `linktype`"""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for i in range(FRAMES_PER_CAPTURE):
        frame = rng.choice(frames)
        if linktype != LINKTYPE_ETHERNET:
            (et,) = struct.unpack("!H", frame[12:14])
            frame = LINK_HEADERS[linktype](et, rng) + frame[14:]
        frame = bytearray(frame)
        for _ in range(rng.randint(0, 6)):
            frame[rng.randrange(len(frame))] = rng.randrange(256)
        length = len(frame)
        if rng.random() < 0.2 and len(frame) > 14:
            frame = frame[: rng.randrange(14, len(frame))]
        out.append(struct.pack("<IIII", 1795680000 + i, rng.randrange(1000000), len(frame), length) + frame)
    return b"".join(out)


@needs_tcpdump
@pytest.mark.parametrize("linktype", [LINKTYPE_ETHERNET, *LINK_HEADERS])
@pytest.mark.parametrize("seed", range(2))
def test_damaged_frames_give_one_record_per_packet_and_no_error(seed, linktype, frames, tmp_path):
    path = tmp_path / f"damaged-{linktype}-{seed}.pcap"
    path.write_bytes(damaged_capture(random.Random(seed * 1000 + linktype), frames, linktype))
    for rendering, options in RENDERINGS.items():
        text = subprocess.run(
            ["tcpdump", "-r", str(path), *options],
            capture_output=True,
            text=True,
            errors="replace",
            check=True,
        ).stdout
        assert len(jc.parse(tcpdump, text)) == FRAMES_PER_CAPTURE, rendering
        streamed = list(jc.parse(tcpdump_s, text.splitlines(), ignore_exceptions=True))
        assert [r for r in streamed if not r["_jc_meta"]["success"]] == [], rendering
        assert len(streamed) == FRAMES_PER_CAPTURE, rendering
