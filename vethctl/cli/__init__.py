"""The command line: parser (the grammar), handlers (the dispatch table), main (the process), completion,
demo. `vethctl.cli:main` is the entry point of `vethctl` and of the kubectl plugin `kubectl-veth`."""

from vethctl.cli.main import main

__all__ = ["main"]
