#!/usr/bin/env python
"""Where the year's reconcile goes (issue 25, 5): section (a) of bench_reconcile, profiled.

    python bench/profile_year.py STORE.duckdb [--days 365]

On a store that ``bench_reconcile.py --keep DIR`` left (DIR/bench.duckdb, or
DIR/<size>/bench.duckdb), runs what section (a) times -- ``reconcile`` over every date,
then ``scaling.flag`` + ``build_nightly`` + ``write_nightly`` for the last date -- once
under cProfile, in this fresh process, and prints the wall of each step and the functions
with the most cumulative time.  The store is copied first (reconcile rewrites item_days
and findings).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "bench"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from bench_reconcile import START  # noqa: E402
from recon import penalties, scaling  # noqa: E402
from recon.config import load_config  # noqa: E402
from recon.contract import load_contract  # noqa: E402
from recon.data import BUNDLED_CONFIG  # noqa: E402
from recon.reconcile import reconcile  # noqa: E402
from recon.reports.nightly import build_nightly, write_nightly  # noqa: E402
from recon.store import Store  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="profile-year-"))
    db = work / "bench.duckdb"
    shutil.copy(a.store, db)
    config = load_config(BUNDLED_CONFIG)
    contract = load_contract(config)
    dates = [START + timedelta(days=d) for d in range(a.days)]
    store = Store(db)
    run_id = store.db.execute("SELECT max(run_id) FROM runs").fetchall()[0][0]
    steps = {}
    prof = cProfile.Profile()
    prof.enable()
    t = time.perf_counter()
    reconcile(store, contract, dates, config.idle_below)
    steps["reconcile (365 dates)"] = time.perf_counter() - t
    t = time.perf_counter()
    scaling.flag(store, contract, dates[-1], config.penalty_basis,
                 penalties.scaling_coefficient(config))
    steps["scaling.flag"] = time.perf_counter() - t
    t = time.perf_counter()
    report = build_nightly(store, contract, dates[-1], run_id, config)
    steps["build_nightly"] = time.perf_counter() - t
    t = time.perf_counter()
    write_nightly(report, work / "out")
    steps["write_nightly"] = time.perf_counter() - t
    prof.disable()
    store.close()
    total = sum(steps.values())
    print(f"(a) profiled: {total:.2f} s (under cProfile)")
    for k, v in steps.items():
        print(f"  {k:24} {v:6.2f} s  {v / total:5.0%}")
    st = pstats.Stats(prof)
    st.sort_stats("cumulative").print_stats(a.top)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
