"""`vethctl up`: attach and leave in place, as a session with a record and tagged links.

Several pods at once (`up TARGET TARGET...`, `up -l SELECTOR`): each pod its own session, names and subnet,
chosen under one allocation lock; the pods are found and read at the same time, each node read once; every
pair of a node is made by two `ip -force -batch -` on the node and one `ip -batch -` in each pod
(plan/session.py). A pod that fails is undone alone (its own pair) and reported; an interruption undoes
every pair of the invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vethctl.allocate import EndsRequest, allocate, validate_request
from vethctl.errors import BadInput, CommandFailed, VethctlError
from vethctl.execute import batches, parallel
from vethctl.execute.executor import Executor, Journal
from vethctl.execute.facts import look
from vethctl.execute.hosts.registry import Hosts
from vethctl.execute.preflight import require_tools
from vethctl.model import Attachment, Node
from vethctl.plan import Step
from vethctl.plan.attach import node_side, pod_side
from vethctl.plan.session import build_up, create_pairs, host_ends, pod_end
from vethctl.resolve.kube import KubeScope
from vethctl.resolve.locate import Located, locate
from vethctl.resolve.via import parse_via
from vethctl.state.lock import AllocationLock
from vethctl.state.sessions import forget, session_record, write_record

if TYPE_CHECKING:  # the results are imported once there is one; -l's kubectl only with -l
    from vethctl.results.up import ManyUpResult, UpFailure, UpResult


def up(
    target: str,
    ends: EndsRequest,
    hosts: Hosts,
    *,
    via: str | None = None,
    sudo: bool = False,
    kube: KubeScope | None = None,
) -> UpResult:
    validate_request(ends)
    requested, _ = parse_via(via, sudo)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip")
    with AllocationLock():
        located, ex = locate(target, hosts=hosts, via=via, sudo=sudo, kube=kube)
        att = allocate(ends, located.pod, look(ex, None, "the node"), mode="up")
        ex.session = att.session
        rec = session_record(att, located.spec, located.node)
        write_record(rec, ex.host)
        try:
            ex.execute(build_up(att))
        except BaseException:
            forget(att.session, ex.host)
            raise
    from vethctl.results.up import UpResult

    return UpResult(rec, tuple(ex.journal.as_json()))


@dataclass
class _Pod:
    """One pod of a several-pod `up`, as it goes."""

    label: str  # the target as given (or the pod a selector matched)
    located: Located | None = None
    ex: Executor | None = None
    att: Attachment | None = None
    record: dict | None = None
    error: VethctlError | None = None
    removed: tuple[str, ...] = ()
    already_gone: tuple[str, ...] = ()


def up_many(
    targets: list[str],
    ends: EndsRequest,
    hosts: Hosts,
    *,
    via: str | None = None,
    sudo: bool = False,
    kube: KubeScope | None = None,
    selector: str | None = None,
) -> ManyUpResult:
    validate_request(ends)
    if ends.host_if or ends.pod_if or ends.host_addr or ends.pod_addr:
        raise BadInput(
            "--host-if/--pod-if/--host-addr/--pod-addr name one pair",
            hint="give one TARGET, or let up choose names and subnets for each pod",
        )
    requested, _ = parse_via(via, sudo)
    journal = Journal()
    skipped: tuple = ()
    scope = kube or KubeScope()
    if selector:
        from vethctl.resolve.select import select

        found, skipped_pods = select(
            selector, scope, via, hosts, Executor(hosts.local, Node(), journal=journal)
        )
        # each pod where select() placed it, as run -l does: by its address on the node that holds it, or
        # by its name through a debugging pod on its node
        pods = [_Pod(pod.ref) for pod, _ in found]
        targets = [f"pod/{p.name}" if pl.how == "kubectl-debug" else f"ip/{p.pod_ip}" for p, pl in found]
        vias = [pl.via for _, pl in found]
        scopes = [
            KubeScope(namespace=p.namespace, context=scope.context)
            if pl.how == "kubectl-debug"
            else KubeScope()
            for p, pl in found
        ]
        skipped = tuple(skipped_pods)
    else:
        pods = [_Pod(t) for t in targets]
        vias, scopes = [via] * len(targets), [scope] * len(targets)
    if requested.host != "kubectl-debug":
        require_tools(hosts.get(requested), "ip")
    pending: dict[str, tuple[Executor, tuple[Step, ...]]] = {}  # session -> the undo of a pair that may exist
    with AllocationLock():
        try:

            def find(i: int) -> None:
                try:
                    pods[i].located, pods[i].ex = locate(
                        targets[i], hosts=hosts, via=vias[i], sudo=sudo, kube=scopes[i], journal=journal
                    )
                except VethctlError as exc:
                    pods[i].error = exc

            parallel.each(find, range(len(pods)))
            by_node: dict[Node, list[_Pod]] = {}
            for pod in pods:
                if pod.located is not None:
                    by_node.setdefault(pod.located.node, []).append(pod)
            taken: list[Attachment] = []
            for group in by_node.values():
                _attach_node(group, ends, taken, pending)
            for pod in pods:  # the pods that failed half-way: each undone alone, and said so
                if pod.error is not None and pod.att is not None:
                    _undo(pod, pending)
        except BaseException:
            for ex, undos in _by_executor(pending.values()):  # every pair of this invocation
                ex.undo_stack = list(undos)
                ex.unwind()
            for pod in pods:
                if pod.record is not None:
                    forget(pod.record["session"], pod.ex.host)
            raise
    from vethctl.results.up import ManyUpResult

    return ManyUpResult(
        sessions=tuple(p.record for p in pods if p.error is None and p.record is not None),
        failed=tuple(_failure(p) for p in pods if p.error is not None),
        skipped=skipped,
        commands=tuple(journal.as_json()),
        selector=selector,
    )


def _attach_node(group: list[_Pod], ends: EndsRequest, taken: list[Attachment], pending: dict) -> None:
    """Every pod of one node: its view read once, names and subnets chosen one after the other, then the pairs
    made in three steps (plan/session.py), each pod going on only while its own lines succeed."""
    ex = group[0].ex
    try:
        view = look(ex, None, "the node")
    except VethctlError as exc:
        for pod in group:
            pod.error = exc
        return
    for pod in group:
        try:
            pod.att = allocate(ends, pod.located.pod, view, mode="up", taken=taken)
        except VethctlError as exc:
            pod.error = exc
            continue
        taken.append(pod.att)
        pod.record = session_record(pod.att, pod.located.spec, pod.located.node)
        write_record(pod.record, ex.host)
    live = [p for p in group if p.error is None]
    owner = {line: pod for pod in live for line in (*node_side(pod.att), *pod_side(pod.att))}
    for build in (create_pairs, host_ends):
        for step in build([p.att for p in live]):
            _run(ex, [step], owner, pending)
        live = [p for p in live if p.error is None]

    def in_the_pod(pod: _Pod) -> None:
        _run(ex.on(ex.node, session=pod.att.session), pod_end(pod.att), owner, pending)

    parallel.each(in_the_pod, live)


def _run(ex: Executor, steps: list[Step], owner: dict, pending: dict) -> None:
    """Run steps for the pods their lines belong to, while they succeed: a pod whose line fails keeps that
    line's error; a pair whose creation did not happen has nothing to undo (a name taken is not ours)."""
    for step in steps:
        lines = step.batch or (step,)
        for line in lines:
            if line.undo:  # from now on it may exist: an interruption undoes it
                pending[owner[line].att.session] = (ex, line.undo)
        result = ex.run(step, check=False)
        if result.rc in step.ok_codes:
            continue
        where = f"pod netns {step.netns}" if step.netns else "node"
        for line, exc in batches.line_failures(result, ex.argv_of, where):
            if owner[line].error is None:
                owner[line].error = exc
        done = set(batches.done(result))
        for line in lines:
            if line.undo and line not in done:
                pending.pop(owner[line].att.session, None)
        return


def _undo(pod: _Pod, pending: dict) -> None:
    """Remove one failed pod's pair (if its creation happened) and its record."""
    forget(pod.att.session, pod.ex.host)
    got = pending.pop(pod.att.session, None)
    if got is None:
        return
    ex, undos = got
    ex.undo_stack, ex.already_gone = list(undos), []
    try:
        ex.unwind()
    except CommandFailed as exc:
        pod.error = VethctlError(f"{pod.error}; and its pair could not be removed: {exc}")
        return
    gone = {s.argv[-1] for s in ex.already_gone}
    pod.removed = tuple(s.argv[-1] for s in undos if s.argv[-1] not in gone)
    pod.already_gone = tuple(sorted(gone))


def _by_executor(entries) -> list[tuple[Executor, list[Step]]]:
    out: dict[Node, tuple[Executor, list[Step]]] = {}
    for ex, undos in entries:
        out.setdefault(ex.node, (ex, []))[1].extend(undos)
    return list(out.values())


def _failure(pod: _Pod) -> UpFailure:
    from vethctl.results.up import UpFailure

    return UpFailure(
        target=pod.label,
        node=pod.located.node.label if pod.located else None,
        error=str(pod.error),
        exit_code=int(pod.error.exit_code),
        removed=pod.removed,
        already_gone=pod.already_gone,
    )
