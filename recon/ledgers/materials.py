"""The materials ledger: what the provider handed in for acceptance (第六条).

第六条 names the acceptance materials "包括但不限于" 运维记录、运维月报、年报、漏扫报告、
云平台巡检报告; the agency may record any other.  Each is recorded with its name, the
period it covers (2026-11, 2026, 中期验收 ...), the day it was received and its file: the
file's sha256 and size are taken when it is recorded and the file itself is only ever
read, never written, moved or renamed (it is the provider's document, the evidence).
``recon materials list --verify`` reads each file again and says whether it still is what
was received.  Name and period are a material's key; a change is a new revision.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from recon import store as stored
from recon.errors import InputError
from recon.textfiles import read_table

#: the materials 第六条 names (the agency may record others besides)
REQUIRED = ("运维记录", "运维月报", "年报", "漏扫报告", "云平台巡检报告")

COLUMNS = {
    "name": ("材料名称", "name"),
    "period": ("期间", "period"),
    "received_on": ("收到日期", "received_on", "received"),
    "file": ("文件", "file"),
    "note": ("备注", "note"),
}
REQUIRED_COLUMNS = ("name", "period", "received_on", "file")


@dataclass(frozen=True)
class Material:
    name: str
    period: str
    received_on: date
    file: str
    size: int
    sha256: str
    note: str = ""
    origin: str = "cli"
    revision: int = 1

    def fields(self) -> tuple:
        return (self.received_on, self.file, self.size, self.sha256, self.note)


def sha256_of(path: Path) -> tuple[str, int]:
    """The file's sha256 and size, read in blocks (opened read-only, never written)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def parse_date(text: str) -> date:
    text = text.strip()
    for sep in ("/", "."):
        text = text.replace(sep, "-")
    if "年" in text:
        y, _, rest = text.partition("年")
        m, _, d = rest.partition("月")
        text = f"{y}-{int(m):02d}-{int(d.rstrip('日')):02d}" if m.isdigit() and \
            d.rstrip("日").isdigit() else text
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD or 2026年11月2日): {text!r}") from None


def make_material(name: str, period: str, received: str, file: str, note: str = "",
                  base: Path | None = None, origin: str = "cli") -> Material:
    """One material, its file read for the sha256; ValueError("field: why")."""
    name, period = (name or "").strip(), (period or "").strip()
    if not name:
        raise ValueError("name: empty")
    if not period:
        raise ValueError("period: empty")
    try:
        received_on = parse_date(received or "")
    except ValueError as exc:
        raise ValueError(f"received_on: {exc}") from None
    if not (file or "").strip():
        raise ValueError("file: empty")
    path = Path(file.strip()).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    path = path.resolve()
    if not path.is_file():
        raise ValueError(f"file: no such file: {path}")
    try:
        digest, size = sha256_of(path)
    except OSError as exc:
        raise ValueError(f"file: cannot read {path}: {exc.strerror}") from None
    return Material(name, period, received_on, str(path), size, digest, (note or "").strip(),
                    origin)


def read_materials(path: Path) -> list[Material]:
    """Every row of a CSV/XLSX list of materials (files relative to the list's folder), or an
    InputError naming the line and column: all or nothing."""
    path = Path(path)
    table = read_table(path)
    found = table.resolve(COLUMNS, required=REQUIRED_COLUMNS)
    out, seen = [], {}
    for line, cells in table.rows:
        get = lambda k: cells.get(found[k], "").strip() if k in found else ""  # noqa: E731
        try:
            m = make_material(get("name"), get("period"), get("received_on"), get("file"),
                              get("note"), base=path.parent, origin=f"{path.name}:{line}")
        except ValueError as exc:
            field_name, _, why = str(exc).partition(": ")
            raise InputError(path, why, line=line,
                             column=found.get(field_name, COLUMNS[field_name][0])) from None
        key = (m.name, m.period)
        if key in seen:
            raise InputError(path, f"{m.name} ({m.period}) appears twice (first on line "
                             f"{seen[key]})", line=line, column=found["name"])
        seen[key] = line
        out.append(m)
    return out


def _material(r: dict) -> Material:
    return Material(r["name"], r["period"], r["received_on"], r["file"], r["size"],
                    r["sha256"], r["note"] or "", r["origin"] or "", r["revision"])


def latest(store, period: str | None = None, owner: str | None = None) -> list[Material]:
    """One contract's materials (``owner``: recon.contract.Contract.owner, None the first): a
    follow-on's 中期验收 materials are its own."""
    return [_material(r) for r in stored.latest_materials(store, period, owner)]


def history(store, name: str, period: str, owner: str | None = None) -> list[Material]:
    return [_material(r) for r in stored.material_history(store, name, period, owner)]


def save(store, materials: list[Material], owner: str | None = None) -> list[Material]:
    """Record a contract's materials in one transaction; an unchanged one adds no revision.
    Returns those added or changed."""
    current = {(m.name, m.period): m for m in latest(store, owner=owner)}
    rows, changed = [], []
    for m in materials:
        cur = current.get((m.name, m.period))
        if cur is not None and cur.fields() == m.fields():
            continue
        revision = cur.revision + 1 if cur else 1
        rows.append({"name": m.name, "period": m.period, "revision": revision,
                     "received_on": m.received_on, "file": m.file, "size": m.size,
                     "sha256": m.sha256, "note": m.note, "origin": m.origin})
        changed.append(m)
    if rows:
        stored.save_material_revisions(store, rows, owner)
    return changed


def check(m: Material) -> str:
    """Is the file still what was received? ``unchanged``, ``changed`` or ``missing``."""
    path = Path(m.file)
    if not path.is_file():
        return "missing"
    try:
        return "unchanged" if sha256_of(path)[0] == m.sha256 else "changed"
    except OSError:
        return "missing"


def missing_required(store, period: str, owner: str | None = None) -> list[str]:
    """The materials 第六条 names that the contract's period has none of yet."""
    have = {m.name for m in latest(store, period, owner)}
    return [name for name in REQUIRED if name not in have]
