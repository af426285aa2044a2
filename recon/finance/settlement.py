"""The final settlement (尾款结算): the final payment as finance books it (第七条, 第十二条).

第七条第2款: the final 50% (1,459,779.00 of 2,919,558.00) is paid once the term has
ended and the provider passed the annual assessment; 第七条第3款: the provider invoices
5 working days before the payment.  The penalties of the ledger (附件2, 附件3) are
deducted here, once, as a line of their own with their clauses, never from a statement
(a verification only shows them).  What is deducted:

* the *counted* penalties of the ledger as concluded for the contract's newest stored night
  in its term (:func:`recon.conclude.last_term_night`; read by :func:`recon.conclude.ledger`,
  summed by :func:`recon.store.penalty_total`: the one sum);
* capped at 第十二条第3款's 10% of the contract total (291,955.80, assessment.toml
  [cap]); the excess is stated, not deducted, and is itself the agency's right to
  terminate and claim its loss (第十二条第3款);
* a *pending* penalty (待定) is listed and not deducted.

The gate (年度考核合格? 验收合格?) is read from the ledgers that record them, when the
store has them; until it does each is 未记录 and the gate says 未核实, never passed.
Before the term's last day the settlement is a forecast (预估) and says what is still open.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from recon import conclude, store as stored
from recon.calendar import WorkCalendar
from recon.finance.schedule import (INVOICE_WORKDAYS_BEFORE, Timing, check_planned_final,
                                    invoice_deadline, payment_timing, schedule)
from recon.ledgers import acceptance as acceptance_ledger, payments
from recon.money import fmt
from recon.penalties import PenaltyLine, cap as penalty_cap

#: the store tables the acceptance and annual-assessment ledgers keep their outcomes in
#: (recon acceptance record; the annual report): read when present, 未记录 until then
GATES = {
    "annual": ("年度考核合格", "第七条第2款"),
    "acceptance": ("验收合格", "第六条"),
}
#: a gate's state, as the settlement shows it
GATE_STATE = {"passed": "已通过", "failed": "未通过", "unknown": "未核实"}


@dataclass
class Gate:
    code: str                # annual | acceptance
    name: str                # 年度考核合格
    clause: str
    state: str               # passed | failed | unknown (GATE_STATE)
    detail: str              # 未记录 / what the ledger says

    @property
    def label(self) -> str:
        return GATE_STATE[self.state]


def gate(store, contract, config, code: str) -> Gate:
    """One condition of the final payment (第七条2), as the store records it: the final
    acceptance's latest record (recon acceptance record), the annual verdict as
    recon.conclude.annual stored it (settle concludes it first). Never passed by default: a
    gate with nothing recorded or not yet decidable is 未核实.  The acceptance records are
    ``contract``'s own (its ``owner``)."""
    name, clause = GATES[code]
    if code == "acceptance":
        final = next((r for r in acceptance_ledger.latest(store, owner=contract.owner)
                      if r.period == "final"), None)
        if final is None:
            return Gate(code, name, clause, "unknown", "未记录（recon acceptance record "
                                                       "--period final）")
        return Gate(code, name, clause, "passed" if final.result == "pass" else "failed",
                    f"{final.decided_on} 验收{'通过' if final.result == 'pass' else '未通过'}"
                    f"（第 {final.revision} 次记录）")
    _, year = conclude.ensure_annual(store, contract, config)
    if year.passed is None:
        return Gate(code, name, clause, "unknown", "；".join(year.open) or "尚不能判定")
    return Gate(code, name, clause, "passed" if year.passed else "failed",
                "年度考核通过" if year.passed else "年度考核未通过")


@dataclass
class Settlement:
    as_of: date                      # the day the settlement is made (today)
    ledger_as_of: date | None        # the night the ledger is concluded for: the newest in the term
    forecast: bool                   # before the term's last day: 预估
    contract_total: Decimal
    first_amount: Decimal
    final_amount: Decimal
    counted: list[PenaltyLine]
    pending: list[PenaltyLine]
    penalty_total: Decimal           # recon.store.penalty_total of that ledger
    cap: Decimal
    deduction: Decimal               # min(total, cap)
    excess: Decimal                  # above the cap: stated, not deducted
    net: Decimal                     # final_amount - deduction
    gates: list[Gate]
    first_payment: payments.Payment | None
    first_timing: Timing | None
    final_payment: payments.Payment | None
    planned: date | None
    earliest: date | None
    invoice_by: date | None
    calendar_note: str
    open_points: list[str] = field(default_factory=list)

    @property
    def gate_passed(self) -> bool:
        return all(g.state == "passed" for g in self.gates)

    @property
    def over_cap(self) -> bool:
        return self.excess > 0


def settle(store, contract, config, cal: WorkCalendar, as_of: date,
           planned: date | None = None) -> Settlement:
    """The settlement as of ``as_of``.  A planned payment date in a year the calendar lacks
    (or before the term ends, or not a working day) is an error (exit 3), never a guess.
    The payments and final acceptance read are ``contract``'s own (its ``owner``), never
    another contract's."""
    ledger_as_of = conclude.last_term_night(store, contract)  # the ledger of its own term
    lines: list[PenaltyLine] = []
    total = Decimal("0.00")
    if ledger_as_of is not None:
        conclude.ensure_night(store, contract, config, ledger_as_of)
        # the year concluded on that ledger (a final acceptance recorded since counts); the
        # gate reads it as stored
        conclude.annual(store, contract, config)
        lines = conclude.ledger(store, ledger_as_of)
        total = stored.penalty_total(store, ledger_as_of)
    counted = [p for p in lines if p.status == "counted"]
    pending = [p for p in lines if p.status != "counted"]
    limit = penalty_cap(contract, config)
    deduction = min(total, limit)
    first, final = schedule(contract, cal, None)[:2]

    invoice_by = earliest = None
    if planned is not None:   # the error names the year the calendar lacks: exit 3
        check_planned_final(contract, cal, planned)
        invoice_by = invoice_deadline(planned, cal)
        earliest = final.earliest
        calendar_note = (f"计划付款日 {planned}（{cal.source_of(planned.year)}）前 "
                         f"{INVOICE_WORKDAYS_BEFORE} 个工作日（第七条第3款）")
    else:
        earliest = final.earliest
        calendar_note = (f"计划付款日未定：开票截止未定（计划付款日前 {INVOICE_WORKDAYS_BEFORE} 个"
                         "工作日，第七条第3款；用 --planned-final 或 recon.toml [payments] "
                         "final_planned 记录计划付款日）")
        if final.error:
            calendar_note += f"；最早付款日未知：{final.error}"

    paid = payments.latest(store, contract.owner)
    first_paid = paid.get("first")
    first_timing = payment_timing(contract, cal, "first", first_paid.paid_on) \
        if first_paid else None
    gates = [gate(store, contract, config, "annual"),
             gate(store, contract, config, "acceptance")]

    s = Settlement(as_of, ledger_as_of, as_of <= contract.end, contract.total, first.amount,
                   final.amount, counted, pending, total, limit, deduction,
                   max(total - limit, Decimal("0.00")), final.amount - deduction, gates,
                   first_paid, first_timing, paid.get("final"), planned, earliest, invoice_by,
                   calendar_note)
    s.open_points = open_points(s, contract)
    return s


def open_points(s: Settlement, contract) -> list[str]:
    """What is still open before the final payment can be booked as shown."""
    out = []
    if s.forecast:
        out.append(f"服务期至 {contract.end} 尚未届满：本结算为预估，期满后的夜晚、月份与违约金"
                   "尚未发生或尚未结论")
    if s.ledger_as_of is None:
        out.append("库中尚无夜间记录：违约金台账为空")
    else:
        out.append(f"违约金台账截至 {s.ledger_as_of}（本合同服务期内最近一晚）的结论；之后导入的事件、扩容、"
                   "通知在下一晚或 recon report monthly 后计入")
    for g in s.gates:
        if g.state != "passed":
            out.append(f"{g.name}（{g.clause}）：{g.label}（{g.detail}）")
    if s.pending:
        out.append(f"{len(s.pending)} 项违约金待定，合计 "
                   f"{fmt(sum((p.amount for p in s.pending), Decimal(0)))} 元，未扣除")
    estimates = [p for p in s.counted if p.estimate]
    if estimates:
        out.append(f"{len(estimates)} 项计入的违约金为估算，尚未经甲方确认（recon penalties "
                   "confirm）")
    if s.first_payment is None:
        out.append("首款尚未记录（recon finance payment add --kind first）")
    elif s.first_timing and s.first_timing.state == "late":
        out.append(f"首款逾期：{s.first_timing.text}")
    if s.planned is None:
        out.append("尾款计划付款日未定，开票截止日未定")
    if s.final_payment is not None and s.final_payment.amount != s.net:
        out.append(f"已记录的尾款实付 {fmt(s.final_payment.amount)} 元（{s.final_payment.paid_on}）"
                   f"与本结算净额 {fmt(s.net)} 元不符")
    if s.over_cap:
        out.append(f"违约金累计超出第十二条第3款上限 {fmt(s.excess)} 元：甲方有权解除合同并要求乙方"
                   "赔偿相应的经济损失")
    return out

