"""Scaling requests (扩容) and the 7-natural-day rule of 附件3 row 4.

The agency asks the provider for more of an item; the provider must make it
available within 7 natural days, and if it still has not after the management
unit's written notice and deadline, a penalty of 20% of the monthly fee applies
(违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数).

Day counting (README "Scaling requests"): dates are natural days in
Asia/Shanghai; the day the request is made is day 0, so the request of
2026-11-02 must be complete on the night of 2026-11-09 (day 7) at the latest.

A request is *completed* on the first night its item's allocated quantity
reaches the target and stays there on every later measured night.  A night
whose pull failed for the item is *unknown*: it neither completes a request
nor breaks one, and the report lists such nights.  Nothing here is concluded
from data that was not measured: an item no source measures is
``unverifiable``, never overdue.

The ledger keeps history: every change to a request is a new revision; the
latest revision counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from recon import labels
from recon.errors import InputError
from recon.money import cents, fmt
from recon.progress import SHANGHAI
from recon.textfiles import read_table

DEADLINE_DAYS = 7
WARN_DAYS_BEFORE = 2

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

    @property
    def requested_date(self) -> date:
        return self.requested_at.astimezone(SHANGHAI).date()

    @property
    def deadline(self) -> date:
        return self.requested_date + timedelta(days=DEADLINE_DAYS)


@dataclass
class State:
    """Where a request stands on a given night."""

    request: Request
    as_of: date
    state: str            # pending | partial | completed | late | overdue | notice_overdue | unverifiable
    day: int              # natural days since the request (request day = 0)
    target: Decimal | None
    baseline: Decimal | None
    latest: Decimal | None
    best: Decimal | None
    completed_on: date | None
    unknown_days: list[date] = field(default_factory=list)
    reverted_on: list[date] = field(default_factory=list)
    penalty_applies: bool = False

    @property
    def open(self) -> bool:
        return self.completed_on is None and self.state != "unverifiable"


# -- parsing ---------------------------------------------------------------------
def parse_time(text: str) -> datetime:
    """'2026-11-02', '2026-11-02 10:30' or an ISO time; naive means Asia/Shanghai."""
    text = text.strip().replace("/", "-")
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), time(0))
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date or time (YYYY-MM-DD[ HH:MM]): {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return value


def make_request(contract, request_id: str, item_no: int, target: str | None,
                 increase: str | None, requested_at: str, notice_date: str | None = None,
                 notice_deadline: str | None = None, note: str = "", origin: str = "cli"
                 ) -> Request:
    """Check one request; raises ValueError with the field name first ("field: why")."""
    if not request_id:
        raise ValueError("request_id: empty")
    if item_no not in contract.items:
        raise ValueError(f"item_no: item {item_no} is not in the contract")
    if bool(target) == bool(increase):
        raise ValueError("target: give exactly one of a target quantity and an increase")
    tgt = inc = None
    try:
        if target:
            tgt = _decimal(target)
            if tgt <= 0:
                raise ValueError(f"must be positive, got {tgt}")
        else:
            inc = _decimal(increase)
            if inc <= 0:
                raise ValueError(f"must be positive, got {inc}")
    except ValueError as exc:
        raise ValueError(f"{'target' if target else 'increase'}: {exc}") from None
    try:
        at = parse_time(requested_at)
    except ValueError as exc:
        raise ValueError(f"requested_at: {exc}") from None
    if not contract.in_term(at.astimezone(SHANGHAI).date()):
        raise ValueError(f"requested_at: {at.date()} is outside the contract term")
    dates = {}
    for name, text in (("notice_date", notice_date), ("notice_deadline", notice_deadline)):
        if text:
            try:
                dates[name] = date.fromisoformat(text.strip().replace("/", "-"))
            except ValueError:
                raise ValueError(f"{name}: not a date (YYYY-MM-DD): {text!r}") from None
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
    table = read_table(path)
    found = table.resolve(COLUMNS, required=("request_id", "item_no", "requested_at"))
    if "target" not in found and "increase" not in found:
        raise InputError(path, "needs a 目标数量 (target) or 扩容数量 (increase) column", line=1,
                         column="目标数量")
    out, seen = [], {}
    for line, cells in table.rows:
        get = lambda k: cells.get(found.get(k, ""), "").strip() if k in found else ""  # noqa
        try:
            try:
                item = int(_decimal(get("item_no")))
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
    db.execute("BEGIN")
    try:
        for r in requests:
            current = _latest(store).get(r.request_id)
            fields = (r.item_no, r.target, r.increase, r.requested_at, r.notice_date,
                      r.notice_deadline, r.note)
            if current is not None and (current.item_no, current.target, current.increase,
                                        current.requested_at, current.notice_date,
                                        current.notice_deadline, current.note) == fields:
                continue
            revision = current.revision + 1 if current else 1
            db.execute("INSERT INTO scaling_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                       [r.request_id, revision, r.item_no,
                        None if r.target is None else str(r.target),
                        None if r.increase is None else str(r.increase),
                        r.requested_at, r.requested_date, r.notice_date, r.notice_deadline,
                        r.note, r.origin])
            changed.append(r.request_id)
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
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
def allocation_series(store, item_no: int, start: date, end: date) -> dict[date, Decimal | None]:
    """Allocated per night from ``start`` to ``end``; None where the night is unknown or missing."""
    got = dict(store.db.execute(
        "SELECT snapshot_date, allocated FROM item_days WHERE item_no = ? "
        "AND snapshot_date BETWEEN ? AND ?", [item_no, start, end]).fetchall())
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


def evaluate(req: Request, series: dict[date, Decimal | None], as_of: date,
             baseline: Decimal | None, measurable: bool) -> State:
    """Pure: the state of one request on night ``as_of`` from its item's allocation series."""
    target = req.target if req.target is not None else (
        baseline + req.increase if baseline is not None else None)
    day = (as_of - req.requested_date).days
    nights = sorted((d, a) for d, a in series.items() if req.requested_date <= d <= as_of)
    measured = [(d, a) for d, a in nights if a is not None]
    unknown = [d for d, a in nights if a is None]
    if not measurable or target is None:
        return State(req, as_of, "unverifiable", day, target, baseline, None, None, None, unknown)
    below = [d for d, a in measured if a < target]
    last_below = below[-1] if below else None
    reached = [d for d, a in measured if a >= target and (last_below is None or d > last_below)]
    completed_on = reached[0] if reached else None
    reverted, was_at = [], False
    for d, a in measured:
        if a >= target:
            was_at = True
        elif was_at:
            reverted.append(d)
            was_at = False
    latest = measured[-1][1] if measured else None
    best = max((a for _, a in measured), default=None)
    deadline_day = req.requested_date + timedelta(days=DEADLINE_DAYS)
    if completed_on is not None:
        state = "completed" if completed_on <= deadline_day else "late"
        penalty = bool(req.notice_deadline and completed_on > req.notice_deadline)
    else:
        penalty = bool(req.notice_deadline and as_of > req.notice_deadline)
        if penalty:
            state = "notice_overdue"
        elif day > DEADLINE_DAYS:
            state = "overdue"
        elif best is not None and baseline is not None and best > baseline:
            state = "partial"
        else:
            state = "pending"
    return State(req, as_of, state, day, target, baseline, latest, best, completed_on,
                 unknown, reverted, penalty)


def states(store, contract, as_of: date) -> list[State]:
    """Every request made on or before ``as_of``, evaluated on that night."""
    out = []
    for req in requests(store):
        if req.requested_date > as_of:
            continue
        measured_ever = store.db.execute(
            "SELECT count(*) FROM item_days WHERE item_no = ? AND allocated IS NOT NULL",
            [req.item_no]).fetchall()[0][0] > 0
        measurable = contract.items[req.item_no].source != "none" and measured_ever
        base = baseline_of(store, contract, req)
        series = allocation_series(store, req.item_no, req.requested_date, as_of)
        out.append(evaluate(req, series, as_of, base, measurable))
    return out


# -- penalties (附件3 row 4, 第十二条) ----------------------------------------------------
def penalty(contract, item_no: int, basis: str = "contract", coefficient=Decimal("0.20")
            ) -> Decimal:
    """违约金 = 信息系统云服务费 / 服务月数 x 20%; the fee is the contract total by default,
    or the item's line total (``basis = "item"``)."""
    fee = contract.total if basis == "contract" else contract.items[item_no].line_total
    return cents(fee / contract.months * Decimal(coefficient))


def penalty_cap(contract) -> Decimal:
    """第十二条: penalties above 10% of the contract total allow termination."""
    return cents(contract.total * Decimal("0.10"))


# -- the night's findings --------------------------------------------------------------
def _fmt_q(value) -> str:
    if value is None:
        return "-"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _days(ds: list[date]) -> str:
    return "、".join(d.isoformat() for d in ds)


def findings(store, contract, day: date, basis: str = "contract",
             coefficient=Decimal("0.20")) -> list[tuple]:
    """(code, severity, item_no, message, figures) for the night ``day``."""
    out = []
    for st in states(store, contract, day):
        r = st.request
        name = contract.items[r.item_no].short_name
        figures = {"request_id": r.request_id, "requested_date": r.requested_date.isoformat(),
                   "day": st.day, "deadline": r.deadline.isoformat(), "state": st.state,
                   "target": _fmt_q(st.target), "latest": _fmt_q(st.latest),
                   "best": _fmt_q(st.best), "baseline": _fmt_q(st.baseline),
                   "completed_on": st.completed_on.isoformat() if st.completed_on else None,
                   "unknown_days": [d.isoformat() for d in st.unknown_days],
                   "reverted_on": [d.isoformat() for d in st.reverted_on]}
        unit = contract.items[r.item_no].unit
        latest = labels.qty(st.latest, unit)
        unknown = f"；其间 {_days(st.unknown_days)} 未能采集" if st.unknown_days else ""
        head = f"扩容申请 {r.request_id}（第{r.item_no}项 {name}，目标 {labels.qty(st.target, unit)}）"
        if st.penalty_applies:
            amount = penalty(contract, r.item_no, basis, coefficient)
            figures["penalty"] = str(amount)
            fine = f"违约金 {fmt(amount)} 元"
        if st.state == "unverifiable":
            out.append(("scaling_unverifiable", "info", r.item_no,
                        f"{head}：本项没有任何数据源计量分配数量，无法核实，请人工确认", figures))
        elif st.state == "notice_overdue":
            out.append(("scaling_notice_overdue", "critical", r.item_no,
                        f"{head}：书面通知期限 {r.notice_deadline} 已过仍未完成，适用附件3第4条"
                        f"（{fine}）；当前分配 {latest}{unknown}",
                        figures))
        elif st.state == "overdue":
            out.append(("scaling_overdue", "critical", r.item_no,
                        f"{head}：已第 {st.day} 天，超过 7 个自然日（{r.deadline}）仍未完成；"
                        f"当前分配 {latest}{unknown}", figures))
        elif st.state in ("pending", "partial") and \
                st.day >= DEADLINE_DAYS - WARN_DAYS_BEFORE:
            out.append(("scaling_due_soon", "warning", r.item_no,
                        f"{head}：第 {st.day} 天，须于 {r.deadline} 前完成；当前分配 "
                        f"{latest}{unknown}", figures))
        elif st.state == "late" and st.completed_on == day:
            out.append(("scaling_late", "warning", r.item_no,
                        f"{head}：于 {st.completed_on} 完成，晚于 7 个自然日期限 {r.deadline}"
                        f"{unknown}", figures))
        if st.state == "late" and st.penalty_applies and st.completed_on == day:
            out.append(("scaling_notice_overdue", "critical", r.item_no,
                        f"{head}：完成日 {st.completed_on} 晚于书面通知期限 {r.notice_deadline}，"
                        f"适用附件3第4条（{fine}）", figures))
    return out


def flag(store, contract, day: date, basis: str = "contract",
         coefficient=Decimal("0.20")) -> int:
    """Replace the night's scaling findings; returns how many were written."""
    import json

    rows = findings(store, contract, day, basis, coefficient)
    db = store.db
    db.execute("BEGIN")
    try:
        db.execute("DELETE FROM findings WHERE snapshot_date = ? AND code LIKE 'scaling_%'", [day])
        for code, sev, item, msg, figures in rows:
            db.execute("INSERT INTO findings VALUES (?, ?, ?, ?, 'scaling', ?, ?, NULL)",
                       [day, code, sev, item, msg, json.dumps(figures, ensure_ascii=False)])
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    return len(rows)
