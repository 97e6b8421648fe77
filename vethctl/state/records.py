"""One JSON record store through a Host: read, write (atomically there), remove, list.

Records steer root: `gc` kills the pids a record names, `down` deletes by a record's name. So a record is
trusted only when root's own: a regular file with one name, owned by the euid that reads it, writable by no
one else; it is written 0600 in a 0700 directory whatever the umask (Host.write_text). A file that fails
the checks is ignored as if it were not there (and says why at -vv)."""

from __future__ import annotations

import json
import re
import stat

from loguru import logger

from vethctl.errors import BadInput
from vethctl.execute.hosts.base import Host

SESSION_ID = re.compile(r"[0-9a-f]{8}")


def check_session_id(session: str) -> str:
    """A session id is 8 hex digits (model.new_session_id), from the command line as from a record: never a
    path (`down ../../x` would delete x.json)."""
    if not isinstance(session, str) or not SESSION_ID.fullmatch(session):
        raise BadInput(
            f"{session!r} is not a session id", hint="8 hex digits, as `vethctl status` lists them"
        )
    return session


def untrusted_because(host: Host, path: str) -> str | None:
    """Why the record at `path` must not be believed, or None when it is root's own (see the module)."""
    st = host.lstat(path)
    if st is None:
        return "it is not there"
    uid, mode, nlink = st
    euid = host.caps()[0]
    if not stat.S_ISREG(mode):
        return "it is not a regular file (a link?)"
    if uid != euid:
        return f"it belongs to uid {uid}, not {euid}"
    if mode & 0o022:
        return f"others may write it (mode {stat.S_IMODE(mode):04o})"
    if nlink != 1:
        return f"it has {nlink} names"
    return None


def read(host: Host, path: str) -> dict | None:
    why = untrusted_because(host, path)
    if why is not None:
        if why != "it is not there":
            logger.trace("record {} ignored: {}", path, why)
        return None
    text = host.read_text(path)
    try:
        got = json.loads(text) if text else None
    except json.JSONDecodeError:
        return None
    return got if isinstance(got, dict) else None


def write(host: Host, path: str, record: dict) -> None:
    host.write_text(path, json.dumps(record, indent=1))


def remove(host: Host, path: str) -> None:
    host.remove(path)


def names(host: Host, directory: str, pattern: re.Pattern | None = None) -> list[str]:
    """The record names (file names without .json) in a directory, sorted; only those matching `pattern`."""
    found = [name[:-5] for name in host.listdir(directory) if name.endswith(".json")]
    return [n for n in found if pattern is None or pattern.fullmatch(n)]
