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

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
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
class Day:
    """One night of a line's period: what the contract allowed and the store measured."""
    day: date
    share: Fraction
    contracted: Decimal
    allocated: Decimal | None
    state: str                 # measured | unknown | not_run | future | not_measured | outside_term
    accepted: Fraction         # value accepted that night (measured nights)
    unknown: Fraction          # value at stake that night (unknown / not measured nights)


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
    days: list[Day] = field(default_factory=list)

    @property
    def unknown_days(self) -> list[date]:
        return [d.day for d in self.days if d.state in UNVERIFIED_STATES]

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
def nights(store, item_no: int, start: date, end: date) -> dict[date, dict]:
    """The stored night rows (item_days) of an item in [start, end], by date."""
    cur = store.db.execute("SELECT * FROM item_days WHERE item_no = ? "
                           "AND snapshot_date BETWEEN ? AND ?", [item_no, start, end])
    names = [c[0] for c in cur.description]
    return {row["snapshot_date"]: row for row in (dict(zip(names, r)) for r in cur.fetchall())}


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


def check_line(line: StatementLine, contract, store, mapping, months: int,
               earlier: dict | None = None, ran: Nights | None = None) -> LineResult:
    """One line's statuses and amounts.  ``earlier`` holds, per (item, day), the quantity
    the statement's earlier lines billed and the delivered quantity they were accepted
    for: an item billed on two lines (split by resource, or twice by mistake) shares one
    contracted and one delivered quantity, so nothing is accepted twice.  Updated here."""
    earlier = {} if earlier is None else earlier
    ran = ran or stored_nights(store)
    statuses, notes = [], []
    item_no = resolve_item(line, contract, mapping)
    item = contract.items.get(item_no) if item_no is not None else None
    share = sum((day_share(d, item.months if item else months)
                 for d in _days(line.period_start, line.period_end)), Fraction(0))
    q, p_billed = Fraction(line.quantity), Fraction(line.unit_price)

    # what the line bills, and its arithmetic
    billed = billed_of(line)
    expected = fen(p_billed * q * share)
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

    p_contract = Fraction(item.unit_price)
    p_accept = min(p_contract, p_billed)
    stored = nights(store, item.item_no, line.period_start, line.period_end)
    days = []
    contracted_w = measured_share = measured_billable = delivered_w = Fraction(0)
    shared = False
    for d in _days(line.period_start, line.period_end):
        s = day_share(d, item.months)
        c = contract.quantity_on(item.item_no, d) if contract.in_term(d) else Decimal(0)
        billed_before, delivered_before = earlier.get((item.item_no, d), (0, 0))
        shared = shared or billed_before > 0
        room = max(Fraction(c) - billed_before, Fraction(0))   # contract left for this line
        contracted_w += room * s
        state, allocated = delivered_on(stored.get(d), c, item.source, ran.missing(d)) \
            if contract.in_term(d) else ("outside_term", None)
        billable = min(q, room)
        if state != "measured":
            delivered = Fraction(0)
            days.append(Day(d, s, c, None, state, Fraction(0), p_accept * billable * s))
        else:
            left = max(min(Fraction(allocated), Fraction(c)) - delivered_before, Fraction(0))
            delivered = min(billable, left)
            measured_share += s
            measured_billable += billable * s
            delivered_w += delivered * s
            days.append(Day(d, s, c, allocated, "measured", p_accept * delivered * s,
                            Fraction(0)))
        earlier[(item.item_no, d)] = (billed_before + q, delivered_before + delivered)
    accepted_q = sum((d.accepted for d in days), Fraction(0))
    accepted = fen(accepted_q)
    # rounded as the remainder of the whole, so a line billed right over measured and unknown
    # nights leaves a difference of exactly 0.00, not a fen of rounding
    unknown_value = fen(accepted_q + sum((d.unknown for d in days), Fraction(0))) - accepted
    price_difference = fen((p_billed - p_contract) * q * share)

    if p_billed != p_contract:
        statuses.append("price_mismatch")
        notes.append(f"单价 {line.unit_price} 与合同单价 {item.unit_price} 不符，本行差 "
                     f"{price_difference} 元")
    contracted_avg = contracted_w / share if share else Fraction(0)
    outside = sum(d.state == "outside_term" for d in days)
    in_term_share = sum((d.share for d in days if d.state != "outside_term"), Fraction(0))
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
            notes.append(f"已计量的 {sum(d.state == 'measured' for d in days)} 晚平均交付 "
                         f"{labels.qty(qty(delivered_avg))}，少于账单数量 "
                         f"{labels.qty(line.quantity)}（不超过合同数量）")
    unknown = [d for d in days if d.state in UNVERIFIED_STATES]
    if unknown:
        if all(d.state == "not_measured" for d in unknown):
            kind = "本项分配数量无计量（无数据源，或接口只见使用量），须人工核对"
        else:
            kind = "、".join(f"{labels.NIGHT_STATE[s]} {n} 晚" for s in UNVERIFIED_STATES
                            if (n := sum(d.state == s for d in unknown)))
        notes.append(f"{len(unknown)} 晚无数据（{kind}），价值 {unknown_value} 元另列，"
                     f"既不计为已交付也不计为未交付")
    if in_term_share and not measured_share:
        statuses.append("unverified")
        notes.insert(0, f"计费期间服务期内的 {sum(d.state != 'outside_term' for d in days)} 晚"
                        f"均无计量，本行无法核实（价值 {unknown_value} 元）")
    statuses = [s for s in LINE_STATUSES if s in statuses] or ["ok"]
    return LineResult(line, item.item_no, item.short_name, item.unit, item.unit_price, share,
                      billed, expected, qty(contracted_avg),
                      qty(delivered_avg) if delivered_avg is not None else None,
                      accepted, unknown_value, billed - accepted - unknown_value,
                      price_difference, statuses, notes, days)


def verify(statement: Statement, contract, store, mapping, config,
           today: date | None = None) -> Verification:
    earlier: dict = {}
    ran = stored_nights(store, today)
    lines = [check_line(ln, contract, store, mapping, contract.months, earlier, ran)
             for ln in statement.lines]
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
