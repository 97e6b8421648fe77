"""Shared fixtures. Tests that need root and real namespaces carry the `needs_root` marker (every module
under integration/ does); they build a lab node of their own (a uniquely named netns with CNI-made pods)
and remove it afterwards, also when a test fails. Helpers live in tests/support/."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess

import pytest

from tests.support.cli import vethctl
from tests.support.holders import netns_holder
from tests.support.kubeapi import kube_api  # noqa: F401 - a fixture for every test
from tests.support.netstate import differences, machine_snapshot, snapshot, tagged_links
from tests.support.procs import Spawner
from tests.support.sshd import sshd  # noqa: F401 - a fixture for every test


def pytest_configure(config):
    """Ctrl-C as a terminal sends it must reach the commands the tests start, even when the suite itself
    was started in the background by a shell, which starts it with SIGINT ignored (a disposition children
    inherit): the tests that send SIGINT would otherwise test nothing."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.needs_root)
        if item.get_closest_marker("needs_root") and os.geteuid() != 0:
            item.add_marker(pytest.mark.skip(reason="needs root (network namespaces)"))
    if os.environ.get("MUTANT_UNDER_TEST", "") not in ("", "stats", "mutant_generation"):
        # `make mutation` runs a mutant's tests with -x: the in-process unit tests first (a few ms each), the
        # golden replays (a Python process each) only for a mutant they have not already caught
        items.sort(key=lambda item: "/golden/" in str(item.fspath))


@pytest.fixture(scope="session", autouse=True)
def machine_namespace_unchanged():
    """The machine's own namespace (links, addresses, routes) ends the run as it began: every test works in
    namespaces it made. A change fails the run (an error at the last test's teardown), naming it. Not
    under `make mutation`, which runs no integration test and runs pytest once per mutant."""
    if os.geteuid() != 0 or os.environ.get("MUTANT_UNDER_TEST"):
        yield
        return
    before = machine_snapshot()
    yield
    changed = differences(before, machine_snapshot())
    assert not changed, "the machine's own namespace changed during the run:\n" + "\n".join(changed)


@pytest.fixture(scope="session", autouse=True)
def _audit_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    os.environ["VETHCTL_AUDIT_LOG"] = str(path)
    yield path


@pytest.fixture(scope="session", autouse=True)
def state_dir(tmp_path_factory):
    """This run's session records, apart from any other run's on the machine (two suites at once, or a
    developer's sessions): gc and status of this run see only its own."""
    path = tmp_path_factory.mktemp("state")
    os.environ["VETHCTL_STATE_DIR"] = str(path)
    yield path


@pytest.fixture(scope="session")
def lab():
    """A lab node with two CNI pods, for the whole session: `vt-<hex>`."""
    name = f"vt-{secrets.token_hex(3)}"
    proc = vethctl("lab", "up", "--name", name, "--pods", "2", "-o", "json")
    rec = json.loads(proc.stdout)
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


@pytest.fixture
def pod(lab):
    return lab["pods"][0]


@pytest.fixture
def state(lab, pod):
    """Snapshot both sides before the test; afterwards assert nothing of ours is left (a leftover fails the test
    and is removed so the next tests start clean)."""
    before = {"node": snapshot(lab["node_netns"]), "pod": snapshot(pod["netns"])}
    yield before
    leftovers = tagged_links(lab["node_netns"]) + tagged_links(pod["netns"])
    for name in tagged_links(lab["node_netns"]):
        subprocess.run(["ip", "-n", lab["node_netns"], "link", "del", name], capture_output=True)
    assert not leftovers, f"links left behind: {leftovers}"


@pytest.fixture
def scratch_lab():
    """A lab of one's own, for tests that break things (delete a pod's namespace mid-run)."""
    name = f"vt-{secrets.token_hex(3)}"
    rec = json.loads(vethctl("lab", "up", "--name", name, "--pods", "2", "-o", "json").stdout)
    try:
        yield rec
    finally:
        vethctl("lab", "down", "--name", name, check=False)


@pytest.fixture
def hold_netns():
    """`hold_netns(NAME)`: a process in the named namespace; `hold_netns()`: one in a new, unnamed one;
    `attach=NAME` also names it. Each is handed out only once it is in its namespace (never ours), and
    killed (its name removed) when the test ends, whatever happened (tests/support/holders.py)."""
    with contextlib.ExitStack() as stack:
        yield lambda enter=None, **kw: stack.enter_context(netns_holder(enter, **kw))


@pytest.fixture
def spawn():
    """`spawn(argv, env=...)`: a background process in a group of its own (Popen, pipes, text). Each group
    still running when the test ends is stopped (SIGTERM, then SIGKILL), also when the test failed."""
    spawner = Spawner()
    try:
        yield spawner
    finally:
        spawner.stop_all()
