"""The package's import graph has no loop, and what users run needs nothing from the tests.

Every ``import`` of a domwatch module counts, at the top of a module or inside a function
(a loop through a function-level import is still a loop: each side must know the other);
only imports under ``if TYPE_CHECKING:`` are left out, since they never run.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "domwatch"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (i for child in node.orelse for i in _imports(child, module, is_package))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from _imports(node, module, is_package)


def import_graph() -> dict[str, set[str]]:
    """domwatch module -> the domwatch modules it imports.

    A package's own ``__init__`` importing its submodules (``lab`` re-exporting its servers)
    is Python's way and no loop; only explicit imports are edges.
    """
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = {i for i in _imports(tree, name, path.name == "__init__.py") if i in MODULES}
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    # the check sees real edges, so an empty result means something
    graph = import_graph()
    assert "domwatch.model" in graph["domwatch.runner"]
    assert "domwatch.app" in graph["domwatch.cli"]  # a function-level import counts
    assert "domwatch.checks" in graph["domwatch.checks.dns"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_loops() -> None:
    assert cycles(import_graph()) == []


def test_nothing_in_the_package_imports_the_tests() -> None:
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        leaked = [i for i in _imports(tree, name, path.name == "__init__.py")
                  if i.split(".")[0] in ("tests", "pytest")]
        assert not leaked, f"{name} imports {leaked}"


@pytest.mark.parametrize(
    "module", ["domwatch.cli", "domwatch.app", "domwatch.lab.demo", "domwatch.serve.main"]
)
def test_what_users_start_imports_in_a_fresh_interpreter(module: str) -> None:
    # Where a command starts: an import loop or a missing module shows as an ImportError here
    # whatever the test run imported before.
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, timeout=60)
