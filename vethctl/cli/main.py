"""The process: arguments parsed, the audit log set up, signals turned into the clean-up path, the command
dispatched, and every expected error turned into one line and its exit code (the contract's table)."""

from __future__ import annotations

import signal
import sys

from vethctl.errors import ExitCode, Interrupted, VethctlError
from vethctl.secure import escape_lines


def main(argv: list[str] | None = None, *, hosts=None) -> int:
    """`hosts`: where commands run (execute.hosts.registry.Hosts); one is made here unless given (tests
    give one whose local machine answers from a recording)."""
    from vethctl.cli.handlers import HANDLERS
    from vethctl.cli.parser import build_parser, command_of

    args = build_parser(command_of(sys.argv[1:] if argv is None else argv)).parse_args(argv)
    handler = HANDLERS[args.command]
    if args.command == "completion":  # no audit log, no root: a script on stdout
        return handler(args, None)
    from vethctl import audit

    audit.setup(args.verbose or 0, args.audit_log, bool(args.quiet))
    signal.signal(signal.SIGTERM, _terminate)
    sys.unraisablehook = _interrupt_again
    try:
        tools = getattr(args, "tools", None) or "node"
        if tools == "image" and getattr(args, "via", None) != "kubectl-debug":
            from vethctl.errors import BadInput

            raise BadInput(
                "--tools image runs a debugging pod's own tools: it goes with --via kubectl-debug",
                hint="vethctl ... pod/NAME --via kubectl-debug --tools image",
            )
        if hosts is None:
            from vethctl.execute.hosts.registry import Hosts

            hosts = Hosts(debug_tools=tools)
        try:
            return int(handler(args, hosts))
        finally:
            hosts.close()  # the things made only to reach a node (a debugging pod) go at the end
    except VethctlError as exc:  # its text may quote a pod's or a tool's: shown, never obeyed by the terminal
        print(f"vethctl: error: {escape_lines(str(exc))}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(f"vethctl: {Interrupted()}", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        return int(ExitCode.OK)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def _interrupt_again(unraisable) -> None:
    """A Ctrl-C or SIGTERM that lands while a finalizer runs (plumbum's Popen.__del__) cannot leave it: Python
    would print it as "Exception ignored" with a traceback, and lose it. It is delivered again to the main
    thread, where the clean-up path takes it (held there, if clean-up runs); anything else as Python would."""
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        import _thread
        import threading

        # from another thread, once this hook has returned: raised in here, it would be lost again
        again = threading.Timer(0.01, _thread.interrupt_main)
        again.daemon = True  # a process already on its way out is not held, nor interrupted, by it
        again.start()
        return
    sys.__unraisablehook__(unraisable)
