"""The machine a node's commands run on, and everything vethctl reads of a node's files and processes:
the same code then works on this machine and on one reached over SSH or through a debugging pod."""

from __future__ import annotations

from vethctl.errors import MissingPrerequisite
from vethctl.execute.tools import missing_tool


class Host:
    url: str | None = None
    remote = False
    label = "this machine"

    # -- running commands --------------------------------------------------------------------------
    def command(self, argv: tuple[str, ...], stdin: bool = False):
        """A plumbum command for argv there. stdin: the caller will feed it input."""
        raise NotImplementedError

    def stdin_of(self, argv: tuple[str, ...], text: str) -> str:
        """What argv is fed there for `text` (an `ip -batch -`'s lines, as the tools there read them)."""
        return text

    def background_argv(self, argv: tuple[str, ...], writes: str | None = None) -> tuple[str, ...]:
        """How a background command is started there (remotely: wrapped so that it says its pid first, and
        opens the file it writes, `writes`, as its stdin)."""
        return argv

    def output_file(self, path: str) -> int | None:
        """The file a background command writes through its stdin (Step.writes), opened for it here: a
        descriptor (never through a link, never someone else's file: secure.create_file), or None where
        background_argv opens it over there."""
        return None

    def kill(self, pid: int, sig: int) -> None:
        raise NotImplementedError

    def missing(self, tool: str) -> MissingPrerequisite:
        """The error for a tool the plan drives that is not there (exit 4): what, where, how to get it."""
        return missing_tool(tool, f" on {self.label}" if self.remote else "")

    # -- files, as the node sees them --------------------------------------------------------------
    def exists(self, path: str) -> bool:
        raise NotImplementedError

    def read_text(self, path: str) -> str | None:
        raise NotImplementedError

    def write_text(self, path: str, text: str) -> None:
        """A private file (a record): mode 0600 in a 0700 directory whatever the umask, replaced atomically."""
        raise NotImplementedError

    def lstat(self, path: str) -> tuple[int, int, int] | None:
        """(owner uid, st_mode, link count) of `path` itself (a link is not followed), None if absent."""
        raise NotImplementedError

    def remove(self, path: str) -> None:
        raise NotImplementedError

    def listdir(self, path: str) -> list[str]:
        raise NotImplementedError

    def is_netns_file(self, path: str) -> bool:
        raise NotImplementedError

    # -- the machine -------------------------------------------------------------------------------
    def caps(self) -> tuple[int, int]:
        """(euid, effective capability mask) of a process started there."""
        raise NotImplementedError

    def which(self, tool: str) -> bool:
        raise NotImplementedError

    def cmdline(self, pid: int) -> list[str] | None:
        raise NotImplementedError

    def start_time(self, pid: int) -> int | None:
        """When process `pid` started (field 22 of /proc/PID/stat, clock ticks since boot); None if gone.
        With the command line, what tells a process from a later one that got the same pid."""
        raise NotImplementedError

    def hostname(self) -> str:
        raise NotImplementedError

    def netns_id(self, path: str) -> str | None:
        """The identity of the network namespace a file is (or, for any other file, of that file): "DEV:INODE"
        of what it resolves to; None when there is no such file. Raises PermissionError when the file is there
        but may not be looked at (another user's /proc/PID/ns/net): that is not "does not exist"."""
        raise NotImplementedError

    def netns_inodes(self) -> list[tuple[str, str]]:
        """(path, "DEV:INODE") of every network namespace file there: /proc/self/ns/net first, then
        /var/run/netns/*, then /proc/PID/ns/net of every process (in pid order). A namespace's identity is its
        (device, inode); one pass over /proc (one round trip for a remote host), so it is a primitive here."""
        raise NotImplementedError

    def netns_holding(self, paths: list[str], address: str) -> list[str] | None:
        """Those of `paths` (network namespace files) where `address` is a local address, told without a
        command; None when this host cannot (then commands ask: resolve/byip.py)."""
        return None

    def netns_owned_elsewhere(self, paths: list[str]) -> list[str]:
        """Those of `paths` (network namespace files) whose namespace is owned by another user namespace
        than the one vethctl runs in: made with `unshare -rn` by any user, who controls everything in it."""
        raise NotImplementedError

    def close(self) -> None:
        """Remove what reaching the machine created (a debugging pod); nothing for most hosts."""
