"""Real executors for unit tests that need one (the machine's own namespace, read-only commands only)."""

from __future__ import annotations


def local_executor():
    from vethctl.execute import Executor
    from vethctl.model import Node

    return Executor(Node())
