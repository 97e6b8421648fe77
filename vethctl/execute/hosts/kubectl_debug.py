"""`--via kubectl-debug`: a node debugging pod (`kubectl debug node/NODE --profile=sysadmin`), the node's own
tools through `kubectl exec POD -- chroot /host ...`, and the pod deleted when vethctl ends (on failure and
Ctrl-C too: kubectl's own debugging pods are known to pile up). Its command is a `sleep`, so even after a
SIGKILL of vethctl it ends by itself (commands.kubectl.DEBUG_LIFETIME_S)."""

from __future__ import annotations

import os

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl.commands import kubectl
from vethctl.errors import MissingPrerequisite
from vethctl.execute.hosts.remote import RemoteHost
from vethctl.execute.processes import audited_run
from vethctl.execute.tools import missing_tool
from vethctl.model import KubectlDebug
from vethctl.parsers.kube import parse_debug_created


class KubectlDebugHost(RemoteHost):
    def __init__(self, via: KubectlDebug):
        self.url, self.node_name, self.context = via.url, via.node, via.context
        self.namespace = os.environ.get("VETHCTL_DEBUG_NAMESPACE") or kubectl.DEBUG_NAMESPACE
        self.image = os.environ.get("VETHCTL_DEBUG_IMAGE") or kubectl.DEBUG_IMAGE
        self.label = f"kubectl-debug node/{self.node_name}"
        self.pod = self.container = None
        out = self._kubectl(
            kubectl.debug_node_argv(
                self.node_name, image=self.image, namespace=self.namespace, context=self.context
            ),
            "start a node debugging pod",
        )
        self.pod, self.container, _ = parse_debug_created(out)
        self._kubectl(
            kubectl.debug_wait_argv(self.pod, namespace=self.namespace, context=self.context),
            "wait for the debugging pod",
        )

    def _kubectl(self, argv: tuple[str, ...], purpose: str) -> str:
        try:
            rc, out, err = audited_run(lambda: local[argv[0]][argv[1:]], argv, self.label)
        except CommandNotFound:
            raise missing_tool("kubectl") from None
        if rc != 0:
            self.close()
            raise MissingPrerequisite(
                f"could not {purpose} on node {self.node_name}: "
                f"{(err.strip().splitlines() or ['no error output'])[-1]}",
                hint="kubectl debug node/NODE needs create pods and privileged pods there",
            )
        return out + err

    def command(self, argv, stdin: bool = False):
        full = kubectl.debug_exec_argv(
            self.pod, self.container, tuple(argv), namespace=self.namespace, context=self.context, stdin=stdin
        )
        return local[full[0]][full[1:]]

    def close(self) -> None:
        if self.pod:
            pod, self.pod = self.pod, None
            argv = kubectl.debug_delete_argv(pod, namespace=self.namespace, context=self.context)
            audited_run(lambda: local[argv[0]][argv[1:]], argv, self.label, new_session=True)
