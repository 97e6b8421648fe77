"""Remote captures come home: with --via ssh://, the pcap stream and --pcap FILE come back over ssh's channel,
so the file is on this machine and nothing is left on the ssh host (which has a /tmp of its own here, see
tests/support/sshd.py); `run --pcap` over ssh too; the stream read live by tcpdump and tshark from a pipe on
this machine while the capture runs over there; Ctrl-C and --max-size stop the far tcpdump."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import replays
from tests.support.cli import VETHCTL
from tests.support.netstate import snapshot
from vethctl.pcap import Framer


def ping(pod: dict, dst: str, count: int = 2, interval: str = "0.2") -> None:
    subprocess.run(
        ["ip", "netns", "exec", pod["netns"], "ping", "-n", "-c", str(count), "-i", interval, dst],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start_over_ssh(sshd, *args: str) -> subprocess.Popen:
    """vethctl capture ARGS --via SSH, run on the client side of the connection, in a process group of its
    own, once tcpdump over there listens."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", sshd.netns, VETHCTL, "capture", *args, "--via", sshd.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **sshd.env()},
        start_new_session=True,
    )
    line = proc.stderr.readline().decode()
    assert "capturing on" in line, line + proc.stderr.read().decode()
    return proc


def whole(data: bytes) -> list[bytes]:
    framer = Framer()
    records = framer.feed(data)
    assert framer.header is not None and framer.pending == 0
    return records


def tcpdump_left(netns: str) -> list[int]:
    """Processes still capturing in that namespace (the far end of a stream that should have ended)."""
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tcpdump" in argv and netns.encode() in argv and b"-w" in argv:
            left.append(int(pid))
    return left


def test_pcap_file_over_ssh_lands_here_and_nothing_is_left_there(sshd, lab, pod, state, tmp_path):  # noqa: F811
    pcap = tmp_path / "home.pcap"
    cap = start_over_ssh(
        sshd, f"netns/{pod['netns']}", "--filter", "icmp", "--count", "4", "--pcap", str(pcap), "-o", "json"
    )
    ping(pod, lab["gateway"])
    out, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert (
        r["pcap"] == str(pcap)
        and r["pcap_packets"] == 4
        and r["node"] == f"netns {lab['node_netns']} on {sshd.url}"
    )
    assert len(whole(pcap.read_bytes())) == 4 and len(r["packets"]) == 4
    assert sshd.remote_tmp() == []  # nothing written over there: not the pcap, not a temporary file
    streamed = [c for c in json.loads(out)["commands"] if c["argv"][-5:] == ["-U", "-w", "-", "--", "icmp"]]
    assert streamed and streamed[0]["argv"][:4] == ["ip", "netns", "exec", pod["netns"]]
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@pytest.mark.parametrize(
    "reader",
    [
        ["tcpdump", "-l", "-r", "-", "-nn"],
        ["tshark", "-l", "-r", "-", "-T", "fields", "-e", "ip.src", "-e", "icmp.type"],
    ],
    ids=["tcpdump", "tshark"],
)
def test_the_stream_over_ssh_is_read_live_from_a_pipe(sshd, lab, pod, reader):  # noqa: F811
    if shutil.which(reader[0]) is None:
        pytest.skip(f"{reader[0]} is not installed: make install")
    cap = start_over_ssh(sshd, f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", "-")
    rd = subprocess.Popen(
        reader, stdin=cap.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    cap.stdout.close()
    try:
        ping(pod, lab["gateway"], count=1)
        lines = [rd.stdout.readline(), rd.stdout.readline()]
        assert cap.poll() is None  # read while the capture runs over there
    finally:
        os.killpg(cap.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole process group
        err = cap.stderr.read().decode()
        assert cap.wait(60) == 0, err
        rd.communicate(timeout=30)
    if reader[0] == "tcpdump":
        assert "echo request" in lines[0] and "echo reply" in lines[1]
    else:
        assert [line.split() for line in lines] == [[pod["ip"], "8"], [lab["gateway"], "0"]]
    assert "stopped by Ctrl-C" in err and "pcap stream on stdout (2 packet(s)" in err
    assert tcpdump_left(pod["netns"]) == []  # the far tcpdump was stopped, not left behind


def test_max_size_over_ssh_stops_the_far_capture(sshd, lab, pod, tmp_path):  # noqa: F811
    pcap = tmp_path / "cap.pcap"
    cap = start_over_ssh(
        sshd,
        f"netns/{pod['netns']}",
        "--filter",
        "icmp",
        "--pcap",
        str(pcap),
        "--max-size",
        "0.001",
        "-o",
        "json",
    )
    ping(pod, lab["gateway"], count=10, interval="0.05")
    out, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["stopped_by"] == "max-size" and len(whole(pcap.read_bytes())) == r["pcap_packets"] == 8
    assert tcpdump_left(pod["netns"]) == [] and sshd.remote_tmp() == []


def test_run_pcap_over_ssh_comes_home(sshd, lab, pod, state, tmp_path):  # noqa: F811
    pcap = tmp_path / "run.pcap"
    r = json.loads(
        sshd.vethctl(
            "run", f"netns/{pod['netns']}", "--via", sshd.url, "--pcap", str(pcap), "-o", "json"
        ).stdout
    )
    assert r["capture"]["pcap"] == str(pcap) and r["teardown"]["done"]
    assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) == 3
    text = subprocess.run(
        ["tcpdump", "-r", str(pcap), "-nn"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count("ARP, Request who-has") == 3
    assert [f for f in sshd.remote_tmp() if f.endswith(".pcap")] == []
    assert str(pcap) not in " ".join(sshd.remote_tmp())
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_the_transcript_of_a_remote_run_writes_the_pcap_where_it_is_replayed(sshd, lab, pod, state, tmp_path):  # noqa: F811
    """The transcript holds the commands to run on the node; the stream's file is written by `tee` there and
    printed by `tcpdump -r -`, as vethctl did over ssh. Replayed here (the lab node is a namespace of this
    machine), it leaves the same file and removes what it made."""
    script, pcap = tmp_path / "t.sh", tmp_path / "replayed.pcap"
    sshd.vethctl(
        "run", f"netns/{pod['netns']}", "--via", sshd.url, "--pcap", str(pcap), "--transcript", str(script)
    )
    pcap.unlink()
    text = script.read_text()
    assert f"-U -w - -- 'arp or icmp' 2>&1 > >(tee {pcap} | tcpdump -r - -nn -tt -e -l >&4))" in text
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.count("Request who-has 192.0.2.101") == 3
    assert len(whole(pcap.read_bytes())) == 3
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
