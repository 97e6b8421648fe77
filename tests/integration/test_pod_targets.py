"""pod/NAME through the real kubectl, against a local stand-in of the API serving recorded pods.

The recorded pods are re-pointed at the lab: nodeName is the lab node, podIP one of its pods' IPs. Then
vethctl asks kubectl, is told the IP and the node, and finds the namespace by IP on the lab node.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.support.cli import VETHCTL, vethctl
from tests.support.kubeapi import serve
from tests.support.netstate import snapshot
from tests.support.paths import FIXTURES as ALL_FIXTURES

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def test_run_a_pod_by_name(kube_api, lab, pod, state):  # noqa: F811
    serve(kube_api, "pod-running.json", name="web-0", namespace="shop", node=lab["name"], ip=pod["ip"])
    r = json.loads(vethctl("run", "pod/web-0", "-n", "shop", "--count", "1", "-o", "json").stdout)
    assert r["target"]["kind"] == "pod" and r["target"]["netns"] == pod["netns"]
    assert r["target"]["host_veth"] == pod["host_veth"] and r["node"] == f"netns {lab['node_netns']}"
    assert r["resolved_by"][0].startswith(f"kubectl: pod shop/web-0 has IP {pod['ip']} on node {lab['name']}")
    assert any(c["argv"][:3] == ["kubectl", "get", "pod"] for c in r["commands"])
    assert any(p.get("arp_op") == "request" for p in r["capture"]["packets"])
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_find_a_bare_name_and_up_down_by_pod(kube_api, lab, pod, state):  # noqa: F811
    serve(kube_api, "pod-running.json", name="api-7d9f", namespace="default", node=lab["name"], ip=pod["ip"])
    r = json.loads(vethctl("find", "api-7d9f", "-o", "json").stdout)
    assert (r["kind"], r["netns"], r["pod_ip"], r["host_veth"]) == (
        "pod",
        pod["netns"],
        pod["ip"],
        pod["host_veth"],
    )
    up = json.loads(vethctl("up", "pod/api-7d9f", "-o", "json").stdout)
    try:
        assert up["pod_netns"] == pod["netns"]
    finally:
        vethctl("down", up["session"])
    assert snapshot(pod["netns"]) == state["pod"]


def test_a_host_network_pod_is_refused(kube_api, lab, state):  # noqa: F811
    serve(
        kube_api,
        "pod-hostnetwork.json",
        name="kube-proxy-x",
        namespace="kube-system",
        node=lab["name"],
        host_network=True,
    )
    proc = vethctl("run", "pod/kube-proxy-x", "-n", "kube-system", check=False)
    assert proc.returncode == 2 and "hostNetwork" in proc.stderr and "node's network namespace" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_pod_on_another_node_names_the_node_and_both_ways(kube_api, lab, state):  # noqa: F811
    serve(kube_api, "pod-running.json", name="db-0", namespace="shop", node="worker-7", ip="198.51.100.7")
    proc = vethctl("run", "pod/db-0", "-n", "shop", check=False)
    assert proc.returncode == 3, proc.stderr
    assert (
        "worker-7" in proc.stderr and "--via ssh://worker-7" in proc.stderr and "kubectl-debug" in proc.stderr
    )


def test_a_missing_pod_and_an_unreachable_api(kube_api, lab, state):  # noqa: F811
    proc = vethctl("find", "pod/nope", "-n", "shop", check=False)
    assert proc.returncode == 3 and 'namespace "shop" does not exist' in proc.stderr
    serve(kube_api, "pod-running.json", name="web-1", namespace="shop", node=lab["name"], ip="198.51.100.9")
    proc = vethctl("find", "pod/nope", "-n", "shop", check=False)
    assert proc.returncode == 3 and "nope" in proc.stderr and "shop" in proc.stderr
    kube_api.stop()
    proc = vethctl("find", "pod/nope", check=False)
    assert proc.returncode == 4 and "API server" in proc.stderr


def test_kubectl_veth_as_a_kubectl_plugin(kube_api, lab, pod):  # noqa: F811
    """`kubectl veth ...`: kubectl finds kubectl-veth on PATH and runs it with the rest of the line."""
    import os
    import subprocess

    serve(kube_api, "pod-running.json", name="web-9", namespace="default", node=lab["name"], ip=pod["ip"])
    env = {**os.environ, "PATH": f"{os.path.dirname(VETHCTL)}:{os.environ['PATH']}"}
    proc = subprocess.run(
        ["kubectl", "veth", "find", "pod/web-9", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["netns"] == pod["netns"]
    helptext = subprocess.run(["kubectl", "veth", "--help"], capture_output=True, text=True, env=env).stdout
    assert helptext.startswith("usage: kubectl veth")


def test_a_pending_pod_with_an_ip_is_a_target_and_the_report_says_why(kube_api, lab, pod, state):  # noqa: F811
    """Its init container crash-loops on a network timeout: exactly when one wants to look inside."""
    serve(
        kube_api,
        "pod-pending-init-crashloop.json",
        name="web-2",
        namespace="shop",
        node=lab["name"],
        ip=pod["ip"],
    )
    r = json.loads(vethctl("run", "pod/web-2", "-n", "shop", "--count", "1", "-o", "json").stdout)
    assert r["target"]["netns"] == pod["netns"]
    assert r["observations"][0].startswith("pod shop/web-2 is Pending, not Running: init container ")
    assert "CrashLoopBackOff (restarted 5 times, last exit 95)" in r["observations"][0]
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_a_node_named_by_its_fqdn_is_this_node_when_its_host_ip_is_ours(kube_api, lab, pod, state):  # noqa: F811
    """The cloud's node name is not the hostname; the pod's hostIP is one of the node's own addresses."""
    fixture = json.loads((ALL_FIXTURES / "kubectl" / "pod-fqdn-node.json").read_text())
    fixture["metadata"] |= {"name": "web-3", "namespace": "shop"}
    fixture["status"] |= {"podIP": pod["ip"], "podIPs": [{"ip": pod["ip"]}]}
    fixture["status"] |= {"hostIP": lab["gateway"], "hostIPs": [{"ip": lab["gateway"]}]}
    kube_api.add_pod(fixture)
    via = ("--via", f"netns:{lab['node_netns']}")
    r = json.loads(vethctl("find", "pod/web-3", "-n", "shop", *via, "-o", "json").stdout)
    assert r["netns"] == pod["netns"]
    assert any("its address " + lab["gateway"] in step for step in r["resolved_by"])
    fixture["status"] |= {"hostIP": "10.0.134.121", "hostIPs": [{"ip": "10.0.134.121"}]}
    kube_api.add_pod(fixture)
    proc = vethctl("find", "pod/web-3", "-n", "shop", *via, check=False)
    assert proc.returncode == 3 and "VETHCTL_NODE_NAME" in proc.stderr
