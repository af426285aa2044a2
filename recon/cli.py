"""The `recon` command: a thin layer that parses, calls the library, and exits.

Exit codes are in :mod:`recon.errors` and README.md.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date
from pathlib import Path

from recon import errors
from recon.config import load_config
from recon.progress import Progress


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_run(args) -> int:
    from recon.nightly import Night, today_shanghai

    config = load_config(args.config)
    progress = Progress(quiet=args.quiet)
    night = Night(config, cloud=args.cloud, progress=progress)
    day = args.date or today_shanghai()
    result = night.run(day, Path(args.db) if args.db else config.db_path,
                       Path(args.out) if args.out else config.out_dir)
    report = result.report
    progress.log(f"{day}: exit {result.exit_code} ({report.exit_label}); "
                 f"{report.counts['critical']} critical, {report.counts['warning']} warning; "
                 f"report {result.html}")
    return result.exit_code


def cmd_contract_check(args) -> int:
    from recon.contract import load_contract

    config = load_config(args.config)
    contract = load_contract(config)
    if args.expectations:
        from recon.nightly import Night  # runs the GX contract suite too
        Night(config, cloud="", progress=Progress(quiet=True))
    for line in contract.summary_lines():
        print(line)
    print("合同检查通过 (contract check passed)")
    return 0


def cmd_contract_show(args) -> int:
    from recon.contract import load_contract
    from recon.money import fmt

    config = load_config(args.config)
    contract = load_contract(config)
    day = args.date or contract.start
    print(f"{'序号':>4}  {'数量':>10}  {'单位':<5} {'合价':>14}  项目 ({day})")
    for item in contract.items.values():
        print(f"{item.item_no:>4}  {contract.quantity_on(item.item_no, day):>10}  "
              f"{item.unit:<5} {fmt(item.line_total):>14}  {item.short_name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recon",
        description="Nightly reconciliation of the government-cloud contract against what the "
                    "provider's APIs and console exports show.",
        epilog="Exit codes: 0 clean, 1 findings need attention, 2 incomplete (a source failed "
               "or was rejected), 3 bad input or configuration, 4 store busy or unreadable.")
    parser.add_argument("--config", help="recon.toml to use (default: ./recon.toml, else the "
                        "bundled one; env RECON_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="pull, validate, store, reconcile and report one night",
                         description="Pull every configured source for one date, validate, "
                         "store the snapshot (replacing that date's), reconcile and write "
                         "OUT/DATE/nightly.html and nightly.json.")
    run.add_argument("--date", type=_date, help="snapshot date, YYYY-MM-DD (default: today in "
                     "Asia/Shanghai)")
    run.add_argument("--cloud", help="clouds.yaml entry (default: [openstack] cloud or OS_CLOUD)")
    run.add_argument("--db", help="DuckDB store (default: [store] path or RECON_DB)")
    run.add_argument("--out", help="report folder (default: [report] out)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    run.set_defaults(func=cmd_run)

    contract = sub.add_parser("contract", help="check or show the contract",
                              description="The contract's items and supplementary contracts.")
    csub = contract.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    check = csub.add_parser("check", help="validate contract_items.csv and amendments",
                            description="Check unit price x quantity = line total, the total, "
                            "unique item numbers, positive quantities, dates inside the term; "
                            "print the summary with the total in 大写. Exit 3 on any violation.")
    check.add_argument("--expectations", action="store_true",
                       help="also run the Great Expectations contract suite")
    check.set_defaults(func=cmd_contract_check)
    show = csub.add_parser("show", help="contracted quantities on a date",
                           description="List the items with the quantity in force on a date "
                           "(supplementary contracts applied).")
    show.add_argument("--date", type=_date, help="YYYY-MM-DD (default: the signing date)")
    show.set_defaults(func=cmd_contract_show)

    for register in _extra_parsers():
        register(sub)
    return parser


def _extra_parsers():
    """Subcommands that live with their feature (simulator, demo ...)."""
    out = []
    try:
        from recon.sim.cli import add_sim_parser
        out.append(add_sim_parser)
    except ImportError:
        pass
    try:
        from recon.demo import add_demo_parser
        out.append(add_demo_parser)
    except ImportError:
        pass
    return out


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except errors.ReconError as exc:
        print(f"recon: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("recon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
