"""`recon finance schedule|verify`: what finance needs before each payment."""
from __future__ import annotations

from pathlib import Path

from connectors.mapping import load_mapping
from recon import conclude
from recon.calendar import CalendarError, WorkCalendar
from recon.cli.common import add_db, open_args
from recon.finance.schedule import schedule, schedule_text
from recon.finance.statements import read_statement
from recon.finance.verify import verify
from recon.store import current
from reports.finance import build_finance, write_finance
from reports.index import refresh_after_run


def cmd_schedule(args) -> int:
    o = open_args(args)
    cal = WorkCalendar(args.calendar or o.config.calendar_file)
    payments = schedule(o.contract, cal)
    print(schedule_text(o.contract, payments, cal))
    errors = [p.error for p in payments if p.error]
    if errors:  # what is known is printed; the unknown year ends the command (exit 3)
        raise CalendarError(errors[0])
    return 0


def cmd_verify(args) -> int:
    o = open_args(args)
    mapping = load_mapping(o.config.mapping_path, o.contract)
    # a bad file stops here: nothing written
    statement = read_statement(args.file, o.contract)
    with current(o.db, o.config.lock_wait) as store:  # an older store is migrated, never emptied
        conclude.night(store, o.contract, o.config, statement.period_end)
        result = verify(statement, o.contract, store, mapping, o.config)
    report = build_finance(result, o.contract)
    paths = write_finance(report, o.out)
    refresh_after_run(o.config, o.db, o.out)  # the index links the new verification
    print(f"{statement.name}: {report.counts['lines']} lines, {report.counts['not_ok']} not ok"
          + (f", {len(report.missing_items)} contracted items not billed"
             if report.missing_items else "")
          + f"; billed {report.billed.text}, accepted {report.accepted.text}, unknown "
          f"{report.unknown_value.text}, penalties {report.penalty_total.text}; {paths['html']}")
    return report.exit_code


def register(sub) -> None:
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
    add_db(ver, out=True)
    ver.set_defaults(func=cmd_verify)
