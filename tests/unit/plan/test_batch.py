"""Several `ip` commands of one namespace as one `ip -batch -`: what may share a batch, the undos it keeps,
and every word written so that iproute2's own batch reader gives it back (checked against the real `ip`)."""

from __future__ import annotations

import subprocess

import pytest

from vethctl.model import Netns
from vethctl.plan import Step
from vethctl.plan.batch import ip_batch
from vethctl.render import ip_batch_line, ip_batch_word

POD = Netns.named("cni-1")


def steps(*argvs, netns=None, **kw):
    return [Step(tuple(a.split()), netns, **kw) for a in argvs]


def test_commands_of_one_namespace_become_one_batch_that_keeps_each_undo():
    undo = Step(("ip", "link", "del", "dev", "vh-1"), phase="teardown", quiet_fail=True)
    first = Step(("ip", "link", "add", "vh-1", "type", "veth", "peer", "name", "vp-1"), undo=(undo,))
    rest = steps("ip link set dev vh-1 up", "ip addr add 192.0.2.200/24 dev vh-1")
    [batch] = ip_batch([first, *rest], purpose="attach")
    assert batch.argv == ("ip", "-batch", "-") and batch.netns is None and batch.undo == (undo,)
    assert batch.stdin == (
        "link add vh-1 type veth peer name vp-1\nlink set dev vh-1 up\naddr add 192.0.2.200/24 dev vh-1\n"
    )
    assert batch.batch == (first, *rest) and not batch.force


def test_reads_keep_their_options_and_force_goes_on_the_command():
    [reads] = ip_batch(steps("ip -j addr show", "ip -j route show table all", netns=POD, phase="inspect"))
    assert reads.argv == ("ip", "-j", "-batch", "-") and reads.netns == POD and reads.phase == "inspect"
    assert reads.stdin == "addr show\nroute show table all\n"
    [dels] = ip_batch(steps("ip link del dev a", "ip link del dev b"), force=True)
    assert dels.argv == ("ip", "-force", "-batch", "-") and dels.force


@pytest.mark.parametrize(
    "group",
    [
        steps("ip link set dev a up"),  # one command: as it is
        steps("ip link set dev a up", "tcpdump -i a"),  # not ip
        [*steps("ip link set dev a up"), *steps("ip link set dev b up", netns=POD)],  # two namespaces
        steps("ip -j addr show", "ip -j -d link show"),  # different options
        [*steps("ip link set dev a up"), *steps("ip addr add 192.0.2.1/24 dev a", phase="observe")],
        steps("ip link set dev a up", "ip link set dev b up", ok_codes=frozenset({0, 1})),
    ],
)
def test_what_cannot_share_a_batch_stays_as_it_is(group):
    assert ip_batch(group) == group


def test_a_name_a_batch_line_cannot_carry_keeps_its_own_command():
    group = steps("ip link set dev a up", "ip link add x type veth peer name y netns 'cni#1'")
    group[1] = Step(("ip", "link", "add", "x", "type", "veth", "peer", "name", "y", "netns", "cni#1"))
    assert ip_batch(group) == group  # '#' starts a comment anywhere on a batch line


@pytest.mark.parametrize(
    "word,written",
    [
        ("vh-1", "vh-1"),
        ("vh-X", "vh-X"),  # letters, whichever
        ("X1", "X1"),
        ("a\tb", "'a\tb'"),
        ("a\rb", None),
        ("a\0b", None),
        ("a b", "'a b'"),
        ("it's x", '"it\'s x"'),
        ("'q", '"\'q"'),
        ('"q', "'\"q'"),
        ("", "''"),
        ("a\\b", "a\\b"),
        ("a#b", None),
        ("a\nb", None),
        ("'a\" b", None),
    ],
)
def test_words_as_iproute2_reads_them(word, written):
    assert ip_batch_word(word) == written


def test_a_line_ending_in_a_backslash_would_continue_on_the_next():
    assert ip_batch_line(("link", "set", "dev", "a\\")) is None


def test_the_real_ip_reads_each_word_back_as_given():
    """`ip -batch` names the device it could not find: the word it read, quotes and blanks included. Only
    looks up names that do not exist in this machine's namespace (nothing is changed, no root needed)."""
    words = ["vtb a b", "vtb'q z", "'vtbq", '"vtbq', "vtb\\q", 'vtb"q', "vtb\tq"]
    text = "".join(f"link show dev {ip_batch_word(w)}\n" for w in words)
    proc = subprocess.run(["ip", "-force", "-batch", "-"], input=text, capture_output=True, text=True)
    said = [line for line in proc.stderr.splitlines() if line.startswith("Device ")]
    assert said == [f'Device "{w}" does not exist.' for w in words]


def ip_step(text, **kw):
    return Step(tuple(text.split()), **kw)


@pytest.mark.parametrize(
    "command,kind",
    [
        ("ip link set dev DEV up", dict(background=True, key="b")),  # runs alongside the next steps
        ("ip link set dev DEV up", dict(daemon=True)),
        ("ip link set dev DEV up", dict(stops="capture")),
        ("ip link set dev DEV up", dict(stream=True)),
        ("ip link set dev DEV up", dict(stdin="x\n")),  # its own input
        ("ip link set dev DEV up", dict(ok_codes=frozenset({0, 2}))),
        ("ip -n cni-1 link set dev DEV up", {}),  # its own namespace
        ("ip -netns cni-1 link set dev DEV up", {}),
        ("ip -batch /tmp/DEV", {}),
        ("ip -force link set dev DEV up", {}),
        ("ipx link set dev DEV up", {}),
    ],
)
def test_a_step_that_is_not_a_plain_ip_command_shares_no_batch(command, kind):
    """Neither with a plain command nor with one of its kind."""
    odd = [Step(tuple(command.replace("DEV", dev).split()), **kind) for dev in ("b", "c")]
    plain = ip_step("ip link set dev a up")
    for group in ([plain, odd[0]], [odd[0], plain], odd):
        assert ip_batch(group) == group


def test_a_batch_is_no_line_of_another():
    group = [
        *ip_batch(steps("ip link set dev b up", "ip link set dev c up")),
        ip_step("ip link set dev a up"),
    ]
    assert ip_batch(group) == group


def test_a_word_that_starts_with_a_dash_after_the_command_is_not_an_option():
    """Only the words between `ip` and its command are ip's options: a device may be named `-x`."""
    [batch] = ip_batch(steps("ip -j link show dev -x", "ip -j addr show dev -x"))
    assert batch.argv == ("ip", "-j", "-batch", "-") and batch.stdin == "link show dev -x\naddr show dev -x\n"


def test_a_batch_takes_its_lines_purposes_its_namespace_phase_and_key():
    group = [
        ip_step("ip link set dev a up", purpose="bring a up", netns=POD, phase="lab"),
        ip_step("ip link set dev b up", netns=POD, phase="lab"),
        ip_step("ip link set dev c up", purpose="bring c up", netns=POD, phase="lab"),
    ]
    [batch] = ip_batch(group, key="links")
    assert batch.purpose == "bring a up; bring c up" and batch.key == "links"
    assert (batch.netns, batch.phase, batch.argv) == (POD, "lab", ("ip", "-batch", "-"))
    assert batch.argv_in_netns == ("ip", "-n", "cni-1", "-batch", "-")
    assert ip_batch(group, purpose="links up")[0].purpose == "links up"
    assert ip_batch([*steps("ip link set dev a up"), *steps("ip link set dev b up")])[0].key is None
