"""The namespace holder the tests use (tests/support/holders.py): it is never handed out while it is still in
our namespace. Measured as the issue measured the old pattern: `Popen(ip netns exec NS sleep)` (or
`unshare --net sleep`), then at once read /proc/PID/ns/net, many times over."""

from __future__ import annotations

import subprocess

from tests.support.holders import netns_holder, netns_id, own_netns

ROUNDS = 60


def naive_sightings_of_our_namespace(argv: list[str], rounds: int) -> int:
    """The old pattern: how often the process is still in our namespace right after Popen returns."""
    ours, seen = own_netns(), 0
    for _ in range(rounds):
        proc = subprocess.Popen(argv)
        try:
            seen += netns_id(f"/proc/{proc.pid}/ns/net") == ours
        finally:
            proc.kill()
            proc.wait()
    return seen


def test_a_holder_of_a_named_namespace_is_always_in_it(pod):
    ours, theirs = own_netns(), netns_id(f"/var/run/netns/{pod['netns']}")
    seen = []
    for _ in range(ROUNDS):
        with netns_holder(pod["netns"]) as holder:
            seen.append(netns_id(holder.path))  # what a test would hand vethctl: pid/, nspath/
    naive = naive_sightings_of_our_namespace(["ip", "netns", "exec", pod["netns"], "sleep", "60"], ROUNDS)
    assert seen.count(ours) == 0, f"{seen.count(ours)} of {ROUNDS} holders were in our namespace"
    assert seen == [theirs] * ROUNDS, f"(the old pattern: ours {naive} times of {ROUNDS})"
    print(f"named namespace: the holder in ours 0 times of {ROUNDS}, the old pattern {naive} times")


def test_a_holder_of_a_new_namespace_is_never_in_ours():
    ours = own_netns()
    seen = []
    for _ in range(ROUNDS):
        with netns_holder() as holder:
            seen.append(netns_id(holder.path))
            assert holder.netns_id == seen[-1]
    naive = naive_sightings_of_our_namespace(["unshare", "--net", "sleep", "60"], ROUNDS)
    assert ours not in seen, f"{seen.count(ours)} of {ROUNDS} in our namespace (the old pattern: {naive})"
    print(f"new namespace: the holder in ours 0 times of {ROUNDS}, the old pattern {naive} times")


def test_an_attached_name_names_the_holders_namespace_and_goes_with_it(pod):
    name = "vt-hold-" + pod["netns"][4:12]
    with netns_holder(pod["netns"], attach=name) as holder:
        assert (
            netns_id(f"/var/run/netns/{name}")
            == holder.netns_id
            == netns_id(f"/var/run/netns/{pod['netns']}")
        )
        pid = holder.pid
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert (
        name not in listing.split()
        and subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode
    )
