"""`recon notice draft|sent|list`: the written notices (书面通知) and their deadlines."""
from __future__ import annotations

from datetime import datetime

from recon import errors
from recon.cli.common import add_contract, add_db, conclude_latest, date_arg, open_args, say
from recon.ledgers import notices
from recon.progress import SHANGHAI
from recon.store import current, run_lock
from reports.notice import draft_and_record


def _today():
    return datetime.now(SHANGHAI).date()


def cmd_draft(args) -> int:
    o = open_args(args)
    day = args.date or _today()
    with run_lock(o.db, o.config.lock_wait, "recon notice draft", say=say), \
            current(o.db, o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)   # the letter, and the ledger row, are under it
        try:
            ref = notices.check_ref(store, args.kind, args.ref, contract.owner)
            notice = notices.plan_draft(store, args.kind, ref, day, args.deadline,
                                        args.note or "", contract.owner)
        except ValueError as exc:
            field, _, why = str(exc).partition(": ")
            raise errors.InputError(None, why, column="--" + field) from None
        paths, changed = draft_and_record(store, contract, o.config, notice, o.out)
    print(f"{notice.notice_id}: {'drafted' if changed else 'unchanged'} under {contract.number} "
          f"({notice.kind_label} {notice.ref}, deadline {notice.deadline}); "
          f"{paths['docx']}, {paths['pdf']}")
    print(f"when it has gone out: recon notice sent {notice.notice_id} --date YYYY-MM-DD")
    return 0


def cmd_sent(args) -> int:
    o = open_args(args)
    with run_lock(o.db, o.config.lock_wait, "recon notice sent", say=say), \
            current(o.db, o.config.lock_wait, say=say) as store:
        notice, changed = notices.mark_sent(store, args.id, args.date)
        conclude_latest(store, o)  # states and penalties rest on it
    print(f"{notice.notice_id}: {'sent on' if changed else 'already recorded as sent on'} "
          f"{notice.sent_on}; deadline {notice.deadline}")
    return 0


def cmd_list(args) -> int:
    o = open_args(args)
    with current(o.db, o.config.lock_wait, say=say) as store:
        day = args.date or (store.snapshot_dates() or [_today()])[-1]
        rows = notices.states(store, day)
        # the contract each letter is under (None in the ledger: the first contract)
        under = {n.notice_id: n.owner or o.contracts.first.number for n in notices.latest(store)}
        print(f"as of the night of {day}")
        print("notice  contract  kind  ref  drafted  sent  deadline  state")
        for s in rows:
            print(f"{s.notice_id}  {under[s.notice_id]}  {s.kind}({s.kind_label})  {s.ref}  "
                  f"{s.drafted_on}  "
                  f"{s.sent_on or '-'}  {s.deadline}  {s.status}({s.status_label})：{s.text}")
            if args.history:
                for rev in notices.history(store, s.notice_id):
                    print(f"    rev {rev.revision}: drafted {rev.drafted_on}, deadline "
                          f"{rev.deadline}, sent {rev.sent_on or '-'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("notice", help="written notices (书面通知) to the provider and their "
                       "deadlines", description="The management unit's written notices: "
                       "drafted as a letter (DOCX to edit, PDF), recorded when sent; the "
                       "scaling states and the penalty ledger read their dates and deadlines "
                       "(附件3第3、4条, 第十二条4, 第六条).")
    nsub = p.add_subparsers(dest="notice_command", required=True, metavar="ACTION")
    d = nsub.add_parser("draft", help="draft a notice: OUT/notices/ID/ID.docx and .pdf",
                        description="Draft the letter of a notice from the store's facts: "
                        "标题, 主送 (the provider), 正文 with the facts and the clause quoted, "
                        "the deadline, 落款 (the agency), 日期 and the evidence table as 附件. "
                        "Drafting the same kind and ref again before it is sent replaces the "
                        "draft (a new revision, the same id). Ids: TZ-YYYY-NNN.")
    d.add_argument("--kind", required=True, choices=notices.KINDS,
                   help="scaling (附件3第4条), rectification (附件3第3条, 第十二条4) or "
                   "acceptance (第六条)")
    d.add_argument("--ref", required=True, help="the scaling request's id; the third failed "
                   "month (YYYY-MM); or the acceptance (the materials' period)")
    d.add_argument("--deadline", type=date_arg, help="the deadline the letter sets "
                   "(YYYY-MM-DD; acceptance: default 5 days after the letter, 第六条)")
    d.add_argument("--date", type=date_arg, help="the letter's date (default: today, "
                   "Asia/Shanghai)")
    d.add_argument("--note", help="free text (acceptance: the review's opinion, quoted)")
    add_contract(d)
    add_db(d, out=True)
    d.set_defaults(func=cmd_draft)
    s = nsub.add_parser("sent", help="record the day a notice went out",
                        description="Record the day the notice was sent (a new revision). "
                        "Only a sent notice counts: its date and deadline replace the "
                        "scaling CSV's notice columns, and a rectification notice decides "
                        "附件3第3条.")
    s.add_argument("id", help="the notice id (TZ-YYYY-NNN)")
    s.add_argument("--date", type=date_arg, required=True, help="the day it went out")
    add_db(s)
    s.set_defaults(func=cmd_sent)
    ls = nsub.add_parser("list", help="the notices and where they stand",
                         description="Each notice on a night: drafted, sent (due in N days), "
                         "unmet (overdue since D), met or undetermined.")
    ls.add_argument("--date", type=date_arg, help="the night (default: the latest stored)")
    ls.add_argument("--history", action="store_true", help="show each notice's revisions")
    add_db(ls)
    ls.set_defaults(func=cmd_list)
