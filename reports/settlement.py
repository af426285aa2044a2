"""The final settlement (尾款结算) as finance books it: JSON, HTML and XLSX from one context.

:class:`SettlementReport` is ``settlement.json`` and what ``settlement.html.j2`` and the
workbook read, so the three cannot disagree; it only shows what
:mod:`recon.finance.settlement` concluded.  The workbook (XlsxWriter) has two sheets:
尾款结算 (the booking: final payment, the penalties deducted as their own line, the
cap of 第十二条, the net with 大写) and 违约金 (each counted penalty with its clause; the
pending ones listed apart).  Every figure that adds or subtracts is a formula over the
cells it reads, cached with recon's own value, so Excel recomputing it gets the same.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from recon.finance.settlement import Settlement
from recon.money import daxie
from recon.penalties import PenaltyLine
from recon.progress import SHANGHAI
from reports.common import Money, env, to_json, visible, workbook, write_atomic

#: the sheet the penalties are listed on, and where its list starts (Excel's row numbers)
PENALTY_SHEET = "违约金"
PENALTY_FIRST_ROW = 3


@dataclass
class GateLine:
    code: str
    name: str
    clause: str
    state: str
    label: str
    detail: str


@dataclass
class SettlementReport:
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    term_start: date
    term_end: date
    as_of: date
    generated_at: datetime
    #: 预估 before the term's last day, else 结算
    forecast: bool
    kind_label: str
    ledger_as_of: date | None
    contract_total: Money
    first_amount: Money
    final_amount: Money
    counted: list[PenaltyLine]
    pending: list[PenaltyLine]
    #: what the counted penalties add up to (recon.store.penalty_total)
    penalty_total: Money
    pending_total: Money
    cap: Money
    #: the deduction line: the counted total, at most the cap
    deduction: Money
    #: above the cap: stated, not deducted (第十二条第3款: a termination right)
    excess: Money
    #: the final payment less the deduction
    net: Money
    gates: list[GateLine]
    gate_passed: bool
    gate_label: str
    first_payment: dict | None
    final_payment: dict | None
    planned: date | None
    earliest: date | None
    invoice_by: date | None
    calendar_note: str
    open_points: list[str] = field(default_factory=list)
    exit_code: int = 0

    def to_json(self) -> str:
        return to_json(self)


def build_settlement(s: Settlement, contract) -> SettlementReport:
    gates = [GateLine(g.code, g.name, g.clause, g.state, g.label, g.detail) for g in s.gates]
    first = None if s.first_payment is None else {
        "paid_on": s.first_payment.paid_on, "amount": Money.of(s.first_payment.amount),
        "timing": s.first_timing.state if s.first_timing else None,
        "timing_label": s.first_timing.label if s.first_timing else None,
        "timing_text": s.first_timing.text if s.first_timing else None,
        "revision": s.first_payment.revision}
    final = None if s.final_payment is None else {
        "paid_on": s.final_payment.paid_on, "amount": Money.of(s.final_payment.amount),
        "revision": s.final_payment.revision}
    pending_total = sum((p.amount for p in s.pending), Decimal(0))
    # 0 only for a settlement finance can book: the term over and the gate passed
    ready = not s.forecast and s.gate_passed
    return SettlementReport(
        contract.number, contract.title, contract.agency, contract.provider, contract.start,
        contract.end, s.as_of, datetime.now(SHANGHAI).replace(microsecond=0), s.forecast,
        "预估（服务期未满）" if s.forecast else "结算", s.ledger_as_of,
        Money.of(s.contract_total), Money.of(s.first_amount), Money.of(s.final_amount),
        s.counted, s.pending, Money.of(s.penalty_total), Money.of(pending_total),
        Money.of(s.cap), Money.of(s.deduction), Money.of(s.excess), Money.of(s.net), gates,
        s.gate_passed, "付款条件已满足" if s.gate_passed else "付款条件未核实，尾款暂不能支付",
        first, final, s.planned, s.earliest, s.invoice_by, s.calendar_note, s.open_points,
        0 if ready else 1)


def output_folder(out_dir: Path, report: SettlementReport, owner: str | None = None) -> Path:
    """OUT/settlement/<as of>/: one folder per day a settlement (or forecast) is made; a
    follow-on contract's (``owner``, recon.contract.Contract.owner) under OUT/settlement/<number>/,
    so two contracts settled on one day never overwrite each other."""
    base = Path(out_dir) / "settlement"
    return (base / owner if owner else base) / report.as_of.isoformat()


def write_settlement(report: SettlementReport, folder: Path) -> dict[str, Path]:
    """FOLDER/settlement.{xlsx,html,json}, each replaced whole."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {ext: folder / f"settlement.{ext}" for ext in ("xlsx", "html", "json")}
    buf = io.BytesIO()
    write_xlsx(report, buf)
    write_atomic(paths["xlsx"], buf.getvalue())
    write_atomic(paths["html"], env().get_template("settlement.html.j2").render(r=report))
    write_atomic(paths["json"], report.to_json())
    return paths


# -- the workbook ---------------------------------------------------------------------
#: what makes Excel (and WPS) read a typed cell as a formula: such text keeps the quote prefix
FORMULA_START = ("=", "+", "-", "@")


def _num(value):
    """A cell number: Decimal -> float only here, where the file format needs it."""
    return None if value is None else float(value)


def _day(value: date):
    return datetime.combine(value, datetime.min.time())


def penalty_rows(report: SettlementReport) -> tuple[int, int]:
    """The Excel rows (first, last) of the counted penalties on the 违约金 sheet; last <
    first when there are none."""
    return PENALTY_FIRST_ROW, PENALTY_FIRST_ROW + len(report.counted) - 1


def write_xlsx(report: SettlementReport, target) -> None:
    """The workbook into ``target`` (a path or a binary file object)."""
    wb, f, quoted = workbook(target)
    book, pens = wb.add_worksheet("尾款结算"), wb.add_worksheet(PENALTY_SHEET)

    def text(ws, row, col, value, kind="text"):
        value = visible(str(value))
        ws.write_string(row, col, value, (quoted if value.startswith(FORMULA_START) else f)[kind])

    # 违约金: the counted penalties (deducted), then the pending ones (listed, not deducted)
    heads = ("日期", "条款", "系数", "说明", "依据", "确认", "金额（元）", "大写")
    widths = (11, 12, 8, 48, 40, 16, 14, 30)
    pens.write_string(0, 0, "计入的违约金（于尾款一次扣除）", f["title"])
    for c, (h, w) in enumerate(zip(heads, widths)):
        pens.write_string(1, c, h, f["head"])
        pens.set_column(c, c, w)
    pens.freeze_panes(2, 0)
    first, last = penalty_rows(report)

    def penalty(row, p: PenaltyLine):
        pens.write_datetime(row, 0, _day(p.dated), f["date"])
        text(pens, row, 1, p.clause)
        text(pens, row, 2, f"{p.coefficient * 100:.0f}%")
        text(pens, row, 3, p.reason, "wrap")
        text(pens, row, 4, p.basis or "-", "wrap")
        text(pens, row, 5, f"确认 {p.confirmed_by} {p.confirmed_on}" if p.confirmed_by
             else "估算（未确认）")
        pens.write_number(row, 6, _num(p.amount), f["money"])
        text(pens, row, 7, daxie(p.amount))

    for i, p in enumerate(report.counted):
        penalty(first - 1 + i, p)
    total_row = max(last, first - 1) + 1          # Excel's number of the 合计 row
    pens.write_string(total_row - 1, 5, "合计", f["bold"])
    pens.write_formula(total_row - 1, 6, f"=SUM(G{first}:G{last})" if report.counted else "=0",
                       f["money_b"], _num(report.penalty_total.amount))
    text(pens, total_row - 1, 7, report.penalty_total.daxie)
    pend = total_row + 1                          # 0-based row of the pending list's title
    pens.write_string(pend, 0, "待定的违约金（列示，不扣除）", f["title"])
    for c, h in enumerate(heads):
        pens.write_string(pend + 1, c, h, f["head"])
    for i, p in enumerate(report.pending, start=pend + 2):
        penalty(i, p)
    if not report.pending:
        pens.write_string(pend + 2, 0, "无", f["text"])

    # 尾款结算
    book.set_column(0, 0, 40)
    book.set_column(1, 1, 18)
    book.set_column(2, 2, 44)
    book.write_string(0, 0, f"尾款结算（{report.kind_label}）", f["title"])
    info = [("合同", f"{report.contract_title}（{report.contract_number}）"),
            ("服务期", f"{report.term_start} 至 {report.term_end}"),
            ("结算日", f"{report.as_of}" + ("（服务期未满，本表为预估）" if report.forecast else "")),
            ("违约金台账截至", str(report.ledger_as_of or "无夜间记录")),
            ("付款条件", f"{report.gate_label}：" + "；".join(
                f"{g.name}（{g.clause}）{g.label}（{g.detail}）" for g in report.gates)),
            ("计划付款日", str(report.planned or "未定")),
            ("乙方开票截止", str(report.invoice_by or "未定") + f"（{report.calendar_note}）")]
    for i, (k, v) in enumerate(info, start=2):
        book.write_string(i, 0, k, f["bold"])
        text(book, i, 1, v)
    head = len(info) + 3
    for c, h in enumerate(("项目", "金额（元）", "大写")):
        book.write_string(head, c, h, f["head"])
    r = {name: head + 2 + n for n, name in enumerate(
        ("total", "final", "penalties", "cap", "deduction", "excess", "net"))}  # Excel rows
    figures = [
        ("total", "合同总额（第七条第1款）", None, report.contract_total),
        ("final", "尾款（合同金额 50%，第七条第2款）", f"=B{r['total']}-ROUND(B{r['total']}*0.5,2)",
         report.final_amount),
        ("penalties", "违约金台账计入合计（见“违约金”表）", f"={PENALTY_SHEET}!G{total_row}",
         report.penalty_total),
        ("cap", "违约金上限（合同总额 10%，第十二条第3款）", None, report.cap),
        ("deduction", "减：违约金（计入合计，以上限为限）",
         f"=MIN(B{r['penalties']},B{r['cap']})", report.deduction),
        ("excess", "超出上限部分（不扣除；甲方有权解除合同）",
         f"=MAX(B{r['penalties']}-B{r['cap']},0)", report.excess),
        ("net", "尾款应付净额", f"=B{r['final']}-B{r['deduction']}", report.net),
    ]
    for key, label, formula, money in figures:
        row = r[key] - 1
        book.write_string(row, 0, label, f["bold"])
        if formula is None:
            book.write_number(row, 1, _num(money.amount), f["money_b"])
        else:
            book.write_formula(row, 1, formula, f["money_b"], _num(money.amount))
        text(book, row, 2, money.daxie)
    row = r["net"] + 1
    book.write_string(row, 0, "尚未完成的事项", f["bold"])
    for i, point in enumerate(report.open_points or ["无"], start=row + 1):
        text(book, i, 0, point, "wrap")
    wb.close()
