"""The few errors vethctl raises on purpose, each with the exit code of the contract.

Anything else that escapes is a bug and gets a traceback; these get one line and their exit code.
"""

from __future__ import annotations


class VethctlError(Exception):
    """An expected failure: one line for the user, an exit code for scripts."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class CommandFailed(VethctlError):
    """A command vethctl drove exited with a code it did not expect (exit 1)."""

    exit_code = 1

    def __init__(self, argv: tuple[str, ...], rc: int, stderr: str, *, where: str = "node"):
        import shlex

        self.argv = tuple(argv)
        self.rc = rc
        self.stderr = stderr.strip()
        self.where = where
        last = self.stderr.splitlines()[-1] if self.stderr else "no error output"
        super().__init__(f"command failed (exit {rc}) on the {where}: {shlex.join(self.argv)}: {last}")


class BadInput(VethctlError):
    """The request cannot be carried out as given; nothing was changed (exit 2)."""

    exit_code = 2


class TargetNotFound(VethctlError):
    """The target does not exist (exit 3)."""

    exit_code = 3


class MissingPrerequisite(VethctlError):
    """A privilege or a tool is missing (exit 4)."""

    exit_code = 4


class Interrupted(VethctlError):
    """SIGINT or SIGTERM arrived; clean-up has run (exit 130)."""

    exit_code = 130

    def __init__(self, message: str = "interrupted; everything created so far was removed"):
        super().__init__(message)
