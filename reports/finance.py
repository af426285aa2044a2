"""The finance verification report: one typed context, written as JSON, HTML and XLSX.

:class:`FinanceReport` is both ``verification.json`` and what
``recon/data/templates/finance.html.j2`` and the workbook read, so the three cannot
disagree.  It only shows what :mod:`recon.finance.verify` concluded.

The workbook (XlsxWriter) has three sheets: 汇总 (summary), 明细 (lines),
依据（按连续相同的夜晚） (evidence as runs of alike nights); Chinese headers, number formats, frozen header
rows.  Every total is a formula over the cells it adds up, and carries the
value recon computed as its cached result, so a reader without recalculation
sees the same figure and Excel recomputing it gets it too.  Cells are IEEE
doubles (the file format's only number); amounts written to the fen survive
that exactly to the fen.
"""
from __future__ import annotations

import dataclasses
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from json.encoder import encode_basestring
from operator import attrgetter
from pathlib import Path

from recon import labels
from recon.finance.verify import UNVERIFIED_STATES
from recon.money import daxie, fmt
from recon.penalties import PenaltyLine
from recon.progress import SHANGHAI
from reports.common import Money, env, to_json, visible, workbook, write_atomic

#: a penalty's status in the ledger shown beside a verification (information: deducted once,
#: in the final settlement)
PENALTY_STATUS = labels.PENALTY_STATUS
#: the title of the penalty section of a verification: never a deduction from a statement
PENALTY_SECTION = "违约金台账（仅供参考，于尾款结算时一次扣除）"
#: per-day values are exact fractions; the evidence shows them to this many places
DAY_PLACES = Decimal("0.000001")


def _dec(x: Fraction) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(DAY_PLACES)


def _frac(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}" if x.denominator != 1 else str(x.numerator)


@dataclass
class RunLine:
    """Consecutive nights behind a line alike in state, contracted and allocated quantity,
    share and value (recon.finance.verify.Evidence): one row of evidence, not one per night."""
    first: date
    last: date
    nights: int
    state: str
    state_label: str
    contracted: Decimal
    allocated: Decimal | None
    share: str                 # each night's share of the term, exact (1/360)
    accepted: Decimal          # each night, to 1e-6 yuan
    unknown: Decimal
    accepted_total: Decimal    # the run's: each night's exact value x nights, to 1e-6 yuan
    unknown_total: Decimal     # (the line's amounts are rounded once from the exact sums)


@dataclass
class FinanceLine:
    line: int
    invoice_no: str
    issued: date | None
    period_start: date
    period_end: date
    item_no: int | None
    item_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    contract_price: Decimal | None
    share: str
    contracted_qty: Decimal | None
    delivered_qty: Decimal | None
    amount: Decimal
    tax_rate: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    total_daxie: str | None
    billed_amount: Decimal
    expected_amount: Decimal
    accepted_amount: Decimal
    unknown_value: Decimal
    difference: Decimal
    price_difference: Decimal
    statuses: list[str]
    status_labels: list[str]
    notes: list[str]
    unknown_days: list[date]
    runs: list[RunLine]


#: a line's fields in verification.json, in order
LINE_FIELDS = tuple(f.name for f in dataclasses.fields(FinanceLine))
assert LINE_FIELDS[-1] == "runs"   # FinanceReport.to_json pastes them last


@dataclass
class MissingItem:
    item_no: int
    name: str
    status: str = "missing_item"
    status_label: str = labels.FINANCE_STATUS["missing_item"]


@dataclass
class FinanceReport:
    statement: str
    file: str
    encoding: str
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    period_start: date
    period_end: date
    generated_at: datetime
    exit_code: int
    exit_label: str
    statuses: list[str]
    lines: list[FinanceLine]
    missing_items: list[MissingItem]
    #: the penalty ledger as concluded for the period's end: information, never deducted
    #: here (第七条: deducted once, in the final settlement, ``recon finance settle``)
    penalties: list[PenaltyLine]
    billed: Money
    accepted: Money
    #: the value of every night that could not be verified (not run, failed, still to come,
    #: allocation not measured): what the verdict says could not be verified
    unknown_value: Money
    difference: Money
    price_difference: Money
    #: the ledger's counted total (recon.store.penalty_total), information only
    penalty_total: Money
    #: the billed amount of the lines with no measured night at all (status ``unverified``)
    unverified_billed: Money
    counts: dict = field(default_factory=dict)
    #: the statement's 合计 row checked against its lines (empty: none, or it agrees)
    statement_notes: list[str] = field(default_factory=list)
    #: SHA-256 of the statement file: its folder's name ends with its first characters
    sha256: str = ""

    def to_json(self) -> str:
        """verification.json as text: the text of ``to_json(self)`` (:meth:`json_bytes`)."""
        return self.json_bytes().decode("utf-8")

    def json_bytes(self) -> bytes:
        """verification.json: the UTF-8 bytes of ``to_json(self)``, written faster.  A
        statement billed per resource has tens of thousands of lines, and the generic path (a
        deep copy of every field, then Python's indenting encoder) took most of a
        verification's time: the lines are written field by field with json's own string
        encoder, and the nights that lines share (one list: recon.finance.verify builds it
        once for lines with the same nights and figures) are written and encoded once and
        pasted into each (most of the file's bytes at 60,000 lines: encoded once per list,
        not once per line, and no text of the whole file is ever held)."""
        head = to_json(dataclasses.replace(self, lines=[]))
        # a string value never holds a raw newline (JSON escapes it): this is the report's key
        before, after = head.split('\n  "lines": [],\n', 1)
        if not self.lines:
            return head.encode("utf-8")
        nights: dict[int, bytes] = {}
        parts = [before.encode("utf-8"), b'\n  "lines": [\n']
        for n, ln in enumerate(self.lines):
            if id(ln.runs) not in nights:
                nights[id(ln.runs)] = (_nights_json(ln.runs) + "\n    }").encode("utf-8")
            parts += [b",\n" if n else b"", _line_json(ln).encode("utf-8"), nights[id(ln.runs)]]
        parts += [b"\n  ],\n", after.encode("utf-8")]
        return b"".join(parts)


@dataclass
class _Nights:
    runs: list[RunLine]


def _nights_json(runs: list[RunLine]) -> str:
    """A line's nights as ``to_json`` writes them inside the report (4 spaces deeper)."""
    text = to_json(_Nights(runs))
    return text[len('{\n  "runs": '):-len("\n}")].replace("\n", "\n    ")


def _value_json(value) -> str:
    """One field of a line as ``to_json`` writes it (reports.common: a Decimal as its text,
    a date as ISO)."""
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, (Decimal, date)):
        value = str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, str):
        return encode_basestring(value)
    raise TypeError(type(value))


#: _value_json by a value's exact class (one look-up a field, not a chain of isinstance: a
#: statement of 60,000 lines has two million fields); other classes take _value_json
VALUE_JSON = {type(None): lambda v: "null", int: int.__repr__, str: encode_basestring,
              Decimal: lambda v: f'"{v}"', date: lambda v: f'"{v.isoformat()}"'}
#: a line's fields as to_json indents them, up to each one's value
FIELD_HEADS = tuple(f'      "{name}": ' for name in LINE_FIELDS)
#: a line's fields but its nights, read in one call
LINE_VALUES = attrgetter(*LINE_FIELDS[:-1])


def _line_json(ln: FinanceLine) -> str:
    """A line as ``to_json`` writes it in the report's list (its fields 6 spaces deep), up to
    the value of its last field, its nights."""
    parts = ["    {\n"]
    for head, value in zip(FIELD_HEADS, LINE_VALUES(ln)):
        cls = value.__class__
        if cls is Decimal:                    # most fields: inline, no call
            text = f'"{value}"'
        elif cls is list:
            text = ("[\n" + ",\n".join(
                "        " + VALUE_JSON.get(v.__class__, _value_json)(v) for v in value)
                + "\n      ]") if value else "[]"
        else:
            text = VALUE_JSON.get(cls, _value_json)(value)
        parts += (head, text, ",\n")
    parts.append(FIELD_HEADS[-1])
    return "".join(parts)


def build_finance(v, contract) -> FinanceReport:
    """The context of a :class:`recon.finance.verify.Verification`."""
    lines = []
    nights: dict[int, list[RunLine]] = {}    # lines that share their nights share them here
    days: dict[int, list[date]] = {}         # and the days without data
    shares: dict[Fraction, str] = {}
    words: dict[tuple, list[str]] = {}       # the status labels of lines alike in statuses
    for r in v.lines:
        s = r.source
        if id(r.runs) not in nights:
            days[id(r.runs)] = r.unknown_days
            nights[id(r.runs)] = [
                RunLine(e.first, e.last, e.nights, e.state, labels.NIGHT_STATE[e.state],
                        e.contracted, e.allocated, _frac(e.share), _dec(e.accepted),
                        _dec(e.unknown), _dec(e.accepted * e.nights), _dec(e.unknown * e.nights))
                for e in r.runs]
        lines.append(FinanceLine(
            s.line, s.invoice_no, s.issued, s.period_start, s.period_end, r.item_no,
            r.item_name, r.unit, s.quantity, s.unit_price, r.contract_price,
            shares.get(r.share) or shares.setdefault(r.share, _frac(r.share)),
            r.contracted_qty, r.delivered_qty, s.amount, s.tax_rate, s.tax, s.total,
            s.total_daxie, r.billed, r.expected, r.accepted, r.unknown_value, r.difference,
            r.price_difference, r.statuses,
            words.get(tuple(r.statuses)) or words.setdefault(
                tuple(r.statuses), [labels.FINANCE_STATUS[c] for c in r.statuses]),
            r.notes, days[id(r.runs)], nights[id(r.runs)]))
    unverified = [ln for ln in lines if "unverified" in ln.statuses]
    unverified_billed = sum((ln.billed_amount for ln in unverified), Decimal(0))
    exit_code = 0 if v.ok else 1
    codes = Counter(c for ln in lines for c in ln.statuses)   # "ok" is a line's only code
    return FinanceReport(
        v.statement.name, str(v.statement.path), v.statement.encoding, contract.number,
        contract.title, contract.agency, contract.provider, v.statement.period_start,
        v.statement.period_end, datetime.now(SHANGHAI).replace(microsecond=0), exit_code,
        verdict(v, lines, unverified, unverified_billed), v.statuses, lines,
        [MissingItem(n, contract.items[n].short_name) for n in v.missing_items], v.penalties,
        Money.of(v.total("billed")), Money.of(v.total("accepted")),
        Money.of(v.total("unknown_value")), Money.of(v.total("difference")),
        Money.of(v.total("price_difference")), Money.of(v.penalty_total),
        Money.of(unverified_billed),
        counts={"lines": len(lines), "ok": codes["ok"], "not_ok": len(lines) - codes["ok"],
                "unverified": len(unverified),
                **{code: codes[code]
                   for code in labels.FINANCE_STATUS if code not in ("ok", "missing_item")}},
        statement_notes=v.total_notes)


def verdict(v, lines: list[FinanceLine], unverified: list[FinanceLine],
            unverified_billed: Decimal) -> str:
    """The statement's verdict in one sentence: 核对无误 only when every line was checked
    against measured nights and found right; what could not be verified is said with its
    value (nothing verified is never 核对无误)."""
    unknown = v.total("unknown_value")
    problems = [ln for ln in lines if set(ln.statuses) - {"ok", "unverified"}]
    parts = []
    if problems or v.statuses:
        parts.append("账单有需要处理的问题")
    if unverified:
        parts.append(f"{len(unverified)} 行无法核实（无一晚计量，账单金额 "
                     f"{fmt(unverified_billed)} 元）")
    if unknown:
        parts.append(f"无法核实的价值合计 {fmt(unknown)} 元（无计量的夜晚，另列）")
    if not parts:
        return "账单各行核对无误"
    if not (problems or v.statuses):
        parts.insert(0, "已计量的夜晚核对无误" if not unverified else
                     "账单无法核实" if len(unverified) == len(lines) else "账单有无法核实的行")
    return "；".join(parts)


@dataclass
class LineGroup:
    """Lines a reader takes in at once: the same item, invoice and period (正确 lines: and
    unit price) and the same nights without data, one row with their line numbers and sums.  A
    statement billed per resource has thousands of lines of each; each line's own figures
    are in the workbook's 明细 and verification.json."""
    item: str
    invoice_no: str
    period_start: date
    period_end: date
    unit_price: Decimal | None
    nights: str                # the nights without data (正确 lines) or all (无法核实)
    lines: list[int] = field(default_factory=list)
    billed: Decimal = Decimal(0)
    accepted: Decimal = Decimal(0)
    unknown: Decimal = Decimal(0)
    difference: Decimal = Decimal(0)

    @property
    def numbers(self) -> str:
        return _line_numbers(self.lines, None)


def _nights_text(runs: list[RunLine], unverified: bool) -> str:
    """A 无法核实 line's nights, each run with its state; a 正确 line's nights without data."""
    if unverified:
        return "；".join(f"{e.first}{f' 至 {e.last}' if e.nights > 1 else ''}（{e.nights} 晚）"
                        f"{e.state_label}" for e in runs)
    return "、".join(f"{e.first}{f' 至 {e.last}' if e.nights > 1 else ''}（{e.state_label}）"
                    for e in runs if e.state in UNVERIFIED_STATES)


def line_groups(lines: list[FinanceLine], unverified: bool) -> list[LineGroup]:
    """The 正确 lines (``unverified`` False) or the lines whose only status is 无法核实, as
    :class:`LineGroup` rows in the order of their first line."""
    want = ["unverified"] if unverified else ["ok"]
    groups: dict[tuple, LineGroup] = {}
    nights: dict[int, str] = {}          # lines that share their runs share the text
    for ln in lines:
        if ln.statuses != want:
            continue
        if id(ln.runs) not in nights:
            nights[id(ln.runs)] = _nights_text(ln.runs, unverified)
        price = None if unverified else ln.unit_price
        key = (ln.item_no, ln.item_name, ln.invoice_no, ln.period_start, ln.period_end, price,
               nights[id(ln.runs)])
        g = groups.get(key)
        if g is None:
            g = groups[key] = LineGroup(f"第{ln.item_no}项 {ln.item_name}", ln.invoice_no,
                                        ln.period_start, ln.period_end, price,
                                        nights[id(ln.runs)])
        g.lines.append(ln.line)
        g.billed += ln.billed_amount
        g.accepted += ln.accepted_amount
        g.unknown += ln.unknown_value
        g.difference += ln.difference
    return list(groups.values())


def render_html(report: FinanceReport) -> str:
    """verification.html: the lines with problems in full, the 无法核实 and the 正确 lines
    grouped (:func:`line_groups`)."""
    full = [ln for ln in report.lines if ln.statuses not in (["ok"], ["unverified"])]
    unverified = line_groups(report.lines, True)
    return env().get_template("finance.html.j2").render(
        r=report, problems=full, unverified=unverified,
        unverified_lines=sum(len(g.lines) for g in unverified),
        correct=line_groups(report.lines, False))


def write_finance(report: FinanceReport, folder: Path) -> dict[str, Path]:
    """FOLDER/verification.{xlsx,html,json} (FOLDER: recon.finance.verify.output_folder);
    each file replaced whole."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {ext: folder / f"verification.{ext}" for ext in ("xlsx", "html", "json")}
    buf = io.BytesIO()
    write_xlsx(report, buf)
    write_atomic(paths["xlsx"], buf.getvalue())
    write_atomic(paths["html"], render_html(report))
    write_atomic(paths["json"], report.json_bytes())
    return paths


# -- the workbook ---------------------------------------------------------------------
#: 明细 columns: (header, field or None for a formula, format, width)
LINE_COLUMNS = [
    ("行号", "line", "int", 6), ("发票号码", "invoice_no", "text", 14),
    ("计费起", "period_start", "date", 11), ("计费止", "period_end", "date", 11),
    ("序号", "item_no", "int", 6), ("项目", "item_name", "text", 22),
    ("数量", "quantity", "qty", 10), ("账单单价", "unit_price", "price", 12),
    ("合同单价", "contract_price", "price", 12), ("期间份额", "share", "text", 9),
    ("合同数量（日加权）", "contracted_qty", "qty", 12),
    ("交付数量（已计量夜，日加权）", "delivered_qty", "qty", 14),
    ("账单金额（含税）", "billed_amount", "money", 15),
    ("按账单单价应计", "expected_amount", "money", 15),
    ("应核准金额", "accepted_amount", "money", 15),
    ("无数据夜价值（另列）", "unknown_value", "money", 15),
    ("差额", None, "money", 15),
    ("单价差额", "price_difference", "money", 13),
    ("无数据夜数", "unknown_days", "int", 8), ("状态", "status_labels", "text", 22),
    ("说明", "notes", "wrap", 60),
]
TOTALLED = ("billed_amount", "expected_amount", "accepted_amount", "unknown_value", None,
            "price_difference")
RUN_COLUMNS = [
    ("账单行号", 8), ("序号", 6), ("项目", 22), ("起", 11), ("止", 11), ("夜数", 6),
    ("状态", 16), ("合同数量", 11), ("已分配", 11), ("当日份额", 10), ("当日核准价值", 14),
    ("当日无数据价值", 14), ("核准价值（本段）", 15), ("无数据价值（本段）", 15),
]
#: the evidence sheet: a row per run of alike nights (Excel's name limit is 31 characters)
RUN_SHEET = "依据（按连续相同的夜晚）"


#: the rows of a worksheet below its header (Excel's limit is 1,048,576 in all)
SHEET_ROWS = 1_048_575
#: the most characters a cell holds (Excel's limit is 32,767)
CELL_CHARS = 32_000


def _line_numbers(numbers: list[int], limit: int | None = CELL_CHARS) -> str:
    """Statement line numbers, runs folded: "2、5、9–12"; a list longer than ``limit``
    characters (a cell's: None, no limit) ends with how many there are in all."""
    runs, start = [], numbers[0]
    for prev, n in zip(numbers, numbers[1:] + [None]):
        if n != prev + 1:
            runs.append(str(start) if start == prev else f"{start}–{prev}")
            start = n
    text = "、".join(runs)
    if limit is not None and len(text) > limit:
        text = text[:text.rindex("、", 0, CELL_CHARS - 40)] + f"……（共 {len(numbers)} 行）"
    return text


def _col(n: int) -> str:
    from xlsxwriter.utility import xl_col_to_name  # heavy: only when a workbook is written
    return xl_col_to_name(n)


#: what makes Excel (and WPS) read a typed cell as a formula: such text keeps the quote prefix
FORMULA_START = ("=", "+", "-", "@")


def _num(value):
    """A cell number: Decimal -> float only in the workbook, where the file format needs it
    (here, and inline in _line_cells for 明细's million cells)."""
    return None if value is None else float(value)


def _shown(sheet):
    """A worksheet whose text cells show bidi controls visibly (reports.common.visible)."""
    write = sheet.write_string
    sheet.write_string = lambda row, col, text, *rest: write(row, col, visible(text), *rest)
    return sheet


def _plain_formulas(sheet):
    """A worksheet whose formulas are written as given: XlsxWriter rewrites each formula
    through some 30 regular expressions for Excel 365's newer functions (125 µs a cell, 7 s
    for the 差额 column of 60,000 lines); 明细's formulas are cell arithmetic and SUM, which
    need none.  Should XlsxWriter rename the method, this does nothing and is only slower."""
    if hasattr(sheet, "_prepare_formula"):
        sheet._prepare_formula = lambda formula, expand=False: formula.lstrip("=")
    return sheet


def _line_spec(f: dict, quoted: dict) -> list[tuple]:
    """明细's columns as _line_cells reads them: (column, field, kind, format, its quoted
    and its 'bad' variants), looked up once per workbook, not once per cell."""
    spec = []
    for c, (_, key, kind, _) in enumerate(LINE_COLUMNS):
        cell = "formula" if key is None else "number" if kind in NUMBER_KINDS else \
            "date" if kind == "date" else "text"
        name = "money" if key is None else kind
        spec.append((c, key, cell, f[name], quoted.get(name), f["bad"], quoted["bad"]))
    return spec


def _line_cells(ln: FinanceLine, spec: list[tuple], r: int, refs: tuple[str, str, str]):
    """明细's cells of one line, row ``r`` (0-based): [(column, kind, value, format)], empty
    cells left out (60,000 lines have many).  kind: number, date, text or formula."""
    B, O, P = refs
    cells = []
    for c, key, kind, fm, fq, bad, bad_q in spec:
        if key is None:  # 差额 = 账单 - 核准 - 无数据夜价值, on the written amounts
            cells.append((c, kind, (f"{B}{r + 1}-{O}{r + 1}-{P}{r + 1}",
                                    float(ln.difference)), fm))
            continue
        value = getattr(ln, key)
        if value is None:         # (a Decimal compared with "" costs an abc check)
            continue
        if kind == "number":
            cells.append((c, kind, float(len(value) if key == "unknown_days" else value), fm))
        elif kind == "date":
            cells.append((c, kind, value, fm))
        else:
            if value.__class__ is list:
                value = "；".join(value)
            if value == "":
                continue
            if key == "status_labels" and ln.statuses != ["ok"]:
                fm, fq = bad, bad_q
            value = str(value)
            if len(value) > CELL_CHARS // 2:     # within Excel's 32,767 UTF-16 units
                value = value[:CELL_CHARS // 2] + "……（已截断，全文见 verification.json）"
            cells.append((c, kind, value, fq if value.startswith(FORMULA_START) else fm))
    return cells


#: 明细's kinds of number cells
NUMBER_KINDS = frozenset(("money", "price", "qty", "int"))


#: Excel's serial number of a date (days since 1899-12-30, the 1900 date system)
EXCEL_EPOCH = date(1899, 12, 30)
#: what the rows written as XML use of a constant_memory worksheet (XlsxWriter 3)
ROW_INTERNALS = ("_write_single_row", "_check_dimensions", "_escape_control_characters",
                 "_escape_data", "fh", "previous_row")


class _Rows:
    """Rows of a worksheet written in order, each as XML straight into a constant_memory
    sheet's row file: the cells XlsxWriter writes for write_number, write_datetime,
    write_string (inline, control characters escaped) and write_formula (its cached value),
    without its checks and objects per cell (7 µs a cell: 明细 of 60,000 lines has a
    million cells).  Should XlsxWriter change what this uses, or the sheet not be in
    constant_memory mode, the cells go through its public methods: the same file, slower."""

    def __init__(self, sheet, columns: int):
        from xlsxwriter.utility import _preserve_whitespace  # heavy: only for a workbook

        self.sheet = sheet
        self.raw = bool(getattr(sheet, "constant_memory", False)) and \
            all(hasattr(sheet, a) for a in ROW_INTERNALS)
        self.letters = [_col(c) for c in range(columns)]
        self.preserve = _preserve_whitespace
        self.texts: dict = {}

    def write(self, r: int, cells) -> None:
        """Row ``r`` (0-based), after every row written before it: cells as _line_cells."""
        ws = self.sheet
        if not self.raw:
            for c, kind, value, fm in cells:
                if kind == "number":
                    ws.write_number(r, c, value, fm)
                elif kind == "date":
                    ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), fm)
                elif kind == "text":
                    ws.write_string(r, c, value, fm)
                else:
                    ws.write_formula(r, c, "=" + value[0], fm, value[1])
            return
        ws._write_single_row(r)      # the row before it, if written cell by cell, goes out
        n, parts, last, texts, letters = r + 1, [f'<row r="{r + 1}">'], 0, self.texts, \
            self.letters
        for c, kind, value, fm in cells:
            if kind == "text":
                # a text cell's XML after its reference: a statement billed per resource
                # repeats an item's name, its share and a status thousands of times
                xml = texts.get((value, fm))
                if xml is None:
                    text = ws._escape_data(ws._escape_control_characters(visible(value)))
                    space = ' xml:space="preserve"' if self.preserve(text) else ""
                    xml = texts[value, fm] = \
                        f'" s="{fm._get_xf_index()}" t="inlineStr"><is><t{space}>{text}</t></is></c>'
                parts.append(f'<c r="{letters[c]}{n}{xml}')
            elif kind == "number":
                parts.append(f'<c r="{letters[c]}{n}" s="{fm._get_xf_index()}"><v>'
                             f'{value:.16G}</v></c>')
            elif kind == "date":
                parts.append(f'<c r="{letters[c]}{n}" s="{fm._get_xf_index()}"><v>'
                             f'{(value - EXCEL_EPOCH).days}</v></c>')
            else:
                parts.append(f'<c r="{letters[c]}{n}" s="{fm._get_xf_index()}"><f>'
                             f'{ws._escape_data(value[0])}</f><v>{value[1]}</v></c>')
            last = c
        parts.append("</row>")
        ws.fh.write("".join(parts))
        ws._check_dimensions(r, last)


def write_xlsx(report: FinanceReport, target) -> None:
    """The workbook into ``target`` (a path or a binary file object), written row by row
    (reports.common.workbook's constant_memory: each sheet's rows strictly in order)."""
    wb, f, quoted = workbook(target, {
        "price": {"num_format": "#,##0.00######", "border": 1},
        "qty": {"num_format": "General", "border": 1},
        "day": {"num_format": "0.000000", "border": 1},
        "int": {"num_format": "0", "border": 1}}, constant_memory=True)
    summary, lines_ws, days_ws = (_shown(wb.add_worksheet(name))
                                  for name in ("汇总", "明细", RUN_SHEET))
    _plain_formulas(lines_ws)

    # 明细
    for c, (head, _, _, width) in enumerate(LINE_COLUMNS):
        lines_ws.write_string(0, c, head, f["head"])
        lines_ws.set_column(c, c, width)
    lines_ws.freeze_panes(1, 0)
    col_of = {key: c for c, (_, key, _, _) in enumerate(LINE_COLUMNS)}
    diff_col = [c for c, (h, *_) in enumerate(LINE_COLUMNS) if h == "差额"][0]
    refs = tuple(_col(col_of[k]) for k in ("billed_amount", "accepted_amount", "unknown_value"))
    rows, spec = _Rows(lines_ws, len(LINE_COLUMNS)), _line_spec(f, quoted)
    for r, ln in enumerate(report.lines, start=1):
        rows.write(r, _line_cells(ln, spec, r, refs))
    last = len(report.lines) + 1           # the last line's row number, as Excel shows it
    total_row = last                        # 0-based index of the row after the lines
    lines_ws.write_string(total_row, col_of["item_name"], "合计", f["bold"])
    totals = {}
    for key in TOTALLED:
        c = diff_col if key is None else col_of[key]
        value = {None: report.difference, "billed_amount": report.billed,
                 "expected_amount": None, "accepted_amount": report.accepted,
                 "unknown_value": report.unknown_value,
                 "price_difference": report.price_difference}[key]
        amount = value.amount if value is not None else \
            sum((ln.expected_amount for ln in report.lines), Decimal(0))
        ref = f"{_col(c)}2:{_col(c)}{last}"
        lines_ws.write_formula(total_row, c, f"=SUM({ref})", f["money_b"], _num(amount))
        totals[key] = f"明细!{_col(c)}{total_row + 1}"
    lines_ws.autofilter(0, 0, last - 1, len(LINE_COLUMNS) - 1)

    # 依据（按连续相同的夜晚）: the nights behind each line as runs of alike nights (a month's
    # line is 1-3 rows, not 30).  Lines that share theirs (the same item, nights and figures:
    # a statement billed per resource repeats them thousands of times) share one block, its
    # 账单行号 listing them
    for c, (head, width) in enumerate(RUN_COLUMNS):
        days_ws.write_string(0, c, head, f["head"])
        days_ws.set_column(c, c, width)
    days_ws.freeze_panes(1, 0)
    blocks: dict[int, tuple[list[RunLine], list[FinanceLine]]] = {}
    for ln in report.lines:
        blocks.setdefault(id(ln.runs), (ln.runs, []))[1].append(ln)
    r = 1
    for runs, lns in blocks.values():
        if len(runs) > SHEET_ROWS - r:
            days_ws.write_string(r, 0, f"依据超出工作表行数上限（{SHEET_ROWS:,} 行），其余见 "
                                 "verification.json", f["bad"])
            r += 1
            break
        first = lns[0]
        numbers = _line_numbers([ln.line for ln in lns]) if len(lns) > 1 else None
        for d in runs:
            if numbers is None:
                days_ws.write_number(r, 0, first.line, f["int"])
            else:
                days_ws.write_string(r, 0, numbers, f["text"])
            days_ws.write_number(r, 1, first.item_no, f["int"])
            days_ws.write_string(r, 2, first.item_name, f["text"])
            days_ws.write_datetime(r, 3, datetime.combine(d.first, datetime.min.time()),
                                   f["date"])
            days_ws.write_datetime(r, 4, datetime.combine(d.last, datetime.min.time()),
                                   f["date"])
            days_ws.write_number(r, 5, d.nights, f["int"])
            days_ws.write_string(r, 6, d.state_label,
                                 f["text"] if d.state == "measured" else f["bad"])
            days_ws.write_number(r, 7, _num(d.contracted), f["qty"])
            if d.allocated is None:
                days_ws.write_string(r, 8, "-", f["text"])
            else:
                days_ws.write_number(r, 8, _num(d.allocated), f["qty"])
            days_ws.write_string(r, 9, d.share, f["text"])
            days_ws.write_number(r, 10, _num(d.accepted), f["day"])
            days_ws.write_number(r, 11, _num(d.unknown), f["day"])
            days_ws.write_number(r, 12, _num(d.accepted_total), f["day"])
            days_ws.write_number(r, 13, _num(d.unknown_total), f["day"])
            r += 1
    if r > 1:
        days_ws.autofilter(0, 0, r - 1, len(RUN_COLUMNS) - 1)

    # 汇总
    summary.set_column(0, 0, 34)
    summary.set_column(1, 1, 18)
    summary.set_column(2, 2, 48)
    summary.set_column(3, 5, 16)
    summary.write_string(0, 0, f"账单核对：{report.statement}", f["title"])
    summary.freeze_panes(1, 0)
    info = [("合同", f"{report.contract_title}（{report.contract_number}）"),
            ("计费期间", f"{report.period_start} 至 {report.period_end}"),
            ("账单文件", report.file),
            ("结论", f"{report.exit_label}（退出码 {report.exit_code}）；{report.counts['lines']} 行中 "
                     f"{report.counts['not_ok']} 行有问题"),
            ("合同项目未计费", "、".join(f"第{m.item_no}项 {m.name}" for m in report.missing_items)
             or "无"),
            ("合计行核对", "；".join(report.statement_notes) or "无问题")]
    for i, (k, v) in enumerate(info, start=2):
        summary.write_string(i, 0, k, f["bold"])
        summary.write_string(i, 1, v, (quoted if v.startswith(FORMULA_START) else f)["text"])
    row = len(info) + 3
    for c, head in enumerate(("项目", "金额（元）", "大写")):
        summary.write_string(row, c, head, f["head"])
    figures = [
        ("账单金额合计（含税）", f"={totals['billed_amount']}", report.billed),
        ("应核准金额合计", f"={totals['accepted_amount']}", report.accepted),
        ("无法核实的价值合计（无计量的夜晚，另列）", f"={totals['unknown_value']}",
         report.unknown_value),
        ("差额合计（账单 - 核准 - 无法核实）", f"={totals[None]}", report.difference),
        ("其中单价差额", f"={totals['price_difference']}", report.price_difference),
    ]
    for i, (label, formula, money) in enumerate(figures, start=row + 1):
        summary.write_string(i, 0, label, f["bold"])
        summary.write_formula(i, 1, formula, f["money_b"], _num(money.amount))
        summary.write_string(i, 2, money.daxie, f["text"])
    # the penalty ledger: information, never a deduction from a statement (第七条: deducted
    # once, in the final settlement, recon finance settle)
    pen_first = row + len(figures) + 2            # where the penalty section starts (0-based)
    summary.write_string(pen_first, 0, PENALTY_SECTION, f["bold"])
    for c, head in enumerate(("日期", "条款", "说明", "状态", "金额（元）", "大写")):
        summary.write_string(pen_first + 1, c, head, f["head"])
    for i, p in enumerate(report.penalties, start=pen_first + 2):
        summary.write_datetime(i, 0, datetime.combine(p.dated, datetime.min.time()), f["date"])
        summary.write_string(i, 1, p.clause, f["text"])
        summary.write_string(i, 2, p.reason, f["wrap"])
        summary.write_string(i, 3, PENALTY_STATUS[p.status], f["text"])
        summary.write_number(i, 4, _num(p.amount), f["money"])
        summary.write_string(i, 5, daxie(p.amount), f["text"])
    end = pen_first + 2 + len(report.penalties)   # the row after the list (0-based)
    if not report.penalties:
        summary.write_string(end, 0, "截至本期末台账无违约金", f["text"])
        end += 1
    first_row, last_row = pen_first + 3, pen_first + 2 + len(report.penalties)  # Excel's numbers
    summary.write_string(end, 3, "台账计入合计（仅供参考，不从本账单扣除）", f["bold"])
    summary.write_formula(
        end, 4, f'=SUMIF(D{first_row}:D{last_row},"{PENALTY_STATUS["counted"]}",'
        f'E{first_row}:E{last_row})' if report.penalties else "=0", f["money_b"],
        _num(report.penalty_total.amount))
    summary.write_string(end, 5, report.penalty_total.daxie, f["text"])
    wb.close()

