"""One SQL, two engines: reconcile's SQL on local Spark over the exported lake equals DuckDB's.

Three contracts' stores (each written night by night and reconciled by DuckDB, as
`recon run` does) and a fourth whose night has utilisation and money ties (tests/
test_reconcile.py) are exported into one lake; Spark runs recon.lake's rewrite of the same
statements over all four at once, and every item_days and findings row must equal the
store's, contract by contract.  Needs Java (Debian's openjdk-17-jre-headless, which .ci/run
installs); without it the test skips saying so.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from recon.config import load_config
from recon.contract import load_contract
from recon.export import export_parquet
from recon.reconcile import SEVERITY
from recon.store import Store

from tests.conftest import ROOT
from tests.test_export_parquet import build_store
from tests.test_reconcile import build_tie_store

CONTRACTS = {"CMBJ-202602732": 1, "CMBJ-202602733": 2, "HD-2026-017": 3}
#: one night of utilisation ties at the 5th decimal and money ties at the 7th
TIES = "HD-2026-TIES"


def _java_missing() -> bool:
    return shutil.which("java") is None


@pytest.mark.skipif(_java_missing(), reason="no java on PATH: Spark needs a JRE "
                    "(apt-get install -y openjdk-17-jre-headless; .ci/run does)")
def test_spark_reconciles_every_contract_exactly_as_duckdb(tmp_path):
    from recon.lake import local_spark, reconcile_lake

    lake = tmp_path / "lake"
    configs = {number: build_store(tmp_path / number, number, seed)
               for number, seed in CONTRACTS.items()}
    configs[TIES] = build_tie_store(tmp_path / TIES, TIES)
    for cfg in configs.values():
        config = load_config(cfg)
        with Store(config.db_path, read_only=True) as store:
            export_parquet(store, load_contract(config), config, lake)

    want_days, want_findings, covered = [], [], set()
    for number, cfg in configs.items():
        with Store(load_config(cfg).db_path, read_only=True) as store:
            covered |= {r[0] for r in store.db.execute(
                "SELECT 'unlimited' FROM item_days WHERE unlimited UNION "
                "SELECT 'parts' FROM item_days WHERE parts IS NOT NULL UNION "
                "SELECT allocated_basis FROM item_days").fetchall()}
            want_days += [(number, *r) for r in
                          store.db.execute("SELECT * FROM item_days").fetchall()]
            want_findings += [(number, *r) for r in store.db.execute(
                "SELECT * FROM findings WHERE code IN (SELECT unnest(?::VARCHAR[]))",
                [list(SEVERITY)]).fetchall()]

    started = time.monotonic()
    spark = local_spark("recon-parity-test")
    try:
        item_days, findings = reconcile_lake(spark, lake)
        got_days = [tuple(r) for r in item_days.collect()]
        got_findings = [tuple(r) for r in findings.collect()]
        # a cluster may keep every digit of a DECIMAL quotient or product (no scale cut to
        # 6 when precision runs out): no figure may depend on it
        spark.conf.set("spark.sql.decimalOperations.allowPrecisionLoss", "false")
        strict_days = [tuple(r) for r in reconcile_lake(spark, lake, [TIES])[0].collect()]
    finally:
        spark.stop()
    print(f"spark: {time.monotonic() - started:.1f} s for {len(got_days)} item-days, "
          f"{len(got_findings)} findings")

    def ordered(rows):
        return sorted(rows, key=repr)

    # the figures' bases, unlimited allocations and their parts are in the data compared
    assert covered >= {"unlimited", "parts", "quota", "delivered", "export"}
    assert len(got_days) == 32 * 4 * len(CONTRACTS) + 32
    # and exact ties: in use / allocated with a 5 in the 5th decimal, a value's product
    # with a 5 in the 7th (columns: contract, date, item, contracted, allocated, in use,
    # shortfall, overage, utilisation, day_value)
    ties = [r for r in want_days if r[4] and r[5] is not None
            and (r[5] / r[4]).scaleb(5) % 10 == 5]
    assert len(ties) >= 4 and {r[0] for r in ties} == {TIES}
    assert any(r[9] == Decimal("36586.666667") for r in want_days)
    assert ordered(got_days) == ordered(want_days)
    assert ordered(strict_days) == ordered(r for r in want_days if r[0] == TIES)
    # the data has every finding the SQL can draw, in every contract
    codes = {(r[0], r[2]) for r in want_findings}
    for code in ("allocation_shortfall", "usage_over_contract", "allocation_over_contract",
                 "idle_capacity", "unmapped_resource", "item_unmeasured"):
        assert all((n, code) in codes for n in CONTRACTS), code
    assert {r[2] for r in want_findings} >= {"source_unavailable", "data_rejected"}
    assert ordered(got_findings) == ordered(want_findings)


def test_lake_py_runs_as_the_script_spark_submit_is_given():
    """`spark-submit recon/lake.py` runs the file as a script, with recon/ first on sys.path,
    where recon/calendar.py would shadow the standard library's; --help needs no Spark."""
    done = subprocess.run([sys.executable, str(ROOT / "recon" / "lake.py"), "--help"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "--out" in done.stdout and "--master" in done.stdout
