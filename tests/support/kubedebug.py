"""The stand-in of the API (kubeapi.py), grown to what `--via kubectl-debug` asks of it, for the real kubectl:

  kubectl debug node/NODE ...     GET /api/v1/nodes/NODE, POST /api/v1/namespaces/NS/pods (the debugging pod,
                                  kept, Running and Ready at once)
  kubectl wait --for=condition=Ready pod/NAME
                                  GET .../pods?fieldSelector=metadata.name=NAME (and a watch, answered alike)
  kubectl exec [-i] POD -c C -- ARGV
                                  GET .../pods/POD, then GET .../pods/POD/exec?command=... upgraded to a
                                  websocket (v5.channel.k8s.io, as kubectl 1.30+ asks first): stdin on channel
                                  0 (255 closes it), stdout 1, stderr 2, the exit status 3 (a Status)
  kubectl delete pod POD --wait=false
                                  DELETE .../pods/POD

What runs an exec is this machine, standing in for the debugging pod on a lab node (a namespace): the pod has
hostNetwork and hostPID, the node's root at /host. With `chroot /host ARGV` (the node's own tools) ARGV runs
in the lab node's namespace with the node's PATH (`node_path`: a node without tcpdump is a PATH without it).
Without (the image's own tools, --tools image) ARGV runs there too, with the image's PATH (`image_paths`), the
node's files seen under /host (the prefix is taken off, as the pod's mount would) and `nsenter --target 1
--net` entering the node's namespace (pid 1 of a node is in it; here, it is the lab node's). Every exec is
recorded in `execs` as (image, argv) for the tests to read.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import os
import re
import secrets
import struct
import subprocess
import threading
from urllib.parse import unquote

from tests.support.kubeapi import PODS_RESOURCE, KubeAPI, WatchEvents

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HOST_NETNS = re.compile(rb"(^|\s)/run/netns/")
INITIAL_EVENTS_END = {
    "type": "BOOKMARK",
    "object": {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "2", "annotations": {"k8s.io/initial-events-end": "true"}},
    },
}
CHANNELS = ("v5.channel.k8s.io", "v4.channel.k8s.io")

RESOURCES = [
    PODS_RESOURCE,
    {
        "name": "pods/exec",
        "singularName": "",
        "namespaced": True,
        "kind": "PodExecOptions",
        "verbs": ["create", "get"],
    },
    {
        "name": "nodes",
        "singularName": "node",
        "namespaced": False,
        "kind": "Node",
        "verbs": ["get", "list"],
        "shortNames": ["no"],
    },
    {
        "name": "namespaces",
        "singularName": "namespace",
        "namespaced": False,
        "kind": "Namespace",
        "verbs": ["get"],
    },
]


def _status(code: int, reason: str, message: str) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {},
        "code": code,
    }


class DebugKubeAPI(KubeAPI):
    def __init__(self, node_netns: dict[str, str], host: str = "127.0.0.1"):
        super().__init__(host)
        self.node_netns = node_netns  # node name -> the lab node's namespace that stands in for it
        self.node_path = os.environ["PATH"]  # what `chroot /host` finds on the node
        self.image_paths: dict[str, str] = {}  # image -> its PATH (default: this machine's)
        self.created: list[dict] = []  # every pod POSTed, as posted
        self.deleted: list[str] = []
        self.execs: list[tuple[str, list[str]]] = []
        self.stdins: list[
            tuple[list[str], bytearray]
        ] = []  # each exec with stdin: its argv, what it was sent
        self.lock = threading.Lock()

    # -- REST -----------------------------------------------------------------------------------------

    def answer(self, path: str, query: dict | None = None) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": RESOURCES}
        if parts[:3] == ["api", "v1", "nodes"] and len(parts) == 4:
            if parts[3] not in self.node_netns:
                return 404, _status(404, "NotFound", f'nodes "{parts[3]}" not found')
            return 200, {"kind": "Node", "apiVersion": "v1", "metadata": {"name": parts[3], "uid": "n-1"}}
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            selector = ((query or {}).get("fieldSelector") or [""])[0]
            if selector.startswith("metadata.name="):  # kubectl wait: the list (or the watch) of one pod
                name = unquote(selector.split("=", 1)[1])
                pod = self.pods.get((parts[3], name))
                if (query or {}).get("watch"):
                    events = WatchEvents([{"type": "ADDED", "object": pod}] if pod else [])
                    if (query or {}).get("sendInitialEvents") == ["true"]:  # kubectl 1.35 and later: a
                        events.append(INITIAL_EVENTS_END)  # watch-list, whose initial events end so
                    return 200, events
                return 200, {
                    "kind": "PodList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": "2"},
                    "items": [pod] if pod else [],
                }
        return super().answer(path, query)

    def answer_write(self, method: str, path: str, query: dict, body) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if (
            method == "POST"
            and len(parts) == 5
            and parts[:3] == ["api", "v1", "namespaces"]
            and parts[4] == "pods"
        ):
            pod = copy.deepcopy(body)
            with self.lock:
                self.created.append(copy.deepcopy(body))
            meta = pod.setdefault("metadata", {})
            meta["name"] = meta.get("name") or meta.get("generateName", "pod-") + secrets.token_hex(3)[:5]
            meta |= {"namespace": parts[3], "uid": secrets.token_hex(8), "resourceVersion": "1"}
            meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
            containers = pod["spec"]["containers"]
            pod["status"] = {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "ContainersReady", "status": "True"},
                ],
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "image": c.get("image"),
                        "ready": True,
                        "started": True,
                        "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                        "restartCount": 0,
                    }
                    for c in containers
                ],
            }
            self.add_pod(pod)
            return 201, pod
        if method == "DELETE" and len(parts) == 6 and parts[4] == "pods":
            pod = self.pods.pop((parts[3], parts[5]), None)
            if pod is None:
                return 404, _status(404, "NotFound", f'pods "{parts[5]}" not found')
            self.deleted.append(parts[5])
            return 200, pod
        return super().answer_write(method, path, query, body)

    # -- exec -----------------------------------------------------------------------------------------

    def upgrade(self, handler, path: str, query: dict) -> None:
        parts = path.strip("/").split("/")
        pod = self.pods.get((parts[3], parts[5])) if len(parts) == 7 and parts[6] == "exec" else None
        offered = [p.strip() for p in handler.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        protocol = next((p for p in CHANNELS if p in offered), None)
        if pod is None or protocol is None:
            handler.reply(404 if pod is None else 400, _status(404, "NotFound", "no such pod or protocol"))
            return
        key = handler.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        handler.send_response(101)
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept)
        handler.send_header("Sec-WebSocket-Protocol", protocol)
        handler.end_headers()
        handler.wfile.flush()
        image = pod["spec"]["containers"][0].get("image", "")
        argv = query.get("command", [])
        sent = bytearray()
        with self.lock:
            self.execs.append((image, list(argv)))
            if query.get("stdin") == ["true"]:
                self.stdins.append((list(argv), sent))
        ex = Exec(self, handler, self._local_argv(pod, argv, image), stdin=query.get("stdin") == ["true"])
        ex.sent = sent
        ex.off_host = argv[:2] != ["chroot", "/host"]  # the image's tools: /host/... is this machine's /...
        ex.run()

    def _local_argv(self, pod: dict, argv: list[str], image: str) -> tuple[list[str], str, bool]:
        """What this machine runs for ARGV in the debugging pod, with which PATH, and whether what it prints
        names the node's files as the pod sees them (a script of the image's shell: /host/run/netns/...)."""
        netns = self.node_netns[pod["spec"]["nodeName"]]
        if argv[:2] == ["chroot", "/host"]:
            return ["ip", "netns", "exec", netns, *argv[2:]], self.node_path, False
        if argv[:2] == ["sh", "-c"] and "vethctl-pid" not in argv[2]:  # a look at the node's files
            local = ["ip", "netns", "exec", netns, *(a.replace("/host/", "/") for a in argv)]
            return local, self.image_paths.get(image, os.environ["PATH"]), True
        rest, node_net = [], ["nsenter", "--target", "1", "--net"]
        i = 0
        while i < len(
            argv
        ):  # wherever it is (behind a wrapper too): pid 1 here is this machine's, not the node's
            if argv[i : i + 4] == node_net:
                rest += ["nsenter", f"--net=/var/run/netns/{netns}"]
                i += 4
            else:
                rest.append(_off_host(argv[i]))
                i += 1
        assert "--target" not in rest, f"an nsenter the stand-in does not map: {argv}"
        return ["ip", "netns", "exec", netns, *rest], self.image_paths.get(image, os.environ["PATH"]), False


def _off_host(arg: str) -> str:
    """A path as the pod sees the node's files (/host/...) is, here, the path itself."""
    for prefix in ("/host/", "--net=/host/"):
        if arg.startswith(prefix):
            return arg.replace("/host/", "/", 1)
    return arg


class Exec:
    """One exec: the command, its streams framed as kubectl's channels over the websocket, its exit status."""

    def __init__(self, api: DebugKubeAPI, handler, local: tuple[list[str], str, bool], stdin: bool):
        self.api, self.handler = api, handler
        self.argv, self.path, self.host_view = local
        self.stdin = stdin
        self.send_lock = threading.Lock()
        self.gone = False
        self.sent = bytearray()  # what the client sent on stdin (DebugKubeAPI.stdins)
        self.off_host = False

    def run(self) -> None:
        env = {**os.environ, "PATH": self.path}
        try:
            proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            self._send(2, f"{exc}\n".encode())
            self._status(126)
            return
        reader = threading.Thread(target=self._client, args=(proc,), daemon=True)
        reader.start()
        pumps = [
            threading.Thread(target=self._pump, args=(s, ch), daemon=True)
            for s, ch in ((proc.stdout, 1), (proc.stderr, 2))
        ]
        for t in pumps:
            t.start()
        for t in pumps:
            t.join()
        rc = proc.wait()
        self._status(rc)

    def _pump(self, stream, channel: int) -> None:
        read = stream.read1 if not self.host_view else stream.readline
        try:
            while chunk := read(65536):
                if self.host_view:  # a path of the node's netns files, as the pod sees them
                    chunk = HOST_NETNS.sub(rb"\1/host/run/netns/", chunk)
                if not self._send(channel, chunk):
                    break  # the client went away: the command meets a closed stdout, as in a pod
        finally:
            stream.close()

    def _status(self, rc: int) -> None:
        if rc == 0:
            status = {"metadata": {}, "status": "Success"}
        else:
            status = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit status {rc}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(rc if rc > 0 else 128 - rc)}]},
            }
        self._send(3, json.dumps(status).encode())
        self._frame(0x8, struct.pack("!H", 1000))

    def _send(self, channel: int, data: bytes) -> bool:
        return self._frame(0x2, bytes([channel]) + data)

    def _frame(self, opcode: int, payload: bytes) -> bool:
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 1 << 16:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self.send_lock:
            if self.gone:
                return False
            try:
                self.handler.wfile.write(head + payload)
                self.handler.wfile.flush()
            except OSError:
                self.gone = True
                return False
        return True

    def _client(self, proc: subprocess.Popen) -> None:
        """The client's frames: stdin (channel 0) and its close (255), pings, the close of the socket."""
        rfile = self.handler.rfile
        try:
            while True:
                head = rfile.read(2)
                if len(head) < 2:
                    break
                opcode, n = head[0] & 0x0F, head[1] & 0x7F
                if n == 126:
                    n = struct.unpack("!H", rfile.read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", rfile.read(8))[0]
                mask = rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(rfile.read(n)))
                if opcode == 0x8:
                    break
                if opcode == 0x9:
                    self._frame(0xA, data)
                elif opcode in (0x1, 0x2) and data and proc.stdin is not None:
                    if data[0] == 0:
                        self.sent.extend(data[1:])
                        proc.stdin.write(data[1:].replace(b" /host/", b" /") if self.off_host else data[1:])
                        proc.stdin.flush()
                    elif data[0] == 255 and data[1:2] == b"\0":
                        proc.stdin.close()
        except (OSError, ValueError):
            pass
        with self.send_lock:
            self.gone = True  # the command's next output meets a closed pipe (SIGPIPE), as in a real pod
        if proc.stdin is not None and not proc.stdin.closed:
            with contextlib.suppress(OSError):
                proc.stdin.close()
