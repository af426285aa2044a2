"""The nightly report: one typed context, written as JSON and rendered as HTML.

As datasette does with its template contexts, :class:`NightlyReport` is both
the machine-readable output (nightly.json) and exactly what the Jinja2
template (reports/nightly.html.j2) reads, so the two cannot disagree.
Quantities and money are Decimal in the context and strings in the JSON.

Each page links to the nights before and after it and to ``../index.html``.
A link is only as good as the file it points to, so the neighbours are the
pages that exist in the report folder; when a night is written, the pages
either side get their links to it (:func:`relink`), so reading night by
night never dead-ends.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from recon import assess, conclude, labels, penalties, store as stored
from recon.contract import TRANSITION_LABEL
from recon.ledgers import acceptance as acceptance_ledger
from recon.ledgers import notices as notice_ledger
from recon.ledgers.acceptance import Rework
from recon.ledgers.notices import NoticeState
from recon.progress import SHANGHAI
from reports.common import Money, env, to_json, write_atomic

log = logging.getLogger(__name__)

PAGE, DATA = "nightly.html", "nightly.json"
#: the folder of every night's report, OUT/YYYY-MM-DD
NIGHT_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: the navigation block, between markers so a neighbour's page can be relinked in place
NAV_BLOCK = re.compile(r"<!--nav-->.*?<!--/nav-->", re.S)


@dataclass
class SourceLine:
    source: str
    #: the source as a reader knows it ("块存储"), beside its id
    name: str
    status: str
    status_label: str
    #: the connector's raw reason: the technical detail, shown after the Chinese label
    reason: str | None
    #: stable why-code from the connector (timeout, http_5xx, ...), None when it gave none
    reason_code: str | None
    reason_label: str | None
    #: what the page says: the label, then the detail (labels.reason_text)
    reason_text: str
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
    #: names of the listed resources, by id, where the source gave one that differs from the id
    resource_names: dict = field(default_factory=dict)


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
    #: [openstack] scopes: each scope's own figures, added up above
    #: ([{"source": "openstack:compute@GPU-Region/p", "metric": "in_use", ...}, ...])
    by_scope: list = field(default_factory=list)
    #: measured_by for the page: each service once, in Chinese, its scopes under it
    #: ([{"name": "云主机", "scopes": ["GPU-Region/p"], "sources": [...]}]; labels.source_groups)
    source_groups: list = field(default_factory=list)
    #: an unknown item: the sources that should have measured it and failed tonight (the
    #: scope that failed, not the ones that answered)
    failed_by: list = field(default_factory=list)


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
    #: the item's unit, for target and allocation
    unit: str = ""
    #: the night ``latest`` was measured, when that was not tonight (tonight's pull failed)
    latest_on: date | None = None


@dataclass
class NotCountedLine:
    """A resource the night saw and did not count (a volume in ``error``, a bare-metal server
    in ``ERROR`` ...): stored with quantity 0, listed apart so the page says why."""

    source: str
    resource_type: str
    resource_id: str
    name: str
    item_no: int | None
    item_name: str
    status: str
    #: the size the service reports (a volume's GB), which the figure leaves out
    size: Decimal | None
    unit: str


@dataclass
class Nav:
    """Links from one night's page: the nearest nights that have a page, and the index."""

    previous_night: date | None = None
    next_night: date | None = None
    index: str = "../index.html"


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
    #: penalties incurred so far (the penalty ledger: scaling, service levels, the monthly
    #: rule), and the 10% cap of 第十二条
    penalties: Money | None = None
    penalty_cap: Money | None = None
    #: the contract's total, digits and 大写, as the header shows it
    contract_total: Money | None = None
    nav: Nav = field(default_factory=Nav)
    #: the written notices still open on this night, nearest deadline first (the notices
    #: ledger); left out of nightly.json while there are none
    notices: list[NoticeState] = field(default_factory=list)

    #: resources seen and not counted (volumes in error ...): why a figure differs from the
    #: service's own usage
    not_counted: list[NotCountedLine] = field(default_factory=list)
    #: the month's last night: its service-level penalties are dated this day and priced by
    #: the monthly assessment (recon report monthly), not yet in the total above
    month_end: str | None = None

    #: failed acceptances awaiting rework on this night (第六条, 5 days), with their deadline;
    #: left out of nightly.json while there are none
    rework: list[Rework] = field(default_factory=list)
    #: a night after the contract's term (第十三条 2): what it is, said on the page; usage is
    #: valued at this contract's prices for the negotiation, and nothing is judged (no
    #: verdict, clock or penalty); left out of nightly.json for a night in the term
    transition: str | None = None
    #: in transition: what the night's allocation is worth at the contract's prices (each
    #: measured item's allocation x its unit day value), and the items not valued (unknown)
    usage_value: Money | None = None
    usage_unvalued: list[int] = field(default_factory=list)
    #: 演示生成: `recon demo` generated this night from its scenario, it was not pulled
    #: (left out of nightly.json for a pulled night)
    generated: bool = False

    def to_json(self) -> str:
        return to_json(self, omit_empty=("notices", "month_end", "rework", "transition",
                                           "usage_value", "usage_unvalued", "generated"))



def exit_code_for(report_findings: list[FindingLine], sources: list[SourceLine]) -> int:
    # 2 is a source that failed or was rejected; an item no configured source measures
    # (item_unmeasured while every source answered) is a standing finding: 1
    incomplete = any(s.status != "ok" for s in sources)
    if incomplete:
        return 2
    if any(f.severity in ("critical", "warning") for f in report_findings):
        return 1
    return 0


def _month_end(day: date, contract) -> str | None:
    """On a month's last night (or the term's), where that month's penalties come from."""
    if (day + timedelta(days=1)).month == day.month and day != contract.end:
        return None
    return (f"本日为 {day:%Y-%m} 的最后一晚：本月的服务水平违约金（附件2、附件3）与月度考核结论由"
            f"月度考核报告计算（recon report monthly --month {day:%Y-%m}），以上累计尚未包含")


#: how many resources of a finding the page lists (the JSON has them all)
SHOWN_IDS = 8


@dataclass
class NightReads:
    """What the nightly reports of ``first`` .. ``last`` read from the store, each table read
    once for the whole period and grouped by night: a night's report is built from its
    rows (:func:`build_nightly`), one night (the nightly run) or a period's 184 (the
    acceptance pack) alike."""

    first: date
    last: date
    source_runs: dict
    findings: dict
    scope_measurements: dict
    item_days: dict
    not_counted: dict
    ledgers: dict
    states: dict
    penalty_totals: dict
    notices: dict
    rework: dict
    generated: set
    #: the names behind the resource ids the period's pages list (:func:`_name_resources`)
    names: dict

    @classmethod
    def read(cls, store, first: date, last: date) -> "NightReads":
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        findings = stored.nights_findings(store, first, last)
        shown = sorted({i for rows in findings.values() for f in rows
                        for i in f["resource_ids"][:SHOWN_IDS]})
        return cls(first, last, stored.nights_source_runs(store, first, last), findings,
                   stored.nights_scope_measurements(store, first, last),
                   stored.nights_item_days(store, first, last),
                   stored.nights_not_counted(store, first, last),
                   conclude.ledgers(store, first, last),
                   conclude.states_between(store, first, last),
                   stored.penalty_totals(store, first, last),
                   notice_ledger.open_on_days(store, days),
                   acceptance_ledger.open_rework_on(store, days),
                   set(stored.generated_nights(store, first, last)),
                   stored.resource_names(store, shown) if shown else {})


def build_scaling(reads: NightReads, contract, snapshot_date: date, config):
    """The night's scaling table and penalty total, as concluded for the night."""
    ledger = {p.key: p.amount for p in reads.ledgers.get(snapshot_date, [])}
    lines = []
    for st in reads.states.get(snapshot_date, []):
        r = st.request
        lines.append(ScalingLine(r.request_id, r.item_no, contract.items[r.item_no].short_name,
                                 r.requested_date, r.deadline, st.day, st.target, st.latest,
                                 st.state, labels.SCALING[st.state], st.completed_on,
                                 # an unverifiable item is unknown every night: no list
                                 [] if st.state == "unverifiable" else st.unknown_days,
                                 r.notice_deadline, ledger.get(f"scaling:{r.request_id}"),
                                 contract.items[r.item_no].unit,
                                 st.latest_on if st.latest_on != snapshot_date else None))
    # the total is every penalty of the ledger dated up to this night, not only scaling's
    total = reads.penalty_totals.get(snapshot_date, NO_PENALTY)
    return lines, Money.of(total), Money.of(penalties.cap(contract, config))


#: a night without a ledger: nothing counted (what the store's sum says of no rows)
NO_PENALTY = Decimal("0.00")


def build_nightly(store, contract, snapshot_date: date, run_id: int, config,
                  transition: bool = False, reads: NightReads | None = None) -> NightlyReport:
    """The night's report; ``transition``: a night after ``contract``'s term (第十三条 2);
    ``reads``: the period's rows when a period's reports are built (read here otherwise)."""
    if reads is None or not reads.first <= snapshot_date <= reads.last:
        reads = NightReads.read(store, snapshot_date, snapshot_date)
    runs = reads.source_runs.get(snapshot_date, [])
    sources = [SourceLine(r["source"], labels.source_name(r["source"]), r["status"],
                          labels.SOURCE_STATUS.get(r["status"], r["status"]), r["reason"],
                          r["reason_code"], labels.SOURCE_REASON.get(r["reason_code"]),
                          labels.reason_text(r["reason_code"], r["reason"]),
                          r["lines"] or 0, r["measurements"] or 0)
               for r in runs]
    findings = []
    for f in reads.findings.get(snapshot_date, []):
        code, sev, item_no, figures, ids = (f["code"], f["severity"], f["item_no"],
                                            f["figures"], f["resource_ids"])
        count = (figures or {}).get("resources", len(ids)) if isinstance(figures, dict) else len(ids)
        findings.append(FindingLine(
            code, labels.FINDING.get(code, code), sev, labels.SEVERITY.get(sev, sev), item_no,
            contract.items[item_no].short_name if item_no in contract.items else None,
            f["source"], f["message"], figures, ids, int(count or 0)))
    findings.sort(key=lambda f: (labels.SEVERITY_ORDER.get(f.severity, 9), f.item_no or 0, f.code,
                                 f.source or ""))
    _name_resources(reads.names, findings)
    by_scope: dict[int, list] = {}
    for m in reads.scope_measurements.get(snapshot_date, []):
        by_scope.setdefault(m["item_no"], []).append(
            {"source": m["source"], "scope": m["source"].partition("@")[2],
             "metric": m["metric"], "quantity": m["quantity"], "basis": m["basis"]})
    failed = [r["source"] for r in runs if r["status"] != "ok"]
    items = []
    for r in reads.item_days.get(snapshot_date, []):
        item, status = contract.items[r["item_no"]], r["status"]
        items.append(ItemLine(r["item_no"], item.short_name, item.unit, item.category,
                              r["contracted"], r["allocated"], r["in_use"], r["shortfall"],
                              r["overage"], r["utilisation"], r["day_value"],
                              r["shortfall_value"], r["overage_value"],
                              status, labels.STATUS.get(status, status), r["measured_by"],
                              r["allocated_basis"], labels.basis_label(r["allocated_basis"]),
                              r["in_use_basis"], labels.basis_label(r["in_use_basis"]),
                              bool(r["unlimited"]), r["parts"], by_scope.get(r["item_no"], []),
                              labels.source_groups(r["measured_by"].split(", ")
                                                   if r["measured_by"] else []),
                              labels.source_groups(
                                  [f for f in failed if f.partition("@")[0] == item.source])
                              if status == "unknown" else []))
    not_counted = []
    for r in reads.not_counted.get(snapshot_date, []):
        item_no, rtype, a = r["item_no"], r["resource_type"], r["attributes"]
        size = a.get("size")
        not_counted.append(NotCountedLine(
            r["source"], rtype, r["resource_id"], r["name"] or "", item_no,
            contract.items[item_no].short_name if item_no in contract.items else "",
            str(a.get("status") or ""), None if size is None else Decimal(str(size)),
            "GB" if rtype == "volume" else (contract.items[item_no].unit
                                           if item_no in contract.items else "")))
    # in transition no finding is a breach of contract: the code says only whether all was measured
    exit_code = exit_code_for([] if transition else findings, sources)
    counts = {"critical": sum(f.severity == "critical" for f in findings),
              "warning": sum(f.severity == "warning" for f in findings),
              "info": sum(f.severity == "info" for f in findings),
              "items_unknown": sum(i.status == "unknown" for i in items),
              "items_ok": sum(i.status in ("ok", "idle") for i in items)}
    total = lambda attr: sum((getattr(i, attr) or Decimal(0) for i in items), Decimal(0))  # noqa
    usage = assess.usage(store, contract, snapshot_date, snapshot_date) if transition else None
    scaling_lines, penalty_total, cap = (([], None, None) if transition else
                                         build_scaling(reads, contract, snapshot_date, config))
    return NightlyReport(
        contract.number, contract.title, contract.agency, contract.provider,
        f"{contract.start} 至 {contract.end}", snapshot_date,
        datetime.now(SHANGHAI).replace(microsecond=0), run_id, exit_code,
        labels.EXIT[exit_code], exit_code in (0, 1), sources, findings, items, counts,
        Money.of(total("day_value")), Money.of(total("shortfall_value")),
        Money.of(total("overage_value")), scaling_lines, penalty_total, cap,
        contract_total=Money.of(contract.total),
        notices=reads.notices.get(snapshot_date, []), not_counted=not_counted,
        month_end=None if transition else _month_end(snapshot_date, contract),
        rework=reads.rework.get(snapshot_date, []),
        usage_value=Money.of(usage.value) if usage else None,
        usage_unvalued=usage.unvalued if usage else [],
        transition=(f"{TRANSITION_LABEL}：合同 {contract.number} 服务期已于 "
                    f"{contract.end} 届满，本日用量按该合同单价计价，供双方协商参考；"
                    "不作合同结论，不计扩容时限与违约金") if transition else None,
        generated=snapshot_date in reads.generated)


def _name_resources(names: dict[str, str], findings: list[FindingLine]) -> None:
    """The names behind the ids a page lists: a reader knows a volume by name, not UUID."""
    for f in findings:
        f.resource_names = {i: names[i] for i in f.resource_ids[:SHOWN_IDS] if i in names}


def _nights(out_dir: Path) -> list[date]:
    """The nights that have a page in ``out_dir``."""
    if not out_dir.is_dir():
        return []
    return sorted(date.fromisoformat(p.name) for p in out_dir.iterdir()
                  if NIGHT_DIR.match(p.name) and (p / PAGE).is_file())


def _nav(nights: list[date], day: date) -> Nav:
    before = [d for d in nights if d < day]
    after = [d for d in nights if d > day]
    return Nav(before[-1] if before else None, after[0] if after else None)


def _render(report: NightlyReport) -> str:
    return env().get_template("nightly.html.j2").render(r=report, shown=SHOWN_IDS)


def _render_nav(nav: Nav) -> str:
    return env().get_template("_nav.html.j2").render(nav=nav)


def write_nightly(report: NightlyReport, out_dir: Path, outbox=None) -> tuple[Path, Path]:
    """OUT/D/nightly.html and nightly.json, linked to the nights either side.

    With the store's ``outbox`` (a night's transaction) the files are staged
    and take their names only when the run commits, so they never disagree
    with the store; the caller relinks the neighbours after the commit
    (:func:`relink`).  Without one each file is replaced whole at once and the
    neighbours are relinked here.
    """
    out_dir = Path(out_dir)
    folder = out_dir / report.snapshot_date.isoformat()
    report.nav = _nav(_nights(out_dir) + [report.snapshot_date], report.snapshot_date)
    files = {folder / PAGE: _render(report), folder / DATA: report.to_json()}
    if outbox is not None:
        html_path, json_path = outbox.stage(report.run_id, files)
        return html_path, json_path
    for path, text in files.items():
        write_atomic(path, text)
    relink(out_dir, report.snapshot_date)
    return folder / PAGE, folder / DATA


def relink(out_dir: Path, day: date) -> list[date]:
    """Give the pages either side of ``day`` their links to it; returns the nights relinked.

    Only the navigation changes: each neighbour stays the report its own run
    wrote (same figures, same generation time), in HTML and JSON alike.  A
    neighbour that cannot be read (edited or damaged by hand) keeps its old
    links: a link is not worth failing the night for.
    """
    out_dir = Path(out_dir)
    nights = _nights(out_dir)
    nav = _nav(nights, day)
    done = []
    for other in (nav.previous_night, nav.next_night):
        if other is None:
            continue
        try:
            if _relink_one(out_dir / other.isoformat(), _nav(nights, other)):
                done.append(other)
        except (OSError, ValueError) as exc:
            log.warning("%s: links to %s not added: %s", out_dir / other.isoformat(), day, exc)
    return done


def _relink_one(folder: Path, want: Nav) -> bool:
    page, data = folder / PAGE, folder / DATA
    html = page.read_text(encoding="utf-8")
    new_html = NAV_BLOCK.sub(lambda _: _render_nav(want), html)
    if new_html == html:
        return False
    if data.is_file():
        js = json.loads(data.read_text(encoding="utf-8"))
        js["nav"] = json.loads(to_json(want))
        write_atomic(data, json.dumps(js, ensure_ascii=False, indent=2))
    write_atomic(page, new_html)
    return True


