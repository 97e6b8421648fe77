"""Children that are ours from the moment they exist, and signals held while clean-up runs.

A SIGINT or SIGTERM landing half-way through spawning a child would leave a child nobody waits for or
stops; one landing during clean-up would cut it short. Both are held here, and raised afterwards.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from vethctl import audit
from vethctl.execute.bounded import MAX_OUTPUT, OutputTooLarge, communicate
from vethctl.render import command_text

_held: list[list[int]] = []  # the signals held by the deferred_signals() block in force, if any


@contextlib.contextmanager
def deferred_signals():
    """Hold SIGINT and SIGTERM while clean-up runs; raise KeyboardInterrupt afterwards if one came.
    Nested in another, it holds them for the outer one, which raises at its own end."""
    if threading.current_thread() is not threading.main_thread() or _held:
        yield
        return
    arrived: list[int] = []
    _held.append(arrived)
    previous = {
        sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _held.clear()
    if arrived:
        raise KeyboardInterrupt


@contextlib.contextmanager
def owned_child(spawn: Callable[[], subprocess.Popen]):
    """A child process that is ours from the moment it exists. It is spawned with SIGINT and SIGTERM held:
    a signal landing half-way through spawning would leave a child that nobody waits for or stops, still
    running (and maybe still changing the node) after the clean-up. If anything interrupts us while it
    runs, it is killed and reaped before the interruption goes on."""
    proc = None
    try:
        with deferred_signals():
            proc = spawn()
        yield proc
    except BaseException:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        raise


def run_owned(
    cmd, limit: int | None = None, on_spawn: Callable[[int], object] | None = None, **popen_kw
) -> tuple[int, str, str]:
    """plumbum's cmd.run(retcode=None), with the child owned from its spawn (owned_child), and its output
    read up to `limit` bytes, bounded.MAX_OUTPUT by default (past that it is stopped: OutputTooLarge).
    on_spawn: told the child's pid as soon as it exists (a probe is recorded, so that gc can end it)."""
    limit = limit or MAX_OUTPUT
    with owned_child(lambda: cmd.popen(**popen_kw)) as proc:
        if on_spawn is not None:
            on_spawn(proc.pid)
        out, err, over = communicate(proc, limit)
    if over:
        raise OutputTooLarge(
            f"{command_text(tuple(map(str, cmd.formulate())))} printed more than"
            f" {limit // (1024 * 1024)} MiB: stopped, not read",
            hint="more routes, links or pods than vethctl reads at once; a pod may be flooding it",
        )
    return proc.returncode, out, err


def audited_run(
    make_cmd: Callable, argv: tuple[str, ...], label: str, shown: str | None = None, **popen_kw
) -> tuple[int, str, str]:
    """A command a host runs for itself (reading a file, connecting, a debugging pod), not a plan step:
    logged before and after like every command vethctl drives."""
    audit.command_started(argv, netns=None, node=label, session=None, shown=shown or command_text(argv))
    t0 = time.perf_counter()
    try:
        rc, out, err = run_owned(make_cmd(), **popen_kw)
    except BaseException:
        audit.command_finished(
            argv, netns=None, node=label, session=None, rc=None, duration_s=time.perf_counter() - t0
        )
        raise
    audit.command_finished(
        argv, netns=None, node=label, session=None, rc=rc, duration_s=time.perf_counter() - t0
    )
    return rc, out, err


def wait_polling(proc: subprocess.Popen, timeout: float | None) -> bool:
    """Wait until `proc` ends (True) or `timeout` seconds pass (None: no limit), polling: the kernel may give
    a terminal's SIGINT to any thread of ours, and a main thread blocked in waitpid() would not run its
    handler until the child ends (a stream's ssh or kubectl, in a session of its own, never would)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        try:
            proc.wait(timeout=max(left, 0.0))
            return True
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                return False
