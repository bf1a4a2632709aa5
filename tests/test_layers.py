"""The package's layout: imports run one way, and nothing imports in a circle.

Every ``import`` and ``from ... import`` in the package is read with ``ast`` (those inside
functions included: a function-level import must not dodge a circle; those under
``if TYPE_CHECKING:`` are left out, as they never run). Each subpackage has a rank in the layer
order config -> core -> results -> run -> analysis -> plots -> report -> cli/api, and a module may
import only from its own rank or below.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "negotiation_sim"
RANK = {"config": 0, "core": 1, "results": 2, "run": 3, "analysis": 4, "plots": 5,
        "report": 6, "cli": 7, "api": 7, "explore": 7, "__main__": 8}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, child.end_lineno + 1))
    return lines


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules that ``path`` imports when it runs."""
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me and name.startswith("negotiation_sim"):
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {m: imports_of(p, modules) for m, p in files.items()}


def rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself: the version, and the API's lazy front door
        return RANK["__main__"]
    return RANK.get(parts[1], -1)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if n == "negotiation_sim":  # the version only; it imports nothing
                continue
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            return cycle
    return None


def test_every_subpackage_has_a_rank():
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert subpackages | modules <= set(RANK), sorted((subpackages | modules) - set(RANK))


def test_imports_follow_the_layer_order():
    bad = [f"{m} (rank {rank(m)}) imports {n} (rank {rank(n)})"
           for m, targets in graph().items() for n in targets
           if rank(n) > rank(m) and n != "negotiation_sim"]
    assert not bad, "\n".join(sorted(bad))


def test_no_import_circle():
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_check_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", ["negotiation_sim.plots", "negotiation_sim.results.reader",
                                    "negotiation_sim.report", "negotiation_sim.cli"])
def test_figures_and_results_load_without_mesa(module):
    code = f"import sys, {module}; sys.exit(1 if 'mesa' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, f"{module} imports mesa"
