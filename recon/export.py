"""`recon export parquet`: the store as a Hive-partitioned Parquet lake, FOCUS columns included.

Why: one agency fits in one DuckDB file, an operator of hundreds of contracts
does not.  The lake is what leaves recon for a distributed SQL engine (Spark,
Trino) and for FinOps tools, which read FOCUS (FinOps Open Cost and Usage
Specification) column names.

Layout: ``OUT/<table>/contract=<contract number>/month=YYYY-MM/data.parquet``,
and ``OUT/_schema.json`` (every table's columns and types, as written).  The
tables are the store's own (snapshots and conclusions, read as the monthly and
finance reports read them), ``contract_days`` (what the contract says for each
night: the per-agency input the reconciliation needs, so the lake can be
reconciled without recon's contract files) and ``focus_cost_usage``.

Rules:

* A month is written whole and replaced whole: ``--from``/``--to`` pick the
  months they touch.  Each partition is written beside the old one under a
  hidden name (engines skip names starting with ``.``) and swapped in by
  renames, so a rerun replaces that month of that contract only and a failed
  export leaves the old month in place.
* Money and quantities stay DECIMAL (Parquet's decimal type), never float.
* A month with no rows of a table still gets a file (zero rows, the schema), so
  a rerun that finds nothing replaces what an earlier export wrote.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from recon.reconcile import contract_days

#: bumped when a table's columns change meaning (adding a column does not)
FORMAT_VERSION = 1
PARTITIONS = ("contract", "month")
FILE_NAME = "data.parquet"

# what each table of the lake is, read from the store for one month ($1 .. $2).
# JSON columns go out as text (engines differ in JSON types; the text is the value):
# {columns} becomes the table's columns with every JSON one cast to VARCHAR.
STORE_TABLES = {
    "runs": "SELECT {columns} FROM runs WHERE snapshot_date BETWEEN $1 AND $2",
    "source_runs": "SELECT {columns} FROM source_runs WHERE snapshot_date BETWEEN $1 AND $2",
    "measurements": "SELECT {columns} FROM measurements WHERE snapshot_date BETWEEN $1 AND $2",
    "resource_lines": "SELECT {columns} FROM resource_lines "
                      "WHERE snapshot_date BETWEEN $1 AND $2",
    # the resources behind the month's lines (keys are per contract); name and attributes
    # are the latest the store knows
    "resources": "SELECT {columns} FROM resources WHERE resource_key IN (SELECT resource_key "
                 "FROM resource_lines WHERE snapshot_date BETWEEN $1 AND $2)",
    "item_days": "SELECT {columns} FROM item_days WHERE snapshot_date BETWEEN $1 AND $2",
    "findings": "SELECT {columns} FROM findings WHERE snapshot_date BETWEEN $1 AND $2",
    "contract_days": "SELECT * EXCLUDE (contract) FROM _lake_contract_days "
                     "WHERE snapshot_date BETWEEN $1 AND $2",
}


def _columns(db, table: str) -> str:
    """The store table's columns, JSON ones as text (new columns of a migration come along)."""
    cols = db.execute("SELECT column_name, data_type FROM information_schema.columns "
                      "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
                      [table]).fetchall()
    return ", ".join(f'"{n}"::VARCHAR AS "{n}"' if t == "JSON" else f'"{n}"' for n, t in cols)


# FOCUS 1.x cost and usage: one row per contract item per night (the contract prices
# items, not resources).  Timestamps are the Beijing natural day, stored as UTC instants.
FOCUS_SQL = """
WITH runs_of AS (
    SELECT snapshot_date, max(run_id) AS run_id FROM source_runs
    WHERE snapshot_date BETWEEN $1 AND $2 GROUP BY ALL
), lines_of AS (
    SELECT snapshot_date, item_no, count(*) AS n FROM resource_lines
    WHERE accepted AND item_no IS NOT NULL AND snapshot_date BETWEEN $1 AND $2 GROUP BY ALL
)
SELECT
    (d.snapshot_date::VARCHAR || ' 00:00:00+08:00')::TIMESTAMPTZ            AS ChargePeriodStart,
    ((d.snapshot_date + 1)::VARCHAR || ' 00:00:00+08:00')::TIMESTAMPTZ      AS ChargePeriodEnd,
    (date_trunc('month', d.snapshot_date)::DATE::VARCHAR
        || ' 00:00:00+08:00')::TIMESTAMPTZ                                   AS BillingPeriodStart,
    ((date_trunc('month', d.snapshot_date) + INTERVAL 1 MONTH)::DATE::VARCHAR
        || ' 00:00:00+08:00')::TIMESTAMPTZ                                   AS BillingPeriodEnd,
    'CNY'                                                                   AS BillingCurrency,
    c.agency                                                                AS BillingAccountName,
    c.provider                                                              AS ProviderName,
    c.provider                                                              AS InvoiceIssuerName,
    c.contract                                                              AS ContractId,
    'Usage'                                                                 AS ChargeCategory,
    c.item_name                                                             AS ChargeDescription,
    c.category                                                              AS ServiceName,
    d.item_no::VARCHAR                                                      AS SkuId,
    NULL::VARCHAR                                                           AS ResourceId,
    c.unit_day_value                                                        AS ContractedUnitPrice,
    d.allocated                                                             AS PricingQuantity,
    c.unit                                                                  AS PricingUnit,
    d.in_use                                                                AS ConsumedQuantity,
    c.unit                                                                  AS ConsumedUnit,
    (c.unit_day_value::DECIMAL(38,10) * d.allocated)::DECIMAL(18,6)         AS ContractedCost,
    d.contracted                                                            AS x_ContractedQuantity,
    c.unit_price                                                            AS x_ContractUnitPrice,
    d.day_value                                                             AS x_ContractedDayValue,
    d.status                                                                AS x_Status,
    d.shortfall                                                             AS x_Shortfall,
    d.shortfall_value                                                       AS x_ShortfallValue,
    d.overage                                                               AS x_Overage,
    d.overage_value                                                         AS x_OverageValue,
    d.utilisation                                                           AS x_Utilisation,
    d.measured_by                                                           AS x_Source,
    c.source                                                                AS x_ContractSource,
    coalesce(l.n, 0)                                                        AS x_ResourceCount,
    r.run_id                                                                AS x_RunId
FROM item_days d
JOIN _lake_contract_days c USING (snapshot_date, item_no)
LEFT JOIN lines_of l USING (snapshot_date, item_no)
LEFT JOIN runs_of r USING (snapshot_date)
WHERE d.snapshot_date BETWEEN $1 AND $2
ORDER BY d.snapshot_date, d.item_no
"""

TABLES = (*STORE_TABLES, "focus_cost_usage")

#: how each FOCUS column is filled, and what recon keeps where FOCUS has no column
#: (docs/lake.md shows this table)
FOCUS_MAPPING = [
    ("ChargePeriodStart / ChargePeriodEnd", "the night's natural day in Asia/Shanghai, "
     "00:00+08:00 to the next 00:00+08:00 (stored as UTC instants)"),
    ("BillingPeriodStart / BillingPeriodEnd", "the calendar month of the night"),
    ("BillingCurrency", "CNY"),
    ("BillingAccountName", "the agency (recon.toml [contract] agency)"),
    ("ProviderName, InvoiceIssuerName", "the provider (recon.toml [contract] provider)"),
    ("ContractId", "the contract number ([contract] number; also the `contract=` partition)"),
    ("ChargeCategory", "Usage"),
    ("ChargeDescription", "the item's short name (contract_items.csv short_name)"),
    ("ServiceName", "the item's category (contract_items.csv category)"),
    ("SkuId", "the contract item number (序号)"),
    ("ResourceId", "NULL: the contract prices an item, not a resource; the resources behind "
     "an item-night are in resource_lines/resources, their count in x_ResourceCount"),
    ("ContractedUnitPrice", "unit price / months / days of the month: one unit for one "
     "night, to 1e-10 yuan (the value recon's day values are computed from)"),
    ("PricingQuantity, PricingUnit", "allocated (what the provider made available) and the "
     "item's unit; NULL when the item was not measured that night"),
    ("ConsumedQuantity, ConsumedUnit", "in use, and the item's unit; NULL when not measured"),
    ("ContractedCost", "ContractedUnitPrice x PricingQuantity, to the fen's 1/10,000 "
     "(DECIMAL(18,6)); NULL when not measured: a failed pull is unknown, never zero"),
    ("x_ContractedQuantity, x_ContractedDayValue", "FOCUS has no column for what the contract "
     "promises: the quantity in force that night (supplementary contracts applied) and its "
     "value for the night"),
    ("x_ContractUnitPrice", "the contract's unit price for the whole term (第二条)"),
    ("x_Status", "ok | shortfall | over | idle | unknown | not_measured"),
    ("x_Shortfall, x_ShortfallValue, x_Overage, x_OverageValue, x_Utilisation",
     "recon's conclusions for the item-night (FOCUS has none)"),
    ("x_Source, x_ContractSource", "the sources that measured it, and the source the contract "
     "names for it"),
    ("x_ResourceCount, x_RunId", "accepted resource lines behind the figure; the run that "
     "stored the night"),
    ("BilledCost, EffectiveCost, ListCost, ListUnitPrice", "not written: recon does not bill; "
     "`recon finance verify` holds the provider's statement against these figures"),
]


@dataclass
class ExportResult:
    months: list[str]
    rows: dict[str, int]          # table -> rows written
    out: Path


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def hive_value(text: str) -> str:
    """A partition value as Hive writes it: unsafe characters %-escaped (Spark reads them back)."""
    return re.sub(r"[^A-Za-z0-9._\-]", lambda m: "".join(f"%{b:02X}" for b in
                                                          m.group().encode()), text)


def _months(store, date_from: date | None, date_to: date | None) -> list[str]:
    """The months to write: those the range touches that the store holds a night of."""
    dates = [d for d in store.snapshot_dates()
             if (date_from is None or d >= date_from) and (date_to is None or d <= date_to)]
    return sorted({month_of(d) for d in dates})


def _contract_days(store, contract, config, first: date, last: date) -> pd.DataFrame:
    """The contract's figures for each stored night of the month (one rule: reconcile's)."""
    dates = [d for d in store.snapshot_dates() if first <= d <= last]
    cd = contract_days(contract, dates)
    items = contract.items
    cd["contract"] = contract.number
    cd["unit"] = [items[n].unit for n in cd["item_no"]]
    cd["item_name"] = [items[n].short_name for n in cd["item_no"]]
    cd["category"] = [items[n].category for n in cd["item_no"]]
    cd["agency"] = config.agency
    cd["provider"] = config.provider
    cd["idle_below"] = str(config.idle_below)
    return cd


_CONTRACT_DAYS_SQL = """
CREATE OR REPLACE TEMP TABLE _lake_contract_days AS
SELECT snapshot_date::DATE AS snapshot_date, item_no::SMALLINT AS item_no,
       contracted::DECIMAL(18,6) AS contracted, unit_price::DECIMAL(18,6) AS unit_price,
       unit_day_value::DECIMAL(18,10) AS unit_day_value, source, unit,
       idle_below::DECIMAL(9,4) AS idle_below, contract, item_name, category, agency, provider
FROM _lake_cd_df
"""


def export_parquet(store, contract, config, out: Path, date_from: date | None = None,
                   date_to: date | None = None) -> ExportResult:
    """Write the months of the store that [date_from, date_to] touches into the lake at ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = store.db
    months = _months(store, date_from, date_to)
    rows = dict.fromkeys(TABLES, 0)
    schema: dict[str, list[dict]] = {}
    part = f"contract={hive_value(contract.number)}"
    for month in months:
        first, last = month_bounds(month)
        db.register("_lake_cd_df", _contract_days(store, contract, config, first, last))
        try:
            db.execute(_CONTRACT_DAYS_SQL)
        finally:
            db.unregister("_lake_cd_df")
        for table in TABLES:
            sql = FOCUS_SQL if table == "focus_cost_usage" else STORE_TABLES[table]
            if "{columns}" in sql:
                sql = sql.replace("{columns}", _columns(db, table))
            folder = out / table / part
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".tmp-month={month}-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            bound = sql.replace("$1", f"DATE '{first}'").replace("$2", f"DATE '{last}'")
            target = tmp / FILE_NAME
            db.execute(f"COPY ({bound}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            # the schema and the count as written: read back from the file's own metadata
            read_back = f"read_parquet('{target}', hive_partitioning = false)"
            written = db.sql(f"SELECT * FROM {read_back}")
            schema[table] = [{"name": n, "type": str(t)}
                             for n, t in zip(written.columns, written.types)]
            rows[table] += db.execute(f"SELECT count(*) FROM {read_back}").fetchone()[0]
            _swap(tmp, folder / f"month={month}")
        db.execute("DROP TABLE _lake_contract_days")
    if schema:
        _write_schema(out, schema)
    return ExportResult(months, rows, out)


def _swap(new: Path, final: Path) -> None:
    """Put ``new`` in the place of ``final`` by renames: readers see the old month or the new one."""
    old = final.with_name(f".old-{final.name}-{os.getpid()}")
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _write_schema(out: Path, schema: dict) -> None:
    doc = {"format_version": FORMAT_VERSION, "partitioning": list(PARTITIONS),
           "partition_types": {"contract": "VARCHAR", "month": "VARCHAR (YYYY-MM)"},
           "file": f"<table>/contract=<number>/month=<YYYY-MM>/{FILE_NAME}",
           "tables": schema}
    tmp = out / f"._schema.json.{os.getpid()}"
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / "_schema.json")


def schema_markdown(schema_doc: dict) -> str:
    """docs/lake_schema.md from a written _schema.json (a test keeps the two equal)."""
    lines = ["# The Parquet lake's schema", "",
             "Written by `recon export parquet` (also as `_schema.json` at the lake's root). "
             f"Every table is Hive-partitioned `{schema_doc['file']}`; the partition "
             "columns `contract` and `month` are strings and are not stored in the files.",
             f"Format version {schema_doc['format_version']}.", ""]
    for table, cols in schema_doc["tables"].items():
        lines += [f"## {table}", "", "| column | type |", "|---|---|"]
        lines += [f"| {c['name']} | {c['type']} |" for c in cols]
        lines.append("")
    return "\n".join(lines)
