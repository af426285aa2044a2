"""The store: schema migrations (an older store upgrades in place and keeps its data), and a
night's resources and lines read back as the reports and the export read them."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from connectors.base import Lines, SourceResult
from recon import store as store_mod
from recon.errors import StoreError
from recon.store import MIGRATIONS, Store


def test_old_store_is_migrated_and_keeps_its_nights(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:1])  # a store made by v1
    with Store(path) as old:
        old.record_run(date(2026, 11, 1), "complete", 0)
        assert old.version == 1
    monkeypatch.undo()
    with Store(path) as new:
        assert new.version == len(MIGRATIONS)
        assert new.db.execute("SELECT snapshot_date, status FROM runs").fetchall() == \
            [(date(2026, 11, 1), "complete")]
        assert new.db.execute("SELECT count(*) FROM scaling_requests").fetchall() == [(0,)]


def test_store_from_a_newer_recon_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    with Store(path) as s:
        s.db.execute("INSERT INTO schema_migrations VALUES (?, now())", [len(MIGRATIONS) + 1])
    with pytest.raises(StoreError, match="newer than this recon"):
        Store(path)


def test_read_only_open_of_a_missing_store_says_so(tmp_path):
    with pytest.raises(StoreError, match="no store here yet"):
        Store(tmp_path / "absent.duckdb", read_only=True)


def test_read_only_open_of_an_older_store_says_how_to_migrate_it(tmp_path, monkeypatch):
    # a reader (finance verify, reports) cannot migrate; without this it failed later on a
    # table the older schema lacks
    path = tmp_path / "old.duckdb"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:1])
    Store(path).close()
    monkeypatch.undo()
    with pytest.raises(StoreError, match=r"schema v1, this recon reads .*`recon run`"):
        Store(path, read_only=True)
    Store(path).close()                                   # a writer migrates it
    with Store(path, read_only=True) as s:
        assert s.version == len(MIGRATIONS)


def test_a_running_row_left_by_an_older_version_reads_abandoned(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    before = next(i for i, sql in enumerate(MIGRATIONS) if "'abandoned'" in sql)
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:before])  # a version that could die
    with Store(path) as old:                                            # mid-run, row 'running'
        old.db.execute("INSERT INTO runs (snapshot_date, started_at, status) "
                       "VALUES ('2026-11-01', now(), 'running')")
        old.record_run(date(2026, 11, 2), "complete", 0)
    monkeypatch.undo()
    with Store(path) as new:
        assert new.db.execute("SELECT snapshot_date::VARCHAR, status FROM runs "
                              "ORDER BY run_id").fetchall() == \
            [("2026-11-01", "abandoned"), ("2026-11-02", "complete")]


# -- a night's resources and lines round-trip ---------------------------------------------
D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def _night(servers: list[tuple], volumes_ok: bool = True) -> tuple[list, dict]:
    """Source results as connectors hand them over: columns, one attributes dict per
    resource shared by its lines (a server's vCPU and RAM lines)."""
    compute = Lines("openstack:compute")
    for rid, name, attrs in servers:
        compute.add("server", rid, name, "proj-1", 1, Decimal(4), "vCPU", attrs)
        compute.add("server", rid, name, "proj-1", 2, Decimal("15.5"), "GB", attrs)
    volumes = Lines("openstack:block-storage")
    volumes.add("volume", "vol-1", "", "proj-2", None, Decimal(1000), "GB",
                {"volume_type": "archive", "status": "in-use"})
    results = [SourceResult("openstack:compute", "ok", lines=compute),
               SourceResult("openstack:block-storage", "ok", lines=volumes)]
    return results, {"openstack:compute": True, "openstack:block-storage": volumes_ok}


def _store_night(store: Store, day: date, night: tuple[list, dict]) -> None:
    with store.transaction():
        run_id = store.record_run(day, "complete", 0)
        store.replace_snapshot(day, run_id, *night)


def _resources(store: Store) -> dict[str, tuple]:
    """resource_id -> what the export's resources table holds (JSON as text, parsed)."""
    rows = store.db.execute(
        "SELECT resource_id, resource_key, name, project_id, attributes::VARCHAR, "
        "first_seen, last_seen FROM resources").fetchall()
    return {r[0]: (r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows}


def _lines_of(store: Store, day: date) -> list[tuple]:
    return store.db.execute(
        "SELECT r.resource_id, l.item_no, l.quantity::VARCHAR, l.unit, l.accepted, "
        "r.attributes->>'volume_type' FROM resource_lines l JOIN resources r "
        "USING (resource_key) WHERE snapshot_date = ? ORDER BY 1, 2", [day]).fetchall()


def test_a_nights_resources_and_lines_read_back_as_stored(tmp_path):
    created = datetime(2026, 10, 5, 8, 30)
    a = {"flavor": "s6.large.2", "status": "ACTIVE", "created": created, "备注": "研发"}
    with Store(tmp_path / "s.duckdb") as store:
        _store_night(store, D2, _night([("srv-a", "app-a", a), ("srv-b", "app-b", None)],
                                       volumes_ok=False))
        first = _resources(store)
        assert first["srv-a"][1:] == ("app-a", "proj-1", {
            "flavor": "s6.large.2", "status": "ACTIVE", "created": str(created),
            "备注": "研发"}, D2, D2)
        assert first["srv-b"][3] == {}
        assert _lines_of(store, D2) == [
            ("srv-a", 1, "4.000000", "vCPU", True, None),
            ("srv-a", 2, "15.500000", "GB", True, None),
            ("srv-b", 1, "4.000000", "vCPU", True, None),
            ("srv-b", 2, "15.500000", "GB", True, None),
            ("vol-1", None, "1000.000000", "GB", False, "archive")]  # rejected, kept

        # the next night: a renamed and resized, b shut off (same name), c new
        a2 = dict(a, flavor="s6.xlarge.2")
        _store_night(store, D3, _night([("srv-a", "app-a-renamed", a2),
                                        ("srv-b", "app-b", {"status": "SHUTOFF"}),
                                        ("srv-c", "app-c", {"flavor": "s6.small.1"})]))
        second = _resources(store)
        assert second["srv-a"][0] == first["srv-a"][0]          # keys are stable
        assert second["srv-a"][1] == "app-a-renamed" and second["srv-a"][3]["flavor"] == \
            "s6.xlarge.2"
        assert second["srv-b"][1:4] == ("app-b", "proj-1", {"status": "SHUTOFF"})
        assert second["srv-a"][4:] == (D2, D3) and second["srv-b"][4:] == (D2, D3)
        assert second["srv-c"][0] == max(r[0] for r in first.values()) + 1
        assert second["srv-c"][4:] == (D3, D3)
        assert [r[4] for r in _lines_of(store, D3)] == [True] * 7

        # an earlier night stored late moves first_seen back, nothing else
        _store_night(store, D1, _night([("srv-b", "app-b", {"status": "SHUTOFF"})]))
        third = _resources(store)
        assert third["srv-b"][4:] == (D1, D3)
        assert third["srv-a"] == second["srv-a"] and third["srv-c"] == second["srv-c"]

        # a rerun of a date replaces its lines, keys unchanged
        _store_night(store, D3, _night([("srv-a", "app-a-renamed", a2)]))
        assert [r[0] for r in _lines_of(store, D3)] == ["srv-a", "srv-a", "vol-1"]
        assert {k: v[0] for k, v in _resources(store).items()} == \
            {k: v[0] for k, v in third.items()}
        assert len(_lines_of(store, D2)) == 5                   # other dates untouched


def test_a_store_from_before_the_digests_keeps_its_resources_and_updates_them(tmp_path,
                                                                              monkeypatch):
    path = tmp_path / "old.duckdb"
    before = next(i for i, sql in enumerate(MIGRATIONS) if "resource_digests" in sql)
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:before])
    with Store(path) as old:                          # what an older recon stored on D1
        old.db.execute("""INSERT INTO resources VALUES
            (1, 'openstack:compute', 'server', 'srv-a', 'app-a', 'proj-1',
             '{"flavor": "s6.large.2"}', DATE '2026-11-01', DATE '2026-11-01'),
            (2, 'openstack:block-storage', 'volume', 'vol-1', '', 'proj-2',
             '{"status": "in-use", "volume_type": "archive"}', DATE '2026-11-01',
             DATE '2026-11-01')""")
    monkeypatch.undo()
    with Store(path) as store:
        _store_night(store, D2, _night([("srv-a", "app-a", {"flavor": "s6.xlarge.2"})]))
        got = _resources(store)
        assert got["srv-a"] == (1, "app-a", "proj-1", {"flavor": "s6.xlarge.2"}, D1, D2)
        assert got["vol-1"] == (2, "", "proj-2", {"status": "in-use", "volume_type": "archive"},
                                D1, D2)
        assert [r[0] for r in _lines_of(store, D2)] == ["srv-a", "srv-a", "vol-1"]


def test_a_resource_whose_stored_digest_differs_gets_its_attributes_written_again(tmp_path):
    """The digest only says whether to encode a resource's attributes again: a store whose
    digests were taken another way (an older recon's, another DuckDB's hash) writes the same
    attributes again, keeps its keys, and still stores the next change."""
    a = {"flavor": "s6.large.2", "created": datetime(2026, 10, 5, 8, 30), "size": Decimal("2")}
    with Store(tmp_path / "s.duckdb") as store:
        _store_night(store, D1, _night([("srv-a", "app-a", a)]))
        first = _resources(store)
        store.db.execute("UPDATE resource_digests SET digest = 42")   # taken otherwise
        _store_night(store, D2, _night([("srv-a", "app-a", dict(a))]))
        assert {k: v[:4] for k, v in _resources(store).items()} == \
            {k: v[:4] for k, v in first.items()}
        assert store.db.execute("SELECT count(*) FROM resource_digests WHERE digest = 42"
                                ).fetchall() == [(0,)]
        _store_night(store, D3, _night([("srv-a", "app-a", dict(a, size=Decimal("4")))]))
        assert _resources(store)["srv-a"][3] == {"flavor": "s6.large.2",
                                                  "created": "2026-10-05 08:30:00", "size": "4"}
