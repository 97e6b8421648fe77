"""The executor against a host of the test's own: commands are answered by tiny real processes (sh), so the
executor's own logic (undo order, ok codes, already-gone undos, keep, interruption, the journal) is what is
tested, with no namespace and no root."""

from __future__ import annotations

import sys

import pytest
from plumbum import local

from vethctl.errors import CommandFailed
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.base import Host
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step


class ScriptedHost(Host):
    """argv -> (rc, stdout, stderr); anything else exits 0 silently. Every argv run is kept, in order."""

    def __init__(self, answers: dict | None = None, interrupt_on: tuple | None = None):
        self.answers = answers or {}
        self.interrupt_on = interrupt_on
        self.ran: list[tuple] = []

    def command(self, argv, stdin=False):
        self.ran.append(tuple(argv))
        if self.interrupt_on is not None and tuple(argv) == self.interrupt_on:
            raise KeyboardInterrupt
        rc, out, err = self.answers.get(tuple(argv), (0, "", ""))
        return local["sh"]["-c", 'printf %s "$1"; printf %s "$2" >&2; exit "$3"', "sh", out, err, str(rc)]


def step(name: str, *undo: str, **kw) -> Step:
    return Step(
        ("do", name), undo=tuple(Step(("undo", u), quiet_fail=True, phase="teardown") for u in undo), **kw
    )


def test_a_failure_undoes_what_was_done_last_first():
    host = ScriptedHost({("do", "c"): (2, "", "boom")})
    ex = Executor(host, Node())
    with pytest.raises(CommandFailed) as exc:
        ex.execute(Plan((step("a", "a"), step("b", "b1", "b2"), step("c", "c"))))
    assert host.ran == [("do", "a"), ("do", "b"), ("do", "c"), ("undo", "b2"), ("undo", "b1"), ("undo", "a")]
    assert exc.value.rc == 2 and "boom" in str(exc.value) and "do c" in str(exc.value)
    assert ex.torn_down


def test_the_end_of_a_plan_tears_down_in_reverse_and_keep_does_not():
    host = ScriptedHost()
    Executor(host, Node()).execute(Plan((step("a", "a"), step("b", "b"))))
    assert host.ran[2:] == [("undo", "b"), ("undo", "a")]
    host = ScriptedHost()
    Executor(host, Node()).execute(Plan((step("a", "a"), step("b", "b")), keep=True))
    assert host.ran == [("do", "a"), ("do", "b")]


def test_an_expected_exit_code_is_an_answer_and_another_is_a_failure():
    host = ScriptedHost({("do", "x"): (1, "no reply", "")})
    ex = Executor(host, Node())
    assert ex.run(Step(("do", "x"), ok_codes=frozenset({0, 1}))).stdout == "no reply"
    with pytest.raises(CommandFailed):
        ex.run(Step(("do", "x")))


def test_an_undo_that_finds_nothing_counts_as_gone_and_other_undos_still_run():
    host = ScriptedHost(
        {("undo", "b"): (1, "", 'Cannot find device "vh-1"'), ("undo", "c"): (1, "", "EPERM")}
    )
    ex = Executor(host, Node())
    ex.undo_stack = [
        Step(("undo", "a"), quiet_fail=True),
        Step(("undo", "b"), quiet_fail=True),
        Step(("undo", "c"), quiet_fail=True),
    ]
    with pytest.raises(CommandFailed) as exc:
        ex.unwind()
    assert host.ran == [("undo", "c"), ("undo", "b"), ("undo", "a")]
    assert [s.argv for s in ex.already_gone] == [("undo", "b")] and "EPERM" in str(exc.value)


def test_an_interrupted_step_is_undone_too():
    """Interrupted half-way, a step may have happened: its undo runs; then the interruption goes on."""
    host = ScriptedHost(interrupt_on=("do", "b"))
    ex = Executor(host, Node())
    with pytest.raises(KeyboardInterrupt):
        ex.execute(Plan((step("a", "a"), step("b", "b"))))
    assert host.ran == [("do", "a"), ("do", "b"), ("undo", "b"), ("undo", "a")]


def test_a_failed_step_leaves_its_own_undo_out():
    """It did not happen: undoing it could remove a name someone else holds."""
    host = ScriptedHost({("do", "b"): (2, "", "File exists")})
    with pytest.raises(CommandFailed):
        Executor(host, Node()).execute(Plan((step("a", "a"), step("b", "b"))))
    assert ("undo", "b") not in host.ran and host.ran[-1] == ("undo", "a")


def test_commands_run_in_their_namespace_and_sudo_is_shown():
    host = ScriptedHost()
    ex = Executor(host, Node(netns=Netns.named("node1"), sudo=True))
    ex.run(Step(("ip", "link", "show"), Netns.named("pod1")))
    ex.run(Step(("tcpdump", "-i", "eth0")))
    expect_sudo = ("sudo",) if __import__("os").geteuid() != 0 else ()
    assert host.ran == [
        (*expect_sudo, "ip", "-n", "pod1", "link", "show"),
        (*expect_sudo, "ip", "netns", "exec", "node1", "tcpdump", "-i", "eth0"),
    ]


def test_executors_of_one_invocation_share_one_journal_in_start_order():
    host = ScriptedHost()
    first = Executor(host, Node())
    first.read(("ip", "a"), purpose="one")
    second = first.on(Node(netns=Netns.named("lab")))
    second.run(Step(("ip", "r"), key="routes"))
    assert [r.argv for r in first.results] == [("ip", "a"), ("ip", "-n", "lab", "r")]
    assert first.by_key["routes"].argv == ("ip", "-n", "lab", "r")
    assert [c["phase"] for c in first.journal.as_json()] == ["inspect", "attach"]


class FailingHost(ScriptedHost):
    """Fails (exit 1) the first command `fails` says yes to."""

    def __init__(self, fails):
        super().__init__()
        self.fails = fails

    def command(self, argv, stdin=False):
        if self.fails(argv) and not any(self.fails(a) for a in self.ran):
            self.ran.append(tuple(argv))
            return local["sh"]["-c", "echo no >&2; exit 1"]
        return super().command(argv, stdin)


def test_a_lab_that_fails_half_way_releases_each_pods_address_before_removing_it():
    """The real lab plan, several undos a step: the second pod's loopback fails. Each pod's CNI DEL (which
    releases its address in host-local's store, and needs the node's namespace) runs before its namespace
    and the node go, the last pod first: undone first in, first out, the reservations would leak."""
    from vethctl.plan import lab

    node_ns = Netns.named("lab1")
    steps = lab.node_steps("lab1")
    for uuid in ("u1", "u2"):
        steps += lab.pod_steps("lab1", node_ns, "/cni", "198.18.0.0/24", uuid, "bridge", "/ipam")
    host = FailingHost(lambda argv: "CNI_CONTAINERID=u2" in argv and argv[-1] == "/cni/loopback")
    with pytest.raises(CommandFailed):
        Executor(host, Node()).execute(Plan(tuple(steps), keep=True))
    undone = host.ran[[i for i, a in enumerate(host.ran) if a[-1] == "/cni/loopback"][-1] + 1 :]

    def what(argv):
        if "CNI_COMMAND=DEL" in argv:
            return ("release", next(a for a in argv if a.startswith("CNI_CONTAINERID=")).split("=")[1])
        return ("remove", argv[-1])

    assert [what(a) for a in undone] == [
        ("release", "u2"),
        ("remove", "cni-u2"),
        ("release", "u1"),
        ("remove", "cni-u1"),
        ("remove", "lab1"),
    ]
    assert all(a[:4] == ("ip", "netns", "exec", "lab1") for a in undone if "CNI_COMMAND=DEL" in a)


# A capture that behaves like tcpdump where it matters here: "listening on" once ready; packets still in the
# kernel's ring (two lines) come out only when asked with SIGUSR1, which also prints the counters; SIGINT
# ends it at once, so whatever was not asked for is lost.
TCPDUMP_LIKE = r"""
import signal, sys, time
held = ["1.0 ARP, Request who-has 192.0.2.101 tell 192.0.2.100", "2.0 ARP, Request who-has 192.0.2.101 tell 192.0.2.100"]
printed = 0
def usr1(*_):
    global printed
    for line in held[printed:]:
        print(line, flush=True)
    printed = len(held)
    sys.stderr.write(f"{printed} packets captured, {len(held)} packets received by filter, 0 packets dropped by kernel\n")
    sys.stderr.flush()
signal.signal(signal.SIGUSR1, usr1)
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
sys.stderr.write("listening on vh-1, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n")
sys.stderr.flush()
time.sleep(30)
"""


class CaptureHost(ScriptedHost):
    """("capture",) runs TCPDUMP_LIKE; every other command notes whether the capture was still running."""

    def __init__(self):
        super().__init__()
        self.capture = None
        self.capture_running_at: dict[tuple, bool] = {}

    def command(self, argv, stdin=False):
        if tuple(argv) == ("capture",):
            self.ran.append(tuple(argv))
            return local[sys.executable]["-c", TCPDUMP_LIKE]
        if self.capture is not None:
            self.capture_running_at[tuple(argv)] = self.capture.proc.poll() is None
        return super().command(argv, stdin)


def capture_plan(fail_at: str | None = None) -> tuple[Plan, CaptureHost]:
    host = CaptureHost()
    cap = Step(("capture",), background=True, ready="listening on", key="capture", phase="capture")
    plan = Plan(
        (
            step("link", "link"),
            cap,
            Step(("probe",), phase="probe"),
            Step((), stops="capture", phase="capture"),
        )
    )
    if fail_at:
        host.answers[("do", fail_at)] = (2, "", "boom")
    return plan, host


def test_stopping_a_capture_first_asks_for_what_it_still_holds():
    """SIGUSR1 until tcpdump has printed every packet its filter received, then SIGINT: nothing lost."""
    plan, host = capture_plan()
    ex = Executor(host, Node())
    original = ex.start

    def start(step, ready_timeout=10.0):
        host.capture = original(step, ready_timeout)
        return host.capture

    ex.start = start
    ex.execute(plan)
    assert ex.by_key["capture"].stdout.splitlines() == [
        "1.0 ARP, Request who-has 192.0.2.101 tell 192.0.2.100",
        "2.0 ARP, Request who-has 192.0.2.101 tell 192.0.2.100",
    ]


def test_clean_up_stops_the_capture_before_it_removes_the_links():
    """Interrupted during the probe: the capture is stopped (its last packets read) before the undos run,
    so that it never sees its interface vanish under it."""
    plan, host = capture_plan()
    host.interrupt_on = ("probe",)
    ex = Executor(host, Node())
    original = ex.start

    def start(step, ready_timeout=10.0):
        host.capture = original(step, ready_timeout)
        return host.capture

    ex.start = start
    with pytest.raises(KeyboardInterrupt):
        ex.execute(plan)
    assert host.ran[-1] == ("undo", "link")
    assert host.capture_running_at[("undo", "link")] is False
    assert len(ex.by_key["capture"].stdout.splitlines()) == 2


@pytest.mark.parametrize(
    "netns,place,node,where",
    [
        (Netns.named("cni-1"), "pod", Node(), "on the pod netns cni-1:"),
        (Netns.named("lab1"), "node", Node(), "on the lab node lab1:"),
        (Netns.named("lab1-out"), "outside", Node(), "on the lab's outside netns lab1-out:"),
        (None, "pod", Node(), "on the node (this machine):"),
        (None, "pod", Node(netns=Netns.named("lab1")), "on the node (netns lab1):"),
    ],
)
def test_a_failure_says_where_the_command_ran(netns, place, node, where):
    ex = Executor(FailingHost(lambda argv: argv[-1] == "x"), node)
    with pytest.raises(CommandFailed) as exc:
        ex.run(Step(("ip", "link", "add", "x"), netns, place=place))
    assert where in str(exc.value)


def test_every_command_started_has_its_end_in_the_audit_log_even_when_interrupted(tmp_path):
    """The audit log pairs each `start` with an `end`: a command cut short by a signal (its child killed
    and reaped) ends with rc null, and so does one that never started (its tool is missing)."""
    import json

    from vethctl import audit

    log = tmp_path / "audit.jsonl"
    audit.setup(0, str(log))
    try:
        ex = Executor(ScriptedHost(interrupt_on=("do", "b")), Node())
        with pytest.raises(KeyboardInterrupt):
            ex.execute(Plan((step("a", "a"), step("b", "b"))))
    finally:
        audit.setup(0, "/dev/null")
    events = [json.loads(line) for line in log.read_text().splitlines()]
    starts = [tuple(e["argv"]) for e in events if e["event"] == "start"]
    ends = {tuple(e["argv"]): e["rc"] for e in events if e["event"] == "end"}
    assert starts == [("do", "a"), ("do", "b"), ("undo", "b"), ("undo", "a")]
    assert set(ends) == set(starts) and ends[("do", "b")] is None and ends[("do", "a")] == 0


def test_a_probe_is_told_by_its_pid_as_soon_as_it_runs():
    """Whoever records a run learns each probe's pid at its spawn (gc ends it by that pid if vethctl is
    killed); short commands are not reported."""
    told = []
    ex = Executor(ScriptedHost(), Node(), on_spawn=lambda argv, tool_argv, pid: told.append((argv, pid)))
    ex.run(Step(("ip", "link")))
    ex.run(Step(("ping", "-c", "1", "192.0.2.1"), stream=True, key="ping"))
    ex.on_line = lambda key, line: None
    ex.run(Step(("ping", "-c", "2", "192.0.2.1"), stream=True, key="ping2"))
    assert [argv for argv, _ in told] == [("ping", "-c", "1", "192.0.2.1"), ("ping", "-c", "2", "192.0.2.1")]
    assert all(isinstance(pid, int) and pid > 0 for _, pid in told)
