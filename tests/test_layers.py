"""The floors of ARCHITECTURE.md, walked: a module imports only from its floor or below,
no two modules import each other (directly or round a circle), and nothing is imported
inside a function except a heavy optional dependency.

Every ``import`` of every module is read with :mod:`ast`, those inside functions
included (a function-level import is how the last circle hid).
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("recon", "connectors", "reports")

#: module (or package prefix) -> floor, bottom up (ARCHITECTURE.md "Floors")
FLOORS = {
    # 1 foundation
    "recon": 1, "recon.errors": 1, "recon.money": 1, "recon.progress": 1, "recon.cells": 1,
    "recon.textfiles": 1, "recon.data": 1, "recon.config": 1, "recon.rules": 1,
    "recon.codes": 1, "recon.labels": 1, "recon.calendar": 1, "recon.outbox": 1,
    # the contract: read by nearly everything (its files are user files, read by cells)
    "recon.contract": 1,
    # 2 measure
    "connectors": 2,
    # 3 gate
    "recon.validation": 3,
    # 4 keep
    "recon.store": 4, "recon.schema": 4, "recon.tables": 4,
    # 5 conclude
    "recon.reconcile": 5, "recon.ledgers": 5, "recon.assess": 5, "recon.penalties": 5,
    "recon.conclude": 5, "recon.finance": 5,
    # 6 show
    "reports": 6, "recon.notify": 6, "recon.export": 6, "recon.lake": 6,
    # 7 orchestrate
    "recon.nightly": 7, "recon.demo": 7, "recon.cli": 7,
}
#: within the conclude floor, the order of ARCHITECTURE.md: the ledgers, then the monthly
#: assessment, then the penalty ledger, then conclude (which stores what they decide), then
#: finance (which reads the stored penalties of its period)
CONCLUDE = {"recon.reconcile": 0, "recon.ledgers": 1, "recon.assess": 2, "recon.penalties": 3,
            "recon.conclude": 4, "recon.finance": 5}
#: beside the floors: the simulator (only the demo and the CLI reach it)
BESIDE = ("recon.sim",)

#: what may be imported inside a function: heavy dependencies a command needs only
#: sometimes, each with the reason it waits
HEAVY = {
    "great_expectations": "GX takes seconds to import: only when a night validates",
    "weasyprint": "pango and fonts: only when a PDF is written",
    "pyspark": "an extra (recon[lake]): only when Spark runs",
    "openstack": "openstacksdk loads its service proxies: only when a cloud is pulled",
    "keystoneauth1": "comes with openstacksdk: only when a cloud is pulled",
    "openpyxl": "only when an XLSX file is read",
    "xlsxwriter": "only when the finance workbook is written",
    "docx": "python-docx, only when a notice letter is written",
    "sqlalchemy": "GX's SQL engine (a dependency of great_expectations), only when the gate runs",
    "apprise": "loads its plugins: only when a mail is sent",
}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import, path: Path) -> list[str]:
    """The project modules an import statement names (``from recon import a, b``: both)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else base)
    return out


def _imports() -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, inside a function) for every import of every module."""
    out = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nested = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                nested |= {id(n) for n in ast.walk(fn) if n is not fn}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name in _resolve(module, node, path):
                    out.append((module, name, node.lineno, id(node) in nested))
    return out


IMPORTS = _imports()


def _floor(module: str) -> int | None:
    best = None
    for prefix, floor in FLOORS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best):
                best = prefix
    return FLOORS[best] if best else None


def _conclude(module: str) -> int | None:
    return next((o for p, o in CONCLUDE.items() if module == p or module.startswith(p + ".")),
                None)


def _beside(module: str) -> bool:
    return any(module == b or module.startswith(b + ".") for b in BESIDE)


def _project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def test_every_module_has_a_floor():
    lost = [m for m in MODULES if not _beside(m) and _floor(m) is None]
    assert not lost, f"modules with no floor in FLOORS: {lost}"


def test_no_module_imports_from_a_floor_above_it():
    bad = []
    for importer, name, line, _ in IMPORTS:
        if not _project(name) or _beside(importer):
            continue
        if _beside(name):
            if _floor(importer) != 7:
                bad.append(f"{MODULES[importer]}:{line} {importer} imports the simulator {name}")
            continue
        mine, theirs = _floor(importer), _floor(name)
        if theirs > mine:
            bad.append(f"{MODULES[importer].relative_to(ROOT)}:{line} {importer} (floor {mine}) "
                       f"imports {name} (floor {theirs})")
        elif mine == theirs == 5 and _conclude(name) > _conclude(importer):
            bad.append(f"{MODULES[importer].relative_to(ROOT)}:{line} {importer} imports "
                       f"{name}, later in the conclude floor (ledgers -> assess -> penalties)")
    assert not bad, "\n".join(bad)


def test_no_circle_between_modules():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer, name, _, _ in IMPORTS:
        if name in MODULES and name != importer and not name.startswith(importer + "."):
            graph[importer].add(name)
    # a package's __init__ importing its own modules is how packages work, not a circle
    state, path, circles = {}, [], []

    def visit(m):
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                circles.append(path[path.index(n):] + [n])
            elif n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_nothing_is_imported_inside_a_function_but_heavy_optional_dependencies():
    # the simulator stands beside the floors (and is being split into one module per
    # service): its own lazy imports are its business, its imports of recon are checked above
    bad = [f"{MODULES[importer].relative_to(ROOT)}:{line} imports {name} inside a function"
           for importer, name, line, nested in IMPORTS
           if nested and name.split(".")[0] not in HEAVY and not _beside(importer)]
    assert not bad, "\n".join(bad)


def test_the_walk_sees_function_level_imports():
    """The walker itself: a function-level import is found (the old circle hid in one)."""
    assert any(nested and name.startswith("weasyprint") for _, name, _, nested in IMPORTS)
