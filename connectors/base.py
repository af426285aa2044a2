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

import numpy as np
import pandas as pd

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


def first_positions(codes: np.ndarray, size: int) -> np.ndarray:
    """The position of each code's first value in ``codes`` (codes 0..size-1, each used):
    written from the last position to the first, so the first one's stays.  The store,
    the gate and :class:`Lines` pick one object per distinct value so, with no Python per
    value."""
    first = np.empty(size, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def grouped_by_text(values: np.ndarray) -> tuple[np.ndarray, list, np.ndarray, set]:
    """An object array grouped by each value's ``str``: codes (one per distinct text), the
    texts, the position of each text's first value, and the types of all the values (equal
    texts are equal values only among numbers: the caller checks the types)."""
    codes, words = pd.factorize(np.fromiter(map(str, values), dtype=object, count=len(values)),
                                use_na_sentinel=False)
    return codes, words.tolist(), first_positions(codes, len(words)), set(map(type, values))


class Lines:
    """One source's resource lines as columns: a list per field, one ``source``.

    Connectors fill it a page at a time (:meth:`extend`, lists of equal length)
    or a line at a time (:meth:`add`); the gate and the store read the columns
    (:meth:`frame`, the attributes); code that looks at a few lines (tests,
    conformance) iterates and gets :class:`ResourceLine` objects, built then.

    ``quantity`` values are exact (``Decimal`` or ``int``), never float;
    ``attributes`` values are dicts (or None for none).

    The columns only grow (:meth:`add`, :meth:`extend`).  What the gate and the store
    read of them as arrays (:meth:`array`, :meth:`item_numbers`) is made once and shared:
    at half a million lines a night each conversion of a column cost 0.02-0.17 s, and the
    gate and the store made the same ones (bench/README.md).
    """

    __slots__ = ("source",) + LINE_COLUMNS + ("_arrays",)

    def __init__(self, source: str):
        self.source = source
        for col in LINE_COLUMNS:
            setattr(self, col, [])
        self._arrays = {}

    def __getstate__(self):  # the columns, as a class with slots pickles them; not the arrays
        return None, {k: getattr(self, k) for k in ("source",) + LINE_COLUMNS}

    def __setstate__(self, state):
        for k, v in state[1].items():
            setattr(self, k, v)
        self._arrays = {}

    def array(self, name: str) -> np.ndarray:
        """Column ``name`` as a numpy object array (the same objects), made once while the
        lines do not grow."""
        values = getattr(self, name)
        got = self._arrays.get(name)
        if got is None or len(got) != len(values):
            got = np.fromiter(values, dtype=object, count=len(values))
            self._arrays[name] = got
        return got

    def texts(self, name: str) -> tuple[np.ndarray, list, np.ndarray, set]:
        """Column ``name`` grouped by each value's ``str``, made once: codes (one per
        distinct text), the texts, the index of each text's first line, and the types of
        all the values.  The gate and the store group a night's quantities so (fresh
        ``Decimal`` objects, one a line: by value pandas compares them through ``__eq__``,
        several times the cost of their text)."""
        key = "#texts:" + name
        got = self._arrays.get(key)
        if got is None or len(got[0]) != len(self):
            got = self._arrays[key] = grouped_by_text(self.array(name))
        return got

    def has_texts(self, name: str) -> bool:
        """Whether :meth:`texts` of ``name`` is made already (the gate makes the
        quantities'): then grouping by text costs nothing more."""
        got = self._arrays.get("#texts:" + name)
        return got is not None and len(got[0]) == len(self)

    def item_numbers(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The item numbers as (int64 values, mask of missing ones), made once; None when
        one is anything but an ``int``, None or a float NaN (missing, as pandas takes it):
        then the caller converts the column as it did before."""
        n = len(self.item_no)
        got = self._arrays.get("#item_numbers")
        if got is None or len(got[1]) != n:
            values = self.array("item_no")
            # codes into the few distinct number objects, no Python per line
            codes, objects = pd.factorize(np.fromiter(map(id, values), dtype=np.uint64,
                                                      count=n))
            distinct = values[first_positions(codes, len(objects))].tolist()
            missing = [v is None or (type(v) is float and v != v) for v in distinct]
            if all(m or type(v) is int for v, m in zip(distinct, missing)):
                numbers = np.array([0 if m else v for v, m in zip(distinct, missing)],
                                   dtype=np.int64)
                got = (numbers[codes], np.array(missing, dtype=bool)[codes])
            else:
                got = (None, np.zeros(n, dtype=bool))
            self._arrays["#item_numbers"] = got
        return None if got[0] is None else got

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


def item_numbers(blocks: list[Lines], dtype: str = "Int64"):
    """The item numbers of several :class:`Lines` as one pandas integer array of ``dtype``
    ("Int64", "Int16"), from what each keeps (:meth:`Lines.item_numbers`); where one is not
    a plain number (or does not fit ``dtype``) the lists are converted as pandas does."""
    got = [b.item_numbers() for b in blocks]
    if got and all(g is not None for g in got):
        values = np.concatenate([g[0] for g in got])
        missing = np.concatenate([g[1] for g in got])
        kind = np.dtype(dtype.lower())
        held = values[~missing]
        if not len(held) or (np.iinfo(kind).min <= held.min() and held.max() <= np.iinfo(kind).max):
            return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(kind), missing)
    return pd.array([v for b in blocks for v in b.item_no], dtype=dtype)


def texts(blocks: list[Lines], name: str) -> tuple[np.ndarray, list, list, set]:
    """Column ``name`` of several :class:`Lines`, one after the other, grouped by text as
    :meth:`Lines.texts` (what each keeps, merged): codes, the texts, each text's first
    object, and the types of all the values."""
    parts = [b.texts(name) for b in blocks]
    if len(parts) == 1:
        codes, words, first, types = parts[0]
        return codes, words, blocks[0].array(name)[first].tolist(), types
    merged, words = pd.factorize(np.array([w for p in parts for w in p[1]], dtype=object),
                                 use_na_sentinel=False)
    objects = np.concatenate([b.array(name)[p[2]] for b, p in zip(blocks, parts)]) \
        if parts else np.zeros(0, dtype=object)
    offsets = np.cumsum([0] + [len(p[1]) for p in parts])
    codes = np.concatenate([merged[off + p[0]] for off, p in zip(offsets, parts)]) \
        if parts else np.zeros(0, dtype=np.int64)
    return codes, words.tolist(), objects[first_positions(merged, len(words))].tolist(), \
        set().union(*(p[3] for p in parts))


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
