"""Whatever tcpdump prints, plain or -v: captures of damaged frames (the frames of every fixture and corpus
pcap with bytes changed and ends cut, seeded) give exactly one record per packet under jc's defaults, and
the streaming parser no error object (issue 18: "no exception and no streaming failure")."""

import random
import subprocess

import jc
import pytest

import vethctl.parsers.tcpdump as tcpdump
import vethctl.parsers.tcpdump_s as tcpdump_s
from tests.fixtures.linux.make_pcaps import pcap
from tests.support import paths
from tests.support.pcapcheck import LINKTYPE_ETHERNET, RENDERINGS, read_pcap, run_tcpdump

SOURCES = sorted((paths.FIXTURES / "linux").glob("tcpdump-*.pcap"))
if paths.CORPUS.is_dir():
    SOURCES += sorted(paths.CORPUS.glob("*.pcap"))
FRAMES_PER_CAPTURE = 200


@pytest.fixture(scope="module")
def frames():
    out = []
    for path in SOURCES:
        linktype, packets = read_pcap(path)
        if linktype == LINKTYPE_ETHERNET:
            out += [(buf, length) for _, buf, length, _ in packets]
    return out


def damaged_capture(rng, frames, path):
    records, t = [], 1795680000.0
    for _ in range(FRAMES_PER_CAPTURE):
        buf, length = rng.choice(frames)
        frame = bytearray(buf)
        for _ in range(rng.randint(0, 6)):
            if frame:
                frame[rng.randrange(len(frame))] = rng.randrange(256)
        if rng.random() < 0.2 and len(frame) > 14:
            frame = frame[: rng.randrange(14, len(frame))]
        records.append((t, bytes(frame), max(len(frame), length if rng.random() < 0.5 else len(frame))))
        t += rng.random()
    path.write_bytes(pcap(records))
    return len(records)


@pytest.mark.parametrize("seed", range(4))
def test_damaged_frames_give_one_record_per_packet_and_no_error(seed, frames, tmp_path):
    if subprocess.run(["sh", "-c", "command -v tcpdump"], capture_output=True).returncode != 0:
        pytest.skip("tcpdump not installed")
    path = tmp_path / f"damaged-{seed}.pcap"
    packets = damaged_capture(random.Random(seed), frames, path)
    for rendering in RENDERINGS:
        text = run_tcpdump(path, rendering)
        assert len(jc.parse(tcpdump, text)) == packets, rendering
        streamed = list(jc.parse(tcpdump_s, text.splitlines(), ignore_exceptions=True))
        assert [r for r in streamed if not r["_jc_meta"]["success"]] == [], rendering
        assert len(streamed) == packets, rendering
