"""A small local stand-in of the Kubernetes API server, for driving the real kubectl in tests.

It answers exactly what `kubectl get pod NAME -n NS -o json` asks (seen with `kubectl -v=8`, kubectl 1.20,
1.32 and 1.37):

  GET /api                               APIVersions (legacy discovery; the aggregated form is not offered,
  GET /apis                              APIGroupList  so kubectl falls back to the per-version lists)
  GET /api/v1                            APIResourceList with pods (kubectl 1.20 and clients that miss the cache)
  GET /api/v1/namespaces/NS/pods/NAME    the recorded Pod, a 404 Status, or a 403 Status when forbidden
  GET /api/v1/namespaces/NS              after a 404 with an explicit -n other than default, kubectl asks
                                         whether the namespace exists, and reports `namespaces "NS" not found`
                                         instead when it does not (a Namespace, or the 404 Status, here)

(kubectl 1.32 as packaged by Google also asks GET /version first.) With a warm discovery cache kubectl asks
only for the pod (and the namespace after a 404). `unauthorized` makes every answer a 401 Status.

Anything else is a 404 Status. It speaks plain HTTP on 127.0.0.1 and a free port; the kubeconfig written for a
test points at it with no credentials, and HOME/KUBECACHEDIR point into the test's tmp_path so kubectl's
discovery cache never lands in ~/.kube.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.kubeproto import pod_from_protobuf

PROTOBUF = "application/vnd.kubernetes.protobuf"


class WatchEvents(list):
    """The answer to a watch: its events (the stand-in sends them all and ends the watch)."""


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kubectl"

# The API's answer to a GET of a pod that does not exist, as recorded in kubernetes/community's
# api-conventions.md (see fixtures/kubectl/SOURCES.md); only name and namespace are filled in.
NOT_FOUND = json.loads((FIXTURES / "status-404-pod-not-found.json").read_text())
FORBIDDEN = json.loads((FIXTURES / "status-403-pod-forbidden.json").read_text())

PODS_RESOURCE = {
    "name": "pods",
    "singularName": "pod",
    "namespaced": True,
    "kind": "Pod",
    "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    "shortNames": ["po"],
    "categories": ["all"],
}


def _not_found(name: str) -> dict:
    status = json.loads(json.dumps(NOT_FOUND))
    status["message"] = f'pods "{name}" not found'
    status["details"]["name"] = name
    return status


def _namespace_not_found(namespace: str) -> dict:
    status = _not_found(namespace)
    status["message"] = f'namespaces "{namespace}" not found'
    status["details"]["kind"] = "namespaces"
    return status


def _forbidden(name: str, namespace: str, user: str) -> dict:
    status = json.loads(json.dumps(FORBIDDEN))
    status["message"] = (
        f'pods "{name}" is forbidden: User "{user}" cannot get resource "pods" in API group "" '
        f'in the namespace "{namespace}"'
    )
    status["details"]["name"] = name
    return status


class KubeAPI:
    """The stand-in: add pods, make pod reads forbidden, stop it; `requests` lists what was asked."""

    def __init__(self, host: str = "127.0.0.1"):
        self.pods: dict[tuple[str, str], dict] = {}
        self.forbidden = False  # pod reads answer 403, as RBAC does without `get pods`
        self.unauthorized = False  # every request answers 401, as for an expired token
        self.user = "system:serviceaccount:default:default"
        self.requests: list[tuple[str, str]] = []
        self.namespaces: set[str] = {"default", "kube-system", "kube-public", "kube-node-lease"}
        self.kubeconfig: Path | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # quiet: the test output is kubectl's, not ours
                pass

            def do_GET(self):  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                path = parts.path.rstrip("/") or "/"
                api.requests.append(("GET", path))
                if self.headers.get("Upgrade", "").lower() == "websocket":  # kubectl exec (kubedebug.py)
                    api.upgrade(self, path, parse_qs(parts.query))
                    self.close_connection = True
                    return
                self.reply(*api.answer(path, parse_qs(parts.query)))

            def do_POST(self):  # noqa: N802
                self.write_request("POST")

            def do_DELETE(self):  # noqa: N802
                self.write_request("DELETE")

            def write_request(self, method):
                parts = urlsplit(self.path)
                path = parts.path.rstrip("/") or "/"
                api.requests.append((method, path))
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Type", "").startswith(PROTOBUF):  # kubectl 1.36 and later
                    body = pod_from_protobuf(data)
                else:
                    body = json.loads(data) if data else None
                self.reply(*api.answer_write(method, path, parse_qs(parts.query), body))

            def reply(self, code, body):
                if isinstance(body, WatchEvents):  # a watch's events, one JSON object a line
                    data = b"".join(json.dumps(event).encode() + b"\n" for event in body)
                else:
                    data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.thread: threading.Thread | None = None

    # -- content ------------------------------------------------------------------------------------

    def add_pod(
        self, pod: str | dict | Path, *, name: str | None = None, namespace: str | None = None
    ) -> dict:
        """Serve a pod (JSON text, a dict, or a fixture file name/path) under its own name and namespace."""
        if isinstance(pod, Path) or (isinstance(pod, str) and not pod.lstrip().startswith("{")):
            path = Path(pod)
            pod = (path if path.is_absolute() else FIXTURES / path).read_text()
        obj = json.loads(pod) if isinstance(pod, str) else json.loads(json.dumps(pod))
        meta = obj.setdefault("metadata", {})
        if name:
            meta["name"] = name
        if namespace:
            meta["namespace"] = namespace
        namespace = meta.get("namespace") or "default"
        self.namespaces.add(namespace)
        self.pods[(namespace, meta["name"])] = obj
        return obj

    def answer(self, path: str, query: dict | None = None) -> tuple[int, dict]:
        if self.unauthorized:
            return 401, {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "Unauthorized",
                "reason": "Unauthorized",
                "code": 401,
            }
        if path == "/api":
            return 200, {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}
                ],
            }
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [PODS_RESOURCE]}
        if path == "/version":
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0", "platform": "linux/amd64"}
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[:3] == ["api", "v1", "namespaces"]:
            namespace = parts[3]
            if namespace not in self.namespaces:
                return 404, _namespace_not_found(namespace)
            return 200, {
                "kind": "Namespace",
                "apiVersion": "v1",
                "metadata": {"name": namespace, "labels": {"kubernetes.io/metadata.name": namespace}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            # GET .../pods?labelSelector=a=b,c=d: the PodList kubectl turns into `get pods -l ... -o json`
            namespace, wanted = parts[3], {}
            for term in ((query or {}).get("labelSelector") or [""])[0].split(","):
                if "=" in term:
                    k, _, v = term.partition("=")
                    wanted[k.strip()] = v.strip().lstrip("=")
            items = [
                p
                for (ns, _), p in sorted(self.pods.items())
                if ns == namespace
                and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in wanted.items())
            ]
            return 200, {
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": "1"},
                "items": items,
            }
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            namespace, name = parts[3], parts[5]
            if self.forbidden:
                return 403, _forbidden(name, namespace, self.user)
            pod = self.pods.get((namespace, name))
            return (200, pod) if pod is not None else (404, _not_found(name))
        return 404, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound",
            "details": {},
            "code": 404,
        }

    def answer_write(self, method: str, path: str, query: dict, body) -> tuple[int, dict]:
        """POST and DELETE: nothing here (kubedebug.DebugKubeAPI creates and deletes debugging pods)."""
        return 405, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": f"the server does not allow this method on the requested resource ({method})",
            "reason": "MethodNotAllowed",
            "details": {},
            "code": 405,
        }

    def upgrade(self, handler, path: str, query: dict) -> None:
        """A websocket upgrade (kubectl exec): refused here (kubedebug.DebugKubeAPI runs commands)."""
        handler.reply(*self.answer_write("GET", path, query, None))

    # -- life ---------------------------------------------------------------------------------------

    def start(self) -> KubeAPI:
        self.thread = threading.Thread(target=self.server.serve_forever, name="kubeapi", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: from here on, kubectl gets `connection refused` on this port."""
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(5)
            self.thread = None
        self.server.server_close()

    def write_kubeconfig(self, path: Path, *, context: str = "standin", namespace: str | None = None) -> Path:
        ctx = {"cluster": "standin", "user": "standin"} | ({"namespace": namespace} if namespace else {})
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
                    "users": [{"name": "standin", "user": {}}],
                    "contexts": [{"name": context, "context": ctx}],
                    "current-context": context,
                },
                indent=2,
            )
        )
        self.kubeconfig = path
        return path


def setenv(monkeypatch, name: str, value: str) -> None:
    """For this test only, in os.environ and in plumbum's copy of it (which the executor's commands get: plumbum
    snapshots the environment when it is imported)."""
    from plumbum import local

    monkeypatch.setenv(name, value)
    monkeypatch.setitem(local.env, name, value)


@pytest.fixture
def kube_api(tmp_path, monkeypatch):
    """A running stand-in, with KUBECONFIG (and HOME, KUBECACHEDIR) pointing into tmp_path for this test:
    kubectl 1.20 keeps its discovery cache in $HOME/.kube/cache whatever KUBECACHEDIR says."""
    api = KubeAPI().start()
    home = tmp_path / "home"
    home.mkdir()
    api.write_kubeconfig(tmp_path / "kubeconfig")
    setenv(monkeypatch, "KUBECONFIG", str(api.kubeconfig))
    setenv(monkeypatch, "HOME", str(home))
    setenv(monkeypatch, "KUBECACHEDIR", str(tmp_path / "kubecache"))
    try:
        yield api
    finally:
        api.stop()


def serve(api: KubeAPI, fixture, *, name, namespace, node, ip=None, host_network=False):
    """A recorded pod, re-pointed: its name, namespace, node and IP as the test needs them."""
    pod = json.loads((FIXTURES / fixture).read_text())
    pod["metadata"] |= {"name": name, "namespace": namespace}
    pod["spec"]["nodeName"] = node
    pod["spec"]["hostNetwork"] = host_network
    if ip:
        pod["status"]["podIP"] = ip
        pod["status"]["podIPs"] = [{"ip": ip}]
    return api.add_pod(pod)
