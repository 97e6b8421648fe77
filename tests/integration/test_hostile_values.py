"""Valid but hostile-looking values: argv end to end (never a shell), and a transcript that quotes them right."""

from __future__ import annotations

import json
import subprocess

from tests.support.cli import vethctl
from tests.support.netstate import snapshot, tagged_links

HOSTILE_NETNS = "vt pod;$(touch PWNED)'\"`x`"


def test_hostile_names_paths_and_filters_run_and_replay(lab, pod, state, tmp_path):
    holder = subprocess.Popen(["ip", "netns", "exec", pod["netns"], "sleep", "120"])
    subprocess.run(["ip", "netns", "attach", HOSTILE_NETNS, str(holder.pid)], check=True)
    try:
        pcap = tmp_path / "cap ture $(touch PWNED) 'x'.pcap"
        script = tmp_path / "re play;'.sh"
        args = [
            "run",
            f"netns/{HOSTILE_NETNS}",
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
        assert r["target"]["netns"] == HOSTILE_NETNS and r["veth"]["host"]["name"] == "vt$h'x"
        assert len([p for p in r["capture"]["packets"] if p.get("arp_op") == "request"]) == 3
        assert pcap.exists()
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
        pcap.unlink()
        replay = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=60
        )
        assert replay.returncode == 0, replay.stderr
        assert replay.stdout.count("Request who-has") == 3 and pcap.exists()
        assert not list(tmp_path.rglob("PWNED")), "a value was executed by a shell"
        assert tagged_links(lab["node_netns"]) == [] and tagged_links(pod["netns"]) == []
        assert snapshot(lab["node_netns"]) == state["node"] and snapshot(pod["netns"]) == state["pod"]
    finally:
        subprocess.run(["ip", "netns", "del", HOSTILE_NETNS], check=False)
        holder.kill()
        holder.wait()
