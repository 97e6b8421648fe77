"""Shared fixtures. Integration tests need root and real namespaces; they build a lab node of their own
(a uniquely named netns with CNI-made pods) and remove it afterwards, also when a test fails."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VETHCTL = str(Path(sys.executable).parent / "vethctl")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if os.geteuid() != 0:
                item.add_marker(pytest.mark.skip(reason="integration tests need root (network namespaces)"))


def ip_json(*args: str, netns: str | None = None) -> list:
    cmd = ["ip", *(["-n", netns] if netns else []), "-j", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def snapshot(netns: str | None) -> dict:
    """Links (without counters that change by themselves), addresses and routes of one namespace."""
    links = []
    for link in ip_json("addr", "show", netns=netns):
        links.append(
            {k: link.get(k) for k in ("ifname", "mtu", "flags", "address", "ifalias", "link_netnsid")}
            | {"addrs": sorted((a["local"], a["prefixlen"]) for a in link.get("addr_info", []))}
        )
    routes = ip_json("route", "show", "table", "all", netns=netns)
    return {"links": sorted(links, key=lambda x: x["ifname"]), "routes": sorted(map(json.dumps, routes))}


def tagged_links(netns: str | None) -> list[str]:
    return [link["ifname"] for link in ip_json("-d", "link", "show", netns=netns)
            if (link.get("ifalias") or "").startswith("vethctl:")]  # fmt: skip


def vethctl(*args: str, check: bool = True, env: dict | None = None, timeout: float = 120, **kw):
    """The CLI as a user runs it: a separate process, exit code and output."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [VETHCTL, *args], capture_output=True, text=True, env=full_env, timeout=timeout, **kw
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"vethctl {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture(scope="session", autouse=True)
def _audit_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    os.environ["VETHCTL_AUDIT_LOG"] = str(path)
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


def hook(before: str, *argvs: list[str]) -> dict:
    """The fault-injection seam: run these commands just before the plan step `phase:index`."""
    return {"VETHCTL_TEST_HOOK": json.dumps({"before": before, "run": [list(a) for a in argvs]})}


def wait_gone(pid: int, timeout: float = 10.0) -> None:
    """Wait for a process that is not our child to end: a pidfd becomes readable when it exits."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        assert select.select([fd], [], [], timeout)[0], f"pid {pid} still running after {timeout}s"
    finally:
        os.close(fd)
