"""`capture --pcap -` and the production limits: the raw pcap stream on stdout, read live by real readers
(tshark, `tcpdump -r -`) from a pipe while the capture runs; Ctrl-C and a reader that goes away leave whole
packets behind; --snaplen, --max-size, --rotate, --count and --duration end or shape the capture, and the
report says which limit ended it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import VETHCTL, vethctl
from tests.support.kubeapi import serve
from tests.support.netstate import snapshot
from vethctl.pcap import Framer

needs_tshark = pytest.mark.skipif(
    shutil.which("tshark") is None, reason="tshark is not installed: make install"
)


def ping(pod: dict, dst: str, count: int = 1, interval: str = "0.2") -> None:
    subprocess.run(
        ["ip", "netns", "exec", pod["netns"], "ping", "-n", "-c", str(count), "-i", interval, dst],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start(*args: str) -> subprocess.Popen:
    """vethctl capture ARGS in a process group of its own (a terminal's Ctrl-C goes to the whole group),
    once it says tcpdump listens."""
    proc = subprocess.Popen(
        [VETHCTL, "capture", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    line = proc.stderr.readline().decode()
    assert "capturing on" in line or "capturing in" in line, line + proc.stderr.read().decode()
    return proc


def whole_packets(data: bytes) -> list[bytes]:
    """The records of a pcap stream, asserting it is whole: a header, then whole records, nothing cut."""
    framer = Framer()
    records = framer.feed(data)
    assert framer.header is not None and framer.pending == 0, f"{framer.pending} bytes of a cut record"
    return records


def read_with_tcpdump(path) -> list[str]:
    proc = subprocess.run(["tcpdump", "-r", str(path), "-nn"], capture_output=True, text=True)
    assert proc.returncode == 0 and "truncated" not in proc.stderr, proc.stderr
    return proc.stdout.splitlines()


def stream_through(reader: list[str], lab, pod) -> tuple[list[str], subprocess.Popen]:
    """`vethctl capture POD --pcap - | READER`: each ping's request and reply are read by the reader while
    the capture still runs (read from its stdout, vethctl not ended); then Ctrl-C."""
    cap = start(f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", "-")
    rd = subprocess.Popen(
        reader, stdin=cap.stdout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    cap.stdout.close()
    lines = []
    try:
        for _ in range(2):
            ping(pod, lab["gateway"])
            lines += [rd.stdout.readline(), rd.stdout.readline()]
            assert cap.poll() is None  # read live: the capture is still running
    finally:
        os.killpg(cap.pid, signal.SIGINT)
        err = cap.stderr.read().decode()
        assert cap.wait(30) == 0, err
        rest, _ = rd.communicate(timeout=30)
    assert rd.returncode == 0 and rest == ""
    assert "stopped by Ctrl-C; pcap stream on stdout (4 packet(s)" in err, err
    return lines, cap


@needs_tshark
def test_tshark_reads_the_stream_live_from_a_pipe(lab, pod, state):
    lines, _ = stream_through(
        ["tshark", "-l", "-r", "-", "-T", "fields", "-e", "icmp.type", "-e", "icmp.seq"], lab, pod
    )
    assert [line.split() for line in lines] == [["8", "1"], ["0", "1"], ["8", "1"], ["0", "1"]]
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@needs_tshark
def test_tshark_as_a_live_pipe_interface(lab, pod):
    """`| wireshark -k -i -` reads the pipe as a capture interface (dumpcap): tshark -i - is the same."""
    lines, _ = stream_through(
        ["tshark", "-l", "-i", "-", "-T", "fields", "-e", "ip.src", "-e", "icmp.type"], lab, pod
    )
    assert [line.split() for line in lines] == [[pod["ip"], "8"], [lab["gateway"], "0"]] * 2


def test_tcpdump_reads_the_stream_live_from_a_pipe(lab, pod):
    lines, _ = stream_through(["tcpdump", "-l", "-r", "-", "-nn"], lab, pod)
    assert [("echo request" in line, "echo reply" in line) for line in lines] == [
        (True, False),
        (False, True),
    ] * 2
    assert all(f"{pod['ip']} > {lab['gateway']}" in line for line in lines[::2])


def test_ctrl_c_leaves_whole_packets_behind_the_pipe(lab, pod, tmp_path):
    """The terminal's Ctrl-C reaches vethctl and its tcpdump at once: what came out is a valid pcap, every
    packet whole, as many as the summary says, and tcpdump reads it without a truncation error."""
    cap = start(f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", "-")
    ping(pod, lab["gateway"], count=5, interval="0.05")
    # Ctrl-C once the ten packets came out of the pipe: tcpdump ends at SIGINT without reading what the
    # kernel still holds, so a Ctrl-C right after the traffic (under load) may come before the last one
    framer, head, seen = Framer(), b"", 0
    while seen < 10:
        chunk = os.read(cap.stdout.fileno(), 65536)
        assert chunk, f"the stream ended after {seen} packets"
        head += chunk
        seen += len(framer.feed(chunk))
    os.killpg(cap.pid, signal.SIGINT)
    rest, err = cap.communicate(timeout=30)
    out = head + rest
    assert cap.returncode == 0, err
    records = whole_packets(out)
    assert len(records) == 10 and "stopped by Ctrl-C" in err.decode()
    assert "pcap stream on stdout (10 packet(s)" in err.decode()
    (tmp_path / "c.pcap").write_bytes(out)
    assert len(read_with_tcpdump(tmp_path / "c.pcap")) == 10


def test_a_reader_that_goes_away_ends_the_capture(lab, pod):
    cap = start(f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", "-")
    ping(pod, lab["gateway"])
    assert len(cap.stdout.read(100)) == 100  # as `| head -c 100` reads, then goes away
    cap.stdout.close()
    ping(pod, lab["gateway"], count=3, interval="0.05")  # the next packets meet a closed pipe
    err = cap.stderr.read().decode()
    assert cap.wait(30) == 0, err
    assert "stopped by stdout closed" in err and "Traceback" not in err


def test_ndjson_and_json_with_the_stream_on_stdout_are_refused(lab, pod, state):
    for args, needle in (
        (["-o", "ndjson"], "-o ndjson would write there too"),
        (["-o", "json"], "-o json would write there too"),
        (["--rotate", "3", "--max-size", "1"], "--rotate turns files over"),
    ):
        proc = vethctl("capture", f"netns/{pod['netns']}", "--pcap", "-", *args, check=False)
        assert proc.returncode == 2 and needle in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_limits_are_validated(lab, pod, tmp_path):
    target = f"netns/{pod['netns']}"
    pcap = str(tmp_path / "x.pcap")
    for args, needle in (
        (["--snaplen", "0"], "--snaplen 0 is out of range"),
        (["--snaplen", "300000"], "--snaplen 300000 is out of range"),
        (["--max-size", "1"], "--max-size limits the pcap"),
        (["--pcap", pcap, "--max-size", "0"], "--max-size 0 is out of range"),
        (["--pcap", pcap, "--max-size", "-1"], "--max-size -1 is out of range"),
        (["--pcap", pcap, "--rotate", "3"], "--rotate turns files over"),
        (["--pcap", pcap, "--max-size", "1", "--rotate", "1"], "--rotate 1 is out of range"),
        (["--pcap", pcap, "--max-size", "lots"], "not a number"),
        (["--read", pcap, "--snaplen", "96"], "--read replays a file"),
    ):
        proc = vethctl("capture", *([] if "--read" in args else [target]), *args, check=False)
        assert proc.returncode == 2 and needle in proc.stderr, (args, proc.stderr)
    assert not os.path.exists(pcap)


def test_max_size_stops_the_capture_with_whole_packets(lab, pod, tmp_path):
    pcap = tmp_path / "small.pcap"
    cap = start(
        f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", str(pcap), "--max-size", "0.001", "-o", "json"
    )
    ping(pod, lab["gateway"], count=10, interval="0.05")  # 20 packets of 114 bytes: more than 1000 bytes
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["stopped_by"] == "max-size" and r["max_size_mb"] == 0.001
    data = pcap.read_bytes()
    assert len(data) <= 1000 and len(data) + 114 > 1000  # full, as far as whole packets go
    assert len(whole_packets(data)) == r["pcap_packets"] == len(read_with_tcpdump(pcap)) == 8


def test_rotate_keeps_the_last_files(lab, pod, tmp_path):
    pcap = tmp_path / "ring.pcap"
    args = ["--filter", "icmp", "--pcap", str(pcap), "--max-size", "0.001", "--rotate", "3", "--count", "40"]
    cap = start(f"netns/{pod['netns']}", *args, "-o", "json")
    ping(pod, lab["gateway"], count=20, interval="0.05")
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["stopped_by"] == "count" and r["pcap_packets"] == 40
    names = [f"{pcap}.2", f"{pcap}.1", str(pcap)]
    assert r["files"] == names and sorted(os.listdir(tmp_path)) == sorted(os.path.basename(n) for n in names)
    seqs = []
    for name in names:  # each whole and within the size; oldest first, the newest last
        data = Path(name).read_bytes()
        assert len(data) <= 1000
        seqs += [
            struct.unpack("!H", rec[16 + 14 + 20 + 6 : 16 + 14 + 20 + 8])[0] for rec in whole_packets(data)
        ]
    assert seqs == sorted(seqs) and seqs[-1] == 20  # the last packets are kept, in order


@needs_tshark
def test_snaplen_keeps_headers_only(lab, pod, tmp_path):
    pcap = tmp_path / "headers.pcap"
    cap = start(
        f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", str(pcap), "--snaplen", "42", "--count", "2"
    )
    ping(pod, lab["gateway"])
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    assert "the first 42 bytes of each packet only" in out.decode()
    records = whole_packets(pcap.read_bytes())
    assert [struct.unpack("<IIII", r[:16])[2:] for r in records] == [(42, 98), (42, 98)]  # kept, on the wire
    fields = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "ip.src", "-e", "frame.cap_len"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert fields == [pod["ip"], "42", lab["gateway"], "42"]


def test_duration_ends_a_stream(lab, pod, tmp_path):
    pcap = tmp_path / "d.pcap"
    cap = start(
        f"netns/{pod['netns']}", "--filter", "icmp", "--pcap", str(pcap), "--duration", "1.5", "-o", "json"
    )
    ping(pod, lab["gateway"], count=2)
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["stopped_by"] == "duration" and len(r["packets"]) == r["pcap_packets"] == 4
    assert len(read_with_tcpdump(pcap)) == 4


@needs_tshark
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_a_selector_streams_every_pod_into_one_pcap(kube_api, lab):  # noqa: F811
    a, b = lab["pods"]
    for name, p in (("db-0", a), ("db-1", b)):
        serve(kube_api, "pod-running.json", name=name, namespace="shop", node=lab["name"], ip=p["ip"])
        kube_api.pods[("shop", name)]["metadata"]["labels"] = {"app": "db"}
    cap = start("-l", "app=db", "-n", "shop", "--filter", "icmp", "--count", "2", "--pcap", "-")
    ping(a, b["ip"])
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    assert len(whole_packets(out)) == 4
    seen = subprocess.run(
        ["tshark", "-r", "-", "-T", "fields", "-e", "ip.src", "-e", "icmp.type"],
        input=out,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert sorted(seen.split("\n")[:4]) == sorted(
        [f"{a['ip']}\t8", f"{a['ip']}\t8", f"{b['ip']}\t0", f"{b['ip']}\t0"]
    )
