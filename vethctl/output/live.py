"""What a person sees while a command runs: each packet as a capture prints it, each ping line as ping prints
it. Lines arrive from the executor's reader threads (on_line(key, line)); each capture's lines go through
the streaming tcpdump parser (tcpdump_s), so a packet's continuation lines belong to it, and a record is
shown when the capture's next packet line (or its end) says the packet is complete."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from vethctl.output.json import record_line
from vethctl.output.text import format_packet
from vethctl.secure import escape


class _Stream:
    """One line source (a capture, or ping) parsed by a jc streaming parser in a thread of its own."""

    def __init__(self, parser, on_record: Callable[[dict], None]):
        # bounded: when the screen cannot keep up with a flood, the capture waits (the kernel counts the
        # packets it then drops) instead of vethctl's memory growing
        self.lines: queue.Queue = queue.Queue(maxsize=10_000)
        self.on_record = on_record
        self.thread = threading.Thread(target=self._read, args=(parser,), daemon=True)
        self.thread.start()

    def _read(self, parser) -> None:
        import jc  # here, in the stream's thread: a command pays for the parsers once lines come

        for rec in jc.parse(parser, iter(self.lines.get, None), quiet=True, ignore_exceptions=True):
            meta = rec.pop("_jc_meta", None)
            if meta is not None and not meta.get("success", True):
                continue  # a line that is not tcpdump's (or ping's) own: nothing to show
            self.on_record(rec)

    def close(self) -> None:
        self.lines.put(None)
        self.thread.join(5)


def _tcpdump_s():
    """The streaming tcpdump parser, imported when a capture's first line arrives (its patterns take a few
    milliseconds to compile: not paid before the first command)."""
    from vethctl.parsers import tcpdump_s

    return tcpdump_s


class _Live:
    """Streams by key, made when a key's first line arrives; shown lines are serialised by one lock."""

    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()
        self.streams: dict[str, _Stream] = {}
        self._streams_lock = threading.Lock()

    def _stream(self, key: str) -> _Stream:
        with self._streams_lock:
            if key not in self.streams:
                self.streams[key] = self._make(key)
            return self.streams[key]

    def _make(self, key: str) -> _Stream:
        raise NotImplementedError

    def on_line(self, key: str, line: str) -> None:
        self._stream(key).lines.put(line)

    def say(self, text: str) -> None:
        with self.lock:
            print(escape(text), file=self.out, flush=True)

    def close(self) -> None:
        for stream in list(self.streams.values()):
            stream.close()


class RunView(_Live):
    """While a run goes: its packets and its ping lines (on stderr, so that stdout keeps only the report)."""

    def __init__(self, out):
        super().__init__(out)
        self.count = 0

    def _make(self, key: str) -> _Stream:
        if key == "ping" or key.startswith("probe"):  # ping's own lines (a probe that streams is a ping)
            return _Stream("ping_s", self._ping_record)
        return _Stream(_tcpdump_s(), self._packet)

    def _packet(self, rec: dict) -> None:
        with self.lock:
            self.count += 1
            print(f"  [{self.count:>3}] {format_packet(rec)}", file=self.out, flush=True)

    def _ping_record(self, rec: dict) -> None:
        kind = rec.get("type")
        if kind == "reply":
            self.say(
                f"  ping  seq {rec.get('icmp_seq')}: reply from {rec.get('response_ip')}, ttl {rec.get('ttl')},"
                f" {rec.get('time_ms')} ms"
            )
        elif kind == "summary":
            self.say(f"  ping  {rec.get('packets_transmitted')} sent, {rec.get('packets_received')} received")
        elif kind and kind != "timeout" and rec.get("icmp_seq") is not None:
            self.say(
                f"  ping  seq {rec.get('icmp_seq')}: {kind.replace('_', ' ')} (from {rec.get('response_ip')})"
            )


class CaptureView(_Live):
    """A capture's packets as they come: numbered text lines, or one JSON record a line (ndjson); with -l,
    each labelled with its pod (`labels`: capture key -> pod, filled in before the captures start)."""

    def __init__(self, out, output: str, labels: dict[str, str] | None = None):
        super().__init__(out)
        self.output = output
        self.labels = labels
        self.count = 0

    def _make(self, key: str) -> _Stream:
        return _Stream(_tcpdump_s(), lambda rec, key=key: self._packet(key, rec))

    def _packet(self, key: str, rec: dict) -> None:
        with self.lock:
            self.count += 1
            if self.output == "ndjson":
                line = record_line(rec | {"pod": self.labels[key]} if self.labels is not None else rec)
            elif self.labels is not None:
                line = escape(f"[{self.count:>5}] {self.labels[key]:<24} {format_packet(rec)}")
            else:
                line = f"[{self.count:>5}] {format_packet(rec)}"
            print(line, file=self.out, flush=True)
