"""Read-only looks through an executor, decoded: what a namespace's links, addresses and routes are, which
namespace a netns id names, which link is a pod interface's peer. They run in --dry-run too, and are
journalled like every command."""

from __future__ import annotations

from vethctl.commands import ip
from vethctl.execute.executor import Executor
from vethctl.model import Netns
from vethctl.parsers.ipbatch import documents
from vethctl.parsers.ipjson import NetView, NotJson, PodView, decode, netns_name_of
from vethctl.plan import Step
from vethctl.plan.batch import ip_batch

ANY_EXIT = frozenset(range(256))  # a lookup that finds nothing is an answer, not a failure


def read_json(ex: Executor, argv: tuple[str, ...], netns: Netns | None = None, *, purpose: str = "") -> list:
    """An `ip -j` (or `bridge -j`) read that must succeed: its decoded output."""
    return decode(ex.read(argv, netns, purpose=purpose).stdout)


def lookup_json(
    ex: Executor, argv: tuple[str, ...], netns: Netns | None = None, *, purpose: str = ""
) -> tuple[list, str]:
    """A lookup that may find nothing: its decoded output ([] on any failure) and what it said on stderr."""
    res = ex.read(argv, netns, purpose=purpose, ok_codes=ANY_EXIT)
    if res.rc != 0:
        return [], res.stderr.strip()
    try:
        return decode(res.stdout), res.stderr.strip()
    except NotJson:
        return [], res.stderr.strip()


def read_together(
    ex: Executor, argvs: list[tuple[str, ...]], netns: Netns | None = None, *, purpose: str = ""
) -> list[list]:
    """Several `ip -j` reads of one namespace that must succeed, as one process (`ip -j -batch -`, one read a
    line): each one's decoded output, in order. Reads that cannot share a batch run one by one."""
    steps = [Step(argv, netns, purpose=purpose, phase="inspect") for argv in argvs]
    batched = ip_batch(steps, purpose=purpose)
    if len(batched) != 1 or not batched[0].batch:
        return [read_json(ex, argv, netns, purpose=purpose) for argv in argvs]
    docs = documents(ex.run(batched[0]).stdout)
    if len(docs) != len(argvs):
        raise NotJson(
            f"ip -j -batch printed {len(docs)} JSON documents for {len(argvs)} reads", hint="run with -v"
        )
    return docs


def look(ex: Executor, netns: Netns | None, what: str, links: list[dict] | None = None) -> NetView:
    """A namespace's links with their addresses, and its routes of every table: one process."""
    if links is None:
        links, routes = read_together(
            ex,
            [ip.addr_show_json(), ip.route_show_json()],
            netns,
            purpose=f"{what}: links, addresses, routes",
        )
    else:
        routes = read_json(ex, ip.route_show_json(), netns, purpose=f"{what}: routes, all tables")
    return NetView(links, routes)


def look_at_pod(ex: Executor, netns: Netns, links: list[dict] | None = None) -> PodView:
    view = look(ex, netns, "the pod", links)
    return PodView(view.links, view.routes, netns)


def netns_name(
    ex: Executor, nsid: int, seen_from: Netns | None, *, purpose: str, strict: bool = True
) -> str | None:
    """The name of the namespace that netns id `nsid` means, seen from `seen_from` (ids are per namespace)."""
    argv = ip.netns_list_id(nsid)
    ids = (
        read_json(ex, argv, seen_from, purpose=purpose)
        if strict
        else lookup_json(ex, argv, seen_from, purpose=purpose)[0]
    )
    return netns_name_of(ids, nsid)
