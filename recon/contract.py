"""The contract: its 32 priced items and the supplementary contracts that change them.

``contract_items.csv`` holds the items as the contract writes them;
``contract_amendments.csv`` holds dated changes of quantity (补充合同, 第十六条):
until a supplementary contract takes effect the original quantity stands, so
the contracted quantity of an item is a function of the date.

Everything here is checked on load, and a violation is an :class:`InputError`
naming file, line and column: money that does not add up must stop the job
before anything is stored.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from recon import cells
from recon.errors import ConfigError, InputError
from recon.money import daxie, fmt
from recon.textfiles import Table, read_table

ITEM_COLUMNS = ("item_no", "name", "short_name", "spec", "unit", "unit_price", "quantity",
                "months", "line_total", "category", "source", "metric")
AMENDMENT_COLUMNS = ("amendment_id", "signed_date", "effective_date", "item_no", "quantity",
                     "note")
SOURCES = ("openstack:compute", "openstack:block-storage", "openstack:object-store",
           "openstack:network", "openstack:load-balancer", "openstack:image", "export", "none")


@dataclass(frozen=True)
class Item:
    item_no: int
    name: str
    short_name: str
    spec: str
    unit: str
    unit_price: Decimal
    quantity: Decimal
    months: int
    line_total: Decimal
    category: str
    source: str
    metric: str
    line: int


@dataclass(frozen=True)
class Amendment:
    amendment_id: str
    signed_date: date
    effective_date: date
    item_no: int
    quantity: Decimal
    note: str
    line: int


@dataclass
class Contract:
    number: str
    title: str
    agency: str
    provider: str
    start: date
    end: date  # last day of the term, inclusive
    months: int
    stated_total: Decimal
    items: dict[int, Item]
    amendments: list[Amendment] = field(default_factory=list)
    items_path: Path | None = None
    #: a follow-on's own mapping.toml (None: the configuration's mapping)
    mapping_path: Path | None = None
    #: what its ledger rows and conclusions carry as contract_number (migrations 15, 16):
    #: None for the store's first contract, its number for a follow-on (set by
    #: :func:`load_contracts`)
    owner: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((i.line_total for i in self.items.values()), Decimal(0))

    def quantity_on(self, item_no: int, day: date) -> Decimal:
        """The contracted quantity of an item on a day, amendments applied."""
        qty = self.items[item_no].quantity
        for a in self.amendments:  # sorted by effective date, then file order
            if a.item_no == item_no and a.effective_date <= day:
                qty = a.quantity
        return qty

    def in_term(self, day: date) -> bool:
        return self.start <= day <= self.end

    def judging(self, day: date) -> "Contract | None":
        """This contract if ``day`` is in its term (as :meth:`Contracts.judging`: a ledger
        entry is checked against one contract or all of a store's the same way)."""
        return self if self.in_term(day) else None

    @property
    def terms(self) -> str:
        return f"{self.start} .. {self.end}"

    def summary_lines(self) -> list[str]:
        lines = [f"{self.title} ({self.number})",
                 f"服务期限 {self.start} 至 {self.end}（{self.months} 个月）",
                 f"{len(self.items)} 项，总价 {fmt(self.total)} 元（大写：{daxie(self.total)}）"]
        by_cat: dict[str, Decimal] = {}
        for item in self.items.values():
            by_cat[item.category] = by_cat.get(item.category, Decimal(0)) + item.line_total
        for cat, amount in by_cat.items():
            lines.append(f"  {cat}: {fmt(amount)} 元")
        if self.amendments:
            lines.append(f"补充合同变更 {len(self.amendments)} 条：")
            for a in self.amendments:
                lines.append(f"  {a.amendment_id} {a.effective_date} 起 第{a.item_no}项 "
                             f"{self.items[a.item_no].short_name} 数量 {a.quantity}")
        return lines


def term_end(start: date, months: int) -> date:
    """Last day of a term of ``months`` months starting ``start`` (inclusive)."""
    m = start.month - 1 + months
    year, month = start.year + m // 12, m % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) - timedelta(days=1)


def day_share(day: date, months: int) -> Fraction:
    """The share of a term of ``months`` months that one natural day is, exactly.

    第二条 prices each item for the whole term, so a calendar month is 1/months
    of it, and a day 1/(days of its month) of that month: the nightly day value
    and finance's share of a billing period both count days this way.  A
    Fraction, so a period's share is exact and money is rounded only where
    it is written.
    """
    return Fraction(1, months * calendar.monthrange(day.year, day.month)[1])


def _decimal(table: Table, line: int, col: str, text: str) -> Decimal:
    return cells.read(table.path, line, col, cells.number, text)


def _int(table: Table, line: int, col: str, text: str) -> int:
    return cells.read(table.path, line, col, cells.whole, text)


def _date(table: Table, line: int, col: str, text: str) -> date:
    return cells.read(table.path, line, col, cells.day, text)


def load_items(path: Path) -> dict[int, Item]:
    table = read_table(path)
    table.require(ITEM_COLUMNS)
    items: dict[int, Item] = {}
    for line, row in table.rows:
        for col in ("item_no", "name", "unit", "unit_price", "quantity", "months", "line_total",
                    "source"):
            if not row.get(col):
                raise InputError(path, "empty cell", line=line, column=col)
        no = _int(table, line, "item_no", row["item_no"])
        if no in items:
            raise InputError(path, f"item {no} appears twice (first on line {items[no].line})",
                             line=line, column="item_no")
        price = _decimal(table, line, "unit_price", row["unit_price"])
        qty = _decimal(table, line, "quantity", row["quantity"])
        total = _decimal(table, line, "line_total", row["line_total"])
        months = _int(table, line, "months", row["months"])
        for col, label, value in (("item_no", "item number", no),
                                  ("unit_price", "unit price", price),
                                  ("quantity", "quantity", qty), ("months", "months", months)):
            if value <= 0:
                raise InputError(path, f"{label} must be positive, got {value}", line=line,
                                 column=col)
        if price * qty != total:
            raise InputError(path, f"unit price x quantity = {price * qty}, but the line total "
                             f"says {total}", line=line, column="line_total")
        if row["source"] not in SOURCES:
            raise InputError(path, f"unknown source {row['source']!r}; one of "
                             + ", ".join(SOURCES), line=line, column="source")
        items[no] = Item(no, row["name"], row.get("short_name") or row["name"],
                         row.get("spec", ""), row["unit"], price, qty, months, total,
                         row.get("category", ""), row["source"], row.get("metric", ""), line)
    if not items:
        raise InputError(path, "no items", line=2)
    return items


def load_amendments(path: Path, items: dict[int, Item], start: date, end: date
                    ) -> list[Amendment]:
    table = read_table(path, free=("note",))
    table.require(AMENDMENT_COLUMNS)
    out = []
    for line, row in table.rows:
        for col in ("amendment_id", "effective_date", "item_no", "quantity"):
            if not row.get(col):
                raise InputError(path, "empty cell", line=line, column=col)
        no = _int(table, line, "item_no", row["item_no"])
        if no not in items:
            raise InputError(path, f"item {no} is not in the contract", line=line,
                             column="item_no")
        eff = _date(table, line, "effective_date", row["effective_date"])
        signed = (_date(table, line, "signed_date", row["signed_date"])
                  if row.get("signed_date") else eff)
        qty = _decimal(table, line, "quantity", row["quantity"])
        if qty < 0:
            raise InputError(path, f"quantity must not be negative, got {qty}", line=line,
                             column="quantity")
        for col, day in (("effective_date", eff), ("signed_date", signed)):
            if not start <= day <= end:
                raise InputError(path, f"{day} is outside the term {start} .. {end}",
                                 line=line, column=col)
        if signed > eff:
            raise InputError(path, f"signed {signed} after it takes effect {eff}", line=line,
                             column="signed_date")
        out.append(Amendment(row["amendment_id"], signed, eff, no, qty, row.get("note", ""),
                             line))
    out.sort(key=lambda a: (a.effective_date, a.line))
    return out


def load_contract(config) -> Contract:
    """Load and check the contract ``[contract]`` names in a :class:`recon.config.Config`."""
    return _load(config.contract_number, config.contract_title, config.agency, config.provider,
                 config.signed, config.months, config.total, config.items_path,
                 config.amendments_path)


def _load(number: str, title: str, agency: str, provider: str, signed: date, months: int,
          stated_total: Decimal, items_path: Path, amendments_path: Path | None) -> Contract:
    items = load_items(items_path)
    start = signed
    end = term_end(start, months)
    for item in items.values():
        if item.months != months:
            raise InputError(items_path, f"item runs {item.months} months, the contract "
                             f"term is {months}", line=item.line, column="months")
    contract = Contract(number, title, agency, provider, start, end, months, stated_total,
                        items, items_path=items_path)
    if contract.total != stated_total:
        raise InputError(items_path,
                         f"line totals add to {fmt(contract.total)}, the contract total is "
                         f"{fmt(stated_total)} (difference {fmt(contract.total - stated_total)})",
                         column="line_total")
    if amendments_path and amendments_path.exists():
        contract.amendments = load_amendments(amendments_path, items, start, end)
    return contract


#: how a night is judged (recorded per night in the store's night_contracts)
TERM = "term"
#: after a contract's end and before the next one starts (第十三条 2: 切换期间的资源费用由
#: 双方协商): measured and valued at the ended contract's prices, judged by nothing
TRANSITION = "transition"
#: what a report says a transition night or month is
TRANSITION_LABEL = "切换期（第十三条 2，资源费用由双方协商）"


@dataclass
class Contracts:
    """The contracts one store serves, first to last: ``[contract]`` and its follow-ons.

    Their terms may not overlap (a day would have two prices); a gap between
    two terms, and every day after the last, is the transition period of the
    contract before it (第十三条 2), valued at that contract's prices.  This is
    the one place that decides which contract a day belongs to.
    """
    all: list[Contract]
    #: the recon.toml that declares them, for messages
    path: Path | None = None

    @property
    def first(self) -> Contract:
        return self.all[0]

    def in_force(self, day: date) -> Contract | None:
        """The contract whose term holds ``day``, or None (before the first, or in transition)."""
        return next((c for c in self.all if c.in_term(day)), None)

    def judging(self, day: date) -> Contract | None:
        """The contract in force on ``day`` (a scaling request or an incident of that day
        belongs to it); None in a transition period or before the first term."""
        return self.in_force(day)

    @property
    def terms(self) -> str:
        return "; ".join(f"{c.number} {c.start} .. {c.end}" for c in self.all)

    def for_night(self, day: date) -> tuple[Contract, str]:
        """The contract that judges night ``day`` and how: :data:`TERM` or :data:`TRANSITION`.

        A day before the first contract starts is bad input (exit 3): nothing
        values it.
        """
        current = self.in_force(day)
        if current is not None:
            return current, TERM
        ended = [c for c in self.all if c.end < day]
        if not ended:
            raise InputError(self.path, f"{day} is before the first contract's term "
                             f"({self.first.number}: {self.first.start} .. {self.first.end}); "
                             "no contract values it (outside the contract term)",
                             column="--date")
        return ended[-1], TRANSITION

    def for_month(self, month: str) -> list[tuple[Contract, str]]:
        """The contracts that judge calendar month ``YYYY-MM``, and how.

        Every contract whose term touches the month assesses its own days of it
        (:data:`TERM`): a month two terms touch (a follow-on starting inside the month the
        earlier one ends in) has two assessments, the earlier's partial last month and the
        later's partial first, and its transition days between are in neither.  A month
        wholly after a term and before the next is the ended contract's :data:`TRANSITION`
        (one entry).
        """
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise InputError(self.path, f"not a month (YYYY-MM): {month!r}",
                             column="--month") from None
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        touching = [(c, TERM) for c in self.all if c.start <= last and first <= c.end]
        if touching:
            return touching
        if last < self.first.start:
            raise InputError(self.path, f"{month} is before the first contract's term "
                             f"({self.first.number}: {self.first.start} .. {self.first.end}; "
                             "outside the contract term)", column="--month")
        return [self.for_night(first)]


def load_contracts(config) -> Contracts:
    """``[contract]`` and every ``[[contract.follow_on]]``, each checked, terms not overlapping.

    An overlap is a configuration error (exit 3) naming both contracts and the
    follow-on's place in recon.toml.
    """
    out = [load_contract(config)]
    for f in config.follow_on:
        out.append(_load(f.number, f.title, f.agency, f.provider, f.signed, f.months, f.total,
                         f.items_path, f.amendments_path))
        out[-1].mapping_path = f.mapping_path
    ordered = sorted(out, key=lambda c: c.start)
    for c in ordered[1:]:
        c.owner = c.number
    place = {f.number: f.at for f in config.follow_on}
    for before, after in zip(ordered, ordered[1:]):
        if after.start <= before.end:
            at = place.get(after.number) or place[before.number]
            raise ConfigError(f"{at}: the term of {after.number} ({after.start} .. "
                              f"{after.end}) overlaps the term of {before.number} "
                              f"({before.start} .. {before.end}); a day can be judged by one "
                              "contract only (start the follow-on after "
                              f"{before.end})")
    return Contracts(ordered, config.path)
