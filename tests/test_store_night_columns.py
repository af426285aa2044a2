"""Store.replace_snapshot takes each night's lines as columns (recon/store.py _Night):
resources by (source, type, id), lines by number, quantities and units by distinct value."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from connectors.base import Lines, SourceResult
from recon.store import Store

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


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
