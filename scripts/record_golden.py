#!/usr/bin/env python3
"""Record the golden cases (tests/golden/plans/*.json) from a real lab: as root, on a lab of its own.

    .venv/bin/python scripts/record_golden.py [CASE ...]

Each case runs the CLI once through tests/support/golden_run.py in record mode: its args, the facts the node
answered, the commands run and what was printed. Re-record only when a change of behaviour is intended, and
say so in the commit: the golden tests exist to show that a change of the inside changed nothing outside.
Only namespaces this script creates are used (a lab `vg-<hex>` with an uplink), removed at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "golden" / "plans"
VETHCTL = str(ROOT / ".venv" / "bin" / "vethctl")

# name, args (with {pod} {pod2} {pod_ip} {gw} {lab} {lab2} {sid} filled in), what runs meanwhile
CASES = [
    ("run-unreachable-json", "run netns/{pod} --count 2 --interval 0.2 -o json"),
    (
        "run-host-end-text",
        "run netns/{pod} --ping 192.0.2.200 --host-addr 192.0.2.200/24 --pod-addr 192.0.2.100/24"
        " --count 2 --interval 0.2 --pcap <TMP>/run.pcap",
    ),
    ("run-dry-run", "run netns/{pod} --dry-run"),
    ("run-transcript-json", "run netns/{pod} --count 1 --interval 0.2 --transcript <TMP>/t.sh -o json"),
    ("run-by-ip-keep-json", "run ip/{pod_ip} --count 1 --keep -o json"),
    ("down-after-keep-json", "down {sid} -o json"),
    ("find-ip-json", "find ip/{pod_ip} -o json"),
    ("find-netns-text", "find netns/{pod}"),
    ("routes-json", "routes netns/{pod} --to 203.0.113.7 -o json"),
    ("ping-json", "ping netns/{pod} {gw} --count 2 --interval 0.2 -o json"),
    ("trace-out-json", "trace netns/{pod} --to 203.0.113.7 -o json"),
    ("trace-gateway-text", "trace netns/{pod} --to {gw}"),
    ("capture-iface-json", "capture --iface eth0 --netns {pod} --count 3 -o json"),
    ("capture-read-json", "capture --read tests/fixtures/linux/tcpdump-icmp.pcap -o json"),
    ("up-json", "up netns/{pod2} -o json"),
    ("status-json", "status -o json"),
    ("down-json", "down {sid} -o json"),
    ("up-many-json", "up netns/{pod} netns/{pod2} -o json"),
    ("down-many-json", "down {sids} -o json"),
    ("lab-up-json", "lab up --name {lab2} --pods 2 -o json"),
    ("lab-status-text", "lab status"),
    ("lab-down-json", "lab down --name {lab2} -o json"),
    ("error-no-such-netns", "run netns/vg-no-such-namespace"),
    ("error-bad-filter", "run netns/{pod} --filter 'not a filter ((('"),
    ("error-ip-not-here", "find ip/203.0.113.99"),
    # -- a lab with servers, a policy and Services ({labs}: made before, kept to the end) --------------------
    ("probe-tcp-open-json", "probe netns/{pods} tcp:{srv}:8080 --count 1 --timeout 1 -o json"),
    ("probe-tcp-dropped-text", "probe netns/{pods} tcp:{srv}:8081 --count 1 --timeout 1"),
    ("probe-tcp-rejected-json", "probe netns/{pods} tcp:{srv}:8082 --count 1 --timeout 1 -o json"),
    ("probe-tcp-refused-text", "probe netns/{pods} tcp:{srv}:8090 --count 1 --timeout 1"),
    ("probe-udp-echo-json", "probe netns/{pods} udp:{srv}:9000 --count 1 --timeout 1 -o json"),
    ("probe-udp-dropped-text", "probe netns/{pods} udp:{srv}:9001 --count 1 --timeout 1"),
    ("probe-dns-text", "probe netns/{pods} dns:www.lab.example@{srv} --count 1 --timeout 1"),
    ("probe-icmp-json", "probe netns/{pods} icmp:{srv} --count 1 --timeout 1 -o json"),
    ("probe-service-text", "probe netns/{pods} tcp:{web}:80 --count 1 --timeout 1"),
    ("probe-service-no-endpoints-json", "probe netns/{pods} tcp:{empty}:81 --count 1 --timeout 1 -o json"),
    ("trace-service-json", "trace netns/{pods} --probe tcp:{web}:80 --count 1 --timeout 1 -o json"),
    ("trace-service-udp-text", "trace netns/{pods} --probe dns:web.lab.example@{kdns} --count 1 --timeout 1"),
    # -- a cluster of two nodes (vxlan, an underlay MTU too small for the overlay's): {labc} -----------------
    ("trace-cluster-text", "trace netns/{podc} --to {podc2_ip} --count 1"),
    ("trace-cluster-mtu-json", "trace netns/{podc} --to {podc2_ip} --count 1 --size 1422 -o json"),
    # -- `lab up` of each shape, on {lab3} (removed after each: the recorded pods' names repeat) -------------
    (
        "lab-up-services-text",
        "lab up --name {lab3} --policy --service web:80 --service kdns:53/udp:53 --service empty:81:none --uplink",
    ),
    ("lab-down-services-json", "lab down --name {lab3} -o json"),
    (
        "lab-up-nftables-text",
        "lab up --name {lab3} --pods 1 --service web:80:8081 --service echo:7/udp --service gone:443:none"
        " --proxy-mode nftables",
    ),
    ("lab-up-legacy-text", "lab up --name {lab3} --pods 1 --service web:80 --proxy-mode iptables-legacy"),
    ("lab-up-dual-ptp-text", "lab up --name {lab3} --family dual --cni ptp --servers --policy --uplink"),
    ("lab-up-v6-json", "lab up --name {lab3} --family 6 --pods 1 --uplink -o json"),
    ("lab-up-vxlan-json", "lab up --name {lab3} --nodes 2 --pods 1 --underlay-mtu 1400 -o json"),
    ("lab-down-cluster-json", "lab down --name {lab3} -o json"),
    ("lab-up-routed-text", "lab up --name {lab3} --nodes 3 --pods 1 --overlay routed"),
    ("error-bad-service", "lab up --name {lab3} --service web:http"),
]
# after these cases, {lab3} is removed (not recorded)
DOWN_AFTER = {
    "lab-up-nftables-text",
    "lab-up-legacy-text",
    "lab-up-dual-ptp-text",
    "lab-up-v6-json",
    "lab-up-routed-text",
}


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def extra_labs(env: dict, labs: str, labc: str) -> dict:
    """The second lab (servers, a policy, Services of each kind) and the third (a cluster of two nodes)."""
    up = [VETHCTL, "lab", "up", "-o", "json", "--name"]
    s = json.loads(
        sh(
            *up,
            labs,
            "--pods",
            "2",
            "--policy",
            "--service",
            "web:80",
            "--service",
            "kdns:53/udp:53",
            "--service",
            "empty:81:none",
            "--uplink",
            env=env,
        ).stdout
    )
    svc = {x["name"].split("/")[1]: x["cluster_ip"] for x in s["services"]["services"]}
    sh(*up, labc, "--nodes", "2", "--pods", "1", "--underlay-mtu", "1400", env=env)
    nodes = {r["name"]: r for r in json.loads(sh(VETHCTL, "lab", "status", "-o", "json", env=env).stdout)}
    first, second = nodes[f"{labc}-1"], nodes[f"{labc}-2"]
    return {
        "pods": s["pods"][0]["netns"],
        "srv": s["servers"]["ip"],
        "web": svc["web"],
        "kdns": svc["kdns"],
        "empty": svc["empty"],
        "podc": first["pods"][0]["netns"],
        "podc2_ip": second["pods"][0]["ip"],
    }


def main() -> int:
    if os.geteuid() != 0:
        print("record_golden: run as root (it makes a lab)", file=sys.stderr)
        return 4
    wanted = set(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    state = tempfile.mkdtemp(prefix="vethctl-golden-state-")
    tmp = tempfile.mkdtemp(prefix="vethctl-golden-tmp-")
    lab_name, lab2 = f"vg-{secrets.token_hex(3)}", f"vg-{secrets.token_hex(3)}"
    labs, labc, lab3 = (f"vg-{secrets.token_hex(3)}" for _ in range(3))
    env = {
        **os.environ,
        "VETHCTL_STATE_DIR": state,
        "VETHCTL_AUDIT_LOG": "/dev/null",
        "GOLDEN_STATE": state,
        "GOLDEN_TMP": tmp,
    }
    lab = json.loads(
        sh(VETHCTL, "lab", "up", "--name", lab_name, "--pods", "2", "--uplink", "-o", "json", env=env).stdout
    )
    values = {
        "pod": lab["pods"][0]["netns"],
        "pod2": lab["pods"][1]["netns"],
        "pod_ip": lab["pods"][0]["ip"],
        "gw": lab["gateway"],
        "lab": lab_name,
        "lab2": lab2,
        "sid": "",
        "sids": "",  # the sessions of up-many-json, one argument each
        "labs": labs,
        "labc": labc,
        "lab3": lab3,
        **dict.fromkeys(("pods", "srv", "web", "kdns", "empty", "podc", "podc2_ip"), ""),
    }
    new = {name for name, _ in CASES[CASES.index(("error-ip-not-here", "find ip/203.0.113.99")) + 1 :]}
    if not wanted or wanted & new:
        values.update(extra_labs(env, labs, labc))
    pinger = None
    try:
        for name, template in CASES:
            import shlex

            args = [
                x
                for a in shlex.split(template)
                for x in (values["sids"].split() if a == "{sids}" else [a.format(**values)])
            ]
            if wanted and name not in wanted:
                continue
            if name.startswith("capture-iface"):  # traffic to capture
                pinger = subprocess.Popen(
                    ["ip", "netns", "exec", values["pod"], "ping", "-q", "-i", "0.2", values["gw"]],
                    stdout=subprocess.DEVNULL,
                )
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            path = OUT / f"{name}.json"
            subprocess.run(
                [sys.executable, "-m", "tests.support.golden_run", "record", str(path), "--", *args],
                cwd=ROOT,
                env=env,
                check=True,
            )
            if pinger:
                pinger.kill()
                pinger.wait()
                pinger = None
            case = json.loads(path.read_text())
            if name in ("run-by-ip-keep-json", "up-json"):
                values["sid"] = json.loads(case["stdout"])["session"]
            if name == "up-many-json":
                values["sids"] = " ".join(s["session"] for s in json.loads(case["stdout"])["sessions"])
            if name in DOWN_AFTER:
                subprocess.run([VETHCTL, "lab", "down", "--name", lab3], env=env, capture_output=True)
            print(f"{name}: exit {case['rc']}, {len(case['commands'])} commands, {len(case['facts'])} facts")
    finally:
        if pinger:
            pinger.kill()
        for extra in (lab3, labc, labs):
            subprocess.run([VETHCTL, "lab", "down", "--name", extra], env=env, capture_output=True)
        subprocess.run([VETHCTL, "lab", "down", "--name", lab2], env=env, capture_output=True)
        subprocess.run([VETHCTL, "lab", "down", "--name", lab_name], env=env, capture_output=True)
        subprocess.run(["rm", "-rf", state, tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
