"""Output files of this machine are checked before anything changes."""

from __future__ import annotations

import pytest

from vethctl.errors import BadInput
from vethctl.execute.preflight import check_writable


def test_a_file_under_a_regular_file_is_bad_input_not_a_traceback(tmp_path):
    """Found by test_cli_fuzz: --transcript FILE/x (lstat raises NotADirectoryError) crashed with a traceback."""
    (tmp_path / "blocker").write_text("")
    with pytest.raises(BadInput, match="blocker is not a directory"):
        check_writable("--transcript", str(tmp_path / "blocker" / "x"))
    assert (tmp_path / "blocker").read_text() == ""
