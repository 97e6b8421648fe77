"""What a command prints is kept within bounds: the first lines, the last few, the rest counted."""

from __future__ import annotations

import io
import subprocess
import sys

from vethctl.execute import bounded
from vethctl.execute.bounded import Lines, communicate, lines_of


def test_lines_keep_the_first_and_count_the_rest():
    lines = Lines(head=3, tail=2)
    for i in range(10):
        lines.append(f"line {i}")
    assert lines.kept() == ["line 0", "line 1", "line 2", "line 8", "line 9"]
    assert lines.dropped == 5 and lines.text().endswith("line 9")


def test_a_line_without_end_is_cut(monkeypatch):
    monkeypatch.setattr(bounded, "MAX_LINE", 8)
    stream = io.BytesIO(b"short\n" + b"x" * 100 + b"\nnext\n")
    assert list(lines_of(stream)) == ["short", "xxxxxxxx", "next"]


def test_a_command_printing_without_end_is_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err, over = communicate(proc, limit=1024 * 1024)
    assert over and out == "" and proc.returncode is not None


def test_a_command_within_bounds_is_read_whole():
    proc = subprocess.Popen(
        [sys.executable, "-c", "print('a' * 1000); import sys; print('oops', file=sys.stderr)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
    )
    out, err, over = communicate(proc)
    assert not over and out == "a" * 1000 + "\n" and err == "oops\n"
