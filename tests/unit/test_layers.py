"""The package's layers, checked: every import (those inside functions too) goes to a lower layer or stays
in its own, there is no import cycle, the scenarios never import each other, and the few libraries with one
home stay there (plumbum and subprocess in execute/, shlex in render, loguru's set-up in audit)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "vethctl"

# the layer of each top-level module or package of vethctl (STYLE.md's table)
LAYERS = {
    "errors": 0,
    "secure": 0,
    "model": 0,
    "results": 0,
    "probespec": 0,
    "__init__": 0,
    "commands": 1,
    "parsers": 1,
    "pcap": 1,
    "plan": 2,
    "render": 2,
    "audit": 2,
    "execute": 3,
    "state": 4,
    "resolve": 4,
    "allocate": 4,
    "explain": 4,
    "scenarios": 5,
    "output": 6,
    "cli": 6,
    "__main__": 7,
}
ONLY_IN = {  # library -> the only places that may import it
    "plumbum": ("vethctl.execute",),
    "subprocess": ("vethctl.execute",),
    "shlex": ("vethctl.render", "vethctl.execute.hosts.ssh"),  # ssh: VETHCTL_SSH_OPTS is split, not quoted
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (at the top, in functions, in classes)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def _internal(imported: set[str]) -> set[str]:
    return {m for m in imported if m in MODULES and m != "vethctl"}


GRAPH = {m: _internal(_imports(p)) - {m} for m, p in MODULES.items()}  # a package's __init__ names itself


def test_every_module_has_a_layer():
    assert all(m == "vethctl" or m.split(".")[1] in LAYERS for m in MODULES), sorted(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_or_stay_in_the_layer(module):
    upward = sorted(m for m in GRAPH[module] if _layer(m) > _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports {upward}"


def test_scenarios_never_import_each_other():
    for module, deps in GRAPH.items():
        if module.startswith("vethctl.scenarios."):
            command = module.split(".")[2]  # a command's own package (scenarios/lab/) may share its modules
            others = {d for d in deps if d.startswith("vethctl.scenarios.") and d.split(".")[2] != command}
            assert not others, module


def test_no_import_cycle():
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            # a package's __init__ is not its submodules: `vethctl.plan.run` importing `vethctl.plan` is fine
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join([*stack, module, dep]))
            if dep not in state:
                visit(dep, [*stack, module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_libraries_with_one_home(library):
    for module, path in MODULES.items():
        if library in _imports(path) or any(i.startswith(library + ".") for i in _imports(path)):
            assert module.startswith(ONLY_IN[library]), f"{module} imports {library}"


def test_loguru_is_set_up_only_in_audit():
    for module, path in MODULES.items():
        text = path.read_text()
        if "logger.add(" in text or "logger.remove(" in text:
            assert module == "vethctl.audit", module


def test_no_module_is_over_500_lines():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 500}
    assert not long, long
