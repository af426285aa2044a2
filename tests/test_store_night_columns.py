"""Store.replace_snapshot takes each night's lines as columns (recon/store.py _Night):
resources by (source, type, id), lines by number, quantities and units by distinct value."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.base import Lines, SourceResult
from recon.store import Store

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def _night(store, day, results):
    with store.transaction():
        store.replace_snapshot(day, store.new_run_id(), results,
                               {r.source: True for r in results})


def _lines(source, rows):
    out = Lines(source)
    for rtype, rid, name, item, qty, unit, attrs in rows:
        out.add(rtype, rid, name, "p", item, qty, unit, attrs)
    return out


def test_a_source_in_two_results_an_id_under_two_types_equal_quantities(tmp_path):
    shared = {"flavor": "s6.large.2"}
    a = _lines("openstack:compute", [("server", "x", "web", 1, Decimal("2"), "vCPU", shared),
                                     ("server", "x", "web", 2, Decimal("4.0"), "GB", shared),
                                     ("volume", "x", "disk", 5, 4, None, None)])
    b = _lines("openstack:compute", [("server", "y", "db", 1, Decimal("2.000"), "vCPU", {}),
                                     ("server", "x", "web", 2, Decimal("4"), "GB", shared)])
    with Store(tmp_path / "s.duckdb") as store:
        _night(store, D1, [SourceResult("openstack:compute", "ok", None, a, []),
                           SourceResult("openstack:compute", "ok", None, b, [])])
        res = store.db.execute("SELECT resource_key, resource_type, resource_id, name, "
                               "attributes::VARCHAR FROM resources ORDER BY 1").fetchall()
        assert res == [(1, "server", "x", "web", '{"flavor": "s6.large.2"}'),
                       (2, "server", "y", "db", "{}"),
                       (3, "volume", "x", "disk", "{}")]
        lines = store.db.execute("SELECT resource_key, item_no, quantity::VARCHAR, unit "
                                 "FROM resource_lines ORDER BY ALL").fetchall()
        assert lines == [(1, 1, "2.000000", "vCPU"), (1, 2, "4.000000", "GB"),
                         (1, 2, "4.000000", "GB"), (2, 1, "2.000000", "vCPU"),
                         (3, 5, "4.000000", None)]


def test_only_what_changed_is_rewritten(tmp_path):
    def night(name, attrs):
        return [SourceResult("openstack:compute", "ok", None, _lines(
            "openstack:compute", [("server", "x", name, 1, 2, "vCPU", attrs),
                                  ("server", "z", "same", 1, 1, "vCPU", {"k": 1})]), [])]
    with Store(tmp_path / "s.duckdb") as store:
        _night(store, D1, night("web", {"flavor": "a"}))
        _night(store, D2, night("web-2", {"flavor": "b"}))
        assert store.db.execute(
            "SELECT resource_id, name, attributes::VARCHAR, first_seen, last_seen FROM resources "
            "ORDER BY 1").fetchall() == [("x", "web-2", '{"flavor": "b"}', D1, D2),
                                         ("z", "same", '{"k": 1}', D1, D2)]
        assert store.db.execute("SELECT count(*), count(DISTINCT resource_key) "
                                "FROM resource_digests").fetchall() == [(2, 2)]
        assert store.db.execute("SELECT snapshot_date, count(*) FROM resource_lines "
                                "GROUP BY 1 ORDER BY 1").fetchall() == [(D1, 2), (D2, 2)]


def test_a_resource_changed_and_changed_back_reads_as_each_night_left_it(tmp_path):
    """Unchanged resources are known by their digest (Store._upsert_resources): a resource
    that goes back to what it was two nights ago (its digest then, no longer stored) is
    written again, not taken for what the store holds; one that another resource of the
    night looks like in all but its id stays itself."""
    def night(project, name):
        lines = Lines("openstack:compute")
        lines.add("server", "x", name, project, 1, Decimal(2), "vCPU", {"flavor": "a"})
        lines.add("server", "y", "web", "p-1", 1, Decimal(2), "vCPU", {"flavor": "a"})
        return [SourceResult("openstack:compute", "ok", None, lines, [])]

    def stored(store):
        return store.db.execute("SELECT resource_key, resource_id, name, project_id, first_seen,"
                                " last_seen FROM resources ORDER BY 1").fetchall()
    with Store(tmp_path / "s.duckdb") as store:
        _night(store, D1, night("p-1", "web"))
        _night(store, D2, night("p-2", "web"))                # moved to another project
        assert stored(store) == [(1, "x", "web", "p-2", D1, D2), (2, "y", "web", "p-1", D1, D2)]
        _night(store, D3, night("p-1", "web"))                # and back, as it was on D1
        assert stored(store) == [(1, "x", "web", "p-1", D1, D3), (2, "y", "web", "p-1", D1, D3)]
        assert store.db.execute("SELECT count(*), count(DISTINCT resource_key), "
                                "count(DISTINCT digest) FROM resource_digests").fetchall() == \
            [(2, 2, 2)]
        assert store.db.execute("SELECT snapshot_date, resource_key FROM resource_lines "
                                "ORDER BY ALL").fetchall() == \
            [(D1, 1), (D1, 2), (D2, 1), (D2, 2), (D3, 1), (D3, 2)]


def _stored(store):
    return [store.db.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("resource_lines", "resources")]


def test_the_gates_conversions_are_the_stores_and_follow_lines_added_after(tmp_path):
    """The gate and the store share what they make of a night's Lines (arrays, item numbers,
    quantities grouped by text): a night stored after the gate read its lines, and after
    more lines were added since, is stored as one whose lines nobody read before."""
    from recon.nightly import _lines_columns
    from recon.validation import Gate

    rows = [("server", f"s{i}", f"n{i}", 1 + i % 2, Decimal(f"{i % 3}.5"), "GB", {"i": i})
            for i in range(40)] + [("volume", "v", "d", None, 7, None, None)]
    more = [("server", "late", "l", 2, Decimal("9"), "GB", {}), ("volume", "w", "w", 5,
                                                                   Decimal("1E+2"), "GB", {})]
    gate = Gate(parameters={"item_numbers": list(range(1, 33))})
    stored = []
    for read_first in (False, True):
        lines = _lines("openstack:compute", rows)
        if read_first:
            assert gate.validate("resources", _lines_columns([lines])).success
        for row in more:
            lines.add(row[0], row[1], row[2], "p", *row[3:])
        with Store(tmp_path / f"{read_first}.duckdb") as store:
            _night(store, D1, [SourceResult("openstack:compute", "ok", None, lines, [])])
            stored.append(_stored(store))
    assert stored[0] == stored[1]
    assert ("late", ) in [(r[3],) for r in stored[1][1]] and len(stored[1][0]) == 43
