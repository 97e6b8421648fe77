"""This machine: commands through plumbum's local machine, files and /proc read directly."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import socket
import threading

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl.execute.hosts.base import Host
from vethctl.execute.tools import missing_tool
from vethctl.parsers import procfs
from vethctl.secure import create_file, private_dir, write_file

_NS_GET_NSTYPE, _CLONE_NEWNET = 0xB703, 0x40000000  # ioctl(2) on an nsfs file: which namespace kind
_NS_GET_USERNS = 0xB701  # ioctl(2) on an nsfs file: a descriptor of the user namespace that owns it
# a path that names nothing: missing, through a file, too long for the kernel, a symlink loop
_NOT_THERE = (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP)


class LocalHost(Host):
    def command(self, argv, stdin=False):
        try:
            return local[argv[0]][argv[1:]]
        except CommandNotFound:
            raise missing_tool(argv[0]) from None

    def output_file(self, path):
        return create_file("--pcap", path, 0o644)

    def kill(self, pid, sig):
        os.kill(pid, sig)

    def exists(self, path):
        return os.path.exists(path)

    def read_text(self, path):
        try:
            with open(path) as fh:
                return fh.read()
        except OSError as exc:
            if exc.errno in _NOT_THERE:
                return None
            raise

    def write_text(self, path, text):
        private_dir(os.path.dirname(path))
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            write_file("a record", tmp, text, 0o600)
            os.replace(tmp, path)
        except BaseException:  # a Ctrl-C or SIGTERM between the two included: no half-written file left
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def lstat(self, path):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        return st.st_uid, st.st_mode, st.st_nlink

    def remove(self, path):
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno not in _NOT_THERE:
                raise

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

    def netns_holding(self, paths, address):
        """In a thread of its own (setns(2) moves only the calling thread, which then ends), entering each
        namespace in turn: can a socket there bind to `address`? Not if it is no local address there
        (EADDRNOTAVAIL); any other refusal counts as held (a namespace that made its ports busy is not
        thereby cleared). A yes is a maybe: a namespace with no local table at all (lo never up) binds
        anything, so the caller asks those with `ip`. Hundreds of namespaces take milliseconds, where
        `ip -all netns exec` forks and mounts for each."""
        import ctypes  # only to enter a namespace from a thread (setns): most commands never do

        libc = ctypes.CDLL(None, use_errno=True)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        answers: list[bool | None] = []

        def holds(path: str) -> bool | None:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return False  # gone meanwhile
            try:
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    # EINVAL: the file is no namespace (yet, or any more: `ip netns add` makes the file, then
                    # mounts the namespace on it; another run may be halfway): it holds nothing. Any other
                    # refusal: this process cannot tell, commands ask
                    return False if ctypes.get_errno() == errno.EINVAL else None
            finally:
                os.close(fd)
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind((address, 0))
                except OSError as exc:
                    return exc.errno != errno.EADDRNOTAVAIL
            return True

        def visit() -> None:
            for path in paths:
                answers.append(holds(path))
                if answers[-1] is None:
                    return

        worker = threading.Thread(target=visit, daemon=True)
        worker.start()
        worker.join()
        if len(answers) != len(paths) or None in answers:
            return None  # this process cannot enter one of them: let commands ask
        return [path for path, held in zip(paths, answers, strict=True) if held]

    def netns_owned_elsewhere(self, paths):
        own = os.stat("/proc/self/ns/user")
        elsewhere = []
        for path in paths:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                owner = fcntl.ioctl(fd, _NS_GET_USERNS)
                try:
                    st = os.fstat(owner)
                finally:
                    os.close(owner)
            except OSError:
                continue
            finally:
                os.close(fd)
            if (st.st_dev, st.st_ino) != (own.st_dev, own.st_ino):
                elsewhere.append(path)
        return elsewhere

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

    def start_time(self, pid):
        try:
            with open(f"/proc/{int(pid)}/stat") as fh:
                text = fh.read()
        except (OSError, ValueError):
            return None
        return procfs.start_time(text)

    def hostname(self):
        return socket.gethostname()

    def netns_id(self, path):
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno in _NOT_THERE:
                return None
            raise  # PermissionError above all: there, but not ours to look at
        return f"{st.st_dev}:{st.st_ino}"

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
