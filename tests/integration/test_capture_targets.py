"""`vethctl capture TARGET`: every target kind, captured on the pod's eth0 from inside its namespace or, with
`--side host`, on its host-side veth on the node; nothing attached, nothing changed in the pod or the node."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from tests.support.cli import ROOT, VETHCTL, vethctl
from tests.support.kubeapi import serve
from tests.support.netstate import snapshot


def capture_while_pinging(args: list[str], pod: dict, gateway: str, env: dict | None = None) -> dict:
    """`vethctl capture ARGS --filter icmp --count 4 -o json` while the pod pings its gateway twice: the
    capture's JSON, once tcpdump said it listens (its 'capturing on' line) and the four packets came."""
    proc = subprocess.Popen(
        [VETHCTL, "capture", *args, "--filter", "icmp", "--count", "4", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = proc.stderr.readline()
    if "capturing on" not in line:
        out, err = proc.communicate(timeout=30)
        raise AssertionError(f"vethctl capture {args}: {line}{err}")
    subprocess.run(
        ["ip", "netns", "exec", pod["netns"], "ping", "-n", "-c", "2", "-i", "0.2", gateway],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return json.loads(out)


def assert_pings_seen(r: dict, pod: dict, gateway: str) -> None:
    packets = r["capture"]["packets"]
    assert [p["icmp_type"] for p in packets] == ["echo request", "echo reply"] * 2
    assert {(p["src_ip"], p["dst_ip"]) for p in packets} == {(pod["ip"], gateway), (gateway, pod["ip"])}
    assert r["capture"]["stopped_by"] == "count"


def assert_nothing_attached(r: dict) -> None:
    """No command of the capture changed anything: only looks, the capture itself, no `ip link add`."""
    assert not any(
        c["argv"][:1] == ["ip"] and ("add" in c["argv"] or "del" in c["argv"]) for c in r["commands"]
    )


@pytest.mark.parametrize("kind", ["netns", "nspath", "ip"])
def test_capture_a_target_on_its_eth0_from_inside(lab, pod, state, kind):
    target = {
        "netns": f"netns/{pod['netns']}",
        "nspath": f"nspath//var/run/netns/{pod['netns']}",
        "ip": f"ip/{pod['ip']}",
    }[kind]
    r = capture_while_pinging([target], pod, lab["gateway"])
    cap = r["capture"]
    assert (cap["interface"], cap["side"], cap["target"]["kind"]) == ("eth0", "pod", kind)
    assert cap["netns"] == pod["netns"]  # a file under /var/run/netns is that name's namespace
    assert (
        cap["target"]["host_veth"] in (pod["host_veth"], None) and cap["node"] == f"netns {lab['node_netns']}"
    )
    assert_pings_seen(r, pod, lab["gateway"])
    capture_cmd = next(c for c in r["commands"] if "tcpdump" in c["argv"] and "-i" in c["argv"])
    assert capture_cmd["argv"][capture_cmd["argv"].index("-i") + 1] == "eth0"
    assert_nothing_attached(r)
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_capture_a_pid_on_the_host_side(lab, pod, state):
    holder = subprocess.Popen(["ip", "netns", "exec", pod["netns"], "sleep", "120"])
    try:
        r = capture_while_pinging([f"pid/{holder.pid}", "--side", "host"], pod, lab["gateway"])
    finally:
        holder.kill()
        holder.wait()
    cap = r["capture"]
    assert (cap["interface"], cap["side"], cap["netns"]) == (pod["host_veth"], "host", None)
    assert cap["target"]["pid"] == holder.pid
    assert_pings_seen(r, pod, lab["gateway"])
    capture_cmd = next(c for c in r["commands"] if "tcpdump" in c["argv"] and "-i" in c["argv"])
    assert capture_cmd["argv"][:4] == [
        "ip",
        "netns",
        "exec",
        lab["node_netns"],
    ]  # on the node, not in the pod
    assert_nothing_attached(r)
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_capture_a_pod_both_sides(kube_api, lab, pod, state):  # noqa: F811
    serve(kube_api, "pod-running.json", name="web-0", namespace="shop", node=lab["name"], ip=pod["ip"])
    inside = capture_while_pinging(["pod/web-0", "-n", "shop"], pod, lab["gateway"])
    host = capture_while_pinging(["pod/web-0", "-n", "shop", "--side", "host"], pod, lab["gateway"])
    assert inside["capture"]["interface"] == "eth0" and host["capture"]["interface"] == pod["host_veth"]
    for r in (inside, host):
        assert r["capture"]["target"]["kind"] == "pod" and r["capture"]["target"]["netns"] == pod["netns"]
        assert_pings_seen(r, pod, lab["gateway"])
        assert_nothing_attached(r)
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


FAKE_CRICTL = r"""#!/usr/bin/env python3
import json, os, sys
if sys.argv[1:2] != ["inspect"]:
    sys.exit(f"fake crictl: unexpected {sys.argv[1:]}")
print(open(os.environ["FAKE_INSPECT"]).read())
"""


def test_capture_a_container(lab, pod, state, tmp_path):
    """container/ID through crictl: a stand-in that prints a recorded `crictl inspect` (containerd's),
    re-pointed at the lab pod's namespace file, as the runtime of a node would."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "crictl").write_text(FAKE_CRICTL)
    (bindir / "crictl").chmod(stat.S_IRWXU)
    inspect = json.loads((ROOT / "tests/fixtures/crictl/inspect-containerd.json").read_text())
    for ns in inspect["info"]["runtimeSpec"]["linux"]["namespaces"]:
        if ns["type"] == "network":
            ns["path"] = f"/var/run/netns/{pod['netns']}"
    (tmp_path / "inspect.json").write_text(json.dumps(inspect))
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "FAKE_INSPECT": str(tmp_path / "inspect.json")}
    cid = inspect["status"]["id"][:12]
    r = capture_while_pinging([f"container/{cid}"], pod, lab["gateway"], env=env)
    assert r["capture"]["target"]["kind"] == "container" and r["capture"]["interface"] == "eth0"
    assert_pings_seen(r, pod, lab["gateway"])
    assert any(c["argv"][:2] == ["crictl", "inspect"] for c in r["commands"])
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_capture_a_selector_on_the_host_side(kube_api, lab, state):  # noqa: F811
    a, b = lab["pods"]
    for name, p in (("api-0", a), ("api-1", b)):
        serve(kube_api, "pod-running.json", name=name, namespace="shop", node=lab["name"], ip=p["ip"])
        kube_api.pods[("shop", name)]["metadata"]["labels"] = {"tier": "api"}
    proc = subprocess.Popen(
        [VETHCTL, "capture", "-l", "tier=api", "-n", "shop", "--side", "host", "--filter", "icmp"]
        + ["--count", "2", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "capturing in 2 pod(s)" in proc.stderr.readline()
    subprocess.run(
        ["ip", "netns", "exec", a["netns"], "ping", "-c", "1", "-W", "1", b["ip"]],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    r = json.loads(out)["capture"]
    assert {p["pod"]: p["interface"] for p in r["pods"]} == {
        "shop/api-0": a["host_veth"],
        "shop/api-1": b["host_veth"],
    }
    assert len(r["packets"]) == 4 and r["interface"] == "the host veth of each pod"


def test_capture_target_bad_input_changes_nothing(lab, pod, state):
    for args, code, needle in (
        ([f"netns/{pod['netns']}", "--iface", "eth0"], 2, "exactly one of TARGET, SESSION"),
        (["--iface", "lo", "--side", "host"], 2, "--side goes with a TARGET"),
        ([f"netns/{pod['netns']}", "--side", "node"], 2, "invalid choice"),
        (["netns/vt-absent-ns"], 3, "vt-absent-ns"),
        (["deadbeef"], 3, "no session deadbeef"),
        ([f"netns/{pod['netns']}", "-n", "shop"], 2, "apply to pod/ targets"),
    ):
        proc = vethctl("capture", *args, check=False)
        assert proc.returncode == code and needle in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
