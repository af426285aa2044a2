"""The `recon` command: a thin layer that parses, calls the library, and exits.

Exit codes are in :mod:`recon.errors` and README.md.
"""
from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

from recon import errors, notify
from recon.config import init_folder, load_config, store_path
from recon.progress import Progress


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _say(message: str) -> None:
    print(f"recon: {message}", file=sys.stderr, flush=True)


def cmd_run(args) -> int:
    from recon.nightly import Night, today_shanghai

    config = load_config(args.config)
    notify.load_settings(config)  # a bad [notify] table is bad configuration: exit 3 first
    db = store_path(config, args.db)
    out = Path(args.out) if args.out else config.out_dir
    progress = Progress(quiet=args.quiet)
    progress.note(f"config {config.path.resolve()}; store {db.resolve()}; "
                  f"reports {out.resolve()}")
    night = Night(config, cloud=args.cloud, progress=progress)
    day = args.date or today_shanghai()
    result = night.run(day, db, out)
    report = result.report
    progress.note(f"{day}: exit {result.exit_code} ({report.exit_label}); "
                 f"{report.counts['critical']} critical, {report.counts['warning']} warning; "
                 f"report {result.html}")
    after_night(config, db, out, result, progress)
    return result.exit_code


def after_night(config, db: Path, out: Path, result, progress: Progress) -> None:
    """The night is stored and reported: refresh the index and tell people (never the exit code)."""
    from recon.reports.index import refresh_after_run
    refresh_after_run(config, db, out)
    for channel, sent in notify.notify_night(config, db, result).items():
        if sent:
            progress.log(f"notify {channel}: sent")
        else:  # nobody was told: even a quiet cron run says so
            progress.problem(f"notify {channel}: FAILED (see the log)")


def cmd_init(args) -> int:
    written = init_folder(args.dir)
    for path in written:
        print(f"wrote {path}{'/' if path.is_dir() else ''}")
    where = "" if Path(args.dir).resolve() == Path.cwd() else f"cd {args.dir} && "
    print(f"next: {where}recon contract check; then set [openstack] cloud in recon.toml, put "
          "the console exports in exports/ and run `recon run`")
    return 0


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


def _save_requests(args, config, reqs) -> list[str]:
    """Record requests in one transaction: a night reads the ledger inside its own, so it
    sees all of them or none; no need to wait for a night that is still pulling."""
    from recon import scaling
    from recon.store import Store

    db = store_path(config, args.db)
    with Store(db, wait_seconds=config.lock_wait, say=_say) as store:
        return scaling.save(store, reqs)


def cmd_scaling_add(args) -> int:
    from recon import scaling
    from recon.contract import load_contract

    config = load_config(args.config)
    contract = load_contract(config)
    try:
        req = scaling.make_request(contract, args.id, args.item, args.target, args.increase,
                                   args.requested, args.notice_date, args.notice_deadline,
                                   args.note or "")
    except ValueError as exc:
        field, _, why = str(exc).partition(": ")
        raise errors.InputError(None, why, column="--" + field.replace("_", "-")) from None
    changed = _save_requests(args, config, [req])
    print(f"{req.request_id}: {'recorded' if changed else 'unchanged'}; day 0 = "
          f"{req.requested_date}, day 7 = {req.deadline}")
    return 0


def cmd_scaling_import(args) -> int:
    from recon import scaling
    from recon.contract import load_contract

    config = load_config(args.config)
    contract = load_contract(config)
    reqs = scaling.read_requests(Path(args.file), contract)  # all rows checked first
    changed = _save_requests(args, config, reqs)
    print(f"{args.file}: {len(reqs)} requests read, {len(changed)} new or changed")
    return 0


def cmd_scaling_list(args) -> int:
    from recon import labels, scaling
    from recon.contract import load_contract
    from recon.store import Store

    config = load_config(args.config)
    contract = load_contract(config)
    db = store_path(config, args.db)
    # waits out a night's write phase (short); never blocks a night for longer than it reads
    with Store(db, read_only=True, wait_seconds=config.lock_wait, say=_say) as store:
        day = args.date or (store.snapshot_dates() or [None])[-1]
        if day is None:
            reqs = scaling.requests(store)
            for r in reqs:
                print(f"{r.request_id}  第{r.item_no}项  {r.requested_date}  no night measured yet")
            return 0
        rows = scaling.states(store, contract, day)
        print(f"as of the night of {day}")
        print("request  item  day0        day  target  latest  state  completed  unknown nights")
        for st in rows:
            r = st.request
            print(f"{r.request_id}  {r.item_no}  {r.requested_date}  {st.day}  "
                  f"{scaling._fmt_q(st.target)}  {scaling._fmt_q(st.latest)}  "
                  f"{st.state}({labels.SCALING[st.state]})  {st.completed_on or '-'}  "
                  f"{','.join(d.isoformat() for d in st.unknown_days) or '-'}")
            if args.history:
                for rev in scaling.history(store, r.request_id):
                    print(f"    rev {rev[0]} recorded {rev[1]:%Y-%m-%d %H:%M} from {rev[2]}: "
                          f"item {rev[3]} target {rev[4]} increase {rev[5]} "
                          f"notice {rev[7]} deadline {rev[8]}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on exit 3 (bad input), not argparse's 2.

    2 means "incomplete night, rerun it" to cron; a mistyped command line is bad input.
    Subcommand parsers inherit the class, so every level exits the same way.
    """

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(errors.EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="recon",
        description="Nightly reconciliation of the government-cloud contract against what the "
                    "provider's APIs and console exports show.",
        epilog="Exit codes: 0 clean, 1 findings need attention, 2 incomplete (a source failed "
               "or was rejected), 3 bad input or configuration, 4 store busy or unreadable.")
    parser.add_argument("--config", help="recon.toml to use (default: env RECON_CONFIG, else "
                        "./recon.toml; none: exit 3, start one with `recon init DIR`)")
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
    run.add_argument("-q", "--quiet", action="store_true",
                     help="drop progress (for cron); the files used, each failed or rejected "
                     "source and the exit line are still written")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init", help="start a folder: recon.toml, contract files, mapping",
                          description="Write a commented recon.toml, contract_items.csv, "
                          "contract_amendments.csv, mapping.toml, assessment.toml (the monthly "
                          "criteria) and an empty exports/ folder into DIR, ready for `recon "
                          "contract check`. Overwrites nothing.")
    init.add_argument("dir", nargs="?", default=".", metavar="DIR",
                      help="folder to start (default: the current one; created if missing)")
    init.set_defaults(func=cmd_init)

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

    sc = sub.add_parser("scaling", help="the scaling-request ledger (扩容) and its 7-day states",
                        description="Requests the agency made for more of an item. The nightly "
                        "run flags those not completed within 7 natural days (附件3 row 4).")
    ssub = sc.add_subparsers(dest="scaling_command", required=True, metavar="ACTION")
    add = ssub.add_parser("add", help="record one request",
                          description="Record (or change: a new revision) one scaling request.")
    add.add_argument("--id", required=True, help="request id (申请编号)")
    add.add_argument("--item", required=True, type=int, help="contract item number")
    group = add.add_mutually_exclusive_group(required=True)
    group.add_argument("--target", help="target allocated quantity")
    group.add_argument("--increase", help="increase over the allocation before the request, "
                       "or over the target of an earlier request on the item still open then")
    add.add_argument("--requested", required=True,
                     help="when it was requested: YYYY-MM-DD[ HH:MM] (Asia/Shanghai); day 0")
    add.add_argument("--notice-date", help="date of the management unit's written notice; "
                     "it counts only when dated after day 7")
    add.add_argument("--notice-deadline", help="deadline that notice set")
    add.add_argument("--note", help="free text")
    add.add_argument("--db", help="DuckDB store (default: [store] path or RECON_DB)")
    add.set_defaults(func=cmd_scaling_add)
    imp = ssub.add_parser("import", help="record requests from a CSV/XLSX file",
                          description="Columns: 申请编号/request_id, 序号/item_no, 目标数量/target "
                          "or 扩容数量/increase, 申请时间/requested_at, 书面通知日期/notice_date, "
                          "通知期限/notice_deadline, 备注/note. UTF-8, BOM or GBK. A bad row "
                          "stops the import with its line; nothing is recorded.")
    imp.add_argument("file")
    imp.add_argument("--db", help="DuckDB store")
    imp.set_defaults(func=cmd_scaling_import)
    lst = ssub.add_parser("list", help="each request's state on a night",
                          description="States: pending, partial, completed, late, "
                          "undetermined (the night of day 7 is unknown), overdue, "
                          "notice_overdue, unverifiable.")
    lst.add_argument("--date", type=_date, help="the night (default: the latest stored)")
    lst.add_argument("--history", action="store_true", help="show each request's revisions")
    lst.add_argument("--db", help="DuckDB store")
    lst.set_defaults(func=cmd_scaling_list)

    rep = sub.add_parser("report", help="reports built from the store (monthly assessment, "
                         "history index)", description="Reports built from what the store holds.")
    rsub = rep.add_subparsers(dest="report_command", required=True, metavar="KIND")
    for register in _report_parsers():
        register(rsub)

    for register in _extra_parsers():
        register(sub)
    return parser


def _report_parsers():
    """`recon report KIND`: each report module adds its own KIND."""
    from recon.reports.index import add_report_index
    from recon.reports.monthly import add_report_monthly
    return [add_report_monthly, add_report_index]


def _extra_parsers():
    """Subcommands that live with their feature (simulator, demo ...)."""
    out = []
    try:
        from recon.sim.cli import add_sim_parser
        out.append(add_sim_parser)
    except ImportError:
        pass
    from recon.ledgers.incidents import add_incidents_parser
    out.append(add_incidents_parser)
    try:
        from recon.demo import add_demo_parser
        out.append(add_demo_parser)
    except ImportError:
        pass
    from recon.finance.cli import add_finance_parser
    out.append(add_finance_parser)
    from recon.export import add_export_parser
    out.append(add_export_parser)
    return out


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except errors.ReconError as exc:
        print(f"recon: error: {exc} (exit {exc.exit_code})", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("recon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
