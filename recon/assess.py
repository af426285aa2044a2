"""The monthly assessment (月度考核, 附件3 row 3): criteria, verdicts, failed months in a row.

Months are calendar months in Asia/Shanghai; the contract's first and last
months are partial (2026-07-10 .. 07-31, 2027-07-01 .. 07-09) and say so.
The criteria and their thresholds are data (``assessment.toml``, each citing
its clause, typed by recon.rules); their codes are stable: ``delivery``, ``scaling``,
``availability``, ``response_time``, ``recovery_time``, ``on_site``,
``data_completeness``.

Nothing is judged from data recon does not have: a night that never ran is a
gap and is named; an item unknown on a night counts neither for nor against
delivery; a criterion with no data is *undetermined* (``passed`` is None), and
a month with an undetermined required criterion is undetermined, not failed.
The failed-months-in-a-row count stops at any month that did not fail.
"""
from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from recon.errors import ConfigError
from recon.ledgers import incidents, scaling
from recon.reconcile import contract_days
from recon.store import MONEY
from recon.rules import TABLES, Rules

#: the [annual] keys of assessment.toml, each with its clause
TABLES_ANNUAL = TABLES["annual"]

# -- months ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    month: str          # YYYY-MM
    first: date
    last: date
    partial: bool       # the contract covers only part of the calendar month

    @cached_property
    def days(self) -> tuple[date, ...]:
        """The natural days, built once (a year's ledger asks each month's days ~60 times)."""
        return tuple(self.first + timedelta(days=n)
                     for n in range((self.last - self.first).days + 1))


def period(contract, month: str) -> Period:
    """The part of calendar month ``YYYY-MM`` inside the contract term."""
    try:
        year, mon = (int(x) for x in month.split("-"))
        first = date(year, mon, 1)
    except ValueError:
        raise ConfigError(f"not a month (YYYY-MM): {month!r}") from None
    last = date(year, mon, calendar.monthrange(year, mon)[1])
    lo, hi = max(first, contract.start), min(last, contract.end)
    if lo > hi:
        raise ConfigError(f"{month} is outside the contract term {contract.start} .. "
                          f"{contract.end}")
    return Period(f"{year:04d}-{mon:02d}", lo, hi, (lo, hi) != (first, last))


def periods_until(contract, last_month: str) -> list[Period]:
    """Every month of the term from the first up to and including ``last_month``."""
    out, day = [], contract.start
    while True:
        p = period(contract, f"{day.year:04d}-{day.month:02d}")
        out.append(p)
        if p.month >= last_month or p.last >= contract.end:
            return out
        day = p.last + timedelta(days=1)


# -- the transition period (第十三条 2) ---------------------------------------------------
#: what a month (or night) after the contract's term says instead of a verdict
NOT_ASSESSED = "切换期，不考核"


@dataclass
class UsageItem:
    """One item's allocation over some transition nights, valued at the contract's price."""
    item_no: int
    nights_valued: int          # nights its allocation was measured
    nights_unvalued: int        # stored nights it was not (unknown, or no source measures it)
    value: Decimal              # the sum of allocation x unit day value over nights_valued


@dataclass
class Usage:
    """The allocation of ``first`` .. ``last`` valued at ``contract``'s prices (第十三条 2:
    切换期间的资源费用由双方协商 — recon gives the figure the negotiation starts from, nothing
    more: no verdict, no penalty)."""
    contract_number: str
    first: date
    last: date
    nights: list[date]
    items: list[UsageItem]

    @property
    def value(self) -> Decimal:
        return sum((i.value for i in self.items), Decimal(0))

    @property
    def unvalued(self) -> list[int]:
        """The items not valued on some stored night: their value is 未核实, never 0."""
        return [i.item_no for i in self.items if i.nights_unvalued]


def usage(store, contract, first: date, last: date) -> Usage:
    """Each item's allocation on each stored night of ``first`` .. ``last`` x its unit day
    value (recon.reconcile's, the one rule), each product rounded as a stored value is
    (the DECIMAL(18,6) cast, half up), summed per item."""
    nights = [d for (d,) in store.db.execute(
        "SELECT DISTINCT snapshot_date FROM item_days WHERE snapshot_date BETWEEN ? AND ? "
        "ORDER BY 1", [first, last]).fetchall()]
    store.db.register("_usage_days", contract_days(contract, nights))
    try:
        rows = store.db.execute(f"""
            SELECT d.item_no::INTEGER,
                   count(*) FILTER (WHERE i.allocated IS NOT NULL),
                   count(*) FILTER (WHERE i.allocated IS NULL),
                   coalesce(sum((d.unit_day_value::DECIMAL(38,10) * i.allocated)::{MONEY}), 0)
            FROM item_days i
            JOIN _usage_days d ON d.snapshot_date::DATE = i.snapshot_date
                               AND d.item_no::SMALLINT = i.item_no
            GROUP BY 1 ORDER BY 1""").fetchall()
    finally:
        store.db.unregister("_usage_days")
    return Usage(contract.number, first, last, nights,
                 [UsageItem(no, valued, unvalued, Decimal(value))
                  for no, valued, unvalued, value in rows])


# -- the verdict ------------------------------------------------------------------------
@dataclass
class Criterion:
    code: str
    name: str
    clause: str
    required: bool
    passed: bool | None          # None: undetermined (no data to judge)
    value: str
    threshold: str
    reason: str


@dataclass
class Coverage:
    """recon's own nights in the period: which ran, which never ran, which were incomplete."""

    days: int
    ran: list[date]
    gaps: list[date]                     # no night stored at all
    incomplete: dict[date, list[int]]    # night -> items unknown that night
    failed_sources: dict[date, list[str]]

    @property
    def complete(self) -> int:
        return len(self.ran) - len(set(self.incomplete) | set(self.failed_sources))


@dataclass
class ItemMonth:
    """One contract item over the period, day-weighted over its measured nights."""

    item_no: int
    contracted: Decimal | None           # day-weighted over the period
    allocated: Decimal | None            # mean over measured nights
    in_use: Decimal | None
    delivered_ratio: Decimal | None
    undelivered_value: Decimal           # sum of the nights' shortfall value
    measured_nights: int                 # nights a source measured the allocation
    unknown_nights: int
    #: nights nothing verified the allocation: no source measures it (未计量) or the night
    #: is unknown; their contracted value is 未核实, never delivered and never 0
    unverified_nights: int
    unverified_value: Decimal
    shortfall_nights: int
    longest_shortfall: int
    series: list[tuple[date, Decimal | None, Decimal | None]]   # (night, allocated, contracted)


@dataclass
class Assessment:
    period: Period
    criteria: list[Criterion]
    passed: bool | None
    coverage: Coverage
    figures: incidents.Figures
    items: list[ItemMonth]
    scaling: list[scaling.State]
    failed_in_a_row: int = 0
    notes: list[str] = field(default_factory=list)


def coverage(store, contract, p: Period, nights: _Nights | None = None) -> Coverage:
    """recon's own nights in ``p``; ``nights``: what :func:`_nights` read for a span that
    holds ``p`` (:func:`history` reads the whole term's once, not each month's again)."""
    n = nights or _nights(store, p.first, p.last, 0)
    ran = [d for d in n.ran if p.first <= d <= p.last]
    unknown = {d: v for d, v in n.unknown.items() if p.first <= d <= p.last}
    failed = {d: v for d, v in n.failed.items() if p.first <= d <= p.last}
    got = set(ran)
    return Coverage(len(p.days), ran, [d for d in p.days if d not in got], unknown, failed)


@dataclass
class _Nights:
    """The stored nights of a span as coverage and item_months read them, in one read."""

    ran: list[date]                      # nights a source ran, in date order
    unknown: dict[date, list[int]]       # night -> items unknown that night
    failed: dict[date, list[str]]        # night -> sources that did not succeed
    items: dict[int, list[tuple]]        # item -> its item_days rows, in date order


def _nights(store, first: date, last: date, lookback: int) -> _Nights:
    """The source runs of ``first`` .. ``last`` and the item days from ``lookback`` nights
    before ``first``: a statement costs DuckDB ~2 ms however few its rows, and the night's
    history asked these per month, 13 months x 4 statements."""
    db = store.db
    ran = [r[0] for r in db.execute(
        "SELECT DISTINCT snapshot_date FROM source_runs WHERE snapshot_date BETWEEN ? AND ? "
        "ORDER BY 1", [first, last]).fetchall()]
    unknown: dict[date, list[int]] = {}
    for day, item in db.execute(
            "SELECT snapshot_date, item_no FROM item_days WHERE snapshot_date BETWEEN ? AND ? "
            "AND status = 'unknown' ORDER BY 1, 2", [first, last]).fetchall():
        unknown.setdefault(day, []).append(item)
    failed: dict[date, list[str]] = {}
    for day, source in db.execute(
            "SELECT snapshot_date, source FROM source_runs WHERE snapshot_date BETWEEN ? AND ? "
            "AND status <> 'ok' ORDER BY 1, 2", [first, last]).fetchall():
        failed.setdefault(day, []).append(source)
    rows = store.db.execute("""
        SELECT item_no, snapshot_date, contracted, allocated, in_use,
               CASE WHEN allocated_basis = 'not_measured' AND status <> 'unknown'
                    THEN 'not_measured' ELSE status END, shortfall_value, day_value
        FROM item_days WHERE snapshot_date BETWEEN ? AND ? ORDER BY item_no, snapshot_date
    """, [first - timedelta(days=lookback), last]).fetchall()
    by_item: dict[int, list] = {}
    for r in rows:
        by_item.setdefault(r[0], []).append(r[1:])
    return _Nights(ran, unknown, failed, by_item)


def item_months(store, contract, p: Period, lookback: int,
                nights: _Nights | None = None) -> list[ItemMonth]:
    """Per item: measured figures over the period, and its longest run of shortfall nights
    (unknown nights neither count nor break a run; the run may begin ``lookback`` nights
    before the period).  ``nights``: as :func:`coverage`'s, read from ``lookback`` nights
    before a span that holds ``p``."""
    by_item = (nights or _nights(store, p.first, p.last, lookback)).items
    since = p.first - timedelta(days=lookback)
    out = []
    for item_no in contract.items:
        stored = by_item.get(item_no, [])
        days = [n[0] for n in stored]
        rows = stored[bisect_left(days, since):bisect_right(days, p.last)]   # the window
        run = longest = 0
        in_period = [n for n in rows if n[0] >= p.first]
        for day, _c, _a, _u, status, _v, _dv in rows:
            if status in ("unknown", "not_measured"):
                continue
            run = run + 1 if status == "shortfall" else 0
            if day >= p.first:
                longest = max(longest, run)
        measured = [n for n in in_period if n[4] not in ("unknown", "not_measured")]
        unverified = [n for n in in_period if n[4] in ("unknown", "not_measured")]
        contracted = [contract.quantity_on(item_no, d) for d in p.days]
        alloc = [n[2] for n in measured if n[2] is not None]
        use = [n[3] for n in measured if n[3] is not None]
        mean = (lambda xs: sum(xs, Decimal(0)) / len(xs) if xs else None)  # noqa: E731
        c_mean, a_mean = mean(contracted), mean(alloc)
        ratio = (min(a_mean / c_mean, Decimal(1)).quantize(Decimal("0.0001"))
                 if a_mean is not None and c_mean else None)
        series = {n[0]: (n[2], n[1]) for n in in_period}
        out.append(ItemMonth(
            item_no, c_mean.quantize(Decimal("0.01")) if c_mean is not None else None,
            a_mean.quantize(Decimal("0.01")) if a_mean is not None else None,
            mean(use).quantize(Decimal("0.01")) if use else None, ratio,
            sum((n[5] or Decimal(0) for n in measured), Decimal(0)),
            len(measured), sum(n[4] == "unknown" for n in in_period), len(unverified),
            sum((n[6] or Decimal(0) for n in unverified), Decimal(0)),
            sum(n[4] == "shortfall" for n in measured), longest,
            [(d, *series.get(d, (None, c))) for d, c in zip(p.days, contracted)]))
    return out


def _q1(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.1"))


def _minutes(value) -> str:
    return "-" if value is None else f"{value} 分钟"


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.0001'))}%"


def _limit_pct(value: Decimal) -> str:
    """A threshold as the contract writes it: 0.9999 -> 99.99%."""
    return f"{(value * 100).normalize():f}%"


def _criteria(rules: Rules, p: Period, cov: Coverage, figs: incidents.Figures,
              items: list[ItemMonth], states: list[scaling.State], contract) -> list[Criterion]:
    c = rules.criteria
    out = []

    def add(code, passed, value, threshold, reason):
        out.append(Criterion(code, c[code].name, c[code].clause, c[code].required,
                             passed, value, threshold, reason))

    # delivery
    n = rules.max_shortfall_days
    long_runs = [i for i in items if i.longest_shortfall > n]
    # items a source should have measured and none did on any night of the period (an item
    # not measurable by design is 'not_measured', never unknown, and is not expected here)
    never = [i.item_no for i in items if i.measured_nights == 0 and i.unknown_nights > 0
             and i.unverified_nights == i.unknown_nights]
    # items no source measures the allocation of (未计量): not judged, and never passed
    unverifiable = [i for i in items if i.measured_nights == 0 and
                    i.unverified_nights > i.unknown_nights]
    if long_runs:
        add("delivery", False, f"{len(long_runs)} 项", f"缺口不超过 {n} 天",
            "；".join(f"第{i.item_no}项 连续 {i.longest_shortfall} 个已采集夜晚分配不足"
                     for i in long_runs))
    elif not cov.ran:
        add("delivery", None, "-", f"缺口不超过 {n} 天", "本月没有任何已运行的夜晚，无法判断")
    elif never:
        add("delivery", None, "-", f"缺口不超过 {n} 天",
            f"第{'、'.join(map(str, never))}项 本月没有一个有效采集的夜晚，无法判断")
    else:
        short = [i for i in items if i.shortfall_nights]
        add("delivery", True, "0 项", f"缺口不超过 {n} 天",
            "各项分配不足均未超过期限" + (f"（第{'、'.join(str(i.item_no) for i in short)}项 "
                                        f"有短期缺口）" if short else "，无分配不足"))
    if unverifiable:
        value = sum((i.unverified_value for i in unverifiable), Decimal(0))
        out[-1].reason += (f"；第{'、'.join(str(i.item_no) for i in unverifiable)}项 无数据源计量"
                           f"分配，未核实（合同价值 {value.quantize(Decimal('0.01')):,} 元），"
                           f"不在本条判定之内")
    # scaling: any night of the period past day 7 with the request incomplete
    breached, unsure = [], []
    for st in states:
        r = st.request
        if st.state in ("unverifiable", "undetermined"):
            if r.deadline >= p.first:
                unsure.append(r.request_id)
            continue
        lo = r.deadline + timedelta(days=1)
        hi = st.completed_on - timedelta(days=1) if st.completed_on else p.last
        if lo <= hi and lo <= p.last and hi >= p.first:
            done = f"于 {st.completed_on} 完成" if st.completed_on else "仍未完成"
            breached.append(f"{r.request_id}（第{r.item_no}项，第7天 {r.deadline}，{done}）")
    due = [st for st in states if p.first <= st.request.deadline <= p.last]
    if breached:
        add("scaling", False, f"{len(breached)} 项超期", "7 个自然日内完成",
            "；".join(breached))
    elif unsure:
        add("scaling", None, "-", "7 个自然日内完成",
            f"{'、'.join(unsure)} 无法核实（无数据源计量或关键夜晚未采集）")
    else:
        add("scaling", True, f"{len(due)} 项到期", "7 个自然日内完成",
            "本月到期的扩容申请均按期完成" if due else "本月无到期的扩容申请")
    # availability
    floor = rules.min_availability
    allowed = (Decimal(figs.period_seconds) * (1 - floor) / 60).quantize(Decimal("0.001"))
    out_min = (Decimal(figs.outage_seconds) / 60).quantize(Decimal("0.1"))
    still_down = [s.system for s in figs.systems if s.open]
    open_note = f"；{'、'.join(still_down)} 月末仍中断，计至月末" if still_down else ""
    add("availability", figs.availability >= floor, _pct(figs.availability),
        f"≥ {_limit_pct(floor)}",
        f"中断 {out_min} 分钟，本期允许 {allowed} 分钟{open_note}" if figs.outage_seconds
        else "台账本期无服务中断记录")
    # response and recovery: the means of the kinds the agency's reading names; a mean with
    # an incident still open at the month's end is a lower bound, so the criterion waits
    limit = rules.response_max_mean_minutes
    kinds = rules.reading("response_kinds")
    exact, chosen = figs.mean_of(kinds, "response_s")
    held = [e.incident_id for e in chosen if e.responded_at is None]
    kind_text = "、".join(incidents.KIND_LABELS[k] for k in kinds)
    if exact is None:
        add("response_time", True, "-", f"≤ {limit} 分钟", f"台账本期无{kind_text}事件")
    else:
        add("response_time", None if held else exact <= limit,
            f"{'≥ ' if held else ''}{_minutes(_q1(exact))}", f"≤ {limit} 分钟",
            f"{len(chosen)} 个事件（{kind_text}）的平均响应时间"
            + (f"；{'、'.join(held)} 月末仍未响应，计至月末为下限，待定" if held else ""))
    lim, lim_imp = rules.recovery_max_mean_minutes, rules.recovery_max_mean_minutes_important
    kinds = rules.reading("recovery_kinds")
    kind_text = "、".join(incidents.KIND_LABELS[k] for k in kinds)
    groups = []   # (label, mean, events, limit, open ids)
    for label, important, limit in (("一般系统", False, lim), ("重要系统", True, lim_imp)):
        mean, events = figs.mean_of(kinds, "recovery_s", important=important)
        groups.append((label, mean, events, limit, [e.incident_id for e in events if e.open]))
    # a group over its limit on closed faults alone fails for certain; one with an open
    # fault has a lower bound only: the criterion waits for it
    certain = [g[0] for g in groups if g[1] is not None and not g[4] and g[1] > g[3]]
    held = [i for g in groups for i in g[4]]
    value = "；".join(f"{g[0][:2]} {'≥ ' if g[4] else ''}{_minutes(_q1(g[1]))}" for g in groups)
    n = sum(len(g[2]) for g in groups)
    if certain:
        reason = "、".join(certain) + " 超过时限"
    elif held:
        reason = ""
    else:
        reason = (f"{n} 个事件（{kind_text}）" if n else f"台账本期无{kind_text}事件")
    if held:
        reason += (("；" if reason else "") + f"{'、'.join(held)} 月末仍未恢复，计至月末的均值"
                   f"为下限" + ("" if certain else "，待其恢复后判定"))
    add("recovery_time", False if certain else None if held else True, value,
        f"一般 ≤ {lim} 分钟；重要 ≤ {lim_imp} 分钟", reason)
    # on site
    lim_site = rules.on_site_max_minutes
    worst = None if figs.on_site_max_seconds is None else \
        (Decimal(figs.on_site_max_seconds) / 60).quantize(Decimal("0.1"))
    add("on_site", not figs.on_site_late, _minutes(worst), f"≤ {lim_site} 分钟",
        f"{'、'.join(figs.on_site_late)} 到场超时" if figs.on_site_late else
        (f"{figs.on_site_n} 次到场均在时限内" if figs.on_site_n else "台账本期无到场记录"))
    # recon's own data
    share = Decimal(cov.complete) / cov.days
    floor_share = rules.min_complete_share
    parts = []
    if cov.gaps:
        parts.append(f"{len(cov.gaps)} 晚未运行")
    if cov.incomplete or cov.failed_sources:
        parts.append(f"{len(set(cov.incomplete) | set(cov.failed_sources))} 晚部分数据未采集")
    add("data_completeness", share >= floor_share, f"{cov.complete}/{cov.days} 晚完整",
        f"≥ {_limit_pct(floor_share)}", "；".join(parts) or "每晚均完整采集")
    return out


@dataclass
class Facts:
    """What was measured and recorded in a month, before any judgement: the nights recon
    ran, the incidents' figures, each item's month.  The monthly report shows these beside
    the stored verdict."""

    coverage: Coverage
    figures: incidents.Figures
    items: list[ItemMonth]
    notes: list[str]


def facts(store, contract, rules: Rules, p: Period,
          figs: incidents.Figures | None = None, nights: _Nights | None = None) -> Facts:
    """``nights``: the stored nights of a span that holds ``p`` (see :func:`history`)."""
    if figs is None:
        [figs] = _figures(store, contract, rules, [p])
    lookback = rules.max_shortfall_days
    notes = []
    if p.partial:
        notes.append(f"本月为合同{'首' if p.first == contract.start else '末'}月，仅考核 "
                     f"{p.first} 至 {p.last}（{len(p.days)} 天）")
    nights = nights or _nights(store, p.first, p.last, lookback)
    return Facts(coverage(store, contract, p, nights), figs,
                 item_months(store, contract, p, lookback, nights), notes)


def fault_breaches(figs: incidents.Figures, rules: Rules) -> list[dict]:
    """Each fault over one of its own limits (第三条 4-5: response 15 minutes, located and
    cleared 30, important systems 10, on site 2 hours), with the times it rests on.  An
    open fault is measured up to the month's end and is over its limit already."""
    out = []
    for e in figs.events:
        if e.kind != "fault":
            continue
        locate = (rules.fault_locate_minutes_important if e.important
                  else rules.fault_locate_minutes)
        checks = [("response", "响应", e.response_s, rules.fault_response_minutes,
                   e.responded_at, "第三条第4款"),
                  ("locate", "定位排除", e.locate_s, locate,
                   e.located_at or e.recovered_at, "第三条第5款")]
        if e.on_site_s is not None:
            checks.append(("on_site", "到场", e.on_site_s, rules.fault_on_site_minutes,
                           e.on_site_at, "第三条第4款"))
        for code, label, seconds, limit, at, clause in checks:
            if seconds > limit * 60:
                still = at is None or (code == "locate" and e.located_at is None and e.open)
                out.append({
                    "incident_id": e.incident_id, "system": e.system, "important": e.important,
                    "limit": code, "label": label, "clause": clause, "limit_minutes": limit,
                    "minutes": str(_q1(Decimal(seconds) / 60)),
                    "started_at": incidents.fmt_time(e.started_at),
                    "at": incidents.fmt_time(at) if at else None,
                    "open": still,
                    "measured_to": ("定位时间" if code == "locate" and e.located_at else
                                    "恢复时间" if code == "locate" and e.recovered_at else
                                    "月末（尚未发生）" if still else
                                    {"response": "响应时间", "on_site": "到场时间"}.get(code))})
    return out


def assess(store, contract, config, rules: Rules, p: Period,
           figs: incidents.Figures | None = None, nights: _Nights | None = None,
           requests: list | None = None) -> Assessment:
    """One month's verdict: each criterion with its reason, and the month's.

    ``figs``, ``nights``, ``requests``: the month's service-level figures, stored nights
    and the scaling requests when the caller has them already (:func:`history` reads every
    month's in one go)."""
    f = facts(store, contract, rules, p, figs, nights)
    states = scaling.states(store, contract, p.last, requests)
    crit = _criteria(rules, p, f.coverage, f.figures, f.items, states, contract)
    required = [c for c in crit if c.required]
    if any(c.passed is False for c in required):
        passed = False
    elif any(c.passed is None for c in required):
        passed = None
    else:
        passed = True
    return Assessment(p, crit, passed, f.coverage, f.figures, f.items, states, notes=f.notes)


def _figures(store, contract, rules: Rules, periods: list[Period]) -> list[incidents.Figures]:
    return incidents.period_figures(
        store, [(p.first, p.last) for p in periods], year_start=contract.start,
        on_site_limit_minutes=rules.on_site_max_minutes)


def history(store, contract, config, rules: Rules, last_month: str) -> list[Assessment]:
    """Every month of the term up to ``last_month``, with failed months in a row."""
    out, run = [], 0
    periods = periods_until(contract, last_month)
    if not periods:
        return out
    nights = _nights(store, periods[0].first, periods[-1].last, rules.max_shortfall_days)
    requests = scaling.requests(store)
    for p, figs in zip(periods, _figures(store, contract, rules, periods)):
        a = assess(store, contract, config, rules, p, figs, nights, requests)
        run = run + 1 if a.passed is False else 0
        a.failed_in_a_row = run
        out.append(a)
    return out


# -- the year (年度考核, 第七条2) -------------------------------------------------------------
#: the annual criteria: the contract defines none (第七条2 only says 年度考核合格), so each is
#: the agency's rule ([annual] in assessment.toml), citing what it rests on
ANNUAL_NAMES = {
    "no_month_failed_after_deadline": "无月度考核在整改期限后仍不合格",
    "no_termination_condition": "未出现第十二条的解除合同情形",
    "acceptance_passed": "最终验收合格",
}


@dataclass
class AnnualCriterion:
    code: str
    name: str
    clause: str
    agency_rule: bool            # the agency's rule, not the contract's
    applied: bool                # false: switched off in [annual]
    passed: bool | None
    reason: str


@dataclass
class Annual:
    """The annual assessment: a verdict only once the term is over (the store holds the
    term's last night); before, what is still open, never a guess."""

    computable: bool
    passed: bool | None
    criteria: list[AnnualCriterion]
    open: list[str]


def annual(contract, rules: Rules, verdicts: list[dict], ledger: list[dict], total: Decimal,
           cap: Decimal, final_acceptance, last_night: date | None) -> Annual:
    """Judge the year from stored conclusions: the months' ``verdicts``, the penalty
    ``ledger`` as of the term's end (or the last night), the latest record of the final
    acceptance (``final_acceptance``: recon.ledgers.acceptance.Record or None)."""
    over = last_night is not None and last_night >= contract.end
    opened: list[str] = []
    if not over:
        opened.append(f"服务期至 {contract.end} 届满，本系统数据截至 {last_night or '（尚无数据）'}："
                      f"年度考核须待服务期届满后判定")
        done = {v["month"] for v in verdicts}
        left = [p.month for p in periods_until(contract, f"{contract.end:%Y-%m}")
                if p.month not in done]
        if left:
            opened.append(f"尚未作出月度考核的月份：{'、'.join(left)}")
    row3 = rules.rows("monthly_assessment", 3)
    clause3 = row3[0].clause if row3 else "附件3第3条"
    counted = [p for p in ledger if p["clause"] == clause3 and p["status"] == "counted"]
    pending = [p for p in ledger if p["clause"] == clause3 and p["status"] == "pending"]
    failed = [v["month"] for v in verdicts if v["passed"] is False]
    undecided = [v["month"] for v in verdicts if v["passed"] is None]
    out = []

    def add(code, passed, reason):
        decl = TABLES_ANNUAL[code]
        applied = rules.annual_on(code)
        if not over and applied:
            reason = f"待服务期届满后判定；截至目前：{reason}"
            passed = None
        out.append(AnnualCriterion(code, ANNUAL_NAMES[code], decl.clause, True, applied,
                                   passed if applied else None,
                                   reason if applied else f"甲方未采用本条（[annual] {code} = false）"))

    fail_text = f"未通过的月份：{'、'.join(failed)}" if failed else "无未通过的月份"
    if counted:
        add("no_month_failed_after_deadline", False,
            "；".join(f"{p['month']}：{p['reason']}" for p in counted))
    elif pending:
        add("no_month_failed_after_deadline", None,
            f"{fail_text}；待整改期限届满：" + "；".join(p["reason"] for p in pending))
    elif undecided:
        add("no_month_failed_after_deadline", None,
            f"{fail_text}；无法判定的月份 {'、'.join(undecided)} 不能确认未在整改期限后仍不合格")
    else:
        add("no_month_failed_after_deadline", True,
            f"{fail_text}；无在整改期限后仍不合格的月份")
    ends = [v for v in verdicts if v["termination"]]
    reasons = [ends[-1]["termination_reason"]] if ends else []
    if total > cap:
        reasons.append(f"累计违约金 {total:,} 元超过第十二条上限 {cap:,} 元")
    add("no_termination_condition", False if reasons else True,
        "；".join(reasons) or f"无附件1 A 级事件或 3 次 B 级事件；累计违约金 {total:,} 元，"
        f"未超过上限 {cap:,} 元")
    fa = final_acceptance
    if fa is None:
        add("acceptance_passed", None, "最终验收结果尚未记录（recon acceptance record --period final）")
        if over:
            opened.append("最终验收结果尚未记录")
    elif fa.result == "pass":
        add("acceptance_passed", True, f"最终验收于 {fa.decided_on} 合格（第 {fa.revision} 次记录）")
    else:
        add("acceptance_passed", False,
            f"最终验收于 {fa.decided_on} 不合格（第 {fa.revision} 次记录），返工期限 "
            f"{fa.rework_deadline}")
    if undecided:
        opened.append(f"无法判定的月份（有必考项缺少数据）：{'、'.join(undecided)}")
    applied = [c for c in out if c.applied]
    if not over:
        passed = None
    elif any(c.passed is False for c in applied):
        passed = False
    elif any(c.passed is None for c in applied):
        passed = None
        opened.extend(f"{c.name}：{c.reason}" for c in applied if c.passed is None
                      and c.code != "acceptance_passed")
    else:
        passed = True
    return Annual(over, passed, out, opened)
