"""Signals and child processes: a SIGTERM that lands while a child is being spawned never leaves it behind."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from vethctl.execute.processes import deferred_signals, owned_child


@pytest.fixture
def sigterm_interrupts():
    """SIGTERM raises KeyboardInterrupt, as the CLI sets it up."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


def _spawn_then_signal(spawned: list):
    """Start `sleep 30`, then a SIGTERM arrives before the spawn has returned the child to its caller."""
    proc = subprocess.Popen(["sleep", "30"])
    spawned.append(proc)
    os.kill(os.getpid(), signal.SIGTERM)
    return proc


def test_a_signal_during_the_spawn_kills_and_reaps_the_child(sigterm_interrupts):
    spawned: list = []
    try:
        with pytest.raises(KeyboardInterrupt), owned_child(lambda: _spawn_then_signal(spawned)) as proc:
            proc.wait()
            pytest.fail("the body must not run: the signal came first")
        (proc,) = spawned
        assert proc.returncode == -signal.SIGKILL  # killed and reaped, not left sleeping
    finally:
        for child in spawned:  # if the code under test left it running: our own child, by its pid
            if child.poll() is None:
                child.kill()
                child.wait()


def test_a_signal_while_the_child_runs_kills_it(sigterm_interrupts):
    with pytest.raises(KeyboardInterrupt), owned_child(lambda: subprocess.Popen(["sleep", "30"])) as proc:
        os.kill(os.getpid(), signal.SIGTERM)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_a_child_that_ends_normally_is_left_alone(sigterm_interrupts):
    with owned_child(lambda: subprocess.Popen(["true"])) as proc:
        assert proc.wait() == 0


def test_inside_clean_up_the_signal_waits_for_the_end_of_clean_up(sigterm_interrupts):
    """Nested in deferred_signals() (clean-up), the child runs to its end and the outer block raises."""
    done = []
    spawned: list = []
    with pytest.raises(KeyboardInterrupt), deferred_signals():
        with owned_child(lambda: _spawn_then_signal(spawned)) as proc:
            proc.kill()  # (the child's own end; what matters is that nothing interrupted us here)
            proc.wait()
        done.append("the clean-up went on after the signal")
    assert done and proc.returncode == -signal.SIGKILL
