"""--via kubectl-debug. A cluster cannot run here, so `kubectl` is a stand-in script for exactly the four
calls vethctl makes (get pod, debug node, wait, exec, delete): it records each call, prints what real
kubectl prints (the `Creating debugging pod ...` line is kubectl's, as in the Kubernetes docs), and runs
`exec ... -- chroot /host ARGV` as ARGV inside the lab node's namespace, which is what a node debugging
pod with hostNetwork does on a real node. Everything after kubectl (ip, tcpdump, ping) is real."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.support.cli import ROOT, vethctl
from tests.support.netstate import snapshot

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
