"""`recon export parquet`: Hive partitions, DECIMAL kept, months replaced whole, FOCUS columns.

The stores here are written the way a night writes them (Store.replace_snapshot, then
reconcile) from source results with shortfalls, overage, idle capacity, unmapped volumes,
a failed and a rejected source; tests/test_spark_parity.py reconciles the same lake on Spark.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from datetime import date, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from connectors.base import Measurement, ResourceLine, SourceResult
from recon.config import load_config
from recon.contract import load_contract
from recon.export import FOCUS_MAPPING, TABLES, export_parquet, schema_markdown
from recon.reconcile import reconcile
from recon.store import Store

from tests.conftest import ROOT, write_config

NIGHTS = [date(2026, 10, 30) + timedelta(days=i) for i in range(4)]  # two months


def _lines(seed: int, night: date):
    """One night's source results; ``seed`` makes each contract's estate its own."""
    rng = random.Random(f"{seed}-{night}")
    k = NIGHTS.index(night)
    servers = [ResourceLine("openstack:compute", "server", f"srv-{seed}-{i:03d}", f"vm{i}", "p1",
                            item, Decimal(q), unit)
               for i in range(40 + 3 * k + seed)
               for item, q, unit in ((1, rng.choice([2, 4, 8]), "vCPU"),
                                     (2, rng.choice(["4", "8", "15.5"]), "GB"))]
    compute = SourceResult("openstack:compute", "ok", lines=servers, measurements=[
        Measurement("openstack:compute", 1, "allocated", Decimal(1617 - 20 * k * (seed % 2)),
                    "quota"),
        Measurement("openstack:compute", 1, "in_use",
                    sum((ln.quantity for ln in servers if ln.item_no == 1), Decimal(0))),
        Measurement("openstack:compute", 2, "allocated", Decimal("3900.5"), "quota"),
        Measurement("openstack:compute", 2, "in_use",
                    sum((ln.quantity for ln in servers if ln.item_no == 2), Decimal(0)))])
    if k == 2 and seed == 1:
        storage = SourceResult.failed("openstack:block-storage",
                                      "GET /volumes/detail: HTTP 500", reason_code="http_5xx")
    else:
        vols = [ResourceLine("openstack:block-storage", "volume", f"vol-{seed}-{i:03d}", "", "p1",
                             rng.choice([5, 6, None]), Decimal(rng.choice([100, 250, 1000])), "GB")
                for i in range(30 + seed)]
        storage = SourceResult("openstack:block-storage", "ok", lines=vols, measurements=[
            Measurement("openstack:block-storage", 5, "allocated", Decimal(17082), "quota",
                        ({"name": "gigabytes_general", "quantity": "17082"},)),
            Measurement("openstack:block-storage", 5, "in_use", sum(
                (v.quantity for v in vols if v.item_no == 5), Decimal(0))),
            Measurement("openstack:block-storage", 6, "allocated", Decimal(90000 + seed),
                        "quota", ({"name": "gigabytes_ssd", "quantity": str(60000 + seed)},
                                  {"name": "gigabytes_ssd2", "quantity": "30000"})),
            Measurement("openstack:block-storage", 6, "in_use", sum(
                (v.quantity for v in vols if v.item_no == 6), Decimal(0)))])
    ips = (Measurement("openstack:network", 10, "allocated", None, "unlimited") if seed == 3
           else Measurement("openstack:network", 10, "allocated", Decimal(33 + seed), "quota"))
    network = SourceResult("openstack:network", "ok", measurements=[
        ips,
        Measurement("openstack:network", 10, "in_use", Decimal(5 + k)),
        Measurement("openstack:network", 9, "allocated", Decimal(3500), "delivered"),
        Measurement("openstack:network", 9, "in_use", Decimal(3600 + seed))])
    export = SourceResult("export:security", "ok", measurements=[
        Measurement("export:security", 14, "allocated", Decimal(45 + seed), "export"),
        Measurement("export:security", 14, "in_use", Decimal(40), "export")])
    accepted = {r.source: True for r in (compute, storage, network, export)}
    if k == 3 and seed == 2:
        accepted["export:security"] = False  # the gate rejected the night's export
    return [compute, storage, network, export], accepted


def build_store(folder: Path, number: str, seed: int) -> Path:
    """A store of NIGHTS for contract ``number``, reconciled; returns its recon.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n"
        "A1,2026-10-20,2026-11-01,10,35,more public IPs\n", encoding="utf-8")
    cfg = write_config(folder, number=number)
    config = load_config(cfg)
    contract = load_contract(config)
    with Store(config.db_path) as store:
        for night in NIGHTS:
            results, accepted = _lines(seed, night)
            with store.transaction():
                run_id = store.new_run_id()
                store.replace_snapshot(night, run_id, results, accepted)
                reconcile(store, contract, [night], config.idle_below)
                store.record_run(night, "complete", 1, run_id=run_id)
    return cfg


def run_export(cfg: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recon.cli", "--config", str(cfg), "export",
                           "parquet", "--out", str(out), *extra],
                          capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    base = tmp_path_factory.mktemp("lake")
    cfg = build_store(base / "a", "CMBJ-202602732", 1)
    out = base / "lake"
    done = run_export(cfg, out)
    assert done.returncode == 0, done.stderr
    return cfg, out, done.stdout


def _read(out: Path, table: str, where: str = "true") -> list[dict]:
    """Rows as Python values (DECIMAL as Decimal: pandas would make them floats)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    cur = con.execute(f"SELECT * FROM read_parquet('{out}/{table}/*/*/*.parquet', "
                      f"hive_partitioning = true) WHERE {where}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def test_every_table_lands_in_contract_and_month_partitions(lake):
    cfg, out, printed = lake
    for table in TABLES:
        parts = sorted(p.relative_to(out / table).as_posix()
                       for p in (out / table).glob("*/*/data.parquet"))
        assert parts == ["contract=CMBJ-202602732/month=2026-10/data.parquet",
                         "contract=CMBJ-202602732/month=2026-11/data.parquet"], table
    assert "2 month(s) (2026-10 .. 2026-11)" in printed
    item_days = _read(out, "item_days")
    assert len(item_days) == 32 * len(NIGHTS)
    assert {r["month"] for r in item_days} == {"2026-10", "2026-11"}
    assert {r["contract"] for r in item_days} == {"CMBJ-202602732"}


def test_money_and_quantities_stay_decimal_in_the_files(lake):
    _, out, _ = lake
    con = duckdb.connect()
    f = out / "item_days/contract=CMBJ-202602732/month=2026-11/data.parquet"
    types = dict(con.execute(f"SELECT name, type FROM parquet_schema('{f}')").fetchall())
    kinds = dict(con.execute(f"SELECT name, logical_type FROM parquet_schema('{f}')").fetchall())
    for col in ("contracted", "allocated", "shortfall_value", "day_value"):
        assert types[col] == "INT64" and "DecimalType" in str(kinds[col]), col
    focus = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}/focus_cost_usage/*/*/*')"
                        ).fetchall()
    ftypes = {r[0]: r[1] for r in focus}
    assert ftypes["ContractedCost"] == "DECIMAL(18,6)"
    assert ftypes["ContractedUnitPrice"] == "DECIMAL(18,10)"
    assert ftypes["PricingQuantity"] == "DECIMAL(18,6)"
    # the exported figures are the store's, to the last digit
    with Store(load_config(lake[0]).db_path, read_only=True) as store:
        stored = store.db.execute("SELECT sum(day_value), sum(shortfall_value) FROM item_days"
                                  ).fetchone()
    lake_sums = con.execute(f"SELECT sum(day_value), sum(shortfall_value) FROM "
                            f"read_parquet('{out}/item_days/*/*/*')").fetchone()
    assert lake_sums == stored and isinstance(stored[0], Decimal)


def test_focus_rows_say_what_the_contract_item_cost_that_night(lake):
    _, out, _ = lake
    f = _read(out, "focus_cost_usage", "SkuId = '14' AND ChargePeriodStart = "
              "TIMESTAMPTZ '2026-11-01 00:00:00+08:00'")
    assert len(f) == 1
    row = f[0]
    assert row["BillingCurrency"] == "CNY" and row["ContractId"] == "CMBJ-202602732"
    assert row["ChargeDescription"] == "SSL VPN接入" and row["PricingUnit"] == "个"
    assert row["PricingQuantity"] == Decimal("46") and row["ConsumedQuantity"] == Decimal("40")
    # 940.80 / 12 / 30 per unit-night, x 46 allocated
    assert row["ContractedUnitPrice"] == Decimal("2.6133333333")
    assert row["ContractedCost"] == Decimal("120.213333")
    assert row["x_ContractedQuantity"] == Decimal("49") and row["x_Shortfall"] == Decimal("3")
    assert row["x_Status"] == "shortfall" and row["x_Source"] == "export:security"
    start, end = row["ChargePeriodStart"], row["ChargePeriodEnd"]
    assert (end - start).total_seconds() == 86400
    assert start.astimezone(timezone.utc).isoformat() == "2026-10-31T16:00:00+00:00"


def test_an_unmeasured_item_costs_unknown_not_zero(lake):
    _, out, _ = lake
    # block storage failed on 11-01 for this contract: items 5 and 6 are unknown that night
    f = _read(out, "focus_cost_usage", "SkuId IN ('5', '6') AND ChargePeriodStart = "
              "TIMESTAMPTZ '2026-11-01 00:00:00+08:00'")
    assert [r["x_Status"] for r in f] == ["unknown", "unknown"]
    assert all(r["ContractedCost"] is None and r["PricingQuantity"] is None for r in f)
    assert all(r["x_ContractedDayValue"] > 0 for r in f)


def test_a_rerun_replaces_only_the_months_it_names(lake, tmp_path):
    cfg, out, _ = lake
    import shutil
    mine = tmp_path / "lake"
    shutil.copytree(out, mine)
    oct_file = mine / "item_days/contract=CMBJ-202602732/month=2026-10/data.parquet"
    nov_file = mine / "item_days/contract=CMBJ-202602732/month=2026-11/data.parquet"
    oct_before = oct_file.stat().st_mtime_ns
    # another contract's partition in the same lake is left alone
    other = mine / "item_days/contract=OTHER-1/month=2026-11"
    other.mkdir(parents=True)
    (other / "data.parquet").write_bytes(nov_file.read_bytes())
    # a stray file in the month's partition does not survive: the month is replaced whole
    (nov_file.parent / "stale.parquet").write_bytes(nov_file.read_bytes())
    done = run_export(cfg, mine, "--from", "2026-11-02", "--to", "2026-11-02")
    assert done.returncode == 0, done.stderr
    assert "1 month(s) (2026-11 .. 2026-11)" in done.stdout
    assert oct_file.stat().st_mtime_ns == oct_before
    assert sorted(p.name for p in nov_file.parent.iterdir()) == ["data.parquet"]
    assert (other / "data.parquet").exists()
    assert not list(mine.rglob(".*")), "hidden partitions or schema left behind"
    nov = _read(mine, "item_days", "contract = 'CMBJ-202602732' AND month = '2026-11'")
    assert len(nov) == 32 * 2  # the whole month, not just the night named


def test_written_schema_matches_the_documented_one(lake):
    _, out, _ = lake
    doc = json.loads((out / "_schema.json").read_text(encoding="utf-8"))
    assert list(doc["tables"]) == list(TABLES)
    assert doc["partitioning"] == ["contract", "month"]
    documented = (ROOT / "docs" / "lake_schema.md").read_text(encoding="utf-8")
    assert documented == schema_markdown(doc), \
        "docs/lake_schema.md is out of date: regenerate it with recon.export.schema_markdown"


def test_docs_lake_documents_every_focus_column_written(lake):
    _, out, _ = lake
    readme = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
    doc = json.loads((out / "_schema.json").read_text(encoding="utf-8"))
    written = [c["name"] for c in doc["tables"]["focus_cost_usage"]]
    mapped = {name.strip() for names, _ in FOCUS_MAPPING for name in names.split(",")
              for name in name.split("/")}
    assert set(written) <= mapped
    for names, _ in FOCUS_MAPPING:
        assert f"| {names} |" in readme, names


def test_bad_range_exits_3_and_writes_nothing(lake, tmp_path):
    cfg, _, _ = lake
    done = run_export(cfg, tmp_path / "x", "--from", "2026-11-02", "--to", "2026-11-01")
    assert done.returncode == 3
    assert re.search(r"--from 2026-11-02 is after --to 2026-11-01", done.stderr)
    assert not (tmp_path / "x").exists()
