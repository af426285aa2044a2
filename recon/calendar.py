"""Working days (工作日) in China, with the adjusted working weekends (调休).

第七条 counts payment and invoice deadlines in working days, and China's working
days are not Monday to Friday: the State Council's notice for each year moves
holidays and makes some Saturdays and Sundays working days.  Two sources,
never a guess:

* ``chinese-calendar`` (PyPI) for the years it carries (2004-2026 in 1.11);
* a user file (``[calendar] file`` in recon.toml, or ``--calendar FILE``) for
  years it lacks: one row per date that the notice changes, ``日期/date,
  类型/kind (休息日/holiday or 工作日/workday), 依据/source`` (the notice, e.g.
  国办发明电〔2026〕N号).  A year is covered once the file has rows for it;
  any other date of that year is a working day from Monday to Friday.

A date in a year neither covers is a :class:`CalendarError` (exit 3) naming
the year and how to supply it.  A file row for a year the library covers must
agree with the library, so two sources can never disagree silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from recon.errors import ConfigError, InputError
from recon.textfiles import read_table

COLUMNS = {
    "date": ("日期", "date"),
    "kind": ("类型", "kind"),
    "source": ("依据", "source"),
}
#: what a row's kind may say, and whether it makes the date a working day
KINDS = {"工作日": True, "workday": True, "上班": True, "班": True,
         "休息日": False, "holiday": False, "假日": False, "节假日": False, "休": False}


class CalendarError(ConfigError):
    """A working day was needed in a year no calendar source covers."""


@dataclass(frozen=True)
class Override:
    day: date
    workday: bool
    source: str
    line: int


def library_range() -> tuple[int, int]:
    """The years the installed chinese-calendar knows (its own table, not a guess)."""
    years = {d.year for d in chinese_calendar.holidays} | \
        {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


class WorkCalendar:
    """China's working days from chinese-calendar and, for other years, a user file."""

    def __init__(self, file: str | Path | None = None):
        self.file = Path(file) if file else None
        self.first, self.last = library_range()
        self.overrides: dict[date, Override] = {}
        if self.file:
            self._load(self.file)
        self.file_years = {d.year for d in self.overrides} - set(range(self.first, self.last + 1))

    def _load(self, path: Path) -> None:
        table = read_table(path)
        cols = table.resolve(COLUMNS, required=("date", "kind", "source"))
        for line, row in table.rows:
            text = row[cols["date"]]
            try:
                day = date.fromisoformat(text.replace("/", "-"))
            except ValueError:
                raise InputError(path, f"not a date (YYYY-MM-DD): {text!r}", line=line,
                                 column=cols["date"]) from None
            kind = row[cols["kind"]].strip().lower()
            if kind not in KINDS:
                raise InputError(path, f"kind must be 休息日/holiday or 工作日/workday, got "
                                 f"{row[cols['kind']]!r}", line=line, column=cols["kind"])
            source = row[cols["source"]]
            if not source:
                raise InputError(path, "empty: name the notice the date comes from",
                                 line=line, column=cols["source"])
            if day in self.overrides:
                raise InputError(path, f"{day} appears twice (first on line "
                                 f"{self.overrides[day].line})", line=line, column=cols["date"])
            ov = Override(day, KINDS[kind], source, line)
            if self.first <= day.year <= self.last and \
                    chinese_calendar.is_workday(day) != ov.workday:
                lib = "工作日" if chinese_calendar.is_workday(day) else "休息日"
                raise InputError(path, f"{day} says {row[cols['kind']]}, chinese-calendar "
                                 f"says {lib}: remove the row or fix it", line=line,
                                 column=cols["kind"])
            self.overrides[day] = ov

    def source_of(self, year: int) -> str:
        if self.first <= year <= self.last:
            return f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()
        if year in self.file_years:
            notices = sorted({o.source for o in self.overrides.values() if o.day.year == year})
            return f"{self.file} ({'；'.join(notices)})"
        raise self._uncovered(year)

    def _uncovered(self, year: int) -> CalendarError:
        return CalendarError(
            f"working days of {year} are not known: chinese-calendar covers {self.first}-"
            f"{self.last}" + (f" and {self.file} has no rows for {year}" if self.file else
                              " and no calendar file is configured")
            + f". Supply the State Council's holiday notice for {year} (国务院办公厅关于{year}年"
            f"部分节假日安排的通知) as a CSV/XLSX file with columns 日期,类型,依据 (one row per "
            f"holiday and adjusted working day; 类型 休息日 or 工作日) and name it in recon.toml "
            f"([calendar] file = \"...\") or with --calendar FILE")

    def is_workday(self, day: date) -> bool:
        if self.first <= day.year <= self.last:
            return chinese_calendar.is_workday(day)
        if day.year not in self.file_years:
            raise self._uncovered(day.year)
        ov = self.overrides.get(day)
        return ov.workday if ov else day.weekday() < 5

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n > 0) or before it (n < 0); ``day``
        itself is never counted (signing on 07-10: the 1st working day after is 07-13)."""
        if n == 0:
            raise ValueError("n must not be 0")
        step = timedelta(days=1 if n > 0 else -1)
        left = abs(n)
        while left:
            day += step
            if self.is_workday(day):
                left -= 1
        return day
