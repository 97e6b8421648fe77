"""This machine's files through LocalHost: a name that cannot name anything (too long, through a file, a
loop) is a file that is not there, not a traceback; a namespace file's identity is its (device, inode)."""

from __future__ import annotations

import os

from vethctl.execute.hosts.local import LocalHost


def test_names_that_name_nothing_are_not_there(tmp_path):
    host = LocalHost()
    (tmp_path / "file").write_text("x")
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    for path in (
        "/" + "a" * 5000,
        "/a" * 3000,
        str(tmp_path / "file" / "below"),
        str(tmp_path / "loop"),
        str(tmp_path / "none"),
    ):
        assert host.netns_id(path) is None
        assert host.read_text(path) is None
        host.remove(path)  # nothing to remove: no error


def test_the_same_namespace_by_two_paths_has_one_identity():
    host = LocalHost()
    own = host.netns_id("/proc/self/ns/net")
    assert own is not None and own == host.netns_id(f"/proc/{os.getpid()}/ns/net")
