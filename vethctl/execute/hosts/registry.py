"""One Host per place for a whole invocation: the local machine (also for lab nodes, which are namespaces
of it), one SSH connection per URL, one node debugging pod per node. Made by the CLI and passed down; closed
at the end (a debugging pod is deleted; Ctrl-C waits for it)."""

from __future__ import annotations

import threading

from vethctl.errors import BadInput
from vethctl.execute.hosts.base import Host
from vethctl.execute.processes import deferred_signals
from vethctl.model import KubectlDebug, Local, Machine, Node, Ssh


class Hosts:
    def __init__(self, local: Host | None = None, *, debug_tools: str = "node"):
        self.debug_tools = (
            debug_tools  # --tools: a debugging pod runs the node's tools (node) or its own (image)
        )
        self._hosts: dict[Machine, Host] = {}
        self._lock = threading.Lock()  # `run -l` asks from several threads: one connection per place
        if local is not None:
            self._hosts[Local()] = local

    def get(self, where: Node | Machine) -> Host:
        machine = where.machine if isinstance(where, Node) else where
        with self._lock:
            if machine not in self._hosts:
                self._hosts[machine] = self._make(machine)
            return self._hosts[machine]

    @property
    def local(self) -> Host:
        return self.get(Local())

    def _make(self, machine: Machine) -> Host:
        if isinstance(machine, Local):
            from vethctl.execute.hosts.local import LocalHost

            return LocalHost()
        if isinstance(machine, Ssh):
            from vethctl.execute.hosts.ssh import SshHost

            return SshHost(machine)
        if isinstance(machine, KubectlDebug) and machine.node is not None:
            from vethctl.execute.hosts.kubectl_debug import KubectlDebugHost

            return KubectlDebugHost(machine, self.debug_tools)
        raise BadInput(
            "--via kubectl-debug needs a pod/ target (it debugs the pod's node)",
            hint="vethctl run pod/NAME --via kubectl-debug",
        )

    def close(self) -> None:
        """Remove what reaching the nodes created (node debugging pods). Ctrl-C waits for it."""
        with deferred_signals():
            for host in list(self._hosts.values()):
                host.close()
            self._hosts.clear()
