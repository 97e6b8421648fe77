"""capture's checks before anything runs: which word is a session, which a target; the limits and the
options that cannot go together, each refused with exit 2 and what to do instead."""

from __future__ import annotations

import pytest

from vethctl.errors import BadInput
from vethctl.scenarios.capture import CaptureOptions, split_positional, validate


@pytest.mark.parametrize(
    "word,expected",
    [
        ("1a2b3c4d", ("1a2b3c4d", None)),
        ("pod/web-0", (None, "pod/web-0")),
        ("web-0", (None, "web-0")),  # a bare name is a pod, as everywhere
        ("1A2B3C4D", (None, "1A2B3C4D")),  # session ids are lower-case hex
        ("1a2b3c4d5", (None, "1a2b3c4d5")),
        (None, (None, None)),
    ],
)
def test_a_session_id_or_a_target(word, expected):
    assert split_positional(word) == expected


@pytest.mark.parametrize(
    "opts,needle",
    [
        (CaptureOptions(target="pod/a", iface="eth0"), "exactly one of TARGET"),
        (CaptureOptions(iface="eth0", side="host"), "--side goes with a TARGET"),
        (CaptureOptions(target="pod/a", side="node"), "--side 'node' is not pod or host"),
        (CaptureOptions(target="pod/a", snaplen=0), "--snaplen 0"),
        (CaptureOptions(target="pod/a", max_size=5), "--max-size limits the pcap"),
        (CaptureOptions(target="pod/a", pcap="-", max_size=0.0001), "out of range"),
        (CaptureOptions(target="pod/a", pcap="-", max_size=5, rotate=3), "--rotate turns files over"),
        (CaptureOptions(target="pod/a", pcap="-", output="ndjson"), "-o ndjson would write there too"),
        (CaptureOptions(target="pod/a", pcap="-", output="json"), "-o json would write there too"),
    ],
)
def test_refused_before_anything_runs(opts, needle):
    with pytest.raises(BadInput) as err:
        validate(opts)
    assert needle in err.value.message and err.value.hint


def test_where_the_stream_goes(tmp_path):
    opts = CaptureOptions(target="pod/a", pcap=str(tmp_path / "x.pcap"), max_size=2.5, rotate=4)
    validate(opts)
    home = opts.home
    assert (home.path, home.max_bytes, home.rotate, home.to_stdout) == (
        str(tmp_path / "x.pcap"),
        2_500_000,
        4,
        False,
    )
    assert CaptureOptions(target="pod/a", pcap="-").home.to_stdout
    assert CaptureOptions(target="pod/a").home is None
