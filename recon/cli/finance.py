"""`recon finance schedule|verify|payment|settle`: what finance needs before each payment."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from connectors.mapping import load_mapping
from recon import conclude
from recon.calendar import CalendarError, WorkCalendar
from recon.errors import ConfigError, InputError
from recon.cli.common import add_contract, add_db, date_arg, open_args, out, say
from recon.finance.schedule import payment_timing, schedule, schedule_text
from recon.finance.settlement import settle
from recon.finance.statements import read_statement
from recon.finance.verify import content_digest, output_folder, verify
from recon.ledgers import payments
from recon.money import fmt
from recon.nightly import today_shanghai
from recon.store import Store, current
from reports.finance import build_finance, write_finance
from reports.index import refresh_after_run
from reports.settlement import build_settlement, output_folder as settlement_folder, \
    write_settlement


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


def statement_contract(o, statement, path: Path):
    """The contract a statement is verified against: --contract, else the one whose term
    holds the statement's billing period (a period touching no term: the first contract, as
    before a follow-on existed).  A period touching two terms is refused (exit 3, naming
    both): one statement is billed under one contract's prices."""
    if o.named:
        return o.contract
    first, last = statement.period_start, statement.period_end
    touching = [c for c in o.contracts.all if c.start <= last and first <= c.end]
    if len(touching) > 1:
        raise InputError(path, f"the billing period {first} .. {last} straddles "
                         + " and ".join(f"{c.number} ({c.start} .. {c.end})" for c in touching)
                         + ": split the statement at the contracts' terms, or name one with "
                         "--contract")
    return touching[0] if touching else o.contracts.first


def cmd_verify(args) -> int:
    o = open_args(args)
    path = Path(args.file)
    digest = content_digest(_statement_bytes(path))  # too large: exit 3 before reading
    statement = read_statement(path, o.contract)     # a bad file stops here: nothing written
    contract = statement_contract(o, statement, path)
    if contract is not o.contract:                   # its lines checked against its own term
        statement = read_statement(path, contract)
    mapping = load_mapping(contract.mapping_path or o.config.mapping_path, contract)
    with current(o.db, o.config.lock_wait) as store:  # an older store is migrated, never emptied
        conclude.night(store, contract, o.config, statement.period_end)
        result = verify(statement, contract, store, mapping, o.config)
    report = build_finance(result, contract)
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


def cmd_payment_add(args) -> int:
    o = open_args(args)
    try:
        p = payments.make_payment(args.kind, args.date, args.amount, args.note or "")
    except ValueError as exc:
        field, _, why = str(exc).partition(": ")
        raise InputError(None, why, column=f"--{field}") from None
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        _check_payment(p, contract)
        saved = payments.save(store, p, contract.owner)
    cal = WorkCalendar(args.calendar or o.config.calendar_file)
    due = schedule(contract, cal)[0 if p.kind == "first" else 1].amount
    timing = payment_timing(contract, cal, p.kind, p.paid_on)
    out(f"{contract.number} {p.label}: "
        f"{'recorded (revision ' + str(saved.revision) + ')' if saved else 'unchanged'};"
        f" {fmt(p.amount)} 元; {timing.label}: {timing.text}")
    if p.kind == "first" and p.amount != due:
        out(f"  第七条第2款: 首款为 {fmt(due)} 元，记录的是 {fmt(p.amount)} 元")
    return 0


def _check_payment(p, contract) -> None:
    """A payment the contract cannot have: before signing, or a final one inside the term."""
    if p.paid_on < contract.start:
        raise InputError(None, f"{p.paid_on} is before the contract was signed "
                         f"({contract.start})", column="--date")
    if p.kind == "final" and p.paid_on <= contract.end:
        raise InputError(None, f"{p.paid_on}: the final payment falls due after the term's last "
                         f"day {contract.end} and a passed annual assessment (第七条第2款)",
                         column="--date")


def cmd_payment_list(args) -> int:
    o = open_args(args)
    cal = WorkCalendar(args.calendar or o.config.calendar_file)
    with current(o.db, o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        owner = contract.owner
        paid = payments.latest(store, owner)
        history = {k: payments.history(store, k, owner) for k in paid} if args.history else {}
    plan = schedule(contract, cal)
    out(f"{contract.number} {contract.title}")
    for n, kind in enumerate(payments.KINDS):
        p = paid.get(kind)
        if p is None:
            out(f"{payments.KINDS[kind]}: {fmt(plan[n].amount)} 元，未记录")
            continue
        timing = payment_timing(contract, cal, kind, p.paid_on)
        out(f"{p.label}: {fmt(p.amount)} 元, {p.paid_on}; {timing.label}: {timing.text}"
            + (f"; {p.note}" if p.note else ""))
        for rev in history.get(kind, []):
            out(f"    rev {rev.revision}: {rev.paid_on} {fmt(rev.amount)} 元 (recorded "
                f"{rev.recorded_at:%Y-%m-%d %H:%M})")
    return 0


def cmd_settle(args) -> int:
    o = open_args(args)
    cal = WorkCalendar(args.calendar or o.config.calendar_file)
    planned = planned_final(o.config, args.planned_final)
    as_of = args.date or today_shanghai()
    with current(o.db, o.config.lock_wait, say=say) as store:  # an older store is migrated
        contract = o.chosen(store)
        result = settle(store, contract, o.config, cal, as_of, planned)  # exit 3: nothing written
    report = build_settlement(result, contract)
    paths = write_settlement(report, settlement_folder(o.out, report, contract.owner))
    out(f"尾款结算（{report.kind_label}）: 尾款 {report.final_amount.text} 元, 违约金 "
        f"{report.deduction.text} 元 (计入 {report.penalty_total.text}"
        + (f", 超出上限 {report.excess.text} 不扣" if report.excess.amount else "")
        + (f", 待定 {len(report.pending)} 项不扣" if report.pending else "")
        + f"), 净额 {report.net.text} 元 ({report.net.daxie}); {report.gate_label}; 开票截止 "
        f"{report.invoice_by or '未定'}; {paths['html']}")
    return report.exit_code


def _add_calendar(parser) -> None:
    """The --calendar option of every command that counts working days (第七条)."""
    parser.add_argument("--calendar", type=Path, help="working-day file for years "
                        "chinese-calendar lacks (default: [calendar] file)")


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
    _add_calendar(sch)
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
    add_contract(ver, "the one whose term holds the statement's billing period; a period "
                 "straddling two terms is refused, exit 3")
    add_db(ver, out=True)
    ver.set_defaults(func=cmd_verify)

    pay = fsub.add_parser(
        "payment", help="the payments ledger of 第七条 (首款, 尾款)",
        description="What the agency paid the provider and when: 第七条第2款's two payments, "
        "首款 (first, 50%% within 20 working days of signing) and 尾款 (final, 50%% after the "
        "term and a passed annual assessment). A change is a new revision.")
    psub = pay.add_subparsers(dest="payment_command", required=True, metavar="ACTION")
    add = psub.add_parser(
        "add", help="record a payment (a change is a new revision)",
        description="Record the first or the final payment with the day it was paid and the "
        "amount. The first is said to be on time or late against its last day (the 20th "
        "working day after signing, on China's working days); a final payment inside the "
        "term, an amount that is not yuan to the fen or not positive is refused (exit 3).")
    add.add_argument("--kind", required=True, choices=tuple(payments.KINDS),
                     help="first (首款) or final (尾款)")
    add.add_argument("--date", required=True, type=date_arg, metavar="YYYY-MM-DD",
                     help="the day it was paid")
    add.add_argument("--amount", required=True, help="the amount paid, yuan (1459779.00)")
    add.add_argument("--note", help="free text (the bank reference)")
    _add_calendar(add)
    add_contract(add)
    add_db(add)
    add.set_defaults(func=cmd_payment_add)
    pls = psub.add_parser("list", help="the payments recorded, on time or late",
                          description="Each payment of 第七条 with its amount, day and whether "
                          "it kept to the contract; the ones not recorded yet.")
    pls.add_argument("--history", action="store_true", help="show each payment's revisions")
    _add_calendar(pls)
    add_contract(pls)
    add_db(pls)
    pls.set_defaults(func=cmd_payment_list)

    st = fsub.add_parser(
        "settle", help="the final payment as finance books it, penalties deducted once",
        description="The final payment of 第七条 (50%% of the contract total) with the counted "
        "penalties of the ledger (as concluded for the contract's newest night in its term) as "
        "one deduction line "
        "with their clauses, capped at 第十二条第3款's 10%% of the contract total (the excess "
        "stated, not deducted), pending penalties listed and not deducted, the net with 大写, "
        "the gate (annual assessment and acceptance passed: 未核实 until recorded) and the "
        "invoice deadline (5 working days before the planned payment date). Before the term "
        "ends it is a forecast (预估) listing what is open. Writes OUT/settlement/<date>/"
        "settlement.xlsx, .html and .json. Exit 0 when the term is over and the gate passed, "
        "1 otherwise (a forecast, a gate not verified), 3 when the planned date needs a year "
        "the calendar lacks or is not a working day after the term (nothing written).")
    st.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD",
                    help="the day of the settlement (default: today, Asia/Shanghai)")
    st.add_argument("--planned-final", type=date_arg, metavar="YYYY-MM-DD",
                    help="the day the agency plans to pay the final 50%% (default: "
                    "[payments] final_planned)")
    _add_calendar(st)
    add_contract(st)
    add_db(st, out=True)
    st.set_defaults(func=cmd_settle)
