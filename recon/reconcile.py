"""Reconciliation: contracted vs allocated vs in use, per item and date, in SQL.

Reads what the store holds for a set of dates and writes ``item_days`` and
``findings`` for them (replacing what those dates held).  The rules:

* An item is *measured* on a date when an accepted ``allocated`` figure exists
  for it and no rejected figure does; otherwise it is ``unknown`` (or
  ``not_measured`` when the contract says no source measures it).  Nothing is
  concluded about an unknown item: no shortfall, no overage, no idle capacity.
* Each figure keeps its basis (connectors/base.py): an allocation of basis
  ``unlimited`` (a -1 quota) is measured with no shortfall and no
  utilisation; one of basis ``not_measured`` (the API sees only use: OS
  licences, hosts, IPsec, SNAT) is measured with no shortfall drawn either way,
  while use above the contract is still flagged.  Per item and metric the
  item's own source wins; other sources (a console export) fill in what it
  does not measure.
* shortfall = contracted - allocated when positive; overage = in use -
  contracted when positive; utilisation = in use / allocated.
* Value in CNY: an item's monthly value is unit price x quantity / 12
  (第二条: the unit price covers the 12-month term), prorated by the days of
  the calendar month.  Money stays DECIMAL end to end: the per-unit day value
  is divided in Python Decimal (to 1e-10 yuan) and only multiplied in SQL.
* Rounding: every stored figure is rounded once, half up (a tie goes away from
  zero; no quantity is negative), from its exact value: the unit day value to
  1e-10 yuan in Python, the values to 1e-6 yuan by the DECIMAL(18,6) cast of an
  exact product, utilisation (a ratio, not money) to 4 places by an integer
  division.  Nothing passes through DOUBLE, so DuckDB and Spark (recon/lake.py
  runs this SQL there) store the same figures, ties included.

Finding codes are stable (reports and alerts key on them); each is listed once,
with its severity and label, in recon/codes.py (``by = "reconcile"`` for those
this SQL draws; the scaling ledger adds the scaling_* codes).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pandas as pd

from recon import codes, labels
from recon.contract import day_share
from recon.store import MONEY, QTY

#: severity per finding code the SQL draws (recon/codes.py, the one table); "critical" and
#: "warning" need attention (exit 1)
SEVERITY = codes.severity("reconcile")
#: the value of one unit of an item for one day, to 1e-10 yuan
UNIT_DAY_EXP = Decimal("1e-10")
#: how many resource ids a finding carries (the count is always exact)
MAX_IDS = 200


def contract_days(contract, dates: list[date]) -> pd.DataFrame:
    """One row per (date, item): the contracted quantity that day and its price."""
    rows = []
    for day in dates:
        for item in contract.items.values():
            # DuckDB divides DECIMALs in DOUBLE; divide here exactly, multiply there exactly
            share = Fraction(item.unit_price) * day_share(day, item.months)
            unit_day = (Decimal(share.numerator) / share.denominator).quantize(
                UNIT_DAY_EXP, ROUND_HALF_UP)
            rows.append((day, item.item_no, str(contract.quantity_on(item.item_no, day)),
                         str(item.unit_price), str(unit_day), item.source))
    return pd.DataFrame(rows, columns=["snapshot_date", "item_no", "contracted", "unit_price",
                                       "unit_day_value", "source"])


def reconcile(store, contract, dates: list[date], idle_below: Decimal = Decimal("0.30")) -> None:
    """Compute item_days and findings for ``dates``, atomically (in the caller's transaction
    when there is one: a night's conclusions commit with its snapshot)."""
    db = store.db
    cd = contract_days(contract, dates)
    db.register("_contract_days", cd)
    try:
        with store.transaction():
            db.execute(f"""
                CREATE OR REPLACE TEMP TABLE _cd AS
                SELECT snapshot_date::DATE AS snapshot_date, item_no::SMALLINT AS item_no,
                       contracted::{QTY} AS contracted, unit_price::{MONEY} AS unit_price,
                       unit_day_value::DECIMAL(18,10) AS unit_day_value, source
                FROM _contract_days
            """)
            db.execute("DELETE FROM item_days WHERE snapshot_date IN "
                       "(SELECT snapshot_date FROM _cd)")
            db.execute("DELETE FROM findings WHERE snapshot_date IN "
                       "(SELECT snapshot_date FROM _cd)")
            db.execute(ITEM_DAYS_SQL, [idle_below])
            for sql in message_macros(contract):
                db.execute(sql)
            for sql in FINDINGS_SQL:
                db.execute(sql)
            db.execute("UPDATE findings f SET severity = s.severity "
                       "FROM (SELECT unnest(?::VARCHAR[]) AS code, "
                       "unnest(?::VARCHAR[]) AS severity) s "
                       "WHERE f.code = s.code AND f.severity = 'pending'",
                       [list(SEVERITY), list(SEVERITY.values())])
    finally:
        db.unregister("_contract_days")


ITEM_DAYS_SQL = f"""
INSERT INTO item_days BY NAME
WITH m AS (
    -- per item and metric, figures from the item's own source (its contract `source`) win;
    -- other sources only fill in what it does not measure (an export's count of licences
    -- the API cannot see); a figure of basis not_measured only says nobody measured it
    SELECT m.*,
           CASE WHEN m.basis = 'not_measured' THEN 2
                WHEN m.source = c.source OR (c.source = 'export' AND m.source LIKE 'export:%')
                     -- a scope of [openstack] scopes: openstack:compute@GPU-Region/bjwjw-ai
                     OR starts_with(m.source, c.source || '@')
                THEN 0 ELSE 1 END AS tier
    FROM measurements m JOIN _cd c USING (snapshot_date, item_no)
    WHERE m.accepted
), chosen AS (
    SELECT * FROM m QUALIFY tier = min(tier) OVER (PARTITION BY snapshot_date, item_no, metric)
), figures AS (
    SELECT snapshot_date, item_no,
           sum(quantity) FILTER (WHERE metric = 'allocated')                   AS allocated,
           count(*) FILTER (WHERE metric = 'allocated') > 0                    AS has_allocated,
           coalesce(bool_or(basis = 'unlimited') FILTER (WHERE metric = 'allocated'), false)
                                                                               AS unlimited,
           string_agg(DISTINCT basis, '+' ORDER BY basis) FILTER (WHERE metric = 'allocated')
                                                                               AS allocated_basis,
           sum(quantity) FILTER (WHERE metric = 'in_use')                      AS in_use,
           string_agg(DISTINCT basis, '+' ORDER BY basis) FILTER (WHERE metric = 'in_use')
                                                                               AS in_use_basis,
           to_json(flatten(list(parts::JSON[]) FILTER (WHERE metric = 'allocated'
                                                       AND parts IS NOT NULL))) AS parts,
           string_agg(DISTINCT source, ', ' ORDER BY source)                   AS measured_by
    FROM chosen
    GROUP BY ALL
), rejected AS (
    SELECT snapshot_date, item_no, bool_or(NOT accepted) AS any_rejected
    FROM measurements
    WHERE snapshot_date IN (SELECT snapshot_date FROM _cd)
    GROUP BY ALL
), scope_down AS (
    -- an item's figures add up across scopes: one scope that failed leaves the sum short,
    -- so the item is unknown for the night, as when its one source fails
    SELECT DISTINCT c.snapshot_date, c.item_no
    FROM _cd c JOIN source_runs s
      ON s.snapshot_date = c.snapshot_date AND starts_with(s.source, c.source || '@')
    WHERE s.status <> 'ok'
), joined AS (
    SELECT c.*, f.* EXCLUDE (snapshot_date, item_no),
           (c.source <> 'none' AND coalesce(f.has_allocated, false)
            AND NOT coalesce(r.any_rejected, false) AND d.item_no IS NULL) AS measured
    FROM _cd c LEFT JOIN figures f USING (snapshot_date, item_no)
               LEFT JOIN rejected r USING (snapshot_date, item_no)
               LEFT JOIN scope_down d USING (snapshot_date, item_no)
), calc AS (
    SELECT *,
           -- unlimited: no shortfall; not measured (allocated NULL): no conclusion either way
           CASE WHEN measured AND unlimited THEN 0
                WHEN measured AND allocated IS NOT NULL THEN greatest(contracted - allocated, 0)
           END AS shortfall,
           CASE WHEN measured THEN greatest(coalesce(in_use, 0) - contracted, 0) END AS overage,
           -- utilisation: in_use / allocated rounded half up to 4 places, on the exact
           -- quotient.  Neither engine divides DECIMALs exactly (DuckDB divides in DOUBLE:
           -- 0.14525 is 0.145249999..., 0.1452; Spark to a scale of its own), so it is an
           -- integer division of the quantities in millionths (they have 6 decimals):
           -- floor((20000 u + a) / 2a) = round(u / a x 10^4) with ties up (u >= 0: the
           -- gate accepts no negative quantity); times 0.0001 is exact in both
           CASE WHEN measured AND NOT unlimited AND allocated > 0
                THEN ((20000 * coalesce(in_use, 0) + allocated) * 1000000)::HUGEINT
                     // (2000000 * allocated)::HUGEINT * 0.0001 END AS utilisation
    FROM joined
)
SELECT snapshot_date, item_no, contracted,
       CASE WHEN measured AND NOT unlimited THEN allocated END AS allocated,
       CASE WHEN measured THEN coalesce(in_use, 0) END AS in_use,
       shortfall, overage, utilisation,
       (unit_day_value::DECIMAL(38,10) * contracted)::{MONEY} AS day_value,
       (unit_day_value::DECIMAL(38,10) * shortfall)::{MONEY} AS shortfall_value,
       (unit_day_value::DECIMAL(38,10) * overage)::{MONEY} AS overage_value,
       CASE WHEN source = 'none' THEN 'not_measured'
            WHEN NOT measured THEN 'unknown'
            WHEN shortfall > 0 THEN 'shortfall'
            WHEN overage > 0 THEN 'over'
            WHEN utilisation < ? THEN 'idle'
            ELSE 'ok' END AS status,
       measured_by,
       CASE WHEN measured THEN CASE WHEN unlimited THEN 'unlimited' ELSE allocated_basis END
       END AS allocated_basis,
       CASE WHEN measured THEN coalesce(in_use_basis, 'usage') END AS in_use_basis,
       CASE WHEN measured THEN unlimited END AS unlimited,
       CASE WHEN measured THEN parts END AS parts
FROM calc
"""

# a quantity as the report writes it (labels.qty): 90000.000000, 'GB' -> '90,000 GB'
QTY_MACRO = """
CREATE OR REPLACE TEMP MACRO qty(x, unit) AS
    CASE WHEN x IS NULL THEN '-' ELSE
        CASE WHEN x < 0 THEN '-' ELSE '' END
        || format('{:,}', trunc(abs(x))::HUGEINT)
        || CASE WHEN abs(x) <> trunc(abs(x))
                THEN '.' || rtrim(split_part(abs(x)::VARCHAR, '.', 2), '0') ELSE '' END
        || CASE WHEN coalesce(unit, '') = '' THEN '' ELSE ' ' || unit END
    END
"""
# a source inside a sentence (labels.source_text): '块存储 openstack:block-storage'.  The
# first of these that is not NULL (|| of a NULL label is NULL): each label is looked up
# once, where a CASE testing each label and then taking it expanded the label macro seven
# times, and DuckDB took ~10 ms to plan each use of it (a night's reconcile uses it 3 times)
SOURCE_MACRO = """
CREATE OR REPLACE TEMP MACRO source_text(s) AS coalesce(
    CASE WHEN contains(s, ':') THEN source_label(s) || ' ' || s END,
    -- a scope's source: openstack:compute@GPU-Region/bjwjw-ai
    CASE WHEN contains(s, '@') THEN source_label(split_part(s, '@', 1)) || ' ' || s END,
    source_label(s),
    CASE WHEN split_part(s, ':', 2) <> ''
         THEN source_label(split_part(s, ':', 1)) || ' ' || substr(s, strpos(s, ':') + 1) END,
    s)
"""
# why a source failed, Chinese first and the connector's own words after it
REASON_MACRO = """
CREATE OR REPLACE TEMP MACRO reason_text(code, reason) AS
    CASE WHEN source_reason(code) IS NULL
              OR starts_with(coalesce(reason, ''), source_reason(code)) THEN coalesce(reason, '')
         WHEN coalesce(reason, '') = '' THEN source_reason(code)
         ELSE source_reason(code) || ' — ' || reason END
"""


def message_macros(contract) -> list[str]:
    """The macros finding messages are written with: quantities with separators and the
    item's unit, and the Chinese labels of labels.py."""
    return [QTY_MACRO,
            labels.sql_labels("item_unit", {i.item_no: i.unit for i in contract.items.values()}),
            labels.sql_labels("resource_label", labels.RESOURCE_TYPE),
            labels.sql_labels("source_reason", labels.SOURCE_REASON),
            labels.sql_labels("source_label", labels.SOURCE),
            REASON_MACRO, SOURCE_MACRO]

# the lines of the dates reconciled: joined to their dates (rather than filtered by
# ``snapshot_date IN (SELECT ... FROM _cd)``), DuckDB sees how few they are and builds its
# hash table on them, not on every resource of the store (the night's unmapped resources at
# 100,000 servers: 0.034 -> 0.009 s, bench/README.md)
_NIGHTS_LINES = "(SELECT DISTINCT snapshot_date FROM _cd) c JOIN resource_lines l USING (snapshot_date)"

# the resource ids behind an item on a date (accepted lines only)
_IDS = f"""
    ids AS (
        SELECT l.snapshot_date, l.item_no,
               min(r.resource_id, {MAX_IDS}) AS ids,
               count(*) AS n
        FROM __NIGHTS_LINES__ JOIN resources r USING (resource_key)
        WHERE l.accepted
        GROUP BY ALL
    )
"""

FINDINGS_SQL = [
    # shortfall, overage and idle capacity: one finding per item and date
    """
    INSERT INTO findings
    WITH __IDS__, src AS (
        SELECT d.*, c.source AS contract_source FROM item_days d JOIN _cd c USING (snapshot_date, item_no)
    )
    SELECT d.snapshot_date, k.code, 'pending', d.item_no, d.measured_by,
           CASE k.code
             WHEN 'allocation_shortfall' THEN format('第{}项 分配 {} 少于合同 {}，缺 {}',
                  d.item_no, d.q_allocated, d.q_contracted, d.q_shortfall)
             WHEN 'usage_over_contract' THEN format('第{}项 使用 {} 超出合同 {}，超 {}',
                  d.item_no, d.q_in_use, d.q_contracted, d.q_overage)
             WHEN 'allocation_over_contract' THEN format(
                  '第{}项 分配 {} 高于合同数量 {}，无生效的补充合同覆盖（第十六条）',
                  d.item_no, d.q_allocated, d.q_contracted)
             ELSE format('第{}项 使用率 {}%，已分配 {} 仅用 {}', d.item_no,
                  d.q_utilisation, d.q_allocated, d.q_in_use)
           END,
           to_json(struct_pack(contracted := d.contracted::VARCHAR, allocated := d.allocated::VARCHAR,
                   in_use := d.in_use::VARCHAR, shortfall := d.shortfall::VARCHAR,
                   overage := d.overage::VARCHAR, utilisation := d.utilisation::VARCHAR,
                   shortfall_value := d.shortfall_value::VARCHAR,
                   overage_value := d.overage_value::VARCHAR, resources := coalesce(i.n, 0))),
           to_json(coalesce(i.ids, []::VARCHAR[]))
    -- each quantity's text once (DuckDB plans each use of the qty macro: ~1.5 ms a use)
    FROM (SELECT d.*, qty(d.allocated, u.unit) AS q_allocated,
                 qty(d.contracted, u.unit) AS q_contracted, qty(d.in_use, u.unit) AS q_in_use,
                 qty(d.shortfall, u.unit) AS q_shortfall, qty(d.overage, u.unit) AS q_overage,
                 qty(round(d.utilisation * 100, 1), NULL) AS q_utilisation
          FROM src d CROSS JOIN LATERAL (SELECT item_unit(d.item_no) AS unit) u) d
    JOIN (VALUES ('allocation_shortfall'), ('usage_over_contract'), ('idle_capacity'),
                 ('allocation_over_contract')) k(code)
      ON (k.code = 'allocation_shortfall' AND d.status = 'shortfall')
      OR (k.code = 'usage_over_contract' AND d.overage > 0)
      OR (k.code = 'allocation_over_contract' AND d.allocated > d.contracted)
      OR (k.code = 'idle_capacity' AND d.status = 'idle')
    LEFT JOIN ids i USING (snapshot_date, item_no)
    """,
    # unmapped resources: one finding per source, resource type and the type's own name
    # (volume type, QoS policy, flavor, exported service): the name is what mapping.toml
    # needs, the ids are evidence
    """
    INSERT INTO findings
    WITH u AS (
        SELECT l.snapshot_date, r.source, r.resource_type, r.resource_id, l.quantity, l.unit,
               coalesce(r.attributes->>'kind', r.attributes->>'volume_type',
                        r.attributes->>'service', r.attributes->>'flavor', '') AS kind
        FROM __NIGHTS_LINES__ JOIN resources r USING (resource_key)
        WHERE l.accepted AND l.item_no IS NULL
    )
    SELECT snapshot_date, 'unmapped_resource', 'pending', NULL, source,
           format('{} 个{}未对应任何合同项：{} {}{}（来源：{}）', qty(count(*), NULL),
                  coalesce(resource_label(resource_type), resource_type || ' 类资源'),
                  CASE resource_type WHEN 'volume' THEN '卷类型' WHEN 'qos_policy' THEN '策略'
                       WHEN 'server' THEN '规格' WHEN 'export' THEN '服务名称' ELSE '名称' END,
                  CASE WHEN kind = '' THEN '(无名称)' ELSE kind END,
                  CASE WHEN count(DISTINCT unit) = 1 AND any_value(unit) <> ''
                       THEN format('，共 {}', qty(sum(quantity), any_value(unit)))
                       ELSE '' END,
                  source_text(source)),
           to_json(struct_pack(resources := count(*), quantity := sum(quantity)::VARCHAR,
                               unit := any_value(unit), resource_type := resource_type,
                               kind := kind)),
           to_json(min(resource_id, __MAX_IDS__))
    FROM u
    GROUP BY snapshot_date, source, resource_type, kind
    """,
    # sources that failed or whose data was rejected
    """
    INSERT INTO findings
    SELECT snapshot_date,
           CASE status WHEN 'failed' THEN 'source_unavailable' ELSE 'data_rejected' END,
           'pending', NULL, source,
           -- each macro once in the statement (planning them is most of its time)
           format('数据源 {} {}{}', source_text(source),
                  CASE WHEN status = 'failed' THEN '未能采集：'
                       WHEN coalesce(stats->>'reason_code', 'rejected') = 'rejected'
                       THEN '的数据未通过校验，本日不计：'
                       ELSE '的数据本日不计：' END,
                  CASE WHEN status <> 'failed'
                        AND coalesce(stats->>'reason_code', 'rejected') = 'rejected'
                       THEN coalesce(reason, '')
                       ELSE reason_text(stats->>'reason_code', reason) END),
           stats, NULL
    FROM source_runs
    WHERE status <> 'ok' AND snapshot_date IN (SELECT snapshot_date FROM _cd)
    """,
    # items that should have been measured and were not
    """
    INSERT INTO findings
    SELECT d.snapshot_date, 'item_unmeasured', 'pending', d.item_no, c.source,
           format('第{}项 本日无有效计量数据（数据源：{}），不作判断', d.item_no,
                  source_text(c.source)),
           NULL, NULL
    FROM item_days d JOIN _cd c USING (snapshot_date, item_no)
    WHERE d.status = 'unknown'
    """,
]
FINDINGS_SQL = [sql.replace("__IDS__", _IDS).replace("__MAX_IDS__", str(MAX_IDS))
                .replace("__NIGHTS_LINES__", _NIGHTS_LINES) for sql in FINDINGS_SQL]
