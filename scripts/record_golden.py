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
]


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def main() -> int:
    if os.geteuid() != 0:
        print("record_golden: run as root (it makes a lab)", file=sys.stderr)
        return 4
    wanted = set(sys.argv[1:])
    OUT.mkdir(parents=True, exist_ok=True)
    state = tempfile.mkdtemp(prefix="vethctl-golden-state-")
    tmp = tempfile.mkdtemp(prefix="vethctl-golden-tmp-")
    lab_name, lab2 = f"vg-{secrets.token_hex(3)}", f"vg-{secrets.token_hex(3)}"
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
    }
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
            print(f"{name}: exit {case['rc']}, {len(case['commands'])} commands, {len(case['facts'])} facts")
    finally:
        if pinger:
            pinger.kill()
        subprocess.run([VETHCTL, "lab", "down", "--name", lab2], env=env, capture_output=True)
        subprocess.run([VETHCTL, "lab", "down", "--name", lab_name], env=env, capture_output=True)
        subprocess.run(["rm", "-rf", state, tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
