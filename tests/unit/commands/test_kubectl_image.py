"""--tools image: a node's commands as the debugging image's own tools run them (nsenter, not chroot)."""

from __future__ import annotations

import pytest

from vethctl.commands import ip
from vethctl.commands.kubectl import debug_exec_argv, host_path, image_argv


@pytest.mark.parametrize(
    "argv,expected",
    [
        (
            ("ip", "-j", "route", "get", "198.18.0.2"),
            ("nsenter", "--target", "1", "--net", "ip", "-j", "route", "get", "198.18.0.2"),
        ),
        (
            ("ip", "netns", "exec", "cni-1", "tcpdump", "-i", "eth0"),
            ("nsenter", "--net=/host/run/netns/cni-1", "tcpdump", "-i", "eth0"),
        ),
        (
            ("ip", "-n", "cni-1", "-j", "addr", "show"),
            ("nsenter", "--net=/host/run/netns/cni-1", "ip", "-j", "addr", "show"),
        ),
        (
            ("nsenter", "--net=/proc/4242/ns/net", "ping", "-c", "1", "x"),
            ("nsenter", "--net=/proc/4242/ns/net", "ping", "-c", "1", "x"),
        ),
        (
            ("nsenter", "--net=/var/run/docker/netns/ab", "ip", "a"),
            ("nsenter", "--net=/host/run/docker/netns/ab", "ip", "a"),
        ),
        (
            ("ip", "link", "add", "vh-1", "type", "veth", "peer", "name", "vp-1", "netns", "cni-1"),
            (
                "nsenter",
                "--target",
                "1",
                "--net",
                "ip",
                "link",
                "add",
                "vh-1",
                "type",
                "veth",
                "peer",
                "name",
                "vp-1",
                "netns",
                "/host/run/netns/cni-1",
            ),
        ),
        (
            ("ip", "-n", "node", "link", "set", "dev", "x", "netns", "4242"),
            ("nsenter", "--net=/host/run/netns/node", "ip", "link", "set", "dev", "x", "netns", "4242"),
        ),
        (
            ("sh", "-c", 'test -e "$1"', "sh", "/host/run/netns/x"),
            ("sh", "-c", 'test -e "$1"', "sh", "/host/run/netns/x"),
        ),
    ],
)
def test_image_argv(argv, expected):
    assert image_argv(argv) == expected


def test_host_paths():
    assert host_path("/var/run/netns/cni-1") == "/host/run/netns/cni-1"  # /var/run may be an absolute link
    assert host_path("/proc/1/ns/net") == "/proc/1/ns/net"  # hostPID: the node's processes
    assert host_path("/etc/hostname") == "/host/etc/hostname"


def test_exec_without_chroot():
    argv = debug_exec_argv("dbg", "debugger", ("nsenter", "--target", "1", "--net", "ip", "a"), chroot=False)
    assert argv[-8:] == ("debugger", "--", "nsenter", "--target", "1", "--net", "ip", "a")
    assert "chroot" in debug_exec_argv("dbg", "debugger", ("ip", "a"))


def test_every_namespace_at_once_is_one_command_over_the_nodes_files():
    """The loop over the node's namespace files (commands.ip.in_every_netns) looks in /host/run/netns: the
    image's own /var/run/netns has none, and every namespace would then be asked alone (one kubectl exec
    each, minutes on a node of many pods)."""
    argv = image_argv(ip.addr_holders_json("198.18.0.2"))
    assert argv[:2] == ("sh", "-c") and "/host/run/netns/*" in argv[2] and 'nsenter --net="$f"' in argv[2]
    assert argv[3:] == ("sh", "ip", "-j", "addr", "show", "to", "198.18.0.2")
