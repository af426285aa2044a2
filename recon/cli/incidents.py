"""`recon incidents import|list`: the incidents ledger the monthly assessment judges from."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from recon.cli.common import add_db, conclude_latest, out, month_arg, open_args, say
from recon.ledgers import incidents
from recon.store import Store, current, run_lock


def cmd_import(args) -> int:
    o = open_args(args)
    rows = incidents.read_incidents(Path(args.file), o.contracts)  # every row checked first
    with run_lock(o.db, o.config.lock_wait, "recon incidents import", say=say), \
            Store(o.db, wait_seconds=o.config.lock_wait, say=say) as store:
        changed = incidents.save(store, rows)
        conclude_latest(store, o)  # the ledger rests on them
    print(f"{args.file}: {len(rows)} incidents read, {len(changed)} new or changed")
    return 0


def cmd_list(args) -> int:
    o = open_args(args, contract=False)
    with current(o.db, o.config.lock_wait, say=say) as store:
        if args.month:
            first = date(args.month.year, args.month.month, 1)
            last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            rows = incidents.in_period(store, first, last)
        else:
            rows = list(incidents.latest(store).values())
        out("事件编号  系统  类型  发生  响应  到场  恢复  中断  级别  投诉  重大损失")
        for i in rows:
            out(f"{i.incident_id}  {i.system}{'（重要）' if i.important else ''}  "
                  f"{incidents.KIND_LABELS[i.kind]}  {incidents.fmt_time(i.started_at)}  "
                  f"{incidents.fmt_time(i.responded_at)}  {incidents.fmt_time(i.on_site_at)}  "
                  f"{incidents.fmt_time(i.recovered_at) if i.recovered_at else '未恢复'}  "
                  f"{'是' if i.outage else '否'}  {i.event_level or '-'}  "
                  f"{'是' if i.complaint else '否'}  {'是' if i.major_loss else '否'}")
            if args.history:
                for rev in incidents.history(store, i.incident_id):
                    out(f"    rev {rev.revision} from {rev.origin}: responded "
                          f"{incidents.fmt_time(rev.responded_at)}, recovered "
                          f"{incidents.fmt_time(rev.recovered_at)}, outage {rev.outage}, "
                          f"level {rev.event_level or '-'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("incidents", help="the incidents ledger (faults, service requests)",
                       description="Faults, service requests and security events the monthly "
                       "assessment judges service levels from (第三条, 附件1-3).")
    isub = p.add_subparsers(dest="incidents_command", required=True, metavar="ACTION")
    imp = isub.add_parser("import", help="record incidents from a CSV/XLSX file",
                          description="Columns: 事件编号/incident_id, 系统名称/system, "
                          "重要系统/important (是/否), 类型/kind (故障|运维需求|安全事件), "
                          "发生时间/started_at, 响应时间/responded_at, 到场时间/on_site_at, "
                          "定位时间/located_at, 恢复时间/recovered_at, 是否中断服务/outage, "
                          "影响/impact, 投诉/complaint, 事件级别/event_level (A|B), "
                          "重大损失/major_loss, 备注/note. UTF-8, BOM or GBK; times without a "
                          "zone are Beijing time. A bad row stops the import naming its line "
                          "and column; nothing is recorded (exit 3). A changed row is a new "
                          "revision.")
    imp.add_argument("file", help="the incidents ledger (CSV or XLSX)")
    add_db(imp)
    imp.set_defaults(func=cmd_import)
    lst = isub.add_parser("list", help="the incidents, latest revisions",
                          description="Each incident's latest revision; --month limits to "
                          "those that started in, or were open during, a month.")
    lst.add_argument("--month", type=month_arg, help="YYYY-MM (Asia/Shanghai)")
    lst.add_argument("--history", action="store_true", help="show each incident's revisions")
    add_db(lst)
    lst.set_defaults(func=cmd_list)
