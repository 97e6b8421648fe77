"""A stand-in for the Executor's read-only side, for unit tests of the thin kubectl and crictl layers: it
answers each read() with the next prepared result (or raises it) and records what was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class Res:
    rc: int
    stdout: str = ""
    stderr: str = ""


class Call(NamedTuple):
    argv: tuple
    netns: object
    purpose: str
    ok_codes: frozenset


@dataclass
class FakeExecutor:
    answers: list
    calls: list[Call] = field(default_factory=list)

    def read(self, argv, netns=None, *, purpose="", ok_codes=frozenset({0}), max_output=None):
        self.calls.append(Call(argv, netns, purpose, frozenset(ok_codes)))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeNode:
    """A Host (execute/hosts/base.py) of a test's own, for scenarios run with no root and no namespace:
    files from a dict, namespace identities from a dict, processes' command lines and start times from
    dicts, and commands
    answered by tiny real processes (sh) from `answers` (argv -> (rc, stdout, stderr); others exit 0 with no
    output). Every argv run and every signal sent is kept."""

    url = None
    remote = False
    label = "this machine"

    def __init__(self, answers=None, files=None, ids=None, cmdlines=None, starts=None):
        self.answers = answers or {}
        self.files = dict(files or {})
        self.ids = ids or {}
        self.cmdlines = cmdlines or {}
        self.starts = starts or {}  # pid -> start time (field 22 of /proc/PID/stat)
        self.ran: list[tuple] = []
        self.killed: list[tuple[int, int]] = []

    def command(self, argv, stdin=False):
        from plumbum import local

        self.ran.append(tuple(argv))
        rc, out, err = self.answers.get(tuple(argv), (0, "", ""))
        return local["sh"]["-c", 'printf %s "$1"; printf %s "$2" >&2; exit "$3"', "sh", out, err, str(rc)]

    def stdin_of(self, argv, text):
        return text

    def background_argv(self, argv):
        return argv

    def kill(self, pid, sig):
        self.killed.append((pid, sig))

    def exists(self, path):
        return path in self.files or any(p.startswith(path.rstrip("/") + "/") for p in self.files)

    def read_text(self, path):
        return self.files.get(path)

    def write_text(self, path, text):
        self.files[path] = text

    def lstat(self, path):  # root's own regular files, one name each, as records must be
        return (0, 0o100600, 1) if path in self.files else None

    def remove(self, path):
        self.files.pop(path, None)

    def listdir(self, path):
        prefix = path.rstrip("/") + "/"
        return sorted({p[len(prefix) :].split("/")[0] for p in self.files if p.startswith(prefix)})

    def netns_id(self, path):
        found = self.ids.get(path)
        if isinstance(found, Exception):
            raise found
        return found

    def caps(self):
        return 0, (1 << 12) | (1 << 21)

    def which(self, tool):
        return True

    def cmdline(self, pid):
        return self.cmdlines.get(pid)

    def start_time(self, pid):
        return self.starts.get(pid)

    def netns_owned_elsewhere(self, paths):
        return []

    def hostname(self):
        return "node-1"

    def close(self):
        pass
