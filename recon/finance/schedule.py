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
from recon.money import cents

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

