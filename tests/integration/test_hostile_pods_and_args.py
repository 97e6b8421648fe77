"""A pod, a cluster answer or an argument cannot make root's vethctl act for it (issue 17, "Pods and
arguments"): each attack of the security review, reproduced between namespaces the tests made."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from tests.support.cli import VETHCTL, hook, vethctl

# vethctl under a parent that says the largest resident size of what it ran (vethctl, and what it waited for)
_MEASURED = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr)\n"
    "print(f'maxrss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(p.returncode)\n"
)


def measured(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, int]:
    """vethctl ARGS, and the most memory it (or a command it waited for) held, in MiB."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, VETHCTL, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=180,
    )
    kib = int(proc.stderr.rsplit("maxrss_kib=", 1)[1])
    return proc, kib // 1024


def ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


# -- 6. an address held twice --------------------------------------------------------------------------


def test_an_address_another_pod_took_is_refused_naming_both(scratch_lab):
    """A pod with NET_ADMIN adds another pod's address to its eth0 and announces it (gratuitous ARP: the
    node's neighbour entry now says its MAC). ip/ must not choose it."""
    victim, thief = scratch_lab["pods"]
    node = scratch_lab["node_netns"]
    ip("addr", "add", f"{victim['ip']}/32", "dev", "eth0", netns=thief["netns"])
    mac = json.loads(ip("-j", "link", "show", "dev", "eth0", netns=thief["netns"]).stdout)[0]["address"]
    ip("neigh", "replace", victim["ip"], "lladdr", mac, "dev", "cni0", netns=node)
    for command in (["find"], ["run", "--count", "1", "--interval", "0.2"]):
        proc = vethctl(command[0], f"ip/{victim['ip']}", *command[1:], check=False)
        assert proc.returncode == 3, proc.stdout
        assert victim["netns"] in proc.stderr and thief["netns"] in proc.stderr
        assert "held by 2 network namespaces" in proc.stderr
    ip("addr", "del", f"{victim['ip']}/32", "dev", "eth0", netns=thief["netns"])
    ip("neigh", "del", victim["ip"], "dev", "cni0", netns=node)
    r = json.loads(vethctl("find", f"ip/{victim['ip']}", "-o", "json").stdout)
    assert r["netns"] == victim["netns"]


# -- 7. ssh option injection -----------------------------------------------------------------------------


def test_an_ssh_url_cannot_carry_options(tmp_path):
    """The review's `--via 'ssh://-oProxyCommand=...@node1'` ran its command as root. (ProxyCommand runs
    locally: here it would only touch a file in this test's own directory; nothing connects anywhere.)"""
    for url in ("ssh://-oProxyCommand=touch${IFS}PWNED;exit${IFS}1@node1", "ssh://root@-oProxyCommand=touch"):
        proc = vethctl("--via", url, "status", check=False, cwd=tmp_path)
        assert not (tmp_path / "PWNED").exists(), "an option in --via ran a command"
        assert proc.returncode == 2, proc.stderr


# -- 8. a command planted in a transcript ------------------------------------------------------------------


def test_a_scope_id_cannot_plant_a_command_in_a_transcript(pod, tmp_path):
    script = tmp_path / "t.sh"
    proc = vethctl(
        "run",
        f"netns/{pod['netns']}",
        "--ping",
        "fe80::1%x\ntouch PWNED #",
        "--transcript",
        str(script),
        "--dry-run",
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "scope id" in proc.stderr
    assert not script.exists() or not any(
        line.startswith("touch") for line in script.read_text().splitlines()
    )


# -- 9. tcpdump option injection --------------------------------------------------------------------------


def test_a_filter_cannot_be_tcpdump_options(pod, tmp_path):
    """`--filter=-V/root/secret` printed the file's first line; `--filter=-w/path` wrote a file."""
    secret = tmp_path / "secret"
    secret.write_text("SECRET-FIRST-LINE\n")
    proc = vethctl("run", f"netns/{pod['netns']}", f"--filter=-V{secret}", "--count", "1", check=False)
    assert proc.returncode == 2 and "SECRET-FIRST-LINE" not in proc.stderr + proc.stdout
    written = tmp_path / "written.pcap"
    proc = vethctl(
        "capture",
        "--iface",
        "eth0",
        "--netns",
        pod["netns"],
        "--duration",
        "1",
        f"--filter=-w{written}",
        check=False,
    )
    assert proc.returncode == 2 and not written.exists()


# -- 10. memory ----------------------------------------------------------------------------------------------


def test_a_flooding_pod_cannot_fill_vethctl_s_memory(scratch_lab):
    """A ping flood from the pod through the new pair during a run (started by the fault-injection seam just
    before the probe): the report keeps a bounded number of packets and counts the rest."""
    pod = scratch_lab["pods"][0]["netns"]
    flood = ["sh", "-c", f"ip netns exec {pod} ping -f -q -w 4 192.0.2.200 >/dev/null 2>&1 &"]
    proc, mib = measured(
        "run",
        f"netns/{pod}",
        "--host-addr",
        "192.0.2.200/24",
        "--pod-addr",
        "192.0.2.100/24",
        "--count",
        "3",
        "--interval",
        "1",
        "-o",
        "json",
        env=hook("probe:0", flood),
    )
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    cap = r["capture"]
    assert len(cap["packets"]) <= 10_000
    assert cap["packets_not_kept"] > 0, "the flood was too small to test the bound"
    assert len(cap["packets"]) + cap["packets_not_kept"] >= cap["counters"]["captured"] - 10
    assert mib < 150, f"vethctl held {mib} MiB"


def test_a_pod_with_huge_routing_table_is_refused_within_bounds(scratch_lab):
    """300k routes in a pod took `find` to 227 MB: what a command prints is read up to a bound."""
    pod = scratch_lab["pods"][1]["netns"]
    routes = "".join(
        f"route add 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32 dev eth0\n" for i in range(300_000)
    )
    subprocess.run(["ip", "-n", pod, "-batch", "-"], input=routes, text=True, check=True)
    proc, mib = measured("find", f"netns/{pod}")
    assert proc.returncode == 1 and "MiB: stopped" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert mib < 150, f"vethctl held {mib} MiB"


# -- 11. control characters ----------------------------------------------------------------------------------


def test_control_characters_in_names_are_shown_escaped(scratch_lab):
    pod = scratch_lab["pods"][1]["netns"]
    for name, addr in (("e\x01x", "10.250.1.1/24"), ("e\u009bx", "10.250.2.1/24")):
        ip("link", "add", name, "type", "veth", "peer", "name", f"p{secrets.token_hex(3)}", netns=pod)
        ip("link", "set", name, "up", netns=pod)
        ip("addr", "add", addr, "dev", name, netns=pod)
    out = vethctl("routes", f"netns/{pod}").stdout
    assert "\x01" not in out and "\u009b" not in out and "\x9b" not in out.encode().decode("latin-1")
    assert "dev e\\x01x" in out and "dev e\\x9bx" in out
    run = vethctl("run", f"netns/{pod}", "--count", "1", "--interval", "0.2")
    assert "Traceback" not in run.stderr and "\x01" not in run.stdout and "e\\x01x" in run.stdout


# -- 12. lab down ------------------------------------------------------------------------------------------


def test_lab_down_removes_only_what_the_lab_recorded(scratch_lab):
    """A namespace plugged into the lab node that the lab did not make (the shape of a real pod's
    `cni-...`, attached with `up --via netns:LAB`) survives `lab down`."""
    stranger = f"cni-vt-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", stranger], check=True)
    try:
        host_if = f"vt-s{secrets.token_hex(3)}"
        ip(
            "link",
            "add",
            host_if,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            stranger,
            netns=scratch_lab["node_netns"],
        )
        r = json.loads(vethctl("lab", "down", "--name", scratch_lab["name"], "-o", "json").stdout)
        assert stranger not in r["removed"]
        assert os.path.exists(f"/var/run/netns/{stranger}")
        assert all(not os.path.exists(f"/var/run/netns/{p['netns']}") for p in scratch_lab["pods"])
    finally:
        subprocess.run(["ip", "netns", "del", stranger], check=False)
