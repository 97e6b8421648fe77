"""parsers/crictl.py: `crictl inspect`/`inspectp` read (recorded containerd output and its variants), and
the errors a user reads. get_container with an executor is tested in tests/unit/resolve/test_crictl.py."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import FIXTURES
from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound
from vethctl.parsers.crictl import RUNTIME_HINT, crictl_error, parse_inspect, parse_inspectp

FIX = FIXTURES / "crictl"
CONTAINER = "7d6ad449ae76b3166d44ccb50db26fca776353225381820a16dbad3dbbe5861b"
SANDBOX = "cb07c78e242382171ac035d9b888454f71bb393e788f7feaa7ee13d4ead5cb34"


def doc(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def dump(obj: dict) -> str:
    return json.dumps(obj, indent=2)


def bad_input(fn, text) -> BadInput:
    with pytest.raises(BadInput) as err:
        fn(text)
    assert "\n" not in str(err.value) and err.value.exit_code == 2
    return err.value


# -- what is not crictl's answer -----------------------------------------------------------------


@pytest.mark.parametrize("fn, command", [(parse_inspect, "inspect"), (parse_inspectp, "inspectp")])
def test_nothing_printed(fn, command):
    e = bad_input(fn, None)
    assert e.message == f"crictl {command} printed nothing"
    assert e.hint == f"run `crictl {command} ID` to see why"


@pytest.mark.parametrize("fn, command", [(parse_inspect, "inspect"), (parse_inspectp, "inspectp")])
def test_not_json_names_the_line(fn, command):
    e = bad_input(fn, '{\n  "status": {\n    "id": 7d6ad\n')
    assert e.message == f"crictl {command} did not print JSON (Expecting ',' delimiter at line 3)"
    assert e.hint == f"run `crictl {command} -o json ID` to see what it prints"


@pytest.mark.parametrize("fn, command", [(parse_inspect, "inspect"), (parse_inspectp, "inspectp")])
def test_json_without_status_id(fn, command):
    e = bad_input(fn, '{"status": {"id": ""}, "info": {}}')
    assert e.message == f"crictl {command} printed JSON without status.id"
    assert e.hint == f"is this `crictl {command}` output?"


def test_control_characters_inside_strings_are_read():
    obj = doc("inspect-containerd.json")
    obj["status"]["message"] = "PLACEHOLDER"
    text = dump(obj).replace("PLACEHOLDER", "exec failed:\tno such file\n")
    assert parse_inspect(text).id == CONTAINER
    obj = doc("inspectp-containerd.json")
    obj["status"]["annotations"]["note"] = "PLACEHOLDER"
    assert parse_inspectp(dump(obj).replace("PLACEHOLDER", "a\tb")).ip == "10.244.0.9"


# -- inspect -------------------------------------------------------------------------------------


def test_pid_1_is_a_pid():
    """A container of a runtime that runs in its own pid namespace (kind's node: crictl inside the node
    container) may well see its first process as pid 1; only 0 and below mean "no process"."""
    obj = doc("inspect-containerd.json")
    obj["info"]["pid"] = 1
    assert parse_inspect(dump(obj)).pid == 1


@pytest.mark.parametrize("pid", [0, -1, True, "106728", None])
def test_what_is_not_a_pid(pid):
    obj = doc("inspect-containerd.json")
    obj["info"]["pid"] = pid
    assert parse_inspect(dump(obj)).pid is None


def test_the_sandbox_id_is_infos_first():
    obj = doc("inspect-containerd.json")
    obj["info"]["sandboxID"] = SANDBOX
    del obj["info"]["runtimeSpec"]["annotations"]["io.kubernetes.cri.sandbox-id"]
    assert parse_inspect(dump(obj)).pod_sandbox_id == SANDBOX


def test_the_sandbox_id_from_a_label():
    """dockershim (cri-dockerd) labels a container with its sandbox's id."""
    obj = doc("inspect-containerd.json")
    del obj["info"]["sandboxID"]
    del obj["info"]["runtimeSpec"]["annotations"]["io.kubernetes.cri.sandbox-id"]
    obj["status"]["labels"]["io.kubernetes.sandbox.id"] = SANDBOX
    assert parse_inspect(dump(obj)).pod_sandbox_id == SANDBOX


def test_the_sandbox_id_from_cri_o_s_annotation():
    obj = doc("inspect-containerd.json")
    del obj["info"]["sandboxID"]
    annotations = obj["info"]["runtimeSpec"]["annotations"]
    del annotations["io.kubernetes.cri.sandbox-id"]
    annotations["io.kubernetes.cri-o.SandboxID"] = SANDBOX
    assert parse_inspect(dump(obj)).pod_sandbox_id == SANDBOX
    del annotations["io.kubernetes.cri-o.SandboxID"]
    assert parse_inspect(dump(obj)).pod_sandbox_id is None


def test_labels_from_the_container_config_when_status_has_none():
    obj = doc("inspect-containerd.json")
    del obj["status"]["labels"]
    info = parse_inspect(dump(obj))
    assert (info.pod_name, info.pod_namespace) == ("nginx", "default")


def test_status_labels_when_the_config_has_none_and_status_wins():
    obj = doc("inspect-containerd.json")
    del obj["info"]["config"]
    info = parse_inspect(dump(obj))
    assert (info.pod_name, info.pod_namespace) == ("nginx", "default")
    obj = doc("inspect-containerd.json")
    obj["status"]["labels"]["io.kubernetes.pod.namespace"] = "shop"
    assert parse_inspect(dump(obj)).pod_namespace == "shop"


def test_no_labels_anywhere():
    obj = doc("inspect-containerd.json")
    del obj["status"]["labels"], obj["info"]["config"]["labels"]
    info = parse_inspect(dump(obj))
    assert (info.pod_name, info.pod_namespace, info.name) == (None, None, "nginx")


def test_a_container_without_a_state():
    obj = doc("inspect-containerd.json")
    del obj["status"]["state"]
    assert parse_inspect(dump(obj)).state == "CONTAINER_UNKNOWN"


# -- inspectp ------------------------------------------------------------------------------------


def test_the_sandbox_without_labels_is_named_by_its_metadata():
    obj = doc("inspectp-containerd.json")
    del obj["status"]["labels"], obj["info"]["config"]["labels"]
    sandbox = parse_inspectp(dump(obj))
    assert (sandbox.pod_name, sandbox.pod_namespace) == (
        "red-deployment-5bc7b56845-cgt7w",
        "test-ns-fc5ef8f4",
    )
    del obj["status"]["metadata"]
    sandbox = parse_inspectp(dump(obj))
    assert (sandbox.pod_name, sandbox.pod_namespace) == (None, None)


def test_labels_win_over_the_sandbox_metadata():
    obj = doc("inspectp-containerd.json")
    obj["status"]["metadata"]["name"] = "red-deployment-5bc7b56845-xxxxx"
    obj["status"]["metadata"]["namespace"] = "other"
    sandbox = parse_inspectp(dump(obj))
    assert (sandbox.pod_name, sandbox.pod_namespace) == (
        "red-deployment-5bc7b56845-cgt7w",
        "test-ns-fc5ef8f4",
    )


def test_a_sandbox_without_a_state():
    obj = doc("inspectp-containerd.json")
    del obj["status"]["state"]
    assert parse_inspectp(dump(obj)).state == "SANDBOX_UNKNOWN"


def test_containerd_before_1_2_put_the_netns_in_info():
    obj = doc("inspectp-containerd.json")
    path = "/var/run/netns/cni-6c2f3f24-c065-fe4d-c5d6-849f28acc7de"
    del obj["info"]["runtimeSpec"]
    obj["info"]["netNamespace"] = path
    assert parse_inspectp(dump(obj)).netns_path == path
    obj["info"]["netNamespace"] = ""
    assert parse_inspectp(dump(obj)).netns_path is None


@pytest.mark.parametrize(
    "linux",
    [None, "POD", {"namespaces": None}, {"namespaces": {"options": None}}, {"namespaces": {"options": {}}}],
)
def test_a_sandbox_without_a_network_mode(linux):
    obj = doc("inspectp-containerd.json")
    obj["status"]["linux"] = linux
    assert parse_inspectp(dump(obj)).network is None


@pytest.mark.parametrize("mode", ["", 1])
def test_a_network_mode_that_is_not_a_name_counts_as_absent(mode):
    obj = doc("inspectp-containerd.json")
    obj["status"]["linux"]["namespaces"]["options"]["network"] = mode
    assert parse_inspectp(dump(obj)).network is None


# -- crictl's errors -----------------------------------------------------------------------------

ARGV = ("crictl", "inspect", "558ac990df54e")
SHOWN = "crictl inspect 558ac990df54e"


def cerr(stderr: str, what: str = "container"):
    e = crictl_error(stderr, ARGV, 1, what=what, ident="558ac990df54e", shown=SHOWN)
    assert "\n" not in str(e)
    return e


@pytest.mark.parametrize(
    "stderr",
    [
        # the last fatal line decides, not what follows it
        'FATA[0000] getting the status of the container "558ac990df54e": container "558ac990df54e" not found\n'
        "crictl exited with status 1\n",
        'time="2024-04-25T10:00:21Z" level=fatal msg="getting the status of the container \\"558ac990df54e\\": '
        'container \\"558ac990df54e\\" not found"\n'
        "crictl exited with status 1\n",
        'ERRO[0000] getting the status of the container "558ac990df54e": container "558ac990df54e" not found\n'
        "crictl exited with status 1\n",
        # no fatal line at all: the last line decides
        "Error: No such container: 558ac990df54e\n",
    ],
)
def test_not_found_without_the_grpc_code(stderr):
    e = cerr(stderr)
    assert isinstance(e, TargetNotFound)
    assert e.message == "no container 558ac990df54e in this node's container runtime"
    assert e.hint == "`crictl ps -a` lists them; the id must be of a container on this node"


def test_a_line_saying_not_found_before_the_fatal_one_does_not_decide():
    e = cerr(
        'ERRO[0000] image "docker.io/library/nginx:latest" not found\n'
        'time="2024-04-25T10:00:21Z" level=warning msg="container 558ac990df54e is being removed"\n'
        'FATA[0000] getting the status of the container "558ac990df54e": context canceled\n'
    )
    assert isinstance(e, CommandFailed)


def test_a_sandbox_that_is_not_there_is_listed_by_crictl_pods():
    e = cerr(
        'FATA[0000] getting the pod sandbox status for "558ac990df54e": rpc error: code = NotFound desc = an error '
        'occurred when try to find sandbox "558ac990df54e": not found\n',
        what="pod sandbox",
    )
    assert isinstance(e, TargetNotFound)
    assert e.message == "no pod sandbox 558ac990df54e in this node's container runtime"
    assert e.hint == "`crictl pods` lists them; the id must be of a pod sandbox on this node"


def test_unreachable_runtime_without_a_socket_path():
    e = cerr("FATA[0010] failed to connect: failed to connect, make sure you are running as root\n")
    assert isinstance(e, MissingPrerequisite)
    assert e.message == "crictl cannot reach the container runtime's CRI socket"
    assert e.hint == RUNTIME_HINT


def test_anything_else_is_the_failed_command_with_its_exit_code():
    e = cerr("FATA[0000] something new\n")
    assert isinstance(e, CommandFailed) and e.rc == 1
    assert e.message == f"command failed (exit 1) on the node: {SHOWN}: FATA[0000] something new"
