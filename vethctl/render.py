"""The only place that turns argv into shell text: `--dry-run` lines and the `--transcript` script."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from vethctl.commands import on_node, tcpdump
from vethctl.model import Node
from vethctl.plan import Plan, Step
from vethctl.secure import escape


def quote(arg: str) -> str:
    """One argument as bash reads it back: shlex's quoting, or ANSI-C quoting ($'e\\x01x') when it holds a
    character a terminal would act on or a reader would not see (it then reads the same in a script and
    shows as what it is on a screen)."""
    if arg.isprintable():
        return shlex.quote(arg)
    return "$'" + "".join(_ansi_c(ch) for ch in arg) + "'"


def _ansi_c(ch: str) -> str:
    """One character inside $'...': as is, backslash-escaped (\\ and '), or as the \\xHH escapes of its
    UTF-8 bytes (bash gives back the same bytes in any locale)."""
    if ch in "\\'":
        return "\\" + ch
    if ch.isprintable():
        return ch
    return "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogateescape"))


def command_text(argv: tuple[str, ...]) -> str:
    """An argv as a person types it: shell-quoted where it must be."""
    return " ".join(quote(a) for a in argv)


def comment(text: str) -> str:
    """Text as shell comment lines: every line of it behind a '#' (a newline in a value cannot end the
    comment and start a command), every non-printable character escaped."""
    lines = text.split("\n")
    return "\n".join(f"# {escape(line)}".rstrip() for line in lines)


def command_line(step: Step, node: Node) -> str:
    """A step as a shell line; a file it writes is opened by the shell, as its standard input (`0>FILE`);
    a pcap stream vethctl writes to a file and prints is written with tee and printed by tcpdump -r -."""
    line = command_text(on_node(node.netns, node.sudo, step.argv, step.netns))
    if step.pcap_home:
        return line + _stream_tail(step)
    return f"{line} 0>{quote(step.writes)}" if step.writes else line


_HEREDOC = "VETHCTL_EOF"
_IP_WS = " \t\r\n"  # what iproute2's batch tokenizer (makeargs) splits words on


def ip_batch_word(word: str) -> str | None:
    """One word of an `ip -batch` line as iproute2 reads it back (lib/utils.c: getcmdline, makeargs): a word
    with spaces goes in quotes of a kind it does not hold, and so does one that starts with a quote. None
    when it cannot be written so: a '#' starts a comment anywhere on the line, a newline ends it, a word
    with spaces and both kinds of quote has no form."""
    if any(c in word for c in "#\n\r\0"):
        return None
    if word and not any(c in _IP_WS for c in word) and word[0] not in "'\"":
        return word
    for quote in ("'", '"'):
        if quote not in word:
            return f"{quote}{word}{quote}"
    return None


def ip_batch_line(argv: tuple[str, ...]) -> str | None:
    """An `ip` command (without its leading `ip` and options) as one line of `ip -batch -`; None when a word
    cannot be written (ip_batch_word), or the line would end in a backslash (a continuation)."""
    words = [ip_batch_word(w) for w in argv]
    if any(w is None for w in words) or (words and words[-1].endswith("\\")):
        return None
    return " ".join(words)  # type: ignore[arg-type]


def here_document(line: str, text: str) -> list[str]:
    """A command fed `text` on its stdin, as the shell writes it."""
    return [f"{line} <<'{_HEREDOC}'", *text.rstrip("\n").split("\n"), _HEREDOC]


def _stream_tail(step: Step) -> str:
    """A capture whose pcap stream vethctl writes to a file and prints (a remote run's --pcap): the same,
    as a shell does it where the lines run."""
    decode = tcpdump.decode(step.pcap_home.decode_as)
    return f" | tee {quote(step.pcap_home.path)} | {command_text(decode)}"


def dry_run(plan: Plan, node: Node) -> str:
    """One command a line, shell-quoted, in the order they would run; a background job ends in '&' and
    its stop is `kill -INT %N`, so the lines also work pasted into an interactive shell. A command fed on
    its stdin (an `ip -batch -`) is followed by its input as a here-document."""
    lines, jobs = [], {}
    for step in plan.all_steps():
        if step.stops:
            lines.append(f"{'sudo ' if node.sudo else ''}kill -INT %{jobs[step.stops]}")
        elif step.background:
            jobs[step.key] = len(jobs) + 1
            lines.append(command_line(step, node) + " &")
        elif step.daemon:
            lines.append(command_line(step, node) + " </dev/null >/dev/null 2>&1 &")
        elif step.stdin is not None:
            lines += here_document(command_line(step, node), step.stdin)
        else:
            lines.append(command_line(step, node))
    return "\n".join(lines) + "\n"


def transcript(plan: Plan, node: Node, *, header: str) -> str:
    """A standalone bash script with exactly the plan's commands, capture and teardown included.

    It waits for tcpdump's "listening on" line instead of sleeping, and undoes what it created if it
    stops half-way (an EXIT trap), so a replay leaves the node as it found it.
    """
    sudo = "sudo " if node.sudo else ""
    out = [
        "#!/usr/bin/env bash",
        comment(header),
        f"# written by vethctl on {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        "# replay: as root on the node, `bash THIS_FILE`" if not node.sudo else "# replay: `bash THIS_FILE`",
        "set -euo pipefail",
        "",
    ]
    teardown = plan.teardown()
    background = [s for s in plan.steps if s.background]
    undo_lines = [f"  {command_line(s, node)} 2>/dev/null || true" for s in teardown]
    kill_lines = [
        f'  [ -n "${{{_pid_var(s.key)}:-}}" ] && {sudo}kill -INT "${{{_pid_var(s.key)}}}" 2>/dev/null || true'
        for s in background
    ]
    if undo_lines or kill_lines:
        out += [
            "# if the script stops before its own teardown, undo what it created",
            "cleanup() {",
            *kill_lines,
            *undo_lines,
            "}",
            "trap cleanup EXIT",
            "",
        ]
    if background:
        out += ["exec 4>&1  # the capture prints its packets here", ""]
    phase, fds = None, {}
    for step in plan.all_steps():
        if step.phase != phase:
            phase = step.phase
            out.append(f"# --- {phase}")
        out.append(comment(step.purpose))
        out += _script_lines(step, node, sudo, fds)
    if undo_lines or kill_lines:
        out += ["", "trap - EXIT"]
    out.append("")
    return "\n".join(out)


def _pid_var(key: str | None) -> str:
    return "".join(c if c.isalnum() else "_" for c in (key or "job")) + "_pid"


def _script_lines(step: Step, node: Node, sudo: str, fds: dict[str, int]) -> list[str]:
    if step.stops:
        pid, fd = _pid_var(step.stops), fds[step.stops]
        return [
            f'{sudo}kill -INT "${pid}"',
            f'wait "${pid}" || true',
            f"cat <&{fd} >&2; exec {fd}<&-  # tcpdump's own summary",
        ]
    line = command_line(step, node)
    if step.background:
        pid, fd = _pid_var(step.key), fds.setdefault(step.key, 5 + len(fds))
        out = ">&4"
        if step.pcap_home:  # its stdout is the pcap: to the file, and printed from it
            line = command_text(on_node(node.netns, node.sudo, step.argv, step.netns))
            out = f"> >({_stream_tail(step).removeprefix(' | ')} >&4)"
        lines = [f"exec {fd}< <(exec {line} 2>&1 {out})", f"{pid}=$!"]
        if step.ready:
            ready = shlex.quote(step.ready)
            lines += [
                f'while IFS= read -r line <&{fd}; do echo "$line" >&2; [[ $line == *{ready}* ]] && break; done',
                f'{sudo}kill -0 "${pid}"  # still running: it is listening',
            ]
        return lines
    if step.stdin is not None:
        return here_document(line, step.stdin)
    if step.ok_codes != frozenset({0}):
        codes = sorted(step.ok_codes - {0})
        test = " || ".join(f"[ $rc -eq {c} ]" for c in codes)
        why = ", ".join(map(str, codes))
        return [f"rc=0; {line} || rc=$?", f"[ $rc -eq 0 ] || {test}  # exit {why}: an answer, not an error"]
    return [line]
