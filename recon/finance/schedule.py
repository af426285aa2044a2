"""The payments of 第七条 and their dates, counted in China's working days.

第七条 2: 50% (首款) within 20 working days of signing; the other 50% (尾款)
once the term has ended and the provider passed the annual assessment.
第七条 3: the provider invoices 5 working days before each payment.

The first payment's last day is the 20th working day after the signing day
(the signing day itself is not counted).  The final payment has no fixed day
in the contract: the earliest it can fall is the first working day after the
term's last day (shown as "not before"), but it is paid when the agency pays
it, after the annual assessment.  Its invoice deadline is therefore counted
from the *planned* payment date the agency records (``recon finance schedule
--planned-final D`` or ``[payments] final_planned`` in recon.toml; a payments
ledger can pass it the same way), never from the earliest day: counted from
the earliest day it would fall before the term has even ended.  Without a
planned date the deadline is shown as not yet known.  Dates come from
:class:`recon.calendar.WorkCalendar`; a year it does not cover is an error for
that payment, never a guess.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from recon.calendar import CalendarError, WorkCalendar
from recon.errors import ConfigError
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
    #: the last day it may be paid (首款), the planned day or else the earliest (尾款);
    #: None when the calendar does not cover the year it needs
    due: date | None
    due_kind: str            # "by" | "planned" | "not_before"
    #: None for the final payment until its payment date is planned
    invoice_by: date | None
    error: str | None = None
    #: the final payment: the earliest day it may be paid (the term over)
    earliest: date | None = None


def first_payment_due(contract, cal: WorkCalendar) -> date:
    return cal.add_workdays(contract.start, FIRST_WITHIN_WORKDAYS)


def invoice_deadline(due: date, cal: WorkCalendar) -> date:
    return cal.add_workdays(due, -INVOICE_WORKDAYS_BEFORE)


def check_planned_final(contract, cal: WorkCalendar, planned: date) -> None:
    """A planned final payment falls on a working day after the term (exit 3 otherwise)."""
    earliest = _next_workday(contract.end, cal)
    if planned < earliest:
        raise ConfigError(f"planned final payment {planned} is before the earliest day it may "
                          f"be paid, {earliest} (the first working day after the term's last "
                          f"day {contract.end}; 第七条第2款)")
    if not cal.is_workday(planned):
        raise ConfigError(f"planned final payment {planned} is not a working day "
                          f"({cal.source_of(planned.year)}): plan it on a working day")


def schedule(contract, cal: WorkCalendar, planned_final: date | None = None) -> list[Payment]:
    """Both payments; a payment whose dates need an uncovered year carries the error.
    ``planned_final``: the day the agency plans to pay the final 50%; its invoice
    deadline is counted from it (None: the deadline is not known yet)."""
    first_amount = cents(contract.total * FIRST_SHARE)
    out = []
    try:
        due = first_payment_due(contract, cal)
        out.append(Payment(1, "首款（合同金额 50%）", first_amount,
                           f"合同签署完毕后 {FIRST_WITHIN_WORKDAYS} 个工作日内（第七条第2款）",
                           due, "by", invoice_deadline(due, cal)))
    except CalendarError as exc:
        out.append(Payment(1, "首款（合同金额 50%）", first_amount,
                           f"合同签署完毕后 {FIRST_WITHIN_WORKDAYS} 个工作日内（第七条第2款）",
                           None, "by", None, str(exc)))
    # the two halves add up to the total exactly, whatever the rounding of the first
    final = Payment(2, "尾款（合同金额 50%）", contract.total - first_amount,
                    f"合同期满（{contract.end}）且乙方年度考核合格后（第七条第2款）",
                    None, "not_before", None)
    try:
        final.earliest = final.due = _next_workday(contract.end, cal)
        if planned_final is not None:
            check_planned_final(contract, cal, planned_final)
            final.due, final.due_kind = planned_final, "planned"
            final.invoice_by = invoice_deadline(planned_final, cal)
    except CalendarError as exc:
        final.error = str(exc)
    out.append(final)
    return out


#: whether a recorded payment kept to 第七条第2款
TIMING = {"on_time": "按期", "late": "逾期", "early": "早于合同约定", "unknown": "无法判定"}


@dataclass
class Timing:
    state: str               # on_time | late | early | unknown (TIMING)
    text: str                # the sentence a reader checks: the rule, the day, the source

    @property
    def label(self) -> str:
        return TIMING[self.state]


def payment_timing(contract, cal: WorkCalendar, kind: str, paid_on: date) -> Timing:
    """The first payment against its last day (the 20th working day after signing); the
    final one against the term's end (it falls due only after the term and a passed annual
    assessment, so a day inside the term is early).  A year the calendar lacks: unknown,
    with the calendar's message."""
    try:
        if kind == "first":
            due = first_payment_due(contract, cal)
            rule = (f"最迟付款日 {due}（签署日 {contract.start} 后第 {FIRST_WITHIN_WORKDAYS} 个"
                    f"工作日，{cal.source_of(due.year)}；第七条第2款）")
            if paid_on <= due:
                return Timing("on_time", f"{paid_on} 支付，按期：{rule}")
            late = 0
            day = due
            while day < paid_on:
                day = cal.add_workdays(day, 1)
                late += 1
            return Timing("late", f"{paid_on} 支付，逾期 {late} 个工作日：{rule}")
        if paid_on <= contract.end:
            return Timing("early", f"{paid_on} 支付，早于合同期满（{contract.end}）：尾款于合同期满"
                          f"且乙方年度考核合格后支付（第七条第2款）")
        earliest = _next_workday(contract.end, cal)
        return Timing("on_time", f"{paid_on} 支付，在合同期满之后（最早付款日 {earliest}，"
                      f"{cal.source_of(earliest.year)}；第七条第2款）")
    except CalendarError as exc:
        return Timing("unknown", f"{paid_on} 支付；是否按期无法判定：{exc}")


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
        if p.due_kind == "planned":
            out.append(f"  最早付款日：{p.earliest}（{cal.source_of(p.earliest.year)}）")
        word = {"by": "最迟付款日", "planned": "计划付款日", "not_before": "最早付款日"}[p.due_kind]
        out.append(f"  {word}：{p.due}（{cal.source_of(p.due.year)}）")
        if p.invoice_by is None:
            out.append(f"  乙方开票截止：未定（计划付款日前 {INVOICE_WORKDAYS_BEFORE} 个工作日，"
                       f"第七条第3款；付款日未定：用 --planned-final 日期 或 recon.toml "
                       f"[payments] final_planned 记录计划付款日）")
        else:
            out.append(f"  乙方开票截止：{p.invoice_by}（付款前 {INVOICE_WORKDAYS_BEFORE} 个"
                       f"工作日，第七条第3款）")
    return "\n".join(out)
