"""The payments of 第七条 and their dates, counted in China's working days.

第七条 2: 50% (首款) within 20 working days of signing; the other 50% (尾款)
once the term has ended and the provider passed the annual assessment.
第七条 3: the provider invoices 5 working days before each payment.

The first payment's last day is the 20th working day after the signing day
(the signing day itself is not counted).  The final payment has no fixed day
in the contract: the earliest it can fall is the first working day after the
term's last day, so that is what the schedule shows ("not before"), with its
invoice deadline.  Dates come from :class:`recon.calendar.WorkCalendar`; a
year it does not cover is an error for that payment, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from recon.calendar import CalendarError, WorkCalendar
from recon.money import cents, daxie, fmt

FIRST_SHARE = Decimal("0.5")
FIRST_WITHIN_WORKDAYS = 20
INVOICE_WORKDAYS_BEFORE = 5


@dataclass
class Payment:
    number: int
    label: str
    amount: Decimal
    #: when it becomes payable, as the contract says it
    condition: str
    #: the last day it may be paid (首款) or the earliest (尾款); None when the
    #: calendar does not cover the year it needs
    due: date | None
    due_kind: str            # "by" | "not_before"
    invoice_by: date | None
    error: str | None = None


def first_payment_due(contract, cal: WorkCalendar) -> date:
    return cal.add_workdays(contract.start, FIRST_WITHIN_WORKDAYS)


def invoice_deadline(due: date, cal: WorkCalendar) -> date:
    return cal.add_workdays(due, -INVOICE_WORKDAYS_BEFORE)


def schedule(contract, cal: WorkCalendar) -> list[Payment]:
    """Both payments; a payment whose dates need an uncovered year carries the error."""
    first_amount = cents(contract.total * FIRST_SHARE)
    out = []
    plans = [
        (1, "首款（合同金额 50%）", first_amount,
         f"合同签署完毕后 {FIRST_WITHIN_WORKDAYS} 个工作日内（第七条第2款）", "by",
         lambda: first_payment_due(contract, cal)),
        # the two halves add up to the total exactly, whatever the rounding of the first
        (2, "尾款（合同金额 50%）", contract.total - first_amount,
         f"合同期满（{contract.end}）且乙方年度考核合格后（第七条第2款）", "not_before",
         lambda: _next_workday(contract.end, cal)),
    ]
    for number, label, amount, condition, kind, due_of in plans:
        try:
            due = due_of()
            out.append(Payment(number, label, amount, condition, due, kind,
                               invoice_deadline(due, cal)))
        except CalendarError as exc:
            out.append(Payment(number, label, amount, condition, None, kind, None, str(exc)))
    return out


def _next_workday(day: date, cal: WorkCalendar) -> date:
    return cal.add_workdays(day, 1)



def schedule_text(contract, payments: list[Payment], cal: WorkCalendar) -> str:
    """The schedule as finance reads it: Chinese, amounts with 大写, each date's source."""
    out = [f"{contract.title}（{contract.number}）付款计划（第七条）",
           f"合同总额 {fmt(contract.total)} 元（大写：{daxie(contract.total)}）"]
    for p in payments:
        out += ["", f"第{p.number}期 {p.label}：{fmt(p.amount)} 元（大写：{daxie(p.amount)}）",
                f"  付款条件：{p.condition}"]
        if p.error:
            out.append("  付款日：未知　开票截止：未知（所需年份的工作日未提供，见错误信息）")
            continue
        word = "最迟付款日" if p.due_kind == "by" else "最早付款日"
        out += [f"  {word}：{p.due}（{cal.source_of(p.due.year)}）",
                f"  乙方开票截止：{p.invoice_by}（付款前 {INVOICE_WORKDAYS_BEFORE} 个工作日，"
                f"第七条第3款）"]
    return "\n".join(out)
