"""render: the shell text a user reads or replays. A whole transcript as written; a transcript replayed by
bash against stand-ins for ip, tcpdump and ping (the order it runs things in, what it undoes when it stops
half-way); the dry-run of background jobs, servers and streamed captures; quoting of hostile values."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from vethctl import render
from vethctl.model import Attachment, Netns, Node, PcapHome, VethEnd
from vethctl.plan import Plan, Step
from vethctl.plan.capture import capture_steps
from vethctl.plan.run import build_run
from vethctl.probespec import parse_probe

POD = Netns.named("cni-1234")


def attachment() -> Attachment:
    return Attachment(
        session="0123abcd",
        host_end=VethEnd("vh-0123abcd", ipaddress.ip_interface("203.0.113.200/24"), None),
        pod_end=VethEnd("vp-0123abcd", ipaddress.ip_interface("203.0.113.100/24"), POD),
        mtu=None,
        owner_pid=4242,
    )


def run_plan(**kw) -> Plan:
    args = dict(
        ping_addr=ipaddress.ip_address("203.0.113.101"),
        count=2,
        interval=1.0,
        filter_expr="arp or icmp",
        pcap=None,
        keep=False,
        pod_captures={"eth1": "udp"},
    )
    return build_run(attachment(), **(args | kw))


@pytest.fixture
def clock(monkeypatch):
    """The transcript's date, fixed, on a machine whose local time is not UTC (the date is written in UTC)."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 30, 18, 5, 9, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(render, "datetime", Clock)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_transcript_with_sudo_a_streamed_pcap_and_a_dns_probe_as_written(clock):
    plan = run_plan(
        pcap="/tmp/run 1.pcap", pcap_home=True, probes=[parse_probe("dns:web.example@198.51.100.53:5353")]
    )
    script = render.transcript(plan, Node(sudo=True), header="vethctl run cni-1234\n--pcap '/tmp/run 1.pcap'")
    assert script == "\n".join(
        [
            "#!/usr/bin/env bash",
            "# vethctl run cni-1234",
            "# --pcap '/tmp/run 1.pcap'",
            "# written by vethctl on 2026-11-30T18:05:09Z",
            "# replay: `bash THIS_FILE`",
            "set -euo pipefail",
            "",
            "# if the script stops before its own teardown, undo what it created",
            "cleanup() {",
            '  [ -n "${capture_pid:-}" ] && sudo kill -INT "${capture_pid}" 2>/dev/null || true',
            '  [ -n "${podcap_eth1_pid:-}" ] && sudo kill -INT "${podcap_eth1_pid}" 2>/dev/null || true',
            "  sudo ip link del dev vh-0123abcd 2>/dev/null || true",
            "}",
            "trap cleanup EXIT",
            "",
            "exec 4>&1  # the capture prints its packets here",
            "",
            "# --- attach",
            "# on the node: create the pair vh-0123abcd <-> vp-0123abcd, tag, address",
            "sudo ip -batch - <<'VETHCTL_EOF'",
            "link add vh-0123abcd type veth peer name vp-0123abcd netns cni-1234",
            "link set dev vh-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
            "addr add 203.0.113.200/24 dev vh-0123abcd",
            "VETHCTL_EOF",
            "# in the pod: tag vp-0123abcd, bring it up, address it",
            "sudo ip -n cni-1234 -batch - <<'VETHCTL_EOF'",
            "link set dev vp-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
            "addr add 203.0.113.100/24 dev vp-0123abcd",
            "VETHCTL_EOF",
            "# --- observe",
            "# the pod's routes, and which interface each destination leaves by",
            "sudo ip -n cni-1234 -j -batch - <<'VETHCTL_EOF'",
            "route show",
            "route get 203.0.113.101",
            "route get 198.51.100.53",
            "VETHCTL_EOF",
            "# --- capture",
            "# capture on vh-0123abcd; wait until tcpdump says it is listening",
            "exec 5< <(exec sudo tcpdump -i vh-0123abcd --immediate-mode -B 32768 -U -w - -- 'arp or icmp' 2>&1"
            " > >(tee '/tmp/run 1.pcap' | tcpdump -r - -nn -tt -e -l -T domain >&4))",
            "capture_pid=$!",
            "while IFS= read -r line <&5; do echo \"$line\" >&2; [[ $line == *'listening on '* ]] && break; done",
            'sudo kill -0 "$capture_pid"  # still running: it is listening',
            "# capture on eth1; wait until tcpdump says it is listening",
            "exec 6< <(exec sudo ip netns exec cni-1234 tcpdump -i eth1 -nn -tt -e -l --immediate-mode -T domain"
            " -- udp 2>&1 >&4)",
            "podcap_eth1_pid=$!",
            "while IFS= read -r line <&6; do echo \"$line\" >&2; [[ $line == *'listening on '* ]] && break; done",
            'sudo kill -0 "$podcap_eth1_pid"  # still running: it is listening',
            "# --- probe",
            "# ping 203.0.113.101 from the pod (2 × every 1 s)",
            "rc=0; sudo ip netns exec cni-1234 ping -n -D -c 2 -i 1 203.0.113.101 || rc=$?",
            "[ $rc -eq 0 ] || [ $rc -eq 1 ]  # exit 1: an answer, not an error",
            "# ask 198.51.100.53 for web.example from the pod to dns:web.example@198.51.100.53:5353",
            "rc=0; sudo ip netns exec cni-1234 dig @198.51.100.53 -p 5353 +time=2 +tries=2 web.example A || rc=$?",
            "[ $rc -eq 0 ] || [ $rc -eq 9 ]  # exit 9: an answer, not an error",
            "# --- capture",
            "# stop the capture on vh-0123abcd once every packet is printed",
            'sudo kill -INT "$capture_pid"',
            'wait "$capture_pid" || true',
            "cat <&5 >&2; exec 5<&-  # tcpdump's own summary",
            "# stop the capture on eth1 once every packet is printed",
            'sudo kill -INT "$podcap_eth1_pid"',
            'wait "$podcap_eth1_pid" || true',
            "cat <&6 >&2; exec 6<&-  # tcpdump's own summary",
            "# --- teardown",
            "# remove the veth pair (deleting vh-0123abcd removes vp-0123abcd too)",
            "sudo ip link del dev vh-0123abcd",
            "",
            "trap - EXIT",
            "",
        ]
    )


def test_a_transcript_without_sudo_is_replayed_as_root_and_a_plan_that_creates_nothing_has_no_cleanup(clock):
    step = Step(("ip", "-j", "route", "show"), POD, purpose="the pod's routes", phase="observe")
    script = render.transcript(Plan((step,)), Node(), header="vethctl routes cni-1234")
    assert script == (
        "#!/usr/bin/env bash\n"
        "# vethctl routes cni-1234\n"
        "# written by vethctl on 2026-11-30T18:05:09Z\n"
        "# replay: as root on the node, `bash THIS_FILE`\n"
        "set -euo pipefail\n"
        "\n"
        "# --- observe\n"
        "# the pod's routes\n"
        "ip -n cni-1234 -j route show\n"
    )


def test_a_command_with_several_codes_that_are_answers():
    step = Step(("nc", "-z", "198.51.100.7", "80"), ok_codes=frozenset({0, 2, 1}), phase="probe")
    script = render.transcript(Plan((step,)), Node(), header="")
    assert "rc=0; nc -z 198.51.100.7 80 || rc=$?\n[ $rc -eq 0 ] || [ $rc -eq 1 ] || [ $rc -eq 2 ]" in script
    assert script.endswith("  # exit 1, 2: an answer, not an error\n")


# -- a transcript replayed against stand-ins -----------------------------------------------------------------

IP = """#!/bin/bash
if [ "$1" = netns ] && [ "$2" = exec ]; then shift 3; exec "$@"; fi
echo "ip $*" >>"$STUB_LOG"
case " $* " in *" -batch "*) sed 's/^/  /' >>"$STUB_LOG";; esac
case " $* " in *" -j "*) echo '[]';; esac
"""
PING = """#!/bin/bash
echo "ping $*" >>"$STUB_LOG"
echo "64 bytes from ${@: -1}: icmp_seq=1 ttl=64 time=0.05 ms"
exit "${PING_RC:-0}"
"""
TCPDUMP = """#!{python}
import os, signal, sys
iface = sys.argv[sys.argv.index("-i") + 1]
def log(text):
    with open(os.environ["STUB_LOG"], "a") as fh:
        fh.write(text + "\\n")
def stop(*_):
    log(f"tcpdump on {{iface}} stopped")
    print("1 packet captured", file=sys.stderr, flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, stop)
signal.alarm(60)  # never outlives its test, even when a broken transcript never stops it
log(f"tcpdump on {{iface}} started")
print(f"1764525909.000000 a packet on {{iface}}", flush=True)
print(f"listening on {{iface}}, link-type EN10MB (Ethernet)", file=sys.stderr, flush=True)
while True:
    signal.pause()
"""


def replay(tmp_path, plan: Plan, **env) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The plan's transcript run by bash with ip, ping and tcpdump stood in for (they log what they are asked
    to do); returns once every process it started has closed the output (the captures included)."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, text in (("ip", IP), ("ping", PING), ("tcpdump", TCPDUMP.format(python=sys.executable))):
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    log = tmp_path / "log"
    log.write_text("")
    script = tmp_path / "replay.sh"
    script.write_text(render.transcript(plan, Node(), header="replayed"))
    with subprocess.Popen(
        ["bash", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=os.environ | {"PATH": f"{stubs}:{os.environ['PATH']}", "STUB_LOG": str(log)} | env,
    ) as bash:
        try:
            out, err = bash.communicate(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(bash.pid, signal.SIGKILL)  # whatever it left running: the stand-ins it started
    return subprocess.CompletedProcess(bash.args, bash.returncode, out, err), log.read_text().splitlines()


ATTACHED = [
    "ip -batch -",
    "  link add vh-0123abcd type veth peer name vp-0123abcd netns cni-1234",
    "  link set dev vh-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
    "  addr add 203.0.113.200/24 dev vh-0123abcd",
    "ip -n cni-1234 -batch -",
    "  link set dev vp-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
    "  addr add 203.0.113.100/24 dev vp-0123abcd",
    "ip -n cni-1234 -j -batch -",
    "  route show",
    "  route get 203.0.113.101",
    "tcpdump on vh-0123abcd started",
    "tcpdump on eth1 started",
    "ping -n -D -c 2 -i 1 203.0.113.101",
]


def test_a_replayed_transcript_runs_the_plan_in_order_and_undoes_once(tmp_path):
    proc, log = replay(tmp_path, run_plan())
    assert proc.returncode == 0, proc.stderr
    assert log == [
        *ATTACHED,
        "tcpdump on vh-0123abcd stopped",
        "tcpdump on eth1 stopped",
        "ip link del dev vh-0123abcd",
    ]
    assert sorted(proc.stdout.splitlines()) == [
        "1764525909.000000 a packet on eth1",
        "1764525909.000000 a packet on vh-0123abcd",
        "64 bytes from 203.0.113.101: icmp_seq=1 ttl=64 time=0.05 ms",
        "[]",
    ]
    said = proc.stderr.splitlines()
    assert (
        "listening on vh-0123abcd, link-type EN10MB (Ethernet)" in said
        and said.count("1 packet captured") == 2
    )


def test_a_replay_that_fails_half_way_stops_the_captures_and_removes_the_pair(tmp_path):
    """ping exits 2 (an error, not "no reply"): set -e ends the script, its EXIT trap undoes what it made."""
    proc, log = replay(tmp_path, run_plan(), PING_RC="2")
    assert proc.returncode == 1  # the check of ping's code: 2 is not an answer
    assert log[: len(ATTACHED)] == ATTACHED
    assert sorted(log[len(ATTACHED) :]) == [
        "ip link del dev vh-0123abcd",
        "tcpdump on eth1 stopped",
        "tcpdump on vh-0123abcd stopped",
    ]


# -- dry-run --------------------------------------------------------------------------------------------------


def test_a_dry_run_numbers_its_jobs_starts_servers_detached_and_stops_with_sudo():
    lab = Netns.named("lab-a")
    server = Step(
        ("nc", "-lk", "8080"), lab, purpose="TCP listener on 8080", phase="lab", daemon=True, key="tcp"
    )
    first, stop_first = capture_steps("eth0", "tcp", None, key="a", netns=lab)
    second, stop_second = capture_steps("eth1", "tcp", "/tmp/b.pcap", key="b", netns=lab)
    plan = Plan((server, first, second, stop_second, stop_first))
    assert render.dry_run(plan, Node(sudo=True)).splitlines() == [
        "sudo ip netns exec lab-a nc -lk 8080 </dev/null >/dev/null 2>&1 &",
        "sudo ip netns exec lab-a tcpdump -i eth0 -nn -tt -e -l --immediate-mode -- tcp &",
        "sudo ip netns exec lab-a tcpdump -i eth1 -nn -tt -e -l --immediate-mode -w /dev/stdin --print -- tcp"
        " 0>/tmp/b.pcap &",
        "sudo kill -INT %2",
        "sudo kill -INT %1",
    ]


def test_a_streamed_capture_is_written_with_tee_and_printed_by_tcpdump_r():
    plan = run_plan(pcap="/tmp/x y.pcap", pcap_home=True, pod_captures=None)
    [line] = [x for x in render.dry_run(plan, Node()).splitlines() if x.endswith("&")]
    assert line == (
        "tcpdump -i vh-0123abcd --immediate-mode -B 32768 -U -w - -- 'arp or icmp'"
        " | tee '/tmp/x y.pcap' | tcpdump -r - -nn -tt -e -l &"
    )


def test_a_here_document_ends_at_its_last_line():
    assert render.here_document("ip -batch -", "link del dev a\nlink del dev vh-X\n\n") == [
        "ip -batch - <<'VETHCTL_EOF'",
        "link del dev a",
        "link del dev vh-X",
        "VETHCTL_EOF",
    ]
    assert render.here_document("nc -u 198.51.100.7 7", "a payload \t\n") == [
        "nc -u 198.51.100.7 7 <<'VETHCTL_EOF'",
        "a payload \t",  # data: kept to its last blank
        "VETHCTL_EOF",
    ]


# -- quoting --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arg,quoted",
    [
        ("vh-1", "vh-1"),
        ("a b", "'a b'"),
        ("$(reboot)", "'$(reboot)'"),
        ("", "''"),
        ("X\x01", "$'X\\x01'"),  # a letter stays a letter inside $'...'
        ("a\\b\x1b", "$'a\\\\b\\x1b'"),
        ("\u202e", "$'\\xe2\\x80\\xae'"),
        (os.fsdecode(b"eth\xff"), "$'eth\\xff'"),  # a byte that is no UTF-8 (a name read from the kernel)
    ],
)
def test_each_argument_reads_back_as_given(arg, quoted):
    assert render.quote(arg) == quoted
    if "\udcff" not in arg:
        out = subprocess.run(["bash", "-c", f"printf '%s' {quoted}"], capture_output=True, check=True).stdout
        assert out == arg.encode()


def test_a_comment_is_one_line_each_blank_lines_without_trailing_space():
    assert render.comment("first\n\n  indented \x1b") == "# first\n#\n#   indented \\x1b"
    assert render.command_text(("ip", "link", "set", "dev", "a b")) == "ip link set dev 'a b'"


def test_the_cleanup_of_a_transcript_holds_what_the_plan_made():
    """A trace makes nothing but its captures: its cleanup stops them; a plan of attachments without a capture
    undoes them, last made first removed, and has no capture output to set up."""
    from vethctl.plan.session import create_pairs
    from vethctl.plan.trace import build_trace

    trace = build_trace(
        [("eth0", POD)], "icmp", POD, ipaddress.ip_address("198.51.100.7"), count=1, interval=1.0
    )
    script = render.transcript(trace, Node(), header="")
    assert (
        'cleanup() {\n  [ -n "${hop0_pid:-}" ] && kill -INT "${hop0_pid}" 2>/dev/null || true\n}\n' in script
    )
    assert "exec 4>&1" in script and script.endswith(
        "\ncat <&5 >&2; exec 5<&-  # tcpdump's own summary\n\ntrap - EXIT\n"
    )

    second = dataclasses.replace(
        attachment(), host_end=VethEnd("vh-second", attachment().host_end.address, None)
    )
    script = render.transcript(Plan(tuple(create_pairs([attachment(), second]))), Node(), header="")
    assert (
        "cleanup() {\n"
        "  ip link del dev vh-second 2>/dev/null || true\n"
        "  ip link del dev vh-0123abcd 2>/dev/null || true\n"
        "}\n"
        "trap cleanup EXIT\n\n# --- attach\n"
    ) in script
    assert script.endswith(
        "# --- teardown\n"
        "# remove the veth pair (deleting vh-second removes vp-0123abcd too)\n"
        "ip link del dev vh-second\n"
        "# remove the veth pair (deleting vh-0123abcd removes vp-0123abcd too)\n"
        "ip link del dev vh-0123abcd\n\ntrap - EXIT\n"
    )
    assert "exec 4>&1" not in script


def test_a_batch_line_of_no_words_is_empty():
    assert render.ip_batch_line(()) == ""
    assert render.ip_batch_line(("link", "del", "dev", "vh-X")) == "link del dev vh-X"


def test_a_streamed_capture_in_a_pod_of_a_lab_node_is_entered_in_the_transcript():
    start, stop = capture_steps("eth0", "icmp", None, key="podcap", netns=POD, home=PcapHome("/tmp/p.pcap"))
    script = render.transcript(Plan((start, stop)), Node(netns=Netns.named("lab1")), header="")
    assert (
        "exec 5< <(exec ip netns exec cni-1234 tcpdump -i eth0 --immediate-mode -B 32768 -U -w - -- icmp 2>&1"
        " > >(tee /tmp/p.pcap | tcpdump -r - -nn -tt -e -l >&4))\n"
    ) in script
    start, stop = capture_steps("eth0", "icmp", None, key="nodecap", home=PcapHome("/tmp/p.pcap"))
    script = render.transcript(Plan((start, stop)), Node(netns=Netns.named("lab1")), header="")
    assert "exec 5< <(exec ip netns exec lab1 tcpdump -i eth0 --immediate-mode" in script
