"""Another local user cannot make root's vethctl act for them (issue 17, "Local users"): each attack of the
security review, reproduced with an unprivileged user (uid 65534 through setpriv) in private directories.

Every directory here is a private one (a 0711 directory under /tmp with a part the user owns, or a 1777
"tmp" of the test's own): nothing of the machine's /tmp or of other users is touched."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.cli import vethctl

NOBODY = 65534


def as_nobody(*argv: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]


@pytest.fixture
def base():
    """A private directory: root's (0711, so that the user can reach what is theirs inside), with `home`
    (the user's own, as their home directory is) and `victim` (a file of root's that must never change)."""
    path = Path(tempfile.mkdtemp(prefix="vt-sec-"))
    os.chmod(path, 0o711)
    home = path / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    victim = path / "victim"
    victim.write_text("precious\n")
    os.chmod(victim, 0o600)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def unchanged(victim: Path) -> bool:
    st = victim.stat()
    return victim.read_bytes() == b"precious\n" and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0


def user_process(argv0: str) -> subprocess.Popen:
    """A process of the user's whose whole command line is [argv0] (cat waiting on its stdin)."""
    code = f"import os; os.execv('/bin/cat', [{argv0!r}])"
    proc = subprocess.Popen(as_nobody(sys.executable, "-c", code), stdin=subprocess.PIPE)
    for _ in range(200):  # until the exec happened: its command line is the one given
        try:
            if Path(f"/proc/{proc.pid}/cmdline").read_bytes() == argv0.encode() + b"\0":
                return proc
        except OSError:
            pass
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("the user's process did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def root_record(state: Path, rec: dict) -> Path:
    """A session record as root's vethctl writes one (0600 in a 0700 directory)."""
    sessions = state / "sessions"
    sessions.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = sessions / f"{rec['session']}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(rec, fh)
    return path


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# -- 1. ssh control sockets --------------------------------------------------------------------------------


def test_an_ssh_control_socket_planted_by_another_user_is_never_used(sshd, base):  # noqa: F811
    """The review's hijack: a user creates the socket at the predictable ControlPath first; root's ssh then
    talks to it (here: connects to it, which is all a master of the user's needs to get root's commands)."""
    tmp = base / "tmp"  # a /tmp of this test's own: world-writable, sticky
    tmp.mkdir()
    os.chmod(tmp, 0o1777)
    opts = sshd.env()["VETHCTL_SSH_OPTS"]
    digest = hashlib.sha256("\0".join(shlex.split(opts)).encode()).hexdigest()[:8]
    expanded = subprocess.run(
        ["ssh", "-G", "-p", str(sshd.port), "-o", "ControlPath=%C", "root@127.0.0.1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    conn_hash = next(line.split()[1] for line in expanded.splitlines() if line.startswith("controlpath "))
    planted = tmp / f"vethctl-ssh-0-{digest}-{conn_hash}"
    seen = base / "home" / "connected"
    listener = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); s.settimeout(60)\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    c, _ = s.accept(); open(sys.argv[2], 'w').write('root connected')\n"
        "except OSError:\n"
        "    pass\n"
    )
    attacker = subprocess.Popen(
        as_nobody(sys.executable, "-c", listener, str(planted), str(seen)), stdout=subprocess.PIPE, text=True
    )
    try:
        assert attacker.stdout.readline().strip() == "ready"
        proc = sshd.vethctl("status", "--via", sshd.url, check=False, env={"TMPDIR": str(tmp)}, timeout=60)
        assert not seen.exists(), "root's ssh used a control socket another user made"
        assert proc.returncode == 0, proc.stderr
    finally:
        stop(attacker)


def test_the_control_socket_directory_is_root_s_own_and_private():
    from vethctl.execute.hosts.ssh import control_dir

    path = control_dir()
    st = os.lstat(path)
    assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o700
    assert not path.startswith(tempfile.gettempdir())


# -- 2. files written through planted links ----------------------------------------------------------------


@pytest.mark.parametrize(
    "option,args,code",
    [
        ("--transcript", ["run", "TARGET", "--dry-run", "--transcript", "LINK"], 2),
        ("--audit-log", ["--audit-log", "LINK", "find", "TARGET"], 0),
        ("--pcap", ["run", "TARGET", "--count", "1", "--interval", "0.2", "--pcap", "LINK"], 2),
        (
            "capture --pcap",
            ["capture", "--iface", "eth0", "--netns", "NETNS", "--count", "1", "--pcap", "LINK"],
            2,
        ),
    ],
)
def test_a_link_planted_by_another_user_is_never_written_through(pod, state, base, option, args, code):
    """An output file in a directory the user can write (their home, a shared directory, the working
    directory of `sudo vethctl ...`), a link they made to a file of root's: root must neither clobber, chmod,
    chown nor append to it."""
    victim, link = base / "victim", base / "home" / "out"
    subprocess.run(as_nobody("ln", "-s", str(victim), str(link)), check=True)
    values = {"TARGET": f"netns/{pod['netns']}", "NETNS": pod["netns"], "LINK": str(link)}
    proc = vethctl(*[values.get(a, a) for a in args], check=False)
    assert unchanged(victim), f"root wrote, chmod'ed or chown'ed through a link given as {option}"
    assert proc.returncode == code, proc.stderr
    if code == 2:
        assert "symbolic link" in proc.stderr
    else:
        assert "cannot write the audit log" in proc.stderr


def test_another_user_s_file_is_not_overwritten(pod, base):
    home = base / "home"
    subprocess.run(as_nobody("sh", "-c", f"echo mine > {shlex.quote(str(home / 'out.sh'))}"), check=True)
    proc = vethctl(
        "run", f"netns/{pod['netns']}", "--dry-run", "--transcript", str(home / "out.sh"), check=False
    )
    assert proc.returncode == 2 and f"belongs to uid {NOBODY}" in proc.stderr
    assert (home / "out.sh").read_text() == "mine\n"


def test_a_pcap_is_opened_by_vethctl_and_stays_root_s(pod, state, base):
    """tcpdump writes the file vethctl opened (through its stdin), never a name; the file is root's after."""
    pcap = base / "cap.pcap"
    r = json.loads(
        vethctl(
            "run",
            f"netns/{pod['netns']}",
            "--count",
            "1",
            "--interval",
            "0.2",
            "--pcap",
            str(pcap),
            "-o",
            "json",
        ).stdout
    )
    assert any("/dev/stdin" in c["argv"] for c in r["commands"] if "tcpdump" in c["argv"])
    st = pcap.stat()
    assert st.st_uid == 0 and st.st_size > 24
    text = subprocess.run(["tcpdump", "-r", str(pcap), "-nn"], capture_output=True, text=True).stdout
    assert "Request who-has" in text


# -- 3. state records --------------------------------------------------------------------------------------


def test_state_is_private_whatever_the_umask(pod, base):
    """With umask 0, the review found the session directory 0777 and the records 0666."""
    state = base / "state"
    env = {"VETHCTL_STATE_DIR": str(state)}
    up = json.loads(
        vethctl("up", f"netns/{pod['netns']}", "-o", "json", env=env, preexec_fn=lambda: os.umask(0)).stdout
    )
    try:
        sessions = state / "sessions"
        assert stat.S_IMODE(sessions.stat().st_mode) == 0o700
        assert stat.S_IMODE((sessions / f"{up['session']}.json").stat().st_mode) == 0o600
    finally:
        vethctl("down", up["session"], env=env)


def test_a_record_planted_by_another_user_does_not_make_gc_kill(lab, base):
    """A session directory left 0777 (as a permissive umask made it): the user plants a record naming a root
    process as a dead run's capture; root's gc must not kill it."""
    state = base / "state"
    sessions = state / "sessions"
    sessions.mkdir(parents=True)
    os.chmod(state, 0o755)
    os.chmod(sessions, 0o777)
    victim = subprocess.Popen(["sleep", "300"])
    try:
        planted = {
            "session": "0badc0de",
            "mode": "run",
            "pid": dead_pid(),
            "created": time.time(),
            "node_netns": lab["node_netns"],
            "jobs": [{"pid": victim.pid, "argv": ["sleep", "300"]}],
        }
        code = f"import json,sys; json.dump({planted!r}, open(sys.argv[1], 'w'))"
        subprocess.run(as_nobody(sys.executable, "-c", code, str(sessions / "0badc0de.json")), check=True)
        env = {"VETHCTL_STATE_DIR": str(state)}
        vethctl("gc", "--via", f"netns:{lab['node_netns']}", "-o", "json", env=env)
        time.sleep(0.2)
        assert victim.poll() is None, "gc killed a root process a user's record named"
    finally:
        stop(victim)


def test_a_session_id_is_never_a_path(base):
    """`vethctl down ../../../x/victim` deleted victim.json: only 8 hex digits are a session id."""
    state = base / "state"
    (state / "sessions").mkdir(parents=True)
    victim = base / "victim.json"
    victim.write_text("{}")
    rel = os.path.relpath(base / "victim", state / "sessions")
    proc = vethctl("down", rel, check=False, env={"VETHCTL_STATE_DIR": str(state)})
    assert victim.exists(), "down deleted a file outside the state directory"
    assert proc.returncode == 2 and "not a session id" in proc.stderr
    # capture takes TARGET or SESSION: a path is neither (not 8 hex digits, no target kind)
    proc = vethctl("capture", rel, "--count", "1", check=False, env={"VETHCTL_STATE_DIR": str(state)})
    assert proc.returncode == 2 and "unknown target kind '..'" in proc.stderr and victim.exists()


# -- 4. gc liveness ----------------------------------------------------------------------------------------


def test_gc_does_not_kill_a_process_that_took_a_dead_capture_s_pid(lab, base):
    """The review: a user forked onto a dead capture's pid with the command line `arp or icmp` (the tail of
    the capture's), and root's gc killed it. The record is root's here: only the process is the user's."""
    state = base / "state"
    impostor = user_process("arp or icmp")
    try:
        node = lab["node_netns"]
        tool = [
            "tcpdump",
            "-i",
            "vh-0badc0de",
            "-nn",
            "-tt",
            "-e",
            "-l",
            "--immediate-mode",
            "--",
            "arp or icmp",
        ]
        root_record(
            state,
            {
                "session": "0badc0de",
                "mode": "run",
                "pid": dead_pid(),
                "created": time.time(),
                "node_netns": node,
                "jobs": [
                    {
                        "pid": impostor.pid,
                        "start": 1,
                        "argv": ["ip", "netns", "exec", node, *tool],
                        "tool_argv": tool,
                    }
                ],
            },
        )
        r = json.loads(
            vethctl(
                "gc", "--via", f"netns:{node}", "-o", "json", env={"VETHCTL_STATE_DIR": str(state)}
            ).stdout
        )
        time.sleep(0.2)
        assert impostor.poll() is None and r["stopped"] == []
    finally:
        stop(impostor)


def test_a_process_saying_vethctl_does_not_keep_a_dead_run_alive(lab, base):
    state = base / "state"
    impostor = user_process("vethctl-keepalive")
    try:
        path = root_record(
            state,
            {
                "session": "0badc0d2",
                "mode": "run",
                "pid": impostor.pid,
                "created": time.time(),
                "owner": {"start": 1, "argv": ["/usr/local/bin/vethctl", "run", "netns/x"]},
                "node_netns": lab["node_netns"],
                "jobs": [],
            },
        )
        vethctl(
            "gc", "--via", f"netns:{lab['node_netns']}", "-o", "json", env={"VETHCTL_STATE_DIR": str(state)}
        )
        assert not path.exists(), "a user's process named vethctl kept a dead run's record alive"
    finally:
        stop(impostor)


# -- 5. user namespaces ------------------------------------------------------------------------------------


def test_a_namespace_of_a_user_s_own_user_namespace_is_never_a_pod(lab):
    """`unshare -rn` by any user, an unused address of the lab's pod CIDR in it: ip/ must not find it there
    (`up ip/ADDR` would plug a node link into a namespace that user controls)."""
    address = str(ipaddress.ip_network(lab["pod_cidr"])[250 - secrets.randbelow(20)])
    script = f"ip addr add {address}/32 dev lo && ip link set lo up && echo ready && exec sleep 120"
    holder = subprocess.Popen(
        as_nobody("unshare", "-rn", "sh", "-c", script), stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = vethctl("find", f"ip/{address}", "-o", "json", check=False)
        assert proc.returncode == 3, proc.stdout
        assert f"/proc/{holder.pid}" not in proc.stdout
    finally:
        stop(holder)
