"""`recon acceptance record|list`: the acceptance reviews' results (第六条) and the rework clock."""
from __future__ import annotations

from recon import errors
from recon.cli import common
from recon.cli.common import add_contract, add_db, date_arg, open_args, say
from recon.ledgers import acceptance
from recon.store import Store, current


def cmd_record(args) -> int:
    o = open_args(args, contract=False)
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        try:
            rec = acceptance.record(store, args.period, args.result, args.date, args.note or "",
                                    contract.owner)
        except ValueError as exc:
            field, _, why = str(exc).partition(": ")
            raise errors.InputError(None, why, column="--" + field) from None
    common.out(f"{contract.number} {acceptance.PERIOD_LABELS.get(rec.period, rec.period)} "
               f"({rec.period}) revision "
               f"{rec.revision}: {rec.result_label} on {rec.decided_on}"
               + (f"; rework and resubmit by {rec.rework_deadline} (第六条: 5 natural days)"
                  if rec.rework_deadline else ""))
    return 0


def cmd_list(args) -> int:
    o = open_args(args, contract=False)
    with current(o.db, o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        rows = acceptance.history(store, args.period, contract.owner)
    common.out(f"{contract.number} {contract.title}")
    common.out("period  revision  result  date  rework deadline  note")
    for r in rows:
        common.out(f"{r.period}  {r.revision}  {r.result}  {r.decided_on}  "
                   f"{r.rework_deadline or '-'}  {r.note}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("acceptance", help="the acceptance reviews' results (第六条)",
                       description="Record the result of an acceptance review (中期验收, 最终验收). "
                       "A failed one starts the 5-day rework clock of 第六条 (5 natural days: "
                       "the deadline is the review's date + 5); the nightly report and the "
                       "index show it until the resubmission is reviewed and recorded (a new "
                       "revision of the same period).")
    asub = p.add_subparsers(dest="acceptance_command", required=True, metavar="ACTION")
    r = asub.add_parser("record", help="record a review's result (a new revision)",
                        description="Record the result of the review of an acceptance period; "
                        "recording the same period again (the resubmission reviewed) adds a "
                        "revision, the latest counts.")
    r.add_argument("--period", required=True, help="mid, final, or FROM..TO as the pack names it")
    r.add_argument("--result", required=True, choices=acceptance.RESULTS,
                   help="pass or fail (验收合格 / 验收不合格)")
    r.add_argument("--date", required=True, type=date_arg, help="the day of the review (YYYY-MM-DD)")
    r.add_argument("--note", help="free text (the review's opinion)")
    add_contract(r)
    add_db(r)
    r.set_defaults(func=cmd_record)
    ls = asub.add_parser("list", help="every record, with its rework deadline",
                         description="Every revision of every acceptance record, with the "
                         "rework deadline of a failed one.")
    ls.add_argument("--period", help="only this period")
    add_contract(ls)
    add_db(ls)
    ls.set_defaults(func=cmd_list)
