"""Several `ip` commands of one namespace as one process: `ip [-n NS] -batch -`, fed the commands one a line.

Still iproute2's exact commands: each line is a command as a person types it after `ip`, and `--dry-run` and
the transcript show them as a here-document. The batch keeps its commands (Step.batch), each with its own
undo: when a line fails, the executor undoes the lines that happened (parsers/ipbatch.py says which).
"""

from __future__ import annotations

from collections.abc import Sequence

from vethctl.plan import Step
from vethctl.render import ip_batch_line


def _options(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The global options of an `ip` command (`-j`, `-d`...): they go on the batch's own command line."""
    opts = []
    for word in argv[1:]:
        if not word.startswith("-"):
            break
        opts.append(word)
    return tuple(opts)


def _batchable(step: Step) -> bool:
    return (
        step.argv[:1] == ("ip",)
        and not (step.background or step.daemon or step.stops or step.stream or step.batch)
        and step.stdin is None
        and step.ok_codes == frozenset({0})
        and not {"-n", "-netns", "-batch", "-force"} & set(_options(step.argv))
    )


def ip_batch(
    steps: Sequence[Step], *, purpose: str = "", force: bool = False, key: str | None = None
) -> list[Step]:
    """The steps as one `ip -batch -` step when there are several, all `ip` commands with the same options,
    in the same namespace and phase, each writable as a batch line; otherwise the steps as they are.

    force: go on after a failing line (`-force`), for lines that do not depend on each other (the links of
    several pods); without it the batch stops at the first failure, as a script under `set -e` would."""
    steps = list(steps)
    if len(steps) < 2 or not all(_batchable(s) for s in steps):
        return steps
    first = steps[0]
    opts = _options(first.argv)
    if any(s.netns != first.netns or s.phase != first.phase or _options(s.argv) != opts for s in steps):
        return steps
    lines = [ip_batch_line(s.argv[1 + len(opts) :]) for s in steps]
    if any(line is None for line in lines):
        return steps  # a name iproute2's batch syntax cannot carry: one command each, as before
    return [
        Step(
            ("ip", *opts, *(("-force",) if force else ()), "-batch", "-"),
            first.netns,
            purpose=purpose or "; ".join(s.purpose for s in steps if s.purpose),
            phase=first.phase,
            undo=tuple(u for s in steps for u in s.undo),
            key=key,
            stdin="".join(f"{line}\n" for line in lines),
            batch=tuple(steps),
        )
    ]
