"""The exit codes of the contract, and the few errors vethctl raises on purpose, each with its code.

Anything else that escapes is a bug and gets a traceback; these get one line and their exit code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    COMMAND_FAILED = 1  # a driven command failed; everything created so far was removed
    BAD_INPUT = 2  # nothing was changed
    NOT_FOUND = 3  # the target does not exist
    MISSING_PREREQUISITE = 4  # a privilege or a tool, named with how to get it
    INTERRUPTED = 130  # SIGINT/SIGTERM, after clean-up


class VethctlError(Exception):
    """An expected failure: one line for the user, an exit code for scripts."""

    exit_code: ExitCode = ExitCode.COMMAND_FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class CommandFailed(VethctlError):
    """A command vethctl drove exited with a code it did not expect (exit 1).

    `shown` is the command as a person would type it (render.command_text): the executor, which ran it,
    says how it looks."""

    exit_code = ExitCode.COMMAND_FAILED

    def __init__(self, argv: tuple[str, ...], rc: int, stderr: str, *, shown: str, where: str = "node"):
        self.argv = tuple(argv)
        self.rc = rc
        self.stderr = stderr.strip()
        self.where = where
        last = self.stderr.splitlines()[-1] if self.stderr else "no error output"
        super().__init__(f"command failed (exit {rc}) on the {where}: {shown}: {last}")


class BadInput(VethctlError):
    """The request cannot be carried out as given; nothing was changed (exit 2)."""

    exit_code = ExitCode.BAD_INPUT


class TargetNotFound(VethctlError):
    """The target does not exist (exit 3)."""

    exit_code = ExitCode.NOT_FOUND


class MissingPrerequisite(VethctlError):
    """A privilege or a tool is missing (exit 4)."""

    exit_code = ExitCode.MISSING_PREREQUISITE


class Interrupted(VethctlError):
    """SIGINT or SIGTERM arrived; clean-up has run (exit 130)."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "interrupted; everything created so far was removed"):
        super().__init__(message)
