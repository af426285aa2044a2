"""`recon finance ...`: thin commands over recon.finance and recon.reports.finance."""
from __future__ import annotations

from pathlib import Path

from recon.config import load_config, store_path


def cmd_schedule(args) -> int:
    from recon.calendar import CalendarError, WorkCalendar
    from recon.contract import load_contract
    from recon.finance.schedule import schedule, schedule_text

    config = load_config(args.config)
    contract = load_contract(config)
    cal = WorkCalendar(args.calendar or config.calendar_file)
    payments = schedule(contract, cal)
    print(schedule_text(contract, payments, cal))
    errors = [p.error for p in payments if p.error]
    if errors:  # what is known is printed; the unknown year ends the command (exit 3)
        raise CalendarError(errors[0])
    return 0


def cmd_verify(args) -> int:
    from connectors.mapping import load_mapping
    from recon.contract import load_contract
    from recon.finance.statements import read_statement
    from recon.finance.verify import verify
    from recon.reports.finance import build_finance, write_finance
    from recon.store import current

    config = load_config(args.config)
    contract = load_contract(config)
    mapping = load_mapping(config.mapping_path, contract)
    statement = read_statement(args.file)          # a bad file stops here: nothing written
    db = store_path(config, args.db)
    with current(db, config.lock_wait) as store:   # an older store is migrated, never emptied
        result = verify(statement, contract, store, mapping, config)
    report = build_finance(result, contract)
    out = Path(args.out) if args.out else config.out_dir
    paths = write_finance(report, out)
    from recon.reports.index import refresh_after_run
    refresh_after_run(config, db, out)  # the index links the new verification
    print(f"{statement.name}: {report.counts['lines']} lines, {report.counts['not_ok']} not ok"
          + (f", {len(report.missing_items)} contracted items not billed"
             if report.missing_items else "")
          + f"; billed {report.billed.text}, accepted {report.accepted.text}, unknown "
          f"{report.unknown_value.text}, penalties {report.penalty_total.text}; {paths['html']}")
    return report.exit_code


def add_finance_parser(sub) -> None:
    fin = sub.add_parser("finance", help="payment schedule (第七条) and statement checks",
                         description="What finance needs before each payment.")
    fsub = fin.add_subparsers(dest="finance_command", required=True, metavar="ACTION")
    sch = fsub.add_parser(
        "schedule", help="the payments of 第七条 with due dates and invoice deadlines",
        description="Each payment of 第七条 with its amount (digits and 大写), its due date and "
        "the provider's invoice deadline (5 working days before), on China's working days "
        "(chinese-calendar, and the [calendar] file for years it lacks). A date in a year "
        "neither covers is an error naming the year (exit 3).")
    sch.add_argument("--calendar", type=Path, help="working-day file for years chinese-calendar "
                     "lacks (default: [calendar] file)")
    sch.set_defaults(func=cmd_schedule)
    ver = fsub.add_parser(
        "verify", help="check a billing statement or invoice lines against contract and store",
        description="Read the provider's statement (CSV/XLSX, UTF-8, BOM or GBK) and check each "
        "line: price, quantity in force, delivered quantity, arithmetic, tax, 大写. Writes "
        "OUT/finance/<statement>/verification.xlsx, .html and .json. Exit 1 when any line is "
        "not ok or a contracted item is not billed, 0 when all are ok, 3 on a bad file "
        "(nothing written).")
    ver.add_argument("file", help="the statement file")
    ver.add_argument("--db", help="DuckDB store (default: [store] path or RECON_DB)")
    ver.add_argument("--out", help="report folder (default: [report] out)")
    ver.set_defaults(func=cmd_verify)
