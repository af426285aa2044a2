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

from recon import assess, labels, rules as rulebook, store as stored
from recon.ledgers import incidents, scaling
from recon.ledgers import notices as notice_ledger
from recon.money import cents
from recon.rules import AnnexRow, Rules, penalty_amount


@dataclass
class PenaltyLine:
    """One penalty of the ledger: the one type every report, the store and finance use.

    ``status`` says whether it is in the total: ``counted``, or ``pending`` (待定) while
    something it rests on is still open: an incident not recovered (``held_by``), a value
    on a band's edge or past the table (the agency's call), a rectification deadline.
    ``rule`` names the readings of the contract it rests on (assessment.toml [readings]);
    it is an estimate (估算) until the agency confirms it (``confirmed_by``)."""

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
    #: the readings it rests on: 'fee_basis=contract_month；recovery_kinds=fault'
    rule: str = ""
    #: every figure it rests on, as the reader can check it
    basis: str = ""
    #: incidents still open that the figure depends on (pending until they close)
    held_by: list = field(default_factory=list)
    confirmed_by: str | None = None
    confirmed_on: date | None = None
    status_label: str = field(init=False)

    def __post_init__(self):
        self.status_label = labels.PENALTY_STATUS[self.status]

    @property
    def estimate(self) -> bool:
        """估算 until the agency confirms it."""
        return self.confirmed_by is None

    def as_row(self) -> dict:
        """As the store keeps it (recon.store.LEDGER_COLUMNS)."""
        return {"key": self.key, "dated": self.dated, "month": self.month, "annex": self.annex,
                "row_no": self.row, "clause": self.clause, "coefficient": str(self.coefficient),
                "fee": self.fee, "amount": self.amount, "status": self.status,
                "reason": self.reason, "item_no": self.item_no,
                "running_total": self.running_total, "over_cap": self.over_cap,
                "rule": self.rule, "basis": self.basis, "held_by": list(self.held_by),
                "confirmed_by": self.confirmed_by, "confirmed_on": self.confirmed_on}

    @classmethod
    def from_row(cls, r: dict) -> "PenaltyLine":
        return cls(r["key"], r["dated"], r["clause"], Decimal(r["coefficient"]), r["fee"],
                   r["amount"], r["status"], r["reason"], r["month"], r["annex"], r["row_no"],
                   r["item_no"], r["running_total"], r["over_cap"], r["rule"], r["basis"],
                   list(r["held_by"] or []), r["confirmed_by"], r["confirmed_on"])


def cap(contract, config) -> Decimal:
    """第十二条: penalties above 10% of the contract total (assessment.toml [cap]) allow
    termination (291,955.80)."""
    return rulebook.load(config).cap(contract)


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


def _make(key, dated, row: AnnexRow, contract, reason, status="counted",
          fee: Decimal | None = None, rule: str = "", basis: str = "",
          held_by=()) -> PenaltyLine:
    """A penalty of ``row``; the fee is the contract total unless given (an item's, a
    system's months)."""
    fee = contract.total if fee is None else fee
    return PenaltyLine(key, dated, row.clause, row.coefficient, cents(fee / contract.months),
                       penalty_amount(fee, contract.months, row.coefficient), status, reason,
                       f"{dated:%Y-%m}", row.annex, row.row, rule=rule, basis=basis,
                       held_by=list(held_by))


def _m(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'))}"


def _band(rows, value: Decimal) -> tuple[AnnexRow | None, str]:
    """The row whose band holds ``value`` as the contract words it (大于 above 且小于 upto),
    and, when none does, why: a value on an edge fits neither neighbouring row, a value past
    the table's last band is beyond what the contract prices; both are the agency's call,
    listed pending with the nearest row below, never a row applied silently."""
    rows = sorted(rows, key=lambda r: r.above or 0)
    for r in rows:
        if value > (r.above or 0) and (r.upto is None or value < r.upto):
            return r, ""
    below = [r for r in rows if (r.above or 0) < value]
    if not below:
        return None, ""
    near = below[-1]
    if near.upto is not None and value > near.upto:
        return near, (f"超过表列最高档（大于 {near.above} 且小于 {near.upto} 分钟）："
                      "合同未列此档，是否及如何计收由甲方判断")
    edge = near.upto if near.upto == value else near.above
    return near, (f"恰为 {_m(value)} 分钟：合同各档为“大于……且小于……”，{edge} 分钟不在任何"
                  "一档，由甲方判断")


def _events_text(events, what: str) -> str:
    return "、".join(f"{e.incident_id} {_m(Decimal(getattr(e, what)) / 60)}"
                    + ("（未恢复，计至月末）" if e.open and what != "response_s" else "")
                    + ("（未响应，计至月末）" if what == "response_s" and e.responded_at is None
                       else "")
                    for e in events)


def _mean_text(label: str, value: Decimal, events, what: str, kinds) -> str:
    parts = " + ".join(_m(Decimal(getattr(e, what)) / 60) for e in events)
    names = "、".join(incidents.KIND_LABELS[k] for k in kinds)
    return (f"{label} {_m(value)} 分钟 = ({parts}) / {len(events)}（计入{names}："
            f"{_events_text(events, what)}）")


def sla_penalties(a: "assess.Assessment", rules: Rules, contract,
                  availability: Decimal | None = None) -> list[PenaltyLine]:
    """The service-level breaches of one assessed month, each priced by its annex row, with
    the readings and figures it rests on; pending while an incident it depends on is open
    or its value fits no band.  ``availability``: the figure the availability reading gives
    (the term to date), else the month's."""
    f, p = a.figures, a.period
    major = bool(f.major_loss)
    annex = 2 if major else 3
    flag = f"（甲方台账标记造成重大损失：{'、'.join(f.major_loss)}）" if major else ""
    fee_rule = rules.reading_text("fee_basis")
    out = []
    floor = rules.min_availability
    value = f.availability if availability is None else availability
    if value < floor:
        comp = rules.rows("availability_complaints", 3)
        if major:
            row = rules.rows("availability", 2)[0]
        elif comp and f.complaints_in_term >= comp[0].complaints:
            row = comp[0]
        else:
            row = rules.rows("availability", 3)[0]
        still = [s.system for s in f.systems if s.open]
        period = ("服务期开始至当月末" if rules.reading("availability_period") == "term_to_date"
                  else "本月")
        out.append(_make(f"sla:{p.month}:availability", p.last, row, contract,
                         f"{p.month} 可用性 {(value * 100).quantize(Decimal('0.0001'))}%"
                         f" 低于 {(floor * 100).normalize()}%；服务期内投诉 {f.complaints_in_term} 次"
                         f"{flag}",
                         rule=rules.reading_text("fee_basis", "availability_period"),
                         basis=f"{period}中断 {_m(Decimal(f.outage_seconds) / 60)} 分钟（各事件重叠"
                               f"只计一次）" + (f"；{'、'.join(still)} 月末仍中断，计至月末"
                                              f"（可用性只会更低）" if still else "")))
    long_row = (rules.rows("outage_long", 3) or [None])[0]
    rep_row = (rules.rows("outage_repeated", 3) or [None])[0]
    for s in f.systems:
        minutes = Decimal(s.seconds) / 60
        fee = rules.system_fee(s.system) if rules.reading("fee_basis") == "system_month" else None
        fee_total = fee * contract.months if fee is not None else None
        basis = (f"{s.system} 本月中断 {s.outages} 次，累计 {_m(minutes)} 分钟，最长一次 "
                 f"{_m(Decimal(s.longest_seconds) / 60)} 分钟"
                 + ("（月末仍未恢复，计至月末）" if s.open else "")
                 + (f"；按该系统月服务费 {fee} 元计" if fee is not None else ""))
        held = [e.incident_id for e in f.events if e.system == s.system and e.open]
        if rep_row and (s.outages >= rep_row.count or minutes > rep_row.above):
            out.append(_make(f"sla:{p.month}:outage:{s.system}", p.last, rep_row, contract,
                             f"{s.system} 本月中断 {s.outages} 次，累计 "
                             f"{_m(minutes)} 分钟", fee=fee_total, rule=fee_rule, basis=basis))
        elif long_row and Decimal(s.longest_seconds) / 60 > long_row.above:
            # still down: it may yet reach the repeated / 8-hour row
            out.append(_make(f"sla:{p.month}:outage:{s.system}", p.last, long_row, contract,
                             f"{s.system} 单次中断 "
                             f"{_m(Decimal(s.longest_seconds) / 60)} 分钟"
                             f"{'（月末仍未恢复）' if s.open else ''}",
                             status="pending" if s.open else "counted", fee=fee_total,
                             rule=fee_rule, basis=basis, held_by=held if s.open else ()))
    response_kinds = rules.reading("response_kinds")
    recovery_kinds = rules.reading("recovery_kinds")
    checks = []
    mean, chosen = f.mean_of(response_kinds, "response_s")
    if mean is not None:
        checks.append(("response_mean", mean, "平均响应时间",
                       [e.incident_id for e in chosen if e.responded_at is None],
                       _mean_text("平均响应时间", mean, chosen, "response_s", response_kinds),
                       rules.reading_text("fee_basis", "response_kinds")))
    mean, chosen = f.mean_of(recovery_kinds, "recovery_s")
    if mean is not None:
        checks.append(("recovery_mean", mean, "平均故障恢复时间",
                       [e.incident_id for e in chosen if e.open],
                       _mean_text("平均故障恢复时间", mean, chosen, "recovery_s", recovery_kinds),
                       rules.reading_text("fee_basis", "recovery_kinds")))
    if f.on_site_max_seconds is not None:
        unattended = Decimal(f.on_site_max_seconds) / 60 - rules.unattended_after_minutes
        if unattended > 0:
            checks.append(("on_site", unattended,
                           f"到场超出 {rules.unattended_after_minutes} 分钟时限后的无人值守时间",
                           [], f"最迟一次到场 {_m(Decimal(f.on_site_max_seconds) / 60)} 分钟，"
                               f"超出 {rules.unattended_after_minutes} 分钟的部分为无人值守时间",
                           fee_rule))
    for code, value, label, held, basis, rule in checks:
        row, note = _band(rules.rows(code, annex), value)
        if row is None:
            continue
        if held:   # a lower bound: the mean can only grow, its row is not known yet
            note = "；".join(x for x in (note, (
                f"{'、'.join(held)} 月末仍未{'响应' if code == 'response_mean' else '恢复'}，"
                f"{_m(value)} 分钟是下限，待其关闭后确定")) if x)
        out.append(_make(f"sla:{p.month}:{code}", p.last, row, contract,
                         f"{p.month} {label} {_m(value)} 分钟{'：' + note if note else ''}{flag}",
                         status="pending" if note else "counted", rule=rule, basis=basis,
                         held_by=held))
    if rules.reading("incident_rows") == "highest_row":
        out = _one_row_per_incident(out, f)
    return out


def _one_row_per_incident(lines: list[PenaltyLine], f) -> list[PenaltyLine]:
    """The reading ``incident_rows = highest_row``: an incident behind an outage penalty and
    the recovery mean is priced only under the higher coefficient of the two."""
    outage = {ln.key.rsplit(":", 1)[1]: ln for ln in lines if ":outage:" in ln.key}
    recovery = next((ln for ln in lines if ln.key.endswith(":recovery_mean")), None)
    if recovery is None or not outage:
        return lines
    systems = {e.system for e in f.events if e.kind in ("fault",)}
    shared = [ln for name, ln in outage.items() if name in systems]
    drop = set()
    for ln in shared:
        low = ln if ln.coefficient < recovery.coefficient else recovery
        drop.add(low.key)
    for ln in lines:
        if ln.key in drop:
            ln.status = "pending"
            ln.status_label = labels.PENALTY_STATUS["pending"]
            ln.reason += "；同一事件已按系数更高的一行计收（incident_rows = highest_row），本行不计"
    return lines


def scaling_coefficient(config) -> Decimal:
    """附件3 row 4's coefficient (20%), from assessment.toml: the nightly flags and their
    finding text use the same figure as the ledger."""
    return rulebook.load(config).scaling_coefficient


def scaling_penalties(store, contract, config, rules: Rules, until: date
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


def monthly_rule_penalties(history: list, rules: Rules, contract,
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
    rules = rules or rulebook.load(config)
    if history is None:
        history = assess.history(store, contract, config, rules, f"{until:%Y-%m}")
    items = scaling_penalties(store, contract, config, rules, until)
    period_s = outage_s = 0
    for a in history:
        period_s += a.figures.period_seconds
        outage_s += a.figures.outage_seconds
        if a.period.last <= until:
            to_date = (Decimal(period_s - outage_s) / Decimal(period_s)
                       if rules.reading("availability_period") == "term_to_date" else None)
            items += sla_penalties(a, rules, contract, to_date)
    asked = notice_ledger.rectification_notices(store, until, contract.owner)  # its own letters
    items += monthly_rule_penalties([a for a in history if a.period.last <= until], rules,
                                    contract, asked)
    items.sort(key=lambda x: (x.dated, x.annex, x.row, x.key))
    confirmed = stored.penalty_confirmations(store)
    for pen in items:   # a confirmation holds the amount confirmed: a changed one is 估算 again
        by, on, amount = confirmed.get(pen.key, (None, None, None))
        if by and pen.status == "counted" and amount == pen.amount:
            pen.confirmed_by, pen.confirmed_on = by, on
    total, limit = Decimal(0), rules.cap(contract)
    for pen in items:
        if pen.status == "counted":
            total += pen.amount
        pen.running_total = total
        pen.over_cap = total > limit
    return items


def total(penalties: list[PenaltyLine]) -> Decimal:
    """What the counted penalties add up to, in fen (a pending one is not counted)."""
    return cents(sum((p.amount for p in penalties if p.status == "counted"), Decimal(0)))
