"""The acceptance pack (验收, 第六条): HTML, PDF and JSON of the same facts, and its evidence zip.

:class:`AcceptanceReport` is both acceptance.json and exactly what acceptance.html.j2 reads.
It only shows: every month's verdict and failed criteria, the penalty ledger and the
scaling states are read as :mod:`recon.conclude` stored them (``recon report acceptance``
concludes each month of the period first); the per-item figures, service levels and
recon's own coverage come from :func:`recon.assess.facts` over each month's days inside the
period; the checklist from the materials ledger; what the data supports as
:func:`recon.conclude.acceptance` stored it.  The decision and the signatures are people's.

Beside the pack, ``acceptance-<period>.zip`` holds the pack, every monthly assessment and
every nightly JSON of the period, the item_days rows every per-item figure is computed
from, and ``MANIFEST.json`` (each file's sha256, each night's run id and gate results,
recon's version).  The same store and period give byte-identical files: nothing reads the
clock (the pack is dated by the last night stored in the period), lists are ordered, the
PDF's metadata and every zip entry's time are that date.
"""
from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import json
import zipfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from recon import assess, conclude, labels, rules as rulebook, store as stored
from recon.ledgers import acceptance as ledger
from recon.ledgers import incidents as incidents_ledger
from recon.penalties import PenaltyLine
from recon.progress import SHANGHAI
from reports.common import Money, env as _env, kept_pdf, to_json, write_atomic, write_page
from reports.monthly import build_monthly, jobs_of as monthly_jobs, pages_of as monthly_pages
from reports.monthly import write_pages
from reports.pdf import Renderer
from reports.nightly import DATA as NIGHTLY_JSON, NightReads, build_nightly

VERDICT = labels.VERDICT
#: the pack of a period whose recommendation was never concluded (`recon report acceptance`
#: concludes it before it writes the pack): no recommendation, never one guessed here
NOT_CONCLUDED = ledger.Recommendation("undetermined", "尚未作出建议", [],
                                      ["本期的验收建议尚未作出（recon report acceptance 先作出结论）"],
                                      [])


@dataclass
class ItemRow:
    item_no: int
    name: str
    unit: str
    contracted: Decimal | None        # day-weighted over the days
    delivered: Decimal | None         # allocated, mean over the measured nights
    in_use: Decimal | None
    delivered_ratio: Decimal | None
    undelivered_value: Decimal | None  # None: nothing measured it (未核实), never 0
    measured_nights: int
    unknown_nights: list[date]        # named


@dataclass
class MonthBlock:
    month: str
    first: date                       # the month's days inside the period
    last: date
    partial: bool                     # fewer days than the calendar month
    concluded: bool                   # a stored verdict exists
    passed: bool | None
    verdict: str
    verdict_span: str                 # the days the stored verdict judged
    failed_in_a_row: int
    failed_criteria: list[dict]       # [{name, clause, value, threshold, reason}]
    undetermined_criteria: list[dict]
    items: list[ItemRow]
    undelivered_value: Money
    unverified_value: Money
    availability: Decimal             # percent
    outage_minutes: Decimal
    incidents: list[dict]             # [{incident_id, system, kind, started_at, recovered_at}]
    complaints: int
    nights: int
    complete_nights: int
    gaps: list[date]


@dataclass
class ScalingRow:
    request_id: str
    item_no: int
    item_name: str
    requested_date: date
    deadline: date                    # day 7
    target: Decimal | None
    latest: Decimal | None
    state: str
    state_label: str
    completed_on: date | None
    notice_deadline: date | None


@dataclass
class AcceptanceReport:
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term: str
    period: str                       # mid | final | FROM..TO
    label: str                        # 中期验收 ...
    first: date
    last: date
    data_as_of: date | None           # the last night stored in the period: the pack's date
    days: int
    months: list[MonthBlock]
    items: list[ItemRow]              # the whole period
    undelivered_value: Money
    unverified_value: Money
    scaling: list[ScalingRow]
    penalties: list[PenaltyLine]
    penalty_total: Money
    penalty_cap: Money
    cap_exceeded: bool
    nights_run: int
    nights_complete: int
    unknown_nights: list[date]        # nights some item was unknown
    gaps: list[date]                  # nights never run
    materials: list[dict]             # the checklist
    missing_materials: list[str]
    records: list[dict]               # this period's acceptance records (every revision)
    recommendation: str
    recommendation_code: str
    against: list[str]
    open: list[str]
    support: list[str]
    rules_file: str
    notes: list[str] = field(default_factory=list)
    rework: list[dict] = field(default_factory=list)
    #: the gaps as runs of nights (2026-07-13 至 2026-10-31), as the page lists them
    gap_runs: list[str] = field(default_factory=list)
    #: 演示生成: the nights `recon demo` generated from its scenario (not pulled; left out
    #: while none), and the same as runs of nights
    generated: list[date] = field(default_factory=list)
    generated_runs: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return to_json(self, omit_empty=("rework", "generated", "generated_runs"))


def runs_of(days: list[date]) -> list[str]:
    """Consecutive nights written as one run: ["2026-07-13 至 2026-10-31", "2026-11-06"]."""
    out: list[list[date]] = []
    for d in days:
        if out and (d - out[-1][1]).days == 1:
            out[-1][1] = d
        else:
            out.append([d, d])
    return [f"{a} 至 {b}" if a != b else f"{a}" for a, b in out]


def _unknown_by_item(rows: list[dict]) -> dict[int, list[date]]:
    out: dict[int, list[date]] = {}
    for r in rows:
        if r["status"] == "unknown":
            out.setdefault(r["item_no"], []).append(r["snapshot_date"])
    return out


def _items(contract, facts: assess.Facts, unknown: dict[int, list[date]],
           first: date, last: date) -> list[ItemRow]:
    return [ItemRow(i.item_no, contract.items[i.item_no].short_name,
                    contract.items[i.item_no].unit, i.contracted, i.allocated, i.in_use,
                    i.delivered_ratio,
                    i.undelivered_value.quantize(Decimal("0.01")) if i.measured_nights else None,
                    i.measured_nights,
                    [d for d in unknown.get(i.item_no, []) if first <= d <= last])
            for i in facts.items]


def _sum(rows, attr) -> Decimal:
    return sum((getattr(r, attr) or Decimal(0) for r in rows), Decimal(0))


def build_acceptance(store, contract, config, span: ledger.Span) -> AcceptanceReport:
    """The pack of ``span`` from what the store holds (its months concluded first), of
    ``contract``'s own verdicts and materials (keyed by its ``owner``)."""
    rules = rulebook.load(config)
    owner = contract.owner
    rows = stored.item_day_rows(store, span.first, span.last)
    unknown = _unknown_by_item(rows)
    verdicts = {v["month"]: v for v in stored.month_verdicts(store, span.months[-1], owner)}
    blocks = []
    for month in span.months:
        cal = assess.period(contract, month)
        p = assess.Period(month, max(cal.first, span.first), min(cal.last, span.last),
                          cal.partial or (max(cal.first, span.first), min(cal.last, span.last))
                          != (cal.first, cal.last))
        f = assess.facts(store, contract, rules, p)
        v = verdicts.get(month)
        items = _items(contract, f, unknown, p.first, p.last)
        figs = f.figures
        blocks.append(MonthBlock(
            month, p.first, p.last, p.partial, v is not None,
            v["passed"] if v else None, VERDICT[v["passed"]] if v else "尚未考核",
            f"{v['first_day']} 至 {v['last_day']}" if v else "-",
            v["failed_in_a_row"] if v else 0,
            [{k: c[k] for k in ("name", "clause", "value", "threshold", "reason")}
             for c in (v["criteria"] if v else []) if c["required"] and c["passed"] is False],
            [{k: c[k] for k in ("name", "clause", "value", "threshold", "reason")}
             for c in (v["criteria"] if v else []) if c["required"] and c["passed"] is None],
            items, Money.of(_sum(items, "undelivered_value")),
            Money.of(sum((i.unverified_value for i in f.items), Decimal(0))),
            (figs.availability * 100).quantize(Decimal("0.0001")),
            (Decimal(figs.outage_seconds) / 60).quantize(Decimal("0.1")),
            [{"incident_id": i.incident_id, "system": i.system,
              "kind": incidents_ledger.KIND_LABELS[i.kind],
              "started_at": incidents_ledger.fmt_time(i.started_at),
              "recovered_at": incidents_ledger.fmt_time(i.recovered_at)
              if i.recovered_at else None, "outage": i.outage}
             for i in incidents_ledger.in_period(store, p.first, p.last)],
            figs.complaints, len(f.coverage.ran), f.coverage.complete, f.coverage.gaps))
    whole = assess.Period(span.name, span.first, span.last, True)
    wf = assess.facts(store, contract, rules, whole)
    items = _items(contract, wf, unknown, span.first, span.last)
    ran = wf.coverage.ran
    as_of = ran[-1] if ran else None
    ledger_day = as_of or span.first
    pens = conclude.ledger(store, ledger_day)
    total = stored.penalty_total(store, ledger_day)
    cap = rules.cap(contract)
    states = conclude.states(store, contract, ledger_day)
    scaling = [ScalingRow(st.request.request_id, st.request.item_no,
                          contract.items[st.request.item_no].short_name,
                          st.request.requested_date, st.request.deadline, st.target, st.latest,
                          st.state, labels.SCALING.get(st.state, st.state), st.completed_on,
                          st.request.notice_deadline)
               for st in states if span.first <= st.request.requested_date <= span.last]
    checklist = ledger.checklist(store, span, rules.acceptance_materials, owner)
    missing = [m["name"] for m in checklist
               if not m["received"] and (m["required"] or m["name"] in rules.acceptance_materials)]
    rec = conclude.stored_acceptance(store, contract, span) or NOT_CONCLUDED
    notes = []
    last_block = blocks[-1] if blocks else None
    if last_block and last_block.concluded and last_block.partial:
        notes.append(f"{last_block.month} 的月度考核按自然月（{last_block.verdict_span}）作出；"
                     f"本验收期只含其中 {last_block.first} 至 {last_block.last}，逐项数据按这些天计")
    if as_of is None:
        notes.append("本期尚无任何已运行的夜晚")
    elif as_of < span.last:
        notes.append(f"数据截至 {as_of}，验收期至 {span.last}：此后的夜晚尚未核对")
    history = ledger.history(store, span.name)
    generated = stored.generated_nights(store, span.first, span.last)
    return AcceptanceReport(
        contract.number, contract.title, contract.agency, contract.provider,
        f"{contract.start} 至 {contract.end}", span.name, span.label, span.first, span.last,
        as_of, wf.coverage.days, blocks, items, Money.of(_sum(items, "undelivered_value")),
        Money.of(sum((i.unverified_value for i in wf.items), Decimal(0))), scaling, pens,
        Money.of(total), Money.of(cap), total > cap, len(ran), wf.coverage.complete,
        sorted(set(wf.coverage.incomplete) | set(wf.coverage.failed_sources)),
        wf.coverage.gaps, checklist, missing,
        [{"revision": r.revision, "result": r.result, "result_label": r.result_label,
          "decided_on": r.decided_on, "rework_deadline": r.rework_deadline, "note": r.note}
         for r in history],
        rec.label, rec.code, rec.against, rec.open, rec.support, rules.path.name, notes,
        [{"deadline": w.deadline, "text": w.text}
         for w in ledger.open_rework(store, as_of or span.last) if w.period == span.name],
        runs_of(wf.coverage.gaps), generated, runs_of(generated))


# -- writing ---------------------------------------------------------------------------------
def render_html(report: AcceptanceReport) -> str:
    return _env().get_template("acceptance.html.j2").render(r=report, labels=labels)


def recon_version() -> str:
    try:
        return importlib.metadata.version("recon")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _stamp(report: AcceptanceReport) -> date:
    return report.data_as_of or report.last


def _nightly_jsons(store, contract, config, first: date, last: date,
                   nights: list[dict]) -> list[bytes]:
    """Each night's nightly.json built again from the store (the report folder's copy may have
    been rewritten since), dated by the run's own finish time rather than the clock; the
    period's rows read once (:class:`reports.nightly.NightReads`), not 15 reads a night."""
    reads = NightReads.read(store, first, last)
    finished = stored.runs_finished_at(store, first, last)
    out = []
    for night in nights:
        day = night["night"]
        rep = build_nightly(store, contract, day, night["run_id"] or 0, config, reads=reads)
        done = finished.get(day)
        rep = replace(rep, generated_at=(done.astimezone(SHANGHAI).replace(microsecond=0)
                                         if done else datetime.combine(day, time(), SHANGHAI)))
        out.append(rep.to_json().encode("utf-8"))
    return out


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if v is None else v for k, v in r.items()})
    return buf.getvalue().encode("utf-8")


def pack_folder(out_dir: Path, contract, period: str) -> Path:
    """OUT/acceptance/<period>/ for the first contract, OUT/<number>/acceptance/<period>/ for
    a follow-on's (``contract.owner``: its "mid" never replaces the first's)."""
    return Path(out_dir) / (contract.owner or "") / "acceptance" / period


def write_pack(store, contract, config, report: AcceptanceReport, out_dir: Path
               ) -> tuple[dict[str, Path], Path]:
    """The pack (acceptance.html, .pdf, .json in :func:`pack_folder`), every concluded
    month's assessment written again from the store (into OUT/monthly/, a follow-on's into
    OUT/<number>/monthly/; an unchanged HTML, the pack's or a month's, keeps its PDF)
    and ``acceptance-<period>.zip`` beside the pack's folder: the pack, those assessments,
    each night's JSON of the period, the item_days rows, MANIFEST.json.  Every PDF is
    rendered side by side (reports.pdf.Renderer), each handed over as soon as its HTML is
    made (the pack's, then each month's as it is built from the store: the rendering starts
    while the months are still being built), the nightly JSONs built here meanwhile;
    returns the pack's paths and the zip's."""
    folder = pack_folder(out_dir, contract, report.period)
    html = render_html(report)
    months = [b.month for b in report.months if b.concluded]
    paths = {k: folder / f"acceptance.{k}" for k in ("html", "pdf", "json")}
    kept = kept_pdf(paths["html"], paths["pdf"], html)
    job = [] if kept is not None else [
        (html, f"政务云服务{report.label}报告 {report.first} 至 {report.last}",
         _stamp(report).isoformat())]
    with Renderer() as renderer:   # each PDF handed over as soon as its HTML is made
        for each in job:
            renderer.add(each)
        pages = []
        for month in months:
            pages += monthly_pages([build_monthly(store, contract, config, month)], out_dir,
                                   contract)
            for each in monthly_jobs(pages[-1:]):
                renderer.add(each)
        nights = stored.night_evidence(store, report.first, report.last)
        pdfs, nightly = renderer.finish(meanwhile=lambda: _nightly_jsons(
            store, contract, config, report.first, report.last, nights))
    write_page(paths["html"], paths["pdf"], html, None if kept is not None else pdfs[0])
    write_atomic(paths["json"], report.to_json())
    files = {f"acceptance/{path.name}": path.read_bytes() for path in paths.values()}
    for month, written in zip(months, write_pages(pages, pdfs[len(job):])):
        for path in written.values():
            files[f"monthly/{month}/{path.name}"] = path.read_bytes()
    for night, data in zip(nights, nightly):
        files[f"nightly/{night['night']}/{NIGHTLY_JSON}"] = data
    files["inputs/item_days.csv"] = _csv(stored.item_day_rows(store, report.first, report.last))
    manifest = {
        "recon_version": recon_version(),
        "contract_number": report.contract_number,
        "period": report.period, "label": report.label,
        "first": report.first, "last": report.last, "data_as_of": report.data_as_of,
        "files": [{"path": n, "sha256": hashlib.sha256(files[n]).hexdigest(),
                   "size": len(files[n])}
                  for n in sorted(files)],
        "nights": nights,
        "how_to_check": "inputs/item_days.csv holds each item's contracted, allocated, in-use "
                        "figures and status per night (the store's item_days): every per-item "
                        "figure of the pack is their mean or sum over the nights named; each "
                        "nightly JSON is that night's report rebuilt from the store "
                        "(generated_at: the run's finish time); nights lists each night's run id "
                        "and each source's gate result (Great Expectations)",
    }
    files["MANIFEST.json"] = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True,
                                        default=str).encode("utf-8")
    stamp = _stamp(report)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            z.writestr(info, files[name])
    path = folder.parent / f"acceptance-{report.period}.zip"
    write_atomic(path, buf.getvalue())
    return paths, path
