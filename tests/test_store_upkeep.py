"""The store's size policy (recon/store.py Store.upkeep): applied by every writer on close."""
from __future__ import annotations

from datetime import date

import duckdb

import recon.store as store_mod
from recon.store import Store

DAY = date(2026, 11, 1)


def _fill(store: Store, day: date, n: int) -> None:
    with store.transaction():
        store.db.execute(
            "INSERT INTO resource_lines SELECT ?, i::INTEGER, 1, (i % 97)::DECIMAL(18,6), "
            "'GB', true FROM range(?) r(i)", [day, n])


def _blocks(path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT used_blocks, free_blocks FROM pragma_database_size() "
                           "WHERE database_name = current_database()").fetchall()[0]
    finally:
        con.close()


def test_an_ordinary_close_checkpoints_and_keeps_the_file(tmp_path):
    path = tmp_path / "recon.duckdb"
    with Store(path) as s:
        _fill(s, DAY, 10_000)
    assert path.exists() and not (tmp_path / "recon.duckdb.wal").exists()
    assert not (tmp_path / "recon.duckdb.compact").exists()


def test_a_file_mostly_free_is_rewritten_compact_on_close(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "COMPACT_MIN_FREE_BYTES", 1)
    path = tmp_path / "recon.duckdb"
    with Store(path) as s:
        first = s.new_run_id()
        _fill(s, DAY, 3_000_000)          # the freed blocks sit before the ones kept
        _fill(s, date(2026, 11, 2), 1000)
        s.db.execute("CHECKPOINT")
        with s.transaction():
            s.db.execute("DELETE FROM resource_lines WHERE snapshot_date = ?", [DAY])
        s.db.execute("CHECKPOINT")
        used, free = s.db.execute("SELECT used_blocks, free_blocks FROM pragma_database_size()"
                                  " WHERE database_name = current_database()").fetchall()[0]
        assert free > used  # as a large delete leaves it
        big = path.stat().st_size
        kept = s.db.execute("SELECT count(*), sum(quantity) FROM resource_lines").fetchall()
    assert path.stat().st_size < big / 2
    assert not (tmp_path / "recon.duckdb.compact").exists()
    used, free = _blocks(path)
    assert free <= used
    with Store(path) as s:  # the same store: rows, schema version, sequences go on
        assert s.db.execute("SELECT count(*), sum(quantity) FROM resource_lines"
                            ).fetchall() == kept
        assert s.version == len(store_mod.MIGRATIONS)
        assert s.new_run_id() == first + 1
        assert s.db.execute("SELECT data_type FROM information_schema.columns WHERE "
                            "table_name = 'resource_lines' AND column_name = 'quantity'"
                            ).fetchall() == [("DECIMAL(18,6)",)]


def test_a_stray_compact_copy_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "COMPACT_MIN_FREE_BYTES", 1)
    path = tmp_path / "recon.duckdb"
    (tmp_path / "recon.duckdb.compact").write_bytes(b"cut short")
    with Store(path) as s:
        _fill(s, DAY, 2_000_000)
        _fill(s, date(2026, 11, 2), 10)
        s.db.execute("CHECKPOINT")
        with s.transaction():
            s.db.execute("DELETE FROM resource_lines WHERE snapshot_date = ?", [DAY])
    assert not (tmp_path / "recon.duckdb.compact").exists()
    with Store(path, read_only=True) as s:
        assert s.db.execute("SELECT count(*) FROM resource_lines").fetchall() == [(10,)]


def test_readers_leave_the_file_alone(tmp_path, monkeypatch):
    path = tmp_path / "recon.duckdb"
    with Store(path) as s:
        _fill(s, DAY, 1000)
    calls = []
    monkeypatch.setattr(Store, "upkeep", lambda self: calls.append(1))
    with Store(path, read_only=True):
        pass
    assert calls == []
