"""`recon report monthly|index`: reports built from what the store holds."""
from __future__ import annotations

from recon import assess, conclude, rules
from recon.cli.common import add_contract, add_db, date_arg, open_args, say
from recon.contract import TRANSITION
from recon.errors import ConfigError
from recon.ledgers import acceptance
from recon.store import current
from reports.acceptance import build_acceptance, write_pack
from reports.annual import build_annual, write_annual
from reports.index import rebuild, refresh_after_run
from reports.monthly import build_monthly, write_monthly
from reports.transition import build_transition_month, write_transition_month


def cmd_monthly(args) -> int:
    o = open_args(args)
    judged = o.contracts.for_month(args.month)  # before the first term: exit 3
    if o.named:  # --contract: only its assessment of the month
        judged = [(c, k) for c, k in judged if c.number == o.contract.number]
        if not judged:
            raise ConfigError(f"--contract {o.contract.number}: {args.month} is outside its "
                              f"term ({o.contract.terms}); the month is "
                              + "、".join(c.number for c, _ in o.contracts.for_month(args.month))
                              + "'s")
    if judged[0][1] == TRANSITION:
        return _transition_month(o, judged[0][0], args.month)
    for contract, _ in judged:
        assess.period(contract, args.month)  # a month outside the term: exit 3 before reading
    rules.load(o.config)                     # so is a bad assessment.toml
    # a night is one transaction: this sees all of a night or none of it; a month two terms
    # touch is assessed by each contract on its own days, each report under its own folder
    done = []
    with current(o.db, o.config.lock_wait, say=say) as store:
        for contract, _ in judged:
            conclude.month(store, contract, o.config, args.month)
            done.append((contract, build_monthly(store, contract, o.config, args.month)))
    for contract, report in done:
        paths = write_monthly(report, o.out, contract)
        print(f"{report.month}（合同 {contract.number}，{report.first} 至 {report.last}）："
              f"{report.verdict}；连续未通过 {report.consecutive_failed_months} 个月；累计违约金 "
              f"{report.penalty_total.text} 元；{paths['html']}, {paths['pdf']}, {paths['json']}")
    refresh_after_run(o.config, o.db, o.out)  # the index links the new assessments
    return 0


def _transition_month(o, contract, month: str) -> int:
    """A month wholly after ``contract``'s term (第十三条 2): its usage valued, not assessed."""
    with current(o.db, o.config.lock_wait, say=say) as store:
        report = build_transition_month(store, contract, month)
    paths = write_transition_month(report, o.out)
    print(f"{month}: {report.verdict}（合同 {contract.number} 切换期）；用量计价 "
          f"{report.total.text} 元；{paths['html']}, {paths['json']}")
    return 0


def _conclude_months(store, o, contract, months: list[str]) -> None:
    """Conclude every month of a span that has begun by the store's last night (as `recon
    report monthly` does), and the ledger of that night again (ledgers may have changed)."""
    dates = store.snapshot_dates()
    last = dates[-1] if dates else None
    for month in months:
        if last is not None and month <= f"{last:%Y-%m}":
            conclude.month(store, contract, o.config, month)
    return last


def _folder(o, contract):
    """Where a contract's annual report goes: OUT for the first contract (as before a
    follow-on existed), OUT/<number>/ for a follow-on (as its packs, reports.acceptance)."""
    owner = contract.owner
    return o.out / owner if owner else o.out


def cmd_acceptance(args) -> int:
    o = open_args(args)
    rules.load(o.config)                   # a bad assessment.toml: exit 3 before reading
    with current(o.db, o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        span = acceptance.span(contract, args.period, getattr(args, "from"), args.to)
        _conclude_months(store, o, contract, span.months)
        dates = [d for d in store.snapshot_dates() if span.first <= d <= span.last]
        if dates:
            conclude.night(store, contract, o.config, dates[-1])
        conclude.acceptance(store, contract, o.config, span)
        report = build_acceptance(store, contract, o.config, span)
        paths, bundle = write_pack(store, contract, o.config, report, o.out)
    refresh_after_run(o.config, o.db, o.out)
    print(f"{report.label} {report.first}..{report.last}: {report.recommendation}；累计违约金 "
          f"{report.penalty_total.text} 元；{paths['html']}, {paths['pdf']}, {paths['json']}, "
          f"{bundle}")
    return 0


def cmd_annual(args) -> int:
    o = open_args(args)
    rules.load(o.config)
    with current(o.db, o.config.lock_wait, say=say) as store:
        contract = o.chosen(store)
        end_month = f"{contract.end:%Y-%m}"
        last = _conclude_months(store, o, contract, [p.month for p in
                                                     assess.periods_until(contract, end_month)])
        if last is not None:
            conclude.night(store, contract, o.config, min(last, contract.end))
        conclude.annual(store, contract, o.config)
        report = build_annual(store, contract, o.config)
    paths = write_annual(report, _folder(o, contract))
    print(f"年度考核 {report.first}..{report.last}: {report.verdict}；{paths['html']}, "
          f"{paths['pdf']}, {paths['json']}")
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
        "and .json. The same store and month give byte-identical files. A month two "
        "contracts' terms touch is assessed by each on its own days; a follow-on contract's "
        "assessment goes to OUT/NUMBER/monthly/YYYY-MM/.")
    m.add_argument("--month", required=True, help="YYYY-MM")
    add_contract(m, default="every contract whose term touches the month")
    add_db(m, out=True)
    m.set_defaults(func=cmd_monthly)
    a = rsub.add_parser(
        "acceptance", help="the acceptance pack (验收, 第六条): HTML, PDF, JSON and the evidence zip",
        description="Conclude every month of the period, then write OUT/acceptance/PERIOD/"
        "acceptance.html, .pdf, .json and OUT/acceptance/acceptance-PERIOD.zip (the pack, every "
        "monthly assessment and nightly JSON of the period, the item_days rows and MANIFEST.json "
        "with each file's sha256, each night's run id and gate results). mid is the first six "
        "months of the term (2026-07-10..2027-01-09), final the whole term. The same store and "
        "period give byte-identical files. A follow-on contract's (--contract) go to "
        "OUT/NUMBER/acceptance/.")
    a.add_argument("--period", choices=("mid", "final"), help="mid (中期验收) or final (最终验收)")
    a.add_argument("--from", type=date_arg, help="first day (with --to, instead of --period)")
    a.add_argument("--to", type=date_arg, help="last day (with --from)")
    add_contract(a)
    add_db(a, out=True)
    a.set_defaults(func=cmd_acceptance)
    y = rsub.add_parser(
        "annual", help="the annual assessment (年度考核, 第七条2): HTML, PDF, JSON",
        description="Judge the contract year from the months' stored verdicts, the penalty "
        "ledger and the final acceptance, by the agency's criteria in assessment.toml [annual], "
        "and write OUT/annual/annual.html, .pdf and .json. Before the term ends it says what is "
        "still open, never a verdict. A follow-on contract's (--contract) goes to "
        "OUT/NUMBER/annual/.")
    add_contract(y)
    add_db(y, out=True)
    y.set_defaults(func=cmd_annual)
    p = rsub.add_parser(
        "index", help="rebuild OUT/index.html (every night, monthly assessments, verified "
        "statements, trends)",
        description="Rebuild OUT/index.html and index.json from the store alone: every night, "
        "every monthly assessment found in OUT/monthly/ and every verified statement found in "
        "OUT/finance/, newest first, with trend charts. "
        "Nightly reports missing from OUT are rendered again from the store.")
    add_db(p, out=True)
    p.set_defaults(func=cmd_index)
