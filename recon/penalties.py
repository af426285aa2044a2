"""One penalty ledger for everything (附件2, 附件3, 第十二条): every report reads it.

违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数.  The fee is the contract total
(a scaling penalty uses the item's line total when recon.toml says
``[scaling] penalty_basis = "item"``); coefficients come from the annex tables
in assessment.toml, never from code.

Each penalty is listed once, dated, with its clause, coefficient and amount:

* 附件3 row 4 (scaling): a request still open past the written notice's
  deadline, dated the first day after that deadline;
* service levels (附件2/附件3 rows on availability, outages, response,
  recovery and on-site times): per month, dated the month's last day in the
  term, so only months that have ended by ``until`` count;
* 附件3 row 3 (the monthly rule): the month that makes the failed months in a
  row reach three.  It applies only once the agency's rectification deadline
  also failed (assessment.toml ``rectification_failed``); until then it is
  listed as ``pending`` and not added to the total.

The running total is held against the cap of 第十二条 (10% of the contract
total): once penalties exceed it the agency may terminate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from recon import assess, labels, scaling
from recon.ledgers import notices as notice_ledger
from recon.money import cents

CAP_SHARE = Decimal("0.10")


@dataclass
class PenaltyLine:
    """One penalty of the ledger: the one type every report, the store and finance use."""

    key: str                 # stable: 'scaling:REQ', 'sla:2026-11:availability' ...
    dated: date
    clause: str              # 附件3第4条
    coefficient: Decimal
    fee: Decimal             # the fee the coefficient applies to, per month
    amount: Decimal
    status: str              # counted | pending
    reason: str
    month: str               # the month it belongs to (YYYY-MM)
    annex: int = 3
    row: int = 0
    item_no: int | None = None   # the contract item, where the penalty is about one
    running_total: Decimal = Decimal(0)
    over_cap: bool = False   # the running total exceeds the cap from this penalty on
    status_label: str = field(init=False)

    def __post_init__(self):
        self.status_label = labels.PENALTY_STATUS[self.status]

    def as_row(self) -> dict:
        """As the store keeps it (recon.store.LEDGER_COLUMNS)."""
        return {"key": self.key, "dated": self.dated, "month": self.month, "annex": self.annex,
                "row_no": self.row, "clause": self.clause, "coefficient": str(self.coefficient),
                "fee": self.fee, "amount": self.amount, "status": self.status,
                "reason": self.reason, "item_no": self.item_no,
                "running_total": self.running_total, "over_cap": self.over_cap}

    @classmethod
    def from_row(cls, r: dict) -> "PenaltyLine":
        return cls(r["key"], r["dated"], r["clause"], Decimal(r["coefficient"]), r["fee"],
                   r["amount"], r["status"], r["reason"], r["month"], r["annex"], r["row_no"],
                   r["item_no"], r["running_total"], r["over_cap"])


def cap(contract) -> Decimal:
    """第十二条: penalties above 10% of the contract total allow termination (291,955.80)."""
    return cents(contract.total * CAP_SHARE)


def termination(figures) -> tuple[bool, str]:
    """第十二条's termination conditions on the contract year's events (附件1 levels, the
    agency's judgement in its ledger): one A-level event, or three B-level events."""
    a, b = figures.events_a, figures.events_b
    reasons = []
    if a:
        reasons.append(f"A 级事件 {len(a)} 次（{'、'.join(a)}）")
    if len(b) >= 3:
        reasons.append(f"B 级事件 {len(b)} 次（{'、'.join(b)}）")
    if reasons:
        return True, "第十二条：合同年度内" + "，".join(reasons) + "，甲方有权解除合同"
    return False, f"合同年度内 A 级事件 {len(a)} 次、B 级事件 {len(b)} 次，未达到第十二条解除条件"


def amount(fee: Decimal, months: int, coefficient: Decimal) -> Decimal:
    """违约金 = 信息系统云服务费 / 服务月数 x 惩罚系数, to the fen: the one formula."""
    return cents(fee / months * coefficient)


def _make(key, dated, row: "assess.AnnexRow", contract, reason, status="counted",
          fee: Decimal | None = None) -> PenaltyLine:
    """A penalty of ``row``; the fee is the contract total unless given (an item's)."""
    fee = contract.total if fee is None else fee
    return PenaltyLine(key, dated, row.clause, row.coefficient, cents(fee / contract.months),
                   amount(fee, contract.months, row.coefficient), status, reason,
                   f"{dated:%Y-%m}", row.annex, row.row)


def _band(rows, value: Decimal):
    """The row whose band holds ``value`` (above < value <= upto); past the last band, the
    highest band (the tables stop there), said in the reason."""
    for r in sorted(rows, key=lambda r: r.upto or 0):
        if value > (r.above or 0) and (r.upto is None or value <= r.upto):
            return r, ""
    top = max(rows, key=lambda r: r.upto or 0, default=None)
    if top is not None and value > (top.upto or 0):
        return top, f"（超过表列最高档 {top.upto} 分钟，按最高档计）"
    return None, ""


def sla_penalties(a: "assess.Assessment", rules: "assess.Rules", contract) -> list[PenaltyLine]:
    """The service-level breaches of one assessed month, each priced by its annex row."""
    f, p = a.figures, a.period
    major = bool(f.major_loss)
    annex = 2 if major else 3
    flag = f"（甲方台账标记造成重大损失：{'、'.join(f.major_loss)}）" if major else ""
    out = []
    floor = Decimal(str(rules.criteria["availability"].get("min_availability", "0.9999")))
    if f.availability < floor:
        comp = rules.rows("availability_complaints", 3)
        if major:
            row = rules.rows("availability", 2)[0]
        elif comp and f.complaints_in_term >= (comp[0].complaints or 3):
            row = comp[0]
        else:
            row = rules.rows("availability", 3)[0]
        out.append(_make(f"sla:{p.month}:availability", p.last, row, contract,
                         f"{p.month} 可用性 {(f.availability * 100).quantize(Decimal('0.0001'))}%"
                         f" 低于 {(floor * 100).normalize()}%；服务期内投诉 {f.complaints_in_term} 次"
                         f"{flag}"))
    long_row = (rules.rows("outage_long", 3) or [None])[0]
    rep_row = (rules.rows("outage_repeated", 3) or [None])[0]
    for s in f.systems:
        minutes = Decimal(s.seconds) / 60
        if rep_row and (s.outages >= (rep_row.count or 3) or minutes > (rep_row.above or 480)):
            out.append(_make(f"sla:{p.month}:outage:{s.system}", p.last, rep_row, contract,
                             f"{s.system} 本月中断 {s.outages} 次，累计 "
                             f"{minutes.quantize(Decimal('0.1'))} 分钟"))
        elif long_row and Decimal(s.longest_seconds) / 60 > (long_row.above or 120):
            out.append(_make(f"sla:{p.month}:outage:{s.system}", p.last, long_row, contract,
                             f"{s.system} 单次中断 "
                             f"{(Decimal(s.longest_seconds) / 60).quantize(Decimal('0.1'))} 分钟"
                             f"{'（月末仍未恢复）' if s.open else ''}"))
    checks = [("response_mean", f.mean_exact("response"), "平均响应时间"),
              ("recovery_mean", _mean_all_recovery(f), "平均故障恢复时间")]
    if f.on_site_max_seconds is not None:
        unattended = Decimal(f.on_site_max_seconds) / 60 - rules.unattended_after_minutes
        if unattended > 0:
            checks.append(("on_site", unattended,
                           f"到场超出 {rules.unattended_after_minutes} 分钟时限后的无人值守时间"))
    for rule, value, label in checks:
        if value is None:
            continue
        row, note = _band(rules.rows(rule, annex), value)
        if row is not None:
            out.append(_make(f"sla:{p.month}:{rule}", p.last, row, contract,
                             f"{p.month} {label} {value.quantize(Decimal('0.1'))} 分钟"
                             f"{note}{flag}"))
    return out


def _mean_all_recovery(f) -> Decimal | None:
    n = f.recovery_n + f.recovery_important_n
    if not n:
        return None
    return Decimal(f.recovery_seconds + f.recovery_important_seconds) / n / 60


def scaling_coefficient(config) -> Decimal:
    """附件3 row 4's coefficient (20%), from assessment.toml: the nightly flags and their
    finding text use the same figure as the ledger."""
    return assess.load_rules(config).rows("scaling_notice", 3)[0].coefficient


def scaling_penalties(store, contract, config, rules: "assess.Rules", until: date
                      ) -> list[PenaltyLine]:
    """附件3 row 4: each request open past its written notice's deadline, once."""
    row = rules.rows("scaling_notice", 3)[0]
    out = []
    for st in scaling.states(store, contract, until):
        if not st.penalty_applies:
            continue
        r = st.request
        dated = r.notice_deadline + timedelta(days=1)
        done = f"，{st.completed_on} 才完成" if st.completed_on else "，仍未完成"
        by = f" {r.notice_id}（{r.notice_date} 发出）" if r.notice_id else ""
        pen = _make(f"scaling:{r.request_id}", dated, row, contract,
                    f"扩容申请 {r.request_id}（第{r.item_no}项）书面通知{by}期限 "
                    f"{r.notice_deadline} 已过{done}",
                    fee=None if config.penalty_basis == "contract"
                    else contract.items[r.item_no].line_total)
        pen.item_no = r.item_no
        out.append(pen)
    return out


def monthly_rule_penalties(history: list, rules: "assess.Rules", contract,
                           notices: dict | None = None) -> list[PenaltyLine]:
    """附件3 row 3: the month the failed months in a row reach the count, once per run.

    ``notices`` (third failed month -> the rectification notice sent about it, from the
    notices ledger): its deadline passed and the month it passes in failed too, the penalty
    counts; before that it is pending and says which notice it waits on."""
    row = rules.rows("monthly_assessment", 3)[0]
    out = []
    for a in history:
        if a.failed_in_a_row == rules.consecutive_months:
            counted = a.period.month in rules.rectification_failed
            notice = (notices or {}).get(a.period.month)
            if notice is not None and not counted:
                pen = _rectified(a, notice, history, row, contract)
                if pen is not None:
                    out.append(pen)
                continue
            out.append(_make(
                f"monthly:{a.period.month}", a.period.last, row, contract,
                f"连续 {a.failed_in_a_row} 个月未通过考核（至 {a.period.month}）"
                + ("，限期整改后仍未达到要求" if counted else
                   "；须经限期整改后仍不达标方可计收，暂列待定"),
                status="counted" if counted else "pending"))
    return out


def _rectified(a, notice, history: list, row, contract) -> PenaltyLine | None:
    """附件3 row 3 resting on a rectification notice: counted once its deadline passed and
    the month it passed in failed as well; None when that month passed (rectified)."""
    month = notice_ledger.judged_month(notice)
    judged = next((h for h in history if h.period.month == month), None)
    head = (f"连续 {a.failed_in_a_row} 个月未通过考核（至 {a.period.month}）；整改通知 "
            f"{notice.notice_id}（{notice.sent_on} 发出）整改期限 {notice.deadline}")
    key = f"monthly:{a.period.month}"
    if judged is None or judged.passed is None:
        why = (f"；期限届满且 {month} 月度考核仍未通过方可计收，暂列待定" if judged is None
               else f" 已过，{month} 月度考核无法判定，暂列待定")
        return _make(key, a.period.last, row, contract, head + why, status="pending")
    if judged.passed:
        return None
    return _make(key, judged.period.last, row, contract,
                 head + f" 已过，{month} 仍未通过考核，限期整改后仍未达到要求")


def ledger(store, contract, config, until: date, rules=None, history=None) -> list[PenaltyLine]:
    """Every penalty dated on or before ``until``, in date order, with the running total.

    ``history`` (the monthly assessments up to ``until``'s month) is computed when not
    given; the monthly report passes the one it already has.
    """
    rules = rules or assess.load_rules(config)
    if history is None:
        history = assess.history(store, contract, config, rules, f"{until:%Y-%m}")
    items = scaling_penalties(store, contract, config, rules, until)
    for a in history:
        if a.period.last <= until:
            items += sla_penalties(a, rules, contract)
    items += monthly_rule_penalties([a for a in history if a.period.last <= until], rules,
                                    contract, notice_ledger.rectification_notices(store, until))
    items.sort(key=lambda x: (x.dated, x.annex, x.row, x.key))
    total, limit = Decimal(0), cap(contract)
    for pen in items:
        if pen.status == "counted":
            total += pen.amount
        pen.running_total = total
        pen.over_cap = total > limit
    return items


def total(penalties: list[PenaltyLine]) -> Decimal:
    """What the counted penalties add up to, in fen (a pending one is not counted)."""
    return cents(sum((p.amount for p in penalties if p.status == "counted"), Decimal(0)))
