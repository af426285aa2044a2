"""Console exports: the items no OpenStack API measures.

Security services, SSL VPN accounts, remote access, licences, middleware,
databases and value-added services come from the provider's consoles as CSV
or XLSX downloads.  Each file is one source (``export:<file stem>``).

Column schema (Chinese or English header; either name of a pair works):

==============  =============  =========================================
序号            item_no        contract item number (optional if 服务名称 names it)
服务名称        service        service name as the console writes it
资源ID          resource_id    instance / host / account id (optional)
资源名称        resource_name  (optional)
订购数量        allocated      quantity subscribed (what the provider provides)
使用数量        in_use         quantity in use
单位            unit           (optional; the contract's unit if empty)
项目            project        (optional)
==============  =============  =========================================

A service name that maps to no item is kept as an unmapped line.  An item
number that is not in the contract, a missing column or a quantity that is
not a number rejects the whole file for the night, with the file, line and
column in the reason.

Files are read for date D from ``DIR/D/`` when that folder exists (a nightly
drop), else from ``DIR/`` itself.

Exports carry their date (README "Console exports"), because a download left
in the folder would otherwise be re-read as fresh every night and the
provider credited for a month-old subscription list.  A file's export date
comes from its folder (``DIR/D/``), its name (``security-2026-11-10.csv``,
``licences_20261110.xlsx``) or a 导出日期 (export_date) column; every date
it gives must lie in ``[D - max_age_days, D]``.  A file that gives none, or
one outside that window, is rejected for the night (``data_rejected``), never
counted.  Files whose names differ only by their date are one source: the
newest one not dated after D is read.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from connectors.base import Lines, Measurement, SourceResult
from recon import cells
from recon.errors import InputError
from recon.progress import SHANGHAI
from recon.textfiles import Table, read_table

COLUMNS = {
    "item_no": ("序号", "item_no", "合同序号"),
    "service": ("服务名称", "service", "产品名称"),
    "resource_id": ("资源ID", "resource_id", "实例ID"),
    "resource_name": ("资源名称", "resource_name", "实例名称"),
    "allocated": ("订购数量", "allocated", "开通数量"),
    "in_use": ("使用数量", "in_use", "已用数量"),
    "unit": ("单位", "unit"),
    "project": ("项目", "project"),
    "export_date": ("导出日期", "export_date", "导出时间"),
}
SUFFIXES = (".csv", ".xlsx")
#: 2026-11-10, 2026_11_10, 2026.11.10 or 20261110 in a file name (one separator throughout)
NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_.]?)(\d{2})\2(\d{2})(?!\d)")


def split_name(path: Path) -> tuple[str, date | None]:
    """A file's source name and the export date its name gives, if any.

    ``security-2026-11-10.csv`` -> ("security", 2026-11-10); the last date in
    the name counts; digits that are not a real date are part of the name.
    """
    stem = path.stem
    for m in reversed(list(NAME_DATE.finditer(stem))):
        try:
            when = date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            continue
        base = (stem[:m.start()] + stem[m.end():]).strip("-_. ")
        return (base or stem), when
    return stem, None


def parse_export_date(text: str) -> date:
    """A date or a time (recon.cells.moment), as the date it is in Beijing."""
    return cells.moment(text).astimezone(SHANGHAI).date()


def export_files(exports_dir: Path, snapshot_date: date) -> list[Path]:
    """The files that stand for night D: one per source, the newest not dated after D."""
    day_dir = exports_dir / snapshot_date.isoformat()
    folder = day_dir if day_dir.is_dir() else exports_dir
    if not folder.is_dir():
        return []
    by_source: dict[str, list[tuple[date, Path]]] = {}
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in SUFFIXES or p.name.startswith(("~$", ".")):
            continue
        base, when = split_name(p)
        if when is None:
            out.append(p)
        else:
            by_source.setdefault(base, []).append((when, p))
    for dated in by_source.values():
        dated.sort()
        usable = [p for when, p in dated if when <= snapshot_date]
        # nothing dated up to D: the oldest file, to be rejected as dated after D
        out.append(usable[-1] if usable else dated[0][1])
    return sorted(out)


class _Loaded(NamedTuple):
    """A file read and parsed, not yet past the gate."""

    source: str
    path: Path
    rows: list[dict]


class ExportConnector:
    def __init__(self, exports_dir: Path, contract, mapping, gate=None, max_age_days: int = 1):
        self.exports_dir = Path(exports_dir)
        self.contract = contract
        self.mapping = mapping
        self.gate = gate
        self.max_age_days = max_age_days

    def pull(self, snapshot_date: date) -> list[SourceResult]:
        """Every export file for the night, each its own source.

        The gate checks all readable files in one batch first (a GX validation
        costs ~0.15 s whatever the size, and a night has several files); only
        when the batch fails is each file checked alone, so a bad file rejects
        itself and nothing else.
        """
        files = export_files(self.exports_dir, snapshot_date)
        if not files:
            return [SourceResult.failed("export", f"no export files in {self.exports_dir} "
                                        f"for {snapshot_date}")]
        loaded = [self._load(path, snapshot_date) for path in files]
        rows = [row for ld in loaded if isinstance(ld, _Loaded) for row in ld.rows]
        passed = self.gate is None or self.gate.validate("exports", pd.DataFrame(rows)).success
        return [ld if isinstance(ld, SourceResult) else self._result(ld, passed)
                for ld in loaded]

    def read(self, path: Path, snapshot_date: date) -> SourceResult:
        """One file as the night's source ``export:<name without its date>``."""
        loaded = self._load(path, snapshot_date)
        return loaded if isinstance(loaded, SourceResult) else self._result(loaded, False)

    def _load(self, path: Path, snapshot_date: date) -> "_Loaded | SourceResult":
        """The file's rows, or its rejection (stale, unreadable, a bad cell)."""
        source = f"export:{split_name(path)[0]}"
        try:
            table = read_table(path)
            found = table.resolve(COLUMNS, required=("allocated", "in_use"))
            stale = self._stale(path, table, found, snapshot_date)
            if stale:
                reason, when = stale
                return SourceResult.rejected(source, reason, file=str(path),
                                             export_date=when and when.isoformat())
            return _Loaded(source, path, self._parse(path, table, found))
        except InputError as exc:
            return SourceResult.rejected(source, str(exc), file=str(path))

    def _result(self, loaded: "_Loaded", passed: bool) -> SourceResult:
        """The file's lines and figures; ``passed``: the gate already accepted it in a batch."""
        source, path, rows = loaded
        if self.gate is not None and not passed:
            verdict = self.gate.validate("exports", pd.DataFrame(rows))
            if not verdict.success:
                return SourceResult.rejected(
                    source, f"{path}: " + "; ".join(f.describe() for f in verdict.failures),
                    file=str(path), failures=[f.__dict__ for f in verdict.failures])
        lines, alloc, used = Lines(source), {}, {}
        for row in rows:
            item = row["item_no"]
            unit = row["unit"] or (self.contract.items[item].unit if item else "")
            rid = row["resource_id"] or row["resource_name"] or row["service"]
            lines.add("export", rid, row["resource_name"] or row["service"], row["project"],
                      item, row["in_use"], unit,
                      {"service": row["service"], "file": path.name, "line": row["line"],
                       "allocated": str(row["allocated"])})
            if item is not None:
                alloc[item] = alloc.get(item, Decimal(0)) + row["allocated"]
                used[item] = used.get(item, Decimal(0)) + row["in_use"]
        measurements = [Measurement(source, i, "allocated", q, "export")
                        for i, q in sorted(alloc.items())]
        measurements += [Measurement(source, i, "in_use", q, "export")
                         for i, q in sorted(used.items())]
        return SourceResult(source, "ok", lines=lines, measurements=measurements,
                            stats={"file": str(path), "rows": len(rows)})

    def _stale(self, path: Path, table: Table, found: dict, day: date
               ) -> tuple[str, date | None] | None:
        """Why the file cannot stand for night ``day`` (Chinese, for the report), or None.

        Every date the file gives -- its folder, its name, each row's 导出日期 --
        must lie in [day - max_age_days, day]: the oldest one decides staleness,
        the newest one whether it was exported after the night.
        """
        dates: list[tuple[date, str]] = []
        if path.parent.name == day.isoformat():
            dates.append((day, f"文件夹 {path.parent.name}"))
        named = split_name(path)[1]
        if named is not None:
            dates.append((named, "取自文件名"))
        if "export_date" in found:
            col = found["export_date"]
            for line, row in table.rows:
                when = cells.read(path, line, col, parse_export_date, row.get(col, ""))
                dates.append((when, f"取自{col}列第 {line} 行"))
        if not dates:
            return (f"{path.name}：未注明导出日期（文件名中没有日期，没有“导出日期”列，"
                    f"也不在 {day} 的文件夹中），无法确认是 {day} 当晚的数据，本晚不计入", None)
        newest, how_new = max(dates)
        if newest > day:
            return (f"{path.name}：导出日期 {newest}（{how_new}）晚于核对日 {day}，"
                    f"不能作为 {day} 的数据，本晚不计入", newest)
        oldest, how_old = min(dates)
        if oldest < day - timedelta(days=self.max_age_days):
            return (f"{path.name}：导出日期 {oldest}（{how_old}），比核对日 {day} 早 "
                    f"{(day - oldest).days} 天，超过 [exports] max_age_days = {self.max_age_days} "
                    f"天，视为过期数据，本晚不计入", oldest)
        return None

    def _parse(self, path: Path, table: Table, found: dict) -> list[dict]:
        if "item_no" not in found and "service" not in found:
            raise InputError(path, "needs a 序号 (item_no) or 服务名称 (service) column", line=1,
                             column="服务名称")
        rows = []
        for line, row in table.rows:
            get = lambda k: row.get(found[k], "") if k in found else ""  # noqa: E731
            item = None
            if get("item_no"):
                item = cells.read(path, line, found["item_no"], cells.whole, get("item_no"))
                if item not in self.contract.items:
                    raise InputError(path, f"item {item} is not in the contract", line=line,
                                     column=found["item_no"])
            elif get("service"):
                item = self.mapping.export_item(get("service"))
            else:
                raise InputError(path, "row names neither an item nor a service", line=line,
                                 column=found.get("service", found.get("item_no")))
            qty = {key: cells.read(path, line, found[key], cells.number, get(key))
                   for key in ("allocated", "in_use")}
            rows.append({"line": line, "item_no": item,
                         "service": get("service") or self.contract.items[item].short_name,
                         "resource_id": get("resource_id"), "resource_name": get("resource_name"),
                         "allocated": qty["allocated"], "in_use": qty["in_use"],
                         "unit": get("unit"), "project": get("project")})
        if not rows:
            # a header and no rows is no data: not a night on which everything is zero
            raise InputError(path, "a header and no data rows: the export holds no figures",
                             line=2)
        return rows
