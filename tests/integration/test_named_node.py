"""vethctl run inside a node's namespace that also has a name (a lab node; or a host whose root namespace was
given a name with `ip netns attach`): one namespace, one identity, whatever it is called. And teardown
that never stops half-way, and the window between creating a pair and tagging it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time

from tests.support import replays
from tests.support.cli import VETHCTL, hook, wait_gone
from tests.support.netstate import ip_json, snapshot, tagged_links


def inside(node: str, *args: str, check: bool = True, env: dict | None = None):
    """vethctl as a user runs it from inside the node's namespace: `ip netns exec NODE vethctl ...`."""
    proc = subprocess.run(
        ["ip", "netns", "exec", node, VETHCTL, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vethctl {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def start_inside(node: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        ["ip", "netns", "exec", node, VETHCTL, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry))
    return kids


def wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.02)


def audit_says(path, needle: str):
    return lambda: os.path.exists(path) and needle in open(path).read()


def kill_all(pids) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _record_of(pid: int) -> dict:
    sessions = os.path.join(os.environ["VETHCTL_STATE_DIR"], "sessions")
    for name in os.listdir(sessions):
        with open(os.path.join(sessions, name)) as fh:
            rec = json.load(fh)
        if rec.get("pid") == pid:
            return rec
    raise AssertionError(f"no session record of pid {pid}")


def test_gc_inside_a_named_node_ends_the_orphans_and_removes_the_pair_once(scratch_lab, tmp_path):
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][0]
    before = {"node": snapshot(node), "pod": snapshot(pod["netns"])}
    audit = tmp_path / "audit.jsonl"
    env = {"VETHCTL_AUDIT_LOG": str(audit)}
    # a filter that matches nothing: an orphaned tcpdump that prints into the dead vethctl's pipe dies of
    # SIGPIPE by itself, and would then not be gc's to end
    args = ("run", f"netns/{pod['netns']}", "--count", "30", "--interval", "0.5", "--filter", "udp port 9")
    proc = start_inside(node, *args, env=env)
    orphans = []
    try:
        wait_for(audit_says(audit, '"ping"'), proc, "the ping")
        wait_for(lambda: len(_record_of(proc.pid)["jobs"]) == 2, proc, "tcpdump and ping recorded")
        orphans = children(proc.pid)
        assert len(orphans) == 2
        session = _record_of(proc.pid)["session"]
        proc.kill()  # vethctl alone: its capture and its ping live on
        proc.wait()
        with replays.machine_wide_gc():  # it looks at every lab node, the replays' too
            gc = inside(node, "-v", "gc", "-o", "json", env=env)
        result = json.loads(gc.stdout)
        assert [r["links"] for r in result["removed"] if r["session"] == session] == [[f"vh-{session}"]]
        dels = [
            line for line in gc.stderr.splitlines() if f"link del dev vh-{session}" in line and "$ " in line
        ]
        assert len(dels) == 1, gc.stderr  # one namespace, deleted from once
        assert sorted(s["pid"] for s in result["stopped"] if s["session"] == session) == sorted(orphans)
        for pid in orphans:
            wait_gone(pid)
        assert {"node": snapshot(node), "pod": snapshot(pod["netns"])} == before
    finally:
        kill_all(orphans)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_up_and_down_inside_a_named_node(scratch_lab):
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][0]
    before = {"node": snapshot(node), "pod": snapshot(pod["netns"])}
    up = json.loads(inside(node, "up", f"netns/{pod['netns']}", "-o", "json").stdout)
    status = json.loads(inside(node, "status", "-o", "json").stdout)
    assert [s["host_if"] for s in status["sessions"] if s["session"] == up["session"]] == [up["host"]["name"]]
    down = json.loads(inside(node, "down", up["session"], "-o", "json").stdout)
    assert down["removed"] == [{"session": up["session"], "links": [up["host"]["name"]]}]
    assert {"node": snapshot(node), "pod": snapshot(pod["netns"])} == before


def test_the_machine_sees_a_session_made_inside_a_named_node(scratch_lab):
    """Made from inside the node, seen from the machine's own namespace: found once, removed once."""
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][1]
    up = json.loads(inside(node, "up", f"netns/{pod['netns']}", "-o", "json").stdout)
    down = subprocess.run(
        [VETHCTL, "down", up["session"], "-o", "json"], capture_output=True, text=True, timeout=60
    )
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["removed"] == [{"session": up["session"], "links": [up["host"]["name"]]}]
    assert tagged_links(node) == []


def test_down_reports_a_link_already_gone_and_goes_on(scratch_lab):
    """Two sessions; the first one's pair is removed behind vethctl's back after it looked: the second is
    still removed, and the first counts as removed (the kernel took it)."""
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][0]
    first = json.loads(inside(node, "up", f"netns/{pod['netns']}", "-o", "json").stdout)
    second = json.loads(inside(node, "up", f"netns/{pod['netns']}", "-o", "json").stdout)
    gone = first["host"]["name"]
    env = hook("teardown:0", ["ip", "-n", node, "link", "del", gone])
    down = inside(node, "down", first["session"], second["session"], "-o", "json", env=env, check=False)
    assert down.returncode == 0, down.stderr
    removed = {r["session"]: r["links"] for r in json.loads(down.stdout)["removed"]}
    assert removed == {first["session"]: [gone], second["session"]: [second["host"]["name"]]}
    assert tagged_links(node) == []


def _pair_names(links: list[dict]) -> set[str]:
    return {link["ifname"] for link in links}


def test_sigkill_before_the_tag_leaves_a_pair_gc_removes_by_its_recorded_names(scratch_lab, tmp_path):
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][1]
    before = {"node": snapshot(node), "pod": snapshot(pod["netns"])}
    tag = secrets.token_hex(3)
    # '#' starts a comment in an `ip -batch` line: the node's attach commands then run one by one (else the
    # pair is made and tagged by one process), and the hook can stop vethctl between them
    host_if, pod_if = f"vt-h#{tag}", f"vt-p{tag}"
    # a look-alike nobody recorded: same host name pattern, never ours
    other = f"vt-o{tag}"
    subprocess.run(
        ["ip", "-n", node, "link", "add", other, "type", "veth", "peer", "name", other + "p"], check=True
    )
    marker = tmp_path / "marker"
    proc = start_inside(
        node,
        "run",
        f"netns/{pod['netns']}",
        "--host-if",
        host_if,
        "--pod-if",
        pod_if,
        env=hook("attach:1", ["touch", str(marker)], ["sleep", "30"]),
    )
    try:
        wait_for(marker.exists, proc, "the pair made, not yet tagged")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert host_if in _pair_names(ip_json("link", "show", netns=node)) and tagged_links(node) == []
        with replays.machine_wide_gc():  # it looks at every lab node, the replays' too
            gc = json.loads(inside(node, "gc", "-o", "json").stdout)
        mine = [r for r in gc["removed"] if r["links"] == [host_if]]
        assert len(mine) == 1 and "never tagged" in mine[0]["why"], gc
        assert not any(other in r["links"] for r in gc["removed"])
        names = _pair_names(ip_json("link", "show", netns=node))
        assert host_if not in names and other in names
        assert pod_if not in _pair_names(ip_json("link", "show", netns=pod["netns"]))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        subprocess.run(["ip", "-n", node, "link", "del", other], capture_output=True)
        subprocess.run(["ip", "-n", node, "link", "del", host_if], capture_output=True)
    assert {"node": snapshot(node), "pod": snapshot(pod["netns"])} == before


def test_an_untagged_pair_whose_peer_has_another_name_is_left_alone(scratch_lab, tmp_path):
    """The host name matches a dead session's record, the peer's does not: not ours, gc leaves it."""
    node, pod = scratch_lab["node_netns"], scratch_lab["pods"][1]
    tag = secrets.token_hex(3)
    host_if, pod_if = f"vt-h{tag}", f"vt-p{tag}"
    marker = tmp_path / "marker"
    proc = start_inside(
        node,
        "run",
        f"netns/{pod['netns']}",
        "--host-if",
        host_if,
        "--pod-if",
        pod_if,
        env=hook("attach:0", ["touch", str(marker)], ["sleep", "30"]),
    )
    try:
        wait_for(marker.exists, proc, "the record written, nothing made yet")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        subprocess.run(
            [
                "ip",
                "-n",
                node,
                "link",
                "add",
                host_if,
                "type",
                "veth",
                "peer",
                "name",
                "vt-x" + tag,
                "netns",
                pod["netns"],
            ],
            check=True,
        )
        with replays.machine_wide_gc():  # it looks at every lab node, the replays' too
            gc = json.loads(inside(node, "gc", "-o", "json").stdout)
        assert not any(host_if in r["links"] for r in gc["removed"])
        assert host_if in _pair_names(ip_json("link", "show", netns=node))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        subprocess.run(["ip", "-n", node, "link", "del", host_if], capture_output=True)


def test_a_netns_file_we_may_not_read_is_permission_denied_not_missing(tmp_path):
    """As an unprivileged user with --sudo (commands through sudo, files read as the user): /proc/1/ns/net is
    there but not readable."""
    env = {**os.environ, "VETHCTL_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "HOME": str(tmp_path)}
    os.chmod(tmp_path, 0o777)
    for target in ("pid/1", "nspath/proc/1/ns/net"):
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                VETHCTL,
                "run",
                target,
                "--sudo",
                "--dry-run",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert proc.returncode == 4, (target, proc.stderr)
        assert "permission denied" in proc.stderr and "run as root" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_lab_down_knows_its_outside_namespace_under_a_second_name():
    """`ip netns list-id` names a namespace by whichever of its names it meets first: the lab's outside
    namespace, given a second name, is still the one its uplink leads into, and goes with the lab."""
    name = f"vt-{secrets.token_hex(3)}"
    alias = f"{name}-alias"
    env = {**os.environ}
    subprocess.run(
        [VETHCTL, "lab", "up", "--name", name, "--pods", "1", "--uplink"],
        check=True,
        capture_output=True,
        env=env,
    )
    try:
        open(f"/var/run/netns/{alias}", "w").close()
        subprocess.run(
            ["mount", "--bind", f"/var/run/netns/{name}-out", f"/var/run/netns/{alias}"], check=True
        )
        down = subprocess.run(
            [VETHCTL, "lab", "down", "--name", name, "-o", "json"], capture_output=True, text=True, env=env
        )
        assert down.returncode == 0, down.stderr
        assert f"{name}-out" in json.loads(down.stdout)["removed"]
        assert not os.path.exists(f"/var/run/netns/{name}-out")
    finally:
        subprocess.run(["ip", "netns", "del", alias], capture_output=True)
        subprocess.run([VETHCTL, "lab", "down", "--name", name], capture_output=True, env=env)
        subprocess.run(["ip", "netns", "del", f"{name}-out"], capture_output=True)
