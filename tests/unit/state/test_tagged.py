"""Finding tagged links on a machine whose lab nodes come and go, and taking sessions down: a link already
gone counts as removed, a capture or probe still running is ended first (recognised by pid and command line,
its program by name or full path); many sessions at once: one `ip -force -batch -` of `link del` lines per
node, each line judged on its own (a link already gone counts as removed; another failure is said for that
link only)."""

from __future__ import annotations

import json
import signal

import pytest
from plumbum import local

from tests.support.fakes import FakeNode
from vethctl.errors import CommandFailed
from vethctl.execute.executor import Executor
from vethctl.execute.hosts.base import Host
from vethctl.model import Node
from vethctl.results.sessions import TaggedLink
from vethctl.state.labs import record_path
from vethctl.state.tagged import alive, end_jobs, half_made, remove_links, tagged, take_down_all

GONE = (1, "", 'Cannot find device "vh-1"\n')
DENIED = (2, "", "RTNETLINK answers: Operation not permitted\n")


OURS = {
    "ifname": "vh-0123abcd",
    "ifalias": "vethctl:0123abcd:up",
    "linkinfo": {"info_kind": "veth"},
    "link_netnsid": 0,
    "flags": ["UP", "LOWER_UP"],
}


class Machine(Host):
    """Two lab nodes in the registry: `here` holds a tagged link; `gone` was removed by another run between
    the listing and the look (ip -n gone: Cannot open network namespace)."""

    def command(self, argv, stdin=False):
        if argv[:3] == ("ip", "-n", "gone"):
            out, err, rc = "", 'Cannot open network namespace "gone": No such file or directory', "255"
        elif argv[:3] == ("ip", "-n", "here") and "link" in argv:
            out, err, rc = json.dumps([OURS]), "", "0"
        elif "netns" in argv and "list" in argv:
            out, err, rc = json.dumps([{"name": "cni-1", "id": 0}]), "", "0"
        else:
            out, err, rc = "[]", "", "0"
        return local["sh"]["-c", 'printf %s "$1"; printf %s "$2" >&2; exit "$3"', "sh", out, err, rc]

    def listdir(self, path):
        if path == "/var/run/netns":
            return ["gone", "here"]
        return ["gone.json", "here.json"] if path == record_path("x").rsplit("/", 1)[0] else []

    def read_text(self, path):
        for name in ("gone", "here"):
            if path == record_path(name):
                return json.dumps({"name": name, "node_netns": name, "pods": []})
        return None

    def exists(self, path):  # `gone` was removed by then
        return path.startswith("/var/run/netns/") and path != "/var/run/netns/gone"

    def cmdline(self, pid):
        return None  # no such process

    def start_time(self, pid):
        return None

    def netns_id(self, path):  # each named namespace its own; `gone` no longer there
        if path.startswith("/var/run/netns/") and path != "/var/run/netns/gone":
            return f"4:{sum(map(ord, path))}"
        return None

    def netns_owned_elsewhere(self, paths):
        return []

    def caps(self):
        return 0, 0  # root

    def lstat(self, path):  # the records: root's, 0600, one name
        return (0, 0o100600, 1) if self.read_text(path) is not None else None


def test_a_lab_node_removed_meanwhile_is_skipped_not_an_error():
    found = tagged(Executor(Machine(), Node()), Node(), False, [])
    assert [(e.session, e.node_netns, e.host_if, e.pod_netns) for e in found] == [
        ("0123abcd", "here", "vh-0123abcd", "cni-1")
    ]


class MachineMakingANode(Machine):
    """A third lab node, `making`, whose namespace file another `lab up` has made but not bound yet: iproute2's
    setns fails with EINVAL on it (seen when two suites shared the machine: gc inside a node exited 1)."""

    def command(self, argv, stdin=False):
        if argv[:3] == ("ip", "-n", "making"):
            err = 'setting the network namespace "making" failed: Invalid argument'
            return local["sh"]["-c", 'printf %s "$1" >&2; exit 255', "sh", err]
        return super().command(argv, stdin)

    def listdir(self, path):
        return [*super().listdir(path), "making.json" if path != "/var/run/netns" else "making"]

    def read_text(self, path):
        if path == record_path("making"):
            return json.dumps({"name": "making", "node_netns": "making", "pods": []})
        return super().read_text(path)


def test_a_lab_node_still_being_made_is_skipped_not_an_error():
    found = tagged(Executor(MachineMakingANode(), Node()), Node(), False, [])
    assert [(e.session, e.node_netns) for e in found] == [("0123abcd", "here")]


def test_a_namespace_that_is_whole_and_fails_is_still_an_error():
    assert half_made('setting the network namespace "x" failed: Invalid argument')
    assert not half_made('Cannot open network namespace "x": Permission denied')
    assert not half_made("RTNETLINK answers: Invalid argument")


def test_a_run_over_ssh_whose_record_this_gc_cannot_see_is_not_dead():
    """Its record is in another state directory (another user's, another suite's): gc cannot see its
    capture, so it must not take the pair away from under it."""
    ex = Executor(Machine(), Node())
    assert alive("ssh", None, True, None, ex) is True
    stale = {"created": 0, "jobs": [{"pid": 999999999, "argv": ["tcpdump"]}]}
    assert alive("ssh", None, True, stale, ex) is False  # its record says its capture is gone: dead


def test_a_link_already_gone_counts_as_removed():
    host = FakeNode({("ip", "link", "del", "dev", "vh-1"): GONE})
    assert remove_links(Executor(host, Node()), ["vh-1"]) == ("vh-1",)


def test_any_other_failure_is_raised_for_the_caller_to_report():
    host = FakeNode({("ip", "link", "del", "dev", "vh-1"): DENIED})
    with pytest.raises(CommandFailed) as err:
        remove_links(Executor(host, Node()), ["vh-1"])
    assert "Operation not permitted" in str(err.value)


def test_the_jobs_still_running_are_ended_and_the_others_left_alone():
    rec = {
        "session": "0123abcd",
        "jobs": [
            {"pid": 10, "start": 500, "argv": ["tcpdump", "-i", "vh-0123abcd", "-nn"]},  # as /usr/bin/tcpdump
            {
                "pid": 11,
                "start": 501,
                "argv": ["ip", "netns", "exec", "cni-1", "ping", "-n", "192.0.2.101"],
                "tool_argv": ["ping", "-n", "192.0.2.101"],  # what `ip netns exec` execs into
            },
            {"pid": 12, "start": 502, "argv": ["tcpdump", "-i", "vh-0123abcd", "-nn"]},  # its pid reused
            {"pid": 13, "start": 503, "argv": ["tcpdump", "-i", "vh-0123abcd", "-nn"]},  # gone
        ],
    }
    host = FakeNode(
        cmdlines={
            10: ["/usr/bin/tcpdump", "-i", "vh-0123abcd", "-nn"],
            11: ["ping", "-n", "192.0.2.101"],
            12: ["tcpdump", "-i", "vh-0123abcd", "-nn"],
        },
        starts={10: 500, 11: 501, 12: 9999},
    )
    stopped = end_jobs(rec, host)
    assert [s.pid for s in stopped] == [10, 11]
    assert host.killed == [(10, signal.SIGTERM), (11, signal.SIGTERM)]


class BatchHost(Host):
    def __init__(self, answers: dict):
        self.answers, self.ran = answers, []

    def command(self, argv, stdin=False):
        self.ran.append(tuple(argv))
        rc, out, err = self.answers.get(tuple(argv), (0, "", ""))
        return local["sh"]["-c", 'cat >/dev/null; printf %s "$1" >&2; exit "$2"', "sh", err, str(rc)]


def entry(session: str, node_netns: str | None) -> TaggedLink:
    return TaggedLink(
        session=session,
        mode="up",
        pid=None,
        node=f"netns {node_netns}" if node_netns else "this machine",
        node_netns=node_netns,
        host=None,
        host_if=f"vh-{session}",
        pod_netns=None,
        has_peer=True,
        host_addr=None,
        pod_if=None,
        pod_addr=None,
        created=None,
        target=None,
        jobs=(),
        recorded=True,
    )


def test_one_batch_per_node_and_each_link_judged_alone():
    err = (
        'Cannot find device "vh-0000000b"\nCommand failed -:2\n'
        "RTNETLINK answers: Operation not permitted\nCommand failed -:3\n"
    )
    host = BatchHost({("ip", "-n", "lab1", "-force", "-batch", "-"): (1, "", err)})
    entries = [entry(s, "lab1") for s in ("0000000a", "0000000b", "0000000c")] + [entry("0000000d", "lab2")]
    out = take_down_all(Executor(host, Node()), entries, Node())
    assert host.ran == [
        ("ip", "-n", "lab1", "-force", "-batch", "-"),
        ("ip", "-n", "lab2", "link", "del", "dev", "vh-0000000d"),
    ]
    assert out["vh-0000000a"] is None and out["vh-0000000b"] is None and out["vh-0000000d"] is None
    assert "Operation not permitted" in str(out["vh-0000000c"])
    assert out["vh-0000000c"].argv == ("ip", "-n", "lab1", "link", "del", "dev", "vh-0000000c")
