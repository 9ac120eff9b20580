"""docs/architecture.md stays true to the code: its module tables say exactly what each module
imports, in one direction, and every ``module.name`` it points a reader to exists.

The import graph comes from the source, as in tests/test_import_cycles.py (imports under
``if TYPE_CHECKING:`` never run and do not count). The page's first table has one row per
top-level module or package (a package's modules counted as one, their imports of each other
left to the package's own table); each package has a table of its modules. In every table a
module may import only modules of rows above it: the rows run bottom-up, so the imports run
one way. The "may import" cell lists, comma-separated, the package's modules and the
third-party libraries the row imports, no more and no fewer; ``stdlib`` and ``nothing`` may
be written and are not checked, nor is text in parentheses (a note on why, or what is
imported by a computed name).
"""

from __future__ import annotations

import ast
import importlib
import re
import sys

import pytest
from test_import_cycles import PACKAGE_DIR, _import_nodes, _modules, import_edges

DOC = PACKAGE_DIR.parent / "docs" / "architecture.md"
TEXT = DOC.read_text(encoding="utf-8")
PACKAGE = PACKAGE_DIR.name
MODULES = _modules(PACKAGE_DIR)
PACKAGES = sorted(name for name, (_, is_package) in MODULES.items() if is_package and name != PACKAGE)
NOT_CHECKED = {"stdlib", "nothing", ""}
FILE_SUFFIXES = ("json", "py", "db", "md", "lock", "dump", "env")


def unit_of(module: str) -> str:
    """The top-level unit a module belongs to: ``json2db_sync.reader.shapes`` -> ``reader``,
    ``json2db_sync.errors`` -> ``errors``, the package itself -> ``__init__``."""
    parts = module.split(".")[1:]
    return parts[0] if parts else "__init__"


def row_name(module: str, package: str | None) -> str:
    """How the page names a module in a table: ``errors.py``, ``reader/`` (a package in the
    first table), ``shapes.py`` and ``__init__.py`` in a package's own table."""
    if package is None:
        unit = unit_of(module)
        is_package = f"{PACKAGE}.{unit}" in PACKAGES
        return f"{unit}/" if is_package else f"{unit}.py"
    if module == package:
        return "__init__.py"
    return module.rsplit(".", 1)[1] + ".py"


def third_party(module: str) -> set[str]:
    """Top-level names of the libraries outside stdlib a module imports at run time."""
    path, _ = MODULES[module]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names)
    return {name for name in found if name != PACKAGE and name not in sys.stdlib_module_names}


def actual_imports(package: str | None) -> dict[str, set[str]]:
    """Row name -> what that row imports, named as the table names it: for the first table
    the units outside the row's own; for a package's table the sibling modules (``shapes``)
    and the units outside the package; third-party libraries by their import name."""
    rows: dict[str, set[str]] = {}
    members = [m for m in MODULES if package is None or m == package or m.startswith(package + ".")]
    for module in members:
        rows.setdefault(row_name(module, package), set()).update(third_party(module))
    for edge in import_edges(PACKAGE_DIR):
        if edge.source not in members:
            continue
        target = edge.target
        if package is not None and target.startswith(package + "."):
            name = target.rsplit(".", 1)[1]
        elif unit_of(target) == unit_of(edge.source) and package is None:
            continue  # inside one unit: the package's own table says it
        else:
            name = unit_of(target)
        rows[row_name(edge.source, package)].add(name)
    return rows


def table_after(heading: str) -> list[tuple[str, set[str]]]:
    """(row name, may-import names) of the first Markdown table after ``heading``."""
    assert heading in TEXT, f"{DOC.name} has no heading {heading!r}"
    lines = TEXT.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| module |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = cells[0].strip("`")
        allowed = re.sub(r"\([^)]*\)", "", cells[-1])
        names = {token.strip().strip("`") for token in allowed.split(",")} - NOT_CHECKED
        rows.append((name, names))
    return rows


def check_table(heading: str, package: str | None) -> list[str]:
    """What the table under ``heading`` gets wrong, one line each (empty when it is exact)."""
    actual = actual_imports(package)
    rows = table_after(heading)
    names = [name for name, _ in rows]
    problems = [f"no row for {name}" for name in sorted(set(actual) - set(names))]
    problems += [f"a row for {name}, which is no module" for name in sorted(set(names) - set(actual))]
    problems += [f"{name} has two rows" for name in sorted({n for n in names if names.count(n) > 1})]
    in_table = {_key(name) for name in names}
    above: set[str] = set()
    for name, allowed in rows:
        real = actual.get(name, set())
        if real - allowed:
            problems.append(f"{name} imports {', '.join(sorted(real - allowed))}, which its row does not list")
        if allowed - real:
            problems.append(f"{name}'s row lists {', '.join(sorted(allowed - real))}, which it does not import")
        below = (real & in_table) - above
        if below:
            problems.append(f"{name} imports {', '.join(sorted(below))}, listed below it (imports run up the table)")
        above.add(_key(name))
    return problems


def _key(row: str) -> str:
    """The name a row goes by in a may-import cell: ``errors.py`` -> ``errors``, ``reader/`` -> ``reader``."""
    return row.removesuffix(".py").removesuffix("/")


def test_the_module_table_says_exactly_what_each_module_imports() -> None:
    problems = check_table("## Modules and what they may import", None)
    assert not problems, "docs/architecture.md, first module table:\n" + "\n".join(problems)


def test_each_package_table_says_exactly_what_its_modules_import() -> None:
    problems = []
    for package in PACKAGES:
        short = package.split(".", 1)[1]
        problems += [f"{short}/: {line}" for line in check_table(f"### Inside `{short}/`", package)]
    assert not problems, "docs/architecture.md, package tables:\n" + "\n".join(problems)


def section(heading: str) -> str:
    assert heading in TEXT, f"{DOC.name} has no heading {heading!r}"
    return TEXT.split(heading, 1)[1].split("\n## ", 1)[0]


def dotted_names(text: str) -> list[str]:
    """Every ``a.b`` (or ``a.b()``) in backquotes, file names (``invoices.json``) left out."""
    found = re.findall(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(\))?`", text)
    return [name for name in found if name.rsplit(".", 1)[1] not in FILE_SUFFIXES]


def resolve(name: str) -> str | None:
    """None when ``name`` is a module of the package, or an attribute of one; else why not."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join([PACKAGE, *parts[:cut]])
        if module_name not in MODULES:
            continue
        target: object = importlib.import_module(module_name)
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return f"{name}: {'.'.join(parts[:cut])} has no {attribute!r} there"
            target = getattr(target, attribute)
        return None
    return f"{name}: {parts[0]} is no module of {PACKAGE}"


def test_every_name_the_walk_through_points_to_exists() -> None:
    """"Follow one record" names, at each step, the function that does it, fully qualified."""
    names = dotted_names(section("## Follow one record"))
    assert len(names) >= 20
    problems = [problem for name in names if (problem := resolve(name)) is not None]
    assert not problems, "docs/architecture.md, Follow one record:\n" + "\n".join(problems)


def test_every_module_name_on_the_page_exists() -> None:
    """Elsewhere, a dotted name starting with a module of the package must exist too (a moved
    function is caught wherever the page mentions it); ``conn.dialect`` and the like are not
    module names and are left alone."""
    units = {unit_of(module) for module in MODULES}
    names = [name for name in dotted_names(TEXT) if name.split(".")[0] in units]
    problems = [problem for name in names if (problem := resolve(name)) is not None]
    assert not problems, "docs/architecture.md:\n" + "\n".join(problems)


def test_the_checks_see_a_wrong_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the tests above against passing on a page they cannot read."""
    import test_architecture_doc as me

    rows = dict(table_after("## Modules and what they may import"))
    assert "errors" in rows["reader/"] and "pipeline" not in rows["reader/"]
    monkeypatch.setattr(me, "TEXT", TEXT.replace("| `ledger.py` |", "| `ledgers.py` |", 1))
    problems = me.check_table("## Modules and what they may import", None)
    assert "no row for ledger.py" in problems and "a row for ledgers.py, which is no module" in problems
    assert resolve("ledger.read_ledger_view") is None
    assert resolve("data_populator.read_ledger_view") is not None
