"""build_parser(only=COMMAND): the command named gets its options, the others their names only (start-up);
what argv parses to is the same as with every command built."""

from __future__ import annotations

import pytest

from vethctl.cli.parser import COMMANDS, build_parser, command_of


def test_the_command_names_are_the_grammars():
    assert set(COMMANDS) == set(build_parser()._subparsers._group_actions[0].choices)


@pytest.mark.parametrize(
    "argv",
    [
        ["find", "ip/192.0.2.1", "-o", "json", "--via", "netns:lab"],
        ["up", "netns/a", "netns/b", "--family", "6", "-v"],
        ["run", "netns/a", "--count", "2", "--probe", "tcp:192.0.2.1:80", "--dry-run"],
        ["down", "0123abcd", "--all"],
        ["lab", "up", "--pods", "3"],  # two command names: everything is built
    ],
)
def test_a_command_parses_the_same_built_alone(argv):
    assert vars(build_parser(command_of(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_command_not_built_is_still_known_by_name():
    with pytest.raises(SystemExit) as exc:
        build_parser("find").parse_args(["nosuch"])
    assert exc.value.code == 2
    assert command_of(["--audit-log", "run", "find"]) is None and command_of(["status"]) == "status"
