"""`recon export parquet`: the store as a Hive-partitioned Parquet lake."""
from __future__ import annotations

from pathlib import Path

from recon.cli.common import add_db, date_arg, open_args
from recon.errors import InputError
from recon.export import export_parquet
from recon.store import Store


def cmd_parquet(args) -> int:
    o = open_args(args)
    if args.date_from and args.date_to and args.date_from > args.date_to:
        raise InputError(None, f"--from {args.date_from} is after --to {args.date_to}",
                         column="--from")
    with Store(o.db, read_only=True, wait_seconds=o.config.lock_wait) as store:
        result = export_parquet(store, o.contract, o.config, Path(args.out), args.date_from,
                                args.date_to)
    if not result.months:
        print(f"{o.db}: no stored night in the range; nothing written")
        return 0
    print(f"{o.contract.number}: {len(result.months)} month(s) "
          f"({result.months[0]} .. {result.months[-1]}) written to {result.out}")
    for table, n in result.rows.items():
        print(f"  {table}: {n} rows")
    return 0


def register(sub) -> None:
    exp = sub.add_parser("export", help="the store as Parquet for other engines and FinOps tools",
                         description="Export what the store holds.")
    esub = exp.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    pq = esub.add_parser(
        "parquet", help="Hive-partitioned Parquet with FOCUS cost-and-usage columns",
        description="Write OUT/<table>/contract=<number>/month=YYYY-MM/data.parquet for every "
        "month the range touches (whole months; a rerun replaces those months of this contract "
        "only), and OUT/_schema.json. Tables: runs, source_runs, measurements, resource_lines, "
        "resources, item_days, findings, contract_days, focus_cost_usage (FOCUS 1.x columns).")
    pq.add_argument("--out", required=True, help="the lake's root folder")
    pq.add_argument("--from", dest="date_from", type=date_arg, help="first night, YYYY-MM-DD "
                    "(its whole month is written; default: the first stored)")
    pq.add_argument("--to", dest="date_to", type=date_arg, help="last night (its whole month is "
                    "written; default: the last stored)")
    add_db(pq)
    pq.set_defaults(func=cmd_parquet)
