"""netns/, nspath/ and pid/ through the node's Host: a file we may not read is not a file that is missing."""

from __future__ import annotations

import pytest

from tests.support.fakes import FakeNode
from vethctl.errors import MissingPrerequisite, TargetNotFound
from vethctl.model import Netns
from vethctl.resolve.files import candidate_namespaces, resolve_netns
from vethctl.resolve.target import TargetSpec


def test_a_netns_file_we_may_not_read_is_permission_denied_exit_4():
    # os.path.exists says False for a file stat() may not look at: the Host must say why
    host = FakeNode(files={"/proc/1/status": ""}, ids={"/proc/1/ns/net": PermissionError("/proc/1/ns/net")})
    for spec in (TargetSpec("pid", "1"), TargetSpec("nspath", "/proc/1/ns/net")):
        with pytest.raises(MissingPrerequisite) as err:
            resolve_netns(spec, host)
        assert "permission denied" in str(err.value) and "run as root" in str(err.value)


def test_a_netns_file_that_is_not_there_is_not_found_exit_3():
    host = FakeNode(files={"/proc/7/status": ""})
    for spec in (TargetSpec("pid", "7"), TargetSpec("nspath", "/var/run/docker/netns/abc")):
        with pytest.raises(TargetNotFound):
            resolve_netns(spec, host)


class Inodes(FakeNode):
    def netns_inodes(self):
        return [
            ("/proc/self/ns/net", "4:10"),
            ("/var/run/netns/node-1", "4:10"),  # the namespace vethctl runs in, by its name
            ("/var/run/netns/cni-a", "4:11"),
            ("/var/run/netns/cni-a-again", "4:11"),  # the same pod, a second name
            ("/proc/1/ns/net", "4:1"),
            ("/proc/40/ns/net", "4:11"),  # held by the pod's pause process
            ("/proc/41/ns/net", "4:12"),  # a namespace with no name (docker)
            ("/proc/42/ns/net", "4:12"),
        ]


def test_the_scan_visits_each_namespace_once_and_never_the_one_it_runs_in():
    assert candidate_namespaces(Inodes()) == [
        Netns.named("cni-a"),
        Netns(name=None, path="/proc/1/ns/net", pid=1),
        Netns(name=None, path="/proc/41/ns/net", pid=41),
    ]
