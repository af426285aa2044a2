"""Read the provider's billing statement (结算单/账单) or the lines of a VAT invoice.

CSV or XLSX, UTF-8, BOM or GBK (recon.textfiles), Chinese or English headers.
Reading only checks that each cell is what its column needs (a date, a number,
a percentage); whether the figures are *right* is recon.finance.verify's job.
A bad cell is an :class:`InputError` naming the file, line and column, raised
before anything is computed or written.

Columns (中文 / English); the required ones are 计费起, 计费止, 数量, 单价, 金额 and
one of 序号 / 项目名称:

  发票号码/invoice_no, 开票日期/issued, 计费起/period_start, 计费止/period_end,
  序号/item_no, 项目名称/name, 数量/quantity, 单价/unit_price, 金额/amount,
  税率/tax_rate, 税额/tax, 价税合计/total, 价税合计大写/total_daxie

A 税率 column needs 税额 or 价税合计 beside it: without them 金额 could be with or
without tax, and the check would be a guess.  A row whose 序号 or 项目名称 says 合计
(总计, total) is the statement's own totals row: read apart and checked against the
lines, not billed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from recon import cells
from recon.errors import InputError
from recon.textfiles import read_table

COLUMNS = {
    "invoice_no": ("发票号码", "invoice_no"),
    "issued": ("开票日期", "issued"),
    "period_start": ("计费起", "period_start"),
    "period_end": ("计费止", "period_end"),
    "item_no": ("序号", "item_no"),
    "name": ("项目名称", "name"),
    "quantity": ("数量", "quantity"),
    "unit_price": ("单价", "unit_price"),
    "amount": ("金额", "amount"),
    "tax_rate": ("税率", "tax_rate"),
    "tax": ("税额", "tax"),
    "total": ("价税合计", "total"),
    "total_daxie": ("价税合计大写", "total_daxie"),
}
REQUIRED = ("period_start", "period_end", "quantity", "unit_price", "amount")
#: what the 序号 or 项目名称 cell of a statement's totals row says
TOTAL_WORDS = ("合计", "总计", "价税合计", "total")


@dataclass(frozen=True)
class StatementLine:
    line: int                  # the line (CSV) or row (XLSX) a person sees
    invoice_no: str
    issued: date | None
    period_start: date
    period_end: date
    item_no: int | None        # None when the line names its item only by name
    name: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    total_daxie: str | None


@dataclass(frozen=True)
class TotalRow:
    """The statement's own 合计 row, as invoices and 结算单 print it: checked, never billed."""
    line: int
    amount: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    total_daxie: str | None


@dataclass
class Statement:
    path: Path
    name: str                  # the file's stem: OUT/finance/<name>/
    encoding: str
    lines: list[StatementLine]
    total_row: TotalRow | None = None

    @property
    def period_start(self) -> date:
        return min(ln.period_start for ln in self.lines)

    @property
    def period_end(self) -> date:
        return max(ln.period_end for ln in self.lines)


#: a billing period must lie within the contract term give or take this many years: a
#: period of 9999-12-30 .. 9999-12-31 or from 0001-01-01 is a typo, not a bill (and would
#: be counted out day by day)
SLACK_YEARS = 2


#: a statement billed per resource repeats its dates, prices and quantities thousands of
#: times: each text is parsed once (the values are immutable; a text that does not parse
#: raises every time, lru_cache keeps no exception)
_DAY = lru_cache(maxsize=4096)(cells.day)
_NUMBER = lru_cache(maxsize=65536)(cells.number)


def _date(path, line, col, text) -> date:
    return cells.read(path, line, col, _DAY, text)


def _number(path, line, col, text) -> Decimal:
    return cells.read(path, line, col, _NUMBER, text)


#: what an invoice prints in 税率 for a line that bears no VAT
EXEMPT = ("免税", "不征税", "0")


def _rate(path, line, col, text) -> Decimal:
    """'6%', '0.06' or '6' (a rate above 1 is read as percent, as invoices print it);
    免税 / 不征税 are 0."""
    t = text.strip()
    if t in EXEMPT:
        return Decimal(0)
    pct = t.endswith("%")
    value = _number(path, line, col, t.rstrip("%"))
    if pct or value > 1:
        value = value / 100
    if not 0 <= value < 1:
        raise InputError(path, f"not a tax rate: {text!r}", line=line, column=col)
    return value


def read_statement(path: str | Path, contract) -> Statement:
    """The statement's lines, every cell checked (its periods within ``contract``'s term
    give or take :data:`SLACK_YEARS` years)."""
    path = Path(path)
    table = read_table(path)
    lo, hi = _shift(contract.start, -SLACK_YEARS), _shift(contract.end, SLACK_YEARS)
    cols = table.resolve(COLUMNS, required=REQUIRED)
    if "item_no" not in cols and "name" not in cols:
        raise InputError(path, "needs a 序号 (item_no) or 项目名称 (name) column; the header "
                         "has: " + ", ".join(table.header), line=1, column="序号")
    if "tax_rate" in cols and "tax" not in cols and "total" not in cols:
        raise InputError(path, "a 税率 column needs 税额 or 价税合计 beside it", line=1,
                         column=cols["tax_rate"])
    lines, total_row = [], None
    for line, row in table.rows:
        texts = {key: row.get(col, "").strip() for key, col in cols.items()}

        def cell(key):
            return texts.get(key, "")

        def need(key):
            text = cell(key)
            if not text:
                raise InputError(path, "empty cell", line=line, column=cols[key])
            return text

        def money(key):
            return _number(path, line, cols[key], cell(key)) if cell(key) else None

        if "".join((cell("item_no") or cell("name")).split()).lower() in TOTAL_WORDS:
            if total_row is not None:
                raise InputError(path, f"a second totals row (the first is line "
                                 f"{total_row.line})", line=line,
                                 column=cols.get("item_no") or cols["name"])
            total_row = TotalRow(line, money("amount"), money("tax"), money("total"),
                                 cell("total_daxie") or None)
            continue
        start = _date(path, line, cols["period_start"], need("period_start"))
        end = _date(path, line, cols["period_end"], need("period_end"))
        for key, day in (("period_start", start), ("period_end", end)):
            if not lo <= day <= hi:
                raise InputError(path, f"{day} is far outside the contract term "
                                 f"{contract.start} .. {contract.end} (a billing period lies "
                                 f"between {lo} and {hi})", line=line, column=cols[key])
        if end < start:
            raise InputError(path, f"the period ends ({end}) before it starts ({start})",
                             line=line, column=cols["period_end"])
        item_no = None
        if cell("item_no"):
            n = _number(path, line, cols["item_no"], cell("item_no"))
            if n != n.to_integral_value() or n <= 0:
                raise InputError(path, f"not an item number: {cell('item_no')!r}", line=line,
                                 column=cols["item_no"])
            item_no = int(n)
        elif not cell("name"):
            raise InputError(path, "empty cell: neither 序号 nor 项目名称 names the item",
                             line=line, column=cols.get("item_no") or cols["name"])
        qty = _number(path, line, cols["quantity"], need("quantity"))
        if qty < 0:
            raise InputError(path, f"negative quantity {qty}", line=line,
                             column=cols["quantity"])
        price = _number(path, line, cols["unit_price"], need("unit_price"))
        if price < 0:
            raise InputError(path, f"negative unit price {price}", line=line,
                             column=cols["unit_price"])
        rate = _rate(path, line, cols["tax_rate"], cell("tax_rate")) if cell("tax_rate") else None
        lines.append(StatementLine(
            line, cell("invoice_no"),
            _date(path, line, cols["issued"], cell("issued")) if cell("issued") else None,
            start, end, item_no, cell("name"), qty, price,
            _number(path, line, cols["amount"], need("amount")),
            rate, money("tax"), money("total"), cell("total_daxie") or None))
    if not lines:
        raise InputError(path, "no statement lines", line=2)
    return Statement(path, path.stem, table.encoding, lines, total_row)


def _shift(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
