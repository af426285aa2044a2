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
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from connectors.base import Measurement, ResourceLine, SourceResult
from recon.errors import InputError
from recon.textfiles import read_table

COLUMNS = {
    "item_no": ("序号", "item_no", "合同序号"),
    "service": ("服务名称", "service", "产品名称"),
    "resource_id": ("资源ID", "resource_id", "实例ID"),
    "resource_name": ("资源名称", "resource_name", "实例名称"),
    "allocated": ("订购数量", "allocated", "开通数量"),
    "in_use": ("使用数量", "in_use", "已用数量"),
    "unit": ("单位", "unit"),
    "project": ("项目", "project"),
}
SUFFIXES = (".csv", ".xlsx")


def export_files(exports_dir: Path, snapshot_date: date) -> list[Path]:
    day_dir = exports_dir / snapshot_date.isoformat()
    folder = day_dir if day_dir.is_dir() else exports_dir
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", ".")))


class ExportConnector:
    def __init__(self, exports_dir: Path, contract, mapping, gate=None):
        self.exports_dir = Path(exports_dir)
        self.contract = contract
        self.mapping = mapping
        self.gate = gate

    def pull(self, snapshot_date: date) -> list[SourceResult]:
        files = export_files(self.exports_dir, snapshot_date)
        if not files:
            return [SourceResult.failed("export", f"no export files in {self.exports_dir} "
                                        f"for {snapshot_date}")]
        return [self.read(path) for path in files]

    def read(self, path: Path) -> SourceResult:
        source = f"export:{path.stem}"
        try:
            rows = self._parse(path)
        except InputError as exc:
            return SourceResult.rejected(source, str(exc), file=str(path))
        if self.gate is not None:
            verdict = self.gate.validate("exports", pd.DataFrame(rows))
            if not verdict.success:
                return SourceResult.rejected(
                    source, f"{path}: " + "; ".join(f.describe() for f in verdict.failures),
                    file=str(path), failures=[f.__dict__ for f in verdict.failures])
        lines, alloc, used = [], {}, {}
        for row in rows:
            item = row["item_no"]
            unit = row["unit"] or (self.contract.items[item].unit if item else "")
            rid = row["resource_id"] or row["resource_name"] or row["service"]
            lines.append(ResourceLine(source, "export", rid, row["resource_name"] or row["service"],
                                      row["project"], item, row["in_use"], unit,
                                      {"service": row["service"], "file": path.name,
                                       "line": row["line"], "allocated": str(row["allocated"])}))
            if item is not None:
                alloc[item] = alloc.get(item, Decimal(0)) + row["allocated"]
                used[item] = used.get(item, Decimal(0)) + row["in_use"]
        measurements = [Measurement(source, i, "allocated", q, "export")
                        for i, q in sorted(alloc.items())]
        measurements += [Measurement(source, i, "in_use", q, "export")
                         for i, q in sorted(used.items())]
        return SourceResult(source, "ok", lines=lines, measurements=measurements,
                            stats={"file": str(path), "rows": len(rows)})

    def _parse(self, path: Path) -> list[dict]:
        table = read_table(path)
        found = table.resolve(COLUMNS, required=("allocated", "in_use"))
        if "item_no" not in found and "service" not in found:
            raise InputError(path, "needs a 序号 (item_no) or 服务名称 (service) column", line=1,
                             column="服务名称")
        rows = []
        for line, cells in table.rows:
            get = lambda k: cells.get(found[k], "") if k in found else ""  # noqa: E731
            item = None
            if get("item_no"):
                try:
                    item = int(Decimal(get("item_no")))
                except (InvalidOperation, ValueError):
                    raise InputError(path, f"not an item number: {get('item_no')!r}", line=line,
                                     column=found["item_no"]) from None
                if item not in self.contract.items:
                    raise InputError(path, f"item {item} is not in the contract", line=line,
                                     column=found["item_no"])
            elif get("service"):
                item = self.mapping.export_item(get("service"))
            else:
                raise InputError(path, "row names neither an item nor a service", line=line,
                                 column=found.get("service", found.get("item_no")))
            qty = {}
            for key in ("allocated", "in_use"):
                text = get(key).replace(",", "")
                try:
                    qty[key] = Decimal(text)
                except InvalidOperation:
                    raise InputError(path, f"not a number: {get(key)!r}", line=line,
                                     column=found[key]) from None
                if not qty[key].is_finite():
                    raise InputError(path, f"not a number: {get(key)!r}", line=line,
                                     column=found[key])
            rows.append({"line": line, "item_no": item,
                         "service": get("service") or self.contract.items[item].short_name,
                         "resource_id": get("resource_id"), "resource_name": get("resource_name"),
                         "allocated": qty["allocated"], "in_use": qty["in_use"],
                         "unit": get("unit"), "project": get("project")})
        return rows
