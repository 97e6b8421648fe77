"""Real executors for unit tests that need one (the machine's own namespace, read-only commands only)."""

from __future__ import annotations


def local_executor():
    from vethctl.execute.executor import Executor
    from vethctl.execute.hosts.local import LocalHost
    from vethctl.model import Node

    return Executor(LocalHost(), Node())
