"""The notices ledger: the written notices the management unit sends the provider.

Three clauses need a written notice with a deadline before a breach costs anything:

* 附件3第4条 (``scaling``): an expansion not done within 7 natural days becomes a penalty
  only once the management unit's written notice (书面通知) set a deadline and it passed
  unmet; ``ref`` is the scaling request's id;
* 附件3第3条 and 第十二条4 (``rectification``): three failed monthly assessments in a row
  become a penalty only once the rectification deadline (限期整改) passed and the months
  after it still fail; ``ref`` is the third failed month (YYYY-MM);
* 第六条 (``acceptance``): a failed acceptance is reworked and resubmitted within 5 days;
  ``ref`` names the acceptance (the materials' period, e.g. 中期验收).

A notice is drafted (``recon notice draft``: the letter as DOCX and PDF, reports/notice.py),
then sent (``recon notice sent``).  Only a sent notice counts: the scaling states and the
penalty ledger read the date it went out and its deadline from here (the scaling CSV's
notice columns and ``[monthly_rule] rectification_failed`` stay accepted as input when no
notice is recorded).  Every change is a new revision; ids (TZ-2026-001) are given once, in
order, per year of drafting.

A notice's state on a night (:func:`states`) is read from stored conclusions (the scaling
states of that night, the months' verdicts): this module decides nothing about the
provider, it says where each letter stands.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, timedelta

from recon import codes, labels, store as stored
from recon.errors import InputError

KINDS = tuple(codes.NOTICE_KIND)
#: 第六条: a failed acceptance is reworked and resubmitted within 5 days
ACCEPTANCE_DAYS = 5
#: a notice "falls due" (the message names it) from this many days before its deadline
DUE_SOON_DAYS = 3
NOTICE_ID = re.compile(r"^TZ-\d{4}-\d{3,}$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Notice:
    notice_id: str
    kind: str
    ref: str
    drafted_on: date
    deadline: date
    sent_on: date | None = None
    files: tuple = ()
    note: str = ""
    origin: str = "cli"
    revision: int = 1
    #: the contract the letter is under (contract_number, migration 15): None the store's
    #: first contract, a follow-on's number (recon.contract.Contract.owner)
    owner: str | None = None

    def fields(self) -> tuple:
        """What a revision compares (not the files, which follow from these)."""
        return (self.kind, self.ref, self.drafted_on, self.deadline, self.sent_on, self.note,
                self.owner)

    @property
    def kind_label(self) -> str:
        return labels.NOTICE_KIND[self.kind]


def _notice(row: dict) -> Notice:
    return Notice(row["notice_id"], row["kind"], row["ref"], row["drafted_on"], row["deadline"],
                  row["sent_on"], tuple(tuple(sorted(f.items())) for f in row["files"]),
                  row["note"] or "", row["origin"] or "", row["revision"],
                  row["contract_number"])


def _row(n: Notice) -> dict:
    return {"notice_id": n.notice_id, "revision": n.revision, "kind": n.kind, "ref": n.ref,
            "drafted_on": n.drafted_on, "deadline": n.deadline, "sent_on": n.sent_on,
            "files": [dict(f) for f in n.files], "note": n.note, "origin": n.origin,
            "contract_number": n.owner}


def latest(store) -> list[Notice]:
    """Every notice's latest revision, by id."""
    return [_notice(r) for r in stored.latest_notices(store)]


def history(store, notice_id: str) -> list[Notice]:
    return [_notice(r) for r in stored.notice_history(store, notice_id)]


def get(store, notice_id: str) -> Notice:
    found = next((n for n in latest(store) if n.notice_id == notice_id), None)
    if found is None:
        raise InputError(None, f"no notice {notice_id!r} in the ledger (`recon notice list`)",
                         column="ID")
    return found


# -- drafting and sending -----------------------------------------------------------------
def check_ref(store, kind: str, ref: str, owner: str | None = None) -> str:
    """The ``ref`` of a notice of ``kind`` under the contract ``owner``, checked against the
    store (a rectification's month against that contract's verdict); ValueError("ref: why")."""
    ref = ref.strip()
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    if not ref:
        raise ValueError("ref: empty")
    if kind == "scaling":
        if ref not in stored.scaling_request_ids(store):  # the scaling ledger reads this one
            raise ValueError(f"ref: no scaling request {ref!r} in the ledger "
                             f"(`recon scaling list`)")
    elif kind == "rectification":
        if not MONTH.match(ref):
            raise ValueError(f"ref: {ref!r} is not a month (YYYY-MM: the third failed month)")
        verdict = next((v for v in stored.month_verdicts(store, ref, owner)
                        if v["month"] == ref), None)
        if verdict is None:
            raise ValueError(f"ref: {ref} has no monthly assessment yet (`recon report monthly "
                             f"--month {ref}`)")
        if verdict["passed"] is not False:
            raise ValueError(f"ref: {ref} did not fail its monthly assessment "
                             f"({labels.VERDICT[verdict['passed']]})")
    return ref


def plan_draft(store, kind: str, ref: str, drafted_on: date, deadline: date | None,
               note: str = "", owner: str | None = None) -> Notice:
    """The notice a draft records under the contract ``owner`` (None: the first): a new id
    (one TZ-YYYY-NNN numbering for the agency, across contracts), or the next revision of
    the same contract, kind and ref's notice while it is not sent yet (drafting again
    replaces the draft)."""
    if deadline is None:
        if kind != "acceptance":
            raise ValueError("deadline: a notice of this kind needs the deadline it sets "
                             "(--deadline YYYY-MM-DD)")
        deadline = drafted_on + timedelta(days=ACCEPTANCE_DAYS)
    if deadline <= drafted_on:
        raise ValueError(f"deadline: {deadline} is not after the letter's date {drafted_on}")
    draft = next((n for n in latest(store) if n.kind == kind and n.ref == ref
                  and n.sent_on is None and n.owner == owner), None)
    if draft is not None:
        return dataclasses.replace(draft, drafted_on=drafted_on, deadline=deadline, note=note,
                                   revision=draft.revision + 1)
    number = stored.last_notice_number(store, drafted_on.year) + 1
    return Notice(f"TZ-{drafted_on.year}-{number:03d}", kind, ref, drafted_on, deadline,
                  note=note, owner=owner)


def record(store, notice: Notice, files: list[dict] | None = None) -> bool:
    """Record ``notice`` (with the letter files written for it) unless its latest revision
    says the same; True when a revision was added."""
    notice = dataclasses.replace(notice, files=tuple(tuple(sorted(f.items()))
                                                     for f in (files or [])) or notice.files)
    current = next((n for n in latest(store) if n.notice_id == notice.notice_id), None)
    if current is not None:
        if current.fields() == notice.fields() and current.files == notice.files:
            return False
        notice = dataclasses.replace(notice, revision=current.revision + 1)
    stored.save_notice_revision(store, _row(notice))
    return True


def mark_sent(store, notice_id: str, day: date) -> tuple[Notice, bool]:
    """Record that the notice went out on ``day`` (a new revision; a correction is one too)."""
    n = get(store, notice_id)
    if day < n.drafted_on:
        raise InputError(None, f"{notice_id} was drafted on {n.drafted_on}; it cannot have "
                         f"been sent on {day}", column="--date")
    if day > n.deadline:
        raise InputError(None, f"{notice_id} sets the deadline {n.deadline}; sent on {day} it "
                         f"would give no time (draft it again with a later deadline)",
                         column="--date")
    if n.sent_on == day:
        return n, False
    sent = dataclasses.replace(n, sent_on=day)
    record(store, sent)
    return sent, True


# -- what rests on a notice ---------------------------------------------------------------
def _sent_by(store, kind: str, as_of: date | None, owner: str | None) -> dict[str, Notice]:
    """The latest notice of ``kind`` under contract ``owner`` sent on or before ``as_of`` per
    ref (highest id wins): a penalty rests only on a letter under its own contract."""
    out: dict[str, Notice] = {}
    for n in latest(store):
        if n.kind == kind and n.owner == owner and n.sent_on is not None and (
                as_of is None or n.sent_on <= as_of):
            out[n.ref] = n
    return out


def scaling_notices(store, as_of: date | None = None, owner: str | None = None
                    ) -> dict[str, Notice]:
    """request id -> the written notice sent about it by ``as_of`` under the contract
    ``owner`` (附件3第4条)."""
    return _sent_by(store, "scaling", as_of, owner)


def rectification_notices(store, as_of: date | None = None, owner: str | None = None
                          ) -> dict[str, Notice]:
    """third failed month (YYYY-MM) -> the rectification notice sent about it by ``as_of``
    under the contract ``owner`` (a month two terms touch has a verdict under each)."""
    return _sent_by(store, "rectification", as_of, owner)


def applied(request, notice: Notice | None):
    """A scaling request with the ledger's notice in place of the CSV's notice columns."""
    if notice is None:
        return request
    return dataclasses.replace(request, notice_date=notice.sent_on,
                               notice_deadline=notice.deadline, notice_id=notice.notice_id)


def judged_month(notice: Notice) -> str:
    """The month whose assessment says whether a rectification was met: the month the
    deadline passes in (the month of the day after it)."""
    return f"{notice.deadline + timedelta(days=1):%Y-%m}"


# -- where each notice stands on a night --------------------------------------------------
@dataclass
class NoticeState:
    notice_id: str
    kind: str
    kind_label: str
    ref: str
    drafted_on: date
    sent_on: date | None
    deadline: date
    status: str
    status_label: str
    #: still asking something of the provider (not met; a late expansion is no longer open)
    open: bool
    #: days until the deadline (0: it ends tonight), while it runs
    days_left: int | None
    #: the first day past the deadline, once it passed unmet (or undecided)
    overdue_since: date | None
    #: one line for a reader: 期限 2026-11-20，还有 3 天 / 自 2026-11-21 起逾期 ...
    text: str
    #: worth a message tonight: the deadline is near (DUE_SOON_DAYS), or passed last night
    falls_due: bool = False


def states(store, as_of: date) -> list[NoticeState]:
    """Every notice drafted on or before ``as_of``, where it stood that night."""
    return states_on(store, [as_of])[as_of]


def states_on(store, days: list[date]) -> dict[date, list[NoticeState]]:
    """:func:`states` of each of ``days``, the notices and the nights' scaling states read
    once (a period's nightly reports)."""
    every = latest(store)
    out: dict[date, list[NoticeState]] = {day: [] for day in days}
    drafted = [day for day in days if any(n.drafted_on <= day for n in every)]
    if not drafted:
        return out
    scaling_by_night = stored.scaling_states_between(store, min(drafted), max(drafted))
    month_verdicts: dict[tuple[str, str | None], dict] = {}
    for as_of in drafted:
        notes = [n for n in every if n.drafted_on <= as_of]
        scaling = {s["request_id"]: s for s in scaling_by_night.get(as_of, [])}
        # a rectification is judged by its own contract's month (a month two terms touch
        # has two)
        for owner in {n.owner for n in notes}:
            key = (f"{as_of:%Y-%m}", owner)
            if key not in month_verdicts:
                month_verdicts[key] = {v["month"]: v
                                       for v in stored.month_verdicts(store, key[0], owner)}
        out[as_of] = [_state(n, as_of, scaling, month_verdicts[(f"{as_of:%Y-%m}", n.owner)])
                      for n in notes]
    return out


def open_on(store, as_of: date) -> list[NoticeState]:
    """The notices still open on ``as_of``, nearest deadline first."""
    return open_on_days(store, [as_of])[as_of]


def open_on_days(store, days: list[date]) -> dict[date, list[NoticeState]]:
    """:func:`open_on` of each of ``days`` (read once)."""
    return {day: sorted((s for s in sts if s.open), key=lambda s: (s.deadline, s.notice_id))
            for day, sts in states_on(store, days).items()}


def _state(n: Notice, as_of: date, scaling: dict, verdicts: dict) -> NoticeState:
    deadline, past = n.deadline, as_of > n.deadline
    waiting = None
    is_open = True
    if n.sent_on is None or n.sent_on > as_of:
        status = "drafted"
    elif n.kind == "scaling":
        st = scaling.get(n.ref)
        done = _d(st.get("completed_on")) if st else None
        if done is not None and done <= deadline:
            status = "met"
        elif not past or st is None:
            status = "sent"
        elif st.get("penalty_unknown"):
            status = "undetermined"
        else:
            status = "unmet"
        is_open = done is None and status != "met"
    elif n.kind == "rectification":
        month = judged_month(n)
        v = verdicts.get(month)
        if not past:
            status = "sent"
        elif v is None or as_of < v["last_day"]:
            status, waiting = "sent", f"待 {month} 月度考核结论"
        else:
            status = {True: "met", False: "unmet", None: "undetermined"}[v["passed"]]
    else:
        status = "undetermined" if past else "sent"
    if status == "met":
        is_open = False
    days_left = (deadline - as_of).days if status in ("sent", "drafted") and not past else None
    overdue = deadline + timedelta(days=1) if past and status != "met" else None
    if status == "drafted":
        text = f"未发出（{n.drafted_on} 起草），拟定期限 {deadline}"
    elif status == "met":
        text = f"期限 {deadline}，已满足"
    elif waiting:
        text = f"期限 {deadline} 已过，{waiting}"
    elif status == "sent":
        text = (f"期限 {deadline}，今日到期" if days_left == 0
                else f"期限 {deadline}，还有 {days_left} 天")
    elif status == "unmet":
        text = (f"期限 {deadline} 已过未满足，自 {overdue} 起逾期"
                + ("（其后已完成）" if not is_open else ""))
    else:
        text = f"期限 {deadline} 已过，是否满足无法判定（自 {overdue} 起），请人工核实"
    due = (status == "sent" and days_left is not None and days_left <= DUE_SOON_DAYS) or \
        (is_open and status in ("unmet", "undetermined") and overdue == as_of)
    return NoticeState(n.notice_id, n.kind, n.kind_label, n.ref, n.drafted_on, n.sent_on,
                       deadline, status, labels.NOTICE_STATUS[status], is_open, days_left,
                       overdue, text, due)


def _d(text):
    return None if text is None else (text if isinstance(text, date)
                                      else date.fromisoformat(text))
