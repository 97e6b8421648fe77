"""Captures through a node debugging pod (`--via kubectl-debug`), driven by the real kubectl against the local
stand-in of the API (tests/support/kubedebug.py: debug, wait, exec over a websocket, delete), the debugging
pod standing in on a lab node. The stream and --pcap come back over `kubectl exec`'s stdout; with
`--tools image` the image's own tools enter the namespaces with nsenter instead of `chroot /host`; a node or
an image without tcpdump is named by the preflight, with what to do."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import pytest

from tests.support.cli import VETHCTL, vethctl
from tests.support.kubeapi import serve, setenv
from tests.support.kubedebug import DebugKubeAPI
from tests.support.netstate import snapshot
from vethctl.pcap import Framer

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")

IMAGE = "registry.example/netdebug:1"


@pytest.fixture
def debug_api(lab, pod, tmp_path, monkeypatch):
    """The stand-in, its pod web-0 (namespace shop) on the lab node, kubectl pointed at it for this test."""
    api = DebugKubeAPI({lab["name"]: lab["node_netns"]}).start()
    home = tmp_path / "home"
    home.mkdir()
    api.write_kubeconfig(tmp_path / "kubeconfig")
    setenv(monkeypatch, "KUBECONFIG", str(api.kubeconfig))
    setenv(monkeypatch, "HOME", str(home))
    setenv(monkeypatch, "KUBECACHEDIR", str(tmp_path / "kubecache"))
    serve(api, "pod-running.json", name="web-0", namespace="shop", node=lab["name"], ip=pod["ip"])
    try:
        yield api
    finally:
        api.stop()


def execs_after_start(api) -> list[list[str]]:
    return [argv for _image, argv in api.execs]


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [VETHCTL, "capture", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    line = proc.stderr.readline().decode()
    assert "capturing on" in line, line + proc.stderr.read().decode()
    return proc


def ping(pod: dict, dst: str, count: int = 2) -> None:
    subprocess.run(
        ["ip", "netns", "exec", pod["netns"], "ping", "-n", "-c", str(count), "-i", "0.2", dst],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def whole(data: bytes) -> list[bytes]:
    framer = Framer()
    records = framer.feed(data)
    assert framer.header is not None and framer.pending == 0
    return records


def test_pcap_through_the_node_tools_comes_home(debug_api, lab, pod, state, tmp_path):
    pcap = tmp_path / "web.pcap"
    cap = start("--filter", "icmp", "--count", "4", "--pcap", str(pcap), "-o", "json")
    ping(pod, lab["gateway"])
    out, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["interface"] == "eth0" and r["pcap_packets"] == 4 and len(whole(pcap.read_bytes())) == 4
    made = debug_api.created
    assert len(made) == 1 and made[0]["spec"]["containers"][0]["image"] == "busybox:1.36"
    assert debug_api.deleted == [made[0]["metadata"]["name"]]  # deleted at the end
    execs = execs_after_start(debug_api)
    assert execs and all(argv[:2] == ["chroot", "/host"] for argv in execs)  # the node's own tools
    stream = [a for a in execs if "tcpdump" in a and "-U" in a]
    assert stream and stream[0][-5:] == ["-U", "-w", "-", "--", "icmp"]  # over kubectl exec's stdout
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_the_image_tools_enter_with_nsenter(debug_api, lab, pod, state, tmp_path):
    pcap = tmp_path / "image.pcap"
    env = {"VETHCTL_DEBUG_IMAGE": IMAGE}
    cap = start(
        "--tools",
        "image",
        "--side",
        "host",
        "--filter",
        "icmp",
        "--count",
        "4",
        "--pcap",
        str(pcap),
        "-o",
        "json",
        env=env,
    )
    ping(pod, lab["gateway"])
    out, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert r["interface"] == pod["host_veth"] and r["side"] == "host" and len(whole(pcap.read_bytes())) == 4
    assert [c["spec"]["containers"][0]["image"] for c in debug_api.created] == [IMAGE]
    execs = execs_after_start(debug_api)
    assert not any(a[:1] == ["chroot"] for a in execs)  # no node tool is used
    assert not any(
        a[:3] == ["ip", "netns", "exec"] or a[:2] == ["ip", "-n"] for a in execs
    )  # nor the image's netns names
    stream = next(a for a in execs if "tcpdump" in a and "-U" in a)
    assert stream[stream.index("tcpdump") - 4 : stream.index("tcpdump")] == [
        "nsenter",
        "--target",
        "1",
        "--net",
    ]
    looks = [a for a in execs if a[:1] == ["nsenter"]]
    assert any(a[1] == f"--net=/host/run/netns/{pod['netns']}" for a in looks)  # the pod, by the node's file
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_the_stream_through_kubectl_exec_is_read_live_by_tcpdump(debug_api, lab, pod):
    cap = start("--tools", "image", "--filter", "icmp", "--pcap", "-", env={"VETHCTL_DEBUG_IMAGE": IMAGE})
    rd = subprocess.Popen(
        ["tcpdump", "-l", "-r", "-", "-nn"],
        stdin=cap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    cap.stdout.close()
    try:
        ping(pod, lab["gateway"], count=1)
        lines = [rd.stdout.readline(), rd.stdout.readline()]
        assert cap.poll() is None
    finally:
        os.killpg(cap.pid, signal.SIGINT)
        err = cap.stderr.read().decode()
        assert cap.wait(60) == 0, err
        rd.communicate(timeout=30)
    assert "echo request" in lines[0] and "echo reply" in lines[1]
    assert "stopped by Ctrl-C" in err and len(debug_api.deleted) == 1


def test_run_pcap_through_the_image_tools_comes_home(debug_api, lab, pod, state, tmp_path):
    pcap = tmp_path / "run.pcap"
    proc = vethctl(
        "run",
        "pod/web-0",
        "-n",
        "shop",
        "--via",
        "kubectl-debug",
        "--tools",
        "image",
        "--count",
        "1",
        "--pcap",
        str(pcap),
        "-o",
        "json",
        env={"VETHCTL_DEBUG_IMAGE": IMAGE},
    )
    r = json.loads(proc.stdout)
    assert r["teardown"]["done"] and r["capture"]["pcap"] == str(pcap)
    assert len(whole(pcap.read_bytes())) == len(r["capture"]["packets"]) >= 1
    batches = [sent.decode() for argv, sent in debug_api.stdins if "-batch" in argv]
    adds = [line for text in batches for line in text.splitlines() if line.startswith("link add")]
    assert adds and adds[0].endswith(f"netns /host/run/netns/{pod['netns']}")  # the node's file, not a name
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def without(tool: str, tmp_path) -> str:
    """A PATH with every command of this one but `tool` (a node, or an image, that lacks it)."""
    bindir = tmp_path / f"no-{tool}"
    bindir.mkdir()
    for d in os.environ["PATH"].split(":"):
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            if name != tool and not (bindir / name).exists():
                (bindir / name).symlink_to(os.path.join(d, name))
    return str(bindir)


def test_a_node_without_tcpdump_says_so_and_how(debug_api, lab, state, tmp_path):
    debug_api.node_path = debug_api.image_paths["busybox:1.36"] = without(
        "tcpdump", tmp_path
    )  # as busybox is
    proc = vethctl("capture", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", check=False)
    assert proc.returncode == 4, proc.stderr
    assert (
        f"tcpdump is not installed on node {lab['name']} (the node's own tools, through chroot /host)"
        in proc.stderr
    )
    assert "(nor is it in the debugging image busybox:1.36)" in proc.stderr and "--tools image" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert len(debug_api.deleted) == len(debug_api.created) == 1  # the debugging pod went too


def test_an_image_without_tcpdump_says_so_and_how(debug_api, lab, state, tmp_path):
    debug_api.image_paths[IMAGE] = without("tcpdump", tmp_path)
    proc = vethctl(
        "capture",
        "pod/web-0",
        "-n",
        "shop",
        "--via",
        "kubectl-debug",
        "--tools",
        "image",
        check=False,
        env={"VETHCTL_DEBUG_IMAGE": IMAGE},
    )
    assert proc.returncode == 4, proc.stderr
    assert (
        f"tcpdump is not in the debugging image {IMAGE}" in proc.stderr
        and "VETHCTL_DEBUG_IMAGE" in proc.stderr
    )
    assert len(debug_api.deleted) == len(debug_api.created) == 1


def test_tools_image_needs_kubectl_debug(lab, pod):
    proc = vethctl("capture", f"netns/{pod['netns']}", "--tools", "image", check=False)
    assert proc.returncode == 2 and "goes with --via kubectl-debug" in proc.stderr
