"""What every connector hands to the rest of the job.

A connector measures one *source* (an OpenStack service, a console export file)
for one snapshot date and returns a :class:`SourceResult`.  The result is
either ``ok`` with rows, or ``failed`` with a reason and no rows: a failed pull
is UNKNOWN downstream, never zero.  Connectors never write to the store and
never decide findings; they only say what they saw.

Two kinds of rows:

* :class:`ResourceLine` -- evidence: one resource as the source listed it, and
  how much of one contract item it accounts for.  A server yields one line for
  vCPU (item 1) and one for memory (item 2); a resource that maps to no item
  yields one line with ``item_no=None`` and is reported as unmapped, never
  dropped.
* :class:`Measurement` -- the item-level figure the reconciliation uses:
  ``allocated`` (what the provider made available: a quota, a subscription, a
  delivered server) or ``in_use`` (what the agency consumes of it).  A source
  emits a measurement for every item it measures, zeros included, because an
  absent measurement means "not measured".
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Literal, Protocol

METRICS = ("allocated", "in_use")
Metric = Literal["allocated", "in_use"]


# not frozen: a large pull builds ~50,000 of these, and frozen dataclasses
# initialise through object.__setattr__ at twice the cost
@dataclass(slots=True)
class ResourceLine:
    source: str
    resource_type: str
    resource_id: str
    name: str
    project_id: str
    item_no: int | None
    quantity: Decimal
    unit: str
    attributes: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Measurement:
    source: str
    item_no: int
    metric: Metric
    quantity: Decimal


@dataclass
class SourceResult:
    """One source's pull for one night."""

    source: str
    #: ok; failed (could not be measured); rejected (measured, but the data is bad)
    status: Literal["ok", "failed", "rejected"]
    reason: str | None = None
    lines: list[ResourceLine] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    #: free-form facts for the log and the run record (requests made, pages, seconds)
    stats: dict = field(default_factory=dict)

    @classmethod
    def failed(cls, source: str, reason: str, **stats) -> "SourceResult":
        return cls(source=source, status="failed", reason=reason, stats=stats)

    @classmethod
    def rejected(cls, source: str, reason: str, **stats) -> "SourceResult":
        return cls(source=source, status="rejected", reason=reason, stats=stats)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def without_rows(self) -> "SourceResult":
        return dataclasses.replace(self, lines=[], measurements=[])


class Connector(Protocol):
    """Anything that can measure some sources for a date."""

    def pull(self, snapshot_date: date) -> list[SourceResult]: ...


def sum_lines(source: str, lines: Iterable[ResourceLine], items: Iterable[int]) -> list[Measurement]:
    """``in_use`` per item as the sum of the lines mapped to it.

    Every item in ``items`` gets a measurement, zero when no line maps to it:
    the source did measure it and found nothing.
    """
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item] = Decimal(0)
    for line in lines:
        if line.item_no is not None:
            totals[line.item_no] += line.quantity
    return [Measurement(source, item, "in_use", qty) for item, qty in sorted(totals.items())]
