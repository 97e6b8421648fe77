"""What vethctl does not take on trust, in one place: text from pods, tools and users shown on a terminal
(escaped), and files created where someone else may write (never through a link, never someone else's).

vethctl runs as root. A path it is given (`--transcript out.sh` in a shared directory, `--pcap` in a user's
home, the audit log's directory) may be a symbolic link or a hard link another user planted, pointing at any
file of the machine: opening it the plain way would make root clobber, chmod or chown that file. Every file
vethctl writes is opened here, and checked on the descriptor it got (no window between a check and the use).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from vethctl.errors import BadInput, VethctlError

# -- text ------------------------------------------------------------------------------------------------


def printable(text: str) -> bool:
    """No control character, no line or paragraph separator, no invisible formatting character (a bidi
    override), nothing a terminal could act on."""
    return text.isprintable()


def escape(text: str, keep: str = "") -> str:
    """`text` with every non-printable character written as a Python escape (`\\x01`, `\\x9b`, `\\u202e`),
    so that what a pod, a tool or a user put in a name is seen, not obeyed by the terminal. `keep`: the
    characters left as they are (a newline between lines of a report)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch in keep:
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def escape_lines(text: str) -> str:
    """A report: each line escaped, the line breaks kept."""
    return escape(text, keep="\n")


# -- files ------------------------------------------------------------------------------------------------


class UnsafePath(BadInput):
    """A path vethctl will not write through: a link, a file of someone else's, not a regular file (exit 2)."""


def _refuse(option: str, path: str, why: str) -> UnsafePath:
    return UnsafePath(
        f"{option} {path}: {why}; vethctl does not write through it",
        hint="give a new file name, in a directory only you can write",
    )


def check_output_path(option: str, path: str) -> None:
    """Before anything changes: an output file may be new, or a regular file of ours with one name; never a
    symbolic link (even to a file of ours), a hard link, or someone else's file."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # not there (the directory is checked by the caller)
        return
    _check_existing(option, path, st)


def _check_existing(option: str, path: str, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(option, path, "is a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(option, path, "exists and is not a regular file")
    if st.st_uid != os.geteuid():
        raise _refuse(option, path, f"exists and belongs to uid {st.st_uid}, not to uid {os.geteuid()}")
    if st.st_nlink > 1:
        raise _refuse(option, path, f"has {st.st_nlink} names (hard links)")


def create_file(option: str, path: str, mode: int = 0o644, *, append: bool = False) -> int:
    """A descriptor open for writing on `path`: created (O_EXCL) if it is not there, else the regular file of
    ours with one name that is there (truncated unless `append`), checked on the descriptor itself. Never
    follows a symbolic link; never opens someone else's file, a FIFO or a device. `mode` is set whatever
    the umask (and on an existing file too)."""
    flags = os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        try:  # there already: open what is there without creating (nor following) anything, then look at it
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise _refuse(option, path, "is a symbolic link") from None
            if exc.errno == errno.ENXIO:
                raise _refuse(option, path, "exists and is not a regular file") from None
            raise BadInput(f"{option} {path}: {exc.strerror}", hint="choose another file") from None
        try:
            _check_existing(option, path, os.fstat(fd))
            if not append:
                os.ftruncate(fd, 0)
        except BaseException:
            os.close(fd)
            raise
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise _refuse(option, path, "is a symbolic link") from None
        raise BadInput(f"{option} {path}: {exc.strerror}", hint="choose a writable directory") from None
    os.set_blocking(fd, True)
    os.fchmod(fd, mode)
    return fd


def take_back(fd: int) -> None:
    """Close a file vethctl opened for a command, made ours again first (tcpdump gives the pcap it writes to
    its own user)."""
    with contextlib.suppress(OSError):
        os.fchown(fd, os.geteuid(), os.getegid())
    os.close(fd)


def write_file(option: str, path: str, data: bytes | str, mode: int = 0o644) -> None:
    """The whole of a small file (a transcript), through create_file."""
    fd = create_file(option, path, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)


class UnsafeDirectory(VethctlError):
    """A directory vethctl keeps private things in (control sockets, state) that is not private (exit 1)."""


def private_dir(path: str, mode: int = 0o700) -> str:
    """`path` as a directory only the euid can use: made with `mode` if missing (whatever the umask),
    else checked: a directory (not a link to one), owned by the euid; a group or other write bit it has is
    taken away (it is ours). Someone else's directory, or a link, is refused."""
    with contextlib.suppress(FileExistsError):
        os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
        os.mkdir(path, mode)
    try:  # looked at through a descriptor: what is checked is what is changed
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeDirectory(
                f"{path} is not a directory (a link?): refused", hint=f"remove {path}"
            ) from None
        raise UnsafeDirectory(f"{path}: {exc.strerror}", hint="check the directory") from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise UnsafeDirectory(
                f"{path} belongs to uid {st.st_uid}, not to uid {os.geteuid()}: refused",
                hint=f"remove {path} (someone else made it)",
            )
        if stat.S_IMODE(st.st_mode) & ~mode & 0o777:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return path
