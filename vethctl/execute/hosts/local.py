"""This machine: commands through plumbum's local machine, files and /proc read directly."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl.execute.hosts.base import Host
from vethctl.execute.tools import missing_tool

_NS_GET_NSTYPE, _CLONE_NEWNET = 0xB703, 0x40000000  # ioctl(2) on an nsfs file: which namespace kind


class LocalHost(Host):
    def command(self, argv, stdin=False):
        try:
            return local[argv[0]][argv[1:]]
        except CommandNotFound:
            raise missing_tool(argv[0]) from None

    def kill(self, pid, sig):
        os.kill(pid, sig)

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
            fd = os.open(path, os.O_RDONLY)
            try:
                return fcntl.ioctl(fd, _NS_GET_NSTYPE) == _CLONE_NEWNET
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
        return shutil.which(tool) is not None

    def cmdline(self, pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                return [a.decode(errors="replace") for a in fh.read().split(b"\0")[:-1]]
        except OSError:
            return None

    def hostname(self):
        return socket.gethostname()

    def netns_inodes(self):
        named = [f"/var/run/netns/{n}" for n in self.listdir("/var/run/netns")]
        procs = sorted((p for p in os.listdir("/proc") if p.isdigit()), key=int)
        out = []
        for path in ["/proc/self/ns/net", *named, *(f"/proc/{pid}/ns/net" for pid in procs)]:
            try:
                st = os.stat(path)
            except OSError:
                continue
            out.append((path, f"{st.st_dev}:{st.st_ino}"))
        return out
