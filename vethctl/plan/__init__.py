"""Plans: the steps a scenario will take, as values, before anything runs.

A Step is one command (or the stop of a background one), where it runs, why, and how to undo it.
build_* functions are pure: the same inputs give the same plan, which tests compare as golden lists,
`--dry-run` prints and `--transcript` writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from vethctl.commands import Argv, in_netns
from vethctl.model import Netns, PcapHome

PHASES = ("attach", "observe", "capture", "probe", "teardown", "lab")


@dataclass(frozen=True)
class Step:
    """One command of a plan: its argv, where it runs, and how it is undone."""

    argv: Argv
    netns: Netns | None = None  # None: on the node
    purpose: str = ""
    phase: str = "attach"
    undo: tuple[Step, ...] = ()
    key: str | None = None  # name under which the scenario finds this step's result
    background: bool = False  # a process that runs alongside the next steps (tcpdump)
    ready: str | None = None  # what a background process prints on stderr once it is ready
    stops: str | None = None  # this step stops the background step with this key (argv is empty)
    daemon: bool = (
        False  # a server that outlives the plan (a lab's listeners): started detached, its pid kept
    )
    ok_codes: frozenset[int] = frozenset({0})
    stdin: str | None = None
    writes: str | None = None  # a file the command writes through its stdin (a pcap): opened by vethctl
    #                            (secure.create_file, or created exclusively there on a remote host), never
    #                            by the command, which would follow a planted link with root's rights
    stream: bool = False  # a foreground command whose lines are shown as they come (ping)
    quiet_fail: bool = False  # an undo that may find nothing to undo (already gone) is not an error
    max_output: int | None = None  # bytes of output read at most (None: execute.bounded.MAX_OUTPUT)
    place: str = "pod"  # what `netns` is, for messages: "pod", "node" (a lab node's), "outside" (a lab's)
    pcap_home: PcapHome | None = None  # a capture whose stdout is a pcap stream (`-U -w -`), written on
    #                                    this machine and read there by `tcpdump -r -` (its text lines)
    # an `ip -batch -` step: the commands it runs, one a line of its stdin (plan/batch.py); each keeps its
    # own undo, so that a batch failing half-way is undone for the lines that happened only
    batch: tuple[Step, ...] = ()

    @property
    def force(self) -> bool:
        """A batch that goes on after a failing line (`ip -force -batch -`)."""
        return bool(self.batch) and "-force" in self.argv

    @property
    def argv_in_netns(self) -> Argv:
        return in_netns(self.netns, self.argv)


@dataclass(frozen=True)
class Plan:
    """The steps of one command, in order."""

    steps: tuple[Step, ...]
    keep: bool = False  # leave what was attached in place (no teardown)

    def teardown(self) -> tuple[Step, ...]:
        """What undoes the whole plan once every step has run: the undos, last first."""
        if self.keep:
            return ()
        return tuple(u for s in reversed(self.steps) for u in reversed(s.undo))

    def all_steps(self) -> tuple[Step, ...]:
        return self.steps + self.teardown()
