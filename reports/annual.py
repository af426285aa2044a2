"""The annual assessment (年度考核, 第七条2): HTML, PDF and JSON of the same facts.

The final 50% is paid after the term ends and the provider passes the annual assessment.
The contract defines no annual criteria: they are the agency's rules, in assessment.toml
``[annual]``, each marked so and citing what it rests on.  The verdict is the one
:func:`recon.conclude.annual` stored (the months' verdicts, the penalty ledger, the final
acceptance's latest record, judged once there); before the term is over (the store does not
hold its last night) it is no verdict: the report says what is still open.

The same store gives byte-identical files: dated by the last night stored in the term.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from recon import assess, conclude, labels, rules as rulebook, store as stored
from recon.ledgers import acceptance as acceptance_ledger
from recon.penalties import PenaltyLine
from reports.pdf import pdf_of
from reports.common import Money, env as _env, to_json, write_atomic

VERDICT = labels.VERDICT
#: a store whose year was never concluded (`recon report annual` concludes it first): no
#: verdict, never one worked out here
NOT_CONCLUDED = ("尚未判定", assess.Annual(False, None, [], [
    "年度考核尚未作出结论（recon report annual 先作出结论）"]))


@dataclass
class MonthRow:
    month: str
    first: date
    last: date
    partial: bool
    concluded: bool
    passed: bool | None
    verdict: str
    failed_criteria: list[str]
    failed_in_a_row: int


@dataclass
class AnnualReport:
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term: str
    first: date
    last: date
    data_as_of: date | None
    computable: bool
    passed: bool | None
    verdict: str
    criteria: list[assess.AnnualCriterion]
    open: list[str]
    months: list[MonthRow]
    penalties: list[PenaltyLine]
    penalty_total: Money
    penalty_cap: Money
    acceptance: list[dict]          # each period's latest record
    final_payment: Money            # 第七条2: the remaining 50%
    rules_file: str
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return to_json(self)


def build_annual(store, contract, config) -> AnnualReport:
    """The annual report of ``contract`` (its own final acceptance records and stored verdict,
    keyed by its ``owner``), on its own term's months only."""
    rules = rulebook.load(config)
    owner = contract.owner
    periods = assess.periods_until(contract, f"{contract.end:%Y-%m}")
    verdicts = {v["month"]: v for v in stored.month_verdicts(store, periods[-1].month, owner)}
    last = conclude.last_term_night(store, contract)
    as_of = last or contract.start
    total = stored.penalty_total(store, as_of)
    cap = rules.cap(contract)
    records = acceptance_ledger.latest(store, owner=owner)
    verdict, a = conclude.stored_annual(store, contract) or NOT_CONCLUDED
    months = []
    for p in periods:
        v = verdicts.get(p.month)
        months.append(MonthRow(
            p.month, p.first, p.last, p.partial, v is not None,
            v["passed"] if v else None, VERDICT[v["passed"]] if v else "尚未考核",
            [c["name"] for c in v["criteria"] if c["required"] and c["passed"] is False]
            if v else [], v["failed_in_a_row"] if v else 0))
    notes = [f"合同首月 {periods[0].month} 只含 {periods[0].first} 至 {periods[0].last}"
             f"（{len(periods[0].days)} 天），合同末月 {periods[-1].month} 只含 {periods[-1].first}"
             f" 至 {periods[-1].last}（{len(periods[-1].days)} 天），均按其自身天数考核",
             f"服务期末日按 recon.toml 取 {contract.end}（民法典第二百零一、二百零二条另一读法为"
             f"次日）",
             "合同未规定年度考核标准（第七条第2款只要求“年度考核合格”）：以下各项均为甲方规则，"
             f"写在 {rules.path.name} [annual]"]
    return AnnualReport(
        contract.number, contract.title, contract.agency, contract.provider,
        f"{contract.start} 至 {contract.end}", contract.start, contract.end, last,
        a.computable, a.passed, verdict, a.criteria, a.open, months,
        conclude.ledger(store, as_of), Money.of(total), Money.of(cap),
        [{"period": r.period, "label": acceptance_ledger.PERIOD_LABELS.get(r.period, r.period),
          "result": r.result, "result_label": r.result_label, "decided_on": r.decided_on,
          "revision": r.revision, "rework_deadline": r.rework_deadline} for r in records],
        Money.of(contract.total / 2), rules.path.name, notes)


def render_html(report: AnnualReport) -> str:
    return _env().get_template("annual.html.j2").render(r=report, labels=labels)


def write_annual(report: AnnualReport, out_dir: Path) -> dict[str, Path]:
    folder = Path(out_dir) / "annual"
    folder.mkdir(parents=True, exist_ok=True)
    html = render_html(report)
    pdf = pdf_of(html, f"政务云服务年度考核报告 {report.first} 至 {report.last}",
                 (report.data_as_of or report.first).isoformat())
    paths = {k: folder / f"annual.{k}" for k in ("html", "pdf", "json")}
    write_atomic(paths["pdf"], pdf)
    write_atomic(paths["html"], html)
    write_atomic(paths["json"], report.to_json())
    return paths
