"""parsers/kube.py: what kubectl prints, read (recorded pods and lists, the errors a user reads).

The resolve-level tests (argv, get_pod with an executor) are in tests/unit/resolve/test_kube.py; here the
parser's own edges: every field of PodInfo, every message and hint of the errors."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import FIXTURES
from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound
from vethctl.parsers import kube as kparse
from vethctl.parsers.kube import (
    REACH_HINT,
    node_addresses,
    note,
    parse_debug_created,
    parse_pod,
    parse_pod_list,
    refusal,
)

FIX = FIXTURES / "kubectl"


def pod_obj(name: str) -> dict:
    return json.loads((FIX / name).read_text())


def pod_text(obj: dict) -> str:
    return json.dumps(obj, indent=4)


def kubectl_list(*names: str) -> str:
    """What `kubectl get pods -o json` prints: a List of the Pods (kubectl hides metadata.managedFields)."""
    items = []
    for name in names:
        obj = pod_obj(name)
        obj["metadata"].pop("managedFields", None)
        items.append(obj)
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    return json.dumps(doc, indent=4)


def bad_input(fn, *args) -> BadInput:
    with pytest.raises(BadInput) as err:
        fn(*args)
    assert "\n" not in str(err.value) and err.value.exit_code == 2
    return err.value


# -- parse_pod_list ----------------------------------------------------------------------------------


def test_a_list_of_pods_parses_each_pod_in_order():
    pods = parse_pod_list(kubectl_list("pod-running.json", "pod-pending.json", "pod-dual-stack.json"))
    assert [(p.ref, p.phase, p.pod_ip) for p in pods] == [
        ("default/hello-world", "Running", "10.0.15.103"),
        ("default/hello-world", "Pending", None),
        ("default/sleep", "Running", "10.244.0.8"),
    ]
    assert pods[0] == parse_pod(pod_text(pod_obj("pod-running.json")))


def test_the_apis_own_pod_list_kind_is_a_list_too():
    doc = json.loads(kubectl_list("pod-running.json"))
    doc["kind"] = "PodList"
    assert [p.name for p in parse_pod_list(json.dumps(doc))] == ["hello-world"]


def test_an_empty_list_and_a_list_without_items_have_no_pods():
    assert parse_pod_list('{"apiVersion": "v1", "items": [], "kind": "List"}') == []
    assert parse_pod_list('{"apiVersion": "v1", "kind": "List"}') == []


def test_a_list_with_control_characters_in_a_string_parses():
    """kubectl's JSON may carry a raw tab or newline inside a string (an annotation): not an error."""
    doc = kubectl_list("pod-running.json").replace('"kind": "List"', '"kind": "List", "x": "a\tb\nc"')
    assert [p.name for p in parse_pod_list(doc)] == ["hello-world"]


def test_a_list_that_is_not_json_says_so():
    e = bad_input(parse_pod_list, "error: You must be logged in to the server (Unauthorized)")
    assert e.message == "kubectl did not print a JSON document (Expecting value)"
    assert e.hint == "run with -v"


def test_one_pod_where_a_list_is_expected_is_bad_input():
    e = bad_input(parse_pod_list, pod_text(pod_obj("pod-running.json")))
    assert e.message == "kubectl printed a Pod, not a list"
    assert e.hint == "`kubectl get pods -l SELECTOR -o json` prints a List"


def test_a_json_array_where_a_list_is_expected_is_bad_input():
    e = bad_input(parse_pod_list, "[]")
    assert e.message == "kubectl printed a non-object, not a list"


def test_a_list_whose_items_are_not_a_list():
    e = bad_input(parse_pod_list, '{"kind": "List", "items": {"a": 1}}')
    assert e.message == "kubectl printed a List whose items are not a list"
    assert e.hint == "is this kubectl's own output?"


@pytest.mark.parametrize("item, index, typename", [("null", 0, "NoneType"), ('"web-0"', 0, "str")])
def test_a_list_item_that_is_not_an_object(item, index, typename):
    e = bad_input(parse_pod_list, f'{{"kind": "List", "items": [{item}]}}')
    assert e.message == f"kubectl printed a List whose item {index} is not a Pod object ({typename})"
    assert e.hint == "is this kubectl's own output? `kubectl get pods -l SELECTOR -o json` prints Pods"


# -- parse_pod: what is not a Pod ----------------------------------------------------------------


def test_nothing_printed_is_bad_input():
    e = bad_input(parse_pod, None)
    assert e.message == "kubectl printed nothing"
    assert e.hint == "run the command with -v to see what kubectl printed"


def test_a_pod_with_control_characters_in_a_string_parses():
    obj = pod_obj("pod-running.json")
    obj["metadata"]["annotations"] = {"note": "PLACEHOLDER"}
    doc = pod_text(obj).replace("PLACEHOLDER", "line one\nline\ttwo")
    assert parse_pod(doc).name == "hello-world"


def test_text_that_is_not_json_names_the_line():
    e = bad_input(parse_pod, '{\n  "kind": "Pod",\n  oops\n}')
    assert (
        e.message
        == "kubectl did not print a JSON document (Expecting property name enclosed in double quotes at line 3)"
    )
    assert e.hint == "run the command with -v to see what kubectl printed"


@pytest.mark.parametrize(
    "doc, says",
    [
        (
            '{"apiVersion": "v1", "metadata": {"name": "web-0"}}',
            "kubectl printed a document without a kind, not a Pod",
        ),
        ("[]", "kubectl printed a list, not a Pod"),
        ('{"kind": "Service", "metadata": {"name": "web"}}', "kubectl printed a Service, not a Pod"),
    ],
)
def test_anything_but_a_pod_names_what_it_is(doc, says):
    e = bad_input(parse_pod, doc)
    assert e.message == says
    assert e.hint == "`kubectl get pod NAME -o json` prints one Pod"


def test_a_pod_without_a_name():
    obj = pod_obj("pod-running.json")
    del obj["metadata"]["name"]
    e = bad_input(parse_pod, pod_text(obj))
    assert e.message == "kubectl printed a Pod without metadata.name"
    assert e.hint == "is this kubectl's own output?"


# -- parse_pod: the fields -----------------------------------------------------------------------


def test_pod_ip_falls_back_to_the_first_of_pod_ips():
    obj = pod_obj("pod-dual-stack.json")
    del obj["status"]["podIP"]
    pod = parse_pod(pod_text(obj))
    assert (pod.pod_ip, pod.pod_ips) == ("10.244.0.8", ("10.244.0.8", "fd00:10:244::8"))


def test_a_dual_stack_node_has_both_host_ips():
    obj = pod_obj("pod-running.json")
    obj["status"]["hostIPs"] = [{"ip": "192.168.1.20"}, {"ip": "2001:db8:1::20"}]
    assert parse_pod(pod_text(obj)).host_ips == ("192.168.1.20", "2001:db8:1::20")


def test_host_ip_alone_and_a_host_ip_missing_from_host_ips():
    obj = pod_obj("pod-running.json")
    del obj["status"]["hostIPs"]
    assert parse_pod(pod_text(obj)).host_ips == ("192.168.1.20",)
    obj["status"]["hostIPs"] = [{"ip": "2001:db8:1::20"}, {"ip": ""}, {}]
    assert parse_pod(pod_text(obj)).host_ips == ("192.168.1.20", "2001:db8:1::20")


def test_an_ephemeral_debug_container_is_one_of_the_pods_containers():
    """`kubectl debug -it hello-world --image=busybox` adds an ephemeral container to the running pod."""
    obj = pod_obj("pod-running.json")
    obj["status"]["ephemeralContainerStatuses"] = [
        {
            "name": "debugger-6vbbf",
            "state": {"running": {"startedAt": "2024-06-25T15:40:02Z"}},
            "lastState": {},
            "ready": False,
            "restartCount": 0,
            "image": "docker.io/library/busybox:latest",
            "imageID": "docker.io/library/busybox@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7",
            "containerID": "containerd://5f3d7c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
            "started": True,
        }
    ]
    pod = parse_pod(pod_text(obj))
    assert pod.container_ids == (
        "757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee",
        "5f3d7c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c",
    )
    assert pod.containers == ("hello-world",)  # spec.containers only


def test_a_container_still_waiting_does_not_hide_the_next_ones_id():
    obj = pod_obj("pod-running.json")
    running = obj["status"]["containerStatuses"][0]
    creating = {
        "name": "sidecar",
        "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {},
        "ready": False,
        "restartCount": 0,
        "image": "docker.io/library/busybox:latest",
        "imageID": "",
        "started": False,
    }
    obj["status"]["containerStatuses"] = [creating, running]
    pod = parse_pod(pod_text(obj))
    assert pod.container_ids == ("757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee",)
    assert pod.waiting == ("container sidecar: ContainerCreating",)


def test_a_container_named_twice_is_listed_once():
    obj = pod_obj("pod-running.json")
    obj["status"]["containerStatuses"] *= 2
    assert parse_pod(pod_text(obj)).container_ids == (
        "757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee",
    )


def test_a_container_id_without_a_runtime_prefix_is_kept_whole():
    obj = pod_obj("pod-running.json")
    obj["status"]["containerStatuses"][0]["containerID"] = "757c70c48a43"
    pod = parse_pod(pod_text(obj))
    assert (pod.container_ids, pod.runtime) == (("757c70c48a43",), None)


def test_docker_prefix_is_the_runtime():
    obj = pod_obj("pod-running.json")
    obj["status"]["containerStatuses"][0]["containerID"] = "docker://4ff22b4e3bb1"
    pod = parse_pod(pod_text(obj))
    assert (pod.container_ids, pod.runtime) == (("4ff22b4e3bb1",), "docker")


def test_absent_metadata_and_status_fields_take_their_defaults():
    """A Pod as a manifest has it (`kubectl create --dry-run=client -o json`): no namespace, uid, status."""
    obj = pod_obj("pod-running.json")
    for key in ("namespace", "uid"):
        del obj["metadata"][key]
    del obj["status"]
    obj["spec"]["containers"] = [{"image": "gcr.io/google-samples/hello-app:1.0"}]
    pod = parse_pod(pod_text(obj))
    assert (pod.namespace, pod.uid, pod.phase, pod.pod_ip, pod.host_ips) == (
        "default",
        "",
        "Unknown",
        None,
        (),
    )
    assert pod.containers == ("",)
    assert pod.ref == "default/hello-world"


@pytest.mark.parametrize("value", [7, ["c1-node1"], {"name": "c1-node1"}, True])
def test_a_scalar_field_of_the_wrong_type_counts_as_absent(value):
    obj = pod_obj("pod-running.json")
    obj["spec"]["nodeName"] = value
    obj["metadata"]["namespace"] = value
    obj["status"]["phase"] = value
    pod = parse_pod(pod_text(obj))
    assert (pod.node_name, pod.namespace, pod.phase) == (None, "default", "Unknown")


# -- why containers are waiting ------------------------------------------------------------------


def _waiting_pod(*statuses: dict) -> str:
    obj = pod_obj("pod-pending.json")
    obj["status"]["containerStatuses"] = list(statuses)
    return pod_text(obj)


def test_a_running_container_before_a_waiting_one_does_not_hide_it():
    pod = parse_pod(
        _waiting_pod(
            {"name": "app", "state": {"running": {"startedAt": "2024-06-25T15:19:23Z"}}, "restartCount": 0},
            {
                "name": "proxy",
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}},
                "restartCount": 0,
            },
        )
    )
    assert pod.waiting == ("container proxy: ImagePullBackOff",)


def test_one_restart_is_said():
    pod = parse_pod(
        _waiting_pod(
            {
                "name": "app",
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                "restartCount": 1,
            }
        )
    )
    assert pod.waiting == ("container app: CrashLoopBackOff (restarted 1 times, last exit 1)",)


def test_a_status_without_a_name_is_a_question_mark():
    pod = parse_pod(_waiting_pod({"state": {"waiting": {"reason": "CreateContainerConfigError"}}}))
    assert pod.waiting == ("container ?: CreateContainerConfigError",)


# -- refusals and notes --------------------------------------------------------------------------


def test_a_failed_pod_is_refused_as_finished():
    obj = pod_obj("pod-running.json")
    obj["status"]["phase"] = "Failed"
    assert refusal(parse_pod(pod_text(obj)), "c1-node1") == (
        "pod default/hello-world has finished (phase Failed): its network namespace is gone; target a running pod"
    )


def test_a_pending_pod_without_a_reason_and_with_two():
    obj = pod_obj("pod-pending.json")
    del obj["status"]["containerStatuses"]
    assert refusal(parse_pod(pod_text(obj)), "c1-node1") == (
        "pod default/hello-world is Pending on node c1-node1 and has no IP yet: its sandbox and network "
        "namespace are not made yet; wait until it has one (`kubectl get pod hello-world -n default -w`)"
    )
    two = parse_pod(
        _waiting_pod(
            {"name": "app", "state": {"waiting": {"reason": "ContainerCreating"}}},
            {"name": "proxy", "state": {"waiting": {"reason": "ContainerCreating"}}},
        )
    )
    assert "has no IP yet (container app: ContainerCreating; container proxy: ContainerCreating): its" in (
        refusal(two, "c1-node1")
    )


def test_another_node_when_this_nodes_name_is_not_known():
    assert "not on this node (unknown): run vethctl on c1-node1" in refusal(
        parse_pod(pod_text(pod_obj("pod-running.json"))), ""
    )


def test_the_note_of_a_pending_pod_with_an_ip_and_no_reason_or_two():
    obj = pod_obj("pod-pending-init-crashloop.json")
    del obj["status"]["initContainerStatuses"]
    assert note(parse_pod(pod_text(obj))) == (
        "pod default/hello-world is Pending, not Running; its IP 10.0.15.103 is set, so its sandbox and "
        "network namespace exist, and that is what vethctl attaches to"
    )
    obj["status"]["containerStatuses"] = [
        {"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "proxy", "state": {"waiting": {"reason": "ImagePullBackOff"}}},
    ]
    assert note(parse_pod(pod_text(obj))).startswith(
        "pod default/hello-world is Pending, not Running: container app: CrashLoopBackOff; "
        "container proxy: ImagePullBackOff; its IP"
    )


# -- kubectl debug -------------------------------------------------------------------------------


@pytest.mark.parametrize("out", ["", None, 'error: node "worker-9" not found\n'])
def test_kubectl_debug_that_created_nothing(out):
    e = bad_input(parse_debug_created, out)
    assert e.message == "kubectl debug did not say which pod it created"
    assert e.hint == "run `kubectl debug node/NODE` by hand"


# -- kubectl's errors ----------------------------------------------------------------------------

ARGV = ("kubectl", "get", "pod", "web-0", "-n", "shop", "-o", "json")
SHOWN = "kubectl get pod web-0 -n shop -o json"


def kerr(stderr: str, namespace: str | None = "shop", context: str | None = None):
    e = kparse.kubectl_error(stderr, ARGV, 1, name="web-0", namespace=namespace, context=context, shown=SHOWN)
    assert "\n" not in str(e), str(e)
    return e


def test_not_found_in_the_current_namespace_gives_no_n_flag():
    e = kerr('Error from server (NotFound): pods "web-0" not found\n', namespace=None)
    assert e.hint == (
        "`kubectl get pods` lists the pods there; `kubectl get pods -A | grep web-0` finds it in another namespace"
    )


def test_missing_namespace_says_how_to_list_them():
    e = kerr('Error from server (NotFound): namespaces "shop" not found\n')
    assert isinstance(e, TargetNotFound)
    assert e.hint == "`kubectl get namespaces` lists them; give the right one with -n"


def test_forbidden_without_a_user_names_the_kubeconfigs_credentials():
    e = kerr(
        "Error from server (Forbidden): the server does not allow access to the requested resource "
        "(get pods web-0)\n",
        namespace=None,
    )
    assert isinstance(e, MissingPrerequisite)
    assert (
        e.message
        == "the credentials in the kubeconfig may not get pods in kubectl's current namespace (Forbidden)"
    )
    assert "`kubectl auth can-i get pods` checks it" in e.hint


def test_unauthorized_from_the_server():
    e = kerr("Error from server (Unauthorized): Unauthorized\n")
    assert isinstance(e, MissingPrerequisite)
    assert e.message == "the API server refused kubectl's credentials (Unauthorized)"
    assert e.hint == f"renew the credentials in the kubeconfig; {REACH_HINT}"


@pytest.mark.parametrize(
    "stderr, context",
    [
        ("error: context was not found for specified context: prod\n", None),
        ("error: context was not found for specified context: prod\n", "staging"),
        ('error: context "prod" does not exist\n', None),
    ],
)
def test_the_missing_context_is_the_one_kubectl_names(stderr, context):
    e = kerr(stderr, context=context)
    assert isinstance(e, BadInput)
    assert e.message == 'the kubeconfig has no context "prod"'
    assert e.hint == "`kubectl config get-contexts` lists them; KUBECONFIG chooses the file"


@pytest.mark.parametrize(
    "stderr",
    [
        # client-go's wording (kubernetes/kubectl#1319)
        "Unable to connect to the server: getting credentials: exec: executable kubelogin not found\n\n"
        "It looks like you are trying to use a client-go credential plugin that is not installed.\n",
        "error: exec plugin: executable kubelogin not found\n",
    ],
)
def test_a_missing_credential_plugin_is_named(stderr):
    e = kerr(stderr)
    assert isinstance(e, MissingPrerequisite)
    assert e.message == "kubectl's credential plugin kubelogin is not installed on this node"
    assert e.hint == f"install it (the kubeconfig's users[].user.exec names it); {REACH_HINT}"


@pytest.mark.parametrize(
    "stderr",
    [
        "error: Missing or incomplete configuration info.  Please point to an existing, complete config file:\n",
        "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment "
        "variable\n",
    ],
)
def test_no_configuration_at_all(stderr):
    e = kerr(stderr)
    assert isinstance(e, MissingPrerequisite)
    assert e.message == "kubectl has no cluster configured on this node (it fell back to localhost:8080)"
    assert e.hint == f"point KUBECONFIG at a kubeconfig (or copy one to ~/.kube/config); {REACH_HINT}"


def test_a_network_error_on_the_last_line():
    e = kerr(
        "E1126 08:40:48.387560   13537 memcache.go:265] couldn't get current server API group list: Get "
        '"https://10.96.0.1:6443/api?timeout=32s": dial tcp 10.96.0.1:6443: connect: no route to host\n'
        "error: dial tcp 10.96.0.1:6443: connect: no route to host\n\n"
    )
    assert isinstance(e, MissingPrerequisite)
    assert (
        e.message
        == "cannot reach the Kubernetes API server: error: dial tcp 10.96.0.1:6443: connect: no route to host"
    )
    assert e.hint == REACH_HINT


@pytest.mark.parametrize(
    "stderr, last",
    [("", "no error output"), ('error: the server doesn\'t have a resource type "pod"\n', None)],
)
def test_anything_else_is_the_failed_command_itself(stderr, last):
    e = kerr(stderr)
    assert isinstance(e, CommandFailed) and e.rc == 1
    assert e.message == f"command failed (exit 1) on the node: {SHOWN}: {last or stderr.strip()}"


# -- kubectl get nodes ---------------------------------------------------------------------------


def test_node_addresses_skip_nameless_items_and_read_control_characters():
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"metadata": {}, "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.9"}]}},
            {
                "metadata": {"name": "kind-worker", "annotations": {"note": "PLACEHOLDER"}},
                "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.3"}]},
            },
        ],
    }
    text = json.dumps(doc).replace("PLACEHOLDER", "a\tb")
    assert node_addresses(text) == {"kind-worker": ["172.18.0.3"]}


def test_node_addresses_of_a_document_without_items():
    assert node_addresses('{"apiVersion": "v1", "kind": "List"}') == {}
