"""A command's output, kept within bounds.

What a driven command prints can be made endless by a pod: four ARP flooders in a pod make tcpdump print
hundreds of thousands of lines a second, 300k routes make `ip -j route` print tens of megabytes. A foreground
command's output is read up to MAX_OUTPUT bytes (past that it is stopped, and that is an error naming it:
OutputTooLarge); a line-by-line one (a capture, ping) keeps its first lines up to KEEP_LINES / KEEP_BYTES
and its last `tail` lines, and counts the others (`dropped`), which the reports say; a line is cut at
MAX_LINE bytes. Everything is still handed on as it comes (the live view sees every packet)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from vethctl.errors import VethctlError

MAX_OUTPUT = 8 * 1024 * 1024  # one foreground command's stdout (or stderr), read whole (Step.max_output)
KEEP_LINES = 10_000  # the first lines kept of a line-by-line output (a capture's packets)
KEEP_BYTES = 4 * 1024 * 1024
MAX_LINE = 64 * 1024


class OutputTooLarge(VethctlError):
    """A command printed more than vethctl reads (exit 1); it was stopped."""


class Lines:
    """Lines as they arrive, the first ones kept (up to `head` lines and KEEP_BYTES), the last `tail` too;
    the rest counted in `dropped`."""

    def __init__(self, head: int = KEEP_LINES, tail: int = 0):
        self.head: list[str] = []
        self.last: deque[str] = deque(maxlen=tail) if tail else deque(maxlen=0)
        self.limit = head
        self.size = 0
        self.dropped = 0

    def append(self, line: str) -> None:
        if len(self.head) < self.limit and self.size + len(line) <= KEEP_BYTES:
            self.head.append(line)
            self.size += len(line) + 1
        elif self.last.maxlen:
            if len(self.last) == self.last.maxlen:
                self.dropped += 1
            self.last.append(line)
        else:
            self.dropped += 1

    def kept(self) -> list[str]:
        return self.head + list(self.last)

    def text(self) -> str:
        return "\n".join(self.kept())

    def __len__(self) -> int:
        return len(self.head) + len(self.last)

    def __iter__(self) -> Iterator[str]:
        return iter(self.kept())


def lines_of(stream) -> Iterator[str]:
    """A binary stream's lines, decoded, each cut at MAX_LINE bytes (the rest of a longer line is skipped)."""
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        if not raw.endswith(b"\n") and len(raw) >= MAX_LINE:
            while (more := stream.readline(MAX_LINE)) and not more.endswith(b"\n"):
                pass
        yield raw.decode("utf-8", "replace").rstrip("\n")


def read_capped(stream, limit: int, on_overflow: Callable[[], None]) -> bytes:
    """All of a binary stream, up to `limit` bytes; past that `on_overflow` is called once (it stops the
    command) and the rest is read and dropped, so that the command is never blocked on a full pipe."""
    chunks, size, over = [], 0, False
    read = stream.read1 if hasattr(stream, "read1") else stream.read
    while chunk := read(65536):
        if over:
            continue
        if size + len(chunk) > limit:
            over = True
            on_overflow()
            continue
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks) if not over else b""


def communicate(proc, limit: int = MAX_OUTPUT) -> tuple[str, str, bool]:
    """proc's stdout and stderr (pipes), each read up to `limit` bytes; True if one was over it (proc was
    then killed)."""
    over = threading.Event()
    if proc.stdin is not None:  # nothing more to say to it (as communicate() does)
        proc.stdin.close()

    def stop() -> None:
        over.set()
        if proc.poll() is None:
            proc.kill()

    got: dict[str, bytes] = {}
    readers = [
        threading.Thread(
            target=lambda n=name, s=s: got.__setitem__(n, read_capped(s, limit, stop)), daemon=True
        )
        for name, s in (("out", proc.stdout), ("err", proc.stderr))
        if s is not None
    ]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    proc.wait()
    decode = lambda b: (b or b"").decode("utf-8", "replace")  # noqa: E731
    return decode(got.get("out")), decode(got.get("err")), over.is_set()
