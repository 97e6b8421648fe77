"""Every bad input: one line naming the problem and the fix, the contract's exit code, and nothing changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.support.cli import VETHCTL, vethctl
from tests.support.netstate import snapshot

CASES = [
    # (args, exit code, what the message says)
    (["--host-if", "a-name-of-16-chr"], 2, "Linux allows 15"),
    (["--host-if", "has space"], 2, "not a valid interface name"),
    (["--pod-if", "a/b"], 2, "not a valid interface name"),
    (["--host-if", "cni0"], 2, "already exists on the node"),
    (["--pod-if", "eth0"], 2, "already exists in the pod"),
    (["--host-addr", "192.0.2.300/24"], 2, "is not an address"),
    (["--pod-addr", "192.0.2.100/33"], 2, "is not an address"),
    (["--pod-addr", "192.0.2.100"], 2, "has no prefix length"),
    (["--host-addr", "192.0.2.200/24", "--pod-addr", "198.51.100.100/24"], 2, "different subnets"),
    (["--pod-addr", "{podnet}.77/24"], 2, "overlaps {podnet}.0/24"),
    (["--pod-addr", "192.0.2.0/24"], 2, "network address"),
    (["--pod-addr", "192.0.2.255/24"], 2, "broadcast address"),
    (["--pod-addr", "192.0.2.9/32"], 2, "leaves no room"),
    (["--host-addr", "192.0.2.9/24", "--pod-addr", "192.0.2.9/24"], 2, "the same address"),
    (["--host-addr", "172.168.0.200/24", "--pod-addr", "172.168.0.100/24"], 2, "public address space"),
    (["--pod-addr", "8.8.8.1/24"], 2, "--allow-public"),
    (["--count", "0"], 2, "--count 0 is out of range"),
    (["--count", "-1"], 2, "out of range"),
    (["--count", "three"], 2, "not a whole number"),
    (["--interval", "0"], 2, "--interval 0 is out of range"),
    (["--interval", "61"], 2, "out of range"),
    (["--interval", "soon"], 2, "not a number"),
    (["--ping", "203.0.113"], 2, "is not an IP address"),
    (["--mtu", "10"], 2, "--mtu 10 is out of range"),
    (["--filter", "arp or"], 2, "does not compile"),
    (["--filter", "host 999.1.1.1"], 2, "does not compile"),
    (["--pcap", "{absent}/x.pcap"], 2, "does not exist"),
    (["--transcript", "{absent}/x.sh"], 2, "does not exist"),
    (["--via", "netns:vt-absent-node"], 3, "no network namespace named"),
    (["--via", "carrier-pigeon"], 2, "is not understood"),
    (["-n", "default"], 2, "apply to pod/ targets"),
]

TARGETS = [
    ("netns/vt-absent", 3, "no network namespace named 'vt-absent'"),
    ("pid/999999999", 3, "no process with pid"),
    ("pid/abc", 2, "is not a process id"),
    ("nspath//etc/hostname", 2, "is not a network namespace file"),
    ("nspath//vt/absent", 3, "does not exist"),
    ("bogus/x", 2, "unknown target kind"),
    ("ip/{podnet}.250", 3, "no network namespace on this node holds {podnet}.250"),
    ("ip/not-an-ip", 2, "is not an IP address"),
    ("netns/", 2, "names no netns"),
]


def _check(proc, code, needle):
    err = proc.stderr
    assert proc.returncode == code, err
    assert needle in err, err
    assert (
        len(err.strip().splitlines()) == 1 and err.startswith("vethctl: error: ") and "Traceback" not in err
    )


@pytest.mark.parametrize("args,code,needle", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_option(lab, pod, state, args, code, needle, tmp_path):
    podnet = pod["ip"].rsplit(".", 1)[0]
    absent = str(tmp_path / "absent")  # a directory that does not exist, whatever else this machine holds
    args = [a.replace("{podnet}", podnet).replace("{absent}", absent) for a in args]
    _check(
        vethctl("run", f"netns/{pod['netns']}", *args, check=False), code, needle.replace("{podnet}", podnet)
    )
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@pytest.mark.parametrize("target,code,needle", TARGETS, ids=[t[0] for t in TARGETS])
def test_bad_target(lab, pod, state, target, code, needle):
    podnet = pod["ip"].rsplit(".", 1)[0]
    _check(
        vethctl("run", target.replace("{podnet}", podnet), check=False),
        code,
        needle.replace("{podnet}", podnet),
    )
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_a_subnet_already_routed_on_the_node_is_refused(lab, pod, state):
    up = json.loads(vethctl("up", f"netns/{lab['pods'][1]['netns']}", "-o", "json").stdout)
    try:
        node_snapshot = snapshot(lab["node_netns"])
        used = up["host"]["address"].rsplit(".", 1)[0]
        _check(
            vethctl("run", f"netns/{pod['netns']}", "--pod-addr", f"{used}.50/24", check=False), 2, "overlaps"
        )
        assert snapshot(lab["node_netns"]) == node_snapshot and snapshot(pod["netns"]) == state["pod"]
    finally:
        vethctl("down", up["session"])


@pytest.mark.parametrize("missing", ["ip", "tcpdump", "ping"])
def test_a_missing_tool_is_exit_4_with_how_to_install(lab, pod, state, tmp_path, missing):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in {"ip", "tcpdump", "ping", "nsenter"} - {missing}:
        os.symlink(shutil.which(tool), bindir / tool)
    proc = vethctl("run", f"netns/{pod['netns']}", check=False, env={"PATH": str(bindir)})
    _check(proc, 4, f"{missing} is not installed")
    assert "apt-get install" in proc.stderr
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@pytest.mark.parametrize("drop", ["-net_admin", "-sys_admin"])
def test_root_without_the_capabilities_is_exit_4(lab, pod, state, drop):
    proc = subprocess.run(
        ["setpriv", f"--bounding-set={drop}", "--", VETHCTL, "run", f"netns/{pod['netns']}"],
        capture_output=True,
        text=True,
    )
    _check(proc, 4, f"needs root with CAP_{drop[1:].upper()}")
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_down_without_sessions_is_exit_2():
    _check(vethctl("down", check=False), 2, "name at least one session")
