"""The incidents ledger: faults, service requests and security events (第三条, 附件1-3).

The provider's service levels (第三条) are judged from this ledger: respond to
a fault within 15 minutes, be on site within 2 hours, locate and clear a fault
within 30 minutes (10 for an important system), and keep the cloud service
available 99.99% of the time.  The agency keeps the ledger (the provider's
work orders, the hotline log); recon imports it, keeps every change as a new
revision, and computes each month's figures in SQL (:func:`month_figures`).

Two judgements no timestamp can make stay with the agency and are columns of
the ledger: whether an incident is an 附件1 A- or B-level event
(事件级别), and whether it caused a major loss (重大损失, which moves a breach
from 附件3 to 附件2).  Reports say that these came from the ledger.

Times without a zone are Beijing time (the same rule as scaling requests).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from recon import cells as cell, store as stored
from recon.errors import InputError
from recon.progress import SHANGHAI
from recon.textfiles import read_table

COLUMNS = {
    "incident_id": ("事件编号", "incident_id"),
    "system": ("系统名称", "system"),
    "important": ("重要系统", "important"),
    "kind": ("类型", "kind"),
    "started_at": ("发生时间", "started_at"),
    "responded_at": ("响应时间", "responded_at"),
    "on_site_at": ("到场时间", "on_site_at"),
    "located_at": ("定位时间", "located_at"),
    "recovered_at": ("恢复时间", "recovered_at"),
    "outage": ("是否中断服务", "outage"),
    "impact": ("影响", "impact"),
    "complaint": ("投诉", "complaint"),
    "event_level": ("事件级别", "event_level"),
    "major_loss": ("重大损失", "major_loss"),
    "note": ("备注", "note"),
}
REQUIRED = ("incident_id", "system", "kind", "started_at")
KINDS = {"故障": "fault", "fault": "fault", "运维需求": "request", "request": "request",
         "安全事件": "security", "security": "security"}
KIND_LABELS = {"fault": "故障", "request": "运维需求", "security": "安全事件"}
#: free text: control characters are stripped with a warning, not refused
FREE = ("impact", "note")
_LEVELS = {"": None, "a": "A", "a级": "A", "b": "B", "b级": "B"}
#: the columns of an incident's revision that the agency wrote (Incident.fields, in order)
FIELDS = ("system", "important", "kind", "started_at", "responded_at", "on_site_at",
          "located_at", "recovered_at", "outage", "impact", "complaint", "event_level",
          "major_loss", "note")
TIME_FIELDS = ("responded_at", "on_site_at", "located_at", "recovered_at")


@dataclass(frozen=True)
class Incident:
    incident_id: str
    system: str
    important: bool
    kind: str
    started_at: datetime
    responded_at: datetime | None = None
    on_site_at: datetime | None = None
    located_at: datetime | None = None
    recovered_at: datetime | None = None
    outage: bool = False
    impact: str = ""
    complaint: bool = False
    event_level: str | None = None
    major_loss: bool = False
    note: str = ""
    origin: str = ""
    revision: int = 1

    def fields(self) -> tuple:
        """What a revision compares: everything the agency wrote, not where it came from
        (the columns of FIELDS, in their order)."""
        return (self.system, self.important, self.kind, self.started_at, self.responded_at,
                self.on_site_at, self.located_at, self.recovered_at, self.outage, self.impact,
                self.complaint, self.event_level, self.major_loss, self.note)


def make_incident(contract, cells: dict[str, str], origin: str) -> Incident:
    """One ledger row; raises ValueError("field: why") naming the field at fault."""
    def need(key):
        if not cells.get(key):
            raise ValueError(f"{key}: empty")
        return cells[key]

    def flag(key):
        try:
            return cell.flag(cells.get(key, ""))
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None

    def when(key):
        try:
            return cell.moment(cells[key]) if cells.get(key) else None
        except ValueError as exc:
            raise ValueError(f"{key}: {exc}") from None

    incident_id, system = need("incident_id"), need("system")
    kind = KINDS.get(need("kind").strip().lower())
    if kind is None:
        raise ValueError(f"kind: {cells['kind']!r} is not one of 故障, 运维需求, 安全事件 "
                         f"(fault, request, security)")
    need("started_at")
    started = when("started_at")
    # ``contract``: one Contract, or the store's Contracts (a follow-on's term counts too)
    if contract.judging(started.astimezone(SHANGHAI).date()) is None:
        raise ValueError(f"started_at: {started.astimezone(SHANGHAI).date()} is outside the "
                         f"contract term {contract.terms}")
    times = {}
    for key in TIME_FIELDS:
        times[key] = when(key)
        if times[key] is not None and times[key] < started:
            raise ValueError(f"{key}: {fmt_time(times[key])} is before the incident "
                             f"started ({fmt_time(started)})")
    level = cells.get("event_level", "").strip().lower()
    if level not in _LEVELS:
        raise ValueError(f"event_level: {cells['event_level']!r} is not A, B or empty "
                         f"(附件1 event level)")
    return Incident(incident_id, system, flag("important"), kind, started, **times,
                    outage=flag("outage"), impact=cells.get("impact", ""),
                    complaint=flag("complaint"), event_level=_LEVELS[level],
                    major_loss=flag("major_loss"), note=cells.get("note", ""), origin=origin)


def read_incidents(path: Path, contract) -> list[Incident]:
    """Every row of a CSV/XLSX ledger file, or an InputError naming line and column."""
    table = read_table(path, free=[name for key in FREE for name in COLUMNS[key]])
    found = table.resolve(COLUMNS, required=REQUIRED)
    out, seen = [], {}
    for line, cells in table.rows:
        values = {k: cells.get(found[k], "").strip() for k in found}
        try:
            inc = make_incident(contract, values, origin=f"{path.name}:{line}")
        except ValueError as exc:
            field_name, _, why = str(exc).partition(": ")
            raise InputError(path, why, line=line,
                             column=found.get(field_name, COLUMNS.get(field_name, (field_name,))[0])
                             ) from None
        if inc.incident_id in seen:
            raise InputError(path, f"incident {inc.incident_id} appears twice (first on line "
                             f"{seen[inc.incident_id]})", line=line, column=found["incident_id"])
        seen[inc.incident_id] = line
        out.append(inc)
    return out


# -- the ledger in the store -------------------------------------------------------
_SELECT = """
    SELECT incident_id, system, important, kind, started_at, responded_at, on_site_at,
           located_at, recovered_at, outage, impact, complaint, event_level, major_loss,
           note, origin, revision
    FROM incidents
"""


def _row(r) -> Incident:
    return Incident(r[0], r[1], r[2], r[3], *r[4:9], r[9], r[10] or "", r[11], r[12], r[13],
                    r[14] or "", r[15] or "", r[16])


def latest(store) -> dict[str, Incident]:
    rows = store.db.execute(_SELECT + """
        QUALIFY revision = max(revision) OVER (PARTITION BY incident_id)
        ORDER BY started_at, incident_id""").fetchall()
    return {r[0]: _row(r) for r in rows}


def save(store, incidents: list[Incident]) -> list[str]:
    """Record incidents in one transaction; an unchanged row adds no revision.

    Returns the ids that were added or changed.
    """
    db = store.db
    changed = []
    db.execute("BEGIN")
    try:
        current = latest(store)
        for inc in incidents:
            cur = current.get(inc.incident_id)
            if cur is not None and cur.fields() == inc.fields():
                continue
            stored.insert(db, "incidents", ("incident_id", "revision") + FIELDS + ("origin",),
                          [[inc.incident_id, cur.revision + 1 if cur else 1, *inc.fields(),
                            inc.origin]], now=True)
            changed.append(inc.incident_id)
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return changed


def history(store, incident_id: str) -> list[Incident]:
    return [_row(r) for r in store.db.execute(
        _SELECT + " WHERE incident_id = ? ORDER BY revision", [incident_id]).fetchall()]


def in_period(store, first: date, last: date) -> list[Incident]:
    """Incidents that started in the period or were still open when it began."""
    start, end = bounds(first, last)
    return [i for i in latest(store).values()
            if i.started_at < end and (i.recovered_at is None or i.recovered_at > start)]


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants a period of natural days (Asia/Shanghai) begins and ends."""
    return (datetime.combine(first, time(0), SHANGHAI),
            datetime.combine(last + timedelta(days=1), time(0), SHANGHAI))


# -- a month's service-level figures (SQL) --------------------------------------------
@dataclass
class SystemOutages:
    system: str
    outages: int
    seconds: int
    longest_seconds: int
    open: bool


@dataclass
class Event:
    """One incident that began in the period, with its own times in seconds since it began.

    A fault is judged by its whole duration, also when it recovered after the month's end
    (a December fault recovered on 1 January took what it took); one the ledger does not
    yet show recovered (``open``) is measured up to the period's end: a lower bound, and
    whatever rests on it waits (pending) until the ledger records its recovery."""

    incident_id: str
    system: str
    important: bool
    kind: str                        # fault | request | security
    started_at: datetime
    responded_at: datetime | None
    located_at: datetime | None
    on_site_at: datetime | None
    recovered_at: datetime | None
    open: bool                       # the ledger shows no recovery yet
    response_s: int
    locate_s: int                    # to 定位时间, else to 恢复时间, else to the period's end
    recovery_s: int
    on_site_s: int | None


@dataclass
class Figures:
    """A period's service-level figures: seconds are exact integers, ratios Decimal."""

    first: date
    last: date
    period_seconds: int
    incidents: int
    open_at_end: list[str]
    outage_seconds: int              # union of all outages (overlaps counted once)
    availability: Decimal            # 1 - outage / period
    response_n: int
    response_seconds: int            # total, to take the mean from
    recovery_n: int
    recovery_seconds: int            # faults of ordinary systems
    recovery_important_n: int
    recovery_important_seconds: int
    on_site_n: int
    on_site_max_seconds: int | None
    on_site_late: list[str]          # incident ids whose arrival took longer than allowed
    systems: list[SystemOutages]
    complaints: int                  # in the period
    complaints_in_term: int          # up to the period's end
    major_loss: list[str]            # outage incidents the agency flagged 重大损失
    events_a: list[str]              # 附件1 A-level events in the contract year so far
    events_b: list[str]
    #: each incident that began in the period, with its times (the per-fault limits and the
    #: averages of the kinds a reading names are taken from these)
    events: list[Event] = field(default_factory=list)

    def mean_of(self, kinds, what: str, important: bool | None = None
                ) -> tuple[Decimal | None, list[Event]]:
        """The exact mean minutes of ``what`` (response_s, recovery_s) over the events of
        ``kinds`` (and of important or ordinary systems when asked), and those events."""
        chosen = [e for e in self.events if e.kind in kinds
                  and (important is None or e.important == important)]
        if not chosen:
            return None, []
        return Decimal(sum(getattr(e, what) for e in chosen)) / len(chosen) / 60, chosen

    def mean_exact(self, what: str) -> Decimal | None:
        """Mean minutes of 'response', 'recovery' or 'recovery_important', unrounded:
        thresholds and penalty bands are compared with this."""
        n, s = getattr(self, f"{what}_n"), getattr(self, f"{what}_seconds")
        return Decimal(s) / n / 60 if n else None

    def mean_minutes(self, what: str) -> Decimal | None:
        """The same, to a tenth of a minute, as reports show it."""
        exact = self.mean_exact(what)
        return None if exact is None else exact.quantize(Decimal("0.1"))


#: the periods asked for, numbered k = 1.., each with the instants it begins and ends
_PERIODS = """
periods AS (
    SELECT generate_subscripts($starts, 1) AS k, unnest($starts) AS p_start,
           unnest($ends) AS p_end
), inc AS (
    SELECT * FROM incidents QUALIFY revision = max(revision) OVER (PARTITION BY incident_id)
)"""

#: every period's figures in one statement (a year of months costs one query, not twelve)
FIGURES_SQL = "WITH" + _PERIODS + """, cur AS (
    -- each period's incidents; an open one counts up to the period's end and is marked open
    SELECT p.k, p.p_start, p.p_end, i.*,
           i.recovered_at IS NULL OR i.recovered_at > p.p_end AS open_at_end,
           greatest(i.started_at, p.p_start) AS s,
           least(coalesce(i.recovered_at, p.p_end), p.p_end) AS e
    FROM periods p JOIN inc i
      ON i.started_at < p.p_end AND coalesce(i.recovered_at, p.p_end) > p.p_start
), outages AS (
    SELECT k, s, e FROM cur WHERE outage AND e > s
), ordered AS (
    SELECT k, s, e, max(e) OVER (PARTITION BY k ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING
                                                                AND 1 PRECEDING) AS reach
    FROM outages
), islands AS (
    SELECT k, s, e, sum(CASE WHEN reach IS NULL OR s > reach THEN 1 ELSE 0 END)
                    OVER (PARTITION BY k ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
), merged AS (
    SELECT k, sum(date_diff('second', s, e)) AS outage_s
    FROM (SELECT k, min(s) AS s, max(e) AS e FROM islands GROUP BY k, island) GROUP BY k
), started AS (
    -- what is judged in a period: incidents that began in it
    SELECT *,
        date_diff('second', started_at, coalesce(least(responded_at, p_end), p_end)) AS response_s,
        date_diff('second', started_at, coalesce(least(recovered_at, p_end), p_end)) AS recovery_s,
        date_diff('second', started_at, on_site_at) AS on_site_s
    FROM cur WHERE started_at >= p_start
), in_period AS (
    SELECT k, count(*) AS n,
           list(incident_id ORDER BY incident_id) FILTER (WHERE open_at_end) AS open_ids
    FROM cur GROUP BY k
), judged AS (
    SELECT k, count(*) AS n, sum(response_s) AS response_s,
           count(*) FILTER (WHERE kind = 'fault' AND NOT important) AS recovery_n,
           sum(recovery_s) FILTER (WHERE kind = 'fault' AND NOT important) AS recovery_s,
           count(*) FILTER (WHERE kind = 'fault' AND important) AS recovery_imp_n,
           sum(recovery_s) FILTER (WHERE kind = 'fault' AND important) AS recovery_imp_s,
           count(on_site_s) AS on_site_n, max(on_site_s) AS on_site_max,
           list(incident_id ORDER BY incident_id) FILTER (WHERE on_site_s > $on_site_limit)
               AS on_site_late,
           count(*) FILTER (WHERE complaint) AS complaints,
           list(incident_id ORDER BY incident_id) FILTER (WHERE major_loss AND outage)
               AS major_loss
    FROM started GROUP BY k
), to_end AS (
    -- up to each period's end: complaints in the term, 附件1 events in the contract year
    SELECT p.k, count(i.incident_id) FILTER (WHERE i.complaint) AS complaints_in_term,
           list(i.incident_id ORDER BY i.started_at, i.incident_id)
               FILTER (WHERE i.event_level = 'A' AND i.started_at >= $year_start) AS events_a,
           list(i.incident_id ORDER BY i.started_at, i.incident_id)
               FILTER (WHERE i.event_level = 'B' AND i.started_at >= $year_start) AS events_b
    FROM periods p LEFT JOIN inc i ON i.started_at < p.p_end GROUP BY p.k
)
SELECT p.k, coalesce(a.n, 0), coalesce(a.open_ids, []), coalesce(m.outage_s, 0),
       coalesce(j.n, 0), coalesce(j.response_s, 0), coalesce(j.recovery_n, 0),
       coalesce(j.recovery_s, 0), coalesce(j.recovery_imp_n, 0), coalesce(j.recovery_imp_s, 0),
       coalesce(j.on_site_n, 0), j.on_site_max, coalesce(j.on_site_late, []),
       coalesce(j.complaints, 0), t.complaints_in_term, coalesce(j.major_loss, []),
       coalesce(t.events_a, []), coalesce(t.events_b, [])
FROM periods p LEFT JOIN in_period a USING (k) LEFT JOIN merged m USING (k)
     LEFT JOIN judged j USING (k) LEFT JOIN to_end t USING (k)
ORDER BY p.k
"""

EVENTS_SQL = "WITH" + _PERIODS + """
SELECT p.k, i.incident_id, i.system, i.important, i.kind, i.started_at, i.responded_at,
       i.located_at, i.on_site_at, i.recovered_at,
       i.recovered_at IS NULL,
       date_diff('second', i.started_at, coalesce(i.responded_at, greatest(p.p_end,
                                                                          i.started_at))),
       date_diff('second', i.started_at, coalesce(i.located_at, i.recovered_at, p.p_end)),
       date_diff('second', i.started_at, coalesce(i.recovered_at, p.p_end)),
       date_diff('second', i.started_at, i.on_site_at)
FROM periods p JOIN inc i ON i.started_at >= p.p_start AND i.started_at < p.p_end
ORDER BY p.k, i.started_at, i.incident_id
"""

SYSTEMS_SQL = "WITH" + _PERIODS + """, cur AS (
    SELECT p.k, i.system, i.recovered_at IS NULL OR i.recovered_at > p.p_end AS open_at_end,
           date_diff('second', greatest(i.started_at, p.p_start),
                     least(coalesce(i.recovered_at, p.p_end), p.p_end)) AS secs
    FROM periods p JOIN inc i
      ON i.outage AND i.started_at < p.p_end AND coalesce(i.recovered_at, p.p_end) > p.p_start
)
SELECT k, system, count(*), sum(secs), max(secs), bool_or(open_at_end)
FROM cur GROUP BY k, system ORDER BY k, system
"""


def month_figures(store, first: date, last: date, year_start: date,
                  on_site_limit_minutes: int = 120) -> Figures:
    """The service-level figures of the natural days ``first`` .. ``last`` (inclusive).

    ``year_start`` is where the contract year began, for counting 附件1 events.
    """
    return period_figures(store, [(first, last)], year_start, on_site_limit_minutes)[0]


def period_figures(store, periods: list[tuple[date, date]], year_start: date,
                   on_site_limit_minutes: int = 120) -> list[Figures]:
    """:func:`month_figures` of several periods at once, in their order: two statements
    for any number of periods (a nightly report assesses every month of the term so far)."""
    if not periods:
        return []
    spans = [bounds(first, last) for first, last in periods]
    params = {"starts": [s for s, _ in spans], "ends": [e for _, e in spans]}
    rows = store.db.execute(FIGURES_SQL, dict(
        params, year_start=bounds(year_start, year_start)[0],
        on_site_limit=on_site_limit_minutes * 60)).fetchall()
    systems: dict[int, list[SystemOutages]] = {}
    for k, *r in store.db.execute(SYSTEMS_SQL, params).fetchall():
        systems.setdefault(k, []).append(SystemOutages(*r))
    events: dict[int, list[Event]] = {}
    for k, *r in store.db.execute(EVENTS_SQL, params).fetchall():
        events.setdefault(k, []).append(Event(*r))
    out = []
    for (first, last), (start, end), (k, *row) in zip(periods, spans, rows):
        period = int((end - start).total_seconds())
        outage = int(row[2])
        out.append(Figures(
            first, last, period, row[0], list(row[1]), outage,
            Decimal(period - outage) / Decimal(period), row[3], int(row[4]), row[5],
            int(row[6]), row[7], int(row[8]), row[9], None if row[10] is None else int(row[10]),
            list(row[11]), systems.get(k, []), row[12], row[13], list(row[14]), list(row[15]),
            list(row[16]), events.get(k, [])))
    return out


def fmt_time(value: datetime | None) -> str:
    """A time as people read it here: Beijing time to the minute, '-' when there is none."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "-"
