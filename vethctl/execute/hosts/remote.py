"""A host reached through some channel (ssh, kubectl exec): its files are read with small commands (argv;
the few that need a shell pass their values as positional parameters, never inside the script)."""

from __future__ import annotations

import re
import signal

from vethctl.errors import CommandFailed
from vethctl.execute.hosts.base import Host
from vethctl.execute.processes import audited_run
from vethctl.parsers import procfs
from vethctl.render import command_text

# A background command over a remote channel is wrapped so that it first says its pid (then execs the
# command itself): the pid is how it is signalled later, since signals do not travel through ssh.
_ANNOUNCE_PID = 'echo "vethctl-pid $$" >&2; exec "$@"'
# ...and one that writes a file (a pcap) first opens it as its stdin: created exclusively (noclobber: an
# existing name, a link included, is refused), then checked through the descriptor before anything is
# written (a regular file, one name, ours), so that root there never writes through what a user planted.
_WRITE_THEN_ANNOUNCE = (
    'set -C; exec 0>"$1" || exit 1; '
    '[ -f /dev/stdin ] && [ ! -L "$1" ] && [ "$(stat -L -c %h:%u /dev/stdin)" = "1:$(id -u)" ] || '
    '{ echo "vethctl: $1 is not a new file of ours: refused" >&2; exit 1; }; '
    'shift; echo "vethctl-pid $$" >&2; exec "$@"'
)
_PID_LINE = re.compile(r"^vethctl-pid (\d+)$")


def announced_pid(stderr_lines: list[str]) -> int | None:
    """The pid a wrapped background command announced on its first stderr lines."""
    for line in stderr_lines[:3]:
        if m := _PID_LINE.match(line):
            return int(m.group(1))
    return None


class RemoteHost(Host):
    remote = True

    def _sh(self, script: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        argv = ("sh", "-c", script, "sh", *args)

        def make_cmd():
            cmd = self.command(argv, stdin=stdin is not None)
            return cmd if stdin is None else cmd << stdin

        return audited_run(make_cmd, argv, self.label)

    def background_argv(self, argv, writes=None):
        if writes:
            return ("sh", "-c", _WRITE_THEN_ANNOUNCE, "sh", writes, *argv)
        return ("sh", "-c", _ANNOUNCE_PID, "sh", *argv)

    def exists(self, path):
        return self._sh('test -e "$1"', path)[0] == 0

    def read_text(self, path):
        rc, out, _ = self._sh('cat "$1" 2>/dev/null', path)
        return out if rc == 0 else None

    def write_text(self, path, text):
        rc, _, err = self._sh(
            'umask 077; d=$(dirname "$1"); mkdir -p "$d" && [ ! -L "$d" ] && chmod 700 "$d" && '
            'rm -f "$1.tmp" && cat > "$1.tmp" && mv -f "$1.tmp" "$1"',
            path,
            stdin=text,
        )
        if rc != 0:
            argv = ("sh", "-c", "write", path)
            raise CommandFailed(argv, rc, err, shown=command_text(argv), where=self.label)

    def lstat(self, path):
        rc, out, _ = self._sh('stat -c "%u %f %h" -- "$1" 2>/dev/null', path)
        parts = out.split()
        if rc != 0 or len(parts) != 3:
            return None
        try:
            return int(parts[0]), int(parts[1], 16), int(parts[2])
        except ValueError:
            return None

    def remove(self, path):
        self._sh('rm -f "$1"', path)

    def listdir(self, path):
        rc, out, _ = self._sh('ls -1 "$1" 2>/dev/null', path)
        return sorted(out.split()) if rc == 0 else []

    def is_netns_file(self, path):
        rc, out, _ = self._sh('stat -L -f -c %T "$1"', path)
        return rc == 0 and out.strip() == "nsfs"

    def caps(self):
        rc, out, _ = self._sh("id -u; grep '^CapEff:' /proc/self/status")
        lines = out.split()
        if rc != 0 or len(lines) < 3:
            return -1, 0
        return int(lines[0]), int(lines[2], 16)

    def which(self, tool):
        return self._sh('command -v "$1"', tool)[0] == 0

    def kill(self, pid, sig):
        rc, _, err = self._sh('kill -s "$1" "$2"', signal.Signals(sig).name[3:], str(pid))
        if rc != 0 and "No such process" in err:
            raise ProcessLookupError(pid)

    def cmdline(self, pid):
        rc, out, _ = self._sh('tr "\\0" "\\n" < "/proc/$1/cmdline"', str(pid))
        return out.splitlines() if rc == 0 and out else None

    def start_time(self, pid):
        rc, out, _ = self._sh('cat "/proc/$1/stat" 2>/dev/null', str(int(pid)))
        return procfs.start_time(out) if rc == 0 else None

    def hostname(self):
        rc, out, _ = self._sh("hostname 2>/dev/null || cat /proc/sys/kernel/hostname")
        return out.strip()

    def netns_owned_elsewhere(self, paths):
        # no ioctl from a shell: lsns says each namespace's owner (util-linux 2.38+); without it, a holder
        # process's own user namespace stands for its network namespace's owner
        script = (
            "own=$(stat -L -c %i /proc/self/ns/user); "
            "if foreign=$(lsns -t net -n -r -o NS,ONS 2>/dev/null); then "
            '  foreign=" $(echo "$foreign" | while read -r ns ons; do [ "$ons" != "$own" ] && echo "$ns"; done'
            ' | tr "\\n" " ") "; '
            '  for p; do i=$(stat -L -c %i "$p" 2>/dev/null) || continue; '
            '    case "$foreign" in *" $i "*) echo "$p";; esac; done; '
            'else for p; do case "$p" in /proc/*/ns/net) '
            '  u=$(stat -L -c %i "${p%/net}/user" 2>/dev/null) && [ "$u" != "$own" ] && echo "$p";; '
            "  esac; done; fi"
        )
        _, out, _ = self._sh(script, *paths)
        return [line for line in out.splitlines() if line in paths]

    def netns_id(self, path):
        rc, out, err = self._sh('stat -L -c %d:%i "$1"', path)
        if rc == 0 and out.strip():
            return out.strip()
        if "ermission denied" in err:
            raise PermissionError(path)
        return None

    def netns_inodes(self):
        script = (  # $1: the namespace files' directory (a debugging image's shell sees it under /host)
            'for f in /proc/self/ns/net "$1"/*; do '
            'k=$(stat -L -c %d:%i "$f" 2>/dev/null) && echo "$k $f"; done; '
            "for f in /proc/[0-9]*/ns/net; do "
            'k=$(stat -L -c %d:%i "$f" 2>/dev/null) && echo "$k $f"; done'
        )
        _, out, _ = self._sh(script, "/var/run/netns")
        pairs = []
        for line in out.splitlines():
            key, _, path = line.partition(" ")
            if path:
                pairs.append((path, key))
        return pairs
