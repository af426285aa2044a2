"""The nightly report: one typed context, written as JSON and rendered as HTML.

As datasette does with its template contexts, :class:`NightlyReport` is both
the machine-readable output (nightly.json) and exactly what the Jinja2
template (reports/nightly.html.j2) reads, so the two cannot disagree.
Quantities and money are Decimal in the context and strings in the JSON.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2

from recon import labels
from recon.money import cents, daxie, fmt
from recon.progress import SHANGHAI

TEMPLATES = Path(__file__).resolve().parent.parent / "reports"


@dataclass
class SourceLine:
    source: str
    status: str
    status_label: str
    reason: str | None
    lines: int
    measurements: int


@dataclass
class FindingLine:
    code: str
    code_label: str
    severity: str
    severity_label: str
    item_no: int | None
    item_name: str | None
    source: str | None
    message: str
    figures: dict | None
    resource_ids: list[str]
    resource_count: int


@dataclass
class ItemLine:
    item_no: int
    name: str
    unit: str
    category: str
    contracted: Decimal
    allocated: Decimal | None
    in_use: Decimal | None
    shortfall: Decimal | None
    overage: Decimal | None
    utilisation: Decimal | None
    day_value: Decimal
    shortfall_value: Decimal | None
    overage_value: Decimal | None
    status: str
    status_label: str
    measured_by: str | None
    #: what allocated / in_use are (quota, delivered, export, not_measured, unlimited; usage)
    allocated_basis: str | None = None
    allocated_basis_label: str | None = None
    in_use_basis: str | None = None
    in_use_basis_label: str | None = None
    unlimited: bool = False
    #: what the allocation adds up: [{"name": "gigabytes_ssd", "quantity": "101916"}, ...]
    parts: list = field(default_factory=list)


@dataclass
class ScalingLine:
    request_id: str
    item_no: int
    item_name: str
    requested_date: date
    deadline: date
    day: int
    target: Decimal | None
    latest: Decimal | None
    state: str
    state_label: str
    completed_on: date | None
    unknown_days: list[date]
    notice_deadline: date | None
    penalty: Decimal | None


@dataclass
class Money:
    amount: Decimal
    text: str
    daxie: str

    @classmethod
    def of(cls, amount) -> "Money":
        amount = cents(amount)
        return cls(amount, fmt(amount), daxie(amount))


@dataclass
class NightlyReport:
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term: str
    snapshot_date: date
    generated_at: datetime
    run_id: int
    exit_code: int
    exit_label: str
    complete: bool
    sources: list[SourceLine]
    findings: list[FindingLine]
    items: list[ItemLine]
    counts: dict = field(default_factory=dict)
    day_value: Money | None = None
    shortfall_value: Money | None = None
    overage_value: Money | None = None
    scaling: list[ScalingLine] = field(default_factory=list)
    #: 附件3 row 4 penalties incurred so far, and the 10% cap of 第十二条
    penalties: Money | None = None
    penalty_cap: Money | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2,
                          default=_json_default)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value))


def exit_code_for(report_findings: list[FindingLine], sources: list[SourceLine]) -> int:
    incomplete = any(s.status != "ok" for s in sources) or \
        any(f.code == "item_unmeasured" for f in report_findings)
    if incomplete:
        return 2
    if any(f.severity in ("critical", "warning") for f in report_findings):
        return 1
    return 0


def build_scaling(store, contract, snapshot_date: date, config=None):
    from recon import scaling

    basis = getattr(config, "penalty_basis", "contract")
    coef = getattr(config, "penalty_coefficient", Decimal("0.20"))
    lines, total = [], Decimal(0)
    for st in scaling.states(store, contract, snapshot_date):
        r = st.request
        pen = scaling.penalty(contract, r.item_no, basis, coef) if st.penalty_applies else None
        total += pen or 0
        lines.append(ScalingLine(r.request_id, r.item_no, contract.items[r.item_no].short_name,
                                 r.requested_date, r.deadline, st.day, st.target, st.latest,
                                 st.state, labels.SCALING[st.state], st.completed_on,
                                 # an unverifiable item is unknown every night: no list
                                 [] if st.state == "unverifiable" else st.unknown_days,
                                 r.notice_deadline, pen))
    return lines, Money.of(total), Money.of(scaling.penalty_cap(contract))


def build_nightly(store, contract, snapshot_date: date, run_id: int, config=None
                  ) -> NightlyReport:
    db = store.db
    sources = [SourceLine(s, st, labels.SOURCE_STATUS.get(st, st), reason, n_lines or 0, n_meas or 0)
               for s, st, reason, n_lines, n_meas in db.execute(
                   "SELECT source, status, reason, lines, measurements FROM source_runs "
                   "WHERE snapshot_date = ? ORDER BY source", [snapshot_date]).fetchall()]
    findings = []
    for code, sev, item_no, source, msg, figures, ids in db.execute(
            "SELECT code, severity, item_no, source, message, figures, resource_ids "
            "FROM findings WHERE snapshot_date = ?", [snapshot_date]).fetchall():
        figures = json.loads(figures) if figures else None
        ids = json.loads(ids) if ids else []
        count = (figures or {}).get("resources", len(ids)) if isinstance(figures, dict) else len(ids)
        findings.append(FindingLine(
            code, labels.FINDING.get(code, code), sev, labels.SEVERITY.get(sev, sev), item_no,
            contract.items[item_no].short_name if item_no in contract.items else None,
            source, msg, figures, ids, int(count or 0)))
    findings.sort(key=lambda f: (labels.SEVERITY_ORDER.get(f.severity, 9), f.item_no or 0, f.code,
                                 f.source or ""))
    items = []
    for row in db.execute(
            "SELECT item_no, contracted, allocated, in_use, shortfall, overage, utilisation, "
            "day_value, shortfall_value, overage_value, status, measured_by, allocated_basis, "
            "in_use_basis, unlimited, parts FROM item_days "
            "WHERE snapshot_date = ? ORDER BY item_no", [snapshot_date]).fetchall():
        item = contract.items[row[0]]
        items.append(ItemLine(row[0], item.short_name, item.unit, item.category, *row[1:10],
                              row[10], labels.STATUS.get(row[10], row[10]), row[11],
                              row[12], labels.basis_label(row[12]), row[13],
                              labels.basis_label(row[13]), bool(row[14]),
                              json.loads(row[15]) if row[15] else []))
    exit_code = exit_code_for(findings, sources)
    counts = {"critical": sum(f.severity == "critical" for f in findings),
              "warning": sum(f.severity == "warning" for f in findings),
              "info": sum(f.severity == "info" for f in findings),
              "items_unknown": sum(i.status == "unknown" for i in items),
              "items_ok": sum(i.status in ("ok", "idle") for i in items)}
    total = lambda attr: sum((getattr(i, attr) or Decimal(0) for i in items), Decimal(0))  # noqa
    scaling_lines, penalties, cap = build_scaling(store, contract, snapshot_date, config)
    return NightlyReport(
        contract.number, contract.title, contract.agency, contract.provider,
        f"{contract.start} 至 {contract.end}", snapshot_date,
        datetime.now(SHANGHAI).replace(microsecond=0), run_id, exit_code,
        labels.EXIT[exit_code], exit_code in (0, 1), sources, findings, items, counts,
        Money.of(total("day_value")), Money.of(total("shortfall_value")),
        Money.of(total("overage_value")), scaling_lines, penalties, cap)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["qty"] = _qty
    env.filters["pct"] = lambda v: "-" if v is None else f"{(Decimal(v) * 100):.1f}%"
    env.filters["money"] = lambda v: "-" if v is None else fmt(v)
    return env


def _qty(value) -> str:
    if value is None:
        return "-"
    value = Decimal(value)
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return text


def write_nightly(report: NightlyReport, out_dir: Path) -> tuple[Path, Path]:
    folder = Path(out_dir) / report.snapshot_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    html = _env().get_template("nightly.html.j2").render(r=report, labels=labels)
    html_path, json_path = folder / "nightly.html", folder / "nightly.json"
    _atomic_write(html_path, html)
    _atomic_write(json_path, report.to_json())
    return html_path, json_path


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
