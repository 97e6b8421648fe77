"""--via kubectl-debug. A cluster cannot run here, so `kubectl` is a stand-in script for exactly the four
calls vethctl makes (get pod, debug node, wait, exec, delete): it records each call, prints what real
kubectl prints (the `Creating debugging pod ...` line is kubectl's, as in the Kubernetes docs), and runs
`exec ... -- chroot /host ARGV` as ARGV inside the lab node's namespace, which is what a node debugging
pod with hostNetwork does on a real node. Everything after kubectl (ip, tcpdump, ping) is real."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

import pytest

from tests.support.cli import ROOT, VETHCTL, gc_on, vethctl
from tests.support.netstate import snapshot, tagged_links

FAKE = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as fh:
    fh.write(json.dumps(args) + "\n")
if args[:2] == ["get", "pod"]:
    print(open(os.environ["FAKE_POD"]).read())
elif args[:1] == ["debug"]:
    if os.environ.get("FAKE_DEBUG_FAIL"):
        sys.stderr.write('Error from server (Forbidden): pods is forbidden: violates PodSecurity "restricted"\n')
        sys.exit(1)
    node = args[1].split("/", 1)[1]
    print(f"Creating debugging pod node-debugger-{node}-pdx84 with container debugger on node {node}.")
elif args[:1] == ["wait"]:
    print(f"{args[-2]} condition met")
elif args[:1] == ["exec"]:
    rest = args[args.index("--") + 1:]
    assert rest[:2] == ["chroot", "/host"], rest
    os.execvp("ip", ["ip", "netns", "exec", os.environ["FAKE_NODE_NETNS"], *rest[2:]])
elif args[:2] == ["delete", "pod"]:
    print(f'pod "{args[2]}" deleted')
else:
    sys.exit(f"fake kubectl: unexpected {args}")
"""


@pytest.fixture
def fake_kubectl(tmp_path, lab, pod):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kubectl").write_text(FAKE)
    (bindir / "kubectl").chmod(stat.S_IRWXU)
    record = json.loads((ROOT / "tests/fixtures/kubectl/pod-running.json").read_text())
    record["metadata"] |= {"name": "web-0", "namespace": "shop"}
    record["spec"]["nodeName"] = lab["name"]
    record["status"]["podIP"], record["status"]["podIPs"] = pod["ip"], [{"ip": pod["ip"]}]
    (tmp_path / "pod.json").write_text(json.dumps(record))
    log = tmp_path / "kubectl.log"
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "FAKE_KUBECTL_LOG": str(log),
        "FAKE_POD": str(tmp_path / "pod.json"),
        "FAKE_NODE_NETNS": lab["node_netns"],
    }
    return env, log


def calls(log):
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_run_through_a_node_debugging_pod(fake_kubectl, lab, pod, state):
    env, log = fake_kubectl
    r = json.loads(
        vethctl(
            "run", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", "--count", "1", "-o", "json", env=env
        ).stdout
    )
    assert r["target"]["netns"] == pod["netns"] and r["node"].endswith(f"kubectl-debug://{lab['name']}")
    assert any(p.get("arp_op") == "request" for p in r["capture"]["packets"])
    made = calls(log)
    assert made[0][:4] == ["get", "pod", "web-0", "-n"]
    assert made[1] == [
        "debug",
        f"node/{lab['name']}",
        "-n",
        "default",
        "--image",
        "busybox:1.36",
        "--profile=sysadmin",
        "--attach=false",
        "--",
        "sleep",
        "3600",
    ]
    assert made[2] == [
        "wait",
        "-n",
        "default",
        "--for=condition=Ready",
        f"pod/node-debugger-{lab['name']}-pdx84",
        "--timeout=120s",
    ]
    execs = [c for c in made if c[0] == "exec"]
    assert execs and all(c[c.index("--") + 1 :][:2] == ["chroot", "/host"] for c in execs)
    assert made[-1] == [
        "delete",
        "pod",
        f"node-debugger-{lab['name']}-pdx84",
        "-n",
        "default",
        "--wait=false",
    ]
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_the_debugging_pod_is_deleted_when_the_run_fails(fake_kubectl, lab, pod, state):
    env, log = fake_kubectl
    proc = vethctl(
        "run", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", "--filter", "arp or", check=False, env=env
    )
    assert proc.returncode == 2 and "does not compile" in proc.stderr
    made = calls(log)
    assert made[-1][:2] == ["delete", "pod"] and sum(c[0] == "debug" for c in made) == 1


def test_a_debugging_pod_that_cannot_start_is_exit_4(fake_kubectl, lab):
    env, log = fake_kubectl
    proc = vethctl(
        "find",
        "pod/web-0",
        "-n",
        "shop",
        "--via",
        "kubectl-debug",
        check=False,
        env=env | {"FAKE_DEBUG_FAIL": "1"},
    )
    assert (
        proc.returncode == 4
        and "could not start a node debugging pod" in proc.stderr
        and "PodSecurity" in proc.stderr
    )


def test_kubectl_debug_needs_a_pod_target(lab, pod):
    proc = vethctl("find", f"netns/{pod['netns']}", "--via", "kubectl-debug", check=False)
    assert proc.returncode == 2 and "needs a pod/ target" in proc.stderr


def _until_pinging(proc, log, timeout=60.0):
    """Wait on the stand-in's log (not on time): the ping has started through `kubectl exec`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and any(c[0] == "exec" and "ping" in c for c in calls(log)):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never started its ping")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_debugging_pod_is_deleted_on_ctrl_c(fake_kubectl, lab, pod, state, spawn, sig):
    env, log = fake_kubectl
    args = ["run", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", "--count", "50", "--interval", "0.2"]
    proc = spawn([VETHCTL, *args], env)
    _until_pinging(proc, log)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: kubectl and what it runs get it too
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    made = calls(log)
    assert made[-1][:2] == ["delete", "pod"] and made[-1][2] == f"node-debugger-{lab['name']}-pdx84"
    assert sum(c[0] == "delete" for c in made) == 1
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_after_sigkill_the_debugging_pod_ends_by_itself_and_gc_collects_the_pair(
    fake_kubectl, lab, pod, state, spawn
):
    """Nothing can delete the pod after a SIGKILL: it was started as `sleep 3600`, so it ends by itself;
    the pair it left is a dead session that gc on the node removes."""
    env, log = fake_kubectl
    args = ["run", "pod/web-0", "-n", "shop", "--via", "kubectl-debug", "--count", "50", "--interval", "0.2"]
    proc = spawn([VETHCTL, *args], env)
    _until_pinging(proc, log)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    made = calls(log)
    assert not any(c[0] == "delete" for c in made)
    debug = next(c for c in made if c[0] == "debug")
    assert debug[debug.index("--") + 1 :] == ["sleep", "3600"]
    left = tagged_links(lab["node_netns"])  # (a gc without --via of another run may have taken it already)
    gc = gc_on(lab["node_netns"])
    assert sorted(link for r in gc["removed"] for link in r["links"]) == left
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
