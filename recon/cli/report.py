"""`recon report monthly|index`: reports built from what the store holds."""
from __future__ import annotations

from recon import assess, conclude, rules
from recon.cli.common import add_db, open_args, say
from recon.store import current
from reports.index import rebuild, refresh_after_run
from reports.monthly import build_monthly, write_monthly


def cmd_monthly(args) -> int:
    o = open_args(args)
    assess.period(o.contract, args.month)  # a month outside the term: exit 3 before reading
    rules.load(o.config)                   # so is a bad assessment.toml
    # a night is one transaction: this sees all of a night or none of it
    with current(o.db, o.config.lock_wait, say=say) as store:
        conclude.month(store, o.contract, o.config, args.month)
        report = build_monthly(store, o.contract, o.config, args.month)
    paths = write_monthly(report, o.out)
    refresh_after_run(o.config, o.db, o.out)  # the index links the new assessment
    print(f"{report.month}: {report.verdict}；连续未通过 {report.consecutive_failed_months} 个月；"
          f"累计违约金 {report.penalty_total.text} 元；{paths['html']}, {paths['pdf']}, "
          f"{paths['json']}")
    return 0


def cmd_index(args) -> int:
    o = open_args(args, contract=False)
    print(f"index: {rebuild(o.config, o.db, o.out)}")
    return 0


def register(sub) -> None:
    rep = sub.add_parser("report", help="reports built from the store (monthly assessment, "
                         "history index)", description="Reports built from what the store holds.")
    rsub = rep.add_subparsers(dest="report_command", required=True, metavar="KIND")
    m = rsub.add_parser(
        "monthly", help="the monthly assessment (月度考核): HTML, PDF, JSON",
        description="Assess one calendar month (Asia/Shanghai) against "
        "assessment.toml and write OUT/monthly/YYYY-MM/assessment.html, .pdf "
        "and .json. The same store and month give byte-identical files.")
    m.add_argument("--month", required=True, help="YYYY-MM")
    add_db(m, out=True)
    m.set_defaults(func=cmd_monthly)
    p = rsub.add_parser(
        "index", help="rebuild OUT/index.html (every night, monthly assessments, verified "
        "statements, trends)",
        description="Rebuild OUT/index.html and index.json from the store alone: every night, "
        "every monthly assessment found in OUT/monthly/ and every verified statement found in "
        "OUT/finance/, newest first, with trend charts. "
        "Nightly reports missing from OUT are rendered again from the store.")
    add_db(p, out=True)
    p.set_defaults(func=cmd_index)
