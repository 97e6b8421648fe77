"""The executor's background jobs whose stdout is a pcap stream (Step.pcap_home), against this machine with
stand-in processes: the stream written whole and printed by the local decoder, the size limit stopping the
job, and Ctrl-C reaching the main thread while it waits, whichever thread the kernel gave the signal to."""

from __future__ import annotations

import platform
import signal
import struct
import threading
from pathlib import Path

import pytest

from vethctl.execute.executor import Executor
from vethctl.execute.hosts.local import LocalHost
from vethctl.model import Node, PcapHome
from vethctl.pcap import Framer
from vethctl.plan import Step

HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
# a broadcast ARP request, as tcpdump -w writes it
ARP = bytes.fromhex(
    "ffffffffffff0242c0a80001" + "0806" + "0001080006040001" + "0242c0a80001c0000201" + "000000000000c0000265"
)


def record(n: int) -> bytes:
    return struct.pack("<IIII", 1_700_000_000 + n, 0, len(ARP), len(ARP)) + ARP


def streamer(records: int, then_wait: bool = False) -> tuple[str, ...]:
    """A stand-in for `tcpdump -U -w -`: says it listens, writes a header and records, then (then_wait)
    waits for SIGINT as tcpdump does, and ends."""
    data = (HEADER + b"".join(record(i) for i in range(records))).hex()
    script = (
        "import sys, time, signal, binascii\n"
        "sys.stderr.write('listening on eth0\\n'); sys.stderr.flush()\n"
        f"sys.stdout.buffer.write(binascii.unhexlify('{data}')); sys.stdout.flush()\n"
        + ("signal.sigwait([signal.SIGINT])\n" if then_wait else "")
    )
    return ("python3", "-c", script)


def test_the_stream_is_written_whole_and_printed_here(tmp_path):
    pcap = tmp_path / "out.pcap"
    ex = Executor(LocalHost(), Node())
    step = Step(
        streamer(3), key="capture", background=True, ready="listening on ", pcap_home=PcapHome(str(pcap))
    )
    job = ex.start(step)
    assert ex.wait(job, 30)
    res = ex.stop(job)
    assert Framer().feed(pcap.read_bytes()) == [record(i) for i in range(3)]
    assert (
        len(res.stdout.splitlines()) == 3
        and "ethertype ARP (0x0806), length 42: Request who-has 192.0.2.101 tell 192.0.2.1" in res.stdout
    )
    assert [r.argv for r in ex.results][-1] == ("tcpdump", "-r", "-", "-nn", "-tt", "-e", "-l")


def test_the_size_limit_stops_the_job(tmp_path):
    pcap = tmp_path / "small.pcap"
    home = PcapHome(str(pcap), max_bytes=24 + 2 * (16 + len(ARP)))
    ex = Executor(LocalHost(), Node())
    job = ex.start(
        Step(
            streamer(5, then_wait=True), key="capture", background=True, ready="listening on ", pcap_home=home
        )
    )
    assert ex.wait(job, 30)  # it ended: the limit sent it SIGINT
    ex.stop(job)
    assert job.home.ended_by == "max-size" and len(Framer().feed(pcap.read_bytes())) == 2


# x86-64 system calls a thread waiting in Popen.wait() sits in: wait4 (blocking), nanosleep, clock_nanosleep
WAITING = {61, 35, 230}


def in_a_wait(tid: int) -> bool:
    try:
        return int(Path(f"/proc/self/task/{tid}/syscall").read_text().split()[0]) in WAITING
    except (OSError, ValueError):
        return False


@pytest.mark.skipif(platform.machine() != "x86_64", reason="reads x86-64 system call numbers")
def test_ctrl_c_on_another_thread_reaches_the_waiting_main_thread(tmp_path):
    """The kernel gives a process's SIGINT to any of its threads. The main thread, waiting for a stream's ssh
    or kubectl (which Ctrl-C does not end: a session of its own), must still see it: before the job ends."""
    ex = Executor(LocalHost(), Node())
    job = ex.start(Step(("sleep", "30"), key="capture", background=True))
    main = threading.get_native_id()

    def ctrl_c_on_this_thread():
        while not in_a_wait(main):  # once the main thread waits (it would block in wait4 for good)
            threading.Event().wait(0.01)
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    helper = threading.Thread(target=ctrl_c_on_this_thread)
    try:
        with pytest.raises(KeyboardInterrupt):
            helper.start()
            ex.wait(job, None)
        assert job.proc.poll() is None  # interrupted while the job still runs, not when it ended
    finally:
        helper.join()
        ex.stop(job)
