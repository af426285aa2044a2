"""`recon scaling add|import|list`: the scaling-request ledger (扩容) and its 7-day states."""
from __future__ import annotations

from pathlib import Path

import duckdb

from recon import conclude, errors, labels, store as stored
from recon.cli.common import add_db, conclude_latest, out, date_arg, open_args, say
from recon.ledgers import scaling
from recon.store import Store


def _save_requests(o, reqs, source: str | None = None) -> list[str]:
    """Record requests in one transaction: a night reads the ledger inside its own, so it
    sees all of them or none; no need to wait for a night that is still pulling."""
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        try:
            changed = scaling.save(store, reqs)
        except duckdb.ConversionException as exc:  # rolled back: nothing was recorded
            raise errors.InputError(source, "a quantity the store cannot hold (up to 12 "
                                    "digits before the point, 6 after): "
                                    + str(exc).splitlines()[0].partition(": ")[2],
                                    column=None if source else "--target/--increase") from None
        conclude_latest(store, o)  # states and ledger rest on them
        return changed


def cmd_add(args) -> int:
    o = open_args(args)
    try:
        req = scaling.make_request(o.contracts, args.id, args.item, args.target, args.increase,
                                   args.requested, args.notice_date, args.notice_deadline,
                                   args.note or "")
    except ValueError as exc:
        field, _, why = str(exc).partition(": ")
        raise errors.InputError(None, why, column="--" + field.replace("_", "-")) from None
    changed = _save_requests(o, [req])
    print(f"{req.request_id}: {'recorded' if changed else 'unchanged'}; day 0 = "
          f"{req.requested_date}, day 7 = {req.deadline}")
    return 0


def cmd_import(args) -> int:
    o = open_args(args)
    reqs = scaling.read_requests(Path(args.file), o.contracts)  # all rows checked first
    changed = _save_requests(o, reqs, args.file)
    print(f"{args.file}: {len(reqs)} requests read, {len(changed)} new or changed")
    return 0


def cmd_list(args) -> int:
    o = open_args(args)
    # waits out a night's write phase (short); never blocks a night for longer than it reads
    with Store(o.db, read_only=True, wait_seconds=o.config.lock_wait, say=say) as store:
        day = args.date or (store.snapshot_dates() or [None])[-1]
        if day is None:
            for r in scaling.requests(store):
                out(f"{r.request_id}  第{r.item_no}项  {r.requested_date}  no night measured yet")
            return 0
        # as the night concluded them (what its report says); a night never concluded is
        # worked out here, read-only
        contract = o.contracts.for_night(day)[0]   # a follow-on's night: its requests
        rows = (conclude.states(store, contract, day)
                if stored.concluded(store, "night", day.isoformat())
                else scaling.states(store, contract, day))
        out(f"as of the night of {day}")
        out("request  item  day0        day  target  latest  state  completed  unknown nights")
        for st in rows:
            r = st.request
            out(f"{r.request_id}  {r.item_no}  {r.requested_date}  {st.day}  "
                  f"{scaling.fmt_q(st.target)}  {scaling.fmt_q(st.latest)}  "
                  f"{st.state}({labels.SCALING[st.state]})  {st.completed_on or '-'}  "
                  f"{','.join(d.isoformat() for d in st.unknown_days) or '-'}")
            if args.history:
                for rev in scaling.history(store, r.request_id):
                    out(f"    rev {rev[0]} recorded {rev[1]:%Y-%m-%d %H:%M} from {rev[2]}: "
                          f"item {rev[3]} target {rev[4]} increase {rev[5]} "
                          f"notice {rev[7]} deadline {rev[8]}")
    return 0


def register(sub) -> None:
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
    add_db(add)
    add.set_defaults(func=cmd_add)
    imp = ssub.add_parser("import", help="record requests from a CSV/XLSX file",
                          description="Columns: 申请编号/request_id, 序号/item_no, 目标数量/target "
                          "or 扩容数量/increase, 申请时间/requested_at, 书面通知日期/notice_date, "
                          "通知期限/notice_deadline, 备注/note. UTF-8, BOM or GBK. A bad row "
                          "stops the import with its line; nothing is recorded.")
    imp.add_argument("file", help="the scaling requests (CSV or XLSX)")
    add_db(imp)
    imp.set_defaults(func=cmd_import)
    lst = ssub.add_parser("list", help="each request's state on a night",
                          description="States: pending, partial, completed, late, "
                          "undetermined (the night of day 7 is unknown), overdue, "
                          "notice_overdue, unverifiable.")
    lst.add_argument("--date", type=date_arg, help="the night (default: the latest stored)")
    lst.add_argument("--history", action="store_true", help="show each request's revisions")
    add_db(lst)
    lst.set_defaults(func=cmd_list)
