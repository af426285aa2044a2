"""The reconciliation's own SQL on Spark, over the Parquet lake of many contracts.

Why: an operator of hundreds of contracts reconciles on a distributed SQL
engine, and the rules must not be written twice.  So nothing here restates a
rule: :data:`recon.reconcile.ITEM_DAYS_SQL` and :data:`~recon.reconcile.FINDINGS_SQL`
are parsed with sqlglot (DuckDB dialect), rewritten mechanically, and written
out as Spark SQL.  The rewrites, each for a reason:

* every store table of the lake carries ``contract`` (its partition): it joins
  every ``USING`` list, window partition and ``snapshot_date IN (SELECT ... FROM
  _cd)`` filter, every explicit select list and grouping, so one statement
  reconciles every contract;
* DuckDB's message macros (``qty``, the Chinese labels) are inlined, and
  ``item_unit(d.item_no)`` reads the unit ``contract_days`` carries per contract;
* DuckDB functions Spark lacks get their Spark equivalent: ``min(x, n)`` (the
  first n ids) -> ``slice(array_sort(collect_list(x)), 1, n)``,
  ``string_agg(DISTINCT ... ORDER BY ...)`` -> ``array_join(array_sort(collect_set()))``,
  ``format('{}')`` -> ``format_string('%s')``, ``format('{:,}')`` -> ``format_number``,
  ``to_json(struct)`` keeping NULL fields as DuckDB does,
  ``to_json(flatten(list(json[])))`` as the elements' JSON text joined, ``f.* EXCLUDE``
  as the CTE's column list, ``HUGEINT`` as ``DECIMAL(38,0)``; sqlglot turns QUALIFY
  into a subquery;
* the ``idle_below`` parameter is the contract's own, a column of ``contract_days``.

Severity comes from :data:`recon.reconcile.SEVERITY`, as DuckDB's UPDATE sets it.
No figure depends on how an engine divides or rounds: reconcile's SQL divides only in
integers and rounds only in DECIMAL casts and ``round(DECIMAL)``, which both engines
do half up (docs/reports.md, "Rounding").
What stays per agency: the pull, the scaling ledger's flags and the reports.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

if __name__ == "__main__":
    # spark-submit runs this file as a script, which puts recon/ first on sys.path: there
    # recon/calendar.py would shadow the standard library's (pandas fails to import)
    _here = Path(__file__).parent.resolve()
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]

import sqlglot
from sqlglot import exp

from recon.reconcile import FINDINGS_SQL, ITEM_DAYS_SQL, SEVERITY, message_macros

#: the lake tables the reconciliation reads
INPUTS = ("measurements", "resource_lines", "resources", "source_runs")
KEY = "contract"


def _macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """name -> (parameters, body) of the DuckDB macros the findings' messages use."""
    out = {}
    # item_unit is per contract here (read from contract_days): no contract's table is needed
    stand_in = SimpleNamespace(items={0: SimpleNamespace(item_no=0, unit="")})
    for sql in message_macros(stand_in):
        create = sqlglot.parse_one(sql, read="duckdb")
        udf = create.this
        out[udf.this.name.lower()] = ([p.name for p in udf.expressions], create.expression)
    return out


def _fn(name: str, *args) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=[a if isinstance(a, exp.Expression)
                                                 else exp.Literal.number(a) for a in args])


def _inline(tree: exp.Expression, macros) -> exp.Expression:
    def sub(node):
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name == "item_unit":
                arg = node.expressions[0]
                return exp.column("unit", table=arg.table or None)
            if name in macros:
                params, body = macros[name]
                args = dict(zip(params, node.expressions))
                return body.copy().transform(
                    lambda n: args[n.name].copy()
                    if isinstance(n, exp.Column) and not n.table and n.name in args else n)
        return node
    for _ in range(5):  # macros call macros (reason_text -> source_reason)
        tree = tree.transform(sub)
    return tree


def _spark_functions(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Min) and node.args.get("count") is not None:
        return _fn("slice", _fn("array_sort", _fn("collect_list", node.this)), 1,
                   node.args["count"])
    if isinstance(node, exp.Filter) and isinstance(node.this, exp.GroupConcat):
        order = node.this.this
        inner = order.this if isinstance(order, exp.Order) else order
        value = inner.expressions[0] if isinstance(inner, exp.Distinct) else inner
        collected = exp.Filter(this=_fn("collect_set", value), expression=node.expression)
        return _fn("nullif", _fn("array_join", _fn("array_sort", collected),
                                 node.this.args["separator"]), exp.Literal.string(""))
    if isinstance(node, exp.GroupConcat):
        order = node.this
        inner = order.this if isinstance(order, exp.Order) else order
        distinct = isinstance(inner, exp.Distinct)
        value = inner.expressions[0] if distinct else inner
        return _fn("nullif", _fn("array_join", _fn("array_sort", _fn(
            "collect_set" if distinct else "collect_list", value)), node.args["separator"]),
            exp.Literal.string(""))
    if isinstance(node, exp.Format):
        pattern = node.this.this
        if pattern == "{:,}":
            value = node.expressions[0]
            while isinstance(value, (exp.Cast, exp.Trunc)):
                value = value.this
            return _fn("format_number", _fn("floor", value), 0)
        return _fn("format_string",
                   exp.Literal.string(pattern.replace("%", "%%").replace("{}", "%s")),
                   *node.expressions)
    if isinstance(node, exp.Trunc):
        return _fn("floor", node.this)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_json" \
            and isinstance(node.expressions[0], exp.Flatten) \
            and isinstance(node.expressions[0].this, exp.Filter):
        # the JSON lists of a group, concatenated: elements kept as their JSON text; NULL
        # when the group has none (DuckDB's list() of no rows)
        filt = node.expressions[0].this
        value = filt.this.this.this if isinstance(filt.this.this, exp.Cast) else filt.this.this
        where = filt.expression
        texts = exp.Filter(this=_fn("collect_list", _fn("from_json", value.copy(),
                                                        exp.Literal.string("array<string>"))),
                           expression=where.copy())
        joined = exp.DPipe(this=exp.DPipe(this=exp.Literal.string("["), expression=_fn(
            "array_join", _fn("flatten", texts), exp.Literal.string(","))),
            expression=exp.Literal.string("]"))
        any_rows = exp.GT(this=exp.Filter(this=exp.Count(this=value.copy()),
                                          expression=where.copy()),
                          expression=exp.Literal.number(0))
        return exp.Case(ifs=[exp.If(this=any_rows, true=joined)])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "to_json" \
            and isinstance(node.expressions[0], exp.Struct):
        keep_nulls = _fn("map", exp.Literal.string("ignoreNullFields"),
                         exp.Literal.string("false"))
        return _fn("to_json", node.expressions[0], keep_nulls)
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        # DuckDB's HUGEINT (utilisation's exact integer division): Spark's DIV of two
        # DECIMAL(38,0) is exact too (a LONG quotient)
        return exp.DataType.build("DECIMAL(38,0)")
    if isinstance(node, exp.Placeholder):
        return exp.column("idle_below")
    return node


def _qualifier(select: exp.Select) -> str | None:
    first = select.expressions[0]
    return first.table or None if isinstance(first, exp.Column) else None


def _has_star(sel: exp.Select) -> bool:
    return any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and e.is_star)
               for e in sel.expressions)


def _per_contract(select: exp.Select) -> exp.Select:
    """Carry ``contract`` through every join, filter, window, grouping and output."""
    for join in select.find_all(exp.Join):
        using = join.args.get("using")
        if using and KEY not in {u.name for u in using}:
            join.set("using", [exp.to_identifier(KEY), *using])
    for window in select.find_all(exp.Window):
        parts = window.args.get("partition_by")
        if parts:
            window.set("partition_by", [exp.column(KEY), *parts])
    in_subqueries = set()
    for node in list(select.find_all(exp.In)):
        query = node.args.get("query")
        if query is None or not isinstance(node.this, exp.Column):
            continue
        col = node.this
        inner = query.this if isinstance(query, exp.Subquery) else query
        inner.set("expressions", [exp.column(KEY), *inner.expressions])
        in_subqueries.add(id(inner))
        node.set("this", exp.Tuple(expressions=[exp.column(KEY, table=col.table or None),
                                                col.copy()]))
    for sel in list(select.find_all(exp.Select)):
        if id(sel) in in_subqueries or sel.args.get("from_") is None or _has_star(sel):
            continue
        if any(e.alias_or_name == KEY for e in sel.expressions):
            continue
        key = exp.column(KEY, table=_qualifier(sel))
        sel.set("expressions", [key, *sel.expressions])
        group = sel.args.get("group")
        if group is not None and not group.args.get("all"):
            group.set("expressions", [key.copy(), *group.expressions])
    _expand_star_except(select)
    return select


def _expand_star_except(select: exp.Select) -> None:
    """``f.* EXCLUDE (a, b)`` (DuckDB) as the CTE's column list, less those and ``contract``
    (USING already brings it): Spark has no EXCLUDE."""
    ctes = {cte.alias: cte.this for cte in select.find_all(exp.CTE)}
    for sel in select.find_all(exp.Select):
        aliases = {t.alias_or_name: t.name for t in sel.find_all(exp.Table)}
        out = []
        for e in sel.expressions:
            star = e.this if isinstance(e, exp.Column) and e.is_star else None
            if isinstance(star, exp.Star) and star.args.get("except_"):
                skip = {c.name for c in star.args["except_"]} | {KEY}
                source = ctes[aliases[e.table]]
                out += [exp.column(c.alias_or_name, table=e.table)
                        for c in source.expressions if c.alias_or_name not in skip]
            else:
                out.append(e)
        sel.set("expressions", out)


def spark_statement(duckdb_insert: str, macros=None) -> str:
    """One of reconcile's INSERT statements as a Spark SELECT over every contract."""
    macros = macros if macros is not None else _macros()
    insert = sqlglot.parse_one(duckdb_insert, read="duckdb")
    select = insert.expression
    select = _inline(select, macros)
    for _ in range(4):  # transform() does not descend into what it replaced: until stable
        select = select.transform(_spark_functions)
    return _per_contract(select).sql(dialect="spark")


def _spark_type(duck: str) -> str:
    return {"VARCHAR": "STRING", "JSON": "STRING"}.get(duck, duck)


def reconcile_lake(spark, lake: Path, contracts: list[str] | None = None,
                   months: list[str] | None = None):
    """item_days and findings of every contract (or those named) in the lake, as Spark DataFrames.

    Each carries ``contract`` first, then the store's columns in the store's types.
    """
    from pyspark.sql import functions as F  # an extra (recon[lake]): only when Spark runs

    lake = Path(lake)
    schema = json.loads((lake / "_schema.json").read_text(encoding="utf-8"))["tables"]

    def view(table: str):
        df = (spark.read.option("basePath", str(lake / table)).parquet(str(lake / table)))
        if contracts:
            df = df.where(df[KEY].isin(contracts))
        if months:
            df = df.where(df["month"].isin(months))
        return df

    for table in INPUTS:
        df = view(table)
        if table == "resources":  # a resource is in every month it had lines: take the latest
            df.createOrReplaceTempView("_resources_by_month")
            df = spark.sql("SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY contract, "
                           "resource_key ORDER BY month DESC) AS _rn FROM _resources_by_month) "
                           "WHERE _rn = 1").drop("_rn")
        df.drop("month").createOrReplaceTempView(table)
    view("contract_days").drop("month").createOrReplaceTempView("_cd")

    macros = _macros()

    def typed(sql: str, table: str):
        """The statement's rows named and typed as the store's table (contract first)."""
        cols = schema[table]
        df = spark.sql(sql)
        if not {c["name"] for c in cols} <= set(df.columns):  # positional, as INSERT reads it
            df = df.toDF(KEY, *[c["name"] for c in cols])
        return df.selectExpr(KEY, *[f"CAST(`{c['name']}` AS {_spark_type(c['type'])}) "
                                    f"AS `{c['name']}`" for c in cols])

    item_days = typed(spark_statement(ITEM_DAYS_SQL, macros), "item_days").cache()
    item_days.createOrReplaceTempView("_item_days_out")
    spark.sql("SELECT d.*, c.unit FROM _item_days_out d JOIN _cd c "
              "USING (contract, snapshot_date, item_no)").createOrReplaceTempView("item_days")
    parts = [typed(spark_statement(sql, macros), "findings") for sql in FINDINGS_SQL]
    findings = parts[0]
    for part in parts[1:]:
        findings = findings.unionByName(part)
    cases = " ".join(f"WHEN '{code}' THEN '{sev}'" for code, sev in SEVERITY.items())
    findings = findings.withColumn("severity", F.expr(f"CASE code {cases} ELSE severity END"))
    return item_days, findings


def local_spark(app: str = "recon-lake", cores: int = 2):
    """A local Spark session for the lake: Beijing time, partition values kept as strings."""
    from pyspark.sql import SparkSession  # an extra (recon[lake]): only when Spark runs
    spark = (SparkSession.builder.master(f"local[{cores}]").appName(app)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(cores))
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "Asia/Shanghai")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def write_results(item_days, findings, out: Path) -> None:
    """Write Spark's item_days and findings as the lake's tables are laid out
    (``table/contract=/month=``), replacing only the partitions written."""
    from pyspark.sql import functions as F  # an extra (recon[lake]): only when Spark runs
    for name, df in (("item_days", item_days), ("findings", findings)):
        (df.withColumn("month", F.date_format("snapshot_date", "yyyy-MM"))
           .write.mode("overwrite").option("partitionOverwriteMode", "dynamic")
           .partitionBy(KEY, "month").parquet(str(Path(out) / name)))


def main(argv=None) -> int:
    """``python -m recon.lake LAKE --out DIR``: every contract of the lake, on Spark.

    Locally (``--master local[2]``) or through ``spark-submit`` on a cluster, where the
    master comes from spark-submit.
    """
    parser = argparse.ArgumentParser(prog="python -m recon.lake", description=main.__doc__)
    parser.add_argument("lake", help="the lake's root (recon export parquet --out)")
    parser.add_argument("--out", required=True, help="where item_days/ and findings/ go")
    parser.add_argument("--contract", action="append", help="only this contract (repeatable)")
    parser.add_argument("--month", action="append", help="only this month, YYYY-MM (repeatable)")
    parser.add_argument("--master", help="Spark master for a local run, e.g. local[2]")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.master:
        spark = local_spark("recon-lake", int(args.master.strip("local[]*") or 2))
    else:
        from pyspark.sql import SparkSession  # an extra (recon[lake]): only when Spark runs
        spark = (SparkSession.builder.appName("recon-lake")
                 .config("spark.sql.session.timeZone", "Asia/Shanghai")
                 .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
                 .getOrCreate())
    up = time.monotonic()
    item_days, findings = reconcile_lake(spark, Path(args.lake), args.contract, args.month)
    write_results(item_days, findings, Path(args.out))
    done = time.monotonic()
    counts = spark.read.parquet(str(Path(args.out) / "findings")).groupBy(KEY).count().count()
    print(f"recon.lake: {counts} contract(s) reconciled into {args.out}; "
          f"spark up {up - started:.1f} s, reconcile + write {done - up:.1f} s")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
