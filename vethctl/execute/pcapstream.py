"""A capture's pcap stream, brought home: tcpdump writes `-U -w -` on its stdout wherever it runs (this
machine, over ssh's channel, through `kubectl exec`), and here its bytes are cut into whole packets
(pcap.Framer) and written where they belong on this machine (a file, with --max-size and --rotate, or
vethctl's own stdout, flushed packet by packet), then fed to a local `tcpdump -r -` whose text lines are the
capture's lines, as if tcpdump had printed them: the parsers and the live view read those.

The stream comes first: the text is fed through a bounded queue, and when the text falls behind (a flood
printed on a terminal) packets go on into the pcap and are counted as not decoded, instead of slowing the
stream down. Whole packets only, everywhere: a reader of the file or the pipe never sees half a packet, also
when the capture is stopped by Ctrl-C or the size limit."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl import audit
from vethctl.commands import tcpdump
from vethctl.errors import VethctlError
from vethctl.execute.processes import deferred_signals
from vethctl.execute.tools import missing_tool
from vethctl.model import PcapHome
from vethctl.pcap import Framer, LimitReached, NotPcap, PcapWriter
from vethctl.render import command_text
from vethctl.secure import create_file

DECODE_QUEUE = 4096  # packets waiting for the local tcpdump -r; past that they are counted, not decoded

READER_GONE = "stdout closed"
MAX_SIZE = "max-size"


def open_pcap(path: str):
    """A pcap file of this machine, open for writing (binary): never through a link, never someone else's
    (secure.create_file), whoever may write in its directory."""
    return os.fdopen(create_file("--pcap", path, 0o644), "wb")


def new_writer(home: PcapHome, stdout=None) -> PcapWriter:
    out = (stdout or sys.stdout.buffer) if home.to_stdout else None
    return PcapWriter(
        None if home.to_stdout else home.path,
        open_file=open_pcap,
        stream=out,
        max_bytes=home.max_bytes,
        rotate=home.rotate,
    )


class SharedWriter:
    """One output for several streams (capture -l --pcap -): one header, then every stream's packets as they
    come, each whole (one lock). The streams must share a link type (pods' eth0 all are Ethernet)."""

    def __init__(self, writer: PcapWriter):
        self.writer = writer
        self.lock = threading.Lock()

    def start(self, header: bytes) -> None:
        with self.lock:
            if self.writer.header is None:
                self.writer.start(header)
            elif header[20:24] != self.writer.header[20:24]:
                raise NotPcap("the captures have different link types: they cannot share one pcap stream")

    def write(self, record: bytes) -> None:
        with self.lock:
            self.writer.write(record)

    def close(self) -> None:
        with self.lock:
            self.writer.close()

    def __getattr__(self, name):
        return getattr(self.writer, name)


class StreamHome:
    """One capture's stream: `source` is its stdout (binary); start() gives the decoder's stdout, the lines
    the capture would have printed. When the output must end (the size limit, the reader of stdout gone),
    `send(SIGINT)` stops the capture as a person does, and what still comes is read and dropped; `ended_by`
    says why. The executor's `shared_writers`: several captures streaming to stdout (capture -l) share one."""

    def __init__(self, home: PcapHome, source, send: Callable[[int], None], executor=None, *, stdout=None):
        self.home = home
        self.source = source
        self.send = send
        self.label = executor.node.audit_label if executor else "local"
        shared = executor.shared_writers if executor else None
        if home.to_stdout and shared is not None:  # every stream to stdout of one invocation: one output
            self.writer = shared.setdefault("-", SharedWriter(new_writer(home, stdout)))
        else:
            self.writer = new_writer(home, stdout)
        self.framer = Framer()
        self.queue: queue.Queue = queue.Queue(maxsize=DECODE_QUEUE)
        self.not_decoded = 0
        self.ended_by: str | None = None
        self.error: str | None = None
        self.decoder: subprocess.Popen | None = None
        self.decoder_argv = tcpdump.decode(home.decode_as)
        self.decoder_rc: int | None = None
        self.decoder_stderr = ""
        self.started = time.time()
        self.t0 = time.perf_counter()
        self.duration_s = 0.0
        self.threads: list[threading.Thread] = []

    # -- life -----------------------------------------------------------------------------------------

    def start(self):
        argv = self.decoder_argv
        audit.command_started(argv, netns=None, node=self.label, session=None, shown=command_text(argv))
        try:
            cmd = local[argv[0]][argv[1:]]
            # its own session: a terminal's Ctrl-C must not cut the last packets' text
            with deferred_signals():
                self.decoder = cmd.popen(
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, new_session=True
                )
        except BaseException as exc:  # the capture would go on with nobody reading it: it goes too
            with contextlib.suppress(ProcessLookupError, OSError, VethctlError):
                self.send(signal.SIGKILL)
            if isinstance(exc, CommandNotFound):
                raise missing_tool(
                    "tcpdump", " on this machine (it reads the stream that comes home)"
                ) from None
            raise
        for target in (self._read, self._feed):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)
        return self.decoder.stdout

    def close(self, timeout: float = 10.0) -> tuple[tuple[str, ...], int | None, str, str, float, float]:
        """After the capture ended: every byte it wrote is read, written and decoded; the decoder ends.
        The decoder's argv, exit code, stdout (read by the executor's pump), stderr, duration and start."""
        for t in self.threads:
            t.join(timeout)
        if self.decoder is not None:
            try:
                self.decoder_rc = self.decoder.wait(timeout)
            except subprocess.TimeoutExpired:
                self.decoder.kill()
                self.decoder_rc = self.decoder.wait()
            with contextlib.suppress(OSError, ValueError):
                self.decoder_stderr = self.decoder.stderr.read().decode("utf-8", "replace")
            self.duration_s = time.perf_counter() - self.t0
            audit.command_finished(
                self.decoder_argv,
                netns=None,
                node=self.label,
                session=None,
                rc=self.decoder_rc,
                duration_s=self.duration_s,
            )
        with contextlib.suppress(OSError):
            self.writer.close()
        return self.decoder_argv, self.decoder_rc, "", self.decoder_stderr, self.duration_s, self.started

    # -- the threads ----------------------------------------------------------------------------------

    def _end(self, why: str) -> None:
        """Stop the capture (SIGINT, from a thread of its own: over ssh that is a round trip, and the stream
        must go on being read meanwhile)."""
        if self.ended_by is None:
            self.ended_by = why

            def interrupt() -> None:
                with contextlib.suppress(ProcessLookupError, OSError, VethctlError):
                    self.send(signal.SIGINT)

            threading.Thread(target=interrupt, daemon=True).start()

    def _read(self) -> None:
        """The stream: framed, written, queued for the decoder; after the end of the output, drained."""
        read = self.source.read1 if hasattr(self.source, "read1") else self.source.read
        try:
            while chunk := read(65536):
                if self.ended_by is not None:
                    continue  # the capture is being stopped: what it still sends is dropped
                self._take(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self.queue.put(None)

    def _take(self, chunk: bytes) -> None:
        had_header = self.framer.header is not None
        try:
            records = self.framer.feed(chunk)
        except NotPcap as exc:
            self.error = str(exc)
            self._end("not a pcap stream")
            return
        try:
            if not had_header and self.framer.header is not None:
                self.writer.start(self.framer.header)
                self.queue.put(self.framer.header)
            for record in records:
                self.writer.write(record)
                try:
                    self.queue.put_nowait(record)
                except queue.Full:
                    self.not_decoded += 1
        except LimitReached:
            self._end(MAX_SIZE)
        except BrokenPipeError:
            self._end(READER_GONE)
        except OSError as exc:
            self.error = f"writing {self.home.path}: {exc.strerror or exc}"
            self._end("a write error")

    def _feed(self) -> None:
        stdin = self.decoder.stdin
        broken = False
        while (item := self.queue.get()) is not None:
            if broken:
                continue
            try:
                stdin.write(item)
                stdin.flush()
            except (OSError, ValueError):
                broken = True
        with contextlib.suppress(OSError, ValueError):
            stdin.close()

    # -- what it did ----------------------------------------------------------------------------------

    @property
    def packets(self) -> int:
        return self.writer.packets

    @property
    def bytes(self) -> int:
        return self.writer.bytes

    @property
    def files(self) -> list[str]:
        return self.writer.files if self.writer.header is not None else []
