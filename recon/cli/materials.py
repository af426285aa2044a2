"""`recon materials add|import|list`: the acceptance materials the provider handed in (第六条)."""
from __future__ import annotations

from pathlib import Path

from recon import errors
from recon.cli.common import add_contract, add_db, open_args, say
from recon.ledgers import materials
from recon.store import Store, current


def _save(o, rows) -> list:
    with Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        return materials.save(store, rows, o.chosen(store).owner)


def cmd_add(args) -> int:
    o = open_args(args, contract=False)
    try:
        m = materials.make_material(args.name, args.period, args.received, args.file,
                                    args.note or "")
    except ValueError as exc:
        field, _, why = str(exc).partition(": ")
        raise errors.InputError(None, why, column="--" + {"received_on": "received"}.get(
            field, field)) from None
    changed = _save(o, [m])
    print(f"{m.name} ({m.period}): {'recorded' if changed else 'unchanged'}; received "
          f"{m.received_on}; {m.file} sha256 {m.sha256} ({m.size} bytes)")
    return 0


def cmd_import(args) -> int:
    o = open_args(args, contract=False)
    rows = materials.read_materials(Path(args.file))  # every row and file checked first
    changed = _save(o, rows)
    print(f"{args.file}: {len(rows)} materials read, {len(changed)} new or changed")
    return 0


def cmd_list(args) -> int:
    o = open_args(args, contract=False)
    with current(o.db, o.config.lock_wait, say=say) as store:
        owner = o.chosen(store).owner
        rows = materials.latest(store, args.period, owner)
        print("name  period  received  sha256  size  file" + ("  file now" if args.verify
                                                               else ""))
        for m in rows:
            print(f"{m.name}  {m.period}  {m.received_on}  {m.sha256}  {m.size}  {m.file}"
                  + (f"  {materials.check(m)}" if args.verify else ""))
            if args.history:
                for rev in materials.history(store, m.name, m.period, owner):
                    print(f"    rev {rev.revision} from {rev.origin}: received "
                          f"{rev.received_on}, sha256 {rev.sha256}")
        if args.period:
            missing = materials.missing_required(store, args.period, owner)
            if missing:
                print(f"第六条 materials not received for {args.period}: {'、'.join(missing)}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("materials", help="the acceptance materials ledger (第六条)",
                       description="What the provider handed in for acceptance (第六条: 运维记录, "
                       "运维月报, 年报, 漏扫报告, 云平台巡检报告, and any other): name, period, "
                       "received date, file. The file's sha256 is recorded; the file itself is "
                       "only read, never altered. Name and period are the key; a change is a "
                       "new revision.")
    msub = p.add_subparsers(dest="materials_command", required=True, metavar="ACTION")
    a = msub.add_parser("add", help="record one material",
                        description="Record one material and its file's sha256.")
    a.add_argument("--name", required=True, help="材料名称, e.g. 运维月报")
    a.add_argument("--period", required=True, help="the period it covers: 2026-11, 2026, "
                   "中期验收 ...")
    a.add_argument("--received", required=True, help="the day it was received (YYYY-MM-DD)")
    a.add_argument("--file", required=True, help="the file as received")
    a.add_argument("--note", help="free text")
    add_contract(a)
    add_db(a)
    a.set_defaults(func=cmd_add)
    i = msub.add_parser("import", help="record materials from a CSV/XLSX list",
                        description="Columns: 材料名称/name, 期间/period, 收到日期/received_on, "
                        "文件/file (relative to the list's folder), 备注/note. UTF-8, BOM or "
                        "GBK. A bad row or a missing file stops the import naming its line and "
                        "column; nothing is recorded (exit 3).")
    i.add_argument("file", help="the list of materials (CSV or XLSX)")
    add_contract(i)
    add_db(i)
    i.set_defaults(func=cmd_import)
    ls = msub.add_parser("list", help="the materials with their sha256",
                         description="Each material's latest revision; --verify reads each "
                         "file again and says whether it is unchanged, changed or missing.")
    ls.add_argument("--period", help="only this period (and the 第六条 materials it lacks)")
    ls.add_argument("--verify", action="store_true", help="check each file's sha256 again")
    ls.add_argument("--history", action="store_true", help="show each material's revisions")
    add_contract(ls)
    add_db(ls)
    ls.set_defaults(func=cmd_list)
