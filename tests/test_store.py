"""The store's schema migrations: an older store upgrades in place and keeps its data."""
from __future__ import annotations

from datetime import date

import pytest

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
