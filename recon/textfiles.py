"""Read the tables people give us: CSV or XLSX, as Excel in China writes them.

CSV bytes are decoded as UTF-8 (a BOM is dropped) and, failing that, as
GB18030 -- the superset of GBK that Excel's "CSV" save uses on a Chinese
Windows.  Nothing is refused for its encoding; a file that is neither is an
:class:`InputError` naming the file and the line of the first bad byte.

Every row keeps the line number a person sees (CSV line, header = 1; Excel row
number), so later errors can point at it.  No cell may carry a control character
(NUL, ESC ...: recon.cells): it is refused naming the line and column, except in
the columns the reader calls free text, where it is stripped with a warning.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from recon.cells import CellError, check_text, free_text, warn_stripped
from recon.errors import InputError

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    path: Path
    encoding: str
    header: list[str]
    #: (line number, {column: cell text}) with cells stripped; blank rows left out
    rows: list[tuple[int, dict[str, str]]]

    def resolve(self, aliases: dict[str, tuple[str, ...]], required=()) -> dict[str, str]:
        """Which header name each key uses, from its accepted names (中文 first).

        A required key with none of its names present is an InputError naming
        the first (Chinese) name and listing the header.
        """
        found = {}
        for key, names in aliases.items():
            for name in names:
                if name in self.header:
                    found[key] = name
                    break
        for key in required:
            if key not in found:
                raise InputError(self.path, f"missing column {aliases[key][0]} ({key}); the "
                                 f"header has: {', '.join(self.header)}", line=1,
                                 column=aliases[key][0])
        return found

    def require(self, columns) -> None:
        """Fail on the first missing column, naming it and what is there."""
        present = set(self.header)
        for col in columns:
            if col not in present:
                raise InputError(self.path, f"missing column {col!r}; the header has: "
                                 + ", ".join(self.header), line=1, column=col)


def decode(path: Path, data: bytes) -> tuple[str, str]:
    for enc in ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    # name the line of the first byte that is neither UTF-8 nor GB18030
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    raise InputError(path, "text is neither UTF-8 nor GBK/GB18030", line=line)


def _normalise_header(cells) -> list[str]:
    return [("" if c is None else str(c)).strip().lstrip("\ufeff") for c in cells]


def read_table(path: str | Path, sheet: str | None = None, free=()) -> Table:
    """Read a CSV or XLSX file into header + numbered rows, every cell checked for control
    characters (``free``: the header names of free-text columns, where they are stripped)."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            table = _read_xlsx(path, sheet)
        else:
            table = _read_csv(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except PermissionError:
        raise InputError(path, "file cannot be read (permission denied)") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a file") from None
    _check_controls(table, set(free))
    return table


def _check_controls(table: Table, free: set[str]) -> None:
    for name in table.header:
        try:
            check_text(name)
        except CellError as exc:
            raise InputError(table.path, f"header: {exc}", line=1) from None
    for line, cells in table.rows:
        for name, text in cells.items():
            if name in free:
                clean, stripped = free_text(text)
                if stripped:
                    cells[name] = clean
                    warn_stripped(table.path, line, name)
                continue
            try:
                check_text(text)
            except CellError as exc:
                raise InputError(table.path, str(exc), line=line, column=name) from None


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    text, enc = decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _normalise_header(next(reader))
    except StopIteration:
        raise InputError(path, "file is empty", line=1) from None
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=1) from None
    _check_header(path, header)
    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
                raise InputError(path, f"{len(cells)} cells but the header has {len(header)}",
                                 line=line)
            rows.append((line, {h: (cells[i].strip() if i < len(cells) else "")
                                for i, h in enumerate(header) if h}))
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV: {exc}", line=reader.line_num) from None
    return Table(path, enc, header, rows)


def _check_header(path: Path, header: list[str]) -> None:
    seen = set()
    for idx, name in enumerate(header, start=1):
        if not name:
            continue
        if name in seen:
            raise InputError(path, f"column {name!r} appears twice in the header", line=1,
                             column=name)
        seen.add(name)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # openpyxl hands numbers as float; repr() is the shortest exact round-trip
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value).strip()


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl  # heavy (0.3 s): imported only when an XLSX file is read

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError ... : not a workbook
        raise InputError(path, f"not a readable XLSX workbook ({exc.__class__.__name__})") from None
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        try:
            header = _normalise_header(next(it))
        except StopIteration:
            raise InputError(path, "sheet is empty", line=1) from None
        _check_header(path, header)
        rows = []
        for line, cells in enumerate(it, start=2):
            texts = [_cell_text(c) for c in cells]
            if not any(texts):
                continue
            rows.append((line, {h: (texts[i] if i < len(texts) else "")
                                for i, h in enumerate(header) if h}))
        return Table(path, "xlsx", header, rows)
    finally:
        wb.close()
