"""crictl's commands: inspect a container, inspectp a pod sandbox (ids kept to a safe alphabet)."""

from __future__ import annotations

import re

from vethctl.errors import BadInput

# crictl accepts a full id or a unique prefix; ids are hex, names that reach here are kept to a safe alphabet.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_id(container_id: str, what: str = "container") -> str:
    if not isinstance(container_id, str) or not _ID.fullmatch(container_id):
        raise BadInput(
            f"{container_id!r} is not a {what} id",
            hint=f"`crictl {'ps' if what == 'container' else 'pods'}` lists the ids (a unique prefix "
            "is enough)",
        )
    return container_id


def inspect_argv(container_id: str) -> tuple[str, ...]:
    return ("crictl", "inspect", check_id(container_id))


def inspectp_argv(sandbox_id: str) -> tuple[str, ...]:
    return ("crictl", "inspectp", check_id(sandbox_id, "pod sandbox"))
