"""Runs plan steps on a host, journals what happened, and undoes.

The executor owns the undo stack. A step that succeeded pushes its undo; any failure, exception or signal
unwinds the stack in reverse (stopping background processes first), so a failure half-way leaves the node
and the pod as they were. Commands are argv lists handed to plumbum: never a shell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger

from vethctl import audit
from vethctl.commands import on_node
from vethctl.errors import CommandFailed
from vethctl.execute import batches, stopping, testhook
from vethctl.execute.bounded import KEEP_LINES, MAX_OUTPUT, Lines, lines_of, read_capped
from vethctl.execute.hosts.base import Host
from vethctl.execute.hosts.remote import announced_pid
from vethctl.execute.journal import Journal, Result
from vethctl.execute.pcapstream import StreamHome
from vethctl.execute.processes import deferred_signals, owned_child, run_owned, wait_polling
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step
from vethctl.render import command_text
from vethctl.secure import take_back


@dataclass
class Job:
    """A background process (tcpdump): its lines as they arrive, and how to stop it without losing any."""

    step: Step
    argv: tuple[str, ...]
    proc: subprocess.Popen
    started: float
    t0: float
    stdout_lines: Lines = field(default_factory=Lines)  # the first ones (a flood is counted, not kept)
    stderr_lines: list[str] = field(default_factory=list)  # tcpdump's own messages: few
    changed: threading.Condition = field(default_factory=threading.Condition)
    threads: list[threading.Thread] = field(default_factory=list)
    result: Result | None = None
    remote_pid: int | None = None
    rc: int | None = None  # once it has ended (stopped by us or by itself), before its result is recorded
    ending: threading.Lock = field(default_factory=threading.Lock)
    out_fd: int | None = None  # the file it writes through its stdin (Step.writes), opened by us
    home: StreamHome | None = None  # its stdout is a pcap stream, written on this machine (Step.pcap_home)


_GONE = ("Cannot find device", "No such file or directory", "does not exist", "not found")


def already_gone(stderr: str) -> bool:
    """An undo that finds nothing to undo (the pod's namespace took the pair with it) is not a failure."""
    return any(text in stderr for text in _GONE)


class Executor:
    def __init__(
        self,
        host: Host,
        node: Node,
        *,
        session: str | None = None,
        on_line: Callable[[str, str], None] | None = None,
        journal: Journal | None = None,
        on_spawn: Callable[[tuple[str, ...], tuple[str, ...], int], None] | None = None,
    ):
        self.host = host
        self.node = node  # the node as rendered; as root there is no need to actually go through sudo
        self.session = session
        self.on_line = on_line
        self.on_spawn = on_spawn  # told each capture's and probe's pid at its spawn: gc ends what a kill left
        self.journal = journal if journal is not None else Journal()
        self.jobs: dict[str, Job] = {}
        self.daemons: dict[str, int] = {}  # key -> pid of the servers started (they outlive the plan)
        self.undo_stack: list[Step] = []
        self.torn_down = False
        self.already_gone: list[Step] = []  # undos that found nothing left to undo
        self.shared_writers: dict = {}  # the captures that stream to our stdout share one (capture -l)

    def on(self, node: Node, host: Host | None = None, *, session: str | None = None) -> Executor:
        """An executor for another node (or the same node's machine through another host), writing into the
        same journal: what an invocation ran is one list, wherever it ran."""
        return Executor(
            host or self.host,
            node,
            session=session or self.session,
            on_line=self.on_line,
            journal=self.journal,
            on_spawn=self.on_spawn,
        )

    @property
    def results(self) -> list[Result]:
        return self.journal.results

    @property
    def by_key(self) -> dict[str, Result]:
        return self.journal.by_key

    # -- running one command ------------------------------------------------------------------------

    def argv_of(self, step: Step) -> tuple[str, ...]:
        node = self.node
        if node.sudo and not self.host.remote and os.geteuid() == 0:
            node = dataclasses.replace(node, sudo=False)
        return on_node(node.netns, node.sudo, step.argv, step.netns)

    def _where(self, step: Step) -> str:  # for messages: only a step in a pod's namespace is "the pod netns"
        place = {"node": "lab node", "outside": "lab's outside netns"}.get(step.place, "pod netns")
        return f"{place} {step.netns}" if step.netns else f"node ({self.node.label})"

    def failure(self, result: Result) -> CommandFailed:
        """The error for a command that exited with a code its step does not expect (of a batch: its line
        that failed)."""
        shown, stderr = batches.failure_detail(result, command_text(result.argv))
        return CommandFailed(
            result.argv,
            result.rc if result.rc is not None else -1,
            stderr,
            shown=shown,
            where=self._where(result.step),
        )

    def run(self, step: Step, *, isolate: bool = False, check: bool = True) -> Result:
        """Run a foreground step; raise CommandFailed unless its exit code is one it expects (check=False:
        return its result all the same).

        isolate: in a session of its own, so that a Ctrl-C sent to our process group (as a terminal does)
        cannot kill a clean-up command half-way."""
        self._hook(step)
        argv = self.argv_of(step)
        where = str(step.netns) if step.netns else None
        label = self.node.audit_label
        audit.command_started(
            argv,
            netns=where,
            node=label,
            session=self.session,
            shown=batches.shown(argv, step),
            lines=batches.lines_of(step),
        )
        started, t0 = time.time(), time.perf_counter()
        told = self.on_spawn and (step.stream or step.phase == "probe") and not self.host.remote
        spawned = (lambda pid: self.on_spawn(argv, step.argv, pid)) if told else None
        # interrupted (the child killed and reaped) or never started: it has its end in the audit log too
        rc, dropped = None, 0
        try:
            cmd = self.host.command(argv, step.stdin is not None)
            if step.stdin is not None:
                cmd = cmd << self.host.stdin_of(argv, step.stdin)
            if step.stream and self.on_line is not None and step.stdin is None:
                rc, out, err, dropped = self._run_streaming(cmd, step.key or "", isolate, spawned)
            else:
                rc, out, err = run_owned(cmd, step.max_output, spawned, new_session=isolate)
        finally:
            duration = time.perf_counter() - t0
            audit.command_finished(
                argv, netns=where, node=label, session=self.session, rc=rc, duration_s=duration
            )
        result = Result(step, argv, rc, out, err, duration, started, dropped)
        self.journal.record(result)
        for key, line, text in batches.keyed_reads(result):  # a batch of reads: each line's JSON, by key
            self.journal.keep(key, Result(line, argv, rc, text, "", duration, started))
        if check and rc not in step.ok_codes:
            raise self.failure(result)
        return result

    def _run_streaming(self, cmd, key: str, isolate: bool, spawned=None) -> tuple[int, str, str, int]:
        """Like run(), with each stdout line handed to on_line as it arrives (ping's replies, live); the
        lines kept are bounded (execute/bounded.py), and the fourth value counts the others."""

        def spawn():
            return cmd.popen(
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, new_session=isolate
            )

        with owned_child(spawn) as proc:
            if spawned is not None:
                spawned(proc.pid)
            err: list[bytes] = []
            reader = threading.Thread(
                target=lambda: err.append(read_capped(proc.stderr, MAX_OUTPUT, lambda: None)), daemon=True
            )
            reader.start()
            lines = Lines(tail=16)  # ping's summary is its last lines
            for line in lines_of(proc.stdout):
                lines.append(line)
                self.on_line(key, line)
            rc = proc.wait()
            reader.join()
        text = lines.text()
        return rc, text + ("\n" if text else ""), b"".join(err).decode("utf-8", "replace"), lines.dropped

    def read(
        self,
        argv: tuple[str, ...],
        netns: Netns | None = None,
        *,
        purpose: str = "",
        ok_codes=frozenset({0}),
        max_output: int | None = None,
    ) -> Result:
        """A read-only look (ip -j ...); it runs in --dry-run too, and is recorded like any command. Its output
        is read up to `max_output` bytes (execute.bounded.MAX_OUTPUT by default)."""
        step = Step(
            argv, netns, purpose=purpose, phase="inspect", ok_codes=frozenset(ok_codes), max_output=max_output
        )
        return self.run(step)

    # -- background processes -----------------------------------------------------------------------

    def start(self, step: Step, ready_timeout: float = 10.0) -> Job:
        self._hook(step)
        argv = self.argv_of(step)
        out_fd = self.host.output_file(step.writes) if step.writes else None  # refused before it starts
        where = self._started_in_background(step, argv)
        own_session = {"new_session": True} if step.pcap_home and self.host.remote else {}  # see pcapstream
        with deferred_signals():  # a signal now waits until the job is known, so that clean-up stops it
            stdin = subprocess.DEVNULL if out_fd is None else out_fd
            try:
                cmd = self.host.command(self.host.background_argv(argv, step.writes))
                proc = cmd.popen(stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=stdin, **own_session)
            except BaseException:  # not started: its output file closed, its end in the audit log
                if out_fd is not None:
                    os.close(out_fd)
                audit.command_finished(
                    argv,
                    netns=where,
                    node=self.node.audit_label,
                    session=self.session,
                    rc=None,
                    duration_s=0.0,
                )
                raise
            job = Job(step, argv, proc, time.time(), time.perf_counter(), out_fd=out_fd)
            self.jobs[step.key] = job
            text = proc.stdout
            if step.pcap_home is not None:  # a pcap stream, written here; its text is `tcpdump -r -`'s here
                job.home = StreamHome(step.pcap_home, proc.stdout, functools.partial(self._signal, job), self)
                text = job.home.start()
            for stream, sink, live in (
                (text, job.stdout_lines, True),
                (proc.stderr, job.stderr_lines, False),
            ):
                t = threading.Thread(target=self._pump, args=(job, stream, sink, live), daemon=True)
                t.start()
                job.threads.append(t)
        if self.host.remote:  # its pid over there, to signal it: the wrapper prints it first
            self._wait_for(job, lambda: announced_pid(job.stderr_lines) is not None, ready_timeout)
            job.remote_pid = announced_pid(job.stderr_lines)
        if self.on_spawn is not None and (job.remote_pid or not self.host.remote):
            self.on_spawn(argv, step.argv, job.remote_pid or proc.pid)
        if step.ready:
            ok = self._wait_for(
                job, lambda: any(step.ready in line for line in job.stderr_lines), ready_timeout
            )
            if not ok:
                res = self.stop(job)
                stderr = "\n".join(job.stderr_lines) or f"did not print {step.ready!r} in {ready_timeout:g}s"
                raise self.failure(dataclasses.replace(res, stderr=stderr))
        return job

    def daemon(self, step: Step) -> int:
        """Start a server that outlives this invocation (a lab's listeners): detached in a session of its own,
        no pipes kept. Its pid is kept under the step's key; a plan that fails stops it again."""
        self._hook(step)
        argv = self.argv_of(step)
        where = self._started_in_background(step, argv)
        cmd = self.host.command(argv)
        with deferred_signals():
            proc = cmd.popen(
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                new_session=True,
            )
            self.daemons[step.key or f"daemon{len(self.daemons)}"] = proc.pid
        # started: its exit code is not known, and is none of our business while it serves
        self.journal.record(Result(step, argv, None, "", "", 0.0, time.time()))
        audit.command_finished(
            argv, netns=where, node=self.node.audit_label, session=self.session, rc=None, duration_s=0.0
        )
        return proc.pid

    def _started_in_background(self, step: Step, argv: tuple[str, ...]) -> str | None:
        """The audit log's start of a background command (shown with its '&'); the namespace it runs in."""
        where = str(step.netns) if step.netns else None
        shown = command_text(argv) + " &"
        audit.command_started(
            argv, netns=where, node=self.node.audit_label, session=self.session, shown=shown
        )
        return where

    def _pump(self, job: Job, stream, sink, live: bool) -> None:
        for line in lines_of(stream):
            with job.changed:
                if live or len(sink) < KEEP_LINES:
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

    def wait(self, job: Job, timeout: float | None) -> bool:
        """Wait until the job ends by itself (tcpdump -c N) or `timeout` seconds pass (None: no limit).
        True if it has ended. Ctrl-C still interrupts (processes.wait_polling)."""
        return wait_polling(job.proc, timeout)

    def stop(self, job: Job, timeout: float = 5.0) -> Result:
        """Stop a background job without losing its last lines (execute/stopping.py); its result."""
        if job.result is not None:
            return job.result
        rc = self._end(job, timeout)
        for t in job.threads:
            t.join(timeout)
        if job.out_fd is not None:
            job.out_fd = take_back(job.out_fd)
        if job.home is not None:  # every packet written and printed; the local `tcpdump -r -` recorded
            argv, *rest = job.home.close()
            self.journal.record(Result(Step(argv, purpose="print the stream", phase="capture"), argv, *rest))
        duration = time.perf_counter() - job.t0
        audit.command_finished(
            job.argv,
            netns=str(job.step.netns) if job.step.netns else None,
            node=self.node.audit_label,
            session=self.session,
            rc=rc,
            duration_s=duration,
        )
        job.result = Result(
            job.step,
            job.argv,
            rc,
            job.stdout_lines.text(),
            "\n".join(job.stderr_lines),
            duration,
            job.started,
            job.stdout_lines.dropped,
        )
        self.journal.record(job.result)
        return job.result

    def _end(self, job: Job, timeout: float) -> int:
        """Drain and end the process (once, whoever asks first); its exit code."""
        with job.ending:
            if job.rc is None:
                send = functools.partial(self._signal, job)
                if job.proc.poll() is None and job.step.ready:
                    stopping.drain(send, job.stderr_lines, lambda pred, t: self._wait_for(job, pred, t))
                job.rc = stopping.end(job.proc, send, timeout)
            return job.rc

    def _signal(self, job: Job, sig: int) -> None:
        if job.remote_pid is not None:
            self.host.kill(job.remote_pid, sig)
        else:
            job.proc.send_signal(sig)

    def end_together(self, jobs: list[tuple[Executor, Job]], timeout: float = 5.0) -> None:
        """End several captures at once, as a person's `kill -INT pid1 pid2 ...` does, instead of one after
        the other (each waits for tcpdump's last counters); their results are then recorded in order by
        stop(). Each job is ended by the executor that started it (a remote one signals over ssh)."""
        live = [(ex, job) for ex, job in jobs if job.rc is None and job.result is None]
        if len(live) < 2:
            return
        threads = [threading.Thread(target=ex._end, args=(job, timeout), daemon=True) for ex, job in live]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # -- plans --------------------------------------------------------------------------------------

    def execute(self, plan: Plan, after_step: Callable[[Step], object] | None = None) -> None:
        """Run every step; on any failure or interruption, undo what was done and re-raise.
        Without plan.keep, tear down at the end."""
        try:
            for i, step in enumerate(plan.steps):
                try:
                    if step.stops:
                        # the first of consecutive stops: all at once
                        if i == 0 or not plan.steps[i - 1].stops:
                            group = list(itertools.takewhile(lambda s: s.stops, plan.steps[i:]))
                            for s in group:
                                self._hook(s)
                            self.end_together([(self, self.jobs[s.stops]) for s in group])
                        self.stop(self.jobs[step.stops])
                    elif step.background:
                        self.start(step)
                    elif step.daemon:
                        self.daemon(step)
                    else:
                        result = self.run(step, check=False)
                        if result.rc not in step.ok_codes:
                            # it did not happen: nothing of it to undo; of a batch, the lines that did
                            self.undo_stack.extend(u for done in batches.done(result) for u in done.undo)
                            raise self.failure(result)
                except CommandFailed:
                    raise
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
        self.end_together([(self, job) for job in self.jobs.values()])
        for job in list(self.jobs.values()):
            if job.result is None:
                self.stop(job)

    def unwind(self) -> None:
        """Stop background processes, then undo in reverse. Runs to the end even if a step fails; a Ctrl-C
        or SIGTERM that arrives meanwhile is held until the end, then raised (exit 130)."""
        with deferred_signals():
            self.stop_jobs()
            for pid in self.daemons.values():  # servers of a plan that did not finish
                with contextlib.suppress(ProcessLookupError):
                    self.host.kill(pid, signal.SIGTERM)
            self.daemons.clear()
            errors: list[CommandFailed] = []
            while self.undo_stack:
                for step in batches.next_undos(self.undo_stack):  # link removals: one batch
                    result = self.run(step, isolate=True, check=False)
                    if result.rc in step.ok_codes:
                        continue
                    for failed, exc in batches.line_failures(result, self.argv_of, self._where(step)):
                        if failed.quiet_fail and already_gone(exc.stderr):
                            self.already_gone.append(failed)
                        else:
                            errors.append(exc)
            self.torn_down = True
            if errors:
                raise errors[0]

    def _hook(self, step: Step) -> None:
        # VETHCTL_TEST_HOOK (execute/testhook.py): the step's index in its phase, over the whole invocation
        testhook.before(step.phase, lambda: self.journal.step_index(step.phase))
