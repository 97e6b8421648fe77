"""The only place that turns argv into shell text: `--dry-run` lines and the `--transcript` script."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

from vethctl.commands import on_node
from vethctl.model import Node
from vethctl.plan import Plan, Step


def command_text(argv: tuple[str, ...]) -> str:
    """An argv as a person types it: shell-quoted where it must be."""
    return shlex.join(argv)


def command_line(step: Step, node: Node) -> str:
    return command_text(on_node(node.netns, node.sudo, step.argv, step.netns))


def dry_run(plan: Plan, node: Node) -> str:
    """One command a line, shell-quoted, in the order they would run; a background job ends in '&' and
    its stop is `kill -INT %N`, so the lines also work pasted into an interactive shell."""
    lines, jobs = [], {}
    for step in plan.all_steps():
        if step.stops:
            lines.append(f"{'sudo ' if node.sudo else ''}kill -INT %{jobs[step.stops]}")
        elif step.background:
            jobs[step.key] = len(jobs) + 1
            lines.append(command_line(step, node) + " &")
        elif step.daemon:
            lines.append(command_line(step, node) + " </dev/null >/dev/null 2>&1 &")
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
        *(f"# {line}" for line in header.splitlines()),
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
        out.append(f"# {step.purpose}" if step.purpose else "#")
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
        lines = [f"exec {fd}< <(exec {line} 2>&1 >&4)", f"{pid}=$!"]
        if step.ready:
            ready = shlex.quote(step.ready)
            lines += [
                f'while IFS= read -r line <&{fd}; do echo "$line" >&2; [[ $line == *{ready}* ]] && break; done',
                f'kill -0 "${pid}"  # still running: it is listening',
            ]
        return lines
    if step.stdin is not None:
        marker = "VETHCTL_EOF"
        return [f"{line} <<'{marker}'", step.stdin.rstrip("\n"), marker]
    if step.ok_codes != frozenset({0}):
        codes = sorted(step.ok_codes - {0})
        test = " || ".join(f"[ $rc -eq {c} ]" for c in codes)
        why = ", ".join(map(str, codes))
        return [f"rc=0; {line} || rc=$?", f"[ $rc -eq 0 ] || {test}  # exit {why}: an answer, not an error"]
    return [line]
