"""Reports, finance and notify read the store only through its named read functions.

recon/store.py and recon/tables.py are the only modules that know the tables' layouts
(issue 21): a report that runs its own SQL breaks silently when a migration renames a
column, and two reports asking the same question in two spellings can answer it two ways.
Every module of reports/, recon/finance/ and recon/notify.py is read with :mod:`ast`; a
call of ``.execute(`` / ``.executemany(`` / ``.sql(``, any use of a ``.db`` attribute (the
store's connection) or an import of duckdb is a query of its own.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the modules that show what the store holds: they ask recon/store.py, never the tables
WATCHED = sorted([*(ROOT / "reports").rglob("*.py"), *(ROOT / "recon" / "finance").rglob("*.py"),
                  ROOT / "recon" / "notify.py"])
#: module -> why it still queries the store itself
KNOWN: dict[str, str] = {}
QUERY_CALLS = {"execute", "executemany", "sql"}


def own_queries(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place ``source`` reaches the database other than through a
    named read function."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in QUERY_CALLS:
            out.append((node.lineno, f".{node.func.attr}("))
        elif isinstance(node, ast.Attribute) and node.attr == "db":
            out.append((node.lineno, ".db"))
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "duckdb"
                                                  for a in node.names):
            out.append((node.lineno, "import duckdb"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "duckdb":
            out.append((node.lineno, "from duckdb import"))
    return sorted(set(out))


def test_reports_finance_and_notify_query_no_table_themselves():
    bad = []
    for path in WATCHED:
        name = path.relative_to(ROOT).as_posix()
        if name in KNOWN:
            continue
        bad += [f"{name}:{line} {what}"
                for line, what in own_queries(path.read_text(encoding="utf-8"))]
    assert not bad, ("these read the store's tables themselves; add a named read function "
                     "to recon/tables.py (section 'reads for reports') instead:\n"
                     + "\n".join(bad))


def test_every_known_exception_still_queries():
    """An exception that no longer queries is removed from KNOWN, so the list stays true."""
    for name in KNOWN:
        assert (ROOT / name).is_file(), f"{name} is gone: remove it from KNOWN"
        assert own_queries((ROOT / name).read_text(encoding="utf-8")), \
            f"{name} no longer queries the store itself: remove it from KNOWN"


def test_the_walk_sees_each_way_of_querying():
    source = ("import duckdb\n"
              "def build(store, day):\n"
              "    db = store.db\n"
              "    db.execute('SELECT 1')\n"
              "    store.db.sql('SELECT 2')\n"
              "    return stored.night_findings(store, day)\n")
    assert own_queries(source) == [(1, "import duckdb"), (3, ".db"), (4, ".execute("),
                                   (5, ".db"), (5, ".sql(")]
    assert own_queries("from recon import store as stored\n"
                       "rows = stored.night_source_runs(store, day)\n") == []
