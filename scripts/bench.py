#!/usr/bin/env python3
"""`make bench`: vethctl against the baselines it replaces, in one run, alternating, on a lab node of its own.

Each benchmark prints its baseline, the medians and the ratio (vethctl / baseline; lower is better).
Only namespaces this script creates are used (a lab node `vb-<hex>`), and they are removed at the end.

  run          `vethctl run` vs the plain shell script of the same steps (same pod, same pings)
  attach       `vethctl up` + `vethctl down` vs the raw `ip` commands (interpreter included)
  parse        the streaming tcpdump parser over a 200,000-line ping flood between two lab pods, against
               `tcpdump -r` printing the same pcap: lines per second of each
  stream       `vethctl capture netns/POD --pcap -` vs `tcpdump -U -w -` alone, both on the pod's eth0, read
               from a pipe: latency (the packet's timestamp to its record read here) and a flood's throughput
  find         `vethctl find ip/ADDR` at 10, 250 and 1000 pods vs the scan it replaces (`ip netns exec NS ip a` in each
               namespace until the address shows up), for the pod the scan reaches last
  find6        the same by IPv6 address, on a lab of IPv6-only pods (Neighbor Discovery instead of ARP)
  up50         50 pods attached and detached in one invocation each (`vethctl up POD...` + `vethctl down
               SESSION...`) vs the hand loop of the 7 raw `ip` commands per pod
  startup      what vethctl's own start-up adds to the interpreter's import of plumbum and loguru, for
               find, up and run (each stopped by its preflight just before its first command)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VETHCTL = str(ROOT / ".venv" / "bin" / "vethctl")

# The walkthrough's attach steps, as a person types them; every baseline script starts with them.
_ATTACH = r"""
set -euo pipefail
node=$1 pod=$2 ping_to=${3:-} count=${4:-} interval=${5:-}
ip -n "$node" link add veth-a type veth peer name veth-b
ip -n "$node" link set veth-b netns "$pod"
ip -n "$pod" addr add 192.0.2.100/24 dev veth-b
ip -n "$node" addr add 192.0.2.200/24 dev veth-a
ip -n "$pod" link set dev veth-b up
ip -n "$node" link set dev veth-a up
"""
_DETACH = 'ip -n "$node" link del veth-a\n'

# The person's notes as a plain script: tcpdump in the background with a pause to let it start, and a
# pause before stopping it so that the last packets are printed. This is the named baseline.
SHELL_RUN = (
    _ATTACH
    + r"""ip -n "$pod" route
ip netns exec "$node" tcpdump -i veth-a -nn -l 'arp or icmp' &
sleep 1
ip netns exec "$pod" ping -c "$count" -i "$interval" "$ping_to" || true
sleep 1
kill -INT %1; wait
"""
    + _DETACH
)

# A stricter baseline, not how people write it: the same steps waiting on tcpdump's output instead of
# sleeping (the way vethctl's own transcript does it).
SHELL_RUN_NO_SLEEP = (
    _ATTACH
    + r"""ip -n "$pod" route
exec 3< <(exec ip netns exec "$node" tcpdump -i veth-a -nn -l 'arp or icmp' 2>&1)
tcpdump_pid=$!
while read -r line <&3; do [[ $line == "listening on"* ]] && break; done
ip netns exec "$pod" ping -c "$count" -i "$interval" "$ping_to" || true
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" || true
cat <&3 >/dev/null
"""
    + _DETACH
)

# Attach and detach only: the raw ip commands `vethctl up` + `vethctl down` replace.
RAW_ATTACH = _ATTACH + _DETACH


def timed(cmd: list[str], env=None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return elapsed


def alternate(name: str, baseline_name: str, ours, baseline, rounds: int) -> dict:
    ours_t, base_t = [], []
    for i in range(rounds):
        pair = [(ours_t, ours), (base_t, baseline)]
        for sink, fn in pair if i % 2 == 0 else reversed(pair):
            sink.append(fn())
    mo, mb = statistics.median(ours_t), statistics.median(base_t)
    print(
        f"{name}: vethctl median {mo * 1000:.1f} ms, {baseline_name} median {mb * 1000:.1f} ms over {rounds} rounds"
        f" each -> ratio {mo / mb:.2f}x"
    )
    return {
        "name": name,
        "baseline": baseline_name,
        "ours_ms": mo * 1000,
        "baseline_ms": mb * 1000,
        "ratio": mo / mb,
        "rounds": rounds,
    }


def bench_run(lab: dict, rounds: int, env) -> list[dict]:
    node, pod = lab["node_netns"], lab["pods"][0]["netns"]
    out = []
    scripts = {}
    for key, text in (("plain", SHELL_RUN), ("no-sleep", SHELL_RUN_NO_SLEEP)):
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(text)
        scripts[key] = fh.name
    try:
        for label, ping_to, extra, count, interval in (
            ("run, unreachable neighbour (3 pings, 1 s)", "192.0.2.101", [], "3", "1"),
            ("run, host end answers (3 pings, 0.2 s)", "192.0.2.200", ["--ping", "192.0.2.200"], "3", "0.2"),
        ):
            ours = [
                VETHCTL,
                "run",
                f"netns/{pod}",
                "--host-addr",
                "192.0.2.200/24",
                "--pod-addr",
                "192.0.2.100/24",
                "--count",
                count,
                "--interval",
                interval,
                *extra,
                "-o",
                "json",
            ]
            for key, baseline in (
                ("plain", "the plain shell script (tcpdump &; sleep 1; ping; sleep 1; kill)"),
                ("no-sleep", "the same script waiting on tcpdump's output, no sleeps"),
            ):
                base = ["bash", scripts[key], node, pod, ping_to, count, interval]
                out.append(
                    alternate(label, baseline, lambda o=ours: timed(o, env), lambda b=base: timed(b), rounds)
                )
    finally:
        for path in scripts.values():
            os.unlink(path)
    return out


def bench_attach(lab: dict, rounds: int, env) -> list[dict]:
    node, pod = lab["node_netns"], lab["pods"][0]["netns"]
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
        fh.write(RAW_ATTACH)

    def ours() -> float:
        t0 = time.perf_counter()
        up = subprocess.run(
            [VETHCTL, "up", f"netns/{pod}", "-o", "json"], capture_output=True, text=True, env=env
        )
        if up.returncode:
            raise SystemExit(up.stderr)
        session = json.loads(up.stdout)["session"]
        down = subprocess.run([VETHCTL, "down", session], capture_output=True, text=True, env=env)
        if down.returncode:
            raise SystemExit(down.stderr)
        return time.perf_counter() - t0

    try:
        return [
            alternate(
                "attach+detach (vethctl up + down)",
                "raw ip commands (7)",
                ours,
                lambda: timed(["bash", fh.name, node, pod]),
                rounds,
            )
        ]
    finally:
        os.unlink(fh.name)


# the parse alone (the lines already read), its wall-clock and its CPU time
PARSE = r"""
import sys, time, jc
from vethctl.parsers import tcpdump_s
lines = open(sys.argv[1]).read().splitlines()
t0, c0 = time.perf_counter(), time.process_time()
n = sum(1 for _ in jc.parse(tcpdump_s, lines))
print(time.perf_counter() - t0, n, time.process_time() - c0)
"""


def _children_cpu() -> float:
    """CPU seconds used so far by this process's ended children (user + system)"""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def bench_parse(lab: dict, rounds: int, env) -> list[dict]:
    """A flood between the lab's two pods, captured on the first pod's host veth, 200,000 lines."""
    a, b = lab["pods"][0], lab["pods"][1]
    tmp = Path(tempfile.mkdtemp(prefix="vethctl-bench-"))
    try:
        return _bench_parse(a, b, lab, tmp, rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench_parse(a: dict, b: dict, lab: dict, tmp: Path, rounds: int) -> list[dict]:
    pcap, text = tmp / "flood.pcap", tmp / "flood.txt"
    cap = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            lab["node_netns"],
            "tcpdump",
            "-i",
            a["host_veth"],
            "-nn",
            "-c",
            "200000",
            "-w",
            str(pcap),
            "icmp",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    flood = None
    try:
        wait_for_line(cap, "listening on", CAPTURE_READY_S)
        flood = subprocess.Popen(
            ["ip", "netns", "exec", a["netns"], "ping", "-f", "-q", b["ip"]], stdout=subprocess.DEVNULL
        )
        try:
            cap.wait(timeout=FLOOD_S)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"bench: the flood did not reach 200,000 packets in {FLOOD_S} s") from None
    finally:
        for proc in (flood, cap):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        cap.stderr.close()
    with open(text, "w") as fh:
        subprocess.run(
            ["tcpdump", "-r", str(pcap), "-nn", "-tt", "-e"], stdout=fh, stderr=subprocess.DEVNULL, check=True
        )
    lines = len(text.read_text().splitlines())
    py = str(ROOT / ".venv" / "bin" / "python")
    ours_t, base_t, ours_cpu, base_cpu = [], [], [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), _children_cpu()
        subprocess.run(
            ["tcpdump", "-r", str(pcap), "-nn", "-tt", "-e"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        base_t.append(time.perf_counter() - t0)
        base_cpu.append(_children_cpu() - c0)
        out = subprocess.run(
            [py, "-c", PARSE, str(text)], capture_output=True, text=True, check=True
        ).stdout.split()
        ours_t.append(float(out[0]))
        ours_cpu.append(float(out[2]))
        assert int(out[1]) == lines, (out, lines)
    ours, base = lines / statistics.median(ours_t), lines / statistics.median(base_t)
    # CPU time too: on a machine that runs other work, wall-clock rates follow the load; CPU time is the
    # work each side does (tcpdump's includes its start, the parser's only the parse)
    ours_c, base_c = lines / statistics.median(ours_cpu), lines / statistics.median(base_cpu)
    print(
        f"parse: {lines} lines of a ping flood; streaming parser {ours:,.0f} lines/s, tcpdump -r printing "
        f"{base:,.0f} lines/s (medians of {rounds}) -> ratio {ours / base:.2f}x (goal >= 0.8x); "
        f"in CPU time {ours_c:,.0f} and {base_c:,.0f} lines/s -> {ours_c / base_c:.2f}x (load {os.getloadavg()[0]:.1f})"
    )
    return [
        {
            "name": "parse",
            "baseline": "tcpdump -r",
            "ours_lines_per_s": ours,
            "baseline_lines_per_s": base,
            "ratio": ours / base,
            "cpu_ratio": ours_c / base_c,
            "lines": lines,
        }
    ]


SCAN = r"""
addr=$1
for ns in $(ip netns list | awk '{print $1}'); do
  if ip netns exec "$ns" ip -o addr show | grep -qw "inet $addr"; then echo "$ns"; exit 0; fi
done
exit 1
"""


CAPTURE_READY_S = 30  # tcpdump says "listening on" within this, or the benchmark stops
FLOOD_S = 300  # the flood's 200,000 packets are captured within this


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float) -> None:
    """Read proc's stderr until a line holds `needle`; stop the benchmark if it ends first (readline()
    then returns "") or says nothing of the kind within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stderr.readline()
        if not line:  # it ended
            raise SystemExit(
                f"bench: {proc.args[0]} ended (exit {proc.wait()}) before {needle!r}:\n{''.join(seen)}"
            )
        if needle in line:
            return
        seen.append(line)
    raise SystemExit(f"bench: no {needle!r} from {proc.args[0]} in {timeout} s:\n{''.join(seen)}")


# The command, in a pid namespace of its own: pids there start at 1 (this bash), so the last pid allocated
# in it, read at the end with a builtin (no new process), is the number of processes the command's tree
# made, whatever else the machine runs meanwhile. (bash: dash takes no file descriptor above 9.)
_COUNTED = 'rc=0; "$@" || rc=$?; read -r last < /proc/sys/kernel/ns_last_pid; echo "$last" >&{fd}; exit "$rc"'


def run_counted(cmd: list[str], env=None) -> tuple[str, int]:
    """Run cmd; its stdout and the number of processes it spawned (itself included)."""
    r, w = os.pipe()
    try:
        proc = subprocess.run(
            ["unshare", "--pid", "--fork", "--kill-child", "bash", "-c", _COUNTED.format(fd=w), "bash", *cmd],
            capture_output=True,
            text=True,
            env=env,
            pass_fds=(w,),
            timeout=300,
        )
        os.close(w)
        w = -1
        with os.fdopen(r, closefd=True) as fh:
            r = -1
            last = int(fh.read().strip() or 0)
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
    return proc.stdout, last - 1  # pid 1 is the bash that counts


LAB_NODE_PODS = 250  # the most pods a lab node holds: more make a lab cluster of several such nodes


def _find_against_scan(
    lab: dict, name: str, scan: str, what: str, rounds: int, env: dict, check
) -> list[dict]:
    """`vethctl find ip/ADDR` against the namespace scan `scan` (a bash script), for the lab pod the scan
    reaches last (`ip netns list` order): both must find it, and `check(find's JSON)` must hold. The lab is
    taken down at the end, whatever happened."""
    scan_script = None
    try:
        order = [
            line.split()[0]
            for line in subprocess.run(
                ["ip", "netns", "list"], capture_output=True, text=True
            ).stdout.splitlines()
            if line.strip()
        ]
        ours_pods = {p["netns"]: p for p in lab["pods"]}
        last = [ns for ns in order if ns in ours_pods][-1]
        addr = ours_pods[last]["ip"]
        visited = order.index(last) + 1
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(scan)
        scan_script = fh.name
        ours_cmd = [VETHCTL, "find", f"ip/{addr}", "-o", "json"]
        scan_cmd = ["bash", scan_script, addr]
        procs, ran = {}, {}
        for label, cmd in (("vethctl find", ours_cmd), ("scan", scan_cmd)):
            ran[label], procs[label] = run_counted(cmd, env)
        assert ran["scan"].strip() == last, (ran["scan"], last)  # both find the same pod, the scan's last
        mine = json.loads(ran["vethctl find"])
        assert mine["netns"] == last and check(mine), mine
        result = alternate(
            f"{what} (the scan visits {visited} namespaces)",
            "the scan",
            lambda: timed(ours_cmd, env),
            lambda: timed(scan_cmd),
            rounds,
        )
        print(
            f"  pids allocated (processes and threads): vethctl find {procs['vethctl find']} (itself, its threads"
            f" and {len(mine['commands'])} commands), the scan {procs['scan']}"
        )
        result["processes"] = procs
        result["commands"] = len(mine["commands"])
        return [result]
    finally:
        if scan_script:
            os.unlink(scan_script)
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)


def bench_find(pods: int, rounds: int, env) -> list[dict]:
    name = f"vb-{secrets.token_hex(3)}"
    nodes = -(-pods // LAB_NODE_PODS)
    up = [VETHCTL, "lab", "up", "--name", name, "--pods", str(pods // nodes), "-o", "json"]
    if nodes > 1:
        up[-2:-2] = ["--nodes", str(nodes)]
    print(f"find: building a lab of {nodes} node(s) with {pods} pods ...", flush=True)
    lab = json.loads(subprocess.run(up, check=True, capture_output=True, text=True, env=env).stdout)
    if nodes > 1:
        lab["pods"] = [p for node in lab["node_records"] for p in node["pods"]]
    return _find_against_scan(lab, name, SCAN, f"find ip/ at {pods} pods", rounds, env, lambda mine: True)


# The hand loop `vethctl up POD...` + `vethctl down SESSION...` replaces: the walkthrough's 7 ip commands for
# each pod, a /24 of 198.19.0.0/16 (the benchmark range) and links named vbh-N/vbp-N of its own per pod.
HAND_LOOP = r"""
set -euo pipefail
node=$1; shift
i=0
for pod in "$@"; do
  i=$((i + 1))
  ip -n "$node" link add "vbh-$i" type veth peer name "vbp-$i"
  ip -n "$node" link set "vbp-$i" netns "$pod"
  ip -n "$pod" addr add "198.19.$i.100/24" dev "vbp-$i"
  ip -n "$node" addr add "198.19.$i.200/24" dev "vbh-$i"
  ip -n "$pod" link set dev "vbp-$i" up
  ip -n "$node" link set dev "vbh-$i" up
done
i=0
for pod in "$@"; do
  i=$((i + 1))
  ip -n "$node" link del "vbh-$i"
done
"""


def bench_up_many(pods: int, rounds: int, env) -> list[dict]:
    """`vethctl up` of `pods` pods in one invocation and `vethctl down` of their sessions in another, against
    the hand loop of 7 `ip` commands per pod, on a lab node of its own."""
    name = f"vb-{secrets.token_hex(3)}"
    print(f"up{pods}: building a lab node with {pods} pods ...", flush=True)
    up = [VETHCTL, "lab", "up", "--name", name, "--pods", str(pods), "-o", "json"]
    lab = json.loads(subprocess.run(up, check=True, capture_output=True, text=True, env=env).stdout)
    script = None
    try:
        netns = [p["netns"] for p in lab["pods"]]
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(HAND_LOOP)
        script = fh.name

        def ours() -> float:
            t0 = time.perf_counter()
            out = subprocess.run(
                [VETHCTL, "up", *(f"netns/{n}" for n in netns), "-o", "json"],
                capture_output=True,
                text=True,
                env=env,
            )
            if out.returncode:
                raise SystemExit(f"bench: vethctl up failed ({out.returncode}):\n{out.stderr}")
            sessions = [s["session"] for s in json.loads(out.stdout)["sessions"]]
            assert len(sessions) == pods, out.stdout
            down = subprocess.run([VETHCTL, "down", *sessions], capture_output=True, text=True, env=env)
            if down.returncode:
                raise SystemExit(f"bench: vethctl down failed ({down.returncode}):\n{down.stderr}")
            return time.perf_counter() - t0

        return [
            alternate(
                f"{pods} pods attached and detached (vethctl up POD... + down SESSION...)",
                f"the hand loop of 7 ip commands per pod ({7 * pods})",
                ours,
                lambda: timed(["bash", script, lab["node_netns"], *netns]),
                rounds,
            )
        ]
    finally:
        if script:
            os.unlink(script)
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)


# Each command with no `ip` on its PATH: it starts, parses its arguments, sets up the audit log, imports its
# scenario and stops where its first command would run (up and run at their preflight, find at the spawn of
# its first `ip`): exit 4, "ip is not installed", nothing run.
STARTUP = {
    "find": ["find", "ip/192.0.2.1"],
    "up": ["up", "netns/vb-startup"],
    "run": ["run", "netns/vb-startup"],
}


def bench_startup(rounds: int, env) -> list[dict]:
    """vethctl's start-up above its libraries' floor (`python -c 'import plumbum, loguru'`, same interpreter):
    medians of alternating runs of the floor and each command."""
    py = str(ROOT / ".venv" / "bin" / "python")
    bare = {**env, "PATH": "/nonexistent"}
    cmds = {"floor": [py, "-c", "import plumbum, loguru"]}
    cmds |= {k: [VETHCTL, *argv] for k, argv in STARTUP.items()}
    for key, cmd in cmds.items():
        if key != "floor":  # each stops where it should, before any command
            proc = subprocess.run(cmd, capture_output=True, text=True, env=bare)
            assert proc.returncode == 4 and "ip is not installed" in proc.stderr, (key, proc.stderr)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for i in range(rounds):
        for key in list(cmds) if i % 2 == 0 else list(reversed(cmds)):
            t0 = time.perf_counter()
            subprocess.run(cmds[key], capture_output=True, env=bare)
            times[key].append(time.perf_counter() - t0)
    floor = statistics.median(times["floor"])
    out = []
    for key in STARTUP:
        mine = statistics.median(times[key])
        print(
            f"start-up of {key} until its first command: {mine * 1000:.1f} ms, the floor"
            f" (python -c 'import plumbum, loguru') {floor * 1000:.1f} ms -> {(mine - floor) * 1000:+.1f} ms"
            f" above it (goal <= ~10 ms; medians of {rounds}, load {os.getloadavg()[0]:.1f})"
        )
        out.append(
            {
                "name": f"start-up {key}",
                "baseline": "python -c 'import plumbum, loguru'",
                "ours_ms": mine * 1000,
                "baseline_ms": floor * 1000,
                "above_ms": (mine - floor) * 1000,
                "rounds": rounds,
            }
        )
    return out


# The scan for an IPv6 address: the same loop, matching the `inet6` line.
SCAN6 = SCAN.replace('"inet $addr"', '"inet6 $addr"')


def bench_find6(pods: int, rounds: int, env) -> list[dict]:
    """`vethctl find ip/IPV6` at `pods` IPv6-only pods against the scan, for the pod the scan reaches last."""
    name = f"vb-{secrets.token_hex(3)}"
    print(f"find6: building an IPv6-only lab node with {pods} pods ...", flush=True)
    lab = json.loads(
        subprocess.run(
            [VETHCTL, "lab", "up", "--name", name, "--family", "6", "--pods", str(pods), "-o", "json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
    )
    return _find_against_scan(
        lab,
        name,
        SCAN6,
        f"find ip/IPv6 at {pods} pods",
        rounds,
        env,
        lambda mine: not any("scan" in s for s in mine["resolved_by"]),
    )


# The probe as a person scripts it: tcpdump in the pod in the background, waiting on its output (no sleep),
# nc, then stop tcpdump and read what it printed.
SHELL_PROBE = r"""
set -euo pipefail
pod=$1 addr=$2 port=$3
exec 3< <(exec ip netns exec "$pod" tcpdump -i eth0 -nn -tt -e -l "tcp and host $addr and port $port" 2>&1)
tcpdump_pid=$!
while read -r line <&3; do [[ $line == *"listening on"* ]] && break; done
ip netns exec "$pod" nc -z -v -n -w 2 "$addr" "$port" || true
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" || true
cat <&3 >/dev/null
"""


def bench_probe(rounds: int, env) -> list[dict]:
    """`vethctl probe POD tcp:SERVER:8080` against the hand-written script of the same capture and nc."""
    name = f"vb-{secrets.token_hex(3)}"
    up = [VETHCTL, "lab", "up", "--name", name, "--pods", "2", "--servers", "-o", "json"]
    lab = json.loads(subprocess.run(up, check=True, capture_output=True, text=True, env=env).stdout)
    script = None
    try:
        pod, server = lab["pods"][0]["netns"], lab["servers"]["ip"]
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(SHELL_PROBE)
        script = fh.name
        ours = [VETHCTL, "probe", f"netns/{pod}", f"tcp:{server}:8080", "--count", "1", "-o", "json"]
        base = ["bash", script, pod, server, "8080"]
        return [
            alternate(
                "probe, TCP answered (1 connection)",
                "the script: tcpdump &, wait for it, nc, stop",
                lambda: timed(ours, env),
                lambda: timed(base),
                rounds,
            )
        ]
    finally:
        if script:
            os.unlink(script)
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)


def bench_trace_counters(rounds: int, env) -> list[dict]:
    """What reading the rules' counters, conntrack and the kernel's counters (before and after) adds to a trace
    of a TCP probe through a Service's DNAT: trace against trace --no-counters."""
    name = f"vb-{secrets.token_hex(3)}"
    up = [VETHCTL, "lab", "up", "--name", name, "--pods", "2", "--service", "web:80", "-o", "json"]
    lab = json.loads(subprocess.run(up, check=True, capture_output=True, text=True, env=env).stdout)
    try:
        pod, cip = lab["pods"][0]["netns"], lab["services"]["services"][0]["cluster_ip"]
        base = [VETHCTL, "trace", f"netns/{pod}", "--probe", f"tcp:{cip}:80", "--count", "1", "-o", "json"]
        return [
            alternate(
                "trace through a Service's DNAT, with counters",
                "the same trace --no-counters",
                lambda: timed(base, env),
                lambda: timed([*base, "--no-counters"], env),
                rounds,
            )
        ]
    finally:
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)


# The cross-node trace by hand: one tcpdump per interface on the path (each in its netns: the pod, node A's
# veth, bridge, VXLAN device and underlay, then node B's), each waited for, two pings, stop them all.
SHELL_TRACE = r"""
set -euo pipefail
pod=$1 dst=$2; shift 2
pids=()
for where in "$@"; do
  ns=${where%%:*} ifc=${where#*:}
  exec {fd}< <(exec ip netns exec "$ns" tcpdump -i "$ifc" -nn -tt -e -l icmp or udp port 8472 2>&1)
  pids+=($!)
  while read -r line <&$fd; do [[ $line == *"listening on"* ]] && break; done
done
ip netns exec "$pod" ping -c 2 -i 0.2 -W 1 "$dst" >/dev/null || true
kill -INT "${pids[@]}"; wait "${pids[@]}" || true
"""


def bench_nodes(rounds: int, env) -> list[dict]:
    """`vethctl trace` from a pod on one lab node to a pod on another, through the VXLAN overlay, against the
    hand procedure: a tcpdump on each of the ten interfaces (found by hand beforehand), two pings."""
    name = f"vb-{secrets.token_hex(3)}"
    up = [VETHCTL, "lab", "up", "--name", name, "--nodes", "2", "--pods", "1", "-o", "json"]
    lab = json.loads(subprocess.run(up, check=True, capture_output=True, text=True, env=env).stdout)
    script = None
    try:
        a, b = lab["node_records"]
        pod, dst = a["pods"][0]["netns"], b["pods"][0]["ip"]
        where = [f"{pod}:eth0", f"{a['name']}:{a['pods'][0]['host_veth']}", f"{a['name']}:cni0"]
        where += [
            f"{a['name']}:flannel.1",
            f"{a['name']}:eth0",
            f"{b['name']}:eth0",
            f"{b['name']}:flannel.1",
        ]
        where += [
            f"{b['name']}:cni0",
            f"{b['name']}:{b['pods'][0]['host_veth']}",
            f"{b['pods'][0]['netns']}:eth0",
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as fh:
            fh.write(SHELL_TRACE)
        script = fh.name
        ours = [VETHCTL, "trace", f"netns/{pod}", "--to", dst, "--count", "2", "-o", "json"]
        return [
            alternate(
                "trace across two nodes (VXLAN, 10 hops, 2 pings)",
                "by hand: 10 tcpdumps, each waited for, ping -c 2",
                lambda: timed(ours, env),
                lambda: timed(["bash", script, pod, dst, *where]),
                rounds,
            )
        ]
    finally:
        if script:
            os.unlink(script)
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)


# -- stream: `capture TARGET --pcap -` against `tcpdump -U -w -` alone ------------------------------------

STREAM_LATENCY_PINGS = 40  # echoes (80 packets on the pod's eth0) 50 ms apart, per round
STREAM_FLOOD = 10_000  # echoes of a flood (20,000 packets) per round, 1000 bytes of payload each
STREAM_WAIT_S = 120  # a round's packets are read within this, or the benchmark stops


class PcapReader:
    """The pcap stream of a capture's stdout, read as it comes: for each record, the time it was read here
    and its own timestamp (the kernel's, when the packet crossed the interface; both CLOCK_REALTIME)."""

    def __init__(self, fd: int):
        self.fd, self.buf, self.header = fd, b"", None
        self.read_at: list[float] = []
        self.stamped: list[float] = []
        self.bytes = 0

    def take(self, want: int, traffic: subprocess.Popen, deadline: float) -> None:
        """Read until `want` records came, or the traffic ended and the stream stayed quiet for a second
        (a capture drops what it cannot keep up with: the count says so)."""
        while len(self.read_at) < want:
            quiet = traffic.poll() is not None
            left = min(deadline - time.monotonic(), 1.0 if quiet else 0.2)
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                if quiet:
                    return
                if time.monotonic() >= deadline:
                    raise SystemExit(f"bench: the stream gave {len(self.read_at)} of {want} packets in time")
                continue
            chunk = os.read(self.fd, 1 << 20)
            now = time.time()
            if not chunk:
                return
            self.buf += chunk
            self._records(now)

    def _records(self, now: float) -> None:
        if self.header is None:
            if len(self.buf) < 24:
                return
            magic = self.buf[:4]
            order = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
            self.header, self.buf = (order + "IIII", 1e-9 if nano else 1e-6), self.buf[24:]
        fmt, unit = self.header
        while len(self.buf) >= 16:
            sec, frac, incl, _orig = struct.unpack(fmt, self.buf[:16])
            if len(self.buf) < 16 + incl:
                return
            self.buf = self.buf[16 + incl :]
            self.read_at.append(now)
            self.stamped.append(sec + frac * unit)
            self.bytes += 16 + incl


def _stream_round(cmd: list[str], ready: str, traffic: list[str], packets: int, env) -> PcapReader:
    """Start the capture, wait for its ready line on stderr (its other lines drained meanwhile: vethctl
    prints each packet there), send the traffic, read `packets` records from stdout, stop."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
    )
    started = threading.Event()

    def drain() -> None:
        for line in iter(proc.stderr.readline, b""):
            if ready.encode() in line:
                started.set()

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        if not started.wait(CAPTURE_READY_S):
            raise SystemExit(f"bench: no {ready!r} from {cmd[0]} in {CAPTURE_READY_S} s")
        reader = PcapReader(proc.stdout.fileno())
        sender = subprocess.Popen(traffic, stdout=subprocess.DEVNULL)
        try:
            reader.take(packets, sender, time.monotonic() + STREAM_WAIT_S)
        finally:
            if sender.wait(STREAM_WAIT_S) not in (0, 1):  # 1: some echo went unanswered
                raise SystemExit(f"bench: {' '.join(traffic)} failed (exit {sender.returncode})")
        return reader
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        t.join(5)
        proc.stdout.close()
        proc.stderr.close()


def bench_stream(lab: dict, rounds: int, env) -> list[dict]:
    """Pod A pings pod B (the lab's two pods); the capture is on A's eth0 from inside its namespace, by
    `vethctl capture netns/A --pcap -`, by `ip netns exec A tcpdump -U -w -` (the named baseline) and by the
    same with --immediate-mode (what vethctl runs), in turn. Latency: the median of (read from the pipe -
    the packet's own timestamp) over a round's packets, at 20 echoes a second; throughput: the packets of a
    flood's round read from the pipe per second, first to last, and the share of them that reached it."""
    a, b = lab["pods"][0], lab["pods"][1]
    sides = {
        "vethctl capture --pcap -": (
            [VETHCTL, "capture", f"netns/{a['netns']}", "--pcap", "-"],
            "capturing on",
        ),
        "tcpdump -U -w - alone": (["ip", "netns", "exec", a["netns"], "tcpdump", "-U"], "listening on"),
        "tcpdump --immediate-mode -U -w -": (
            ["ip", "netns", "exec", a["netns"], "tcpdump", "--immediate-mode", "-U"],
            "listening on",
        ),
    }

    def argv(side: str, count: int) -> list[str]:
        cmd, _ = sides[side]
        if cmd[0] == VETHCTL:
            return [*cmd, "--filter", "icmp", "--count", str(count)]
        return [*cmd, "-i", "eth0", "-nn", "-c", str(count), "-w", "-", "icmp"]

    pings = ["ip", "netns", "exec", a["netns"], "ping", "-n", "-q", "-c", str(STREAM_LATENCY_PINGS)]
    pings += ["-i", "0.05", b["ip"]]
    flood = ["ip", "netns", "exec", a["netns"], "ping", "-f", "-q", "-s", "1000", "-c", str(STREAM_FLOOD)]
    flood.append(b["ip"])
    lat = {side: [] for side in sides}
    thr = {side: [] for side in sides}
    names = list(sides)
    for i in range(rounds):
        order = names[i % 3 :] + names[: i % 3]
        for side in order:
            n = 2 * STREAM_LATENCY_PINGS
            r = _stream_round(argv(side, n), sides[side][1], pings, n, env)
            lat[side].append(statistics.median(t - s for t, s in zip(r.read_at, r.stamped, strict=True)))
        for side in order:
            n = 2 * STREAM_FLOOD
            r = _stream_round(argv(side, n), sides[side][1], flood, n, env)
            span = r.read_at[-1] - r.read_at[0]
            thr[side].append(((len(r.read_at) - 1) / span, r.bytes / span / 1e6, len(r.read_at) / n))
    load = os.getloadavg()[0]
    out = []
    ours = names[0]
    lo = statistics.median(lat[ours])
    po = statistics.median(p for p, _, _ in thr[ours])
    for base in names[1:]:
        lb = statistics.median(lat[base])
        pb = statistics.median(p for p, _, _ in thr[base])
        print(
            f"stream latency (wire to pipe, {2 * STREAM_LATENCY_PINGS} packets a round): {ours} median "
            f"{lo * 1e6:,.0f} us, {base} {lb * 1e6:,.0f} us over {rounds} rounds each -> ratio {lo / lb:.3f}x "
            f"(load {load:.1f})"
        )
        out.append(
            {
                "name": "stream latency",
                "baseline": base,
                "ours_us": lo * 1e6,
                "baseline_us": lb * 1e6,
                "ratio": lo / lb,
                "rounds": rounds,
                "load": load,
            }
        )
    for base in names[1:]:
        pb = statistics.median(p for p, _, _ in thr[base])
        mo, mb = (statistics.median(m for _, m, _ in thr[s]) for s in (ours, base))
        fo, fb = (min(f for _, _, f in thr[s]) for s in (ours, base))
        so, sb = (statistics.median(f for _, _, f in thr[s]) for s in (ours, base))
        print(
            f"stream throughput (a flood, {2 * STREAM_FLOOD} packets of 1042 bytes a round): {ours} "
            f"{po:,.0f} packets/s ({mo:.1f} MB/s), {base} {pb:,.0f} packets/s ({mb:.1f} MB/s) -> ratio "
            f"{po / pb:.2f}x; share of the flood that reached the pipe: median {so:.0%} and {sb:.0%}, worst round "
            f"{fo:.0%} and {fb:.0%}"
        )
        out.append(
            {
                "name": "stream throughput",
                "baseline": base,
                "ours_packets_per_s": po,
                "baseline_packets_per_s": pb,
                "ours_mb_per_s": mo,
                "baseline_mb_per_s": mb,
                "ratio": po / pb,
                "ours_delivered_median": so,
                "baseline_delivered_median": sb,
                "ours_delivered_min": fo,
                "baseline_delivered_min": fb,
                "rounds": rounds,
            }
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "which",
        nargs="*",
        default=[
            "startup",
            "run",
            "attach",
            "up50",
            "parse",
            "stream",
            "find",
            "find6",
            "probe",
            "counters",
            "nodes",
        ],
    )
    ap.add_argument(
        "--pods",
        default="10,250,1000",
        help="pods for the find benchmark, one lab each (default 10,250,1000); find6 takes the largest",
    )
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces)", file=sys.stderr)
        return 4
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, Linux {platform.release()},"
        f" Python {platform.python_version()}"
    )
    env = {
        **os.environ,
        "VETHCTL_AUDIT_LOG": os.path.join(tempfile.gettempdir(), "vethctl-bench-audit.jsonl"),
    }
    name = f"vb-{secrets.token_hex(3)}"
    lab = json.loads(
        subprocess.run(
            [VETHCTL, "lab", "up", "--name", name, "--pods", "2", "-o", "json"],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
    )
    results = []
    try:
        pods = [int(n) for n in str(args.pods).split(",")]
        if "startup" in args.which:
            results += bench_startup(args.rounds * 3, env)
        if "run" in args.which:
            results += bench_run(lab, max(3, args.rounds // 2), env)
        if "attach" in args.which:
            results += bench_attach(lab, args.rounds * 3, env)
        if "up50" in args.which:
            results += bench_up_many(50, args.rounds, env)
        if "parse" in args.which:
            results += bench_parse(lab, args.rounds, env)
        if "stream" in args.which:
            results += bench_stream(lab, args.rounds, env)
        if "find" in args.which:
            for n in pods:
                results += bench_find(n, args.rounds, env)
        if "find6" in args.which:
            results += bench_find6(min(max(pods), 250), args.rounds, env)
        if "probe" in args.which:
            results += bench_probe(args.rounds, env)
        if "counters" in args.which:
            results += bench_trace_counters(args.rounds, env)
        if "nodes" in args.which:
            results += bench_nodes(args.rounds, env)
    finally:
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
