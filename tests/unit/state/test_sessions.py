"""Liveness: a process is the recorded one only with the recorded start time and command line."""

from __future__ import annotations

import os

from vethctl.parsers.procfs import start_time
from vethctl.state.sessions import job_alive, own_identity, vethctl_alive


class Host:
    """A node whose processes are given: pid -> (start time, command line)."""

    def __init__(self, procs: dict[int, tuple[int, list[str]]]):
        self.procs = procs

    def start_time(self, pid):
        return self.procs.get(pid, (None, None))[0]

    def cmdline(self, pid):
        return self.procs.get(pid, (None, None))[1]


TOOL = ["tcpdump", "-i", "vh-0badc0de", "-nn", "-tt", "-e", "-l", "--immediate-mode", "--", "arp or icmp"]
JOB = {"pid": 77, "start": 5000, "argv": ["ip", "netns", "exec", "lab", *TOOL], "tool_argv": TOOL}


def test_the_recorded_capture_is_alive():
    assert job_alive(JOB, Host({77: (5000, TOOL)}))
    assert job_alive(JOB, Host({77: (5000, JOB["argv"])}))  # before `ip netns exec` exec'ed


def test_a_process_that_took_the_pid_is_not_the_capture():
    """The review's: a user process on the dead capture's pid, its command line the capture's tail."""
    assert not job_alive(JOB, Host({77: (9999, ["arp or icmp"])}))
    assert not job_alive(JOB, Host({77: (9999, TOOL)}))  # even with the whole argv: another start
    assert not job_alive(JOB, Host({77: (5000, ["arp or icmp"])}))  # a suffix is not the argv
    assert not job_alive({"pid": 77, "argv": JOB["argv"]}, Host({77: (5000, TOOL)}))  # no start: unproven


def test_a_process_saying_vethctl_is_not_the_run():
    rec = {"owner": {"start": 4000, "argv": ["/usr/bin/python3", "/usr/local/bin/vethctl", "run", "netns/x"]}}
    real = ["/usr/bin/python3", "/usr/local/bin/vethctl", "run", "netns/x"]
    assert vethctl_alive(42, Host({42: (4000, real)}), rec)
    assert not vethctl_alive(42, Host({42: (4001, real)}), rec)
    assert not vethctl_alive(42, Host({42: (4000, ["vethctl-keepalive"])}), rec)
    assert not vethctl_alive(42, Host({42: (1, ["sh", "-c", "exec vethctl"])}), None)  # no record: by program


def test_own_identity_is_this_process():
    me = own_identity()
    with open(f"/proc/{os.getpid()}/stat") as fh:
        assert me["start"] == start_time(fh.read())
    assert me["argv"] and me["argv"][0]


def test_start_time_reads_past_a_command_name_with_spaces_and_parentheses():
    text = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10"
    assert start_time(text) == 123456
