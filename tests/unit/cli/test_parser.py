"""The CLI as a black box: bad input is one line and exit 2, before anything is looked at."""

from __future__ import annotations

import pytest
import sh

from tests.support.cli import VETHCTL

vethctl = sh.Command(VETHCTL)


@pytest.mark.parametrize(
    "args,needle",
    [
        (["run"], "run takes a TARGET or -l SELECTOR"),
        (["find"], "the following arguments are required"),
        (["run", "netns/x", "--count", "many"], "not a whole number"),
        (["run", "netns/x", "--count", "0"], "--count 0 is out of range"),
        (["run", "netns/x", "--interval", "0"], "--interval 0 is out of range"),
        (["run", "netns/x", "--host-if", "a-name-longer-than-15"], "Linux allows 15"),
        (["run", "netns/x", "--pod-addr", "203.0.113.0/24"], "network address"),
        (["run", "netns/x", "--ping", "not-an-ip"], "is not an IP address"),
        (
            ["run", "netns/x", "--host-addr", "172.168.0.200/24", "--pod-addr", "172.168.0.100/24"],
            "public address space",
        ),
        (["run", "bogus/x"], "unknown target kind"),
        (["run", "netns/x", "--pcap", "{absent}/x.pcap"], "does not exist"),
        (["frobnicate"], "invalid choice"),
        (["capture", "-l", "app=web", "--iface", "eth0"], "-l picks the pods: no SESSION, --iface or --read"),
        (["capture", "-l", "app=web", "--count", "0"], "--count 0 is out of range"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle, tmp_path):
    absent = tmp_path / "absent"  # a directory that does not exist, whatever else this machine holds
    with pytest.raises(sh.ErrorReturnCode_2) as exc:
        vethctl(*[a.replace("{absent}", str(absent)) for a in args])
    err = exc.value.stderr.decode()
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("vethctl: error:")


def test_version_and_help():
    assert vethctl("--version").strip().startswith("vethctl ")
    assert "run" in vethctl("--help")


def test_bash_completion_completes_commands_options_and_netns(tmp_path):
    script = tmp_path / "c.bash"
    script.write_text(str(vethctl("completion", "bash")))
    import subprocess

    def complete(*words):
        line = " ".join(f"'{w}'" for w in words)
        out = subprocess.run(
            [
                "bash",
                "-c",
                f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1};"
                ' _vethctl; echo "${COMPREPLY[@]}"',
            ],
            capture_output=True,
            text=True,
        )
        return out.stdout.split()

    assert "trace" in complete("vethctl", "tr") and complete("vethctl", "lab", "") == sorted(
        ["--help", "-h", "down", "status", "up"]
    )
    assert "--interval" in complete("vethctl", "run", "--in")


def test_zsh_and_fish_completion():
    assert "bashcompinit" in str(vethctl("completion", "zsh"))
    fish = str(vethctl("completion", "fish"))
    assert "complete -c vethctl -n '__fish_use_subcommand' -a trace" in fish
