"""A month after the contract's term (第十三条 2): 切换期，不考核, and what its usage is worth.

``recon report monthly --month M`` for a month wholly in the transition period writes
this instead of an assessment: no criterion is judged and no penalty arises, so the page
has no verdict.  It names the contract whose prices value the month (the one that ended)
and gives, per item, the nights its allocation was measured and their value at that
contract's prices (recon.assess.usage, the one valuation), and the nights it was not
(未核实, never 0).  The files are OUT/monthly/YYYY-MM/transition.html and .json, beside
where an assessment would be, so the index's reading of assessment.json is untouched.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from recon import assess
from recon.contract import TRANSITION_LABEL
from reports.common import Money, env, to_json, write_atomic


@dataclass
class UsageLine:
    item_no: int
    name: str
    unit: str
    unit_price: Decimal
    nights_valued: int
    nights_unvalued: int
    value: Money


@dataclass
class TransitionMonth:
    month: str
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term: str
    #: 切换期，不考核 — what stands where a verdict would
    verdict: str
    period: str
    first: date
    last: date
    nights: list[date]
    #: the days of the month no night was stored for
    missing: list[date]
    items: list[UsageLine]
    total: Money
    unvalued: list[int] = field(default_factory=list)

    def to_json(self) -> str:
        return to_json(self)


def build_transition_month(store, contract, month: str) -> TransitionMonth:
    """The month ``month`` (YYYY-MM, wholly after ``contract``'s term) valued at its prices."""
    first = date.fromisoformat(f"{month}-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    usage = assess.usage(store, contract, first, last)
    got = set(usage.nights)
    days = [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]
    lines = [UsageLine(u.item_no, contract.items[u.item_no].short_name,
                       contract.items[u.item_no].unit, contract.items[u.item_no].unit_price,
                       u.nights_valued, u.nights_unvalued, Money.of(u.value))
             for u in usage.items]
    return TransitionMonth(month, contract.number, contract.title, contract.agency,
                           contract.provider, f"{contract.start} 至 {contract.end}",
                           assess.NOT_ASSESSED, TRANSITION_LABEL, first, last,
                           usage.nights, [d for d in days if d not in got], lines,
                           Money.of(usage.value), usage.unvalued)


def write_transition_month(report: TransitionMonth, out_dir: Path) -> dict[str, Path]:
    folder = Path(out_dir) / "monthly" / report.month
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f"transition.{k}" for k in ("html", "json")}
    write_atomic(paths["html"], env().get_template("transition.html.j2").render(r=report))
    write_atomic(paths["json"], report.to_json())
    return paths
