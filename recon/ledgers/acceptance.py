"""The acceptance ledger (验收, 第六条): each review's result, the rework clock, the periods.

第六条: six months into the term the provider submits its mid-term acceptance documents
(中期验收); after the term, the final acceptance (最终验收).  "验收不合格的，乙方应当在 5 日内
进行返工或调整，并重新提交甲方验收": a failed acceptance starts a 5-day rework clock.  The
clause writes 5 日, not 5 个工作日, and recon counts every date in natural days (自然日,
Asia/Shanghai): the rework deadline is the review's date + 5 natural days (a fail recorded
on 2027-01-20 must be reworked and resubmitted by 2027-01-25).  The days are the notices
ledger's (:data:`recon.ledgers.notices.ACCEPTANCE_DAYS`), one number for the letter and
the clock.

A record is the agency's: the review's result (``pass`` | ``fail``) and its date.  A
resubmission reviewed again is a new revision of the same period; the latest revision
counts.  On a night, only records dated up to that night count (the nightly report of an
earlier night is the same whenever it is rendered).

Also here: what recon's data supports for an acceptance pack (:func:`recommend`): read from
stored conclusions (the months' verdicts, the penalty ledger) and the materials ledger, it
decides nothing about a month, it adds them up for the 验收小组, who decide.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from recon import store as stored
from recon.errors import ConfigError
from recon.ledgers import materials as materials_ledger
from recon.ledgers.notices import ACCEPTANCE_DAYS

RESULTS = ("pass", "fail")
RESULT_LABELS = {"pass": "验收合格", "fail": "验收不合格"}
#: the periods 第六条 names, and their names in the materials ledger
PERIOD_LABELS = {"mid": "中期验收", "final": "最终验收"}


@dataclass(frozen=True)
class Span:
    """The days an acceptance covers: ``mid`` (the first six months), ``final`` (the whole
    term) or any FROM..TO inside the term."""

    name: str          # mid | final | FROM..TO
    label: str         # 中期验收 | 最终验收 | 验收（FROM 至 TO）
    first: date
    last: date

    @property
    def months(self) -> list[str]:
        out, day = [], self.first.replace(day=1)
        while day <= self.last:
            out.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return out


def mid_term_end(contract) -> date:
    """The mid-term period's last day: six months from the start, the day before the
    corresponding day (2026-07-10 -> 2027-01-09), as the term itself is counted."""
    s = contract.start
    month = s.month + 6
    year, month = s.year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, s.day) - timedelta(days=1)


def span(contract, period: str | None, first: date | None = None,
         last: date | None = None) -> Span:
    """The span of ``period`` (mid | final), or of FROM..TO; ConfigError naming the argument."""
    if period is not None and (first or last):
        raise ConfigError("--period and --from/--to: give one or the other")
    if period == "mid":
        return Span("mid", PERIOD_LABELS["mid"], contract.start, mid_term_end(contract))
    if period == "final":
        return Span("final", PERIOD_LABELS["final"], contract.start, contract.end)
    if period is not None:
        raise ConfigError(f"--period: {period!r} is not mid or final")
    if first is None or last is None:
        raise ConfigError("--period mid|final, or both --from and --to")
    if last < first:
        raise ConfigError(f"--to: {last} is before --from {first}")
    if first < contract.start or last > contract.end:
        raise ConfigError(f"--from/--to: {first} .. {last} is not inside the contract term "
                          f"{contract.start} .. {contract.end}")
    return Span(f"{first}..{last}", f"验收（{first} 至 {last}）", first, last)


# -- the records ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    period: str
    result: str
    decided_on: date
    revision: int = 1
    note: str = ""
    origin: str = "cli"

    @property
    def result_label(self) -> str:
        return RESULT_LABELS[self.result]

    @property
    def rework_deadline(self) -> date | None:
        """第六条: a failed acceptance is reworked and resubmitted within 5 natural days."""
        return self.decided_on + timedelta(days=ACCEPTANCE_DAYS) if self.result == "fail" \
            else None


def _record(r: dict) -> Record:
    return Record(r["period"], r["result"], r["decided_on"], r["revision"], r["note"] or "",
                  r["origin"] or "")


def history(store, period: str | None = None, owner: str | None = None) -> list[Record]:
    """Every revision of one contract's records (of one period), by period and revision;
    ``owner`` is :attr:`recon.contract.Contract.owner` (None: the first contract): a follow-on's
    final acceptance is its own."""
    return [_record(r) for r in stored.acceptance_records(store, period, owner)]


def latest(store, as_of: date | None = None, owner: str | None = None) -> list[Record]:
    """Each period's latest revision (among those dated up to ``as_of``, when given)."""
    return _latest(history(store, owner=owner), as_of)


def _latest(records: list[Record], as_of: date | None) -> list[Record]:
    out: dict[str, Record] = {}
    for r in records:
        if as_of is None or r.decided_on <= as_of:
            out[r.period] = r
    return [out[p] for p in sorted(out)]


def record(store, period: str, result: str, decided_on: date, note: str = "",
           owner: str | None = None) -> Record:
    """Record a review's result: a new revision of the period (a resubmission reviewed
    again, or a correction).  ValueError("field: why") on bad input."""
    if not period.strip():
        raise ValueError("period: empty")
    if result not in RESULTS:
        raise ValueError(f"result: {result!r} is not pass or fail")
    before = history(store, period, owner)
    if before and decided_on < before[-1].decided_on:
        raise ValueError(f"date: {decided_on} is before the period's last record "
                         f"({before[-1].decided_on}, revision {before[-1].revision})")
    rec = Record(period, result, decided_on, len(before) + 1, note.strip())
    stored.save_acceptance_revision(store, {
        "period": rec.period, "revision": rec.revision, "result": rec.result,
        "decided_on": rec.decided_on, "note": rec.note, "origin": rec.origin}, owner)
    return rec


@dataclass
class Rework:
    """A failed acceptance whose rework is still awaited on a night (第六条, 5 natural days)."""

    period: str
    label: str
    decided_on: date
    revision: int
    deadline: date
    days_left: int       # negative: overdue by that many days
    text: str


def open_rework(store, as_of: date) -> list[Rework]:
    """The failed acceptances not yet reviewed again on ``as_of``: each with its deadline."""
    return open_rework_on(store, [as_of])[as_of]


def open_rework_on(store, days: list[date]) -> dict[date, list[Rework]]:
    """:func:`open_rework` of each of ``days``, the records read once (a period's nightly
    reports)."""
    records = history(store)
    return {day: _open_rework(records, day) for day in days}


def _open_rework(records: list[Record], as_of: date) -> list[Rework]:
    out = []
    for r in _latest(records, as_of):
        if r.result != "fail":
            continue
        left = (r.rework_deadline - as_of).days
        label = PERIOD_LABELS.get(r.period, r.period)
        when = (f"还有 {left} 天" if left > 0 else "今日到期" if left == 0
                else f"已逾期 {-left} 天，待重新提交验收")
        out.append(Rework(r.period, label, r.decided_on, r.revision, r.rework_deadline, left,
                          f"{label}于 {r.decided_on} 不合格（第 {r.revision} 次记录），"
                          f"第六条：5 日内返工并重新提交，期限 {r.rework_deadline}（{when}）"))
    return out


# -- what the data supports ---------------------------------------------------------------
@dataclass
class Recommendation:
    code: str              # pass | fail | undetermined
    label: str             # 建议通过 | 建议不通过 | 数据不足，不作建议
    against: list[str]     # the reasons against
    open: list[str]        # what is undetermined
    support: list[str]     # what speaks for it


RECOMMENDATION = {"pass": "建议通过", "fail": "建议不通过", "undetermined": "数据不足，不作建议"}


def recommend(verdicts: list[dict], over_cap: bool, cap_text: str, total_text: str,
              missing: list[str], coverage_short: str | None) -> Recommendation:
    """What recon's data supports for an acceptance over the months ``verdicts`` (stored
    conclusions): against, any failed month (its failed required criteria named), a
    第十二条 termination condition met, the penalties over the cap, a 第六条 material
    not received; open, an undetermined month, and recon's own nights short of the share
    the monthly criterion data_completeness asks (``coverage_short`` says by how much).
    The 验收小组 decides."""
    against, undecided, support = [], [], []
    for v in verdicts:
        if v["passed"] is False:
            failed = [c["name"] for c in v["criteria"] if c["required"] and c["passed"] is False]
            against.append(f"{v['month']} 月度考核未通过（{'、'.join(failed)}）")
        elif v["passed"] is None:
            undecided.append(f"{v['month']} 月度考核无法判定（有必考项缺少数据）")
    passed = [v["month"] for v in verdicts if v["passed"]]
    if passed:
        support.append(f"月度考核通过：{'、'.join(passed)}")
    ends = [v for v in verdicts if v["termination"]]
    if ends:
        against.append(ends[-1]["termination_reason"])
    if over_cap:
        against.append(f"累计违约金 {total_text} 元超过第十二条上限 {cap_text} 元")
    else:
        support.append(f"累计违约金 {total_text} 元，未超过第十二条上限 {cap_text} 元")
    if missing:
        against.append(f"第六条验收材料未收到：{'、'.join(missing)}")
    else:
        support.append("第六条列明的验收材料均已收到")
    if coverage_short:
        undecided.append(coverage_short)
    if not verdicts:
        undecided.append("本期没有任何已作出的月度考核")
    code = "fail" if against else "undetermined" if undecided else "pass"
    return Recommendation(code, RECOMMENDATION[code], against, undecided, support)


def material_periods(s: Span) -> list[str]:
    """The materials ledger's periods that count for an acceptance of ``s``: its own name
    (中期验收, mid), and every month and year it covers (运维月报 2026-11, 年报 2026)."""
    names = [s.label, s.name] + s.months + sorted({m[:4] for m in s.months})
    return list(dict.fromkeys(names))


def checklist(store, s: Span, extra: tuple[str, ...] = (), owner: str | None = None
              ) -> list[dict]:
    """The provider's acceptance materials as a checklist: the 第六条 ones, then any other
    the agency named (``extra``) or recorded for the period; each with the files received;
    the contract's own (``owner``: recon.contract.Contract.owner)."""
    periods = set(material_periods(s))
    got: dict[str, list] = {}
    for m in materials_ledger.latest(store, owner=owner):
        if m.period in periods:
            got.setdefault(m.name, []).append(m)
    names = list(dict.fromkeys(list(materials_ledger.REQUIRED) + list(extra) + sorted(got)))
    return [{"name": n, "required": n in materials_ledger.REQUIRED,
             "received": bool(got.get(n)),
             "files": [{"period": m.period, "received_on": m.received_on, "file": m.file,
                        "sha256": m.sha256, "size": m.size}
                       for m in sorted(got.get(n, []), key=lambda m: (m.period, m.received_on))]}
            for n in names]
