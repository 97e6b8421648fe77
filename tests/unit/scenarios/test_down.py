"""`down` against a node of the test's own: one failure does not stop the others, and is reported."""

from __future__ import annotations

import json

from tests.support.fakes import FakeNode
from vethctl.execute.hosts.registry import Hosts
from vethctl.scenarios.down import down
from vethctl.state.sessions import sessions_dir

BATCH = ("ip", "-force", "-batch", "-")  # the links of several sessions on one node: one process


def veth(name: str, session: str, index: int) -> dict:
    return {
        "ifindex": index,
        "ifname": name,
        "flags": ["UP", "LOWER_UP"],
        "ifalias": f"vethctl:{session}:up",
        "link_index": 2,
        "link_netnsid": 0,
        "linkinfo": {"info_kind": "veth"},
    }


def node(answers: dict) -> FakeNode:
    links = [veth("vh-aaaaaaaa", "aaaaaaaa", 7), veth("vh-bbbbbbbb", "bbbbbbbb", 8)]
    files = {
        f"{sessions_dir()}/{s}.json": json.dumps({"session": s, "mode": "up"})
        for s in ("aaaaaaaa", "bbbbbbbb")
    }
    return FakeNode(
        {
            ("ip", "-j", "-d", "link", "show"): (0, json.dumps(links), ""),
            ("ip", "-j", "netns", "list"): (0, "[]", ""),
        }
        | answers,
        files=files,
        ids={"/proc/self/ns/net": "4:1"},
    )


def test_one_link_that_cannot_be_removed_does_not_stop_the_others(tmp_path, monkeypatch):
    monkeypatch.setenv("VETHCTL_STATE_DIR", str(tmp_path))
    # both links in one `ip -force -batch -`: its first line (vh-aaaaaaaa's) refused, the second done
    refused = "RTNETLINK answers: Operation not permitted\nCommand failed -:1\n"
    host = node({BATCH: (1, "", refused)})
    result = down(["aaaaaaaa", "bbbbbbbb"], Hosts(local=host))
    assert [(r.session, r.links) for r in result.removed] == [("bbbbbbbb", ("vh-bbbbbbbb",))]
    assert [(f.session, f.links) for f in result.failed] == [("aaaaaaaa", ("vh-aaaaaaaa",))]
    assert "Operation not permitted" in result.failed[0].error
    assert host.ran.count(BATCH) == 1 and not any("del" in argv for argv in host.ran)
    # the record of what could not be removed stays, for the next down or gc
    assert (
        f"{sessions_dir()}/aaaaaaaa.json" in host.files
        and f"{sessions_dir()}/bbbbbbbb.json" not in host.files
    )


def test_a_link_already_gone_counts_as_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("VETHCTL_STATE_DIR", str(tmp_path))
    host = node({BATCH: (1, "", 'Cannot find device "vh-aaaaaaaa"\nCommand failed -:1\n')})
    result = down(["aaaaaaaa", "bbbbbbbb"], Hosts(local=host))
    assert [r.session for r in result.removed] == ["aaaaaaaa", "bbbbbbbb"] and result.failed == ()


class LabGoneMeanwhile(FakeNode):
    """A lab node there when the labs are listed, taken down (by someone else) before its links are read."""

    looked = 0

    def exists(self, path):
        if path == "/var/run/netns/lab-gone":
            self.looked += 1
            return self.looked == 1
        return super().exists(path)


def test_a_lab_node_taken_down_meanwhile_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("VETHCTL_STATE_DIR", str(tmp_path))
    host = node(
        {
            ("ip", "-n", "lab-gone", "-j", "-d", "link", "show"): (
                1,
                "",
                'Cannot open network namespace "lab-gone"',
            )
        }
    )
    host.__class__ = LabGoneMeanwhile
    host.files["/run/vethctl/lab/lab-gone.json"] = json.dumps(
        {"name": "lab-gone", "node_netns": "lab-gone", "pods": []}
    )
    host.files["/var/run/netns/lab-gone"] = ""
    host.ids["/var/run/netns/lab-gone"] = "4:2"
    result = down(["aaaaaaaa"], Hosts(local=host))
    assert [r.session for r in result.removed] == ["aaaaaaaa"]
    assert ("ip", "-n", "lab-gone", "-j", "-d", "link", "show") in host.ran
