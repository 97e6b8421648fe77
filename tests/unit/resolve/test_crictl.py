"""resolve/crictl.py without a runtime: argv, the recorded inspect/inspectp outputs, the error mapping."""

from __future__ import annotations

import json

import pytest

from tests.support.executors import local_executor
from tests.support.fakes import FakeExecutor, Res
from tests.support.paths import FIXTURES
from vethctl.commands import crictl as ccmd
from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound
from vethctl.parsers import crictl
from vethctl.parsers.crictl import ContainerInfo, SandboxInfo, parse_inspect, parse_inspectp
from vethctl.resolve.crictl import get_container

FIX = FIXTURES / "crictl"
CONTAINER = "7d6ad449ae76b3166d44ccb50db26fca776353225381820a16dbad3dbbe5861b"
SANDBOX = "cb07c78e242382171ac035d9b888454f71bb393e788f7feaa7ee13d4ead5cb34"


def text(name: str) -> str:
    return (FIX / name).read_text()


def without_netns(doc: str) -> str:
    """The container's inspect with no network path in its runtime spec (as when the runtime leaves it to the
    sandbox): derived from the real one, to exercise the inspectp fallback."""
    obj = json.loads(doc)
    nss = obj["info"]["runtimeSpec"]["linux"]["namespaces"]
    obj["info"]["runtimeSpec"]["linux"]["namespaces"] = [n for n in nss if n["type"] != "network"]
    return json.dumps(obj)


def test_argv():
    assert ccmd.inspect_argv("7d6ad449ae76b") == ("crictl", "inspect", "7d6ad449ae76b")
    assert ccmd.inspectp_argv(SANDBOX) == ("crictl", "inspectp", SANDBOX)


@pytest.mark.parametrize("bad", ["", "-o", "a b", "../x", "x;rm", "id\n", "x" * 129])
def test_bad_ids_are_bad_input(bad):
    with pytest.raises(BadInput):
        ccmd.inspect_argv(bad)
    with pytest.raises(BadInput):
        get_container(bad, object())


def test_parse_inspect_containerd():
    assert parse_inspect(text("inspect-containerd.json")) == ContainerInfo(
        id=CONTAINER,
        pod_sandbox_id=SANDBOX,
        pid=106728,
        netns_path="/proc/105758/ns/net",
        pod_name="nginx",
        pod_namespace="default",
        state="CONTAINER_RUNNING",
        name="nginx",
    )


def test_parse_inspectp_containerd():
    assert parse_inspectp(text("inspectp-containerd.json")) == SandboxInfo(
        id="fce6f52914c45673e3b34d9ede950fc24951c31380818f3e256e93eb0fe1f410",
        pid=6075,
        netns_path="/var/run/netns/cni-6c2f3f24-c065-fe4d-c5d6-849f28acc7de",
        pod_name="red-deployment-5bc7b56845-cgt7w",
        pod_namespace="test-ns-fc5ef8f4",
        state="SANDBOX_READY",
        ip="10.244.0.9",
        network="POD",
    )


def test_newer_crictl_prints_a_list():
    assert parse_inspect("[" + text("inspect-containerd.json") + "]").id == CONTAINER


def test_the_sandbox_id_falls_back_to_the_spec_annotation():
    obj = json.loads(text("inspect-containerd.json"))
    del obj["info"]["sandboxID"]
    assert parse_inspect(json.dumps(obj)).pod_sandbox_id == SANDBOX


def test_a_stopped_container_has_no_pid():
    obj = json.loads(text("inspect-containerd.json"))
    obj["info"]["pid"] = 0
    obj["status"]["state"] = "CONTAINER_EXITED"
    info = parse_inspect(json.dumps(obj))
    assert (info.pid, info.state) == (None, "CONTAINER_EXITED")


@pytest.mark.parametrize("doc", ["", "FATA[0000] no such thing", "{}", '{"status": {}}', "[]"])
def test_not_crictl_output_is_bad_input(doc):
    with pytest.raises(BadInput) as err:
        parse_inspect(doc)
    assert "\n" not in str(err.value)


# -- crictl's failures ------------------------------------------------------------------------------

ARGV = ("crictl", "inspect", "558ac990df54e")


@pytest.mark.parametrize(
    "stderr",
    [
        # CRI-O (cri-o/cri-o#4194)
        'E0915 09:18:06.277998   62846 remote_runtime.go:295] ContainerStatus "558ac990df54e" from runtime service '
        'failed: rpc error: code = NotFound desc = could not find container "558ac990df54e": specified container not '
        "found: 558ac990df54e26dba04ccb2ce7cbd091a739878a8075ebbed12cfedb033dac0\n"
        'FATA[0000] rpc error: code = NotFound desc = could not find container "558ac990df54e": specified container '
        "not found: 558ac990df54e26dba04ccb2ce7cbd091a739878a8075ebbed12cfedb033dac0 \n",
        # containerd (see SOURCES.md)
        'FATA[0000] getting the status of the container "558ac990df54e": rpc error: code = NotFound desc = an error '
        'occurred when try to find container "558ac990df54e": not found\n',
        # older crictl on CRI-O (see SOURCES.md)
        'FATA[0000] Getting the status of the container "558ac990df54e" failed: rpc error: code = NotFound desc = could '
        'not find container "558ac990df54e": container with ID starting with 558ac990df54e not found: ID does not exist\n',
    ],
)
def test_not_found(stderr):
    e = crictl.crictl_error(stderr, ARGV, 1, ident="558ac990df54e", shown=" ".join(ARGV))
    assert isinstance(e, TargetNotFound) and e.exit_code == 3
    assert (
        e.message == "no container 558ac990df54e in this node's container runtime"
        and "crictl ps -a" in e.hint
    )


@pytest.mark.parametrize(
    "stderr, where",
    [
        (
            'FATA[0000] listing containers: rpc error: code = Unavailable desc = connection error: desc = "transport: '
            'Error while dialing dial unix /var/run/dockershim.sock: connect: no such file or directory"\n',
            " at /var/run/dockershim.sock",
        ),  # kubernetes-sigs/cri-tools#1089
        (
            "FATA[0002] connect: connect endpoint 'unix:///var/run/dockershim.sock', make sure you are running as root "
            "and the endpoint has been started: context deadline exceeded\n",
            " at unix:///var/run/dockershim.sock",
        ),  # kubernetes-sigs/cri-tools#845
        (
            'time="2023-01-09T12:57:28Z" level=fatal msg="validate service connection: CRI v1 runtime API is not '
            'implemented for endpoint \\"unix:///run/containerd/containerd.sock\\": rpc error: code = Unimplemented desc = '
            'unknown service runtime.v1.RuntimeService"\n',
            " at unix:///run/containerd/containerd.sock",
        ),  # ondat/discoblocks#105
    ],
)
def test_runtime_socket_unreachable(stderr, where):
    e = crictl.crictl_error(stderr, ARGV, 1, ident="558ac990df54e", shown=" ".join(ARGV))
    assert isinstance(e, MissingPrerequisite) and e.exit_code == 4
    assert e.message == f"crictl cannot reach the container runtime's CRI socket{where}"
    assert "/etc/crictl.yaml" in e.hint and "\n" not in str(e)


def test_anything_else_is_a_failed_command():
    e = crictl.crictl_error("FATA[0000] something new\n", ARGV, 1, ident="x", shown=" ".join(ARGV))
    assert isinstance(e, CommandFailed) and "something new" in str(e)


# -- get_container with a stand-in executor ---------------------------------------------------------


def test_container_with_its_netns_needs_one_command():
    ex = FakeExecutor([Res(0, text("inspect-containerd.json"))])
    info = get_container("7d6ad449ae76b", ex)
    assert info.netns_path == "/proc/105758/ns/net" and info.pid == 106728
    assert [(c.argv, c.netns) for c in ex.calls] == [(("crictl", "inspect", "7d6ad449ae76b"), None)]


def test_container_without_netns_asks_its_sandbox():
    ex = FakeExecutor(
        [Res(0, without_netns(text("inspect-containerd.json"))), Res(0, text("inspectp-containerd.json"))]
    )
    info = get_container("7d6ad449ae76b", ex)
    assert [(c.argv, c.netns) for c in ex.calls] == [
        (("crictl", "inspect", "7d6ad449ae76b"), None),
        (("crictl", "inspectp", SANDBOX), None),
    ]
    assert info.netns_path == "/var/run/netns/cni-6c2f3f24-c065-fe4d-c5d6-849f28acc7de"
    assert (info.id, info.pid, info.pod_name, info.pod_namespace) == (CONTAINER, 106728, "nginx", "default")


def test_crictl_missing():
    ex = FakeExecutor(
        [MissingPrerequisite("crictl is not installed or not on PATH", hint="apt-get install crictl")]
    )
    with pytest.raises(MissingPrerequisite) as e:
        get_container("7d6ad449ae76b", ex)
    assert e.value.message == "crictl is not installed"
    assert (
        "https://github.com/kubernetes-sigs/cri-tools" in e.value.hint and "cri-tools package" in e.value.hint
    )


def test_crictl_missing_through_the_real_executor(tmp_path, monkeypatch):
    from plumbum import local

    monkeypatch.setitem(local.env, "PATH", str(tmp_path))
    with pytest.raises(MissingPrerequisite, match="crictl is not installed"):
        get_container("7d6ad449ae76b", local_executor())


def test_container_not_found_through_get_container():
    stderr = (
        'FATA[0000] getting the status of the container "7d6ad449ae76b": rpc error: code = NotFound desc = '
        'an error occurred when try to find container "7d6ad449ae76b": not found\n'
    )
    with pytest.raises(TargetNotFound, match="no container 7d6ad449ae76b"):
        get_container("7d6ad449ae76b", FakeExecutor([Res(1, "", stderr)]))


def test_sandbox_gone_is_not_found_too():
    stderr = (
        "FATA[0000] getting the pod sandbox status: rpc error: code = NotFound desc = an error occurred\n"
    )
    ex = FakeExecutor([Res(0, without_netns(text("inspect-containerd.json"))), Res(1, "", stderr)])
    with pytest.raises(TargetNotFound, match=f"no pod sandbox {SANDBOX}"):
        get_container("7d6ad449ae76b", ex)


def test_an_address_held_twice_is_the_sandbox_s_when_crictl_says_so():
    """pod/ with its address in two namespaces: the one the runtime says is the pod's sandbox is chosen."""
    from vethctl.model import Netns
    from vethctl.resolve.byip import Found, HeldTwice
    from vethctl.resolve.locate import sandbox_holder

    info = parse_inspect(text("inspect-containerd.json"))  # netns /proc/105758/ns/net
    sandbox, thief = Netns.named("cni-sandbox"), Netns.named("cni-thief")
    held = HeldTwice("198.18.0.5", [Found(thief, None, "eth0"), Found(sandbox, None, "eth0")])
    inodes = [
        ("/var/run/netns/cni-thief", "4:111"),
        ("/var/run/netns/cni-sandbox", "4:222"),
        ("/proc/105758/ns/net", "4:222"),
    ]
    chosen = sandbox_holder(held, info, inodes)
    assert chosen is not None and chosen.netns == sandbox
    assert "crictl says the pod's sandbox is cni-sandbox" in chosen.path[-1]
    assert sandbox_holder(held, info, inodes[:2]) is None  # the runtime's namespace is neither: refused


def test_a_host_network_sandbox_says_network_node():
    assert parse_inspectp(text("inspectp-containerd.json")).network == "POD"
    sandbox = parse_inspectp(text("inspectp-hostnetwork.json"))
    assert (sandbox.network, sandbox.netns_path, sandbox.ip) == ("NODE", None, None)


def test_a_host_network_container_is_refused_like_a_host_network_pod():
    """Its spec names no network namespace and its process lives in the node's own: `container/` would
    otherwise attach to the node itself, silently."""
    ex = FakeExecutor(
        [Res(0, without_netns(text("inspect-containerd.json"))), Res(0, text("inspectp-hostnetwork.json"))]
    )
    with pytest.raises(BadInput) as err:
        get_container(CONTAINER, ex)
    assert "hostNetwork" in str(err.value) and "network NODE" in str(err.value)
    assert "pod test-ns-fc5ef8f4/red-deployment-5bc7b56845-cgt7w" in str(err.value)
