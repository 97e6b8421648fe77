"""kubectl for a lab cluster, for --via kubectl-debug across nodes: the calls vethctl makes (get pods -l, get
pod, get nodes, debug, wait, exec, delete), answered as real kubectl answers them; `exec POD -- chroot /host
ARGV` runs ARGV in that pod's node, a lab node's namespace. A script, not the API stand-in: it works from any
namespace (a test may run vethctl inside a lab node, where the stand-in on the machine's loopback is not)."""

from __future__ import annotations

import json
import os
from pathlib import Path

# FAKE_CLUSTER: {"pods": [POD, ...], "nodes": {NAME: {"netns", "ip"}}}; every call is logged to FAKE_KUBECTL_LOG
FAKE_KUBECTL = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
cluster = json.load(open(os.environ["FAKE_CLUSTER"]))
nodes = cluster.get("nodes", {})
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as fh:
    fh.write(json.dumps(args) + "\n")
if args[:3] == ["get", "pods", "-l"]:
    key, _, value = args[3].partition("=")
    items = [p for p in cluster["pods"] if p["metadata"].get("labels", {}).get(key) == value]
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
elif args[:2] == ["get", "pod"]:
    print(json.dumps(next(p for p in cluster["pods"] if p["metadata"]["name"] == args[2])))
elif args[:2] == ["get", "nodes"]:
    items = [{"metadata": {"name": n}, "status": {"addresses": [{"type": "InternalIP", "address": v["ip"]},
             {"type": "Hostname", "address": n}]}} for n, v in nodes.items()]
    print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
elif args[:1] == ["debug"]:
    node = args[1].split("/", 1)[1]
    print(f"Creating debugging pod node-debugger-{node}-pdx84 with container debugger on node {node}.")
elif args[:1] == ["wait"]:
    print(f"{args[-2]} condition met")
elif args[:1] == ["exec"]:
    pod = next(a for a in args[1:] if a.startswith("node-debugger-"))
    node = pod.removeprefix("node-debugger-").removesuffix("-pdx84")
    rest = args[args.index("--") + 1:]
    assert rest[:2] == ["chroot", "/host"], rest
    os.execvp("ip", ["ip", "netns", "exec", nodes.get(node, {}).get("netns", node), *rest[2:]])
elif args[:2] == ["delete", "pod"]:
    print(f'pod "{args[2]}" deleted')
else:
    sys.exit(f"fake kubectl: unexpected {args}")
"""


def install(tmp_path: Path, pods: list[dict], nodes: dict | None = None) -> tuple[dict, Path]:
    """The fake kubectl first on PATH, answering for `pods` (and `nodes`): the environment to run vethctl
    with, and the log of the calls it made (one JSON argv a line)."""
    (tmp_path / "cluster.json").write_text(json.dumps({"pods": pods, "nodes": nodes or {}}))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "kubectl").write_text(FAKE_KUBECTL)
    (bindir / "kubectl").chmod(0o700)
    log = tmp_path / "kubectl.log"
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "FAKE_CLUSTER": str(tmp_path / "cluster.json"),
        "FAKE_KUBECTL_LOG": str(log),
    }
    return env, log
