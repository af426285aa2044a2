"""`recon finance schedule|verify`: what finance needs before each payment."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from connectors.mapping import load_mapping
from recon import conclude
from recon.calendar import CalendarError, WorkCalendar
from recon.errors import ConfigError, InputError
from recon.cli.common import add_db, date_arg, open_args
from recon.finance.schedule import schedule, schedule_text
from recon.finance.statements import read_statement
from recon.finance.verify import content_digest, output_folder, verify
from recon.store import current
from reports.finance import build_finance, write_finance
from reports.index import refresh_after_run


def planned_final(config, flag: date | None) -> date | None:
    """The planned final payment date: --planned-final, else [payments] final_planned."""
    if flag is not None:
        return flag
    value = config.extra.get("payments", {}).get("final_planned")
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{config.path} [payments]: final_planned must be a date like 2027-07-20, "
                      f"got {value!r}")


def cmd_schedule(args) -> int:
    o = open_args(args)
    cal = WorkCalendar(args.calendar or o.config.calendar_file)
    payments = schedule(o.contract, cal, planned_final(o.config, args.planned_final))
    print(schedule_text(o.contract, payments, cal))
    errors = [p.error for p in payments if p.error]
    if errors:  # what is known is printed; the unknown year ends the command (exit 3)
        raise CalendarError(errors[0])
    return 0


#: the largest statement `finance verify` reads (bytes): a month billed per resource is
#: tens of thousands of lines (60,000 lines: 3.7 MB as CSV, 1.4 MB as XLSX; bench/
#: bench_finance.py); a file over 16 MiB is refused (exit 3) before it is read, so a wrong
#: file cannot take the machine's memory
MAX_STATEMENT_BYTES = 16 * 1024 * 1024


def _statement_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, f"cannot read the statement: {exc.strerror or exc}") from None
    if size > MAX_STATEMENT_BYTES:
        raise InputError(path, f"{size:,} bytes: larger than the {MAX_STATEMENT_BYTES:,} bytes "
                         "a statement may have (split it by month or by invoice)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the statement: {exc.strerror or exc}") from None


def _same_folder(a: Path, b: Path) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def cmd_verify(args) -> int:
    o = open_args(args)
    mapping = load_mapping(o.config.mapping_path, o.contract)
    path = Path(args.file)
    digest = content_digest(_statement_bytes(path))  # too large: exit 3 before reading
    statement = read_statement(path, o.contract)     # a bad file stops here: nothing written
    with current(o.db, o.config.lock_wait) as store:  # an older store is migrated, never emptied
        conclude.night(store, o.contract, o.config, statement.period_end)
        result = verify(statement, o.contract, store, mapping, o.config)
    report = build_finance(result, o.contract)
    report.sha256 = digest
    try:
        folder = output_folder(Path(o.out) / "finance", statement, digest)
    except FileExistsError as exc:
        raise InputError(path, str(exc)) from None
    paths = write_finance(report, folder)
    # the history index lists OUT/finance/* of the configured report folder: refreshed when the
    # verification lands there; written elsewhere (--out), it is in no index, and refreshing
    # one would only re-render nightly reports into a folder the user did not ask for
    if _same_folder(o.out, o.config.out_dir):
        refresh_after_run(o.config, o.db, o.out)
    print(f"{statement.name}: {report.counts['lines']} lines, {report.counts['not_ok']} not ok"
          + (f", {len(report.missing_items)} contracted items not billed"
             if report.missing_items else "")
          + (f", {report.counts['unverified']} unverified" if report.counts["unverified"] else "")
          + f"; billed {report.billed.text}, accepted {report.accepted.text}, not verifiable "
          f"{report.unknown_value.text}; penalty ledger {report.penalty_total.text} (information: "
          f"deducted once, at settlement); {paths['html']}")
    return report.exit_code


def register(sub) -> None:
    fin = sub.add_parser("finance", help="payment schedule (第七条) and statement checks",
                         description="What finance needs before each payment.")
    fsub = fin.add_subparsers(dest="finance_command", required=True, metavar="ACTION")
    sch = fsub.add_parser(
        "schedule", help="the payments of 第七条 with due dates and invoice deadlines",
        description="Each payment of 第七条 with its amount (digits and 大写), its due date and "
        "the provider's invoice deadline (5 working days before the payment), on China's "
        "working days (chinese-calendar, and the [calendar] file for years it lacks). The "
        "final payment's invoice deadline is counted from the day the agency plans to pay it "
        "(--planned-final, else [payments] final_planned in recon.toml); until one is "
        "recorded it is shown as not yet known. A date in a year neither covers, an "
        "incomplete calendar year, or a planned day before the term ends or not a working "
        "day is an error (exit 3).")
    sch.add_argument("--calendar", type=Path, help="working-day file for years chinese-calendar "
                     "lacks (default: [calendar] file)")
    sch.add_argument("--planned-final", type=date_arg, metavar="YYYY-MM-DD",
                     help="the day the agency plans to pay the final 50%% (default: "
                     "[payments] final_planned)")
    sch.set_defaults(func=cmd_schedule)
    ver = fsub.add_parser(
        "verify", help="check a billing statement or invoice lines against contract and store",
        description="Read the provider's statement (CSV/XLSX, UTF-8, BOM or GBK) and check each "
        "line: price, quantity in force, delivered quantity, arithmetic, tax, 大写. Writes "
        "OUT/finance/<first day>_<last day>-<digest>/verification.xlsx, .html and .json (the "
        "statement's billing period and the first characters of the file's SHA-256: a "
        "recurring file name never overwrites last month's) and nothing else; the history "
        "index is refreshed when OUT is the configured report folder. Exit 1 when any line "
        "is not ok or a contracted item is not billed, 0 when all are ok, 3 on a bad file or "
        "one larger than 16 MiB (nothing written).")
    ver.add_argument("file", help="the statement file")
    add_db(ver, out=True)
    ver.set_defaults(func=cmd_verify)
