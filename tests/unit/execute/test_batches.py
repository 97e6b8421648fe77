"""`ip -batch -` steps in the executor, against a host of the test's own (tiny real processes print what
iproute2 prints): a batch failing half-way is undone for the lines that happened only, clean-up removes
links in one batch and judges each line, and a batch of reads gives each line's JSON under its key."""

from __future__ import annotations

import pytest
from plumbum import local

from vethctl.errors import CommandFailed
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.base import Host
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step
from vethctl.plan.batch import ip_batch

NODE = Node(netns=Netns.named("lab1"))


class BatchHost(Host):
    """argv -> (rc, stdout, stderr), and what each command was fed on its stdin."""

    def __init__(self, answers: dict | None = None):
        self.answers = answers or {}
        self.ran: list[tuple] = []

    def command(self, argv, stdin=False):
        self.ran.append(tuple(argv))
        rc, out, err = self.answers.get(tuple(argv), (0, "", ""))
        script = 'cat >/dev/null; printf %s "$1"; printf %s "$2" >&2; exit "$3"'
        return local["sh"]["-c", script, "sh", out, err, str(rc)]


def delete(name: str) -> Step:
    return Step(("ip", "link", "del", "dev", name), phase="teardown", quiet_fail=True)


def attach(name: str) -> list[Step]:
    return ip_batch(
        [
            Step(
                ("ip", "link", "add", name, "type", "veth", "peer", "name", f"p-{name}"), undo=(delete(name),)
            ),
            Step(("ip", "link", "set", "dev", name, "up")),
            Step(("ip", "addr", "add", "192.0.2.200/24", "dev", name)),
        ]
    )


BATCH = ("ip", "-n", "lab1", "-batch", "-")
FORCE = ("ip", "-n", "lab1", "-force", "-batch", "-")


def test_a_batch_that_fails_half_way_undoes_the_lines_that_happened_and_names_the_failed_one():
    err = "RTNETLINK answers: Address family not supported by protocol\nCommand failed -:2\n"
    host = BatchHost({BATCH: (1, "", err)})
    with pytest.raises(CommandFailed) as exc:
        Executor(host, NODE).execute(Plan(tuple(attach("vh-1"))))
    assert host.ran == [BATCH, ("ip", "-n", "lab1", "link", "del", "dev", "vh-1")]
    message = str(exc.value)
    assert "(line 2: ip link set dev vh-1 up)" in message and message.endswith(
        "Address family not supported by protocol"
    )


def test_a_batch_that_could_not_start_did_nothing_and_undoes_nothing():
    host = BatchHost({BATCH: (1, "", 'Cannot open network namespace "lab1": No such file or directory\n')})
    with pytest.raises(CommandFailed):
        Executor(host, NODE).execute(Plan(tuple(attach("vh-1"))))
    assert host.ran == [BATCH]


def test_a_first_line_that_fails_undoes_nothing_a_name_taken_by_someone_else_stays():
    host = BatchHost({BATCH: (2, "", "RTNETLINK answers: File exists\nCommand failed -:1\n")})
    with pytest.raises(CommandFailed, match="File exists"):
        Executor(host, NODE).execute(Plan(tuple(attach("vh-1"))))
    assert host.ran == [BATCH]


def test_clean_up_removes_links_in_one_batch_and_judges_each_line():
    err = 'Cannot find device "vh-2"\nCommand failed -:2\nRTNETLINK answers: Operation not permitted\nCommand failed -:3\n'
    host = BatchHost({FORCE: (1, "", err)})
    ex = Executor(host, NODE)
    ex.undo_stack = [delete("vh-3"), delete("vh-2"), delete("vh-1")]
    with pytest.raises(CommandFailed, match="Operation not permitted") as exc:
        ex.unwind()
    assert host.ran == [FORCE]  # one process for the three, last pushed first
    assert [s.argv[-1] for s in ex.already_gone] == ["vh-2"]
    assert exc.value.argv == ("ip", "-n", "lab1", "link", "del", "dev", "vh-3")
    assert ex.journal.as_json()[0]["lines"] == ["link del dev vh-1", "link del dev vh-2", "link del dev vh-3"]


def test_one_undo_alone_is_the_plain_command():
    host = BatchHost()
    ex = Executor(host, NODE)
    ex.undo_stack = [delete("vh-1")]
    ex.unwind()
    assert host.ran == [("ip", "-n", "lab1", "link", "del", "dev", "vh-1")]


def test_a_batch_of_reads_gives_each_line_its_json_under_its_key():
    reads = ip_batch(
        [
            Step(("ip", "-j", "route", "show"), phase="observe", key="routes"),
            Step(("ip", "-j", "route", "get", "192.0.2.101"), phase="observe", key="get"),
        ]
    )
    out = '[{"dst":"192.0.2.0/24","dev":"vp-1"}]\n[{"dst":"192.0.2.101","dev":"vp-1"}]\n'
    host = BatchHost({("ip", "-n", "lab1", "-j", "-batch", "-"): (0, out, "")})
    ex = Executor(host, NODE)
    ex.execute(Plan(tuple(reads), keep=True))
    assert ex.by_key["routes"].stdout == '[{"dst":"192.0.2.0/24","dev":"vp-1"}]'
    assert ex.by_key["get"].stdout == '[{"dst":"192.0.2.101","dev":"vp-1"}]'
    assert len(ex.journal.as_json()) == 1  # one command ran
