"""`--via kubectl-debug`: a node debugging pod (`kubectl debug node/NODE --profile=sysadmin`), the node's own
tools through `kubectl exec POD -- chroot /host ...`, and the pod deleted when vethctl ends (on failure and
Ctrl-C too: kubectl's own debugging pods are known to pile up). Its command is a `sleep`, so even after a
SIGKILL of vethctl it ends by itself (commands.kubectl.DEBUG_LIFETIME_S).

With `--tools image` (nodes without the tools: Bottlerocket, Talos, RHCOS without tcpdump), the image's own
ip, tcpdump and ping run instead, entering the node's namespace with `nsenter --target 1 --net` and a pod's
with `nsenter --net=/host/run/netns/NAME` (commands.kubectl.image_argv); the node's files are read under
/host. The pod has hostNetwork and hostPID, so /proc is the node's."""

from __future__ import annotations

import os

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from vethctl.commands import kubectl
from vethctl.errors import MissingPrerequisite
from vethctl.execute.hosts.remote import RemoteHost
from vethctl.execute.processes import audited_run
from vethctl.execute.tools import TOOL_PACKAGES, missing_tool
from vethctl.model import KubectlDebug
from vethctl.parsers.kube import parse_debug_created


class KubectlDebugHost(RemoteHost):
    def __init__(self, via: KubectlDebug, tools: str = "node"):
        self.url, self.node_name, self.context = via.url, via.node, via.context
        self.tools = tools  # node: the node's own, through chroot /host; image: the debugging image's
        self.namespace = os.environ.get("VETHCTL_DEBUG_NAMESPACE") or kubectl.DEBUG_NAMESPACE
        default = kubectl.DEBUG_TOOLS_IMAGE if tools == "image" else kubectl.DEBUG_IMAGE
        self.image = os.environ.get("VETHCTL_DEBUG_IMAGE") or default
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
        if tools == "image" and not self.which("nsenter"):  # how the image's tools enter the namespaces
            self.close()
            raise self.missing("nsenter")

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

    def background_argv(self, argv, *args, **kwargs):
        # the wrapper (the image's shell) runs the node's command as the image's tools run it
        image = self.tools == "image"
        return super().background_argv(kubectl.image_argv(tuple(argv)) if image else argv, *args, **kwargs)

    def stdin_of(self, argv, text: str) -> str:
        return kubectl.image_batch(text) if self.tools == "image" and "-batch" in argv else text

    def command(self, argv, stdin: bool = False):
        argv, chroot = tuple(argv), self.tools != "image"
        if not chroot:  # a script (`sh -c`) stays as it is: the image's shell
            argv = kubectl.image_argv(argv)
        full = kubectl.debug_exec_argv(
            self.pod,
            self.container,
            argv,
            namespace=self.namespace,
            context=self.context,
            stdin=stdin,
            chroot=chroot,
        )
        return local[full[0]][full[1:]]

    # -- the node's files, through the image's shell (--tools image): under /host -------------------

    def _sh(self, script, *args, stdin=None):
        if self.tools != "image":
            return super()._sh(script, *args, stdin=stdin)
        args = tuple(kubectl.host_path(a) if a.startswith("/") else a for a in args)
        rc, out, err = super()._sh(script, *args, stdin=stdin)
        return rc, out.replace("/host/run/netns/", "/var/run/netns/"), err  # the node's names again

    # -- what is missing, and where ------------------------------------------------------------------

    def missing(self, tool: str) -> MissingPrerequisite:
        """A tool the plan drives is not there: on the node (chroot /host), or in the image (--tools image);
        which side lacks it, and what to do."""
        pkg = TOOL_PACKAGES.get(tool, tool)
        if self.tools == "image":
            return MissingPrerequisite(
                f"{tool} is not in the debugging image {self.image} (--tools image runs the image's own tools)",
                hint=f"set VETHCTL_DEBUG_IMAGE to an image with ip, tcpdump, ping and nsenter"
                f" (e.g. {kubectl.DEBUG_TOOLS_IMAGE}), or add {pkg} to yours",
            )
        image_has = self._image_has(tool)
        also = "" if image_has else f" (nor is it in the debugging image {self.image})"
        return MissingPrerequisite(
            f"{tool} is not installed on node {self.node_name} (the node's own tools, through chroot /host){also}",
            hint="nodes like Bottlerocket, Talos or RHCOS have no tcpdump: use --tools image, which runs the"
            f" debugging image's own tools (default {kubectl.DEBUG_TOOLS_IMAGE}; VETHCTL_DEBUG_IMAGE)",
        )

    def _image_has(self, tool: str) -> bool:
        argv = kubectl.debug_exec_argv(
            self.pod,
            self.container,
            ("sh", "-c", 'command -v "$1"', "sh", tool),
            namespace=self.namespace,
            context=self.context,
            chroot=False,
        )
        rc, _, _ = audited_run(lambda: local[argv[0]][argv[1:]], argv, self.label)
        return rc == 0

    def close(self) -> None:
        if self.pod:
            pod, self.pod = self.pod, None
            argv = kubectl.debug_delete_argv(pod, namespace=self.namespace, context=self.context)
            audited_run(lambda: local[argv[0]][argv[1:]], argv, self.label, new_session=True)
