"""secure.py: escaping what is shown, creating files where someone else may write."""

from __future__ import annotations

import os
import stat

import pytest

from vethctl.errors import BadInput
from vethctl.secure import (
    UnsafeDirectory,
    UnsafePath,
    check_output_path,
    create_file,
    escape,
    escape_lines,
    private_dir,
    write_file,
)


def test_escape_shows_control_characters_instead_of_obeying_them():
    assert escape("e\x01x") == "e\\x01x"
    assert escape("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape("csi\x9bm") == "csi\\x9bm"  # C1: a terminal takes it as ESC [
    assert escape("rtl\u202eevil") == "rtl\\u202eevil"
    assert escape("plain name-0.1") == "plain name-0.1"
    assert escape_lines("one\ntwo\x07") == "one\ntwo\\x07"


def test_a_new_file_gets_its_mode_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        write_file("--transcript", str(tmp_path / "t.sh"), "echo hi\n", 0o755)
    finally:
        os.umask(old)
    st = os.stat(tmp_path / "t.sh")
    assert stat.S_IMODE(st.st_mode) == 0o755 and (tmp_path / "t.sh").read_text() == "echo hi\n"


def test_a_file_of_ours_is_replaced(tmp_path):
    path = tmp_path / "out"
    path.write_text("old content that is longer")
    write_file("--transcript", str(path), "new")
    assert path.read_text() == "new"


def test_a_symbolic_link_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.chmod(victim, 0o600)
    link = tmp_path / "out.sh"
    link.symlink_to(victim)
    with pytest.raises(UnsafePath, match="symbolic link"):
        check_output_path("--transcript", str(link))
    with pytest.raises(UnsafePath, match="symbolic link"):
        write_file("--transcript", str(link), "clobbered")
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "does-not-exist-yet")
    with pytest.raises(UnsafePath):
        create_file("--pcap", str(dangling))
    assert victim.read_text() == "precious" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert not (tmp_path / "does-not-exist-yet").exists()


def test_a_hard_link_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    os.link(victim, tmp_path / "audit.jsonl")
    with pytest.raises(UnsafePath, match="hard links"):
        create_file("--audit-log", str(tmp_path / "audit.jsonl"), append=True)
    assert victim.read_text() == "precious"


def test_a_fifo_or_a_directory_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(UnsafePath):
        create_file("--pcap", str(tmp_path / "fifo"))
    (tmp_path / "dir").mkdir()
    with pytest.raises(BadInput):
        create_file("--pcap", str(tmp_path / "dir"))


def test_append_keeps_what_is_there(tmp_path):
    path = tmp_path / "audit.jsonl"
    for line in ("a\n", "b\n"):
        fd = create_file("--audit-log", str(path), 0o640, append=True)
        os.write(fd, line.encode())
        os.close(fd)
    assert path.read_text() == "a\nb\n" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_private_directory_is_made_0700_and_tightened(tmp_path):
    old = os.umask(0)
    try:
        path = private_dir(str(tmp_path / "a" / "ssh"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    os.chmod(path, 0o777)
    private_dir(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700


def test_a_link_is_not_a_private_directory(tmp_path):
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "ssh").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeDirectory, match="not a directory"):
        private_dir(str(tmp_path / "ssh"))
