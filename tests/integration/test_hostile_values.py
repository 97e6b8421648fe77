"""Valid but hostile-looking values: argv end to end (never a shell), and a transcript that quotes them right."""

from __future__ import annotations

import json
import subprocess

from tests.support import replays
from tests.support.cli import vethctl
from tests.support.holders import unique_name
from tests.support.netstate import snapshot, tagged_links


def test_hostile_names_paths_and_filters_run_and_replay(lab, pod, state, tmp_path, hold_netns):
    # the pod's namespace under a second, hostile-looking name of this run's own
    hostile_netns = unique_name("vt pod;$(touch PWNED)'\"`x`-")
    hold_netns(pod["netns"], attach=hostile_netns)
    pcap = tmp_path / "cap ture $(touch PWNED) 'x'.pcap"
    script = tmp_path / "re play;'.sh"
    args = [
        "run",
        f"netns/{hostile_netns}",
        "--host-if",
        "vt$h'x",
        "--pod-if",
        'vt"p;`',
        "--pcap",
        str(pcap),
        "--transcript",
        str(script),
        "--filter",
        "arp or (icmp and not host 192.0.2.1)",
        "-o",
        "json",
    ]
    r = json.loads(vethctl(*args, cwd=tmp_path).stdout)
    assert r["target"]["netns"] == hostile_netns and r["veth"]["host"]["name"] == "vt$h'x"
    assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) == 3
    assert pcap.exists()
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    pcap.unlink()
    replay = replays.replay(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout.count("Request who-has") == 3 and pcap.exists()
    assert not list(tmp_path.rglob("PWNED")), "a value was executed by a shell"
    assert tagged_links(lab["node_netns"]) == [] and tagged_links(pod["netns"]) == []
    assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
