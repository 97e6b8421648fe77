"""The CLI driven with generated argument vectors, in-process (vethctl.cli.main(argv, hosts=...)), against a
lab of the test's own: targets of every kind, addresses, names, counts, intervals, filters, probe specs,
unicode and very long strings. Whatever the vector, the exit code is one of the contract's, never a
traceback; and when it is not 0, nothing changed (links, addresses and routes of the lab's namespaces,
session records; for bad input, missing targets and prerequisites, no file either).

Values that would reach beyond the lab are never generated: other namespaces than the lab's, the machine's
own (pid/1, /proc/self), reachable ssh hosts, addresses outside the documentation ranges, `gc`, `down --all`,
`lab up/down` and `demo` (they act on the whole machine). Valid values are small (1-2 pings, 0.2 s apart,
captures of 0.3 s) so that a vector that is good runs quickly."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.kubeapi import serve
from tests.support.netstate import snapshot, tagged_links
from tests.support.paths import FIXTURES

CONTRACT = {0, 1, 2, 3, 4}
NO_NUL = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
WEIRD = st.one_of(
    st.text(NO_NUL, max_size=24),
    st.text(NO_NUL, min_size=500, max_size=5000),
    st.sampled_from(["", " ", "-", "--", "-x", "--nope", "é", "日本語", "a/b", "..", "\t", "💥", "x" * 4096]),
)


def one(*options):
    return st.sampled_from(options)


def mostly(good, *bad, p: float = 0.85):
    """A good value most of the time (so that a vector gets past argparse and the checks, often enough to
    reach the node), else a bad one: one bad option in a vector is enough to refuse it."""
    worse = st.one_of(*bad) if bad else WEIRD
    return chance(p).flatmap(lambda yes: good if yes else worse)


def chance(p: float):
    """True with probability p (hypothesis's floats favour their bounds: a uniform pick of 100 does not)."""
    return st.sampled_from(range(100)).map(lambda x: x < p * 100)


def strategies(lab: dict, tmp: str) -> dict:
    node = lab["node_netns"]
    pods = lab["pods"]
    pod = pods[0]["netns"]
    gateway, pod_ip = lab["gateway"], pods[0]["ip"]
    answered = one(gateway, pod_ip, pods[1]["ip"], "192.0.2.200")  # the lab answers these at once
    address = mostly(
        st.one_of(answered, one("192.0.2.101", "198.51.100.7", "2001:db8::5")),
        one("999.1.1.1", "::g", "1.2"),
        WEIRD,
    )
    return {
        "target": mostly(
            one(
                f"netns/{pod}",
                f"netns/{pods[1]['netns']}",
                f"nspath//var/run/netns/{pod}",
                f"nspath/var/run/netns/{pod}",
                f"ip/{pod_ip}",
                "pod/web-0",
                "web-0",
            ),
            one(
                "netns/vz-no-such-ns",
                "netns/a/b",
                "netns/..",
                "nspath//nonexistent/ns",
                "nspath//proc/999999999/ns/net",
                f"nspath/{tmp}",
                "pid/999999999",
                "pid/0",
                "pid/-3",
                "pid/abc",
                "ip/192.0.2.77",
                "ip/203.0.113.300",
                "ip/",
                "pod/nope",
                "pod/UPPER_case",
                "container/0123abcd",
                "container/../x",
                "foo/bar",
                "",
            ),
            WEIRD,
            st.tuples(one("netns/", "nspath/", "nspath//", "pid/", "ip/", "pod/", "container/"), WEIRD).map(
                "".join
            ),
            p=0.7,
        ),
        "address": address,
        "answered": answered,
        "cidr": mostly(
            one("192.0.2.100/24", "192.0.2.200/24", "198.51.100.100/30", "2001:db8::100/64"),
            one("203.0.113.5/32", "192.0.2.0/24", "8.8.8.8/24", "192.0.2.100", "1.2.3.4/99"),
            WEIRD,
        ),
        "count": mostly(one("1", "2"), one("0", "-1", "100001", "9" * 30, "x", "1.5", ""), WEIRD),
        "interval": mostly(
            one("0.2", "0.25"), one("0", "-1", "61", "nan", "inf", "-inf", "1e309", "x", ""), WEIRD
        ),
        "timeout": mostly(one("1"), one("0", "-2", "x", "")),
        "mtu": mostly(one("1400", "1500"), one("0", "-5", "67", "70000", "x"), WEIRD),
        "ifname": mostly(
            st.text("0123456789abcdef", min_size=4, max_size=8).map(lambda s: "vz" + s),
            one("", "a/b", "a b", "-x", "x" * 16, ".", "..", "lo", "eth0", "a:b"),
            WEIRD,
        ),
        "filter": mostly(
            one("", "arp", "icmp", "udp port 9", "arp or icmp"), one("not a filter (((", "port 99999"), WEIRD
        ),
        # below a regular file: a directory that cannot exist, nor be made (the audit log makes its parents)
        "file": one(f"{tmp}/out.pcap", f"{tmp}/t.sh", f"{tmp}/blocker/x", tmp, f"{tmp}/"),
        "probe": mostly(
            one(f"icmp:{gateway}", "tcp:192.0.2.200:80", f"udp:{gateway}:9", f"dns:lab.example@{gateway}"),
            one("tcp:1.2.3.4", "xyz:1", "dns:@", "tcp:192.0.2.1:99999", "tcp:[2001:db8::1]:80", "icmp:", ""),
            WEIRD,
        ),
        "session": mostly(one("deadbeef", "00000000", "zz", "DEADBEEF"), WEIRD),
        "selector": mostly(one("app=web", "a b", "=", ""), WEIRD),
        "kns": mostly(one("shop", "default", "kube-system", "UPPER", "-n"), WEIRD),
        "via": mostly(
            one(None, None, None, "local", f"netns:{node}", "kubectl-debug"),
            one(
                "netns:",
                "netns:vz-nope",
                "netns:a/b",
                "ssh://",
                "ssh://:22",
                "ssh://h:99999",
                "ssh://h/path",
                "ftp://x",
            ),
            WEIRD,
        ),
        "output": mostly(one(None, "text", "json"), one("ndjson", "yaml")),
        "read": one(
            str(FIXTURES / "linux" / "tcpdump-icmp.pcap"),
            f"{tmp}/none.pcap",
            tmp,
            str(FIXTURES / "kubectl" / "SOURCES.md"),
        ),
    }


def maybe(draw, flag: str, strategy, p: float = 0.4) -> list[str]:
    return [flag, draw(strategy)] if draw(chance(p)) else []


@st.composite
def argv_of(draw, s: dict) -> list[str]:
    command = draw(
        one(
            "run",
            "up",
            "down",
            "status",
            "find",
            "routes",
            "ping",
            "trace",
            "probe",
            "capture",
            "lab",
            "completion",
            "nonsense",
        )
    )
    args: list[str] = [command]

    def attach() -> list[str]:
        return (
            maybe(draw, "--host-if", s["ifname"], 0.2)
            + maybe(draw, "--pod-if", s["ifname"], 0.2)
            + maybe(draw, "--host-addr", s["cidr"], 0.2)
            + maybe(draw, "--pod-addr", s["cidr"], 0.2)
            + maybe(draw, "--mtu", s["mtu"], 0.15)
        )

    def kube() -> list[str]:  # mostly where they apply: pod/ targets (elsewhere they are refused)
        pod = any(a.startswith("pod/") or (a and "/" not in a and not a.startswith("-")) for a in args[1:2])
        return maybe(draw, "-n", s["kns"], 0.3 if pod else 0.05) + maybe(draw, "--context", s["kns"], 0.05)

    if command == "run":
        args += ["-l", draw(s["selector"])] if draw(chance(0.1)) else [draw(s["target"])]
        args += attach() + kube()
        args += (
            ["--ping", draw(s["answered"])] if draw(chance(0.6)) else maybe(draw, "--ping", s["address"], 0.3)
        )
        args += maybe(draw, "--probe", s["probe"], 0.15)
        args += ["--count", draw(s["count"])] if draw(chance(0.9)) else []
        args += ["--interval", draw(s["interval"])] if draw(chance(0.9)) else []
        args += maybe(draw, "--timeout", s["timeout"], 0.2) + maybe(draw, "--filter", s["filter"], 0.3)
        args += maybe(draw, "--pcap", s["file"], 0.15) + maybe(draw, "--transcript", s["file"], 0.15)
        args += [f for f in ("--keep", "--dry-run", "--sudo") if draw(chance(0.15))]
    elif command == "up":
        args += [draw(s["target"])] + attach() + kube()
    elif command == "down":
        args += draw(st.lists(s["session"], max_size=3))
    elif command in ("find", "routes"):
        args += [draw(s["target"])] + kube()
        if command == "routes":
            args += maybe(draw, "--to", s["address"], 0.5)
    elif command == "ping":
        args += [draw(s["target"]), draw(st.one_of(s["answered"], s["address"]))] + kube()
        args += ["--count", draw(s["count"]), "--interval", draw(s["interval"])]
    elif command == "trace":
        args += [draw(s["target"])] + kube()
        args += (
            ["--to", draw(st.one_of(s["answered"], s["address"]))]
            if draw(st.booleans())
            else maybe(draw, "--probe", s["probe"], 0.8)
        )
        args += ["--count", draw(s["count"]), "--interval", draw(s["interval"])] + maybe(
            draw, "--timeout", s["timeout"], 0.5
        )
    elif command == "probe":
        args += [
            draw(s["target"]),
            draw(s["probe"]),
            "--count",
            draw(s["count"]),
            "--timeout",
            draw(one("1", "0", "x")),
        ]
        args += maybe(draw, "--pcap", s["file"], 0.2) + kube()
    elif command == "capture":
        mode = draw(one("read", "session", "iface", "target", "selector", "none"))
        if mode == "read":
            args += ["--read", draw(s["read"])]
        elif mode == "session":
            args += [draw(s["session"])]
        elif mode == "iface":
            args += ["--iface", draw(st.one_of(one("eth0", "lo"), s["ifname"]))]
            args += maybe(draw, "--netns", st.one_of(one(s["pod_netns"]), s["ifname"]), 0.8)
        elif mode == "target":
            args += [draw(s["target"])]
        elif mode == "selector":
            args += ["-l", draw(s["selector"])] + kube()
        args += maybe(draw, "--filter", s["filter"], 0.3) + maybe(draw, "--count", s["count"], 0.3)
        args += maybe(draw, "--pcap", s["file"], 0.15)
        # a capture that runs must end by itself: a short duration, or one that is refused
        args += ["--duration", draw(st.one_of(one("0.3"), one("0", "-1", "x", "nan", "inf", "86401")))]
    elif command == "lab":
        args += [draw(one("status", "nope", ""))]
    elif command == "completion":
        args += [draw(st.one_of(one("bash", "zsh", "fish"), WEIRD))]
    else:
        args += draw(st.lists(WEIRD, max_size=3))
    if command not in ("completion",):
        via = draw(s["via"])
        args += ["--via", via] if via is not None else []
        out = draw(s["output"])
        args += ["-o", out] if out is not None else []
        args += [f for f in ("-v", "-q") if draw(chance(0.1))]
        args += maybe(draw, "--audit-log", one(s["audit"], f"{s['tmp']}/blocker/a.jsonl"), 0.1)
    if draw(chance(0.1)):  # one more, anywhere
        args.insert(draw(st.integers(0, len(args))), draw(WEIRD))
    return args


def call(argv: list[str]) -> tuple[int, str, str]:
    """The CLI in this process, as its entry point runs it; SystemExit is argparse's way of exiting."""
    from vethctl.cli.main import main
    from vethctl.execute.hosts.registry import Hosts

    out, err = io.StringIO(), io.StringIO()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = main(argv, hosts=Hosts())
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return rc, out.getvalue(), err.getvalue()


def state(lab: dict, tmp: str) -> dict:
    sessions = os.path.join(os.environ["VETHCTL_STATE_DIR"], "sessions")
    return {
        "node": snapshot(lab["node_netns"]),
        "pods": [snapshot(p["netns"]) for p in lab["pods"]],
        "records": sorted(os.listdir(sessions)) if os.path.isdir(sessions) else [],
        "files": sorted(os.listdir(tmp)),
    }


def clean(lab: dict, tmp: str, before: dict) -> None:
    """After a vector that succeeded: what it made goes (an `up`, a kept run, a pcap)."""
    for name in tagged_links(lab["node_netns"]):
        subprocess.run(["ip", "-n", lab["node_netns"], "link", "del", name], capture_output=True)
    sessions = os.path.join(os.environ["VETHCTL_STATE_DIR"], "sessions")
    for name in set(os.listdir(sessions) if os.path.isdir(sessions) else ()) - set(before["records"]):
        os.unlink(os.path.join(sessions, name))
    for name in set(os.listdir(tmp)) - set(before["files"]):
        path = os.path.join(tmp, name)
        if os.path.isfile(path):
            os.unlink(path)


@pytest.mark.timeout(900)
def test_generated_argument_vectors_exit_by_the_contract_and_change_nothing_when_they_fail(
    scratch_lab, kube_api, tmp_path
):
    lab, tmp = scratch_lab, str(tmp_path / "files")
    os.makedirs(tmp)
    (tmp_path / "files" / "blocker").write_text("a file, so that nothing can be made below it\n")
    serve(
        kube_api,
        "pod-running.json",
        name="web-0",
        namespace="shop",
        node=lab["name"],
        ip=lab["pods"][0]["ip"],
    )
    s = strategies(lab, tmp) | {
        "audit": str(tmp_path / "audit.jsonl"),
        "pod_netns": lab["pods"][0]["netns"],
        "tmp": tmp,
    }
    seen: dict[int, int] = {}

    @settings(
        max_examples=int(os.environ.get("VETHCTL_FUZZ_EXAMPLES", "150")),
        deadline=None,
        derandomize=False,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(argv=argv_of(s))
    @example(argv=["find", "nspath/" + "a" * 5000])  # found by this test: a name too long was a traceback
    @example(argv=["find", "nspath/" + "a/" * 3000])
    @example(argv=["run", "netns/" + "é" * 300, "--count", "1"])
    @example(argv=["down", "x" * 100000])
    def check(argv):
        before = state(lab, tmp)
        rc, out, err = call(argv)
        seen[rc] = seen.get(rc, 0) + 1
        assert rc in CONTRACT, (argv, rc, err)
        assert "Traceback" not in err, (argv, err)
        if rc == 0:
            clean(lab, tmp, before)
            return
        assert err.strip(), (argv, "a failure says why")
        after = state(lab, tmp)
        if rc == 1:  # a driven command failed: what it made is removed (an output file may remain)
            before.pop("files"), after.pop("files")
        assert after == before, (argv, rc, err)

    try:
        check()
    finally:
        from vethctl import audit

        audit.setup(0, os.environ.get("VETHCTL_AUDIT_LOG"))
    assert len(seen) >= 3, seen  # the vectors reach more than argparse: bad input, not found, success...
