"""Records steer root (gc kills the pids they name, down deletes by their names): only root's own count."""

from __future__ import annotations

import json
import os
import stat

import pytest

from vethctl.errors import BadInput
from vethctl.execute.hosts.local import LocalHost
from vethctl.state import records


@pytest.mark.parametrize(
    "bad", ["../../../tmp/x/victim", "0badc0de/..", "0BADC0DE", "0badc0d", "", "0badc0de\n"]
)
def test_a_session_id_is_eight_hex_digits(bad):
    with pytest.raises(BadInput, match="not a session id"):
        records.check_session_id(bad)


def test_written_private_whatever_the_umask(tmp_path):
    host = LocalHost()
    old = os.umask(0)
    try:
        records.write(host, str(tmp_path / "state" / "sessions" / "0badc0de.json"), {"session": "0badc0de"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "sessions").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "sessions" / "0badc0de.json").st_mode) == 0o600
    assert records.read(host, str(tmp_path / "state" / "sessions" / "0badc0de.json")) == {
        "session": "0badc0de"
    }


def test_a_record_others_may_write_is_not_believed(tmp_path):
    path = tmp_path / "0badc0de.json"
    path.write_text(json.dumps({"session": "0badc0de"}))
    os.chmod(path, 0o666)
    assert records.read(LocalHost(), str(path)) is None
    os.chmod(path, 0o600)
    assert records.read(LocalHost(), str(path)) == {"session": "0badc0de"}


def test_a_link_or_a_second_name_is_not_a_record(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    os.chmod(real, 0o600)
    (tmp_path / "link.json").symlink_to(real)
    assert records.read(LocalHost(), str(tmp_path / "link.json")) is None
    os.link(real, tmp_path / "hard.json")
    assert records.read(LocalHost(), str(tmp_path / "hard.json")) is None


def test_only_well_formed_names_are_listed(tmp_path):
    for name in ("0badc0de.json", "..json", "x.json", "0badc0de.json.tmp"):
        (tmp_path / name).write_text("{}")
    assert records.names(LocalHost(), str(tmp_path), records.SESSION_ID) == ["0badc0de"]
