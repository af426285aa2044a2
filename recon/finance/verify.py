"""Verify a billing statement line by line against the contract and the store.

The rules (docs/finance.md states them with a worked example):

* **Price.**  The contract's unit prices cover the whole 12-month term and
  include tax (第二条, 第七条).  A line bills unit price x quantity x the
  period's *share of the term*, counted as the nightly reconciliation counts
  it: each natural day is 1/12 of its calendar month's share
  (:func:`recon.contract.day_share`), so a whole month is 1/12 and a partial
  month is prorated by its days.  Everything is computed exactly (fractions of
  Decimal amounts) and rounded half-up to the fen only where an amount is
  written: the line's amounts, never the days behind them.
* **Tax.**  Where the statement has tax columns, 价税合计 is what the line
  bills (tax included, as the contract prices), 金额 + 税额 = 价税合计 and
  金额 = 价税合计 / (1 + 税率) to the fen (how invoicing software computes).
  Without them 金额 is what the line bills.
* **Accepted amount.**  Day by day over the line's period: on a night the
  store measured the item, the lower of the billed and the contract unit
  price x the lowest of the billed quantity, the quantity allocated that
  night and the contracted quantity in force (supplementary contracts
  applied) x the day's share.  A night with no data for the item (a failed or
  rejected pull, no run, or an item no source measures) is *unknown*: its
  value (the same formula with the allocation left out) is listed apart and
  counted neither as delivered nor as undelivered.  It is written as
  (accepted + unknown, rounded) - accepted, so the two written amounts add up
  to the rounded whole.  difference = billed - accepted - unknown value.

Line status codes (stable; JSON, the workbook and tests key on them; labels
in :data:`recon.labels.FINANCE_STATUS`): ``ok``, ``price_mismatch``,
``quantity_over_contract``, ``billed_over_delivered``, ``arithmetic_error``,
``unknown_item``, ``daxie_mismatch``, ``outside_term`` (the line bills days outside the
service term: nothing is contracted on them, and the quantity is judged against the
contract over the line's days inside the term only), ``unverified`` (no night of the
line's days in the term was measured: nothing of it could be verified, and "nothing
found" is never "核对无误"); per statement ``missing_item``.

A night behind a line is ``measured``, or it says why it is not: ``unknown`` (采集失败:
the night ran, the item's source failed or was rejected), ``not_run`` (未运行: no night
stored for the day), ``future`` (未到: after the newest stored night, or still to come),
``not_measured`` (no source measures the item's allocation), ``outside_term``.

Penalties are not a verification's business: they are deducted once, in the final
settlement (第七条, ``recon finance settle``).  A verification shows the penalty ledger
as concluded for the period's end as information, and its verdict and exit code depend
on the statement's lines alone.
"""
from __future__ import annotations

import calendar
import hashlib
import json
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import (Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow,
                     localcontext)
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from recon import conclude, labels, store as stored
from recon.contract import day_share
from recon.penalties import PenaltyLine
from recon.finance.statements import Statement, StatementLine
from recon.money import cents, daxie, daxie_matches
from recon.progress import SHANGHAI

LINE_STATUSES = ("ok", "outside_term", "price_mismatch", "quantity_over_contract",
                 "billed_over_delivered", "arithmetic_error", "unknown_item", "daxie_mismatch",
                 "unverified")
#: the nights a line's value could not be verified on (valued apart, recon.codes.NIGHT_STATE)
UNVERIFIED_STATES = ("unknown", "not_run", "future", "not_measured")
#: quantities shown day-weighted are exact fractions; written to this many places
QTY_PLACES = Decimal("0.000001")


def fen(x: Fraction) -> Decimal:
    """An exact amount written to the fen, half up (money.cents is the one rounding rule)."""
    return cents(Decimal(x.numerator) / Decimal(x.denominator))


def qty(x: Fraction) -> Decimal:
    """A day-weighted quantity to 1e-6, without trailing zeros (90, not 90.000000 or 9E+1)."""
    d = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(QTY_PLACES)
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()


@dataclass
class Evidence:
    """Consecutive nights behind a line alike in everything its figures depend on: one row
    of evidence instead of one per night (a month's line is 1-3 of them, not 30).  The
    per-night values are exact; the run's are those times ``nights``."""
    first: date
    last: date
    share: Fraction            # each night's share of the term
    contracted: Decimal
    allocated: Decimal | None
    state: str                 # measured | unknown | not_run | future | not_measured | outside_term
    accepted: Fraction         # value accepted each night (measured nights)
    unknown: Fraction          # value at stake each night (unknown / not measured nights)

    @property
    def nights(self) -> int:
        return (self.last - self.first).days + 1


@dataclass
class LineResult:
    source: StatementLine
    item_no: int | None        # resolved (by 序号 or by name); None: unknown item
    item_name: str
    unit: str
    contract_price: Decimal | None
    share: Fraction
    billed: Decimal            # what the line bills, tax included
    expected: Decimal          # billed unit price x quantity x share, to the fen
    contracted_qty: Decimal | None   # day-weighted over the period
    delivered_qty: Decimal | None    # day-weighted over measured nights, capped
    accepted: Decimal
    unknown_value: Decimal
    difference: Decimal
    price_difference: Decimal
    statuses: list[str]
    notes: list[str]
    runs: list[Evidence] = field(default_factory=list)

    @property
    def unknown_days(self) -> list[date]:
        return [d for r in self.runs if r.state in UNVERIFIED_STATES
                for d in _days(r.first, r.last)]

    @property
    def ok(self) -> bool:
        return self.statuses == ["ok"]


@dataclass
class Verification:
    statement: Statement
    lines: list[LineResult]
    missing_items: list[int]
    #: the penalty ledger as concluded for the period's end: information only, deducted
    #: once in the final settlement (recon.finance.settlement), never from a statement
    penalties: list[PenaltyLine]
    penalty_total: Decimal        # their counted total, as the store sums it
    #: the statement's own 合计 row against its lines: arithmetic_error, daxie_mismatch
    total_statuses: list[str] = field(default_factory=list)
    total_notes: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> list[str]:
        return (["missing_item"] if self.missing_items else []) + self.total_statuses

    @property
    def ok(self) -> bool:
        return all(ln.ok for ln in self.lines) and not self.statuses

    def total(self, attr: str) -> Decimal:
        return sum((getattr(ln, attr) for ln in self.lines), Decimal(0))


# -- the store ----------------------------------------------------------------------
@dataclass(frozen=True)
class Nights:
    """Which days the store has a night for, and the newest: what tells a night that never
    ran from one still to come."""
    ran: frozenset
    newest: date | None
    today: date

    def missing(self, day: date) -> str:
        """Why a day has no stored row: ``future`` (after the newest night, or after today)
        or ``not_run``; a day whose night ran without a row for the item is ``unknown``."""
        if day in self.ran:
            return "unknown"
        if day > self.today or (self.newest is not None and day > self.newest):
            return "future"
        return "not_run"


def stored_nights(store, today: date | None = None) -> Nights:
    dates = store.snapshot_dates()
    return Nights(frozenset(dates), dates[-1] if dates else None,
                  today or datetime.now(SHANGHAI).date())


def delivered_on(night: dict | None, contracted: Decimal, source: str,
                 missing: str = "unknown") -> tuple[str, Decimal | None]:
    """(state, allocated) of one night: what the store lets finance count as delivered.

    ``measured`` with the allocated quantity; an allocation of basis
    ``unlimited`` (a -1 quota) delivers the whole contracted quantity.
    ``unknown`` (采集失败): the night's pull failed or was rejected.  No row at all:
    ``missing`` (:meth:`Nights.missing`: ``not_run`` or ``future``).
    ``not_measured``: no source measures the item, or its source sees only
    use (no allocation figure): nothing can be said about delivery.
    """
    if source == "none" or (night and night["status"] == "not_measured"):
        return "not_measured", None
    if night is None:
        return missing, None
    if night["status"] == "unknown":
        return "unknown", None
    if night["allocated"] is not None:
        return "measured", night["allocated"]
    if night.get("allocated_basis") == "unlimited":
        return "measured", contracted
    return "not_measured", None


def ledger_for_information(store, end: date) -> list:
    """The penalty ledger (recon.penalties: scaling, service levels, the monthly rule) as
    concluded for ``end``: shown beside a verification, deducted only in the final
    settlement (第七条; recon.finance.settlement)."""
    return conclude.ledger(store, end)


# -- the nights behind a statement: read once, shared by its lines ----------------------
ZERO = Decimal(0)
#: quantities are added and compared as Decimals (fast, and exact: an inexact step would
#: raise, never round); shares stay exact fractions, summed once per line
EXACT = Context(prec=400, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])


@dataclass
class Run:
    """Consecutive days of one item alike in everything a line's figures depend on: the
    day's share of the term (1/``den``), the contracted quantity, the night's state and
    allocation, and what the statement's earlier lines billed (``billed``) and were accepted
    for (``delivered``) on each of them.  A line is computed once per run, not per day."""
    first: date
    last: date
    den: int
    contracted: Decimal
    state: str                 # as Evidence.state
    allocated: Decimal | None
    billed: Decimal = ZERO
    delivered: Decimal = ZERO

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def cut(self, day: date) -> "Run":
        """Split before ``day``: this run keeps the days before it, the one returned the rest."""
        tail = Run(day, self.last, self.den, self.contracted, self.state, self.allocated,
                   self.billed, self.delivered)
        self.last = day - timedelta(days=1)
        return tail


class Timeline:
    """One contract item's days over a statement's period, as runs: built once from the
    store's nights and the contract, then updated by each line that bills the item, in file
    order (an item on several lines shares one contracted and one delivered quantity)."""

    def __init__(self, item, contract, measured: dict, ran: Nights, first: date, last: date):
        runs: list[Run] = []
        for d in _days(first, last):
            if contract.in_term(d):
                c = contract.quantity_on(item.item_no, d)
                state, allocated = delivered_on(measured.get((item.item_no, d)), c, item.source,
                                                ran.missing(d))
            else:
                c, state, allocated = ZERO, "outside_term", None
            den = item.months * calendar.monthrange(d.year, d.month)[1]
            prev = runs[-1] if runs else None
            # alike only when written alike too (48 and 48.000 are one value, two texts)
            if prev and (prev.den, str(prev.contracted), prev.state, str(prev.allocated)) == \
                    (den, str(c), state, str(allocated)):
                prev.last = d
            else:
                runs.append(Run(d, d, den, c, state, allocated))
        self.runs = runs
        self.firsts = [r.first for r in runs]

    def take(self, start: date, end: date) -> list[Run]:
        """The runs of ``start`` .. ``end``, split at its edges so a line updates its own days."""
        for edge in (start, end + timedelta(days=1)):
            i = bisect_right(self.firsts, edge) - 1
            if 0 <= i and self.runs[i].first < edge <= self.runs[i].last:
                self.runs.insert(i + 1, self.runs[i].cut(edge))
                self.firsts.insert(i + 1, edge)
        return self.runs[bisect_left(self.firsts, start):bisect_right(self.firsts, end)]


class Behind:
    """What a statement's lines are checked against: the store's nights of every billed item,
    read in one query, each item's :class:`Timeline`, and the evidence by runs, built once for
    lines that have the same (a statement billed per resource repeats an item and a period
    thousands of times)."""

    def __init__(self, statement: Statement, contract, store, mapping, ran: Nights):
        self.contract = contract
        self.items = {id(ln): resolve_item(ln, contract, mapping) for ln in statement.lines}
        spans: dict[int, tuple[date, date]] = {}
        for ln in statement.lines:
            no = self.items[id(ln)]
            if no is not None:
                lo, hi = spans.get(no, (ln.period_start, ln.period_end))
                spans[no] = (min(lo, ln.period_start), max(hi, ln.period_end))
        measured = stored.item_nights(store, statement.period_start, statement.period_end,
                                      spans) if spans else {}
        self.timelines = {no: Timeline(contract.items[no], contract, measured, ran, lo, hi)
                          for no, (lo, hi) in spans.items()}
        self.shares: dict = {}
        self.evidence: dict = {}
        self.priced: dict = {}     # check_line's amounts by price, quantity and period

    def share(self, start: date, end: date, months: int) -> Fraction:
        """The period's share of a term of ``months`` months (the sum of its days' shares)."""
        key = (start, end, months)
        if key not in self.shares:
            self.shares[key] = sum((day_share(d, months) for d in _days(start, end)),
                                   Fraction(0))
        return self.shares[key]

    def evidence_of(self, item_no: int, p_accept: Fraction, runs: list[Run],
                    values: list[Decimal]) -> list[Evidence]:
        """The nights behind a line as runs of alike nights: ``values`` holds, per run, the
        quantity accepted on each measured night or valued apart on each other one.  Runs
        the timeline keeps apart only for what earlier lines billed, but alike for this
        line, are one.  Lines with the same runs and values share one list."""
        key = (item_no, p_accept, tuple((r.first, r.last, r.den, str(r.contracted), r.state,
                                         str(r.allocated), v) for r, v in zip(runs, values)))
        evidence = self.evidence.get(key)
        if evidence is None:
            evidence, alike = [], None
            for r, v in zip(runs, values):
                allocated = r.allocated if r.state == "measured" else None
                same = (r.den, str(r.contracted), r.state, str(allocated), str(v))
                if same == alike and evidence[-1].last + timedelta(days=1) == r.first:
                    evidence[-1].last = r.last
                    continue
                s = Fraction(1, r.den)
                worth = p_accept * Fraction(v) * s
                accepted, unknown = (worth, Fraction(0)) if r.state == "measured" else \
                    (Fraction(0), worth)
                evidence.append(Evidence(r.first, r.last, s, r.contracted, allocated, r.state,
                                         accepted, unknown))
                alike = same
            self.evidence[key] = evidence
        return evidence


# -- the rules ----------------------------------------------------------------------
def resolve_item(line: StatementLine, contract, mapping) -> int | None:
    if line.item_no is not None:
        return line.item_no if line.item_no in contract.items else None
    return mapping.export_item(line.name)


def _days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def billed_of(line: StatementLine) -> Decimal:
    """What a line bills, tax included: 价税合计, else 金额 + 税额, else 金额."""
    if line.total is not None:
        return line.total
    return line.amount + line.tax if line.tax is not None else line.amount


def _weighted(sums: dict[int, Decimal]) -> Fraction:
    """Σ quantity-days / den over the dens (a day's share is 1/den): exact.  Most lines
    lie in one month (one den): one Fraction made, not three."""
    parts = []
    for den, v in sums.items():
        if v:
            n, d = v.as_integer_ratio()
            parts.append(Fraction(n, d * den))
    return parts[0] if len(parts) == 1 else sum(parts, Fraction(0))


@lru_cache(maxsize=65536)
def exact(value: Decimal) -> Fraction:
    """A statement's quantity or price as a Fraction (lines per resource repeat a few
    quantities and prices thousands of times)."""
    return Fraction(value)


def check_line(line: StatementLine, behind: Behind) -> LineResult:
    """One line's statuses and amounts.  The item's :class:`Timeline` holds, per run of
    days, the quantity the statement's earlier lines billed and the delivered quantity they
    were accepted for: an item billed on two lines (split by resource, or twice by mistake)
    shares one contracted and one delivered quantity, so nothing is accepted twice.
    Updated here."""
    contract = behind.contract
    statuses, notes = [], []
    item_no = behind.items[id(line)]
    item = contract.items.get(item_no) if item_no is not None else None
    share = behind.share(line.period_start, line.period_end,
                         item.months if item else contract.months)
    q, p_billed = exact(line.quantity), exact(line.unit_price)
    # a statement billed per resource repeats a price, a quantity and a period thousands of
    # times: its amounts are computed once (keyed by the Decimals and dates: a Fraction's
    # hash costs more than the product)
    period = (line.quantity, line.period_start, line.period_end, item.months if item else 0)

    # what the line bills, and its arithmetic
    billed = billed_of(line)
    key = (line.unit_price, period)
    expected = behind.priced.get(key)
    if expected is None:
        expected = behind.priced[key] = fen(p_billed * q * share)
    arithmetic = []
    if expected != billed:
        arithmetic.append(f"单价 {line.unit_price} × 数量 {line.quantity} × 期间份额 "
                          f"{share.numerator}/{share.denominator} = {expected}，账单写 {billed}")
    if line.tax is not None and line.total is not None and line.amount + line.tax != line.total:
        arithmetic.append(f"金额 {line.amount} + 税额 {line.tax} = {line.amount + line.tax}，"
                          f"价税合计写 {line.total}")
    if line.tax_rate is not None:
        net = cents(billed / (1 + line.tax_rate))
        if net != line.amount:
            arithmetic.append(f"价税合计 {billed} ÷ (1 + {labels.qty(line.tax_rate * 100)}%)"
                              f" = {net}，金额写 {line.amount}")
    if arithmetic:
        statuses.append("arithmetic_error")
        notes.extend(arithmetic)
    if line.total_daxie is not None and not daxie_matches(line.total_daxie, billed):
        statuses.append("daxie_mismatch")
        notes.append(f"大写写“{line.total_daxie}”，{billed} 元应为“{daxie(billed)}”")

    if item is None:
        statuses = [s for s in LINE_STATUSES if s in statuses + ["unknown_item"]]
        notes.insert(0, f"第{line.item_no}项不在合同中" if line.item_no is not None
                     else f"项目名称“{line.name}”对应不到合同项（connectors/mapping.toml "
                          f"[exports.aliases] 可加别名）")
        zero = Decimal("0.00")
        return LineResult(line, None, line.name, "", None, share, billed, expected, None, None,
                          zero, zero, cents(billed), zero, statuses, notes)

    p_contract = exact(item.unit_price)
    p_accept = min(p_contract, p_billed)
    runs = behind.timelines[item.item_no].take(line.period_start, line.period_end)
    qd = line.quantity
    # quantity x days per den (a day's share is 1/den), summed as exact Decimals
    contracted_n: dict[int, Decimal] = {}
    measured_n: dict[int, Decimal] = {}
    billable_n: dict[int, Decimal] = {}
    delivered_n: dict[int, Decimal] = {}
    unknown_n: dict[int, Decimal] = {}
    in_term_n: dict[int, Decimal] = {}
    nights = dict.fromkeys(("measured", "outside_term") + UNVERIFIED_STATES, 0)
    values = []
    shared = False
    with localcontext(EXACT):
        for r in runs:
            n, den = r.days, r.den
            nights[r.state] += n
            shared = shared or r.billed > 0
            room = r.contracted - r.billed if r.contracted > r.billed else ZERO
            contracted_n[den] = contracted_n.get(den, ZERO) + room * n
            if r.state != "outside_term":
                in_term_n[den] = in_term_n.get(den, ZERO) + n
            billable = qd if qd < room else room
            if r.state != "measured":
                delivered = ZERO
                unknown_n[den] = unknown_n.get(den, ZERO) + billable * n
                values.append(billable)
            else:
                left = min(r.allocated, r.contracted) - r.delivered
                delivered = min(billable, left) if left > 0 else ZERO
                measured_n[den] = measured_n.get(den, ZERO) + n
                billable_n[den] = billable_n.get(den, ZERO) + billable * n
                delivered_n[den] = delivered_n.get(den, ZERO) + delivered * n
                values.append(delivered)
            r.billed += qd
            r.delivered += delivered
    evidence = behind.evidence_of(item.item_no, p_accept, runs, values)
    contracted_w, delivered_w = _weighted(contracted_n), _weighted(delivered_n)
    measured_share, measured_billable = _weighted(measured_n), _weighted(billable_n)
    in_term_share = _weighted(in_term_n)
    accepted_q = p_accept * delivered_w
    accepted = fen(accepted_q)
    # rounded as the remainder of the whole, so a line billed right over measured and unknown
    # nights leaves a difference of exactly 0.00, not a fen of rounding
    unknown_value = fen(accepted_q + p_accept * _weighted(unknown_n)) - accepted
    key = (line.unit_price, item.unit_price, period)
    price_difference = behind.priced.get(key)
    if price_difference is None:
        price_difference = behind.priced[key] = fen((p_billed - p_contract) * q * share)

    if p_billed != p_contract:
        statuses.append("price_mismatch")
        notes.append(f"单价 {line.unit_price} 与合同单价 {item.unit_price} 不符，本行差 "
                     f"{price_difference} 元")
    contracted_avg = contracted_w / share if share else Fraction(0)
    outside = nights["outside_term"]
    if outside:
        statuses.append("outside_term")
        notes.append(f"{outside} 天在服务期（{contract.start} 至 {contract.end}）之外，合同数量为 0"
                     f"，这些天不予核准")
    if in_term_share and q > contracted_w / in_term_share:
        statuses.append("quantity_over_contract")
        notes.append(f"数量 {labels.qty(line.quantity)} 高于本期合同数量 "
                     f"{labels.qty(qty(contracted_w / in_term_share))}（按日加权，已计补充合同"
                     + ("，仅计服务期内各天" if outside else "")
                     + ("，已扣除本账单前面各行对本项的计费" if shared else "") + "）")
    delivered_avg = None
    if measured_share:
        delivered_avg = delivered_w / measured_share
        if measured_billable > delivered_w:
            statuses.append("billed_over_delivered")
            notes.append(f"已计量的 {nights['measured']} 晚平均交付 "
                         f"{labels.qty(qty(delivered_avg))}，少于账单数量 "
                         f"{labels.qty(line.quantity)}（不超过合同数量）")
    unknown = sum(nights[s] for s in UNVERIFIED_STATES)
    if unknown:
        if unknown == nights["not_measured"]:
            kind = "本项分配数量无计量（无数据源，或接口只见使用量），须人工核对"
        else:
            kind = "、".join(f"{labels.NIGHT_STATE[s]} {n} 晚" for s in UNVERIFIED_STATES
                            if (n := nights[s]))
        notes.append(f"{unknown} 晚无数据（{kind}），价值 {unknown_value} 元另列，"
                     f"既不计为已交付也不计为未交付")
    if in_term_share and not measured_share:
        statuses.append("unverified")
        in_term = sum(n for state, n in nights.items() if state != "outside_term")
        notes.insert(0, f"计费期间服务期内的 {in_term} 晚均无计量，本行无法核实（价值 "
                        f"{unknown_value} 元）")
    statuses = [s for s in LINE_STATUSES if s in statuses] or ["ok"]
    return LineResult(line, item.item_no, item.short_name, item.unit, item.unit_price, share,
                      billed, expected, qty(contracted_avg),
                      qty(delivered_avg) if delivered_avg is not None else None,
                      accepted, unknown_value, billed - accepted - unknown_value,
                      price_difference, statuses, notes, evidence)


def verify(statement: Statement, contract, store, mapping, config,
           today: date | None = None) -> Verification:
    behind = Behind(statement, contract, store, mapping, stored_nights(store, today))
    lines = [check_line(ln, behind) for ln in statement.lines]
    billed_items = {ln.item_no for ln in lines if ln.item_no is not None}
    start, end = statement.period_start, statement.period_end
    missing = [no for no in contract.items if no not in billed_items and any(
        contract.in_term(d) and contract.quantity_on(no, d) > 0 for d in _days(start, end))]
    statuses, notes = check_total_row(statement)
    return Verification(statement, lines, missing, ledger_for_information(store, end),
                        stored.penalty_total(store, end), statuses, notes)


def check_total_row(statement: Statement) -> tuple[list[str], list[str]]:
    """The 合计 row must add up its lines (金额, 税额, 价税合计) and its 大写 say the total."""
    row = statement.total_row
    if row is None:
        return [], []
    lines = statement.lines
    sums = {"金额": sum((ln.amount for ln in lines), Decimal(0)),
            "价税合计": sum((billed_of(ln) for ln in lines), Decimal(0))}
    if all(ln.tax is not None for ln in lines):
        sums["税额"] = sum((ln.tax for ln in lines), Decimal(0))
    statuses, notes = [], []
    for label, stated in (("金额", row.amount), ("税额", row.tax), ("价税合计", row.total)):
        if stated is not None and label in sums and stated != sums[label]:
            notes.append(f"合计行（第 {row.line} 行）{label}写 {stated}，各行相加为 {sums[label]}")
    if notes:
        statuses.append("arithmetic_error")
    billed = sums["价税合计"]
    if row.total_daxie is not None and not daxie_matches(row.total_daxie, billed):
        statuses.append("daxie_mismatch")
        notes.append(f"合计行（第 {row.line} 行）大写写“{row.total_daxie}”，{billed} 元应为"
                     f"“{daxie(billed)}”")
    return statuses, notes


# -- where a verification is written ---------------------------------------------------
def content_digest(data: bytes) -> str:
    """The statement file's SHA-256, hex: what names its folder and is kept in its JSON."""
    return hashlib.sha256(data).hexdigest()


def output_folder(finance_dir: Path, statement: Statement, digest: str) -> Path:
    """OUT/finance/<first day>_<last day>-<digest>/: named by the statement's own billing
    period and a short digest of its bytes, never by the file's name (a provider's
    recurring 结算单.xlsx would overwrite last month's; a name like ``.csv`` or ``..``
    would land outside OUT/finance).  The same file verified again gets its own folder
    back; another file never gets a folder whose JSON names a different digest (the
    digest grows from 6 to 12 to 64 characters until the folder is free or its own)."""
    base = f"{statement.period_start.isoformat()}_{statement.period_end.isoformat()}"
    for n in (6, 12, 64):
        folder = Path(finance_dir) / f"{base}-{digest[:n]}"
        if not folder.exists():
            return folder
        try:
            held = json.loads((folder / "verification.json").read_text("utf-8")).get("sha256")
        except (OSError, ValueError, AttributeError):
            held = None
        if held == digest:
            return folder
    raise FileExistsError(f"{folder} holds another statement's verification")
