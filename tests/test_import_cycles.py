"""No import cycle anywhere in json2db_sync, read from the source (no module is imported).

The graph has one edge per import statement that runs: at module level or inside a function
(a lazy import still ties two modules together), relative or absolute, ``import a.b`` and
``from a import b`` (an edge to ``a.b`` when that is a module, and to ``a`` when ``a`` is a
package that is not an ancestor of the importer, since its ``__init__`` runs first), and
``importlib.import_module`` with a literal name (a computed one, like the package's lazy
``JSON2DBSyncRunner`` attribute, is not seen). Imports under ``if TYPE_CHECKING:`` never run
and are left out: they are how an annotation names a type without an import at run time.

A failure names each cycle as a path of modules, with the file and line of every import on it.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "json2db_sync"


@dataclass(frozen=True)
class Edge:
    """One import of ``target`` by ``source``, where it is written."""

    source: str
    target: str
    path: str
    line: int


def _modules(package_dir: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package) for every ``.py`` file under the package."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> list[ast.stmt | ast.Call]:
    """Every import that can run, at any depth; the body of ``if TYPE_CHECKING:`` skipped."""
    found: list[ast.stmt | ast.Call] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for branch in child.orelse:
                found.extend(_import_nodes_of(branch))
            continue
        found.extend(_import_nodes_of(child))
    return found


def _import_nodes_of(node: ast.AST) -> list[ast.stmt | ast.Call]:
    """``node`` itself when it runs an import, then the imports inside it."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Call)) and (
        not isinstance(node, ast.Call) or _is_import_module(node)
    ):
        return [node, *_import_nodes(node)]
    return _import_nodes(node)


def _is_import_module(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name == "import_module" and bool(call.args) and isinstance(call.args[0], ast.Constant)


def _resolve(package: str, level: int, module: str | None) -> str:
    """The absolute name of ``from <level dots><module> import ...`` written in ``package``."""
    if not level:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _targets(node: ast.stmt | ast.Call, package: str, modules: dict[str, tuple[Path, bool]]) -> list[str]:
    """The modules one import statement runs (within the graph's package or not)."""
    if isinstance(node, ast.Import):
        return [name for alias in node.names for name in _with_parents(alias.name)]
    if isinstance(node, ast.ImportFrom):
        base = _resolve(package, node.level, node.module)
        submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
        return _with_parents(base) + submodules
    first = node.args[0] if isinstance(node, ast.Call) else None
    literal = first.value if isinstance(first, ast.Constant) else None
    if not isinstance(literal, str):
        return []
    stripped = literal.lstrip(".")
    return _with_parents(_resolve(package, len(literal) - len(stripped), stripped or None))


def _with_parents(name: str) -> list[str]:
    """``a.b.c`` and the packages Python initialises before it: ``a``, ``a.b``."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def import_edges(package_dir: Path) -> list[Edge]:
    """Every import between two modules of the package in ``package_dir``, in file order."""
    modules = _modules(package_dir)
    edges: list[Edge] = []
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_nodes(tree):
            for target in _targets(node, package, modules):
                ancestor = name == target or name.startswith(target + ".")
                if target in modules and not ancestor:
                    shown = path.relative_to(package_dir.parent).as_posix()
                    edges.append(Edge(name, target, shown, node.lineno))
    return edges


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module (each holds at least one cycle), iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def find_cycles(edges: list[Edge]) -> list[str]:
    """One line per component with a cycle: its shortest cycle and where each import is."""
    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
        where.setdefault((edge.source, edge.target), []).append(edge)
    described = []
    for component in _strongly_connected(graph):
        cycle = _shortest_cycle(graph, component[0], set(component))
        steps = [
            f"{a} imports {b} at " + ", ".join(f"{e.path}:{e.line}" for e in where[(a, b)])
            for a, b in pairwise(cycle)
        ]
        others = f" (its component also holds {', '.join(sorted(set(component) - set(cycle)))})" if len(
            set(component)) > len(set(cycle)) else ""
        described.append(" -> ".join(cycle) + others + "\n    " + "\n    ".join(steps))
    return described


def test_json2db_sync_has_no_import_cycle() -> None:
    edges = import_edges(PACKAGE_DIR)
    cycles = find_cycles(edges)
    assert not cycles, "import cycles (break each by moving what both need below both):\n" + "\n".join(cycles)


def test_the_graph_sees_lazy_imports_of_the_real_package() -> None:
    """Guards the test above against passing on an empty graph: the command line opens the
    menu with an import inside a function, and the runner loads the sample data generator so."""
    pairs = {(edge.source, edge.target) for edge in import_edges(PACKAGE_DIR)}
    assert ("json2db_sync.cli", "json2db_sync.main_json2db_sync") in pairs
    assert ("json2db_sync.runner_json2db_sync", "json2db_sync.sample_data") in pairs
    assert ("json2db_sync.main_json2db_sync", "json2db_sync.cli") not in pairs


def _write_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for name, text in files.items():
        target = package / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return package


CYCLE_CASES = {
    "relative-at-top": (
        {"__init__.py": "", "a.py": "from .b import x\n", "b.py": "from . import a\nx = 1\n"},
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "absolute-inside-a-function": (
        {"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "def f():\n    from pkg.a import y\n"},
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "through-a-subpackage-init": (
        {"__init__.py": "", "a.py": "from .sub.c import z\n", "sub/__init__.py": "from .. import a\n", "sub/c.py": ""},
        "pkg.a -> pkg.sub -> pkg.a",
    ),
    "import-module-literal": (
        {"__init__.py": "", "a.py": "import importlib\nm = importlib.import_module('pkg.b')\n",
         "b.py": "from .a import m\n"},
        "pkg.a -> pkg.b -> pkg.a",
    ),
    "three-modules": (
        {"__init__.py": "", "a.py": "from . import b\n", "b.py": "from . import c\n", "c.py": "from .a import q\n"},
        "pkg.a -> pkg.b -> pkg.c -> pkg.a",
    ),
}


@pytest.mark.parametrize("case", list(CYCLE_CASES), ids=list(CYCLE_CASES))
def test_a_cycle_is_found_and_named(tmp_path: Path, case: str) -> None:
    files, expected = CYCLE_CASES[case]
    cycles = find_cycles(import_edges(_write_package(tmp_path, files)))
    assert [line.split("\n")[0] for line in cycles] == [expected]
    assert "pkg/a.py:" in cycles[0]


ACYCLIC_CASES = {
    "type-checking-only": {
        "__init__.py": "",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
        "b.py": "from .a import x\n",
    },
    "a-package-importing-its-submodules": {
        "__init__.py": "",
        "sub/__init__.py": "from .c import f\n",
        "sub/c.py": "from .d import g\nfrom . import d\n",
        "sub/d.py": "",
    },
    "one-way": {"__init__.py": "from .a import x\n", "a.py": "import json\nfrom .b import y\n", "b.py": ""},
}


@pytest.mark.parametrize("case", list(ACYCLIC_CASES), ids=list(ACYCLIC_CASES))
def test_no_false_cycle(tmp_path: Path, case: str) -> None:
    assert find_cycles(import_edges(_write_package(tmp_path, ACYCLIC_CASES[case]))) == []
