"""Scaling requests (扩容) and the 7-natural-day rule of 附件3 row 4.

The agency asks the provider for more of an item; the provider must make it
available within 7 natural days, and if it still has not after the management
unit's written notice and deadline, a penalty of 20% of the monthly fee applies
(违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数).

Day counting (README "Scaling requests"): dates are natural days in
Asia/Shanghai; the day the request is made is day 0, so the request of
2026-11-02 must be complete on the night of 2026-11-09 (day 7) at the latest.

A request is *completed* on the first night its item's allocated quantity
reaches the target; the completion is final once the target held through the
later of day 7 and that night, so the night of day 7 alone decides whether it
was in time, and a later drop is a revert, never a retroactive "late".  A night
whose pull failed for the item is *unknown*: it neither completes a request nor
breaks one; an unknown night of day 7 leaves the question ``undetermined``.
Nothing here is concluded from data that was not measured, nor from nights
after the one asked about: an item no source measures is ``unverifiable``,
never overdue.

The ledger keeps history: every change to a request is a new revision; the
latest revision counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from recon import cells as cell, codes, labels, store as stored
from recon.errors import InputError
from recon.ledgers import notices as notice_ledger
from recon.money import fmt
from recon.rules import penalty_amount
from recon.progress import SHANGHAI
from recon.textfiles import read_table

DEADLINE_DAYS = 7
#: the nights (days since the request) an open request is warned about (README)
DUE_SOON_DAYS = (5, 6, 7)   # day 7: due tonight

COLUMNS = {
    "request_id": ("申请编号", "request_id"),
    "item_no": ("序号", "item_no"),
    "target": ("目标数量", "target"),
    "increase": ("扩容数量", "increase"),
    "requested_at": ("申请时间", "requested_at"),
    "notice_date": ("书面通知日期", "notice_date"),
    "notice_deadline": ("通知期限", "notice_deadline"),
    "note": ("备注", "note"),
}


@dataclass(frozen=True)
class Request:
    request_id: str
    item_no: int
    target: Decimal | None
    increase: Decimal | None
    requested_at: datetime
    notice_date: date | None = None
    notice_deadline: date | None = None
    note: str = ""
    origin: str = "cli"
    revision: int = 1
    #: the notices ledger's notice the two dates above come from (None: the CSV's columns)
    notice_id: str | None = None

    @property
    def requested_date(self) -> date:
        return self.requested_at.astimezone(SHANGHAI).date()

    @property
    def deadline(self) -> date:
        return self.requested_date + timedelta(days=DEADLINE_DAYS)


@dataclass
class State:
    """Where a request stands on a given night, from what was measured up to that night."""

    request: Request
    as_of: date
    #: pending | partial | completed | late | undetermined | overdue | notice_overdue |
    #: unverifiable (labels.SCALING)
    state: str
    day: int              # natural days since the request (request day = 0)
    target: Decimal | None
    baseline: Decimal | None
    latest: Decimal | None
    best: Decimal | None
    #: the first night of the stretch at the target that completed the request
    completed_on: date | None
    unknown_days: list[date] = field(default_factory=list)
    #: measured nights below the target after the completion became final
    reverted_on: list[date] = field(default_factory=list)
    penalty_applies: bool = False
    #: the night the completion became final (the later of day 7 and completed_on)
    final_on: date | None = None
    #: nights the target was lost again before the completion was final
    dropped_on: list[date] = field(default_factory=list)
    #: the written notice was dated after day 7, so its deadline counts (附件3 row 4)
    notice_counts: bool = False
    #: the notice deadline has passed but its night is unknown: penalty not decidable
    penalty_unknown: bool = False
    #: the earlier open request whose target this increase adds to
    builds_on: str | None = None
    #: the night ``latest`` was measured
    latest_on: date | None = None

# -- parsing ---------------------------------------------------------------------
def make_request(contract, request_id: str, item_no: int, target: str | None,
                 increase: str | None, requested_at: str, notice_date: str | None = None,
                 notice_deadline: str | None = None, note: str = "", origin: str = "cli"
                 ) -> Request:
    """Check one request; raises ValueError with the field name first ("field: why").

    ``contract``: a :class:`recon.contract.Contract`, or the store's
    :class:`recon.contract.Contracts` (the request is then checked against the one in
    force on its day)."""
    if not request_id:
        raise ValueError("request_id: empty")
    try:
        cell.check_text(request_id)
    except ValueError as exc:
        raise ValueError(f"request_id: {exc}") from None
    note, stripped = cell.free_text(note)
    if stripped:
        cell.log.warning("%s: request %s: control characters removed from the note", origin,
                         request_id)
    if bool(target) == bool(increase):
        raise ValueError("target: give exactly one of a target quantity and an increase")
    tgt = inc = None
    try:
        if target:
            tgt = cell.number(target)
            if tgt <= 0:
                raise ValueError(f"must be positive, got {tgt}")
        else:
            inc = cell.number(increase)
            if inc <= 0:
                raise ValueError(f"must be positive, got {inc}")
    except ValueError as exc:
        raise ValueError(f"{'target' if target else 'increase'}: {exc}") from None
    try:
        at = cell.moment(requested_at)
    except ValueError as exc:
        raise ValueError(f"requested_at: {exc}") from None
    # the contract in force that day (a follow-on's term: the follow-on's items)
    judge = contract.judging(at.astimezone(SHANGHAI).date())
    if judge is None:
        raise ValueError(f"requested_at: {at.date()} is outside the contract term "
                         f"({contract.terms})")
    if item_no not in judge.items:
        raise ValueError(f"item_no: item {item_no} is not in the contract")
    dates = {}
    for name, text in (("notice_date", notice_date), ("notice_deadline", notice_deadline)):
        if text:
            try:
                dates[name] = cell.day(text)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
    nd, dl = dates.get("notice_date"), dates.get("notice_deadline")
    if dl and not nd:
        raise ValueError("notice_date: a notice deadline needs the notice's date")
    if nd and nd < at.astimezone(SHANGHAI).date():
        raise ValueError(f"notice_date: {nd} is before the request")
    if nd and dl and dl < nd:
        raise ValueError(f"notice_deadline: {dl} is before the notice {nd}")
    return Request(request_id, item_no, tgt, inc, at, nd, dl, note, origin)


def read_requests(path: Path, contract) -> list[Request]:
    """All rows of a CSV/XLSX ledger file, or an InputError naming the line: all or nothing."""
    table = read_table(path, free=COLUMNS["note"])
    found = table.resolve(COLUMNS, required=("request_id", "item_no", "requested_at"))
    if "target" not in found and "increase" not in found:
        raise InputError(path, "needs a 目标数量 (target) or 扩容数量 (increase) column", line=1,
                         column="目标数量")
    out, seen = [], {}
    for line, cells in table.rows:
        get = lambda k: cells.get(found.get(k, ""), "").strip() if k in found else ""  # noqa
        try:
            try:
                item = cell.whole(get("item_no"))
            except ValueError as exc:
                raise ValueError(f"item_no: {exc}") from None
            req = make_request(contract, get("request_id"), item, get("target") or None,
                               get("increase") or None, get("requested_at"),
                               get("notice_date") or None, get("notice_deadline") or None,
                               get("note"), origin=f"{path.name}:{line}")
        except ValueError as exc:
            field_name, _, why = str(exc).partition(": ")
            raise InputError(path, why, line=line,
                             column=found.get(field_name, field_name)) from None
        if req.request_id in seen:
            raise InputError(path, f"request {req.request_id} appears twice (first on line "
                             f"{seen[req.request_id]})", line=line, column=found["request_id"])
        seen[req.request_id] = line
        out.append(req)
    return out


# -- the ledger in the store ----------------------------------------------------------
def save(store, requests: list[Request]) -> list[str]:
    """Record requests in one transaction; an unchanged request adds no revision.

    Returns the ids that were added or changed.
    """
    db = store.db
    changed = []
    with store.transaction():
        for r in requests:
            current = _latest(store).get(r.request_id)
            fields = (r.item_no, r.target, r.increase, r.requested_at, r.notice_date,
                      r.notice_deadline, r.note)
            if current is not None and (current.item_no, current.target, current.increase,
                                        current.requested_at, current.notice_date,
                                        current.notice_deadline, current.note) == fields:
                continue
            revision = current.revision + 1 if current else 1
            stored.insert(db, "scaling_requests",
                          ("request_id", "revision", "item_no", "target", "increase",
                           "requested_at", "requested_date", "notice_date", "notice_deadline",
                           "note", "origin"),
                          [[r.request_id, revision, r.item_no,
                        None if r.target is None else str(r.target),
                        None if r.increase is None else str(r.increase),
                        r.requested_at, r.requested_date, r.notice_date, r.notice_deadline,
                            r.note, r.origin]], now=True)
            changed.append(r.request_id)
    return changed


def _latest(store) -> dict[str, Request]:
    rows = store.db.execute("""
        SELECT request_id, item_no, target, increase, requested_at, notice_date,
               notice_deadline, note, origin, revision
        FROM scaling_requests
        QUALIFY revision = max(revision) OVER (PARTITION BY request_id)
        ORDER BY requested_at, request_id
    """).fetchall()
    return {r[0]: Request(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7] or "", r[8] or "", r[9])
            for r in rows}


def requests(store) -> list[Request]:
    return list(_latest(store).values())


def history(store, request_id: str) -> list[tuple]:
    return store.db.execute("SELECT revision, recorded_at, origin, item_no, target, increase, "
                            "requested_at, notice_date, notice_deadline, note "
                            "FROM scaling_requests WHERE request_id = ? ORDER BY revision",
                            [request_id]).fetchall()


# -- state ---------------------------------------------------------------------------
#: an unlimited allocation (quota -1): every target is reached
UNLIMITED = Decimal("Infinity")


def allocation_series(store, item_no: int, start: date, end: date) -> dict[date, Decimal | None]:
    """Allocated per night from ``start`` to ``end``; None where the night is unknown or missing.

    A night whose allocation was measured as unlimited (不限) is :data:`UNLIMITED`: the
    provider capped nothing, so the request's target is available that night.
    """
    got = dict(store.db.execute(
        "SELECT snapshot_date, CASE WHEN unlimited THEN 'Infinity' ELSE allocated::VARCHAR END "
        "FROM item_days WHERE item_no = ? AND snapshot_date BETWEEN ? AND ? "
        "AND (allocated IS NOT NULL OR unlimited)", [item_no, start, end]).fetchall())
    got = {d: Decimal(v) for d, v in got.items()}
    return {start + timedelta(days=n): got.get(start + timedelta(days=n))
            for n in range((end - start).days + 1)}


def baseline_of(store, contract, req: Request) -> Decimal:
    """What an increase is added to: the allocation on the last measured night before
    the request, or the contracted quantity that day when none was measured."""
    row = store.db.execute(
        "SELECT allocated FROM item_days WHERE item_no = ? AND snapshot_date < ? "
        "AND allocated IS NOT NULL ORDER BY snapshot_date DESC LIMIT 1",
        [req.item_no, req.requested_date]).fetchall()
    return row[0][0] if row else contract.quantity_on(req.item_no, req.requested_date)


def complete_by(series: dict[date, Decimal | None], target: Decimal, day7: date,
                night: date) -> bool | None:
    """Was the request complete on ``night`` (day 7 or later)? True, False, or None: unknown.

    A completion counts once the target held through the later of day 7 and the
    completion night, so "complete by night N" is: some night from day 7 to N
    measured at the target.  False needs every one of those nights measured
    below it; an unknown night among them leaves the question open.
    """
    values = [series.get(day7 + timedelta(days=n)) for n in range((night - day7).days + 1)]
    if any(a is not None and a >= target for a in values):
        return True
    return None if any(a is None for a in values) else False


def evaluate(req: Request, series: dict[date, Decimal | None], as_of: date,
             target: Decimal | None, baseline: Decimal | None, measurable: bool,
             builds_on: str | None = None) -> State:
    """Pure: the state of one request on night ``as_of`` from its item's allocation series.

    Only nights from day 0 to ``as_of`` are looked at, so a later night never
    changes the answer for an earlier one.  Before day 7 a request whose target
    is measured is ``completed`` but not yet final: a drop before day 7 reopens
    it.  From day 7 on, whether it was done in time is decided by the night of
    day 7 alone (see :func:`complete_by`): measured at the target, completed;
    measured below, late or overdue; unknown, ``undetermined``.
    """
    d0, day7 = req.requested_date, req.deadline
    day = (as_of - d0).days
    nights = [(d0 + timedelta(days=n), series.get(d0 + timedelta(days=n)))
              for n in range(max(day + 1, 0))]
    measured = [(d, a) for d, a in nights if a is not None]
    unknown = [d for d, a in nights if a is None]
    if not measurable or target is None:
        return State(req, as_of, "unverifiable", day, target, baseline, None, None, None,
                     unknown, builds_on=builds_on)
    latest_on, latest = measured[-1] if measured else (None, None)
    best = max((a for _, a in measured), default=None)

    def run_start(end: date) -> date | None:
        """The first night at the target in the stretch up to ``end`` with no night below it."""
        start = None
        for d, a in measured:
            if d > end:
                break
            if a < target:
                start = None
            elif start is None:
                start = d
        return start

    completed_on = final_on = None
    v7 = series.get(day7) if as_of >= day7 else None
    if v7 is not None and v7 >= target:
        state, completed_on, final_on = "completed", run_start(day7), day7
    elif as_of <= day7:          # the night of day 7 still belongs to the provider
        if latest is not None and latest >= target:
            completed_on = run_start(as_of)
        state = "completed" if completed_on else (
            "partial" if best is not None and baseline is not None and best > baseline
            else "pending")
    else:
        after = next((d for d, a in measured if d > day7 and a >= target), None)
        if after is not None:
            state = "late" if v7 is not None else "undetermined"
            completed_on = final_on = after
        else:
            state = "overdue" if v7 is not None else "undetermined"
    reached = False
    dropped, reverted = [], []
    for d, a in measured:
        if final_on is not None and d > final_on:
            if a < target:
                reverted.append(d)
        elif a >= target:
            reached = True
        elif reached:
            dropped.append(d)
            reached = False
    notice_counts = bool(req.notice_deadline and req.notice_date and req.notice_date > day7)
    penalty = penalty_unknown = False
    if notice_counts and as_of > req.notice_deadline:
        by_notice = complete_by(series, target, day7, req.notice_deadline)
        penalty, penalty_unknown = by_notice is False, by_notice is None
        if penalty and state == "overdue":
            state = "notice_overdue"
    return State(req, as_of, state, day, target, baseline, latest, best, completed_on,
                 unknown, reverted, penalty, final_on=final_on, dropped_on=dropped,
                 notice_counts=notice_counts, penalty_unknown=penalty_unknown,
                 builds_on=builds_on, latest_on=latest_on)


def states(store, contract, as_of: date, made: list[Request] | None = None) -> list[State]:
    """Every request made in ``contract``'s term on or before ``as_of``, evaluated on that
    night.  ``made``: the ledger's requests (:func:`requests`) when the caller has read them
    already (a night evaluates 13 months: one read, not 13).

    An increase made while an earlier request on the same item is still open
    (not at its target on the last night before) adds to that request's
    target: two requests of +100 need +200 together.
    """
    # a request belongs to the contract in whose term it was made: a follow-on contract
    # (第十三条 2) sharing the store does not inherit the clocks of the one before
    made = [r for r in (requests(store) if made is None else made)
            if contract.start <= r.requested_date <= as_of]
    if not made:  # most nights: no request, and nothing else to read (a night asks 13 months)
        return []
    # a notice sent by then under this contract wins
    sent = notice_ledger.scaling_notices(store, as_of, contract.owner)
    reqs = [notice_ledger.applied(r, sent.get(r.request_id)) for r in made]
    reqs.sort(key=lambda r: (r.requested_at, r.request_id))
    measured = dict(store.db.execute(
        "SELECT item_no, count(*) FROM item_days WHERE (allocated IS NOT NULL OR unlimited) "
        "AND snapshot_date <= ? GROUP BY item_no", [as_of]).fetchall())
    targets: dict[str, Decimal | None] = {}
    out = []
    for i, req in enumerate(reqs):
        measurable = contract.items[req.item_no].source != "none" and bool(
            measured.get(req.item_no))
        base = baseline_of(store, contract, req)
        builds_on = None
        if req.target is not None:
            target = req.target
        else:
            stack_on = base
            night_before = req.requested_date - timedelta(days=1)
            for earlier in reqs[:i]:
                t = targets[earlier.request_id]
                if earlier.item_no != req.item_no or t is None or t <= stack_on:
                    continue
                before = evaluate(earlier, allocation_series(
                    store, earlier.item_no, earlier.requested_date, night_before),
                    night_before, t, None, True)
                if before.completed_on is None:       # still open when this one was made
                    stack_on, builds_on = t, earlier.request_id
            target = stack_on + req.increase if stack_on is not None else None
        targets[req.request_id] = target
        series = allocation_series(store, req.item_no, req.requested_date, as_of)
        out.append(evaluate(req, series, as_of, target, base, measurable, builds_on))
    return out


# -- penalties (附件3 row 4, 第十二条) ----------------------------------------------------
def penalty(contract, item_no: int, basis: str, coefficient: Decimal) -> Decimal:
    """附件3 row 4's penalty (recon.rules.penalty_amount, with the row's coefficient from
    assessment.toml); the fee is the contract total, or the item's line total
    (``basis = "item"``)."""
    fee = contract.total if basis == "contract" else contract.items[item_no].line_total
    return penalty_amount(fee, contract.months, coefficient)



# -- the night's findings --------------------------------------------------------------
def fmt_q(value) -> str:
    if value is None:
        return "-"
    if value == UNLIMITED:
        return "unlimited"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _allocation_text(st: State, unit: str) -> str:
    """The allocation as last measured, dated unless it was measured tonight."""
    if st.latest_on is None:
        return "尚无实测分配"
    if st.latest_on == st.as_of:
        return f"当前分配 {labels.qty(st.latest, unit)}"
    return f"最近一次实测分配 {labels.qty(st.latest, unit)}（{st.latest_on}）"


def _notice_id(r: Request) -> str:
    return f"（{r.notice_id}）" if r.notice_id else ""


def _days(ds: list[date]) -> str:
    return "、".join(d.isoformat() for d in ds)


def findings(store, contract, day: date, basis: str, coefficient: Decimal) -> list[tuple]:
    """(code, severity, item_no, message, figures) for the night ``day``.

    Every sentence is true on the night it is shown: it names the night of
    day 7 and the days left, not "today"; an unknown night is named as such.
    """
    out = []
    for st in states(store, contract, day):
        r = st.request
        name = contract.items[r.item_no].short_name
        figures = {"request_id": r.request_id, "requested_date": r.requested_date.isoformat(),
                   "day": st.day, "deadline": r.deadline.isoformat(), "state": st.state,
                   "target": fmt_q(st.target), "latest": fmt_q(st.latest),
                   "best": fmt_q(st.best), "baseline": fmt_q(st.baseline),
                   "builds_on": st.builds_on,
                   "completed_on": st.completed_on.isoformat() if st.completed_on else None,
                   "final_on": st.final_on.isoformat() if st.final_on else None,
                   "unknown_days": [d.isoformat() for d in st.unknown_days],
                   "dropped_on": [d.isoformat() for d in st.dropped_on],
                   "reverted_on": [d.isoformat() for d in st.reverted_on],
                   "notice_counts": st.notice_counts}
        unit = contract.items[r.item_no].unit
        latest = labels.qty(st.latest, unit)
        unknown = f"；其间 {_days(st.unknown_days)} 未能采集" if st.unknown_days else ""
        head = f"扩容申请 {r.request_id}（第{r.item_no}项 {name}，目标 {labels.qty(st.target, unit)}）"
        day7 = f"{r.deadline:%m-%d} 晚（第7天）"
        notice = ""
        if r.notice_deadline and not st.notice_counts:
            notice = (f"；书面通知日期 {r.notice_date} 不晚于第7天，不构成附件3第4条所述的"
                      f"限期通知，其期限 {r.notice_deadline} 不引起违约金")
        elif st.penalty_unknown:
            notice = (f"；书面通知期限 {r.notice_deadline} 已过，但第7天至该期限之间有夜晚未能采集、"
                      f"且无一晚实测达到目标，是否适用附件3第4条违约金无法判定，请人工核实")
        if st.penalty_applies:
            amount = penalty(contract, r.item_no, basis, coefficient)
            figures["penalty"] = str(amount)
            fine = f"违约金 {fmt(amount)} 元"
        if st.state == "unverifiable":
            out.append(codes.finding("scaling_unverifiable", r.item_no,
                        f"{head}：本项至今没有任何数据源计量到分配数量，无法核实，请人工确认",
                        figures))
        elif st.state == "notice_overdue":
            out.append(codes.finding("scaling_notice_overdue", r.item_no,
                        f"{head}：书面通知{_notice_id(r)}期限 {r.notice_deadline} 已过仍未完成，适用附件3第4条"
                        f"（{fine}）；{_allocation_text(st, unit)}{unknown}",
                        figures))
        elif st.state == "overdue":
            out.append(codes.finding("scaling_overdue", r.item_no,
                        f"{head}：已第 {st.day} 天，{day7}实测分配低于目标，未在 7 个自然日内"
                        f"完成；{_allocation_text(st, unit)}{unknown}{notice}", figures))
        elif st.state in ("pending", "partial") and st.day in DUE_SOON_DAYS:
            left = (f"剩 {DEADLINE_DAYS - st.day} 天" if st.day < DEADLINE_DAYS else
                    "今日为第 7 天，今晚到期")
            out.append(codes.finding("scaling_due_soon", r.item_no,
                        f"{head}：第 {st.day} 天，须于 {day7}前完成，{left}；"
                        f"{_allocation_text(st, unit)}{unknown}",
                        figures))
        elif st.state == "undetermined" and (st.completed_on is None or st.completed_on == day):
            now = (f"于 {st.completed_on} 实测达到目标" if st.completed_on else
                   f"此后仍未达到目标，{_allocation_text(st, unit)}")
            out.append(codes.finding("scaling_undetermined", r.item_no,
                        f"{head}：{day7}未能采集，是否在 7 个自然日内完成无法判定（不认定按期，"
                        f"也不认定超期）；{now}{unknown}{notice}", figures))
        elif st.state == "late" and st.completed_on == day:
            out.append(codes.finding("scaling_late", r.item_no,
                        f"{head}：于 {st.completed_on} 完成，晚于 7 个自然日期限 {r.deadline}"
                        f"{unknown}{notice}", figures))
        if st.state == "late" and st.penalty_applies and st.completed_on == day:
            out.append(codes.finding("scaling_notice_overdue", r.item_no,
                        f"{head}：完成日 {st.completed_on} 晚于书面通知{_notice_id(r)}期限 {r.notice_deadline}，"
                        f"适用附件3第4条（{fine}）", figures))
        if day in st.reverted_on:
            how = "按期" if st.state == "completed" else "已"
            out.append(codes.finding("scaling_reverted", r.item_no,
                        f"{head}：{how}于 {st.completed_on} 完成，{day} 实测分配 "
                        f"{latest} 又低于目标：扩容后被收回（不追溯为延期，"
                        f"不计违约金）", figures))
    return out


def flag(store, contract, day: date, basis: str, coefficient: Decimal) -> int:
    """Replace the night's scaling findings (in the caller's transaction when there is one:
    they commit with the night); returns how many were written."""
    db = store.db
    with store.transaction():
        rows = findings(store, contract, day, basis, coefficient)
        db.execute("DELETE FROM findings WHERE snapshot_date = ? AND code LIKE 'scaling_%'", [day])
        stored.insert(db, "findings", ("snapshot_date", "code", "severity", "item_no", "source",
                                       "message", "figures"),
                      [[day, code, sev, item, "scaling", msg,
                        json.dumps(figures, ensure_ascii=False)]
                       for code, sev, item, msg, figures in rows])
    return len(rows)
