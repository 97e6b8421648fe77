"""The only place that imports plumbum: runs plan steps on a machine, records what happened, and undoes.

The executor owns the undo stack. A step that succeeded pushes its undo; any failure, exception or
signal unwinds the stack in reverse (stopping background processes first), so a failure half-way leaves
the node and the pod as they were. Commands are argv lists handed to plumbum: never a shell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger
from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl import audit
from vethctl.errors import CommandFailed, MissingPrerequisite
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step

# Which package gives each tool we drive (Debian/Ubuntu names).
TOOL_PACKAGES = {
    "ip": "iproute2", "bridge": "iproute2", "tcpdump": "tcpdump", "ping": "iputils-ping",
    "nsenter": "util-linux", "sudo": "sudo", "env": "coreutils", "sysctl": "procps", "iptables": "iptables",
}  # fmt: skip

_TCPDUMP_STATS = re.compile(
    r"(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel"
)


@dataclass
class Result:
    step: Step
    argv: tuple[str, ...]
    rc: int | None
    stdout: str
    stderr: str
    duration_s: float
    started: float  # wall-clock time.time()

    def as_json(self) -> dict:
        return {
            "argv": list(self.argv),
            "started": round(self.started, 6),
            "netns": str(self.step.netns) if self.step.netns else None,
            "phase": self.step.phase,
            "rc": self.rc,
            "duration_s": round(self.duration_s, 6),
        }


@dataclass
class Job:
    """A background process (tcpdump): its lines as they arrive, and how to stop it without losing any."""

    step: Step
    argv: tuple[str, ...]
    proc: subprocess.Popen
    started: float
    t0: float
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    threads: list[threading.Thread] = field(default_factory=list)
    result: Result | None = None


class Executor:
    def __init__(self, node: Node, *, session: str | None = None,
                 on_line: Callable[[str, str], None] | None = None):  # fmt: skip
        self.node = node  # the node as rendered; as root there is no need to actually go through sudo
        self.session = session
        self.on_line = on_line
        self.results: list[Result] = []
        self.by_key: dict[str, Result] = {}
        self.jobs: dict[str, Job] = {}
        self.undo_stack: list[Step] = []
        self.torn_down = False
        self.already_gone: list[Step] = []  # undos that found nothing left to undo
        self._phase_counts: dict[str, int] = {}

    # -- running one command ------------------------------------------------------------------------

    def _command(self, argv: tuple[str, ...]):
        try:
            return local[argv[0]][argv[1:]]
        except CommandNotFound:
            tool = argv[0]
            pkg = TOOL_PACKAGES.get(tool, tool)
            raise MissingPrerequisite(f"{tool} is not installed or not on PATH",
                                      hint=f"apt-get install {pkg}, or run `make install`") from None  # fmt: skip

    def _argv(self, step: Step) -> tuple[str, ...]:
        node = self.node
        if node.sudo and os.geteuid() == 0:
            node = dataclasses.replace(node, sudo=False)
        return node.argv(step.argv, step.netns)

    def _node_label(self) -> str:
        return f"netns:{self.node.netns}" if self.node.netns else "local"

    def run(self, step: Step, *, isolate: bool = False) -> Result:
        """Run a foreground step; raise CommandFailed unless its exit code is one it expects.

        isolate: in a session of its own, so that a Ctrl-C sent to our process group (as a terminal does)
        cannot kill a clean-up command half-way."""
        self._hook(step)
        argv = self._argv(step)
        shown = " ".join(argv)
        where = str(step.netns) if step.netns else None
        audit.command_started(argv, netns=where, node=self._node_label(), session=self.session, shown=shown)
        cmd = self._command(argv)
        if step.stdin is not None:
            cmd = cmd << step.stdin
        started, t0 = time.time(), time.perf_counter()
        rc, out, err = cmd.run(retcode=None, new_session=isolate)
        duration = time.perf_counter() - t0
        audit.command_finished(argv, netns=where, node=self._node_label(), session=self.session, rc=rc,
                               duration_s=duration, shown=shown)  # fmt: skip
        result = Result(step, argv, rc, out, err, duration, started)
        self._record(result)
        if rc not in step.ok_codes:
            raise CommandFailed(argv, rc, err, where=f"pod netns {step.netns}" if step.netns else "node")
        return result

    def read(self, argv: tuple[str, ...], netns: Netns | None = None, *, purpose: str = "",
             ok_codes=frozenset({0})) -> Result:  # fmt: skip
        """A read-only look (ip -j ...); it runs in --dry-run too, and is recorded like any command."""
        return self.run(Step(argv, netns, purpose=purpose, phase="inspect", ok_codes=frozenset(ok_codes)))

    def _record(self, result: Result) -> None:
        self.results.append(result)
        self.results.sort(key=lambda r: r.started)  # a background job is recorded when it ends, shown when it began
        if result.step.key:
            self.by_key[result.step.key] = result

    # -- background processes -----------------------------------------------------------------------

    def start(self, step: Step, ready_timeout: float = 10.0) -> Job:
        self._hook(step)
        argv = self._argv(step)
        shown = " ".join(argv)
        where = str(step.netns) if step.netns else None
        audit.command_started(argv, netns=where, node=self._node_label(), session=self.session, shown=shown + " &")
        cmd = self._command(argv)
        proc = cmd.popen(stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        job = Job(step, argv, proc, time.time(), time.perf_counter())
        self.jobs[step.key] = job
        for stream, sink, live in ((proc.stdout, job.stdout_lines, True), (proc.stderr, job.stderr_lines, False)):
            t = threading.Thread(target=self._pump, args=(job, stream, sink, live), daemon=True)
            t.start()
            job.threads.append(t)
        if step.ready:
            ok = self._wait_for(job, lambda: any(step.ready in line for line in job.stderr_lines), ready_timeout)
            if not ok:
                self.stop(job)
                res = job.result
                raise CommandFailed(argv, res.rc if res and res.rc is not None else -1,
                                    "\n".join(job.stderr_lines) or f"did not print {step.ready!r} in {ready_timeout:g}s",
                                    where=f"pod netns {step.netns}" if step.netns else "node")  # fmt: skip
        return job

    def _pump(self, job: Job, stream, sink: list[str], live: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with job.changed:
                sink.append(line)
                job.changed.notify_all()
            if live and self.on_line:
                self.on_line(job.step.key, line)
        with job.changed:
            job.changed.notify_all()

    def _wait_for(self, job: Job, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with job.changed:
            while not predicate():
                if job.proc.poll() is not None and not any(t.is_alive() for t in job.threads):
                    return predicate()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                job.changed.wait(min(remaining, 0.2))
        return True

    def stop(self, job: Job, timeout: float = 5.0) -> Result:
        """Stop a capture without losing its last packets.

        tcpdump answers SIGUSR1 with its counters; while it has printed fewer packets than its filter has
        received, some are still in the kernel's ring: ask again (each answer comes after it has read more).
        Then SIGINT, which is how a person stops it.
        """
        if job.result is not None:
            return job.result
        proc = job.proc
        if proc.poll() is None and job.step.ready:
            for _ in range(50):
                seen = len(job.stderr_lines)
                try:
                    proc.send_signal(signal.SIGUSR1)
                except ProcessLookupError:
                    break
                stats_line = None

                def got_stats(seen=seen):
                    nonlocal stats_line
                    for line in job.stderr_lines[seen:]:
                        if _TCPDUMP_STATS.search(line):
                            stats_line = line
                            return True
                    return False

                if not self._wait_for(job, got_stats, 2.0) or stats_line is None:
                    break
                captured, received, dropped = map(int, _TCPDUMP_STATS.search(stats_line).groups())
                if captured + dropped >= received:
                    break
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        for t in job.threads:
            t.join(timeout)
        duration = time.perf_counter() - job.t0
        audit.command_finished(job.argv, netns=str(job.step.netns) if job.step.netns else None,
                               node=self._node_label(), session=self.session, rc=rc, duration_s=duration,
                               shown=" ".join(job.argv))  # fmt: skip
        job.result = Result(job.step, job.argv, rc, "\n".join(job.stdout_lines), "\n".join(job.stderr_lines),
                            duration, job.started)  # fmt: skip
        self._record(job.result)
        return job.result

    # -- plans --------------------------------------------------------------------------------------

    def execute(self, plan: Plan, after_step: Callable[[Step], object] | None = None) -> None:
        """Run every step; on any failure or interruption, undo what was done and re-raise.
        Without plan.keep, tear down at the end."""
        try:
            for step in plan.steps:
                try:
                    if step.stops:
                        self._hook(step)
                        self.stop(self.jobs[step.stops])
                    elif step.background:
                        self.start(step)
                    else:
                        self.run(step)
                except CommandFailed:
                    raise  # it did not happen: nothing of it to undo
                except BaseException:
                    self.undo_stack.extend(step.undo)  # interrupted half-way: it may have happened
                    raise
                self.undo_stack.extend(step.undo)
                if after_step:
                    after_step(step)
        except BaseException:
            try:
                self.unwind()
            except Exception as exc:  # the first failure is the one to report; this one is logged
                logger.warning("clean-up after the failure also failed: {}", exc)
            raise
        if plan.keep:
            self.stop_jobs()
            self.undo_stack.clear()
        else:
            self.unwind()

    def stop_jobs(self) -> None:
        for job in list(self.jobs.values()):
            if job.result is None:
                self.stop(job)

    def unwind(self) -> None:
        """Stop background processes, then undo in reverse. Runs to the end even if a step fails; a Ctrl-C
        or SIGTERM that arrives meanwhile is held until the end, then raised (exit 130)."""
        with deferred_signals():
            self.stop_jobs()
            errors = []
            while self.undo_stack:
                step = self.undo_stack.pop()
                try:
                    self.run(step, isolate=True)
                except CommandFailed as exc:
                    if step.quiet_fail and _already_gone(exc.stderr):
                        self.already_gone.append(step)
                    else:
                        errors.append(exc)
            self.torn_down = True
            if errors:
                raise errors[0]

    # -- a seam for fault-injection tests -----------------------------------------------------------

    def _hook(self, step: Step) -> None:
        """VETHCTL_TEST_HOOK='{"before": "attach:1", "run": [[argv...], ...]}' runs those commands (argv,
        no shell) just before the plan's step of that phase and index. For tests that inject faults
        (a name taken, a namespace deleted) or signals at an exact point; unset, it costs one dict lookup."""
        spec = _HOOK
        if spec is None:
            return
        n = self._phase_counts.get(step.phase, 0)
        self._phase_counts[step.phase] = n + 1
        if spec.get("before") == f"{step.phase}:{n}":
            for argv in spec.get("run", []):
                subprocess.run(argv, check=False)


_HOOK = json.loads(os.environ["VETHCTL_TEST_HOOK"]) if os.environ.get("VETHCTL_TEST_HOOK") else None

_GONE = ("Cannot find device", "No such file or directory", "does not exist", "not found")


def _already_gone(stderr: str) -> bool:
    """An undo that finds nothing to undo (the pod's namespace took the pair with it) is not a failure."""
    return any(text in stderr for text in _GONE)


@contextlib.contextmanager
def deferred_signals():
    """Hold SIGINT and SIGTERM while clean-up runs; raise KeyboardInterrupt afterwards if one came."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if arrived:
        raise KeyboardInterrupt
