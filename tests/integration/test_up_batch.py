"""`up` of several pods in one invocation (and `down` of their sessions): each pod its own session, names and
subnet; one pod failing half-way is undone alone and said so; Ctrl-C leaves nothing."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli import VETHCTL, hook, vethctl
from tests.support.kubeapi import serve
from tests.support.netstate import snapshot, tagged_links


@pytest.fixture(scope="module")
def lab4():
    name = f"vt-{secrets.token_hex(3)}"
    rec = json.loads(vethctl("lab", "up", "--name", name, "--pods", "4", "-o", "json").stdout)
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


@pytest.fixture
def clean(lab4):
    """Every namespace of the lab as it was; afterwards nothing of ours may be left in any of them."""
    before = {ns: snapshot(ns) for ns in [lab4["node_netns"], *(p["netns"] for p in lab4["pods"])]}
    yield before
    left = tagged_links(lab4["node_netns"])
    for name in left:
        subprocess.run(["ip", "-n", lab4["node_netns"], "link", "del", name], capture_output=True)
    assert not left, f"links left behind: {left}"


def now(lab):
    return {ns: snapshot(ns) for ns in [lab["node_netns"], *(p["netns"] for p in lab["pods"])]}


def records() -> set[str]:
    path = Path(os.environ["VETHCTL_STATE_DIR"], "sessions")
    return {p.stem for p in path.glob("*.json")} if path.exists() else set()


def test_each_pod_gets_its_own_session_names_and_subnet(lab4, clean):
    targets = [f"netns/{p['netns']}" for p in lab4["pods"]]
    r = json.loads(vethctl("up", *targets, "-o", "json").stdout)
    sessions = r["sessions"]
    try:
        assert r["failed"] == [] and [s["target"] for s in sessions] == targets
        assert len({s["session"] for s in sessions}) == 4
        assert len({s["host"]["name"] for s in sessions} | {s["pod"]["name"] for s in sessions}) == 8
        subnets = [ipaddress.ip_interface(s["pod"]["address"]).network for s in sessions]
        assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])
        for s in sessions:  # in the kernel: both ends tagged, addressed, up
            host = json.loads(
                subprocess.run(
                    ["ip", "-n", lab4["node_netns"], "-j", "-d", "addr", "show", "dev", s["host"]["name"]],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )[0]
            assert host["ifalias"] == s["tag"] and "UP" in host["flags"]
            assert (
                f"{host['addr_info'][0]['local']}/{host['addr_info'][0]['prefixlen']}" == s["host"]["address"]
            )
            assert s["pod"]["name"] in [link["ifname"] for link in snapshot(s["pod_netns"])["links"]]
        attach = [c for c in r["commands"] if c["phase"] == "attach"]
        # two batches on the node (the pairs, then their host ends), one in each pod
        assert [c["netns"] for c in attach[:2]] == [None, None] and len(attach) == 2 + 4
        assert len(attach[0]["lines"]) == 4 and len(attach[1]["lines"]) == 8
        assert (
            sum(1 for c in r["commands"] if c["netns"] is None and c["phase"] == "inspect") == 1
        )  # node: once
    finally:
        down = json.loads(vethctl("down", *(s["session"] for s in sessions), "-o", "json").stdout)
    assert sorted(x["session"] for x in down["removed"]) == sorted(s["session"] for s in sessions)
    [dels] = [c for c in down["commands"] if c.get("lines")]  # the four pairs removed by one process
    assert dels["argv"][-3:] == ["-force", "-batch", "-"] and len(dels["lines"]) == 4
    assert now(lab4) == clean and not {s["session"] for s in sessions} & records()


def test_one_pod_failing_half_way_undoes_only_its_own_pair(lab4, clean):
    """The second pod's MTU is below IPv6's minimum: its host end's line (addrgenmode) fails after its pair
    was created. That pair is removed; the other pods keep theirs; the report says which and why."""
    bad = lab4["pods"][1]
    subprocess.run(["ip", "-n", bad["netns"], "link", "set", "eth0", "mtu", "1000"], check=True)
    try:
        proc = vethctl("up", *(f"netns/{p['netns']}" for p in lab4["pods"]), "-o", "json", check=False)
    finally:
        subprocess.run(["ip", "-n", bad["netns"], "link", "set", "eth0", "mtu", "1500"], check=True)
    r = json.loads(proc.stdout)
    try:
        assert proc.returncode == 1
        [failed] = r["failed"]
        assert failed["target"] == f"netns/{bad['netns']}" and failed["exit_code"] == 1
        assert "Address family not supported" in failed["error"] and len(failed["removed"]) == 1
        assert failed["removed"][0] not in tagged_links(lab4["node_netns"])
        assert [s["pod_netns"] for s in r["sessions"]] == [
            p["netns"] for i, p in enumerate(lab4["pods"]) if i != 1
        ]
        assert sorted(tagged_links(lab4["node_netns"])) == sorted(s["host"]["name"] for s in r["sessions"])
        assert now(lab4)[bad["netns"]] == clean[bad["netns"]]
        text_failed = [c for c in r["commands"] if c.get("lines") and c["rc"] == 1]
        assert text_failed, "the batch that failed is in the journal"
    finally:
        vethctl("down", *(s["session"] for s in r["sessions"]))
    assert now(lab4) == clean


def test_a_target_that_is_not_there_fails_alone(lab4, clean):
    pod = lab4["pods"][0]
    proc = vethctl("up", f"netns/{pod['netns']}", "netns/vt-no-such-ns", check=False)
    sessions = [line.split()[0] for line in proc.stdout.splitlines()[:1]]
    try:
        assert proc.returncode == 3
        assert "failed: netns/vt-no-such-ns: no network namespace named 'vt-no-such-ns'" in proc.stdout
        assert "nothing was created" in proc.stdout and "1 session(s)" in proc.stdout
    finally:
        vethctl("down", *sessions)
    assert now(lab4) == clean


# before the host ends' batch (the pairs exist, untagged), before a pod's batch (the host ends are done)
@pytest.mark.parametrize("where", ["attach:1", "attach:2"])
def test_ctrl_c_during_a_batch_leaves_nothing(lab4, clean, tmp_path, where):
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [VETHCTL, "up", *(f"netns/{p['netns']}" for p in lab4["pods"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **hook(where, ["touch", str(marker)], ["sleep", "30"])},
        start_new_session=True,
    )
    had = records()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    links = [x["ifname"] for x in snapshot(lab4["node_netns"])["links"]]
    assert sum(name.startswith("vh-") for name in links) == 4, "the pairs exist when the signal comes"
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert now(lab4) == clean and records() <= had


def test_up_every_pod_of_a_selector(kube_api, lab4, clean):  # noqa: F811
    a, b = lab4["pods"][:2]
    for name, pod in (("web-0", a), ("web-1", b)):
        serve(kube_api, "pod-running.json", name=name, namespace="shop", node=lab4["name"], ip=pod["ip"])[
            "metadata"
        ]["labels"] = {"app": "web"}
    gone = serve(
        kube_api, "pod-running.json", name="web-2", namespace="shop", node="worker-9", ip="198.51.100.77"
    )
    gone["metadata"]["labels"] = {"app": "web"}
    r = json.loads(vethctl("up", "-l", "app=web", "-n", "shop", "-o", "json").stdout)
    try:
        assert r["selector"] == "app=web" and r["failed"] == []
        assert sorted(s["pod_netns"] for s in r["sessions"]) == sorted([a["netns"], b["netns"]])
        assert [s["pod"] for s in r["skipped"]] == ["shop/web-2"] and "worker-9" in r["skipped"][0]["why"]
    finally:
        vethctl("down", *(s["session"] for s in r["sessions"]))
    assert now(lab4) == clean


def test_bad_input_for_several_pods_changes_nothing(lab4, clean):
    targets = [f"netns/{p['netns']}" for p in lab4["pods"][:2]]
    proc = vethctl("up", *targets, "--host-if", "vt-x", check=False)
    assert proc.returncode == 2 and "name one pair" in proc.stderr
    proc = vethctl("up", *targets, "-l", "app=web", check=False)
    assert proc.returncode == 2 and "TARGET... or -l SELECTOR" in proc.stderr
    assert now(lab4) == clean
