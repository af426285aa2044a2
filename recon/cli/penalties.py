"""`recon penalties list|confirm|withdraw`: the penalty ledger and the agency's confirmations.

Every penalty is an estimate (估算) resting on the readings of assessment.toml until the
agency confirms it; a confirmation is a revision of its own ledger, holds the amount
confirmed (a penalty whose amount later changes is an estimate again), and a pending
penalty (an incident still open, a value the contract's bands do not cover) cannot be
confirmed before it is decided.
"""
from __future__ import annotations

from recon import conclude, store as stored
from recon.cli.common import add_db, date_arg, open_args, say
from recon.errors import InputError
from recon.nightly import today_shanghai
from recon.store import Store


def _ledger(store, o, day):
    as_of = day or stored.latest_ledger_date(store) or (store.snapshot_dates() or [None])[-1]
    if as_of is None:
        raise InputError(None, "no night stored yet: nothing to list or confirm", column="--db")
    conclude.ensure_night(store, o.contract, o.config, as_of)
    return as_of, conclude.ledger(store, as_of)


def cmd_list(args) -> int:
    o = open_args(args)
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        as_of, ledger = _ledger(store, o, args.date)
    print(f"penalty ledger as concluded for {as_of}")
    print("key  dated  clause  amount  status  confirmation  rule")
    for p in ledger:
        print(f"{p.key}  {p.dated}  {p.clause}  {p.amount}  {p.status_label}"
              f"{' (held by ' + ', '.join(p.held_by) + ')' if p.held_by else ''}  "
              f"{'确认 ' + p.confirmed_by + ' ' + str(p.confirmed_on) if p.confirmed_by else '估算'}"
              f"  {p.rule or '-'}")
    return 0


def _one(args, withdraw: bool) -> int:
    o = open_args(args)
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        as_of, ledger = _ledger(store, o, None)
        line = next((p for p in ledger if p.key == args.key), None)
        if line is None:
            raise InputError(None, f"no penalty {args.key!r} in the ledger concluded for "
                             f"{as_of} (`recon penalties list` names them)", column="KEY")
        if line.status != "counted" and not withdraw:
            held = f" (held by {', '.join(line.held_by)})" if line.held_by else ""
            raise InputError(None, f"{args.key} is pending{held}: it cannot be confirmed "
                             "before what it rests on is decided", column="KEY")
        on = args.date or today_shanghai()
        rev = stored.confirm_penalty(store, args.key, args.by, on, line.amount,
                                     args.note or "", withdrawn=withdraw)
        conclude.night(store, o.contract, o.config, as_of)  # every report reads it from here
    print(f"{args.key}: {'withdrawn' if withdraw else 'confirmed'} by {args.by} on {on} "
          f"(revision {rev}; amount {line.amount})")
    return 0


def cmd_confirm(args) -> int:
    return _one(args, withdraw=False)


def cmd_withdraw(args) -> int:
    return _one(args, withdraw=True)


def register(sub) -> None:
    pen = sub.add_parser("penalties", help="the penalty ledger; the agency confirms a penalty",
                         description="Every penalty is 估算 (an estimate resting on the readings "
                         "of assessment.toml [readings]) until the agency confirms it.")
    psub = pen.add_subparsers(dest="penalties_command", required=True, metavar="ACTION")
    lst = psub.add_parser("list", help="the ledger with each penalty's status and rule",
                          description="The penalty ledger as concluded for a night (default: "
                          "the newest), each line with its status, confirmation and rule.")
    lst.add_argument("--date", type=date_arg, help="the night, YYYY-MM-DD")
    add_db(lst)
    lst.set_defaults(func=cmd_list)
    for name, func, text in (("confirm", cmd_confirm, "confirm a counted penalty (确认)"),
                             ("withdraw", cmd_withdraw, "withdraw a confirmation")):
        p = psub.add_parser(name, help=text, description=text + "; a revision of the "
                            "confirmations ledger. A pending penalty cannot be confirmed.")
        p.add_argument("key", metavar="KEY", help="the penalty's key, e.g. "
                       "sla:2026-11:availability (`recon penalties list`)")
        p.add_argument("--by", required=True, help="who confirms, for the agency")
        p.add_argument("--date", type=date_arg, help="date of the confirmation (default today)")
        p.add_argument("--note", help="free text")
        add_db(p)
        p.set_defaults(func=func)
