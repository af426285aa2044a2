"""Conclude: decide once what the nights and months add up to, and store it.

The conclusions are the scaling requests' states on a night, the penalty ledger as it
stands on a night, and each month's verdict with its criteria and the 第十二条
termination conditions.  They are computed here, by the step that concludes them, and
written into the store (recon.store: delete, then insert per period, a status row per
period); the nightly and monthly reports, the index, finance and notifications read
them there and never work them out again.

Who concludes what:

* a night's run concludes that night, inside the night's own transaction;
* ``recon report monthly`` concludes its month: every month's verdict up to it and the
  ledger as of its last day (the incidents it judges may have been imported since);
* a command that changes a ledger the conclusions rest on (incidents, scaling requests)
  concludes the latest night again, so the index and the next report see the change;
* finance concludes the last day of the statement's period before it verifies it;
* ``recon report acceptance`` concludes its period's recommendation (建议通过 ...) and
  ``recon report annual`` (and every month concluded) the annual verdict; the packs and the
  settlement's gate read them as stored (milestone_verdicts).
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal

from recon import assess, labels, penalties, rules as rulebook, store as stored
from recon.ledgers import acceptance as acceptance_ledger, scaling
from recon.money import cents, fmt
from recon.penalties import PenaltyLine


# -- a night ------------------------------------------------------------------------------
def night(store, contract, config, day: date, rules=None, history=None) -> None:
    """The scaling states and the penalty ledger as they stand on ``day``, stored."""
    rules = rules or rulebook.load(config)
    states = scaling.states(store, contract, day)
    ledger = penalties.ledger(store, contract, config, day, rules=rules, history=history)
    stored.save_night_conclusions(store, day, [p.as_row() for p in ledger],
                                  [_state_row(st) for st in states])


def last_term_night(store, contract) -> date | None:
    """The newest stored night in ``contract``'s term: the night its penalty ledger, annual
    assessment and settlement rest on (a follow-on's nights and the transition after the
    term conclude nothing of it, 第十三条 2); None before any."""
    return next((d for d in reversed(store.snapshot_dates()) if contract.in_term(d)), None)


def ensure_night(store, contract, config, day: date) -> None:
    """Conclude ``day`` if nothing is stored for it yet (a store older than conclusions)."""
    if not stored.concluded(store, "night", day.isoformat()):
        night(store, contract, config, day)


# -- a month ------------------------------------------------------------------------------
def month(store, contract, config, month_text: str) -> None:
    """Every month's verdict of ``contract`` up to ``month_text`` and the ledger as of its
    last day in the term, keyed to ``contract`` (its ``owner``): a month two terms touch is
    assessed by each on its own days (the first's last month 07-01 .. 07-09, a follow-on's
    first 07-10 .. 07-31) and keeps both."""
    rules = rulebook.load(config)
    p = assess.period(contract, month_text)
    history = assess.history(store, contract, config, rules, p.month)
    with store.transaction():
        stored.save_month_verdicts(store, [_verdict_row(a, rules) for a in history],
                                  contract.owner)
        night(store, contract, config, p.last, rules=rules, history=history)
        annual(store, contract, config)   # the year rests on the months: again


def _verdict_row(a: assess.Assessment, rules) -> dict:
    ends, reason = penalties.termination(a.figures)
    return {"month": a.period.month, "first_day": a.period.first, "last_day": a.period.last,
            "partial": a.period.partial, "passed": a.passed,
            "failed_in_a_row": a.failed_in_a_row, "termination": ends,
            "termination_reason": reason,
            "criteria": [dataclasses.asdict(c) for c in a.criteria],
            "fault_breaches": assess.fault_breaches(a.figures, rules)}


# -- the milestones -------------------------------------------------------------------------
def acceptance(store, contract, config, span: acceptance_ledger.Span
               ) -> acceptance_ledger.Recommendation:
    """What recon's data supports for the acceptance of ``span`` (建议通过, 建议不通过 or
    数据不足，不作建议, with the reasons), from the stored month verdicts, the penalty ledger
    as of the period's last stored night, the materials ledger and recon's own coverage;
    stored (milestone_verdicts, kind 'acceptance') for the pack to read.  The months are
    concluded first by the caller (``recon report acceptance``, ``recon demo``).  It is keyed
    to ``contract`` (its ``owner``): a follow-on's "mid" is its own."""
    rules = rulebook.load(config)
    owner = contract.owner
    verdicts = {v["month"]: v for v in stored.month_verdicts(store, span.months[-1], owner)}
    cov = assess.coverage(store, contract, assess.Period(span.name, span.first, span.last, True))
    as_of = cov.ran[-1] if cov.ran else None
    total = stored.penalty_total(store, as_of or span.first)
    cap = rules.cap(contract)
    checklist = acceptance_ledger.checklist(store, span, rules.acceptance_materials, owner)
    missing = [m["name"] for m in checklist
               if not m["received"] and (m["required"] or m["name"] in rules.acceptance_materials)]
    share = Decimal(cov.complete) / cov.days
    short = None if share >= rules.min_complete_share else (
        f"本系统完整采集 {cov.complete}/{cov.days} 晚（缺口 {len(cov.gaps)} 晚），低于 "
        f"{rules.path.name} 的数据完整性要求 {rules.min_complete_share:.0%}：其余夜晚的交付未经核对")
    rec = acceptance_ledger.recommend([verdicts[m] for m in span.months if m in verdicts],
                                      total > cap, fmt(cents(cap)), fmt(cents(total)),
                                      missing, short)
    stored.save_milestone_verdict(store, {
        "kind": "acceptance", "period": span.name, "first_day": span.first,
        "last_day": span.last, "as_of": as_of, "code": rec.code, "verdict": rec.label,
        "reasons": {"against": rec.against, "open": rec.open, "support": rec.support}}, owner)
    return rec


def stored_acceptance(store, contract, span: acceptance_ledger.Span
                      ) -> acceptance_ledger.Recommendation | None:
    """The recommendation concluded for ``span`` of ``contract``, as stored (None: never
    concluded)."""
    v = stored.milestone_verdict(store, "acceptance", span.name, contract.owner)
    if v is None:
        return None
    r = v["reasons"]
    return acceptance_ledger.Recommendation(v["code"], v["verdict"], r["against"], r["open"],
                                            r["support"])


#: the annual verdict's words before the term ends (after it, labels.VERDICT's)
NOT_YET = "尚不能判定（服务期未满）"


def annual(store, contract, config) -> assess.Annual:
    """The annual assessment (年度考核) from what is stored: the months' verdicts, the penalty
    ledger as of the term's last night (or the newest), the final acceptance's latest record;
    stored (milestone_verdicts, kind 'annual', period 'term') for the annual report and the
    settlement's gate to read.  Before the term ends it is "not computable": what is open.
    It and its final acceptance are ``contract``'s own (its ``owner``)."""
    rules = rulebook.load(config)
    owner = contract.owner
    periods = assess.periods_until(contract, f"{contract.end:%Y-%m}")
    verdicts = {v["month"]: v for v in stored.month_verdicts(store, periods[-1].month, owner)}
    last = last_term_night(store, contract)
    as_of = last or contract.start
    final = next((r for r in acceptance_ledger.latest(store, owner=owner)
                  if r.period == "final"), None)
    a = assess.annual(contract, rules, [verdicts[p.month] for p in periods
                                        if p.month in verdicts],
                      stored.penalty_ledger(store, as_of), stored.penalty_total(store, as_of),
                      rules.cap(contract), final, last)
    code = ("not_yet" if not a.computable else "undetermined" if a.passed is None
            else "pass" if a.passed else "fail")
    stored.save_milestone_verdict(store, {
        "kind": "annual", "period": "term", "first_day": contract.start,
        "last_day": contract.end, "as_of": last, "code": code,
        "verdict": NOT_YET if code == "not_yet" else labels.VERDICT[a.passed],
        "reasons": {"criteria": [dataclasses.asdict(c) for c in a.criteria], "open": a.open}},
        owner)
    return a


def stored_annual(store, contract) -> tuple[str, assess.Annual] | None:
    """``contract``'s annual verdict as concluded (its words, and the judgement with its
    criteria and what is open), or None when never concluded."""
    v = stored.milestone_verdict(store, "annual", "term", contract.owner)
    if v is None:
        return None
    code = v["code"]
    return v["verdict"], assess.Annual(
        code != "not_yet", {"pass": True, "fail": False}.get(code),
        [assess.AnnualCriterion(**c) for c in v["reasons"]["criteria"]], v["reasons"]["open"])


def ensure_annual(store, contract, config) -> tuple[str, assess.Annual]:
    """The stored annual verdict, concluded first when the store has none yet."""
    if stored_annual(store, contract) is None:
        annual(store, contract, config)
    return stored_annual(store, contract)


# -- reading back what was concluded --------------------------------------------------------
def ledger(store, as_of: date) -> list[PenaltyLine]:
    """The penalty ledger as concluded for ``as_of``."""
    return ledgers(store, as_of, as_of).get(as_of, [])


def ledgers(store, first: date, last: date) -> dict[date, list[PenaltyLine]]:
    """The penalty ledger as concluded for each night of ``first`` .. ``last`` (a period's
    nightly reports read them at once)."""
    return {day: [PenaltyLine.from_row(r) for r in rows]
            for day, rows in stored.penalty_ledgers(store, first, last).items()}


def states(store, contract, as_of: date) -> list[scaling.State]:
    """Each request's state as concluded for the night ``as_of``."""
    return states_between(store, as_of, as_of).get(as_of, [])


def states_between(store, first: date, last: date) -> dict[date, list[scaling.State]]:
    """Each request's state as concluded for each night of ``first`` .. ``last``."""
    return {day: [_state(d) for d in rows]
            for day, rows in stored.scaling_states_between(store, first, last).items()}


# -- a state as the store keeps it (JSON) -------------------------------------------------
_DATES = ("as_of", "completed_on", "final_on", "latest_on")
_DATE_LISTS = ("unknown_days", "reverted_on", "dropped_on")
_DECIMALS = ("target", "baseline", "latest", "best")


def _state_row(st: scaling.State) -> dict:
    row = dataclasses.asdict(st)
    row["request_id"] = st.request.request_id
    return _jsonable(row)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime, Decimal)):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    return value


def _d(text):
    return None if text is None else date.fromisoformat(text)


def _q(text):
    return None if text is None else Decimal(text)


def _state(d: dict) -> scaling.State:
    r = dict(d["request"])
    r["requested_at"] = datetime.fromisoformat(r["requested_at"])
    r["notice_date"], r["notice_deadline"] = _d(r["notice_date"]), _d(r["notice_deadline"])
    r["target"], r["increase"] = _q(r["target"]), _q(r["increase"])
    s = {k: v for k, v in d.items() if k not in ("request", "request_id")}
    s.update({k: _d(s[k]) for k in _DATES})
    s.update({k: [_d(x) for x in s[k]] for k in _DATE_LISTS})
    s.update({k: _q(s[k]) for k in _DECIMALS})
    return scaling.State(request=scaling.Request(**r), **s)
