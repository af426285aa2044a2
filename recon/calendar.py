"""Working days (工作日) in China, with the adjusted working weekends (调休).

第七条 counts payment and invoice deadlines in working days, and China's working
days are not Monday to Friday: the State Council's notice for each year moves
holidays and makes some Saturdays and Sundays working days.  Two sources,
never a guess:

* ``chinese-calendar`` (PyPI) for the years it carries (2004-2026 in 1.11);
* a user file (``[calendar] file`` in recon.toml, or ``--calendar FILE``) for
  years it lacks: one row per date that the notice changes, ``日期/date,
  类型/kind (休息日/holiday or 工作日/workday), 依据/source`` (the notice, e.g.
  国办发明电〔2026〕N号), 节日/holiday (which of the year's holidays the date
  belongs to: 元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节; two joined by 、
  where the notice joins them; 其他 for a day the notice adds beyond the seven).
  Any other date of a year the file covers is a working day from Monday to Friday.

A year in the file must be the whole notice, checked when the file is read
(:func:`check_year`, exit 3 saying what is missing): each of the seven holidays
with at least its statutory days off (全国年节及纪念日放假办法, 2025 text: 元旦 1,
春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3), every 工作日 row a Saturday or
Sunday (a 调休 working day), and the 调休 working days all there: every notice
since 2016 gives exactly as many weekday days off beyond the 13 statutory days
as it makes weekend days working days, so the file's weekday days off minus 13
must equal its 工作日 rows (12 where 中秋 is one of 10-01..10-03 and the file
names that day 中秋节、国庆节; 其他 rows are outside the count).

A date in a year neither covers is a :class:`CalendarError` (exit 3) naming
the year and how to supply it.  A file row for a year the library covers must
agree with the library, so two sources can never disagree silently.
"""
from __future__ import annotations

import re
from collections import Counter
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
    "holiday": ("节日", "holiday"),
}
#: the holidays of a year's notice, with their statutory days off (全国年节及纪念日放假办法,
#: as revised 2024-11, in force from 2025), and the names a file may give them
HOLIDAYS = {"元旦": 1, "春节": 4, "清明节": 1, "劳动节": 2, "端午节": 1, "中秋节": 1,
            "国庆节": 3}
HOLIDAY_NAMES = {"元旦": "元旦", "元旦节": "元旦", "春节": "春节", "清明": "清明节",
                 "清明节": "清明节", "劳动节": "劳动节", "五一": "劳动节",
                 "五一劳动节": "劳动节", "国际劳动节": "劳动节", "端午": "端午节",
                 "端午节": "端午节", "中秋": "中秋节", "中秋节": "中秋节", "国庆": "国庆节",
                 "国庆节": "国庆节", "其他": "其他"}
_NAME_SPLIT = re.compile(r"[、,，/;；+＋和与及\s]+")
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
    #: the holidays the row belongs to (normalised names), empty when the file has no 节日
    holidays: tuple[str, ...] = ()


def library_range() -> tuple[int, int]:
    """The years the installed chinese-calendar knows (its own table, not a guess)."""
    years = {d.year for d in chinese_calendar.holidays} | \
        {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


def check_year(year: int, rows: list[Override]) -> list[str]:
    """What a file's year lacks to be the whole State Council notice (empty: complete)."""
    problems = []
    unnamed = [o.line for o in rows if not o.holidays]
    if unnamed:
        problems.append(f"第 {'、'.join(map(str, unnamed[:5]))}{' 等' if len(unnamed) > 5 else ''} "
                        f"行没有写节日（节日/holiday 列：{'、'.join(HOLIDAYS)} 或 其他）")
    off = Counter(h for o in rows if not o.workday for h in o.holidays)
    missing = [f"{h}（应至少 {n} 天，文件有 {off[h]} 天）" if off[h] else h
               for h, n in HOLIDAYS.items() if off[h] < n]
    if missing:
        problems.append("缺少放假安排：" + "、".join(missing))
    weekday_work = [o for o in rows if o.workday and o.day.weekday() < 5]
    if weekday_work:
        problems.append("工作日行应为调休上班的周六或周日，" + "、".join(
            f"{o.day}（第 {o.line} 行）" for o in weekday_work[:5]) + " 是周一至周五")
    if not problems:
        counted = [o for o in rows if "其他" not in o.holidays]
        weekday_off = sum(1 for o in counted if not o.workday and o.day.weekday() < 5)
        workdays = sum(1 for o in counted if o.workday)
        statutory = sum(HOLIDAYS.values())
        allowed = {weekday_off - statutory}
        if any({"中秋节", "国庆节"} <= set(o.holidays) and (o.day.month, o.day.day) in
               ((10, 1), (10, 2), (10, 3)) for o in counted):
            allowed.add(weekday_off - statutory + 1)  # 中秋 on a statutory 国庆 day
        if workdays not in allowed:
            want = min(allowed)
            problems.append(
                f"调休上班日不符：周一至周五放假 {weekday_off} 天，法定假日 {statutory} 天，"
                f"应有 {want} 个调休上班日（周六或周日，类型 工作日），文件有 {workdays} 个"
                + ("，缺少的调休上班日未列出" if workdays < want else "，多出的请核对")
                + "（通知之外另加的放假日，节日写 其他）")
    return problems


class WorkCalendar:
    """China's working days from chinese-calendar and, for other years, a user file."""

    def __init__(self, file: str | Path | None = None):
        self.file = Path(file) if file else None
        self.first, self.last = library_range()
        self.overrides: dict[date, Override] = {}
        if self.file:
            self._load(self.file)
        self.file_years = {d.year for d in self.overrides} - set(range(self.first, self.last + 1))
        for year in sorted(self.file_years):
            missing = check_year(year, [o for o in self.overrides.values() if o.day.year == year])
            if missing:
                raise CalendarError(f"{self.file}: {year} 年的放假安排不完整，不能据此计算工作日："
                                    + "；".join(missing) + f"。请按国务院办公厅关于{year}年部分"
                                    "节假日安排的通知补全（每个放假日和调休上班日一行）")

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
            names = ()
            if "holiday" in cols and row.get(cols["holiday"], "").strip():
                parts = [p for p in _NAME_SPLIT.split(row[cols["holiday"]].strip()) if p]
                unknown = [p for p in parts if p not in HOLIDAY_NAMES]
                if unknown:
                    raise InputError(path, f"节日 must be one of {'、'.join(HOLIDAYS)} or 其他, "
                                     f"got {unknown[0]!r}", line=line, column=cols["holiday"])
                names = tuple(dict.fromkeys(HOLIDAY_NAMES[p] for p in parts))
            ov = Override(day, KINDS[kind], source, line, names)
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
