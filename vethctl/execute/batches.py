"""The executor's side of `ip -batch -` steps (plan/batch.py): which lines happened, the error of the line
that failed, each line's JSON for a batch of reads, and undos that run together.

Duck-typed on the executor's Result (step, argv, rc, stdout, stderr): this module does not import the
executor, which imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from vethctl.errors import CommandFailed
from vethctl.parsers.ipbatch import document_texts, done_lines, failed_lines
from vethctl.parsers.ipjson import NotJson
from vethctl.plan import Step
from vethctl.plan.batch import ip_batch
from vethctl.render import command_text, here_document


def shown(argv: tuple[str, ...], step: Step) -> str:
    """How a command is shown (-v, the audit log's message): a batch with its input as a here-document."""
    text = command_text(argv)
    return "\n".join(here_document(text, step.stdin)) if step.batch and step.stdin is not None else text


def lines_of(step: Step) -> list[str] | None:
    """What a batch is fed, one command a line (None for a plain command)."""
    return (step.stdin or "").splitlines() if step.batch else None


def done(result) -> list[Step]:
    """The commands of a step that happened: of a batch, the lines before the one that failed (with
    -force: all but the failed ones); of a plain command, itself if it succeeded."""
    step = result.step
    if not step.batch:
        return [step] if result.rc in step.ok_codes else []
    return [
        step.batch[n - 1] for n in done_lines(len(step.batch), result.stderr, result.rc, force=step.force)
    ]


def failure_detail(result, text: str) -> tuple[str, str]:
    """(the command as shown, its error) for a failed step: for a batch, the line that failed is named,
    as the command a person would have typed, with its own error."""
    failed = failed_lines(result.stderr) if result.step.batch else {}
    if not failed:
        return text, result.stderr
    n = min(failed)
    return f"{text} (line {n}: {command_text(result.step.batch[n - 1].argv)})", failed[n] or result.stderr


def keyed_reads(result) -> list[tuple[str, Step, str]]:
    """For a batch of `ip -j` reads that succeeded: (key, line, its JSON text) of each keyed line."""
    step = result.step
    if not step.batch or result.rc != 0 or "-j" not in result.argv:
        return []
    texts = document_texts(result.stdout)
    if len(texts) != len(step.batch):
        raise NotJson(
            f"ip -j -batch printed {len(texts)} JSON documents for {len(step.batch)} reads",
            hint="run with -v",
        )
    return [(line.key, line, text) for line, text in zip(step.batch, texts, strict=True) if line.key]


def line_failures(
    result, argv_of: Callable[[Step], tuple[str, ...]], where: str
) -> list[tuple[Step, CommandFailed]]:
    """Each command of a failed step with its own error: a batch's failed lines one by one (all of them
    alike when it failed before reading any)."""
    step, rc = result.step, result.rc if result.rc is not None else -1
    if not step.batch:
        return [
            (
                step,
                CommandFailed(result.argv, rc, result.stderr, shown=command_text(result.argv), where=where),
            )
        ]
    said = failed_lines(result.stderr) or {n: result.stderr for n in range(1, len(step.batch) + 1)}
    out = []
    for n, text in sorted(said.items()):
        line = step.batch[n - 1]
        out.append(
            (line, CommandFailed(argv_of(line), rc, text, shown=command_text(argv_of(line)), where=where))
        )
    return out


def _together(step: Step, first: Step) -> bool:
    """Undos that one `ip -force -batch -` can run: removing links, in the same namespace."""
    return (
        step.argv[:3] == ("ip", "link", "del") == first.argv[:3]
        and step.netns == first.netns
        and step.quiet_fail
        and first.quiet_fail
    )


def next_undos(stack: list[Step]) -> list[Step]:
    """Pop the next undo off the stack, with the ones under it that run together with it: one step, or one
    batch of link removals (each line still judged on its own)."""
    group = [stack.pop()]
    while stack and _together(stack[-1], group[0]):
        group.append(stack.pop())
    return ip_batch(group, purpose="remove the veth pairs", force=True)
