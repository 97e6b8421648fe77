"""`vethctl run` against real lab pods: the walkthrough and its promises (dry-run, transcript, audit, keep)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.support import replays
from tests.support.cli import vethctl
from tests.support.netstate import ip_json, snapshot, tagged_links

WHO_HAS = re.compile(r"Request who-has (\S+) tell (\S+),")


def run_json(pod, *args):
    return json.loads(vethctl("run", f"netns/{pod['netns']}", *args, "-o", "json").stdout)


def test_unreachable_neighbour_shows_arp_who_has(lab, pod, state):
    report = run_json(pod)
    pod_end = report["veth"]["pod"]["address"].split("/")[0]
    target = report["ping_target"]
    assert target.endswith(".101") and pod_end.endswith(".100")
    who_has = [p for p in report["capture"]["packets"] if p.get("arp_op") == "request"]
    assert len(who_has) == 3, report["capture"]["packets"]
    assert all(p["target_ip"] == target and p["sender_ip"] == pod_end for p in who_has)
    assert not [p for p in report["capture"]["packets"] if p.get("arp_op") == "reply"]
    assert not [p for p in report["capture"]["packets"] if p.get("protocol") == "icmp"]
    ping = report["ping"]
    assert ping["packets_transmitted"] == 3 and ping["packets_received"] == 0 and ping["errors"] == 3
    assert {r["type"] for r in ping["responses"]} == {"destination_host_unreachable"}
    assert any("nobody answered" in o for o in report["observations"])
    assert report["teardown"]["done"] is True
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_reachable_host_end_shows_arp_reply_and_echo(lab, pod, state):
    report = run_json(
        pod,
        "--ping",
        "192.0.2.200",
        "--host-addr",
        "192.0.2.200/24",
        "--pod-addr",
        "192.0.2.100/24",
        "--interval",
        "0.2",
    )
    packets = report["capture"]["packets"]
    assert [p["arp_op"] for p in packets if p.get("arp_op")][:2] == ["request", "reply"]
    reply = next(p for p in packets if p.get("arp_op") == "reply")
    assert reply["sender_ip"] == "192.0.2.200"
    requests = [p for p in packets if p.get("icmp_type") == "echo request"]
    replies = [p for p in packets if p.get("icmp_type") == "echo reply"]
    assert [p["icmp_seq"] for p in requests] == [1, 2, 3]
    assert [p["icmp_seq"] for p in replies] == [1, 2, 3]
    assert all(p["src_ip"] == "192.0.2.100" and p["dst_ip"] == "192.0.2.200" for p in requests)
    assert report["ping"]["packets_received"] == 3
    assert report["capture"]["counters"]["captured"] == len(packets)
    assert any("answered ARP" in o for o in report["observations"])
    assert snapshot(pod["netns"]) == state["pod"]


def test_json_report_has_the_contract_fields(pod, state):
    r = run_json(pod, "--count", "1")
    assert {"kind", "netns", "netns_path", "pod_ip"} <= r["target"].keys()
    assert r["target"] == r["target"] | {"kind": "netns", "netns": pod["netns"], "pod_ip": pod["ip"]}
    assert {"name", "address"} <= r["veth"]["host"].keys() and {"name", "address"} <= r["veth"]["pod"].keys()
    assert any(route.get("dev") == r["veth"]["pod"]["name"] for route in r["routes"])
    assert {"packets_transmitted", "packets_received", "responses"} <= r["ping"].keys()
    assert {"interface", "filter", "pcap", "packets"} <= r["capture"].keys()
    assert r["capture"]["interface"] == r["veth"]["host"]["name"] and r["capture"]["filter"] == "arp or icmp"
    for c in r["commands"]:
        assert {"argv", "netns", "rc", "duration_s"} <= c.keys() and isinstance(c["argv"], list)
    assert r["observations"] and all(isinstance(o, str) for o in r["observations"])
    assert r["teardown"] == r["teardown"] | {"done": True}


def test_mtu_of_both_ends_copies_the_pods_eth0(lab, pod, state):
    def mtu(netns, dev):
        return ip_json("link", "show", "dev", dev, netns=netns)[0]["mtu"]

    subprocess.run(["ip", "-n", pod["netns"], "link", "set", "eth0", "mtu", "1400"], check=True)
    session = None
    try:  # the pod's MTU is put back whatever fails, run_json included: the lab is shared by the session
        r = run_json(pod, "--count", "1", "--keep")
        session = r["session"]
        assert r["veth"]["mtu"] == 1400
        assert mtu(lab["node_netns"], r["veth"]["host"]["name"]) == 1400  # the host end
        assert mtu(pod["netns"], r["veth"]["pod"]["name"]) == 1400  # and the pod end
    finally:
        if session:
            vethctl("down", session)
        subprocess.run(["ip", "-n", pod["netns"], "link", "set", "eth0", "mtu", "1500"], check=True)


def everything_a_run_could_change(lab, pod) -> dict:
    """Links, addresses and routes of both sides, and what else a run could leave: session records,
    neighbours, sysctls, firewall rules."""
    state_dir = Path(os.environ["VETHCTL_STATE_DIR"])
    out = {"records": sorted(str(p.relative_to(state_dir)) for p in state_dir.rglob("*"))}
    for side, netns in (("node", lab["node_netns"]), ("pod", pod["netns"])):
        out[side] = snapshot(netns)
        out[f"{side} neighbours"] = sorted(
            (n.get("dst"), n.get("dev"), n.get("lladdr")) for n in ip_json("neigh", "show", netns=netns)
        )
        sysctl = subprocess.run(
            ["ip", "netns", "exec", netns, "sysctl", "-a", "--pattern", r"^net\.ipv[46]\.(conf|ip_forward)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        out[f"{side} sysctls"] = sysctl.splitlines()
        rules = subprocess.run(
            ["ip", "netns", "exec", netns, "iptables-save"], capture_output=True, text=True, check=True
        ).stdout
        out[f"{side} iptables"] = [line for line in rules.splitlines() if not line.startswith("#")]
    return out


def test_dry_run_changes_nothing(lab, pod, state):
    before = everything_a_run_could_change(lab, pod)
    proc = vethctl("run", f"netns/{pod['netns']}", "--dry-run")
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == f"ip -n {lab['node_netns']} -batch - <<'VETHCTL_EOF'"  # the node's attach commands
    assert lines[1].startswith("link add vh-")
    assert any(" tcpdump -i vh-" in line and line.endswith(" &") for line in lines)
    assert any(" ping " in line for line in lines)
    assert lines[-1].startswith(f"ip -n {lab['node_netns']} link del")
    for line in lines:
        shlex.split(line)  # every line is valid shell
    after = everything_a_run_could_change(lab, pod)
    assert after == before, [k for k in before if after[k] != before[k]]


def test_transcript_replays_with_bash_and_leaves_nothing(lab, pod, state, tmp_path):
    script = tmp_path / "run.sh"
    report = json.loads(
        vethctl("run", f"netns/{pod['netns']}", "--transcript", str(script), "-o", "json").stdout
    )
    seen_by_run = [(p["target_ip"], p["sender_ip"]) for p in report["capture"]["packets"] if p.get("arp_op")]
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    seen_by_replay = WHO_HAS.findall(replay.stdout)
    assert seen_by_replay == seen_by_run and len(seen_by_replay) == 3
    assert "listening on" in replay.stderr
    assert tagged_links(lab["node_netns"]) == [] and tagged_links(pod["netns"]) == []
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_transcript_of_a_dry_run_replays_the_same_plan(lab, pod, state, tmp_path):
    script = tmp_path / "plan.sh"
    dry = vethctl("run", f"netns/{pod['netns']}", "--dry-run", "--transcript", str(script)).stdout
    text = script.read_text()
    for line in dry.splitlines():
        if not line.startswith("kill "):
            assert line.removesuffix(" &") in text
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert len(WHO_HAS.findall(replay.stdout)) == 3
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_audit_log_has_every_command_before_and_after(pod, state, tmp_path):
    log = tmp_path / "audit.jsonl"
    r = json.loads(
        vethctl("--audit-log", str(log), "run", f"netns/{pod['netns']}", "--count", "1", "-o", "json").stdout
    )
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    starts = [e for e in entries if e["event"] == "start"]
    ends = [e for e in entries if e["event"] == "end"]
    assert len(starts) == len(ends) == len(r["commands"])
    assert sorted(e["argv"] for e in ends) == sorted(c["argv"] for c in r["commands"])
    for e in ends:
        assert isinstance(e["rc"], int) and e["duration_s"] >= 0 and e["session"] in (None, r["session"])
    attach = [e for e in starts if e["argv"] == ["ip", "-n", r["node"].split()[-1], "-batch", "-"]]
    assert len(attach) == 1 and attach[0]["lines"][0].startswith("link add vh-")  # a batch's own commands


def test_verbose_shows_commands_on_stderr(pod, state):
    proc = vethctl("-v", "run", f"netns/{pod['netns']}", "--count", "1")
    assert "$ ip -n" in proc.stderr and "link add" in proc.stderr and "exit 0" in proc.stderr


def test_keep_leaves_exactly_the_two_ends(lab, pod, state):
    r = run_json(pod, "--count", "1", "--keep")
    host, pod_end = r["veth"]["host"], r["veth"]["pod"]
    try:
        assert r["teardown"]["done"] is False and r["teardown"]["how"] == f"vethctl down {r['session']}"
        node_after, pod_after = snapshot(lab["node_netns"]), snapshot(pod["netns"])
        new_node = [x for x in node_after["links"] if x not in state["node"]["links"]]
        new_pod = [x for x in pod_after["links"] if x not in state["pod"]["links"]]
        assert [x["ifname"] for x in new_node] == [host["name"]]
        assert [x["ifname"] for x in new_pod] == [pod_end["name"]]
        assert new_pod[0]["addrs"] == [(pod_end["address"].split("/")[0], 24)]
        assert tagged_links(lab["node_netns"]) == [host["name"]] and tagged_links(pod["netns"]) == [
            pod_end["name"]
        ]
        # the pod's other links are untouched
        assert [x for x in pod_after["links"] if x["ifname"] != pod_end["name"]] == state["pod"]["links"]
    finally:
        down = vethctl("down", r["session"])
    assert host["name"] in down.stdout
    assert snapshot(pod["netns"]) == state["pod"] and snapshot(lab["node_netns"]) == state["node"]


def test_pcap_file_holds_the_packets(pod, state, tmp_path):
    pcap = tmp_path / "cap.pcap"
    r = run_json(pod, "--pcap", str(pcap), "--count", "1")
    assert r["capture"]["pcap"] == str(pcap)
    text = subprocess.run(
        ["tcpdump", "-r", str(pcap), "-nn", "-tt", "-e"], capture_output=True, text=True
    ).stdout
    assert len(text.strip().splitlines()) == len(r["capture"]["packets"]) >= 1


def test_nspath_and_pid_targets_run_like_named_ones(lab, pod, state, hold_netns):
    by_path = json.loads(
        vethctl("run", f"nspath//var/run/netns/{pod['netns']}", "--count", "1", "-o", "json").stdout
    )
    assert by_path["target"]["netns"] == pod["netns"] and by_path["target"]["pod_ip"] == pod["ip"]
    holder = hold_netns(pod["netns"])
    r = json.loads(vethctl("run", f"pid/{holder.pid}", "--count", "1", "-o", "json").stdout)
    assert r["target"]["kind"] == "pid" and r["target"]["netns"] is None
    assert r["target"]["pod_ip"] == pod["ip"] and r["node"] == f"netns {lab['node_netns']}"
    assert any(c["argv"][:2] == ["nsenter", f"--net={holder.path}"] for c in r["commands"])
    assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) >= 1
    assert snapshot(pod["netns"]) == state["pod"]


def test_bad_filter_is_exit_2_and_changes_nothing(lab, pod, state):
    proc = vethctl("run", f"netns/{pod['netns']}", "--filter", "arp or", check=False)
    assert proc.returncode == 2
    assert "--filter" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]


def test_missing_target_is_exit_3(state):
    proc = vethctl("run", "netns/vt-no-such-namespace", check=False)
    assert proc.returncode == 3 and "no network namespace named" in proc.stderr


def test_subnet_in_use_by_the_pod_is_refused(lab, pod, state):
    proc = vethctl(
        "run", f"netns/{pod['netns']}", "--pod-addr", f"{pod['ip'].rsplit('.', 1)[0]}.77/24", check=False
    )
    assert proc.returncode == 2 and "overlaps" in proc.stderr
    assert snapshot(pod["netns"]) == state["pod"]


def test_text_mode_shows_packets_and_ping_lines_live_on_stderr(pod, state):
    proc = vethctl("run", f"netns/{pod['netns']}")
    live = [line.strip() for line in proc.stderr.splitlines()]
    assert [line for line in live if "ARP request  who-has" in line][:1] and len(
        [line for line in live if "ARP request" in line]
    ) == 3
    assert [line.split(":")[0].strip() for line in live if "unreachable" in line] == [
        "ping  seq 1",
        "ping  seq 2",
        "ping  seq 3",
    ]
    assert "ping  3 sent, 0 received" in live
    assert "ARP request" not in proc.stderr.split("ping  3 sent")[1]  # the stream ended before the report
    assert proc.stdout.startswith("vethctl run ")


def test_a_subnet_the_pod_routes_elsewhere_is_not_chosen(lab, pod, state):
    """The pod routes 192.0.2.0/24 by its gateway: a veth there would hijack that traffic."""
    route = ["192.0.2.0/24", "via", lab["gateway"], "dev", "eth0"]
    subprocess.run(["ip", "-n", pod["netns"], "route", "add", *route], check=True)
    try:
        lines = vethctl("run", f"netns/{pod['netns']}", "--dry-run").stdout.splitlines()
    finally:
        subprocess.run(["ip", "-n", pod["netns"], "route", "del", *route], check=True)
    assert any(line.endswith("addr add 198.51.100.100/24 dev " + line.split()[-1]) for line in lines), lines
    assert not any("192.0.2." in line for line in lines)


def test_sudo_runs_and_its_transcript_replays_through_sudo(lab, pod, state, tmp_path):
    """--sudo as root: the run itself needs no sudo (it is root), the transcript and the dry-run say sudo
    before every command, and the transcript replays through the real sudo."""
    script = tmp_path / "sudo.sh"
    r = json.loads(
        vethctl("run", f"netns/{pod['netns']}", "--sudo", "--transcript", str(script), "-o", "json").stdout
    )
    assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) == 3
    assert all(c["argv"][0] != "sudo" for c in r["commands"])  # root: run as they are
    # every command the script runs (first word of a line, or after `<(exec `, `rc=0; `, `&& `) is sudo's:
    # a user who needs --sudo cannot even `kill -0` a process of root's
    unprefixed = re.compile(r"(^\s*|<\(exec |rc=0; |&& )(ip|kill|nsenter|tcpdump|ping) ")
    text = script.read_text()
    assert not [line for line in text.splitlines() if unprefixed.search(line)], text
    assert "sudo kill -0" in text and "sudo kill -INT" in text
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert len(WHO_HAS.findall(replay.stdout)) == 3
    dry = vethctl("run", f"netns/{pod['netns']}", "--sudo", "--dry-run").stdout.splitlines()
    commands, here = [], False  # the lines of an `ip -batch -` here-document are its input, not commands
    for line in dry:
        if not here:
            commands.append(line)
        here = line.endswith("<<'VETHCTL_EOF'") or (here and line != "VETHCTL_EOF")
    assert len(commands) < len(dry) and all(line.startswith("sudo ") for line in commands), dry
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
