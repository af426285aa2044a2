"""Every cell of every user file, read one way: dates, times, numbers, flags and text.

The contract files, the scaling and incidents ledgers, finance's statements and the
console exports all read their cells here, so a format one of them accepts, the
others accept too, and a cell one of them refuses fails the same way everywhere:

* dates: ``2026-11-02``, ``2026/11/2``, ``2026.11.02``, ``20261102``, ``2026年11月2日``;
* times: a date, or a date and ``HH:MM[:SS]`` (``2026-11-02 10:30``, ``2026年11月2日 10:30``),
  or ISO 8601 with a zone; a time without a zone is Beijing time (Asia/Shanghai);
* numbers: ``1234.5``, ``1,234.50``, ``¥1,234.50``, ``1e-05`` (openpyxl writes small floats
  so); never NaN or infinity, and never more than a store column can hold (:data:`LIMIT`);
* flags: 是/否 (yes/no, y/n, true/false, 1/0; an empty cell is 否);
* text: no control characters (NUL, ESC ...): refused where the cell is data, stripped
  with a warning where it is free text (a note).

A parser raises :class:`CellError` (what is wrong with the text); :func:`read` and
:func:`at` turn it into the one error a user sees, :class:`recon.errors.InputError`,
naming the file, the line and the column.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from recon.errors import InputError
from recon.progress import SHANGHAI

log = logging.getLogger("recon.cells")

#: the store keeps quantities and money as DECIMAL(18,6) (recon.store QTY, MONEY): twelve
#: digits before the point.  A number this large or larger cannot be stored, so no reader
#: accepts it (``recon scaling import`` with 1e308 used to end in a DuckDB traceback).
LIMIT = Decimal(10) ** 12

_YES = frozenset({"是", "yes", "y", "true", "1"})
_NO = frozenset({"否", "no", "n", "false", "0", ""})

_DATE = re.compile(r"(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|(\d{2})(\d{2})|年(\d{1,2})月(\d{1,2})日)")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


class CellError(ValueError):
    """A cell's text is not what its column needs; the message says why, without where."""


# -- text ------------------------------------------------------------------------------
def _controls(text: str, keep: str = "") -> list[int]:
    return [i for i, ch in enumerate(text)
            if ch not in keep and unicodedata.category(ch) == "Cc"]


def check_text(text: str) -> str:
    """``text`` unchanged, or a CellError naming the first control character and where."""
    bad = _controls(text)
    if bad:
        i = bad[0]
        raise CellError(f"control character U+{ord(text[i]):04X} at character {i + 1}: "
                        "remove it (a file saved from a terminal or a broken export?)")
    return text


def free_text(text: str) -> tuple[str, bool]:
    """Free text (a note) without control characters other than line breaks and tabs;
    True when some were stripped (the caller warns, naming the cell)."""
    bad = _controls(text, keep="\n\t")
    if not bad:
        return text, False
    drop = set(bad)
    return "".join(ch for i, ch in enumerate(text) if i not in drop), True


# -- numbers ---------------------------------------------------------------------------
def number(text: str) -> Decimal:
    """A finite number a store column can hold; ¥/￥ and thousands separators allowed."""
    t = text.strip().replace("¥", "").replace("￥", "").strip()
    if "," in t:
        if not _GROUPED.fullmatch(t):
            raise CellError(f"not a number (thousands separators every 3 digits): {text!r}")
        t = t.replace(",", "")
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise CellError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise CellError(f"not a number: {text!r}")
    if abs(value) >= LIMIT:
        raise CellError(f"{text.strip()!r} is too large: a number must be below "
                        f"{LIMIT:,.0f} (what the store holds)")
    return value


def whole(text: str) -> int:
    """A whole number (``3``, ``3.0``, ``1,200``)."""
    value = number(text)
    if value != value.to_integral_value():
        raise CellError(f"not a whole number: {text!r}")
    return int(value)


# -- dates and times -------------------------------------------------------------------
def _day(m: re.Match) -> date:
    year = int(m[1])
    month, dd = ((m[3], m[4]) if m[2] else (m[5], m[6]) if m[5] else (m[7], m[8]))
    return date(year, int(month), int(dd))


def day(text: str) -> date:
    """A date: 2026-11-02, 2026/11/2, 2026.11.02, 20261102 or 2026年11月2日."""
    t = text.strip()
    m = _DATE.fullmatch(t)
    try:
        if m is None:
            raise ValueError
        return _day(m)
    except ValueError:
        raise CellError(f"not a date (YYYY-MM-DD): {text!r}") from None


def moment(text: str) -> datetime:
    """A date (its midnight) or a time, as an aware datetime; no zone means Beijing time."""
    t = text.strip()
    value = None
    m = _DATE.match(t)
    try:
        if m is not None and m.end() == len(t):
            value = datetime.combine(_day(m), time(0))
        elif m is not None and t[m.end():m.end() + 1] in (" ", "T") and \
                (clock := _TIME.fullmatch(t[m.end() + 1:].strip())):
            value = datetime.combine(_day(m), time(int(clock[1]), int(clock[2]),
                                                   int(clock[3] or 0)))
        else:
            value = datetime.fromisoformat(t.replace("/", "-"))
    except ValueError:
        value = None
    if value is None:
        raise CellError(f"not a date or time (YYYY-MM-DD[ HH:MM]): {text!r}")
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


# -- flags -----------------------------------------------------------------------------
def flag(text: str) -> bool:
    """是 or 否 (yes/no, y/n, true/false, 1/0); an empty cell is 否."""
    low = text.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    raise CellError(f"write 是 or 否, not {text!r}")


# -- where -----------------------------------------------------------------------------
def read(path: str | Path | None, line: int | None, column: str | None, parse, text: str):
    """``parse(text)``, a CellError becoming an InputError naming file, line and column."""
    try:
        return parse(text)
    except CellError as exc:
        raise InputError(path, str(exc), line=line, column=column) from None


@contextmanager
def at(path: str | Path | None, line: int | None, column: str | None):
    """Within the block, a CellError is an InputError naming file, line and column."""
    try:
        yield
    except CellError as exc:
        raise InputError(path, str(exc), line=line, column=column) from None


def warn_stripped(path, line: int, column: str) -> None:
    """Say that a free-text cell lost its control characters (stderr through logging)."""
    log.warning("%s:%s [%s]: control characters removed from the text", path, line, column)
