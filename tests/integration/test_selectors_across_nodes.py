"""-l across the cluster (issue 13): `run -l` reaches the matching pods on every node it can reach (the node it
runs on, a --node host over ssh, a debugging pod per node with --via kubectl-debug), in parallel, one report;
pods on a node it cannot reach are skipped with the --node that would reach them.

kubectl here is tests/support/fakekubectl.py's script: vethctl runs inside a lab node's namespace in the ssh
test, where the HTTP stand-in of the API (on the machine's loopback) cannot be reached."""

from __future__ import annotations

import json
import os
import secrets
import subprocess

import pytest

from tests.support import fakekubectl, sshd
from tests.support.cli import ROOT, VETHCTL, vethctl


@pytest.fixture(scope="module")
def two_nodes():
    name = f"vs-{secrets.token_hex(3)}"
    out = vethctl(
        "lab", "up", "--name", name, "--nodes", "2", "--pods", "1", "--overlay", "routed", "-o", "json"
    )
    rec = json.loads(out.stdout)
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


def pod_on(node: dict, name: str, host_ip: str) -> dict:
    record = json.loads((ROOT / "tests/fixtures/kubectl/pod-running.json").read_text())
    record["metadata"] |= {"name": name, "namespace": "shop", "labels": {"app": "web"}}
    record["spec"]["nodeName"] = node["name"]
    ip = node["pods"][0]["ip"] if node.get("pods") else "198.51.100.77"
    record["status"] |= {"podIP": ip, "podIPs": [{"ip": ip}], "hostIP": host_ip, "hostIPs": [{"ip": host_ip}]}
    return record


def fake_cluster(tmp_path, two_nodes, *, third: bool = False) -> tuple[dict, object]:
    """kubectl on PATH answering for web-0 on node A, web-1 on node B (and web-2 on a node nobody reaches)."""
    a, b = two_nodes["node_records"]
    underlay = {n["name"]: n["underlay_ip"] for n in two_nodes["nodes"]}
    pods = [pod_on(a, "web-0", underlay[a["name"]]), pod_on(b, "web-1", underlay[b["name"]])]
    if third:
        pods.append(pod_on({"name": "worker-9"}, "web-2", "203.0.113.9"))
    return fakekubectl.install(tmp_path, pods)


def test_run_l_reaches_the_far_node_given_with_node_over_ssh(two_nodes, tmp_path):
    a, b = two_nodes["node_records"]
    underlay = {n["name"]: n["underlay_ip"] for n in two_nodes["nodes"]}
    env, _log = fake_cluster(tmp_path, two_nodes, third=True)
    proc = sshd.serve_in(b["name"], underlay[b["name"]], tmp_path)
    far = f"ssh://root@{underlay[b['name']]}:2222"
    try:
        out = subprocess.run(  # vethctl as run on node A: node B is reached over the underlay, by ssh
            ["ip", "netns", "exec", a["name"], VETHCTL, "run", "-l", "app=web", "-n", "shop", "--count", "1"]
            + ["--node", f"{underlay[b['name']]}={far}", "-o", "json"],
            capture_output=True,
            text=True,
            env={**os.environ, **env, "VETHCTL_SSH_OPTS": sshd.client_opts(tmp_path)},
            timeout=180,
        )
    finally:
        proc.terminate()
        proc.wait(10)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    ran = {e["pod"]: e for e in r["pods"]}
    assert set(ran) == {"shop/web-0", "shop/web-1"}, r
    assert all(e.get("error") is None for e in ran.values()), ran
    near, remote = ran["shop/web-0"]["report"], ran["shop/web-1"]["report"]
    assert near["target"]["netns"] == a["pods"][0]["netns"]
    assert (
        remote["target"]["netns"] == b["pods"][0]["netns"]
        and remote["target"]["node"] == f"the host on {far}"
    )
    assert any(c["argv"][:1] == ["tcpdump"] for c in remote["commands"])  # the capture ran there
    assert all(rep["teardown"]["done"] for rep in (near, remote))
    # the pod on a node nobody reaches: skipped, with the --node that would reach it
    assert [s["pod"] for s in r["skipped"]] == ["shop/web-2"]
    assert "--node 203.0.113.9=ssh://HOST" in r["skipped"][0]["why"]
    for node in (a, b):  # nothing left on either node
        links = subprocess.run(
            ["ip", "-n", node["name"], "-j", "link"], capture_output=True, text=True
        ).stdout
        assert not [x for x in json.loads(links) if x["ifname"].startswith("vh-")]


def test_run_l_through_a_debugging_pod_on_each_node(two_nodes, tmp_path):
    a, b = two_nodes["node_records"]
    env, log = fake_cluster(tmp_path, two_nodes)
    out = vethctl(
        "run", "-l", "app=web", "-n", "shop", "--via", "kubectl-debug", "--count", "1", "-o", "json", env=env
    )
    r = json.loads(out.stdout)
    ran = {e["pod"]: e["report"] for e in r["pods"]}
    assert set(ran) == {"shop/web-0", "shop/web-1"} and not r["skipped"], r
    assert ran["shop/web-0"]["target"]["netns"] == a["pods"][0]["netns"]
    assert ran["shop/web-1"]["target"]["netns"] == b["pods"][0]["netns"]
    assert ran["shop/web-1"]["target"]["node"] == f"the host on kubectl-debug://{b['name']}"
    made = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(c[1] for c in made if c[0] == "debug") == sorted(f"node/{n['name']}" for n in (a, b))
    assert len([c for c in made if c[:2] == ["delete", "pod"]]) == 2  # each debugging pod deleted


def test_node_without_l_is_refused(two_nodes):
    proc = vethctl("run", "netns/x", "--node", "192.0.2.12=ssh://root@192.0.2.12", check=False)
    assert proc.returncode == 2 and "--node reaches the pods of -l" in proc.stderr


def test_capture_l_on_both_nodes_into_one_merged_pcap(two_nodes, tmp_path, spawn):
    """A ping from the pod on node A to the pod on node B, captured in both pods at once through a debugging
    pod on each node: the streams come home over kubectl exec and merge by time into one file here."""
    a, b = two_nodes["node_records"]
    env, log = fake_cluster(tmp_path, two_nodes)
    pcap = tmp_path / "both.pcap"
    cap = spawn(
        [VETHCTL, "capture", "-l", "app=web", "-n", "shop", "--via", "kubectl-debug", "--filter", "icmp"]
        + ["--count", "2", "--pcap", str(pcap), "-o", "json"],
        env={**os.environ, **env},
    )
    seen = []
    while not any("capturing in 2 pod(s)" in line for line in seen):
        seen.append(cap.stderr.readline())
        assert seen[-1], f"capture ended before it started: {seen}"
    subprocess.run(
        ["ip", "netns", "exec", a["pods"][0]["netns"], "ping", "-c", "1", "-W", "2", b["pods"][0]["ip"]],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out, err = cap.communicate(timeout=60)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    nodes = {p["pod"]: p["node"] for p in r["pods"]}
    assert nodes == {
        "shop/web-0": f"the host on kubectl-debug://{a['name']}",
        "shop/web-1": f"the host on kubectl-debug://{b['name']}",
    }
    # the same echo request and reply, seen leaving one pod and arriving in the other
    assert sorted((p["pod"], p["icmp_type"]) for p in r["packets"]) == [
        ("shop/web-0", "echo reply"),
        ("shop/web-0", "echo request"),
        ("shop/web-1", "echo reply"),
        ("shop/web-1", "echo request"),
    ]
    text = subprocess.run(["tcpdump", "-r", str(pcap), "-nn", "-tt"], capture_output=True, text=True).stdout
    stamps = [float(line.split()[0]) for line in text.splitlines()]
    assert len(stamps) == 4 and stamps == sorted(stamps)  # one file, here, merged by time
    made = [json.loads(line) for line in log.read_text().splitlines()]
    assert len([c for c in made if c[:2] == ["delete", "pod"]]) == 2  # each debugging pod deleted


def test_node_without_l_is_refused_by_capture_too(two_nodes):
    proc = vethctl("capture", "netns/x", "--node", "192.0.2.12=ssh://root@192.0.2.12", check=False)
    assert proc.returncode == 2 and "--node reaches the pods of -l" in proc.stderr
