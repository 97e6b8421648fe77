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


@pytest.mark.parametrize(
    "url,line",
    [
        ("ssh://node1:65536", f"--via 'ssh://node1:65536': Port out of range 0-65535 {FORM}"),
        ("ssh://node1:x", f"--via 'ssh://node1:x': Port could not be cast to integer value as 'x' {FORM}"),
        ("ssh://node1:-1", f"--via 'ssh://node1:-1': Port could not be cast to integer value as '-1' {FORM}"),
        ("ssh://[2001:db8::1", f"--via 'ssh://[2001:db8::1': Invalid IPv6 URL {FORM}"),
        ("ssh://root@node1\n", f"--via 'ssh://root@node1\\n' holds control characters {FORM}"),
        ("ssh://", f"--via 'ssh://' names no host {FORM}"),
        ("ssh://root@", f"--via 'ssh://root@' names no host {FORM}"),
        ("ssh://root@:22", f"--via 'ssh://root@:22' names no host {FORM}"),
        ("ssh://node1/srv", f"--via 'ssh://node1/srv' names no host {FORM}"),
        ("ssh:///node1", f"--via 'ssh:///node1' names no host {FORM}"),
        ("sftp://node1", f"--via 'sftp://node1' names no host {FORM}"),
        (
            "ssh://root@node1?x=1",
            f"--via 'ssh://root@node1?x=1': only a user, a host and a port go in an ssh URL {FORM}",
        ),
        (
            "ssh://node1#top",
            f"--via 'ssh://node1#top': only a user, a host and a port go in an ssh URL {FORM}",
        ),
        (
            "ssh://root:pw@node1",
            f"--via 'ssh://root:pw@node1': only a user, a host and a port go in an ssh URL {FORM}",
        ),
        (
            "ssh://root:@node1",  # an empty password is still a password field
            f"--via 'ssh://root:@node1': only a user, a host and a port go in an ssh URL {FORM}",
        ),
        (
            "ssh://@node1",
            "--via 'ssh://@node1': '' is not a user name"
            " (letters, digits, '.', '_' or '-', not starting with '-' or a digit)",
        ),
        (
            "ssh://-l@node1",
            "--via 'ssh://-l@node1': '-l' is not a user name"
            " (letters, digits, '.', '_' or '-', not starting with '-' or a digit)",
        ),
        (
            "ssh://root@-oProxyCommand=x",
            "--via 'ssh://root@-oProxyCommand=x': '-oproxycommand=x' is neither a host name nor an IP address"
            " (a DNS name (letters, digits, '-', '.') or an address, IPv6 in brackets)",
        ),
        (
            "ssh://root@[fe80::1%25eth0;x]",
            "--via 'fe80::1%25eth0;x': the scope id '25eth0;x' is not an interface name or number"
            " (write it as fe80::1%eth0 (letters, digits, '_', '.', '-'))",
        ),
    ],
)
def test_each_refused_ssh_url_gets_its_own_line(url, line):
    assert refusal(parse_ssh, url) == line


def host_refusal(host: str) -> str:
    return (
        f"--via 'ssh://{host}': {host.lower()!r} is neither a host name nor an IP address"
        " (a DNS name (letters, digits, '-', '.') or an address, IPv6 in brackets)"
    )


LABEL63 = "a" * 63


@pytest.mark.parametrize(
    "host",
    [
        "-node1",
        "node1-",
        "node-.example",
        "node1..example",
        ".node1",
        "node1..",
        "no_de$",
        "a" * 64,  # a label is at most 63 characters
        ".".join([LABEL63] * 3 + ["a" * 62]),  # 254 characters: a name is at most 253
        "x" + "." + LABEL63 + "." + LABEL63 + "." + LABEL63 + "." + "a" * 61 + "..",
    ],
)
def test_host_names_dns_would_not_take_are_refused(host):
    assert refusal(parse_ssh, f"ssh://{host}") == host_refusal(host)


@pytest.mark.parametrize(
    "host",
    [
        "a",
        "7",
        "node_1",
        "node1.",  # fully qualified
        "node-1.",
        LABEL63,
        LABEL63 + ".example",
        ".".join([LABEL63] * 3 + ["a" * 61]),  # 253 characters
        ".".join([LABEL63] * 3 + ["a" * 61]) + ".",  # and its trailing dot
        "10.0.0.7",
        "[2001:db8::1]",
        "[fe80::1%25eth0]",
    ],
)
def test_host_names_at_the_bounds_are_accepted(host):
    via = parse_ssh(f"ssh://ops@{host}:2222")
    assert (via.user, via.host, via.port) == ("ops", host.strip("[]").lower(), 2222)
    assert via.label == f"ssh://ops@{host.lower()}:2222"


def test_the_label_of_an_ipv6_host_keeps_its_brackets():
    """The label names the host in "command failed ... on ssh://..." lines: ssh://ops@2001:db8::1:2222 read as
    port 1:2222 of 2001:db8:: or as an address without a port."""
    assert parse_ssh("ssh://ops@[2001:db8::1]:2222").label == "ssh://ops@[2001:db8::1]:2222"
    assert parse_ssh("ssh://[fe80::1%25eth0]").label == "ssh://[fe80::1%25eth0]"


@pytest.mark.parametrize(
    "url,kept",
    [
        ("ssh://root@node1/", "ssh://root@node1"),
        ("ssh://ops@BUILDBOX/", "ssh://ops@BUILDBOX"),
        ("ssh://ops@BUILDBOX:22", "ssh://ops@BUILDBOX:22"),
        ("ssh://node1:65535", "ssh://node1:65535"),
    ],
)
def test_the_url_is_kept_as_written_without_its_trailing_slash(url, kept):
    assert parse_ssh(url).url == kept


def test_every_via_spelling_names_its_node(monkeypatch):
    from vethctl.model import KubectlDebug, Local, Netns, Node, Ssh
    from vethctl.resolve.via import parse_via

    asked = []
    monkeypatch.setattr(
        "vethctl.resolve.via.os.path.exists", lambda path: asked.append(path) or path == "/var/run/netns/lab1"
    )
    assert parse_via(None, False) == (Node(), False)
    assert parse_via("", True) == (Node(sudo=True), False)
    assert parse_via("local", True) == (Node(sudo=True, machine=Local()), False)
    assert parse_via("netns:lab1", True) == (Node(netns=Netns.named("lab1"), sudo=True), True)
    assert asked == ["/var/run/netns/lab1"]
    assert parse_via("ssh://root@node1:2222", True) == (
        Node(sudo=True, machine=Ssh("ssh://root@node1:2222", "root", "node1", 2222)),
        False,
    )
    assert parse_via("kubectl-debug", True) == (Node(sudo=True, machine=KubectlDebug()), False)


@pytest.mark.parametrize(
    "via,line,code",
    [
        ("netns:", "--via 'netns:' names no namespace (write --via netns:NAME)", 2),
        ("netns:a/b", "--via 'netns:a/b' names no namespace (write --via netns:NAME)", 2),
        ("netns:nope", "--via netns:nope: no network namespace named 'nope' (`ip netns list`)", 3),
        ("ssh://node1:0", f"--via 'ssh://node1:0': port 0 is not a port {FORM}", 2),
        ("ssh:node1", None, 2),
        ("netns", None, 2),
        ("Local", None, 2),
        ("kubectl-debug://node1", None, 2),
        ("kubectl-debug:", None, 2),
        ("docker://node1", None, 2),
    ],
)
def test_every_refused_via_spelling_is_one_line(monkeypatch, via, line, code):
    from vethctl.resolve.via import parse_via

    monkeypatch.setattr("vethctl.resolve.via.os.path.exists", lambda path: False)
    got = refusal(parse_via, via, False, code=code)
    assert got == (
        line
        or f"--via {via!r} is not understood (use local, netns:NAME, ssh://[USER@]HOST[:PORT] or kubectl-debug)"
    )


def test_node_map():
    from vethctl.model import Node, Ssh
    from vethctl.resolve.via import parse_node_map

    assert parse_node_map(()) == {}
    assert parse_node_map(("192.0.2.12=ssh://root@node2", "2001:db8::0012=ssh://node3:2222")) == {
        "192.0.2.12": Node(machine=Ssh("ssh://root@node2", "root", "node2", None)),
        "2001:db8::12": Node(machine=Ssh("ssh://node3:2222", None, "node3", 2222)),
    }
    assert (
        refusal(parse_node_map, ("192.0.2.12",))
        == "--node '192.0.2.12' is not ADDR=ssh://HOST (e.g. --node 192.0.2.12=ssh://root@node2)"
    )
    assert (
        refusal(parse_node_map, ("node2=ssh://node2",))
        == "--node 'node2' is not an IP address (e.g. 203.0.113.101)"
    )
    assert (
        refusal(parse_node_map, ("192.0.2.12=ssh://root@node2?x=1",))
        == f"--via 'ssh://root@node2?x=1': only a user, a host and a port go in an ssh URL {FORM}"
    )
