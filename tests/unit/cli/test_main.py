"""cli/main.py: a Ctrl-C that lands inside a finalizer is not lost (nor printed as a traceback)."""

from __future__ import annotations

import sys
import time

import pytest

from vethctl.cli.main import _interrupt_again


class Finalized:
    """An object whose finalizer is interrupted, as plumbum's Popen.__del__ was by a Ctrl-C."""

    def __del__(self):
        raise KeyboardInterrupt


def test_an_interrupt_inside_a_finalizer_is_delivered_again(monkeypatch, capsys):
    monkeypatch.setattr(sys, "unraisablehook", _interrupt_again)
    with pytest.raises(KeyboardInterrupt):
        Finalized()  # its finalizer runs at once: the interrupt cannot leave it
        deadline = time.monotonic() + 10  # delivered again once the hook has returned
        while time.monotonic() < deadline:
            pass
    assert "Exception ignored" not in capsys.readouterr().err


def test_other_unraisable_exceptions_are_left_to_python(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "__unraisablehook__", seen.append)

    class Broken:
        def __del__(self):
            raise ValueError("no")

    monkeypatch.setattr(sys, "unraisablehook", _interrupt_again)
    Broken()
    assert [u.exc_type for u in seen] == [ValueError]
