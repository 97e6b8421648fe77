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
from plumbum.commands.processes import CommandNotFound, run_proc

from vethctl import audit
from vethctl.commands import on_node
from vethctl.errors import CommandFailed, MissingPrerequisite
from vethctl.model import Netns, Node
from vethctl.plan import Plan, Step
from vethctl.render import command_text

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
    remote_pid: int | None = None


class Executor:
    def __init__(self, node: Node, *, session: str | None = None,
                 on_line: Callable[[str, str], None] | None = None):  # fmt: skip
        self.node = node  # the node as rendered; as root there is no need to actually go through sudo
        self.session = session
        self._host: Host | None = None
        self.on_line = on_line
        self.results: list[Result] = []
        self.by_key: dict[str, Result] = {}
        self.jobs: dict[str, Job] = {}
        self.undo_stack: list[Step] = []
        self.torn_down = False
        self.already_gone: list[Step] = []  # undos that found nothing left to undo
        self._phase_counts: dict[str, int] = {}

    # -- running one command ------------------------------------------------------------------------

    @property
    def host(self) -> Host:
        """The machine of the current node (this one, or one over SSH); the node may change while locating."""
        if self._host is None or self._host.url != self.node.host:
            self._host = host_for(self.node)
        return self._host

    def _command(self, argv: tuple[str, ...]):
        return self.host.command(argv)

    def _argv(self, step: Step) -> tuple[str, ...]:
        node = self.node
        if node.sudo and not self.host.remote and os.geteuid() == 0:
            node = dataclasses.replace(node, sudo=False)
        return on_node(node.netns, node.sudo, step.argv, step.netns)

    def _node_label(self) -> str:
        where = f"netns:{self.node.netns}" if self.node.netns else "local"
        return f"{self.node.host} {where}" if self.node.host else where

    def run(self, step: Step, *, isolate: bool = False) -> Result:
        """Run a foreground step; raise CommandFailed unless its exit code is one it expects.

        isolate: in a session of its own, so that a Ctrl-C sent to our process group (as a terminal does)
        cannot kill a clean-up command half-way."""
        self._hook(step)
        argv = self._argv(step)
        where = str(step.netns) if step.netns else None
        audit.command_started(
            argv, netns=where, node=self._node_label(), session=self.session, shown=" ".join(argv)
        )
        cmd = self._command(argv)
        if step.stdin is not None:
            cmd = cmd << step.stdin
        started, t0 = time.time(), time.perf_counter()
        if step.stream and self.on_line is not None and step.stdin is None:
            rc, out, err = self._run_streaming(cmd, step.key or "", isolate)
        else:
            rc, out, err = run_owned(cmd, new_session=isolate)
        duration = time.perf_counter() - t0
        audit.command_finished(argv, netns=where, node=self._node_label(), session=self.session, rc=rc,
                               duration_s=duration)  # fmt: skip
        result = Result(step, argv, rc, out, err, duration, started)
        self._record(result)
        if rc not in step.ok_codes:
            raise CommandFailed(
                argv,
                rc,
                err,
                shown=command_text(argv),
                where=f"pod netns {step.netns}" if step.netns else "node",
            )
        return result

    def _run_streaming(self, cmd, key: str, isolate: bool) -> tuple[int, str, str]:
        """Like run(), with each stdout line handed to on_line as it arrives (ping's replies, live)."""
        spawn = lambda: cmd.popen(  # noqa: E731
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, new_session=isolate
        )
        with owned_child(spawn) as proc:
            err: list[bytes] = []
            reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
            reader.start()
            lines = []
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                lines.append(line)
                self.on_line(key, line)
            rc = proc.wait()
            reader.join()
        return rc, "\n".join(lines) + ("\n" if lines else ""), b"".join(err).decode("utf-8", "replace")

    def read(self, argv: tuple[str, ...], netns: Netns | None = None, *, purpose: str = "",
             ok_codes=frozenset({0})) -> Result:  # fmt: skip
        """A read-only look (ip -j ...); it runs in --dry-run too, and is recorded like any command."""
        return self.run(Step(argv, netns, purpose=purpose, phase="inspect", ok_codes=frozenset(ok_codes)))

    def _record(self, result: Result) -> None:
        self.results.append(result)
        self.results.sort(
            key=lambda r: r.started
        )  # a background job is recorded when it ends, shown when it began
        if result.step.key:
            self.by_key[result.step.key] = result

    # -- background processes -----------------------------------------------------------------------

    def start(self, step: Step, ready_timeout: float = 10.0) -> Job:
        self._hook(step)
        argv = self._argv(step)
        where = str(step.netns) if step.netns else None
        audit.command_started(
            argv, netns=where, node=self._node_label(), session=self.session, shown=" ".join(argv) + " &"
        )
        cmd = self._command(self.host.background_argv(argv))
        with deferred_signals():  # a signal now waits until the job is known, so that clean-up stops it
            proc = cmd.popen(stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            job = Job(step, argv, proc, time.time(), time.perf_counter())
            self.jobs[step.key] = job
            for stream, sink, live in (
                (proc.stdout, job.stdout_lines, True),
                (proc.stderr, job.stderr_lines, False),
            ):
                t = threading.Thread(target=self._pump, args=(job, stream, sink, live), daemon=True)
                t.start()
                job.threads.append(t)
        if self.host.remote:  # its pid over there, to signal it: the wrapper prints it first
            self._wait_for(job, lambda: _remote_pid(job) is not None, ready_timeout)
            job.remote_pid = _remote_pid(job)
        if step.ready:
            ok = self._wait_for(
                job, lambda: any(step.ready in line for line in job.stderr_lines), ready_timeout
            )
            if not ok:
                self.stop(job)
                res = job.result
                raise CommandFailed(argv, res.rc if res and res.rc is not None else -1, shown=command_text(argv),
                                    stderr=
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
                    self._signal(job, signal.SIGUSR1)
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
                self._signal(job, signal.SIGINT)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self._signal(job, signal.SIGKILL)
            proc.kill()
            rc = proc.wait()
        for t in job.threads:
            t.join(timeout)
        duration = time.perf_counter() - job.t0
        audit.command_finished(job.argv, netns=str(job.step.netns) if job.step.netns else None,
                               node=self._node_label(), session=self.session, rc=rc, duration_s=duration)  # fmt: skip
        job.result = Result(job.step, job.argv, rc, "\n".join(job.stdout_lines), "\n".join(job.stderr_lines),
                            duration, job.started)  # fmt: skip
        self._record(job.result)
        return job.result

    def _signal(self, job: Job, sig: int) -> None:
        if job.remote_pid is not None:
            self.host.kill(job.remote_pid, sig)
        else:
            job.proc.send_signal(sig)

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
                with owned_child(lambda argv=argv: subprocess.Popen(argv)) as proc:
                    proc.wait()


_HOOK = json.loads(os.environ["VETHCTL_TEST_HOOK"]) if os.environ.get("VETHCTL_TEST_HOOK") else None

_GONE = ("Cannot find device", "No such file or directory", "does not exist", "not found")


def _already_gone(stderr: str) -> bool:
    """An undo that finds nothing to undo (the pod's namespace took the pair with it) is not a failure."""
    return any(text in stderr for text in _GONE)


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
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
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


def run_owned(cmd, **popen_kw) -> tuple[int, str, str]:
    """plumbum's cmd.run(retcode=None), with the child owned from its spawn (owned_child)."""
    with owned_child(lambda: cmd.popen(**popen_kw)) as proc:
        return run_proc(proc, None)


def _audited(make_cmd: Callable, argv: tuple[str, ...], label: str, shown: str | None = None,
             **popen_kw) -> tuple[int, str, str]:  # fmt: skip
    """A command a host runs for itself (reading a file, connecting, a debugging pod), not a plan step:
    logged before and after like every command vethctl drives."""
    audit.command_started(argv, netns=None, node=label, session=None, shown=shown or " ".join(argv))
    t0 = time.perf_counter()
    rc, out, err = run_owned(make_cmd(), **popen_kw)
    audit.command_finished(argv, netns=None, node=label, session=None, rc=rc,
                           duration_s=time.perf_counter() - t0)  # fmt: skip
    return rc, out, err


# -- hosts: where the node's commands run ------------------------------------------------------------------

_PID_LINE = re.compile(r"^vethctl-pid (\d+)$")
# A background command over a remote channel is wrapped so that it first says its pid (then execs the
# command itself): the pid is how it is signalled later, since signals do not travel through ssh.
_ANNOUNCE_PID = 'echo "vethctl-pid $$" >&2; exec "$@"'


def _remote_pid(job: Job) -> int | None:
    for line in job.stderr_lines[:3]:
        if m := _PID_LINE.match(line):
            return int(m.group(1))
    return None


def missing_tool(tool: str, where: str = "") -> MissingPrerequisite:
    pkg = TOOL_PACKAGES.get(tool, tool)
    return MissingPrerequisite(f"{tool} is not installed or not on PATH{where}",
                               hint=f"apt-get install {pkg}, or run `make install`")  # fmt: skip


class Host:
    """The machine the node's commands run on. Everything vethctl reads of a node's files goes through
    here too, so that the same code works on this machine and on one reached over SSH."""

    url: str | None = None
    remote = False
    label = "this machine"

    def command(self, argv: tuple[str, ...], stdin: bool = False):
        """A plumbum command for argv there. stdin: the caller will feed it input."""
        raise NotImplementedError

    def background_argv(self, argv: tuple[str, ...]) -> tuple[str, ...]:
        return argv

    # files and processes, as the node sees them
    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def read_text(self, path: str) -> str | None:
        raise NotImplementedError

    def write_text(self, path: str, text: str) -> None:
        raise NotImplementedError

    def remove(self, path: str) -> None:
        raise NotImplementedError

    def listdir(self, path: str) -> list[str]:
        raise NotImplementedError

    def is_netns_file(self, path: str) -> bool:
        raise NotImplementedError

    def caps(self) -> tuple[int, int]:
        """(euid, effective capability mask) of a process started there."""
        raise NotImplementedError

    def which(self, tool: str) -> bool:
        raise NotImplementedError

    def kill(self, pid: int, sig: int) -> None:
        raise NotImplementedError

    def cmdline(self, pid: int) -> list[str] | None:
        raise NotImplementedError

    def netns_holders(self) -> list[tuple[str, int]]:
        """One (path /proc/PID/ns/net, pid) per network namespace held by a process: not our own, and not one
        that has a name under /var/run/netns (the scan visits those by name)."""
        raise NotImplementedError

    def hostname(self) -> str:
        raise NotImplementedError


class LocalHost(Host):
    def command(self, argv, stdin=False):
        try:
            return local[argv[0]][argv[1:]]
        except CommandNotFound:
            raise missing_tool(argv[0]) from None

    def exists(self, path):
        return os.path.exists(path)

    def read_text(self, path):
        try:
            with open(path) as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write_text(self, path, text):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)

    def remove(self, path):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def listdir(self, path):
        try:
            return sorted(os.listdir(path))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def is_netns_file(self, path):
        with contextlib.suppress(OSError):
            if os.readlink(path).startswith("net:["):
                return True
        try:
            import fcntl

            fd = os.open(path, os.O_RDONLY)
            try:
                ns_get_nstype, clone_newnet = (
                    0xB703,
                    0x40000000,
                )  # ioctl(2) on an nsfs file: which namespace kind
                return fcntl.ioctl(fd, ns_get_nstype) == clone_newnet
            finally:
                os.close(fd)
        except OSError:
            return False

    def caps(self):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return os.geteuid(), int(line.split()[1], 16)
        return os.geteuid(), 0

    def which(self, tool):
        import shutil

        return shutil.which(tool) is not None

    def kill(self, pid, sig):
        os.kill(pid, sig)

    def cmdline(self, pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return [a.decode(errors="replace") for a in fh.read().split(b"\0")[:-1]]
        except OSError:
            return None

    def netns_holders(self):
        seen, out = set(), []
        for known in ["/proc/self/ns/net", *(f"/var/run/netns/{n}" for n in self.listdir("/var/run/netns"))]:
            with contextlib.suppress(OSError):
                st = os.stat(known)
                seen.add((st.st_dev, st.st_ino))
        for pid in sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int):
            try:
                st = os.stat(f"/proc/{pid}/ns/net")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                out.append((f"/proc/{pid}/ns/net", int(pid)))
        return out

    def hostname(self):
        import socket

        return socket.gethostname()


class RemoteHost(Host):
    """A host reached through some channel: its files are read with small commands (argv; the few that
    need a shell pass their values as positional parameters, never inside the script)."""

    remote = True

    def _sh(self, script: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        argv = ("sh", "-c", script, "sh", *args)

        def make_cmd():
            cmd = self.command(argv, stdin=stdin is not None)
            return cmd if stdin is None else cmd << stdin

        return _audited(make_cmd, argv, self.label)

    def background_argv(self, argv):
        return ("sh", "-c", _ANNOUNCE_PID, "sh", *argv)

    def exists(self, path):
        return self._sh('test -e "$1"', path)[0] == 0

    def read_text(self, path):
        rc, out, _ = self._sh('cat "$1" 2>/dev/null', path)
        return out if rc == 0 else None

    def write_text(self, path, text):
        rc, _, err = self._sh(
            'mkdir -p "$(dirname "$1")" && cat > "$1.tmp" && mv "$1.tmp" "$1"', path, stdin=text
        )
        if rc != 0:
            argv = ("sh", "-c", "write", path)
            raise CommandFailed(argv, rc, err, shown=command_text(argv), where=self.label)

    def remove(self, path):
        self._sh('rm -f "$1"', path)

    def listdir(self, path):
        rc, out, _ = self._sh('ls -1 "$1" 2>/dev/null', path)
        return sorted(out.split()) if rc == 0 else []

    def is_netns_file(self, path):
        rc, out, _ = self._sh('stat -L -f -c %T "$1"', path)
        return rc == 0 and out.strip() == "nsfs"

    def caps(self):
        rc, out, _ = self._sh("id -u; grep '^CapEff:' /proc/self/status")
        lines = out.split()
        if rc != 0 or len(lines) < 3:
            return -1, 0
        return int(lines[0]), int(lines[2], 16)

    def which(self, tool):
        return self._sh('command -v "$1"', tool)[0] == 0

    def kill(self, pid, sig):
        rc, _, err = self._sh('kill -s "$1" "$2"', signal.Signals(sig).name[3:], str(pid))
        if rc != 0 and "No such process" in err:
            raise ProcessLookupError(pid)

    def cmdline(self, pid):
        rc, out, _ = self._sh('tr "\\0" "\\n" < "/proc/$1/cmdline"', str(pid))
        return out.splitlines() if rc == 0 and out else None

    def netns_holders(self):
        # our own namespace and the named ones first (their keys, marked "-"), then every process's
        script = ('for f in /proc/self/ns/net /var/run/netns/*; do '
                  'k=$(stat -L -c %d:%i "$f" 2>/dev/null) && echo "$k -"; done; '
                  'for f in /proc/[0-9]*/ns/net; do '
                  'k=$(stat -L -c %d:%i "$f" 2>/dev/null) || continue; echo "$k $f"; done')  # fmt: skip
        _, out, _ = self._sh(script)
        seen, result = set(), []
        for line in out.splitlines():
            key, _, path = line.partition(" ")
            if path == "-":
                seen.add(key)
                continue
            pid = path.split("/")[2]
            if key not in seen and pid.isdigit():
                seen.add(key)
                result.append((path, int(pid)))
        return result

    def hostname(self):
        rc, out, _ = self._sh("hostname 2>/dev/null || cat /proc/sys/kernel/hostname")
        return out.strip()


class SshHost(RemoteHost):
    """`--via ssh://[USER@]HOST[:PORT]`: plumbum's SshMachine, the same interface as the local machine.
    One ssh connection is shared by every command of a run (ControlMaster); VETHCTL_SSH_OPTS adds options
    (an identity, known-hosts handling)."""

    def __init__(self, url: str):
        import shlex
        import tempfile
        from urllib.parse import urlsplit

        from plumbum import SshMachine

        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            from vethctl.errors import BadInput

            raise BadInput(f"--via {url!r} is not an ssh URL", hint="write ssh://[USER@]HOST[:PORT]")
        self.url = url
        self.user, self.hostname_, self.port = parts.username, parts.hostname, parts.port
        self.label = f"ssh://{self.user + '@' if self.user else ''}{self.hostname_}{':' + str(self.port) if self.port else ''}"
        extra = shlex.split(os.environ.get("VETHCTL_SSH_OPTS", ""))
        # the shared connection is keyed by the options too: another identity must not ride on it
        import hashlib

        digest = hashlib.sha256("\0".join(extra).encode()).hexdigest()[:8]
        control = os.path.join(tempfile.gettempdir(), f"vethctl-ssh-{os.getuid()}-{digest}-%C")
        opts = ["-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", f"ControlPath={control}",
                "-o", "ControlPersist=30", *extra]  # fmt: skip
        # ssh itself first: what it says on failure (refused, key, host key) is what the user must fix,
        # and it leaves the shared connection (ControlMaster) up for every command that follows
        target = f"{self.user + '@' if self.user else ''}{self.hostname_}"
        probe = (
            "ssh",
            *opts,
            "-o",
            "ConnectTimeout=10",
            *(("-p", str(self.port)) if self.port else ()),
            target,
            "true",
        )
        rc, _, err = _audited(
            lambda: local["ssh"][probe[1:]], probe, self.label, f"ssh {self.label} (connect)"
        )
        if rc != 0:
            raise _ssh_error(self.label, RuntimeError(err))
        try:
            self.machine = SshMachine(self.hostname_, user=self.user, port=self.port, ssh_opts=opts,
                                      connect_timeout=10)  # fmt: skip
        except Exception as exc:  # plumbum raises several kinds; what ssh said is in the text
            raise _ssh_error(self.label, exc) from None

    def command(self, argv, stdin=False):
        try:
            return self.machine[argv[0]][argv[1:]]
        except CommandNotFound:
            raise missing_tool(argv[0], f" on {self.label}") from None


def _ssh_error(label: str, exc: Exception) -> MissingPrerequisite:
    text = str(exc)
    for needle, what, fix in (
        ("Connection refused", "the connection was refused", "is sshd running there, on that port?"),
        ("Permission denied", "the key was rejected", "give an authorized key: VETHCTL_SSH_OPTS='-i KEY' or ssh-agent"),
        ("Host key verification failed", "the host key is not known or has changed",
         "add it to known_hosts (ssh-keyscan), or set VETHCTL_SSH_OPTS='-o UserKnownHostsFile=...'"),
        ("REMOTE HOST IDENTIFICATION HAS CHANGED", "the host key has changed", "check the host, then fix known_hosts"),
        ("Could not resolve hostname", "the host name does not resolve", "check the name"),
        ("timed out", "the connection timed out", "check the address and the network path"),
        ("No route to host", "there is no route to it", "check the address"),
    ):  # fmt: skip
        if needle in text:
            return MissingPrerequisite(f"cannot connect to {label} over ssh: {what}", hint=fix)
    last = [line for line in text.splitlines() if line.strip()]
    return MissingPrerequisite(f"cannot connect to {label} over ssh: {last[-1] if last else type(exc).__name__}",
                               hint="try `ssh` by hand with the same options")  # fmt: skip


class KubectlDebugHost(RemoteHost):
    """`--via kubectl-debug`: a node debugging pod (`kubectl debug node/NODE --profile=sysadmin`), the node's
    own tools through `kubectl exec POD -- chroot /host ...`, and the pod deleted when vethctl ends (on
    failure and Ctrl-C too: kubectl's own debugging pods are known to pile up). Its command is a `sleep`, so
    even after a SIGKILL of vethctl it ends by itself (kube.DEBUG_LIFETIME_S)."""

    def __init__(self, url: str):
        from urllib.parse import parse_qs, urlsplit

        from vethctl.commands import kubectl as kube
        from vethctl.parsers.kube import parse_debug_created

        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.url, self.node_name = url, parts.hostname or parts.netloc
        self.context = (query.get("context") or [None])[0]
        self.namespace = os.environ.get("VETHCTL_DEBUG_NAMESPACE") or kube.DEBUG_NAMESPACE
        self.image = os.environ.get("VETHCTL_DEBUG_IMAGE") or kube.DEBUG_IMAGE
        self.label = f"kubectl-debug node/{self.node_name}"
        self.pod = self.container = None
        self._kube = kube
        out = self._kubectl(kube.debug_node_argv(self.node_name, image=self.image, namespace=self.namespace,
                                                 context=self.context), "start a node debugging pod")  # fmt: skip
        self.pod, self.container, _ = parse_debug_created(out)
        self._kubectl(kube.debug_wait_argv(self.pod, namespace=self.namespace, context=self.context),
                      "wait for the debugging pod")  # fmt: skip

    def _kubectl(self, argv: tuple[str, ...], purpose: str) -> str:
        try:
            rc, out, err = _audited(lambda: local[argv[0]][argv[1:]], argv, self.label)
        except CommandNotFound:
            raise missing_tool("kubectl") from None
        if rc != 0:
            self.close()
            raise MissingPrerequisite(f"could not {purpose} on node {self.node_name}: "
                                      f"{(err.strip().splitlines() or ['no error output'])[-1]}",
                                      hint="kubectl debug node/NODE needs create pods and privileged pods there")  # fmt: skip
        return out + err

    def command(self, argv, stdin: bool = False):
        full = self._kube.debug_exec_argv(self.pod, self.container, tuple(argv), namespace=self.namespace,
                                          context=self.context, stdin=stdin)  # fmt: skip
        return local[full[0]][full[1:]]

    def close(self) -> None:
        if self.pod:
            pod, self.pod = self.pod, None
            argv = self._kube.debug_delete_argv(pod, namespace=self.namespace, context=self.context)
            _audited(lambda: local[argv[0]][argv[1:]], argv, self.label, new_session=True)


_HOSTS: dict[str | None, Host] = {}


def host_for(node: Node) -> Host:
    """One Host per place for the whole process: the local machine, one SSH connection per URL, one node
    debugging pod per node."""
    key = node.host
    if key not in _HOSTS:
        if key is None:
            _HOSTS[key] = LocalHost()
        elif key.startswith("ssh://"):
            _HOSTS[key] = SshHost(key)
        elif key.startswith("kubectl-debug://"):
            _HOSTS[key] = KubectlDebugHost(key)
        else:
            from vethctl.errors import BadInput

            raise BadInput("--via kubectl-debug needs a pod/ target (it debugs the pod's node)",
                           hint="vethctl run pod/NAME --via kubectl-debug")  # fmt: skip
    return _HOSTS[key]


def close_hosts() -> None:
    """At exit: remove what reaching the nodes created (node debugging pods). Ctrl-C waits for it."""
    with deferred_signals():
        for host in list(_HOSTS.values()):
            close = getattr(host, "close", None)
            if close:
                close()
        _HOSTS.clear()
