"""-l SELECTOR on run and capture: every matching pod on its node, one report; others skipped with the reason."""

from __future__ import annotations

import json
import subprocess

from tests.support.cli import VETHCTL, vethctl
from tests.support.kubeapi import serve


def label(api, name, node, ip, labels):
    pod = serve(api, "pod-running.json", name=name, namespace="shop", node=node, ip=ip)
    pod["metadata"]["labels"] = labels
    return pod


def test_run_every_pod_of_a_selector(kube_api, lab):  # noqa: F811
    a, b = lab["pods"]
    label(kube_api, "web-0", lab["name"], a["ip"], {"app": "web"})
    label(kube_api, "web-1", lab["name"], b["ip"], {"app": "web"})
    label(kube_api, "web-2", "worker-9", "198.51.100.77", {"app": "web"})
    label(kube_api, "db-0", lab["name"], a["ip"], {"app": "db"})
    r = json.loads(vethctl("run", "-l", "app=web", "-n", "shop", "--count", "1", "-o", "json").stdout)
    ran = {e["pod"]: e["report"] for e in r["pods"]}
    assert set(ran) == {"shop/web-0", "shop/web-1"}
    assert (
        ran["shop/web-0"]["target"]["netns"] == a["netns"]
        and ran["shop/web-1"]["target"]["netns"] == b["netns"]
    )
    subnets = {rep["veth"]["pod"]["address"].rsplit(".", 1)[0] for rep in ran.values()}
    assert len(subnets) == 2  # each its own subnet
    assert [s["pod"] for s in r["skipped"]] == ["shop/web-2"] and "worker-9" in r["skipped"][0]["why"]


def test_capture_every_pod_into_one_merged_pcap(kube_api, lab, tmp_path, spawn):  # noqa: F811
    a, b = lab["pods"]
    label(kube_api, "api-0", lab["name"], a["ip"], {"tier": "api"})
    label(kube_api, "api-1", lab["name"], b["ip"], {"tier": "api"})
    pcap = tmp_path / "all.pcap"
    cap = spawn(
        [
            VETHCTL,
            "capture",
            "-l",
            "tier=api",
            "-n",
            "shop",
            "--filter",
            "icmp",
            "--count",
            "2",
            "--pcap",
            str(pcap),
            "-o",
            "json",
        ]
    )
    assert "capturing in 2 pod(s)" in cap.stderr.readline()
    subprocess.run(
        ["ip", "netns", "exec", a["netns"], "ping", "-c", "1", "-W", "1", b["ip"]],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out, err = cap.communicate(timeout=30)
    assert cap.returncode == 0, err
    r = json.loads(out)["capture"]
    assert {p["pod"] for p in r["packets"]} == {"shop/api-0", "shop/api-1"} and len(r["packets"]) == 4
    assert [p["timestamp"] for p in r["packets"]] == sorted(p["timestamp"] for p in r["packets"])
    text = subprocess.run(["tcpdump", "-r", str(pcap), "-nn", "-tt"], capture_output=True, text=True).stdout
    stamps = [float(line.split()[0]) for line in text.splitlines()]
    assert len(stamps) == 4 and stamps == sorted(stamps)


def test_a_selector_matching_nothing_is_exit_3(kube_api):  # noqa: F811
    proc = vethctl("run", "-l", "app=nothing", "-n", "shop", check=False)
    assert proc.returncode == 3 and "no pod matches" in proc.stderr


def test_target_and_selector_together_is_exit_2():
    proc = vethctl("run", "pod/x", "-l", "app=web", check=False)
    assert proc.returncode == 2 and "TARGET or -l" in proc.stderr
