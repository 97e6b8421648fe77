"""`vethctl capture`: live on a session or any interface, or from a pcap; text, json and ndjson."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from tests.support.cli import VETHCTL, vethctl


def pinger(netns: str, dst: str, count: int = 4, ident: int | None = None) -> subprocess.Popen:
    own = ["-e", str(ident)] if ident is not None else []
    return subprocess.Popen(
        ["ip", "netns", "exec", netns, "ping", "-n", *own, "-c", str(count), "-i", "0.2", dst],
        stdout=subprocess.DEVNULL,
    )


# the test's own echoes, by their ICMP identifier: on the shared pod's eth0 a stray ICMP unreachable, and
# once another ping's request, took the place of the last echo reply
IDENT = 0x5E11
ECHOES = f"(icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply) and icmp[4:2] == {IDENT}"


def start_capture(spawn, *args) -> subprocess.Popen:
    """A capture in a process group of its own (stopped with it when the test ends, whatever happened)."""
    proc = spawn([VETHCTL, "capture", *args])
    line = proc.stderr.readline()  # "capturing on ...": printed once tcpdump said it is listening
    assert line.startswith("capturing"), line + proc.stderr.read()
    return proc


def test_capture_an_interface_in_a_pod_with_count(lab, pod, spawn):
    proc = start_capture(
        spawn, "--iface", "eth0", "--netns", pod["netns"], "--filter", ECHOES, "--count", "4", "-o", "json"
    )
    ping = pinger(pod["netns"], lab["gateway"], ident=IDENT)
    out, err = proc.communicate(timeout=30)
    ping.wait()
    assert proc.returncode == 0, err
    r = json.loads(out)
    assert r["capture"]["stopped_by"] == "count" and len(r["capture"]["packets"]) == 4
    assert [p["icmp_type"] for p in r["capture"]["packets"]] == ["echo request", "echo reply"] * 2
    assert {p["src_ip"] for p in r["capture"]["packets"]} == {pod["ip"], lab["gateway"]}


def test_capture_for_a_duration_keeps_what_it_saw(lab, pod, spawn):
    proc = start_capture(
        spawn, "--iface", "eth0", "--netns", pod["netns"], "--filter", ECHOES, "--duration", "2", "-o", "json"
    )
    pinger(pod["netns"], lab["gateway"], count=2, ident=IDENT).wait()  # done well inside the 2 s
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    r = json.loads(out)
    assert r["capture"]["stopped_by"] == "duration" and len(r["capture"]["packets"]) == 4


def test_capture_a_session_live_in_text_then_ctrl_c(lab, pod, spawn):
    up = json.loads(vethctl("up", f"netns/{pod['netns']}", "-o", "json").stdout)
    try:
        proc = start_capture(spawn, up["session"])
        host_ip = up["host"]["address"].split("/")[0]
        ping = pinger(pod["netns"], host_ip, count=3)
        lines = [proc.stdout.readline() for _ in range(4)]  # ARP request, reply, echo request, echo reply
        ping.wait()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends Ctrl-C
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert lines[0].startswith("[    1] ") and "ARP request  who-has " + host_ip in lines[0]
        assert "ARP reply" in lines[1] and "echo request" in lines[2] and "echo reply" in lines[3]
        assert "stopped by Ctrl-C" in out
    finally:
        vethctl("down", up["session"])


def test_pcap_then_read_ndjson(lab, pod, tmp_path, spawn):
    pcap = tmp_path / "c.pcap"
    proc = start_capture(
        spawn, "--iface", "eth0", "--netns", pod["netns"], "--count", "6", "--pcap", str(pcap), "-o", "json"
    )
    ping = pinger(pod["netns"], lab["gateway"], count=3)
    live = json.loads(proc.communicate(timeout=30)[0])
    ping.wait()
    read = vethctl("capture", "--read", str(pcap), "-o", "ndjson").stdout.splitlines()
    records = [json.loads(line) for line in read]
    assert len(records) == len(live["capture"]["packets"]) == 6
    assert [r["timestamp"] for r in records] == [p["timestamp"] for p in live["capture"]["packets"]]
    icmp = vethctl("capture", "--read", str(pcap), "--filter", "icmp", "-o", "json").stdout
    assert all(p["protocol"] == "icmp" for p in json.loads(icmp)["capture"]["packets"])


def test_capture_refuses_bad_input():
    for args, code, needle in (
        (["--filter", "tcp port", "--iface", "lo"], 2, "does not compile"),
        (["--read", "/vt/absent.pcap"], 3, "no such file"),
        ([], 2, "exactly one of"),
        (["abc", "--iface", "lo"], 2, "exactly one of"),
        (["--netns", "x"], 2, "exactly one of"),
        (["--iface", "lo", "--duration", "0"], 2, "out of range"),
        (["deadbeef"], 3, "no session deadbeef"),
    ):
        proc = vethctl("capture", *args, check=False)
        assert proc.returncode == code and needle in proc.stderr, (args, proc.stderr)
