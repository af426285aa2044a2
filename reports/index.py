"""The history index (OUT/index.html): every night, monthly assessment and verified
statement, and the trends.

The officer who reads one page a week wants the year at a glance: which nights need a
look, whether the provider delivers what the contract prices, how often a source went
dark, and how close the scaling penalties are to the 10% cap of 第十二条.

:class:`IndexReport` is both OUT/index.json and what reports/index.html.j2 reads.  It is
built from the store alone (plus the monthly assessments found under OUT/monthly/), so
``recon report index`` can rebuild the page anywhere; a nightly report deleted by hand is
rendered again from the store.  The charts are inline SVG drawn from the context: no
script, no font or stylesheet from elsewhere, every value from the cloud escaped.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from markupsafe import Markup, escape

from recon import conclude, labels, penalties, store as stored
from recon.contract import TERM, TRANSITION, load_contracts
from recon.ledgers import acceptance as acceptance_ledger
from recon.ledgers import notices as notice_ledger
from recon.ledgers.acceptance import Rework
from recon.ledgers.notices import NoticeState
from recon.money import cents
from recon.penalties import PenaltyLine
from recon.progress import SHANGHAI
from recon.store import Store
from reports.common import Money, env, to_json, write_atomic
from reports.nightly import build_nightly, write_nightly

log = logging.getLogger(__name__)


@dataclass
class NightRow:
    snapshot_date: date
    #: the exit code the night's run ended with; None when no run of that date finished
    exit_code: int | None
    verdict: str
    #: the verdict in a word (labels.EXIT_SHORT)
    verdict_short: str
    critical: int
    warning: int
    info: int
    #: contract items that were unknown that night (their source failed or was rejected)
    unknown_items: list[int]
    #: link relative to the index; None: a night `recon demo` generated (no nightly page)
    report: str | None
    #: 演示生成: `recon demo` generated the night from its scenario, it was not pulled
    generated: bool = False


@dataclass
class MonthlyRow:
    month: str
    report: str
    #: from the assessment's own JSON beside it (None when it cannot be read)
    passed: bool | None = None
    verdict: str | None = None
    #: the contract it is under, with follow-ons configured (a month two terms touch has one
    #: assessment per contract); None with one contract
    contract: str | None = None


@dataclass
class FinanceRow:
    """A verified statement (``recon finance verify``), read from its own JSON beside it."""
    statement: str
    report: str
    workbook: str | None
    period: str | None = None
    billed: str | None = None
    accepted: str | None = None
    #: the value the statement's verification could not verify (no measured night)
    unverified: str | None = None
    exit_code: int | None = None
    verdict: str | None = None


@dataclass
class RatioPoint:
    snapshot_date: date
    #: allocated / contracted; None when the item was not measured that night (a gap, never 0)
    ratio: Decimal | None


@dataclass
class RatioSeries:
    item_no: int
    name: str
    points: list[RatioPoint]

    @property
    def latest(self) -> Decimal | None:
        return next((p.ratio for p in reversed(self.points) if p.ratio is not None), None)


@dataclass
class SeverityNight:
    snapshot_date: date
    critical: int
    warning: int
    info: int


@dataclass
class SourceGaps:
    source: str
    #: nights the source failed or was rejected, out of the nights it was pulled
    unknown_nights: int
    nights: int
    dates: list[date]


@dataclass
class PenaltyPoint:
    snapshot_date: date
    #: the ledger's running total on that night
    total: Decimal


@dataclass
class IndexReport:
    contract_number: str
    contract_title: str
    generated_at: datetime
    #: newest first
    nights: list[NightRow]
    #: newest first
    monthly: list[MonthlyRow]
    #: delivered ratio per item with a measured allocated figure, oldest night first
    ratios: list[RatioSeries] = field(default_factory=list)
    severities: list[SeverityNight] = field(default_factory=list)
    sources: list[SourceGaps] = field(default_factory=list)
    penalties: list[PenaltyPoint] = field(default_factory=list)
    penalty_lines: list[PenaltyLine] = field(default_factory=list)
    penalty_total: Money | None = None
    penalty_cap: Money | None = None
    #: verified statements, newest period first
    finance: list[FinanceRow] = field(default_factory=list)
    #: the written notices still open on the latest night (left out while there are none)
    notices: list[NoticeState] = field(default_factory=list)
    #: the latest concluded month's verdict (recon report monthly), as stored
    month_verdict: dict | None = None
    #: the contract's milestones (第六条, 第七条) with their dates and where each stands
    milestones: list[dict] = field(default_factory=list)
    #: every written notice with the links to its letter (left out while there are none)
    letters: list[dict] = field(default_factory=list)

    #: failed acceptances awaiting rework on the latest night (第六条), left out while none
    rework: list[Rework] = field(default_factory=list)
    #: acceptance packs found under OUT/acceptance/ (left out while none)
    acceptance: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        return to_json(self, omit_empty=("notices", "letters", "rework", "acceptance"))


# -- building the context from the store ----------------------------------------------
def build_index(store, contract, out_dir: Path, config=None, contracts=None) -> IndexReport:
    """The index under ``contract``, the one of the newest night (its header, milestones and
    cap: the agency works under it now); ``contracts`` lists the others' packs by number."""
    dates = store.snapshot_dates()
    runs = stored.exit_codes_by_night(store)
    sev = stored.finding_counts_by_night(store)
    unknown = stored.unknown_items_by_night(store)
    generated = set(stored.generated_nights(store, dates[0], dates[-1])) if dates else set()
    nights = []
    for d in reversed(dates):
        code = runs.get(d)
        nights.append(NightRow(d, code, labels.EXIT[code] if code is not None else "运行未完成",
                               labels.EXIT_SHORT[code] if code is not None else "未完成",
                               sev.get((d, "critical"), 0), sev.get((d, "warning"), 0),
                               sev.get((d, "info"), 0), list(unknown.get(d, [])),
                               None if d in generated else f"{d.isoformat()}/nightly.html",
                               d in generated))
    severities = [SeverityNight(n.snapshot_date, n.critical, n.warning, n.info)
                  for n in reversed(nights)]
    points, lines, total, cap = _penalties(store, contract, dates, config)
    owner = contract.owner
    verdicts = stored.month_verdicts(store, f"{dates[-1]:%Y-%m}", owner) if dates else []
    latest = verdicts[-1] if verdicts else None
    return IndexReport(contract.number, contract.title,
                       datetime.now(SHANGHAI).replace(microsecond=0), nights,
                       _monthly(out_dir, contracts), _ratios(store, contract, dates), severities,
                       _source_gaps(store), points, lines, total, cap, _finance(out_dir),
                       notice_ledger.open_on(store, dates[-1]) if dates else [],
                       {"month": latest["month"], "passed": latest["passed"],
                        "verdict": labels.VERDICT[latest["passed"]],
                        "failed_in_a_row": latest["failed_in_a_row"]} if latest else None,
                       milestones(contract, dates[-1] if dates else None),
                       _letters(store, out_dir, dates[-1]) if dates else [],
                       acceptance_ledger.open_rework(store, dates[-1]) if dates else [],
                       _acceptance(out_dir, contracts, contract))


def _letters(store, out_dir: Path, day: date) -> list[dict]:
    """Every notice drafted by ``day`` with where it stands and its letter's files in OUT."""
    out = []
    for n in notice_ledger.states(store, day):
        links = {k: f"notices/{n.notice_id}/{n.notice_id}.{k}" for k in ("pdf", "docx")
                 if (Path(out_dir) / "notices" / n.notice_id / f"{n.notice_id}.{k}").exists()}
        out.append({"notice_id": n.notice_id, "kind": n.kind_label, "ref": n.ref,
                    "status": n.status_label, "text": n.text, "links": links})
    return out


def milestones(contract, today: date | None) -> list[dict]:
    """The contract's milestones as the agency plans the year: the mid-term acceptance six
    months in (第六条), the end of the term, the final acceptance and the annual assessment
    that gate the final 50% (第七条), each with its date and how far off it is."""
    start, end = contract.start, contract.end
    six = _months_later(start, 6) - timedelta(days=1)
    rows = [("中期验收（第六条）", f"服务期满 6 个月（{start} 至 {six}）后由乙方提交中期验收材料，"
             "甲方组织验收", six + timedelta(days=1)),
            ("服务期满（第五条）", f"服务期 {start} 至 {end}", end),
            ("最终验收、年度考核与尾款（第六条、第七条）", "服务期满后验收评审，年度考核通过后支付"
             "尾款 50%（发票于付款前 5 个工作日提供）", end + timedelta(days=1))]
    out = []
    for name, what, day in rows:
        left = None if today is None else (day - today).days
        out.append({"name": name, "what": what, "date": day,
                    "state": "-" if left is None else
                    (f"还有 {left} 天" if left > 0 else "今日" if left == 0 else
                     f"已于 {day} 到期")})
    return out


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def _acceptance(out_dir: Path, contracts=None, current=None) -> list[dict]:
    """The acceptance packs and annual assessments found under OUT (links relative to it):
    the first contract's in OUT/acceptance/ and OUT/annual/, a follow-on's under OUT/NUMBER/
    (recon report acceptance|annual --contract).  With follow-ons configured each entry names
    its contract, the current contract's first; with none, as before (no contract key)."""
    out_dir = Path(out_dir)
    several = contracts is not None and len(contracts.all) > 1
    order = [c.number for c in contracts.all] if several else [None]
    if several and current is not None:
        order.remove(current.number)
        order.insert(0, current.number)
    first = contracts.first.number if several else None
    out = []
    for number in order:
        prefix = "" if number in (None, first) else f"{number}/"
        base = out_dir / prefix if prefix else out_dir
        found = []
        for page in sorted(base.glob("acceptance/*/acceptance.html")):
            period = page.parent.name
            zipped = page.parent.parent / f"acceptance-{period}.zip"
            found.append({"period": period, "report": f"{prefix}acceptance/{period}/"
                          "acceptance.html", "bundle": f"{prefix}acceptance/{zipped.name}"
                          if zipped.is_file() else None,
                          "label": {"mid": "中期验收", "final": "最终验收"}.get(period, period)})
        if (base / "annual" / "annual.html").is_file():
            found.append({"period": "annual", "report": f"{prefix}annual/annual.html",
                          "bundle": None, "label": "年度考核"})
        for f in found:
            if number is not None:
                f["contract"] = number
                f["label"] = f"合同 {number} {f['label']}"
            out.append(f)
    return out


def _ratios(store, contract, dates: list[date]) -> list[RatioSeries]:
    """Allocated / contracted for every item that has a measured allocated figure."""
    by_item = stored.allocation_ratios(store)
    return [RatioSeries(no, contract.items[no].short_name if no in contract.items else str(no),
                        [RatioPoint(d, series.get(d)) for d in dates])
            for no, series in sorted(by_item.items())]


def _source_gaps(store) -> list[SourceGaps]:
    return [SourceGaps(r["source"], r["failed"], r["nights"], r["failed_on"])
            for r in stored.source_failures(store)]


def _penalties(store, contract, dates, config):
    """The penalty ledger as concluded for the last night, and its running total each night."""
    cap = Money.of(penalties.cap(contract, config))
    if not dates:
        return [], [], Money.of(0), cap
    ledger = conclude.ledger(store, dates[-1])
    points = [PenaltyPoint(d, cents(next((p.running_total for p in reversed(ledger)
                                          if p.dated <= d), 0)))
              for d in dates]
    return points, ledger, Money.of(stored.penalty_total(store, dates[-1])), cap


def _monthly(out_dir: Path, contracts=None) -> list[MonthlyRow]:
    """The assessments under OUT/monthly/ (the first contract's) and, with follow-ons
    configured, OUT/<number>/monthly/ (each follow-on's), newest month first, the later
    contract first within a month, each row naming its contract then."""
    several = contracts is not None and len(contracts.all) > 1
    numbers = [c.number for c in contracts.all] if several else [None]
    pages = []
    for rank, number in enumerate(numbers):
        where = "monthly" if rank == 0 else f"{number}/monthly"
        pages += [(page.parent.name, rank, number, page)
                  for page in Path(out_dir).glob(f"{where}/*/assessment.html")]
    rows = []
    for month, _rank, number, page in sorted(pages, reverse=True):
        row = MonthlyRow(month, page.relative_to(out_dir).as_posix(), contract=number)
        try:
            data = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
            row.passed, row.verdict = data.get("passed"), data.get("verdict")
        except (OSError, ValueError, AttributeError):
            pass  # a page without its JSON is still linked
        rows.append(row)
    return rows


def _finance(out_dir: Path) -> list[FinanceRow]:
    """OUT/finance/<period>-<digest>/verification.html, with the statement's file name and
    the totals its JSON states."""
    rows = []
    for page in Path(out_dir).glob("finance/*/verification.html"):
        xlsx = page.with_suffix(".xlsx")
        row = FinanceRow(page.parent.name, page.relative_to(out_dir).as_posix(),
                         xlsx.relative_to(out_dir).as_posix() if xlsx.exists() else None)
        try:
            data = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
            row.statement = str(data.get("statement") or row.statement)
            row.period = f"{data['period_start']} 至 {data['period_end']}"
            row.billed, row.accepted, row.unverified = (data[k]["text"] for k in
                                                        ("billed", "accepted", "unknown_value"))
            row.exit_code, row.verdict = data.get("exit_code"), data.get("exit_label")
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a page without a readable JSON is still linked
        rows.append(row)
    return sorted(rows, key=lambda r: (r.period or "", r.statement), reverse=True)


# -- writing ---------------------------------------------------------------------------
def rebuild(config, db_path: Path, out_dir: Path) -> Path:
    """Write OUT/index.html and index.json from the store, re-rendering missing nightly reports.

    Reports read stored conclusions; a night a store older than them never concluded (or
    the newest night, which the index reads the ledger of) is concluded first, once."""
    contracts = load_contracts(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # one read-only open for the whole index (each open of a year-long store costs a
    # night 0.05-0.1 s); closed and opened again only around a conclusion it must write
    store = Store(db_path, read_only=True)
    try:
        runs = stored.night_runs(store)
        generated = set(stored.generated_nights(store, runs[0][0], runs[-1][0])) if runs \
            else set()
        missing = [(d, run_id) for d, run_id in runs if d not in generated
                   and not (out_dir / d.isoformat() / "nightly.html").exists()]
        needed = {d for d, _ in missing} | ({runs[-1][0]} if runs else set())
        unconcluded = sorted(d for d in needed if not stored.concluded(store, "night",
                                                                        d.isoformat()))
        if unconcluded:
            store.close()
            with Store(db_path) as writer:
                for d in unconcluded:
                    judge, kind = contracts.for_night(d)
                    if kind == TERM:  # a transition night (第十三条 2) concludes nothing
                        conclude.night(writer, judge, config, d)
            store = Store(db_path, read_only=True)
        for d, run_id in missing:
            log.info("%s: nightly report missing, rendering it from the store", d)
            judge, kind = contracts.for_night(d)
            write_nightly(build_nightly(store, judge, d, run_id, config,
                                        transition=kind == TRANSITION), out_dir)
        # the header and milestones are the contract of the newest night (in force, or the
        # one whose transition it is: its final acceptance and settlement are what is due)
        contract = contracts.for_night(runs[-1][0])[0] if runs else contracts.first
        index = build_index(store, contract, out_dir, config, contracts)
    finally:
        store.close()
    return write_index(index, out_dir)


def refresh_after_run(config, db_path: Path, out_dir: Path) -> None:
    """Rebuild the index after a night; a failure is logged, never the night's outcome."""
    try:
        rebuild(config, db_path, out_dir)
    except Exception as exc:  # the night's data and report are already safe
        log.warning("index.html not refreshed: %s", exc)


def write_index(index: IndexReport, out_dir: Path) -> Path:
    e = env()
    e.globals.update(ratio_svg=ratio_svg, severity_svg=severity_svg, sources_svg=sources_svg,
                       penalty_svg=penalty_svg)
    html = e.get_template("index.html.j2").render(r=index, labels=labels)
    path = Path(out_dir) / "index.html"
    write_atomic(path, html)
    write_atomic(Path(out_dir) / "index.json", index.to_json())
    return path


# -- inline SVG charts -----------------------------------------------------------------
# Coordinates are computed in Decimal (amounts never pass through float) and printed with
# one decimal; every label is escaped, since item and source names come from files and
# the cloud.
COLOURS = {"critical": "#c62828", "warning": "#f0a500", "info": "#5b8def"}
#: nights up to which every delivered-ratio point gets a dot (beyond: only those below 100%)
DOTS_UP_TO = 62


def _px(value) -> str:
    return f"{Decimal(value):.1f}"


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _pct(ratio: Decimal | None) -> str:
    return "未知" if ratio is None else f"{ratio * 100:.1f}%"


def ratio_svg(series: RatioSeries) -> Markup:
    """One item's delivered ratio; unmeasured nights are gaps in the line, never zero."""
    w, h, left, right, top, bottom = 320, 90, 34, 8, 18, 14
    pw, ph = w - left - right, h - top - bottom
    values = [p.ratio for p in series.points if p.ratio is not None]
    ymax = max([Decimal("1.2")] + [v * Decimal("1.05") for v in values])
    n = len(series.points)

    def x(i):
        return left + (Decimal(pw) * i / (n - 1) if n > 1 else Decimal(pw) / 2)

    def y(v):
        return top + ph - Decimal(ph) * v / ymax

    body = [f'<text x="0" y="12" class="t">第{series.item_no}项 {escape(series.name)}：'
            f'最新 {_pct(series.latest)}</text>',
            f'<line x1="{left}" y1="{_px(y(1))}" x2="{w - right}" y2="{_px(y(1))}" '
            f'class="ref"/><text x="{left - 3}" y="{_px(y(1) + 3)}" class="ax" '
            f'text-anchor="end">100%</text>',
            f'<text x="{left - 3}" y="{top + ph}" class="ax" text-anchor="end">0</text>',
            f'<line x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}" class="axis"/>']
    run: list[str] = []
    dots = n <= DOTS_UP_TO  # a year of dots is a megabyte no phone needs: then the line only
    for i, p in enumerate(series.points + [RatioPoint(date.min, None)]):
        if p.ratio is not None:
            run.append(f"{_px(x(i))},{_px(y(p.ratio))}")
            if dots or p.ratio < 1:
                colour = "#c62828" if p.ratio < 1 else "#1b7f3b"
                body.append(f'<circle cx="{_px(x(i))}" cy="{_px(y(p.ratio))}" r="2.2" '
                            f'fill="{colour}"><title>{p.snapshot_date} {_pct(p.ratio)}</title>'
                            f'</circle>')
        else:
            if len(run) > 1:
                body.append(f'<polyline points="{" ".join(run)}" class="line"/>')
            run = []
            if i < n:
                body.append(f'<rect x="{_px(x(i) - 2)}" y="{top}" width="4" height="{ph}" '
                            f'class="gap"><title>{p.snapshot_date} 未知</title></rect>')
    return _svg(w, h, f"第{series.item_no}项 {series.name} 交付比例（已分配÷合同数量）", body)


def severity_svg(nights: list[SeverityNight]) -> Markup:
    """Findings per night, stacked by severity, oldest night on the left."""
    w, h, left, bottom, top = 400, 170, 24, 34, 10
    pw, ph = w - left - 10, h - top - bottom
    n = max(len(nights), 1)
    most = max([n_.critical + n_.warning + n_.info for n_ in nights] + [1])
    slot = Decimal(pw) / n
    bar = max(slot * Decimal("0.7"), Decimal(1))
    body = [f'<line x1="{left}" y1="{top + ph}" x2="{w - 10}" y2="{top + ph}" class="axis"/>',
            f'<text x="{left - 4}" y="{top + 8}" class="ax" text-anchor="end">{most}</text>',
            f'<text x="{left - 4}" y="{top + ph}" class="ax" text-anchor="end">0</text>']
    for i, night in enumerate(nights):
        base = Decimal(top + ph)
        for sev in ("critical", "warning", "info"):
            count = getattr(night, sev)
            if not count:
                continue
            height = Decimal(ph) * count / most
            base -= height
            body.append(f'<rect x="{_px(left + slot * i + (slot - bar) / 2)}" y="{_px(base)}" '
                        f'width="{_px(bar)}" height="{_px(height)}" fill="{COLOURS[sev]}">'
                        f'<title>{night.snapshot_date} {labels.SEVERITY[sev]} {count}</title></rect>')
    if nights:
        body.append(f'<text x="{left}" y="{h - 18}" class="ax">{nights[0].snapshot_date}</text>')
        body.append(f'<text x="{w - 10}" y="{h - 18}" class="ax" text-anchor="end">'
                    f'{nights[-1].snapshot_date}</text>')
    for k, sev in enumerate(("critical", "warning", "info")):
        body.append(f'<rect x="{left + 70 * k}" y="{h - 10}" width="10" height="10" '
                    f'fill="{COLOURS[sev]}"/><text x="{left + 14 + 70 * k}" y="{h - 1}" '
                    f'class="ax">{labels.SEVERITY[sev]}</text>')
    return _svg(w, h, "每晚发现的问题数（按级别）", body)


def sources_svg(sources: list[SourceGaps]) -> Markup:
    """Unknown nights per source: how often each source could not be counted."""
    # the labels are right-aligned against the bars: leave them room (10px text: about 6px a
    # Latin character, 10px a Chinese one), so "openstack:block-storage@GPU-Region/…" is not cut
    width = max([sum(10 if ord(c) > 0x2e80 else 6 for c in s.source) for s in sources] + [0])
    row, left = 22, max(150, width + 12)
    w = left + 250
    h = row * max(len(sources), 1) + 8
    most = max([s.nights for s in sources] + [1])
    body = []
    for i, s in enumerate(sources):
        yy = 4 + row * i
        full = Decimal(w - left - 75)
        body.append(f'<rect x="{left}" y="{yy}" width="{_px(full * s.nights / most)}" '
                    f'height="{row - 8}" class="track"/>')
        if s.unknown_nights:
            body.append(f'<rect x="{left}" y="{yy}" width="{_px(full * s.unknown_nights / most)}"'
                        f' height="{row - 8}" fill="#c62828"><title>'
                        f'{escape(", ".join(d.isoformat() for d in s.dates))}</title></rect>')
        body.append(f'<text x="{left - 6}" y="{yy + 11}" class="ax" text-anchor="end">'
                    f'{escape(s.source)}</text>')
        body.append(f'<text x="{_px(left + full * s.nights / most + 6)}" y="{yy + 11}" '
                    f'class="ax">{s.unknown_nights}/{s.nights} 晚未知</text>')
    return _svg(w, h, "各数据源未能采集的夜数", body)


def penalty_svg(points: list[PenaltyPoint], cap: Money) -> Markup:
    """The penalty ledger's running total night by night against the 10% cap."""
    w, h, left, right, top, bottom = 400, 160, 30, 6, 14, 24
    pw, ph = w - left - right, h - top - bottom
    ymax = max([cap.amount] + [p.total for p in points]) * Decimal("1.1")
    n = len(points)

    def x(i):
        return left + (Decimal(pw) * i / (n - 1) if n > 1 else Decimal(pw) / 2)

    def y(v):
        return top + ph - Decimal(ph) * v / ymax

    body = [f'<line x1="{left}" y1="{top + ph}" x2="{w - right}" y2="{top + ph}" class="axis"/>',
            f'<line x1="{left}" y1="{_px(y(cap.amount))}" x2="{w - right}" '
            f'y2="{_px(y(cap.amount))}" class="cap"/>',
            f'<text x="{left - 4}" y="{_px(y(cap.amount) + 3)}" class="ax" text-anchor="end">'
            f'上限</text>',
            f'<text x="{w - right}" y="{_px(y(cap.amount) - 4)}" class="ax" text-anchor="end">'
            f'第十二条上限 {cap.text} 元</text>',
            f'<text x="{left - 4}" y="{top + ph}" class="ax" text-anchor="end">0</text>']
    if points:
        coords = []
        for i, p in enumerate(points):
            if coords:  # a step: the total holds until the night it changes
                coords.append(f"{_px(x(i))},{coords[-1].split(',')[1]}")
            coords.append(f"{_px(x(i))},{_px(y(p.total))}")
        body.append(f'<polyline points="{" ".join(coords)}" class="pen"/>')
        body.append(f'<text x="{left}" y="{h - 6}" class="ax">{points[0].snapshot_date}</text>')
        body.append(f'<text x="{w - right}" y="{h - 6}" class="ax" text-anchor="end">'
                    f'{points[-1].snapshot_date}</text>')
    return _svg(w, h, "违约金累计（违约金台账）与第十二条上限", body)
