"""Item figures with their basis, and the one reading of a quota.

Each service module turns raw pages, one at a time, into resource-line columns
(:class:`~connectors.base.Lines`) and item figures through :class:`Figures`, which keeps for every
(item, metric) what the figure is (its basis) and what it adds up (its parts).

The quota rule lives here and only here (:func:`read_quota`): a number >= 0
is a cap; -1 (at any level: per volume type, project-wide, cores, RAM,
floating IPs, load balancers) is *unlimited*, never unknown, never -1 and
never infinite; a missing key is not a quota at all (the caller decides).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from connectors.base import Measurement

UNLIMITED = "unlimited"


def read_quota(entry) -> Decimal | str | None:
    """A quota's limit from either shape ({"limit": n, ...} or n).

    Returns the limit, :data:`UNLIMITED` for any negative value, or None when
    the answer holds no such quota.
    """
    if entry is None:
        return None
    value = entry.get("limit") if isinstance(entry, dict) else entry
    if value is None:
        return None
    value = int(value)
    return UNLIMITED if value < 0 else Decimal(value)


class Decimals(dict):
    """int -> Decimal, each built once: a page of volumes has a handful of sizes, and a
    Decimal per line would be 300,000 objects of 104 bytes at 100,000 servers."""

    def __missing__(self, value: int) -> Decimal:
        out = self[value] = Decimal(value)
        return out


class Shared(dict):
    """One str object per distinct value (a status, a volume type, a project id):
    json.loads makes a new string for every occurrence, and the lines keep them all."""

    def __missing__(self, value):
        self[value] = value
        return value


def qtext(value: Decimal) -> str:
    """A quantity as people write it (1.500 -> 1.5, 17082 -> 17082)."""
    text = format(value.normalize(), "f")
    return text


@dataclass
class Figure:
    quantity: Decimal | None
    basis: str
    parts: list[dict] = field(default_factory=list)


class Figures:
    """(item, metric) -> Figure, in the order the service measured them."""

    def __init__(self):
        self.by_key: dict[tuple[int, str], Figure] = {}

    # -- in use --------------------------------------------------------------
    def use(self, item: int, quantity: Decimal = Decimal(0), basis: str = "usage") -> Figure:
        """Start (or return) the item's in-use figure at ``quantity``."""
        fig = self.by_key.get((item, "in_use"))
        if fig is None:
            fig = self.by_key[(item, "in_use")] = Figure(Decimal(quantity), basis)
        return fig

    def add_use(self, item: int, quantity: Decimal) -> None:
        self.use(item).quantity += quantity

    # -- allocated -----------------------------------------------------------
    def allocated(self, item: int, quantity: Decimal, basis: str,
                  parts: list[dict] | None = None) -> None:
        self.by_key[(item, "allocated")] = Figure(Decimal(quantity), basis, list(parts or []))

    def not_measured(self, item: int, why: str) -> None:
        """The API only sees use: allocated is not measured (no shortfall is drawn)."""
        self.by_key[(item, "allocated")] = Figure(None, "not_measured", [{"note": why}])

    def unlimited(self, item: int, parts: list[dict]) -> None:
        self.by_key[(item, "allocated")] = Figure(None, UNLIMITED, list(parts))

    def quota_sum(self, item: int, parts: list[tuple[str, Decimal | str]],
                  note: str | None = None) -> None:
        """Allocated as the sum of quotas; one unlimited part makes the item unlimited."""
        listed = [{"name": name, "quantity": UNLIMITED if q == UNLIMITED else qtext(q)}
                  for name, q in parts]
        if note:
            listed.append({"note": note})
        if any(q == UNLIMITED for _, q in parts):
            self.unlimited(item, listed)
        else:
            self.allocated(item, sum((q for _, q in parts), Decimal(0)), "quota", listed)

    def measurements(self, source: str, items: set[int] | None = None) -> list[Measurement]:
        """Measurements for the items this source measures (``items``; None: all)."""
        out = []
        for (item, metric), fig in sorted(self.by_key.items()):
            if items is not None and item not in items:
                continue
            out.append(Measurement(source, item, metric, fig.quantity, fig.basis,
                                   tuple(fig.parts)))
        return out
