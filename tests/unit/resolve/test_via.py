"""--via ssh://: nothing in the URL can reach ssh as an option."""

from __future__ import annotations

import pytest

from vethctl.errors import BadInput
from vethctl.resolve.via import parse_ssh


@pytest.mark.parametrize(
    "url",
    [
        "ssh://-oProxyCommand=touch${IFS}PWNED;exit${IFS}1@node1",  # the review's
        "ssh://root@-oProxyCommand=x",
        "ssh://-node1",
        "ssh://ro ot@node1",
        "ssh://root@no de",
        "ssh://root@node1\n",
        "ssh://root@node\x1b[2J",
        "ssh://1root@node1",
        "ssh://root:password@node1",
        "ssh://root@node1?x=1",
        "ssh://root@[fe80::1%25eth0;x]",
    ],
)
def test_an_ssh_url_that_ssh_could_read_as_options_is_refused(url):
    with pytest.raises(BadInput):
        parse_ssh(url)


@pytest.mark.parametrize(
    "url,user,host,port",
    [
        ("ssh://root@node-1.example.com:2222", "root", "node-1.example.com", 2222),
        ("ssh://node1", None, "node1", None),
        ("ssh://ops_user@10.0.0.7", "ops_user", "10.0.0.7", None),
        ("ssh://root@[2001:db8::1]:22", "root", "2001:db8::1", 22),
        (
            "ssh://k.user-1@ip-10-0-134-121.us-east-2.compute.internal",
            "k.user-1",
            "ip-10-0-134-121.us-east-2.compute.internal",
            None,
        ),
    ],
)
def test_good_ssh_urls(url, user, host, port):
    via = parse_ssh(url)
    assert (via.user, via.host, via.port) == (user, host, port)


def test_the_destination_comes_after_double_dash():
    from vethctl.execute.hosts.ssh import _Ssh, connect_argv

    argv = connect_argv(["-o", "BatchMode=yes"], 2222, "root@node1")
    assert argv[argv.index("--") + 1] == "root@node1" and argv.index("--") > argv.index("-p")
    captured = {}

    class Spawn:
        def __getitem__(self, args):
            captured["argv"] = list(args)
            return self

        def popen(self, **kwargs):
            return None

    machine = _Ssh.__new__(_Ssh)  # no connection: only the argv its popen builds
    machine._fqhost, machine._ssh_command = "root@node1", Spawn()
    machine.popen(["true"], ["-T"])
    argv = captured["argv"]
    assert argv[argv.index("--") + 1] == "root@node1" and argv.index("-T") < argv.index("--")


# -- every --via spelling: what it becomes, or the one line that refuses it --------------------------------

FORM = "(write ssh://[USER@]HOST[:PORT])"


def refusal(func, *args, code=2) -> str:
    from vethctl.errors import VethctlError

    with pytest.raises(VethctlError) as exc:
        func(*args)
    assert exc.value.exit_code == code
    return str(exc.value)


def test_a_port_of_0_is_refused_not_dropped():
    """ssh://node1:0 was accepted with port 0, which is falsy: `-p` was left out and ssh connected to 22."""
    assert refusal(parse_ssh, "ssh://node1:0") == f"--via 'ssh://node1:0': port 0 is not a port {FORM}"
