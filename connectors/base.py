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
  dropped.  A source holds its lines as columns (:class:`Lines`): a large
  tenant has half a million of them a night, and one Python object per line
  cost more than reading the pages (bench/README.md).
* :class:`Measurement` -- the item-level figure the reconciliation uses:
  ``allocated`` (what the provider made available: a quota, a subscription, a
  delivered server) or ``in_use`` (what the agency consumes of it).  A source
  emits a measurement for every item it measures, zeros included, because an
  absent measurement means "not measured".

Every measurement says what its figure *is* (``basis``), because the verdicts
go to the provider and must hold in a dispute: an allocation read from a quota
is not the same claim as one counted from delivered servers or copied from the
provider's own console export.  Where the API only sees use (OS licences,
remote-access hosts, IPsec connections, SNAT), the source says so with an
``allocated`` figure of basis ``not_measured`` and no quantity: the item is
measured (its use is checked against the contract) but no shortfall can be
drawn from it.  An unlimited quota (-1) is basis ``unlimited``, no quantity:
measured, never a shortfall, never unknown.  A figure that adds up several
things (two volume types, three flavors) lists them in ``parts``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Iterator, Literal, Protocol

METRICS = ("allocated", "in_use")
Metric = Literal["allocated", "in_use"]

#: what an ``allocated`` figure is (labels in recon/labels.py BASIS)
ALLOCATED_BASES = ("quota", "delivered", "export", "not_measured", "unlimited")
#: what an ``in_use`` figure is
IN_USE_BASES = ("usage", "export")
#: bases that carry no quantity
NO_QUANTITY = ("not_measured", "unlimited")


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


#: the columns of :class:`Lines`, in :class:`ResourceLine`'s order after ``source``
LINE_COLUMNS = ("resource_type", "resource_id", "name", "project_id", "item_no", "quantity",
                "unit", "attributes")


class Lines:
    """One source's resource lines as columns: a list per field, one ``source``.

    Connectors fill it a page at a time (:meth:`extend`, lists of equal length)
    or a line at a time (:meth:`add`); the gate and the store read the columns
    (:meth:`frame`, the attributes); code that looks at a few lines (tests,
    conformance) iterates and gets :class:`ResourceLine` objects, built then.

    ``quantity`` values are exact (``Decimal`` or ``int``), never float;
    ``attributes`` values are dicts (or None for none).
    """

    __slots__ = ("source",) + LINE_COLUMNS

    def __init__(self, source: str):
        self.source = source
        for col in LINE_COLUMNS:
            setattr(self, col, [])

    @classmethod
    def of(cls, source: str, rows: Iterable[ResourceLine]) -> "Lines":
        """Columns from line objects (all of ``source``: a result has one source)."""
        out = cls(source)
        for ln in rows:
            if ln.source != source:
                raise ValueError(f"a line of {ln.source!r} among the lines of {source!r}")
            out.add(ln.resource_type, ln.resource_id, ln.name, ln.project_id, ln.item_no,
                    ln.quantity, ln.unit, ln.attributes)
        return out

    def add(self, resource_type: str, resource_id: str, name: str, project_id: str,
            item_no: int | None, quantity, unit: str, attributes: dict | None = None) -> None:
        self.resource_type.append(resource_type)
        self.resource_id.append(resource_id)
        self.name.append(name)
        self.project_id.append(project_id)
        self.item_no.append(item_no)
        self.quantity.append(quantity)
        self.unit.append(unit)
        self.attributes.append(attributes)

    def extend(self, **columns: list) -> None:
        """Append a block of lines given as equal-length lists, one per column."""
        if set(columns) != set(LINE_COLUMNS):
            raise ValueError(f"Lines.extend needs exactly {LINE_COLUMNS}, got {sorted(columns)}")
        n = len(columns["resource_id"])
        if any(len(v) != n for v in columns.values()):
            raise ValueError("Lines.extend: columns of different lengths")
        for col in LINE_COLUMNS:
            getattr(self, col).extend(columns[col])

    def __len__(self) -> int:
        return len(self.resource_id)

    def __iter__(self) -> Iterator[ResourceLine]:
        src = self.source
        for row in zip(*(getattr(self, c) for c in LINE_COLUMNS)):
            yield ResourceLine(src, *row[:-1], attributes=row[-1] or {})

    def __eq__(self, other) -> bool:
        if isinstance(other, (Lines, list)):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"<Lines {self.source} x{len(self)}>"


@dataclass(frozen=True, slots=True)
class Measurement:
    source: str
    item_no: int
    metric: Metric
    #: None exactly when ``basis`` is not_measured or unlimited
    quantity: Decimal | None
    basis: str = "usage"
    #: what the figure adds up, e.g. ({"name": "gigabytes_ssd", "quantity": "2000"}, ...)
    parts: tuple = ()

    def __post_init__(self):
        bases = ALLOCATED_BASES if self.metric == "allocated" else IN_USE_BASES
        if self.basis not in bases:
            raise ValueError(f"{self.source} item {self.item_no}: {self.metric} basis "
                             f"{self.basis!r} is not one of {bases}")
        if (self.quantity is None) != (self.basis in NO_QUANTITY):
            raise ValueError(f"{self.source} item {self.item_no}: basis {self.basis!r} "
                             f"with quantity {self.quantity!r}")


@dataclass
class SourceResult:
    """One source's pull for one night."""

    source: str
    #: ok; failed (could not be measured); rejected (measured, but the data is bad)
    status: Literal["ok", "failed", "rejected"]
    reason: str | None = None
    #: a list of ResourceLine is accepted and turned into columns
    lines: Lines = None  # type: ignore[assignment]
    measurements: list[Measurement] = field(default_factory=list)
    #: free-form facts for the log and the run record (requests made, pages, seconds)
    stats: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.lines is None:
            self.lines = Lines(self.source)
        elif not isinstance(self.lines, Lines):
            self.lines = Lines.of(self.source, self.lines)
        elif self.lines.source != self.source:
            raise ValueError(f"lines of {self.lines.source!r} in the result of {self.source!r}")

    @classmethod
    def failed(cls, source: str, reason: str, reason_code: str = "error",
               **stats) -> "SourceResult":
        """A source that could not be measured; ``reason_code`` is the stable kind of
        failure (timeout, http_5xx, malformed, not_in_catalog, auth, dependency, ...)
        that alerts key on, ``reason`` the sentence a reader sees."""
        return cls(source=source, status="failed", reason=reason,
                   stats=dict(stats, reason_code=reason_code))

    @classmethod
    def rejected(cls, source: str, reason: str, **stats) -> "SourceResult":
        return cls(source=source, status="rejected", reason=reason, stats=stats)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Connector(Protocol):
    """Anything that can measure some sources for a date."""

    def pull(self, snapshot_date: date) -> list[SourceResult]: ...
