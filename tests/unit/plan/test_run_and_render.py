"""Plans are values: golden command lists, dry-run lines and transcripts, with no machine involved."""

from __future__ import annotations

import ipaddress
import shlex
import subprocess

import pytest

from vethctl import render
from vethctl.commands import on_node
from vethctl.model import Attachment, Netns, Node, VethEnd
from vethctl.plan import Plan, Step
from vethctl.plan.probe import ping_step
from vethctl.plan.run import build_run
from vethctl.plan.session import build_up

POD = Netns.named("cni-1234")


def attachment(pod=POD, session="0123abcd", mtu=1450) -> Attachment:
    return Attachment(
        session=session,
        host_end=VethEnd("vh-0123abcd", ipaddress.ip_interface("203.0.113.200/24"), None),
        pod_end=VethEnd("vp-0123abcd", ipaddress.ip_interface("203.0.113.100/24"), pod),
        mtu=mtu,
        owner_pid=4242,
    )


def run_plan(att=None, **kw) -> Plan:
    args = (
        dict(
            ping_addr=ipaddress.ip_address("203.0.113.101"),
            count=3,
            interval=1.0,
            filter_expr="arp or icmp",
            pcap=None,
            keep=False,
        )
        | kw
    )
    return build_run(att or attachment(), **args)


def test_run_plan_is_the_walkthrough_in_order():
    """The node's three attach commands as one `ip -batch -`, the pod's two as another, the pod's route reads
    as one `ip -j -batch -`: each shown with its input as a here-document."""
    lines = render.dry_run(run_plan(), Node()).splitlines()
    assert lines == [
        "ip -batch - <<'VETHCTL_EOF'",
        "link add vh-0123abcd mtu 1450 type veth peer name vp-0123abcd mtu 1450 netns cni-1234",
        "link set dev vh-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
        "addr add 203.0.113.200/24 dev vh-0123abcd",
        "VETHCTL_EOF",
        "ip -n cni-1234 -batch - <<'VETHCTL_EOF'",
        "link set dev vp-0123abcd alias vethctl:0123abcd:run:4242 addrgenmode none up",
        "addr add 203.0.113.100/24 dev vp-0123abcd",
        "VETHCTL_EOF",
        "ip -n cni-1234 -j -batch - <<'VETHCTL_EOF'",
        "route show",
        "route get 203.0.113.101",
        "VETHCTL_EOF",
        "tcpdump -i vh-0123abcd -nn -tt -e -l --immediate-mode -- 'arp or icmp' &",
        "ip netns exec cni-1234 ping -n -D -c 3 -i 1 203.0.113.101",
        "kill -INT %1",
        "ip link del dev vh-0123abcd",
    ]


def test_keep_has_no_teardown_and_up_keeps():
    assert run_plan(keep=True).teardown() == ()
    assert not any("link del" in line for line in render.dry_run(run_plan(keep=True), Node()).splitlines())
    assert build_up(attachment()).keep


def test_every_created_thing_has_its_undo():
    plan = run_plan()
    assert [s.argv for s in plan.teardown()] == [("ip", "link", "del", "dev", "vh-0123abcd")]
    assert plan.steps[0].undo and plan.steps[0].batch[0].key == "veth_add"
    assert [s.undo for s in plan.steps[0].batch[1:]] == [(), ()]  # only the pair's creation has one


def test_a_namespace_without_name_is_entered_with_nsenter():
    att = attachment(pod=Netns(name=None, path="/proc/77/ns/net", pid=77))
    lines = render.dry_run(run_plan(att), Node()).splitlines()
    assert lines[1].endswith("netns /proc/77/ns/net")
    assert lines[5] == "nsenter --net=/proc/77/ns/net ip -batch - <<'VETHCTL_EOF'"
    assert lines[6].startswith("link set dev vp-0123abcd")
    assert any(line.startswith("nsenter --net=/proc/77/ns/net ping ") for line in lines)


def test_a_lab_node_wraps_node_side_commands_only():
    node = Node(netns=Netns.named("lab1"))
    lines = render.dry_run(run_plan(), node).splitlines()
    assert lines[0] == "ip -n lab1 -batch - <<'VETHCTL_EOF'" and lines[1].startswith("link add vh-")
    assert lines[5] == "ip -n cni-1234 -batch - <<'VETHCTL_EOF'"
    assert lines[13].startswith("ip netns exec lab1 tcpdump -i vh-0123abcd")


def test_sudo_prefixes_every_command():
    lines = _commands(render.dry_run(run_plan(), Node(sudo=True)))
    assert all(line.startswith("sudo ") for line in lines)


def _commands(dry_run: str) -> list[str]:
    """The command lines of a dry-run, without the input of its here-documents."""
    out, body = [], None
    for line in dry_run.splitlines():
        if body is not None:
            body = None if line == body else body
            continue
        out.append(line)
        if line.endswith("<<'VETHCTL_EOF'"):
            body = "VETHCTL_EOF"
    return out


def test_pcap_and_empty_filter():
    """tcpdump never opens the pcap by name: the shell (or vethctl) opens it, as tcpdump's stdin."""
    lines = render.dry_run(run_plan(pcap="/tmp/x y.pcap", filter_expr=""), Node()).splitlines()
    assert (
        "tcpdump -i vh-0123abcd -nn -tt -e -l --immediate-mode -w /dev/stdin --print 0>'/tmp/x y.pcap' &"
        in lines
    )


def test_hostile_values_are_quoted_once():
    """Each dry-run line, split as a shell would, gives back exactly the argv that runs; each line of a
    here-document, split as iproute2's batch mode does, gives back the command it stands for."""
    att = attachment(pod=Netns.named("pod; rm -rf /"))
    plan = run_plan(att, filter_expr="arp and not host $(reboot) 'x'", pcap="/tmp/a b;c")
    node = Node(netns=Netns.named("lab`id`"))
    text = render.dry_run(plan, node)
    lines = _commands(text)
    steps = [s for s in plan.all_steps() if not s.stops]
    assert len(lines) == len(steps) + 1
    for line, step in zip([x for x in lines if not x.startswith("kill")], steps, strict=True):
        shown = line.removesuffix(" &").removesuffix(" <<'VETHCTL_EOF'")
        assert shlex.split(shown) == list(on_node(node.netns, node.sudo, step.argv, step.netns)) + (
            [f"0>{step.writes}"] if step.writes else []
        )
        if step.batch:
            body = text.split(line + "\n", 1)[1].split("VETHCTL_EOF\n", 1)[0].splitlines()
            options = [w for w in step.argv[1:] if w not in ("-batch", "-", "-force")]  # ip's own: -j
            assert [options + makeargs(b) for b in body] == [list(s.argv[1:]) for s in step.batch]
    assert "netns 'pod; rm -rf /'" in text


def makeargs(line: str) -> list[str]:
    """iproute2's tokenizer of batch lines (lib/utils.c makeargs), in Python: words split on blanks, a word
    that starts with a quote runs to the next such quote."""
    words, i = [], 0
    while i < len(line):
        if line[i] in " \t":
            i += 1
            continue
        if line[i] in "'\"":
            end = line.index(line[i], i + 1)
            words.append(line[i + 1 : end])
            i = end + 1
        else:
            end = i
            while end < len(line) and line[end] not in " \t":
                end += 1
            words.append(line[i:end])
            i = end
    return words


def test_transcript_is_valid_bash_with_cleanup_and_teardown(tmp_path):
    script = render.transcript(run_plan(), Node(), header="test")
    path = tmp_path / "t.sh"
    path.write_text(script)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    assert "set -euo pipefail" in script and "trap cleanup EXIT" in script and "trap - EXIT" in script
    assert "[[ $line == *'listening on '* ]]" in script
    assert script.index("ping -n") < script.index('kill -INT "$capture_pid"') < script.rindex("link del dev")
    assert "sleep" not in script


def test_transcript_keeps_ping_exit_1_as_an_answer():
    script = render.transcript(run_plan(), Node(), header="")
    assert "|| rc=$?" in script and "[ $rc -eq 0 ] || [ $rc -eq 1 ]" in script


def test_transcript_heredoc_for_stdin():
    step = Step(("env", "CNI_COMMAND=ADD", "/usr/lib/cni/bridge"), stdin='{"a": 1}\n', phase="lab")
    script = render.transcript(Plan((step,)), Node(), header="")
    assert "env CNI_COMMAND=ADD /usr/lib/cni/bridge <<'VETHCTL_EOF'\n{\"a\": 1}\nVETHCTL_EOF" in script


@pytest.mark.parametrize("count,interval,expected", [(1, 0.2, "-c 1 -i 0.2"), (10, 2.0, "-c 10 -i 2")])
def test_ping_arguments(count, interval, expected):
    step = ping_step(POD, ipaddress.ip_address("192.0.2.1"), count=count, interval=interval)
    assert expected in shlex.join(step.argv) and step.ok_codes == {0, 1}


def test_a_purpose_cannot_end_its_comment_and_start_a_command(tmp_path):
    """Every line of a step's purpose is a comment, with non-printable characters escaped: the review's
    `--ping $'fe80::1%x\\ntouch PWNED #'` ran `touch` when the transcript was replayed."""
    step = Step(("true",), purpose="ping fe80::1%x\ntouch PWNED #\r\x1b[2J", phase="probe")
    script = render.transcript(Plan((step,)), Node(), header="vethctl run x\nid >PWNED2")
    path = tmp_path / "t.sh"
    path.write_text(script)
    assert subprocess.run(["bash", str(path)], cwd=tmp_path).returncode == 0
    assert not list(tmp_path.glob("PWNED*"))
    assert "# touch PWNED #\\x0d\\x1b[2J" in script


def test_a_non_printable_argument_is_ansi_c_quoted_and_reads_back(tmp_path):
    argv = ("ip", "link", "set", "dev", "e\x01x", "alias", "it's \x9b")
    line = render.command_text(argv)
    assert line == "ip link set dev $'e\\x01x' alias $'it\\'s \\xc2\\x9b'" and line.isprintable()
    out = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {line}"], capture_output=True, check=True
    ).stdout.split(b"\0")[:-1]
    assert [a.decode() for a in out] == list(argv)


def test_pod_names_from_the_cluster_are_comment_text_in_a_many_dry_run():
    from vethctl.output.text import many_dry_run
    from vethctl.results.run import ManyRunResult, PodRun

    result = ManyRunResult(
        "app=web",
        (
            PodRun("default/web-0\ntouch PWNED", "node1", dry_run="ip link show\n"),
            PodRun("default/web-1", "node1", error="kubectl said:\nrm -rf /", exit_code=3),
        ),
        (),
    )
    lines = many_dry_run(result).splitlines()
    assert lines == [
        "# default/web-0",
        "# touch PWNED",
        "ip link show",
        "# default/web-1",
        "# kubectl said:",
        "# rm -rf /",
    ]
