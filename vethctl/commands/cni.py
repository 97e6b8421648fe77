"""A CNI plugin invoked exactly as a container runtime does: environment, config on stdin."""

from __future__ import annotations

from vethctl.commands import Argv


def invoke(
    plugin_path: str, command: str, *, container_id: str, netns_path: str, ifname: str, cni_path: str
) -> Argv:
    """A CNI plugin invoked exactly as a container runtime does: environment, config on stdin."""
    return (
        "env",
        f"CNI_COMMAND={command}",
        f"CNI_CONTAINERID={container_id}",
        f"CNI_NETNS={netns_path}",
        f"CNI_IFNAME={ifname}",
        f"CNI_PATH={cni_path}",
        plugin_path,
    )
