"""Host.netns_holding on this machine: a namespace file that is no namespace (yet, or any more: `ip netns
add` makes the file before it mounts the namespace on it, and another run may be halfway) holds nothing; it
does not send the whole check to the slow path (`ip -all netns exec`, a fork and a mount per namespace)."""

from __future__ import annotations

from vethctl.execute.hosts.local import LocalHost


def test_a_file_that_is_no_namespace_holds_nothing(lab, tmp_path):  # noqa: F811
    half_made = tmp_path / "cni-halfway"
    half_made.write_text("")
    pod = lab["pods"][0]
    held = LocalHost().netns_holding([str(half_made), f"/var/run/netns/{pod['netns']}"], pod["ip"])
    assert held == [f"/var/run/netns/{pod['netns']}"]
