#!/usr/bin/env python
"""Benchmark: a long-running store, night after night, as `recon run` writes it (issue 25, 6).

    python bench/bench_store_year.py [--resources 10000] [--days 365] [--keep DIR]

Every night of ``bench_reconcile.World`` (the same deterministic estate: ~10,000 resources
a day, created, changed and deleted over the year) goes into one store file the way
``recon run`` stores a night: a fresh ``Store`` (migrate, settle), one transaction with
``replace_snapshot``, ``reconcile`` of that date, ``scaling.flag``, ``conclude.night`` (the
night's scaling states and penalty ledger), the run's row, then the close (DuckDB checkpoints there; ``Store.close`` applies the store's upkeep policy,
recon/store.py ``Store.upkeep``).  No CHECKPOINT, VACUUM or copy is run by hand.

Prints, every ``--every`` nights and at the end: the file size, bytes per resource-day
(file bytes / (resources alive per day x nights)), the blocks in use and free
(``pragma_database_size``), and the seconds per night (median, slowest).  Target: the
file under 50 B per resource-day after the year, PASS/MISS.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_reconcile import World  # noqa: E402
from recon import conclude, penalties  # noqa: E402
from recon.ledgers import scaling  # noqa: E402
from recon.config import load_config  # noqa: E402
from recon.contract import load_contract  # noqa: E402
from recon.data import BUNDLED_CONFIG  # noqa: E402
from recon.reconcile import reconcile  # noqa: E402
from recon.store import Store  # noqa: E402

TARGET_BPRD = 50.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sizes(db: Path) -> tuple[int, int, int, int]:
    """(file bytes, WAL bytes, bytes of blocks in use, bytes of free blocks), read-only."""
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    block, used, free = con.execute(
        "SELECT block_size, used_blocks, free_blocks FROM pragma_database_size() "
        "WHERE database_name = current_database()").fetchall()[0]
    con.close()
    wal = Path(str(db) + ".wal")
    return db.stat().st_size, wal.stat().st_size if wal.exists() else 0, block * used, \
        block * free


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--every", type=int, default=73, help="print the sizes every N nights")
    ap.add_argument("--keep", metavar="DIR")
    a = ap.parse_args(argv)
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-store-year-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "year.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    config = load_config(BUNDLED_CONFIG)
    contract = load_contract(config)
    coefficient = penalties.scaling_coefficient(config)
    print(f"store over {a.days} nights at {a.resources:,} resources; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.2f}; {db}", flush=True)
    t0 = time.perf_counter()
    world = World(contract, a.resources, a.days)
    print(f"estate generated in {time.perf_counter() - t0:.1f} s", flush=True)
    walls, cpus, closes, resource_days = [], [], [], 0
    started = time.perf_counter()
    print(f"{'night':>5} {'date':>10} {'file MiB':>9} {'B/res-day':>9} {'in use MiB':>10} "
          f"{'free MiB':>9} {'s/night med':>11} {'slowest':>8} {'load':>5}", flush=True)
    for d in range(a.days):
        results, accepted = world.results(d)
        resource_days += len({(r.source, t, i) for r in results
                              for t, i in zip(r.lines.resource_type, r.lines.resource_id)})
        t, c = time.perf_counter(), _cpu()
        store = Store(db)
        with store.transaction():
            run_id = store.new_run_id()
            store.replace_snapshot(world.dates[d], run_id, results, accepted)
            reconcile(store, contract, [world.dates[d]], config.idle_below)
            scaling.flag(store, contract, world.dates[d], config.penalty_basis, coefficient)
            conclude.night(store, contract, config, world.dates[d])
            store.record_run(world.dates[d], "complete", 0, run_id=run_id)
        tc = time.perf_counter()
        store.close()
        closes.append(time.perf_counter() - tc)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
        if (d + 1) % a.every == 0 or d + 1 == a.days:
            f, w, used, free = sizes(db)
            print(f"{d + 1:5d} {world.dates[d].isoformat():>10} {(f + w) / 2**20:9.1f} "
                  f"{(f + w) / resource_days:9.1f} {used / 2**20:10.1f} {free / 2**20:9.1f} "
                  f"{statistics.median(walls):11.2f} {max(walls):8.2f} "
                  f"{os.getloadavg()[0]:5.2f}", flush=True)
    f, w, used, free = sizes(db)
    bprd = (f + w) / resource_days
    print(f"\nafter {a.days} nights ({time.perf_counter() - started:.0f} s; {resource_days:,} "
          f"resource-days): file {(f + w) / 2**20:.1f} MiB (WAL {w / 2**20:.1f} MiB), blocks "
          f"in use {used / 2**20:.1f} MiB, free {free / 2**20:.1f} MiB; a night: median "
          f"{statistics.median(walls):.2f} s (CPU {statistics.median(cpus):.2f} s), slowest "
          f"{max(walls):.2f} s, close median {statistics.median(closes):.2f} s, slowest "
          f"{max(closes):.2f} s")
    print(f"{'store file, bytes per resource-day':40} {bprd:9.1f}  target < {TARGET_BPRD:g} B  "
          f"{'PASS' if bprd < TARGET_BPRD else 'MISS'}")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
