"""Run the CLI once, in-process, against a recorded conversation with a node: the golden tests' engine.

    python -m tests.support.golden_run record CASE.json -- ARGS...   (root, a real lab: writes CASE.json)
    python -m tests.support.golden_run replay CASE.json OUT.json      (anyone: runs CASE's args, writes OUT)

A case is pyinfra-style: the `args` given, the `facts` the node answered (every file, process and tool
look-up vethctl made through its Host, and the output of every command it ran), the `commands` it ran in
order, what it printed, and (cases recorded since it was added) the `stdins` its commands read. Replaying gives vethctl the same facts: a command is answered by a process that
prints the recorded output (a capture by one that behaves like tcpdump: it prints its packets, answers
SIGUSR1 with its counters, ends on SIGINT), so everything above the Host runs for real.

Clock values (a command's start time and duration, a run's elapsed time, a record's creation time) and the
transcript's date are the only things normalised before comparing: see `normalise_output`.
Session ids, pids and uuids are made deterministic here, before vethctl is imported.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tempfile
from collections import defaultdict, deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FAKE_PID = 4242

# -- determinism, before vethctl is imported ------------------------------------------------------------


def _deterministic() -> None:
    import secrets
    import uuid

    counter = iter(range(1, 1 << 30))
    secrets.token_hex = lambda nbytes=32: f"{0x5E550000 + next(counter):0{2 * nbytes}x}"[-2 * nbytes :]
    ucounter = iter(range(1, 1 << 30))
    uuid.uuid4 = lambda: uuid.UUID(int=0xC0FFEE << 96 | next(ucounter))
    os.getpid = lambda: FAKE_PID


# -- normalising paths and clocks ------------------------------------------------------------------------


class Paths:
    """The per-run paths (the state directory, a scratch directory, the checkout) as placeholders."""

    def __init__(self, state: str, tmp: str):
        self.real = [(state, "<STATE>"), (tmp, "<TMP>"), (str(ROOT), "<ROOT>")]

    def hide(self, value):
        if isinstance(value, str):
            for real, mark in self.real:
                value = value.replace(real, mark)
            return value
        if isinstance(value, list | tuple):
            return [self.hide(v) for v in value]
        if isinstance(value, dict):
            return {k: self.hide(v) for k, v in value.items()}
        return value

    def show(self, value):
        if isinstance(value, str):
            for real, mark in self.real:
                value = value.replace(mark, real)
            return value
        if isinstance(value, list | tuple):
            return [self.show(v) for v in value]
        if isinstance(value, dict):
            return {k: self.show(v) for k, v in value.items()}
        return value


_CLOCK_FIELDS = re.compile(r'("(?:started|duration_s|elapsed_s|created)": )-?[0-9][0-9.e+-]*')
_CLOCK_TEXT = (
    (re.compile(r"ran (\d+) commands in [0-9.]+ s"), r"ran \1 commands in N s"),
    (re.compile(r"# written by vethctl on \S+"), "# written by vethctl on DATE"),
)


def normalise_output(text: str) -> str:
    text = _CLOCK_FIELDS.sub(r"\g<1>0", text)
    for pattern, repl in _CLOCK_TEXT:
        text = pattern.sub(repl, text)
    return text


# -- recording -----------------------------------------------------------------------------------------

FACT_METHODS = (
    "exists",
    "read_text",
    "write_text",
    "remove",
    "listdir",
    "is_netns_file",
    "caps",
    "which",
    "kill",
    "cmdline",
    "start_time",
    "lstat",
    "netns_holders",
    "netns_inodes",
    "netns_owned_elsewhere",
    "netns_holding",
    "netns_id",
    "hostname",
)


class RecordingHost:
    """A real host, each of its answers written down."""

    def __init__(self, real, facts: list, ran: list, paths: Paths, stdins: list | None = None):
        self._real, self._facts, self._ran, self._paths = real, facts, ran, paths
        self._stdins = stdins if stdins is not None else []
        self.url, self.remote, self.label = real.url, real.remote, real.label

    def command(self, argv, stdin=False):
        self._ran.append(self._paths.hide(list(argv)))
        return self._real.command(argv, stdin)

    def stdin_of(self, argv, text):
        self._stdins.append([self._paths.hide(list(argv)), self._paths.hide(text)])
        return self._real.stdin_of(argv, text)

    def background_argv(self, argv, writes=None):
        return self._real.background_argv(argv, writes)

    def output_file(self, path):
        return self._real.output_file(path)

    def close(self):
        self._real.close()

    def __getattr__(self, name):
        if name not in FACT_METHODS:
            raise AttributeError(name)
        method = getattr(self._real, name)

        def recorded(*args):
            result = method(*args)
            shown = args[:1] if name == "write_text" else args
            self._facts.append([name, self._paths.hide(list(shown)), self._paths.hide(result)])
            return result

        return recorded


# -- replaying -----------------------------------------------------------------------------------------

_TCPDUMP_LIKE = r"""
import re, signal, sys, time
out_path, err_path, rc, by_itself = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
err = open(err_path).read().split("\n") if open(err_path).read() else []
one_line = re.compile(r"\d+ packets? captured, \d+ packets? received by filter, \d+ packets? dropped by kernel")
ready = next((i for i, line in enumerate(err) if "listening on " in line), -1)
answers = [line for line in err[ready + 1:] if one_line.search(line)]
rest = [line for line in err[ready + 1:] if not one_line.search(line)]
def say(stream, lines):
    for line in lines:
        stream.write(line + "\n")
    stream.flush()
def usr1(*_):
    say(sys.stderr, [answers.pop(0) if len(answers) > 1 else answers[0]] if answers else [])
def stop(*_):
    say(sys.stderr, rest)
    sys.exit(rc)
signal.signal(signal.SIGUSR1, usr1)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
say(sys.stderr, err[: ready + 1])
text = open(out_path).read()
if text:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
if by_itself:  # tcpdump -c N ends after N packets
    stop()
while True:
    time.sleep(3600)
"""
_PRINT = 'cat "$1"; cat "$2" >&2; exit "$3"'


class ReplayHost:
    """A host that answers with a case's recorded facts, and whose commands print the recorded output."""

    url = None
    remote = False
    label = "this machine"

    def __init__(self, case: dict, paths: Paths, scratch: str):
        self.paths, self.scratch = paths, scratch
        self.facts: dict[tuple, deque] = defaultdict(deque)
        for name, args, result in case["facts"]:
            self.facts[(name, json.dumps(args))].append(result)
        self.outputs: dict[str, deque] = defaultdict(deque)
        for c in case["commands"]:
            self.outputs[json.dumps(c["argv"])].append(c)
        self.ran: list[list[str]] = []
        self.unexpected: list[str] = []
        self.writes: list[tuple] = []
        self.stdins: list[list] = []
        self._n = 0

    def command(self, argv, stdin=False):
        from plumbum import local

        key = self.paths.hide(list(argv))
        self.ran.append(key)
        queue = self.outputs.get(json.dumps(key))
        if not queue:
            self.unexpected.append(f"command {key}")
            return local["sh"]["-c", 'echo "not in the recording: $*" >&2; exit 99', "replay", *argv]
        rec = queue.popleft() if len(queue) > 1 else queue[0]
        self._n += 1
        out, err = (os.path.join(self.scratch, f"{self._n}.{s}") for s in ("out", "err"))
        Path(out).write_text(self.paths.show(rec["stdout"]))
        Path(err).write_text(self.paths.show(rec["stderr"]))
        rc = str(rec["rc"] if rec["rc"] is not None else 0)
        if rec.get("background"):
            by_itself = "1" if "-c" in rec["argv"] else "0"
            return local[sys.executable]["-c", _TCPDUMP_LIKE, out, err, rc, by_itself]
        if rec["rc"] is None:  # a daemon (a lab's server): it serves until stopped (end_children at the end)
            return local["sleep"]["3600"]
        return local["sh"]["-c", _PRINT, "replay", out, err, rc]

    def stdin_of(self, argv, text):
        self.stdins.append([self.paths.hide(list(argv)), self.paths.hide(text)])
        return text

    def background_argv(self, argv, writes=None):
        return argv

    def output_file(self, path):  # the file is made as it would be; the replayed capture writes nothing
        from vethctl.secure import create_file

        return create_file("--pcap", path)

    def close(self):
        pass

    def start_time(self, pid):
        """A recorded process's start time from the recording; a process this replay started itself (the
        tcpdump stand-in, whose pid differs from the recording's) has its own, real one."""
        key = ("start_time", json.dumps([pid]))
        if self.facts.get(key):
            return self.__getattr__("start_time")(pid)
        me = os.readlink("/proc/self")  # os.getpid is the recording's here
        try:
            text = Path(f"/proc/{int(pid)}/stat").read_text()
        except (OSError, ValueError):
            text = ""
        if text and text.rpartition(")")[2].split()[1] == me:
            from vethctl.parsers.procfs import start_time

            return start_time(text)
        return self.__getattr__("start_time")(pid)

    def __getattr__(self, name):
        if name not in FACT_METHODS:
            raise AttributeError(name)

        def answer(*args):
            if name == "write_text":  # what is written carries the clock: the path is what matters
                args = args[:1]
            key = (name, json.dumps(self.paths.hide(list(args))))
            queue = self.facts.get(key)
            if not queue and name in ("write_text", "remove"):  # an effect, not a question: nothing to answer
                self.writes.append(key)
                return None
            if not queue:
                self.unexpected.append(f"{name}{tuple(args)}")
                return None
            result = queue.popleft() if len(queue) > 1 else queue[0]
            result = self.paths.show(result)
            if name in ("netns_holders", "netns_inodes"):
                return [tuple(x) for x in result]
            if name == "caps":
                return tuple(result)
            return result

        return answer


# -- wiring into vethctl ------------------------------------------------------------------------------------


def _install(host, on_result=None):
    """Make `host` the local machine of this process (and, when recording, see every command's result)."""
    global _HOSTS
    from vethctl.execute.executor import Journal
    from vethctl.execute.hosts.registry import Hosts

    _HOSTS = Hosts(local=host)
    if on_result is not None:
        original = Journal.record

        def record(self, result):
            on_result(result)
            return original(self, result)

        Journal.record = record


_HOSTS = None


def _main_call(argv: list[str]) -> tuple[int, str, str]:
    from vethctl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv, hosts=_HOSTS)
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 1
    return rc, out.getvalue(), err.getvalue()


def _setup_env(state: str) -> None:
    os.environ["VETHCTL_STATE_DIR"] = state
    os.environ["VETHCTL_AUDIT_LOG"] = "/dev/null"
    os.environ["TZ"] = "UTC"
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("VETHCTL_TEST_HOOK", None)
    os.environ["VETHCTL_MAX_PARALLEL"] = "1"  # independent pods one after the other: the same order each time
    import time

    time.tzset()


def record(case_path: str, argv: list[str], state: str, tmp: str) -> None:
    _setup_env(state)
    _deterministic()
    paths = Paths(state, tmp)
    facts, commands, ran, stdins = [], [], [], []
    from vethctl.execute.hosts.local import LocalHost

    def on_result(result):
        commands.append(
            {
                "argv": paths.hide(list(result.argv)),
                "rc": result.rc,
                "stdout": paths.hide(result.stdout),
                "stderr": paths.hide(result.stderr),
                "background": bool(result.step.background),
            }
        )

    real = LocalHost()
    _install(RecordingHost(real, facts, ran, paths, stdins), on_result)
    rc, out, err = _main_call(paths.show(argv))
    files = {}
    for name in sorted(os.listdir(tmp)):
        if name.endswith(".sh"):  # a transcript the case wrote
            files[name] = paths.hide(Path(tmp, name).read_text())
    case = {
        "args": argv,
        "facts": facts,
        "commands": commands,
        "ran": ran,
        "rc": rc,
        "stdout": paths.hide(out),
        "stderr": paths.hide(err),
        "files": files,
        "stdins": stdins,  # what each command read on its stdin (a CNI configuration, an nft ruleset)
    }
    Path(case_path).write_text(json.dumps(case, indent=1) + "\n")


def replay(case_path: str, out_path: str) -> None:
    case = json.loads(Path(case_path).read_text())
    state = tempfile.mkdtemp(prefix="vethctl-golden-state-")
    tmp = tempfile.mkdtemp(prefix="vethctl-golden-tmp-")
    scratch = tempfile.mkdtemp(prefix="vethctl-golden-io-")
    _setup_env(state)
    _deterministic()
    os.geteuid = lambda: 0  # the recording was made as root; the facts say what root saw
    paths = Paths(state, tmp)
    host = ReplayHost(case, paths, scratch)
    _install(host)
    rc, out, err = _main_call(paths.show(case["args"]))
    end_children()
    files = {
        name: paths.hide(Path(tmp, name).read_text())
        for name in sorted(os.listdir(tmp))
        if name.endswith(".sh")
    }
    import shutil

    for d in (state, tmp, scratch):
        shutil.rmtree(d, ignore_errors=True)
    Path(out_path).write_text(
        json.dumps(
            {
                "rc": rc,
                "stdout": paths.hide(out),
                "stderr": paths.hide(err),
                "ran": host.ran,
                "unexpected": host.unexpected,
                "files": files,
                "stdins": host.stdins,
                "mutmut_hits": mutmut_hits(),
            }
        )
    )


def end_children() -> None:
    """Stop every process this replay started and left running (a lab's servers, a capture's stand-in left
    behind by a command that keeps its capture), each by its pid: nothing outlives a replay."""
    import signal

    me = os.readlink("/proc/self")  # os.getpid is the recording's here
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if stat.rpartition(")")[2].split()[1] == me:
            with contextlib.suppress(OSError):
                os.kill(int(entry), signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(int(entry), 0)


# -- `make mutation`: a replay runs in a process of its own -------------------------------------------------


def mutmut_hits() -> list[str]:
    """While mutmut maps which tests reach which function (MUTANT_UNDER_TEST=stats), the functions this
    replay reached: mutmut only sees the calls of the test's own process."""
    if os.environ.get("MUTANT_UNDER_TEST") != "stats":
        return []
    from mutmut.state import state

    return sorted(state()._stats)


def report_mutmut_hits(hits: list[str]) -> None:
    """In the test's process: count the replay's functions as reached by this test."""
    if hits and os.environ.get("MUTANT_UNDER_TEST") == "stats":
        from mutmut.state import state

        state()._stats.update(hits)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "record":
        sep = sys.argv.index("--")
        record(sys.argv[2], sys.argv[sep + 1 :], os.environ["GOLDEN_STATE"], os.environ["GOLDEN_TMP"])
    elif mode == "replay":
        replay(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode}")
