"""The monthly assessment report (月度考核): HTML, PDF and JSON of the same facts.

:class:`MonthlyReport` is both assessment.json and exactly what
reports/monthly.html.j2 reads; the PDF is WeasyPrint's rendering of that HTML
with a CJK font embedded.  The report only shows: the month's verdict, its criteria, the
penalty ledger and the scaling states are read as :mod:`recon.conclude` stored them;
the measured facts beside them come from :func:`recon.assess.facts`.

The same store and month give byte-identical files: nothing reads the clock
(the report is dated by its data: the last night stored in the month), lists
are ordered, and the PDF's metadata is fixed to the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from recon import assess, conclude, labels, rules as rulebook, store as stored
from recon.errors import ConfigError
from recon.ledgers import incidents as incidents_ledger
from recon.ledgers import notices as notice_ledger
from recon.ledgers.notices import NoticeState
from recon.penalties import PenaltyLine
from reports.common import Money, env as _env, kept_pdf, to_json, write_atomic, write_page
from reports.pdf import pdfs_of

VERDICT = labels.VERDICT
#: findings that are the agency's to settle, not the provider's failings, and why
AGENCY_FINDINGS = {
    "usage_over_contract": "甲方使用超出合同数量：须与乙方协商签署补充合同（第十六条），"
                           "不是乙方的交付问题",
    "unmapped_resource": "资源无法对应合同项目：请甲方确认其归属并补充 mapping.toml",
}


@dataclass
class CriterionLine:
    code: str
    name: str
    clause: str
    required: bool
    passed: bool | None
    verdict: str
    value: str
    threshold: str
    reason: str


@dataclass
class ItemLine:
    item_no: int
    name: str
    unit: str
    contracted: Decimal | None        # day-weighted over the period
    allocated: Decimal | None         # mean over measured nights
    in_use: Decimal | None
    delivered_ratio: Decimal | None
    undelivered_value: Decimal | None  # None: nothing measured it (未核实), never 0
    measured_nights: int
    unknown_nights: int
    unverified_nights: int
    unverified_value: Decimal         # contracted value of nights nothing verified
    shortfall_nights: int
    longest_shortfall: int
    measured_by: str
    #: what the allocated figure is on the month's last measured night (配额, 已交付资源,
    #: 控制台导出, 不限, 未计量); None when no night measured the item
    allocated_basis: str | None
    #: [night, allocated or null (unknown / not run), contracted]
    series: list[tuple[date, Decimal | None, Decimal | None]]


@dataclass
class ScalingLine:
    request_id: str
    item_no: int
    item_name: str
    requested_date: date
    deadline: date
    target: Decimal | None
    latest: Decimal | None
    state: str
    state_label: str
    completed_on: date | None
    notice_deadline: date | None
    unknown_days: list[date]
    #: the written notice 附件3 row 4 needs: its date and who it rests on (the management
    #: unit's notice in the notices ledger, or the date typed into the scaling ledger)
    notice_date: date | None = None
    notice_source: str | None = None


@dataclass
class IncidentLine:
    incident_id: str
    system: str
    important: bool
    kind: str
    kind_label: str
    started_at: str
    responded_at: str | None
    on_site_at: str | None
    recovered_at: str | None
    open: bool
    outage: bool
    complaint: bool
    event_level: str | None
    major_loss: bool
    impact: str
    note: str


@dataclass
class ServiceLevels:
    period_minutes: Decimal
    outage_minutes: Decimal
    allowed_outage_minutes: Decimal
    availability: Decimal
    mean_response_minutes: Decimal | None
    mean_recovery_minutes: Decimal | None
    mean_recovery_important_minutes: Decimal | None
    longest_on_site_minutes: Decimal | None
    complaints: int
    complaints_in_term: int
    open_at_end: list[str]
    systems: list[dict]
    events_a: list[str]
    events_b: list[str]
    termination_right: bool
    termination_reason: str


@dataclass
class NightLine:
    night: date
    run_id: int | None
    exit_code: int | None
    sources_ok: int
    sources: int
    lines: int
    measurements: int
    unknown_items: list[int]
    problems: list[str]          # failed / rejected sources with their reasons (GX failures)


@dataclass
class MonthlyReport:
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term: str
    month: str
    first: date
    last: date
    partial: bool
    notes: list[str]
    data_as_of: date | None          # the last night stored in the month: the report's date
    passed: bool | None
    verdict: str
    criteria: list[CriterionLine]
    consecutive_failed_months: int
    recent_months: list[dict]        # [{month, passed, verdict}] up to this one
    items: list[ItemLine]
    undelivered_value: Money
    #: what no source verified: its own total, never counted as delivered
    unverified_value: Money
    #: of which the items no source measures at all (未计量), and those items
    unmeasurable_value: Money
    unmeasurable_items: list[int]
    scaling: list[ScalingLine]
    service_levels: ServiceLevels
    incidents: list[IncidentLine]
    penalties: list[PenaltyLine]
    penalty_month_total: Money
    penalty_total: Money
    penalty_cap: Money
    cap_exceeded: bool
    gaps: list[date]
    nights: list[NightLine]
    complete_nights: int
    days: int
    rules_file: str
    judgements: list[str] = field(default_factory=list)
    #: each fault over one of its own limits (第三条 4-5), with its times, as concluded
    fault_breaches: list[dict] = field(default_factory=list)
    #: each mean the annex rows price: which kinds of event it counts (the agency's reading)
    averages: list[dict] = field(default_factory=list)
    #: the figures of each kind of event
    by_kind: list[dict] = field(default_factory=list)
    #: the readings of the contract this month's penalties rest on, with their alternatives
    readings: list[dict] = field(default_factory=list)
    #: a failed month: the rectification the contract calls for next and where it stands
    rectification: dict | None = None
    #: the month's findings that are the agency's to settle, apart from the provider's
    agency_findings: list[dict] = field(default_factory=list)
    #: annex rows no figure of recon's can decide (security-service failures ...): listed
    #: so a reader knows they were not judged, not that they were passed
    manual_rows: list[str] = field(default_factory=list)
    #: the written notices still open on the month's last day (left out of the JSON while
    #: there are none)
    notices: list[NoticeState] = field(default_factory=list)
    #: 演示生成: the month's nights `recon demo` generated from its scenario rather than pulled
    #: (left out of the JSON while there are none: every real month)
    generated: list[date] = field(default_factory=list)

    def to_json(self) -> str:
        return to_json(self, omit_empty=("notices", "generated"))


def _t(value) -> str | None:
    return incidents_ledger.fmt_time(value) if value else None


def _q1(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.1"))


def _minutes(seconds) -> Decimal | None:
    return None if seconds is None else (Decimal(seconds) / 60).quantize(Decimal("0.1"))


def build_monthly(store, contract, config, month: str) -> MonthlyReport:
    """Month ``month`` under ``contract``: its days in the term only (a month two terms
    touch is assessed by each contract on its own days), its verdict as concluded under
    ``contract`` (keyed by its ``owner``)."""
    rules = rulebook.load(config)
    p = assess.period(contract, month)
    verdicts = stored.month_verdicts(store, p.month, contract.owner)
    if not verdicts or verdicts[-1]["month"] != p.month:
        raise ConfigError(f"{p.month}: not concluded yet under {contract.number} (`recon "
                          f"report monthly --month {p.month}` concludes it)")
    v = verdicts[-1]
    a = assess.facts(store, contract, rules, p)
    states = conclude.states(store, contract, p.last)
    pens = conclude.ledger(store, p.last)
    measured_by = stored.measured_by_item(store, p.first, p.last)
    basis = stored.allocated_basis_by_item(store, p.first, p.last)
    unmeasurable = [i for i in a.items if i.measured_nights == 0
                    and i.unverified_nights > i.unknown_nights]
    items = [ItemLine(i.item_no, contract.items[i.item_no].short_name,
                      contract.items[i.item_no].unit, i.contracted, i.allocated, i.in_use,
                      i.delivered_ratio,
                      i.undelivered_value.quantize(Decimal("0.01")) if i.measured_nights else None,
                      i.measured_nights, i.unknown_nights, i.unverified_nights,
                      i.unverified_value.quantize(Decimal("0.01")), i.shortfall_nights,
                      i.longest_shortfall, measured_by.get(i.item_no) or "-",
                      labels.basis_label(basis.get(i.item_no)), i.series)
             for i in a.items]
    scaling_lines = [ScalingLine(
        st.request.request_id, st.request.item_no,
        contract.items[st.request.item_no].short_name, st.request.requested_date,
        st.request.deadline, st.target, st.latest, st.state,
        labels.SCALING.get(st.state, st.state), st.completed_on, st.request.notice_deadline,
        [] if st.state == "unverifiable" else [d for d in st.unknown_days if d >= p.first],
        st.request.notice_date,
        (f"管理单位书面通知 {st.request.notice_id}" if st.request.notice_id else
         "扩容台账录入的通知日期" if st.request.notice_date else None))
        for st in states
        if st.completed_on is None or st.completed_on >= p.first]
    f = a.figures
    inc_lines = [IncidentLine(
        i.incident_id, i.system, i.important, i.kind, incidents_ledger.KIND_LABELS[i.kind],
        _t(i.started_at), _t(i.responded_at), _t(i.on_site_at), _t(i.recovered_at),
        i.incident_id in f.open_at_end, i.outage, i.complaint, i.event_level, i.major_loss,
        i.impact, i.note) for i in incidents_ledger.in_period(store, p.first, p.last)]
    floor = rules.min_availability
    sl = ServiceLevels(
        Decimal(f.period_seconds) / 60, _minutes(f.outage_seconds),
        (Decimal(f.period_seconds) * (1 - floor) / 60).quantize(Decimal("0.001")),
        (f.availability * 100).quantize(Decimal("0.0001")),
        _q1(f.mean_of(rules.reading("response_kinds"), "response_s")[0]),
        _q1(f.mean_of(("fault",), "recovery_s", important=False)[0]),
        _q1(f.mean_of(("fault",), "recovery_s", important=True)[0]),
        _minutes(f.on_site_max_seconds), f.complaints, f.complaints_in_term, f.open_at_end,
        [{"system": s.system, "outages": s.outages, "minutes": _minutes(s.seconds),
          "longest_minutes": _minutes(s.longest_seconds), "open": s.open} for s in f.systems],
        f.events_a, f.events_b, v["termination"], v["termination_reason"])
    cap = rules.cap(contract)
    total = stored.penalty_total(store, p.last)
    nights = _nights(store, p)
    judgements = []
    if f.major_loss:
        judgements.append(f"造成重大损失（附件2）：依甲方台账标记（{'、'.join(f.major_loss)}）")
    if f.events_a or f.events_b:
        judgements.append("附件1 A/B 级事件：依甲方台账的事件级别")
    if any(x.clause == rules.rows("availability_complaints", 3)[0].clause for x in pens
           if rules.rows("availability_complaints", 3)):
        judgements.append("投诉次数：依甲方台账的投诉标记")
    averages = []
    for name, what, label, rows in (("response_kinds", "response_s", "运维需求平均响应时间",
                                     "附件3第8、9条"),
                                    ("recovery_kinds", "recovery_s", "平均故障恢复时间",
                                     "附件3第10、11条")):
        kinds = rules.reading(name)
        mean, events = f.mean_of(kinds, what)
        averages.append({"label": label, "rows": rows, "reading": name,
                         "kinds": [incidents_ledger.KIND_LABELS[k] for k in kinds],
                         "minutes": None if mean is None else mean.quantize(Decimal("0.1")),
                         "events": len(events),
                         "open": [e.incident_id for e in events
                                  if (e.open if what == "recovery_s" else e.responded_at is None)]})
    by_kind = []
    for kind in rulebook.KINDS:
        rmean, events = f.mean_of((kind,), "response_s")
        if not events:
            continue
        cmean, _ = f.mean_of((kind,), "recovery_s")
        by_kind.append({"kind": kind, "label": incidents_ledger.KIND_LABELS[kind],
                        "events": len(events),
                        "response_minutes": rmean.quantize(Decimal("0.1")),
                        "recovery_minutes": cmean.quantize(Decimal("0.1")),
                        "open": [e.incident_id for e in events if e.open]})
    readings = [{"name": name, "title": r.title, "clause": r.clause,
                 "value": "、".join(rules.reading(name)) if r.kinds else rules.reading(name),
                 "meaning": ("、".join(r.alternatives[k] for k in rules.reading(name)) if r.kinds
                             else r.alternatives[rules.reading(name)]),
                 "alternatives": [] if r.kinds else
                 [f"{k}：{t}" for k, t in r.alternatives.items() if k != rules.reading(name)]}
                for name, r in rulebook.READINGS.items()]
    rectification = None
    if v["passed"] is False:
        asked = [n for n in notice_ledger.states(store, p.last)
                 if n.kind == "rectification" and n.ref == p.month]
        rectification = {
            "demand": (f"本月未通过考核（连续 {v['failed_in_a_row']} 个月）。依附件3第3条（连续 "
                       f"{rules.consecutive_months} 个月未通过、经限期整改后仍不达标的计违约金）"
                       "及第十二条第4款（甲方提出整改要求和期限，乙方逾期未履行的，甲方有权终止"
                       "合同并要求支付合同总额 10% 的违约金），甲方可向乙方发出整改通知，写明整改"
                       "要求和期限。"),
            "state": ("；".join(f"{n.notice_id} {n.status_label}：{n.text}" for n in asked)
                      if asked else "尚未发出整改通知（recon notice draft --kind rectification "
                                    f"--ref {p.month} --deadline 日期）")}
    agency_findings = [
        {"code": x["code"], "label": labels.FINDING[x["code"]], "item_no": x["item_no"],
         "item": contract.items[x["item_no"]].short_name if x["item_no"] in contract.items
         else None, "source": x["source"], "nights": x["nights"],
         "first": x["first_night"], "last": x["last_night"], "message": x["message"],
         "whose": AGENCY_FINDINGS[x["code"]]}
        for x in stored.findings_between(store, p.first, p.last, tuple(AGENCY_FINDINGS))]
    return MonthlyReport(
        contract.number, contract.title, contract.agency, contract.provider,
        f"{contract.start} 至 {contract.end}", p.month, p.first, p.last, p.partial, a.notes,
        a.coverage.ran[-1] if a.coverage.ran else None, v["passed"], VERDICT[v["passed"]],
        [CriterionLine(c["code"], c["name"], c["clause"], c["required"], c["passed"],
                       VERDICT[c["passed"]], c["value"], c["threshold"], c["reason"])
         for c in v["criteria"]],
        v["failed_in_a_row"],
        [{"month": h["month"], "passed": h["passed"], "verdict": VERDICT[h["passed"]],
          "failed_in_a_row": h["failed_in_a_row"]} for h in verdicts[-6:]],
        items, Money.of(sum((i.undelivered_value or 0 for i in items), Decimal(0))),
        Money.of(sum((i.unverified_value for i in a.items), Decimal(0))),
        Money.of(sum((i.unverified_value for i in unmeasurable), Decimal(0))),
        [i.item_no for i in unmeasurable],
        scaling_lines, sl, inc_lines, pens,
        Money.of(stored.penalty_total(store, p.last, month=p.month)),
        Money.of(total), Money.of(cap), total > cap, a.coverage.gaps, nights,
        a.coverage.complete, a.coverage.days, rules.path.name, judgements,
        fault_breaches=v["fault_breaches"], averages=averages, by_kind=by_kind,
        readings=readings,
        manual_rows=[f"{r.clause}（{r.coefficient * 100:.0f}%）{r.text}"
                     for r in rules.annex if not r.rule],
        notices=notice_ledger.open_on(store, p.last), rectification=rectification,
        agency_findings=agency_findings,
        generated=stored.generated_nights(store, p.first, p.last))


def _nights(store, p) -> list[NightLine]:
    unknown = stored.unknown_items_by_night(store, p.first, p.last)
    out = []
    for n in stored.night_evidence(store, p.first, p.last):
        srcs = n["sources"]
        out.append(NightLine(
            n["night"], n["run_id"], n["exit_code"], sum(s["status"] == "ok" for s in srcs),
            len(srcs), sum(s["lines"] or 0 for s in srcs),
            sum(s["measurements"] or 0 for s in srcs), unknown.get(n["night"], []),
            [f"{s['source']}（{labels.SOURCE_STATUS.get(s['status'], s['status'])}）："
             f"{s['reason'] or ''}" for s in srcs if s["status"] != "ok"]))
    return out


# -- charts: small inline SVGs, drawn here so the PDF and HTML need nothing else ---------
def sparkline(item: ItemLine, width: int = 180, height: int = 28) -> str:
    """Allocated per night (line) against the contracted quantity (dashed); unknown nights
    are grey ticks at the bottom, never drawn as zero.

    Drawn by hand rather than with matplotlib: a polyline per item is a few lines, the bytes
    are the same on every machine (no font or backend setup), and WeasyPrint draws it as is.
    """
    values = [v for _, a, c in item.series for v in (a, c) if v is not None]
    if not values or item.allocated is None:
        return ""  # never measured, or no allocation figure (不限, 未计量): nothing to draw
    # the scale spans the values themselves, so a shortfall of a few percent shows
    lo, hi = min(values), max(values)
    span = (hi - lo) or (abs(hi) or Decimal(1))
    lo, span = lo - span * Decimal("0.1"), span * Decimal("1.2")
    n = len(item.series)
    step = Decimal(width - 4) / max(n - 1, 1)

    def x(k):
        return f"{2 + step * k:.1f}"

    def y(v):
        return f"{Decimal(height - 5) - ((Decimal(v) - lo) / span) * Decimal(height - 8):.1f}"

    parts, seg = [], []
    for k, (_, a, _c) in enumerate(item.series):
        if a is None:
            if seg:
                parts.append(seg)
            seg = []
        else:
            seg.append(f"{x(k)},{y(a)}")
    if seg:
        parts.append(seg)
    contracted = " ".join(f"{x(k)},{y(c)}" for k, (_, _a, c) in enumerate(item.series)
                          if c is not None)
    out = [f'<svg class="spark" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
           f"<title>{escape(f'第{item.item_no}项 每晚分配数量（实线）与合同数量（虚线）')}</title>",
           f'<polyline points="{contracted}" fill="none" stroke="#888" stroke-width="1" '
           f'stroke-dasharray="3,2"/>']
    for seg in parts:
        if len(seg) == 1:
            cx, cy = seg[0].split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="#1f5fa8"/>')
        else:
            out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="#1f5fa8" '
                       f'stroke-width="1.5"/>')
    for k, (_, a, _c) in enumerate(item.series):
        if a is None:
            out.append(f'<rect x="{x(k)}" y="{height - 3}" width="2" height="3" fill="#bbb"/>')
    out.append("</svg>")
    return "".join(out)


def render_html(report: MonthlyReport) -> str:
    env = _env()
    env.globals["sparkline"] = sparkline
    return env.get_template("monthly.html.j2").render(r=report, labels=labels)


def _pdf_job(report: MonthlyReport, html: str) -> tuple[str, str, str]:
    """What reports.pdf renders: the HTML, the title, the date of the data (never the clock)."""
    return (html, f"政务云服务月度考核报告 {report.month}",
            (report.data_as_of or report.last).isoformat())


def monthly_folder(out_dir: Path, month: str, contract) -> Path:
    """OUT/monthly/<M>/ for the first contract (where it always was), OUT/<NUMBER>/monthly/
    <M>/ for a follow-on's (``contract.owner``), as its packs and annual report: a month two
    terms touch has both contracts' assessments, never one over the other."""
    return Path(out_dir) / (contract.owner or "") / "monthly" / month


def write_monthly(report: MonthlyReport, out_dir: Path, contract) -> dict[str, Path]:
    [paths] = write_monthlies([report], out_dir, contract)
    return paths


def write_monthlies(reports: list[MonthlyReport], out_dir: Path, contract
                    ) -> list[dict[str, Path]]:
    """Each of ``contract``'s reports' assessment.html, .pdf and .json, in its
    :func:`monthly_folder`, their PDFs rendered side by side (reports.pdf.pdfs_of)."""
    pages = pages_of(reports, out_dir, contract)
    return write_pages(pages, pdfs_of(jobs_of(pages)))


@dataclass
class Page:
    """A month's assessment about to be written: its files, its HTML and JSON, and its PDF
    when the one in its folder is still the rendering of this very HTML."""
    paths: dict[str, Path]
    html: str
    json: str
    job: tuple[str, str, str]
    pdf: bytes | None = None


def pages_of(reports: list[MonthlyReport], out_dir: Path, contract) -> list[Page]:
    """What :func:`write_pages` writes: each report's HTML and JSON, and its folder's PDF
    kept when its assessment.html there is byte-identical to the new one (its title and
    date are the HTML's month and 数据截至: reports.common.kept_pdf)."""
    pages = []
    for report in reports:
        folder = monthly_folder(out_dir, report.month, contract)
        paths = {k: folder / f"assessment.{k}" for k in ("html", "pdf", "json")}
        html = render_html(report)
        pages.append(Page(paths, html, report.to_json(), _pdf_job(report, html),
                          kept_pdf(paths["html"], paths["pdf"], html)))
    return pages


def jobs_of(pages: list[Page]) -> list[tuple[str, str, str]]:
    """The PDFs still to render (reports.pdf), in the order :func:`write_pages` takes them."""
    return [p.job for p in pages if p.pdf is None]


def write_pages(pages: list[Page], pdfs: list[bytes]) -> list[dict[str, Path]]:
    """Write each page, ``pdfs`` the renderings of :func:`jobs_of` in order (a kept PDF and
    its HTML stay as they are: reports.common.write_page)."""
    fresh = iter(pdfs)
    for page in pages:
        write_page(page.paths["html"], page.paths["pdf"], page.html,
                   None if page.pdf is not None else next(fresh))
        write_atomic(page.paths["json"], page.json)
    return [page.paths for page in pages]
