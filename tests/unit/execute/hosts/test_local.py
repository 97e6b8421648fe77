"""This machine's files through LocalHost: a name that cannot name anything (too long, through a file, a
loop) is a file that is not there, not a traceback; a namespace file's identity is its (device, inode)."""

from __future__ import annotations

import os

import pytest

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


def test_a_record_interrupted_before_its_rename_leaves_no_temporary_file(tmp_path, monkeypatch):
    """A Ctrl-C between writing the temporary file and renaming it onto the record (the soak test met one):
    the record is not written, and nothing half-written stays in the directory."""
    import vethctl.execute.hosts.local as local_host

    def interrupted(src, dst):
        raise KeyboardInterrupt

    records = tmp_path / "sessions"
    monkeypatch.setattr(local_host.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        local_host.LocalHost().write_text(str(records / "0123abcd.json"), "{}")
    assert list(records.iterdir()) == []
