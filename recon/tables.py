"""The named read and write functions of the conclusions and the ledgers' tables, and the
reads the reports ask of the nights' tables.

The conclusions (recon/conclude.py writes them, every report reads them), the agency's
ledgers (notices, materials, payments, acceptance) and the questions reports/, finance and
notify ask of the stored nights ("reads for reports") live here; recon/store.py re-exports
each name, so callers say ``recon.store.penalty_ledger(store, day)`` as for the nights'
tables.  Each function takes an open :class:`recon.store.Store`.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal


def insert(db, table: str, columns: tuple[str, ...], rows: list[list], now: bool = False) -> None:
    """Insert ``rows`` into ``table`` naming its ``columns`` (never by position: a migration
    that adds a column cannot shift a value into the wrong one); ``now``: the table's last
    timestamp column (``recorded_at`` / ``concluded_at``) is the transaction's now()."""
    if not rows:
        return
    stamp = {"conclusions": "concluded_at"}.get(table, "recorded_at")
    names = ", ".join(columns + ((stamp,) if now else ()))
    marks = ", ".join(["?"] * len(columns) + (["now()"] if now else []))
    db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

# -- conclusions: written by recon/conclude.py, read by every report --------------------------
LEDGER_COLUMNS = ("key", "dated", "month", "annex", "row_no", "clause", "coefficient", "fee",
                  "amount", "status", "reason", "item_no", "running_total", "over_cap", "rule",
                  "basis", "held_by", "confirmed_by", "confirmed_on")


def save_night_conclusions(store, as_of: date, ledger: list[dict],
                           states: list[dict]) -> None:
    """The penalty ledger and the scaling states as they stand on ``as_of``, replacing
    whatever was concluded for that night before (one transaction)."""
    with store.transaction() as db:
        for table in ("penalty_ledger", "scaling_states"):
            db.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
        db.execute("DELETE FROM conclusions WHERE kind = 'night' AND period = ?",
                   [as_of.isoformat()])
        if ledger:
            insert(
                db, "penalty_ledger", ("as_of", "seq") + LEDGER_COLUMNS,
                [[as_of, n] + [json.dumps(row[c], ensure_ascii=False) if c == "held_by"
                               else row[c] for c in LEDGER_COLUMNS]
                 for n, row in enumerate(ledger)])
        if states:
            insert(
                db, "scaling_states",
                ("as_of", "seq", "request_id", "state", "penalty_applies", "detail"),
                [[as_of, n, s["request_id"], s["state"], s["penalty_applies"],
                  json.dumps(s, ensure_ascii=False, sort_keys=True)]
                 for n, s in enumerate(states)])
        insert(db, "conclusions", ("kind", "period"), [["night", as_of.isoformat()]], now=True)


def save_month_verdicts(store, verdicts: list[dict], owner: str | None = None) -> None:
    """Each month's verdict under one contract (``owner`` as :data:`OWNER`; None: the first),
    replacing that contract's earlier verdict of the month (one transaction): a month two
    terms touch keeps both contracts' verdicts."""
    with store.transaction() as db:
        for v in verdicts:
            db.execute(f"DELETE FROM month_verdicts WHERE month = ? AND {OWNER}",
                       [v["month"], owner])
            status = v["month"] if owner is None else f"{owner}/{v['month']}"
            db.execute("DELETE FROM conclusions WHERE kind = 'month' AND period = ?", [status])
            insert(db, "month_verdicts",
                   ("month", "first_day", "last_day", "partial", "passed", "failed_in_a_row",
                    "termination", "termination_reason", "criteria", "fault_breaches",
                    "contract_number"),
                   [[v["month"], v["first_day"], v["last_day"], v["partial"], v["passed"],
                     v["failed_in_a_row"], v["termination"], v["termination_reason"],
                     json.dumps(v["criteria"], ensure_ascii=False),
                     json.dumps(v["fault_breaches"], ensure_ascii=False, default=str), owner]])
            insert(db, "conclusions", ("kind", "period"), [["month", status]], now=True)


def concluded(store, kind: str, period: str) -> bool:
    """Has ``period`` (a night's date or a month) been concluded and stored?"""
    return bool(store.db.execute("SELECT count(*) FROM conclusions WHERE kind = ? AND period = ?",
                                 [kind, period]).fetchone()[0])


def penalty_ledger(store, as_of: date) -> list[dict]:
    """The penalty ledger as concluded for ``as_of``, in its order."""
    return penalty_ledgers(store, as_of, as_of).get(as_of, [])


def penalty_ledgers(store, first: date, last: date) -> dict[date, list[dict]]:
    """The penalty ledger as concluded for each night of ``first`` .. ``last``, each in its
    order: one query for a period's nightly reports."""
    out = _by_night(store.db.execute(
        f"SELECT as_of, {', '.join(LEDGER_COLUMNS)} FROM penalty_ledger "
        "WHERE as_of BETWEEN ? AND ? ORDER BY as_of, seq", [first, last]), "as_of")
    for rows in out.values():
        for r in rows:
            r["held_by"] = json.loads(r["held_by"])
    return out


def penalty_confirmations(store) -> dict[str, tuple[str, date, Decimal]]:
    """The penalties the agency confirmed (latest revision, not withdrawn):
    key -> (by, on, the amount confirmed)."""
    return {k: (by, on, amount) for k, by, on, amount in store.db.execute("""
        SELECT key, confirmed_by, confirmed_on, amount FROM penalty_confirmations
        QUALIFY revision = max(revision) OVER (PARTITION BY key) AND NOT withdrawn
        ORDER BY key""").fetchall()}


def confirm_penalty(store, key: str, by: str, on: date, amount: Decimal,
                    note: str = "", withdrawn: bool = False) -> int:
    """Record the agency's confirmation (or its withdrawal) of a penalty: a new revision."""
    with store.transaction() as db:
        rev = db.execute("SELECT coalesce(max(revision), 0) + 1 FROM penalty_confirmations "
                         "WHERE key = ?", [key]).fetchone()[0]
        insert(db, "penalty_confirmations", ("key", "revision", "confirmed_by", "confirmed_on",
                                             "amount", "note", "withdrawn"),
               [[key, rev, by, on, amount, note, withdrawn]], now=True)
    return rev


#: what a ledger's counted penalties add up to: the one sum every report shows
_COUNTED_SUM = "coalesce(sum(amount) FILTER (WHERE status = 'counted'), 0)::DECIMAL(18,2)"


def penalty_total(store, as_of: date, month: str | None = None,
                  dated_from: date | None = None) -> Decimal:
    """What the counted penalties of that ledger add up to (only those of ``month``, or
    dated from ``dated_from`` on, when given): the one sum every report and the finance
    workbook show."""
    return store.db.execute(
        f"SELECT {_COUNTED_SUM} "
        "FROM penalty_ledger WHERE as_of = ? AND (? IS NULL OR month = ?) "
        "AND (?::DATE IS NULL OR dated >= ?::DATE)",
        [as_of, month, month, dated_from, dated_from]).fetchone()[0]


def penalty_totals(store, first: date, last: date) -> dict[date, Decimal]:
    """:func:`penalty_total` of each night of ``first`` .. ``last`` that has a ledger (a
    night without one: nothing counted, 0.00)."""
    return dict(store.db.execute(
        f"SELECT as_of, {_COUNTED_SUM} FROM penalty_ledger WHERE as_of BETWEEN ? AND ? "
        "GROUP BY as_of", [first, last]).fetchall())


def scaling_states(store, as_of: date) -> list[dict]:
    """Each request's state as concluded for the night ``as_of``."""
    return scaling_states_between(store, as_of, as_of).get(as_of, [])


def scaling_states_between(store, first: date, last: date) -> dict[date, list[dict]]:
    """Each request's state as concluded for each night of ``first`` .. ``last``."""
    out: dict[date, list[dict]] = {}
    for day, d in store.db.execute(
            "SELECT as_of, detail FROM scaling_states WHERE as_of BETWEEN ? AND ? "
            "ORDER BY as_of, seq", [first, last]).fetchall():
        out.setdefault(day, []).append(json.loads(d))
    return out


def month_verdicts(store, until_month: str, owner: str | None = None) -> list[dict]:
    """The stored verdicts of one contract's months up to ``until_month``, oldest first
    (``owner`` as :data:`OWNER`: None the first contract's)."""
    cur = store.db.execute(
        "SELECT * EXCLUDE (contract_number) FROM month_verdicts "
        f"WHERE month <= ? AND {OWNER} ORDER BY month", [until_month, owner])
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        v = dict(zip(names, row))
        v["criteria"] = json.loads(v["criteria"])
        v["fault_breaches"] = json.loads(v["fault_breaches"])
        out.append(v)
    return out


def latest_ledger_date(store) -> date | None:
    """The newest night (or month end) a penalty ledger was concluded for."""
    return store.db.execute("SELECT max(as_of) FROM penalty_ledger").fetchone()[0]


def save_milestone_verdict(store, v: dict, owner: str | None = None) -> None:
    """A contract's milestone conclusion (an acceptance period's recommendation, the annual
    verdict), replacing the one concluded for that contract, kind and period before (one
    transaction); ``owner`` as :data:`OWNER` (None: the first contract), whose status row in
    conclusions is named ``period`` as before migration 15, a follow-on's ``NUMBER/period``."""
    status = v["period"] if owner is None else f"{owner}/{v['period']}"
    with store.transaction() as db:
        db.execute(f"DELETE FROM milestone_verdicts WHERE kind = ? AND period = ? AND {OWNER}",
                   [v["kind"], v["period"], owner])
        db.execute("DELETE FROM conclusions WHERE kind = ? AND period = ?", [v["kind"], status])
        insert(db, "milestone_verdicts", ("kind", "period", "first_day", "last_day", "as_of",
                                          "code", "verdict", "reasons", "contract_number"),
               [[v["kind"], v["period"], v["first_day"], v["last_day"], v["as_of"],
                 v["code"], v["verdict"], json.dumps(v["reasons"], ensure_ascii=False, default=str),
                 owner]])
        insert(db, "conclusions", ("kind", "period"), [[v["kind"], status]], now=True)


def milestone_verdict(store, kind: str, period: str, owner: str | None = None) -> dict | None:
    """The stored conclusion of a contract's milestone (``kind`` acceptance | annual), or
    None."""
    cur = store.db.execute("SELECT * FROM milestone_verdicts WHERE kind = ? AND period = ? "
                           f"AND {OWNER}", [kind, period, owner])
    row = cur.fetchone()
    if row is None:
        return None
    v = dict(zip([d[0] for d in cur.description], row))
    v["reasons"] = json.loads(v["reasons"])
    return v


def generated_nights(store, first: date, last: date) -> list[date]:
    """The nights of ``first`` .. ``last`` whose latest run `recon demo` generated from its
    scenario rather than pulled (演示生成)."""
    return [d for (d,) in store.db.execute(
        "SELECT snapshot_date FROM runs WHERE snapshot_date BETWEEN ? AND ? "
        "GROUP BY 1 HAVING arg_max(coalesce(origin, 'pull'), run_id) = 'demo' ORDER BY 1",
        [first, last]).fetchall()]


# -- the notices ledger: written and read by recon/ledgers/notices.py -------------------------
NOTICE_COLUMNS = ("notice_id", "revision", "kind", "ref", "drafted_on", "deadline", "sent_on",
                  "files", "note", "origin", "contract_number")


def _notice_rows(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        n = dict(zip(names, row))
        n["files"] = json.loads(n["files"]) if n["files"] else []
        out.append(n)
    return out


def latest_notices(store) -> list[dict]:
    """Every notice's latest revision, in the order of their ids."""
    return _notice_rows(store.db.execute(
        f"SELECT {', '.join(NOTICE_COLUMNS)} FROM notices "
        "QUALIFY revision = max(revision) OVER (PARTITION BY notice_id) ORDER BY notice_id"))


def notice_history(store, notice_id: str) -> list[dict]:
    """Every revision of one notice, oldest first."""
    return _notice_rows(store.db.execute(
        f"SELECT {', '.join(NOTICE_COLUMNS)}, recorded_at FROM notices WHERE notice_id = ? "
        "ORDER BY revision", [notice_id]))


def last_notice_number(store, year: int) -> int:
    """The highest NNN of the ids TZ-YEAR-NNN given so far (0: none yet)."""
    return store.db.execute(
        "SELECT coalesce(max(CAST(split_part(notice_id, '-', 3) AS INTEGER)), 0) FROM notices "
        "WHERE notice_id LIKE ?", [f"TZ-{year}-%"]).fetchone()[0]


def save_notice_revision(store, notice: dict) -> None:
    """Append one revision of a notice (its ``revision`` says which)."""
    with store.transaction() as db:
        insert(db, "notices", NOTICE_COLUMNS,
               [[notice[c] if c != "files" else json.dumps(notice["files"], ensure_ascii=False)
                 for c in NOTICE_COLUMNS]], now=True)


# -- the materials ledger: written and read by recon/ledgers/materials.py ---------------------
MATERIAL_COLUMNS = ("name", "period", "revision", "received_on", "file", "size", "sha256",
                    "note", "origin")


def latest_materials(store, period: str | None = None, owner: str | None = None) -> list[dict]:
    """Every material's latest revision of one contract (``owner`` as :data:`OWNER`; of one
    period, when given), by period and name."""
    cur = store.db.execute(
        f"SELECT {', '.join(MATERIAL_COLUMNS)} FROM materials "
        f"WHERE (?::VARCHAR IS NULL OR period = ?) AND {OWNER} "
        "QUALIFY revision = max(revision) OVER (PARTITION BY name, period) "
        "ORDER BY period, received_on, name", [period, period, owner])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def material_history(store, name: str, period: str, owner: str | None = None) -> list[dict]:
    cur = store.db.execute(
        f"SELECT {', '.join(MATERIAL_COLUMNS)}, recorded_at FROM materials "
        f"WHERE name = ? AND period = ? AND {OWNER} ORDER BY revision", [name, period, owner])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_material_revisions(store, rows: list[dict], owner: str | None = None) -> None:
    """Append revisions of one contract's materials in one transaction (all or none)."""
    with store.transaction() as db:
        insert(db, "materials", MATERIAL_COLUMNS + ("contract_number",),
               [[m[c] for c in MATERIAL_COLUMNS] + [owner] for m in rows], now=True)


def scaling_request_ids(store) -> set[str]:
    """The ids of the scaling requests recorded (any revision)."""
    return {r for (r,) in store.db.execute(
        "SELECT DISTINCT request_id FROM scaling_requests").fetchall()}


def findings_between(store, first: date, last: date, codes: tuple[str, ...]) -> list[dict]:
    """Findings of ``codes`` over the nights ``first`` .. ``last``, one row per code, item
    and source: how many nights, the first and last, the last night's message."""
    cur = store.db.execute("""
        SELECT code, item_no, source, count(*) AS nights, min(snapshot_date) AS first_night,
               max(snapshot_date) AS last_night, arg_max(message, snapshot_date) AS message
        FROM findings WHERE snapshot_date BETWEEN ? AND ? AND list_contains(?, code)
        GROUP BY code, item_no, source ORDER BY code, item_no NULLS LAST, source
    """, [first, last, list(codes)])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


# -- which contract a ledger row belongs to (migration 15) ----------------------------------
#: the one rule: a row's contract_number is NULL for the first contract (every row stored
#: before migration 15 was its, and rows recorded for it since are NULL too) and the
#: follow-on's number otherwise; ``owner`` below is None for the first contract
#: (recon.contract.Contract.owner, set by load_contracts, is the value for a contract)
OWNER = "contract_number IS NOT DISTINCT FROM ?"


# -- the payments ledger: written and read by recon/ledgers/payments.py -----------------------
PAYMENT_COLUMNS = ("kind", "revision", "paid_on", "amount", "note", "origin")


def latest_payments(store, owner: str | None = None) -> list[dict]:
    """Each payment's latest revision of one contract: the first payment, then the final one."""
    cur = store.db.execute(
        f"SELECT {', '.join(PAYMENT_COLUMNS)}, recorded_at FROM payments WHERE {OWNER} "
        "QUALIFY revision = max(revision) OVER (PARTITION BY kind) "
        "ORDER BY CASE kind WHEN 'first' THEN 1 ELSE 2 END", [owner])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def payment_history(store, kind: str, owner: str | None = None) -> list[dict]:
    """Every revision of one contract's payment, oldest first."""
    cur = store.db.execute(
        f"SELECT {', '.join(PAYMENT_COLUMNS)}, recorded_at FROM payments WHERE kind = ? "
        f"AND {OWNER} ORDER BY revision", [kind, owner])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_payment_revision(store, payment: dict, owner: str | None = None) -> None:
    """Append one revision of a contract's payment (its ``revision`` says which)."""
    with store.transaction() as db:
        insert(db, "payments", PAYMENT_COLUMNS + ("contract_number",),
               [[payment[c] for c in PAYMENT_COLUMNS] + [owner]], now=True)


# -- the acceptance ledger: written and read by recon/ledgers/acceptance.py -------------------
ACCEPTANCE_COLUMNS = ("period", "revision", "result", "decided_on", "note", "origin")


def acceptance_records(store, period: str | None = None, owner: str | None = None) -> list[dict]:
    """Every revision of every acceptance record of one contract (of one period, when
    given), by period and revision."""
    cur = store.db.execute(
        f"SELECT {', '.join(ACCEPTANCE_COLUMNS)} FROM acceptance_records "
        f"WHERE (?::VARCHAR IS NULL OR period = ?) AND {OWNER} ORDER BY period, revision",
        [period, period, owner])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_acceptance_revision(store, row: dict, owner: str | None = None) -> None:
    """Append one revision of a contract's acceptance record (its ``revision`` says which)."""
    with store.transaction() as db:
        insert(db, "acceptance_records", ACCEPTANCE_COLUMNS + ("contract_number",),
               [[row[c] for c in ACCEPTANCE_COLUMNS] + [owner]], now=True)


# -- reads for reports: what the nightly, monthly and index reports and notify show -----------
# The reports, finance and notify never query a table themselves (tests/test_store_reads.py
# walks them): each question they ask is one function here, so a table's layout is known
# in this module and recon/store.py only, and two reports asking the same question get the
# same answer.

def _dicts(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _by_night(cur, key: str = "snapshot_date") -> dict[date, list[dict]]:
    """A period's rows grouped by night (``key``, dropped from each row), in the query's
    order: one query for a whole period, each night's rows read from it."""
    names = [d[0] for d in cur.description]
    at = names.index(key)
    out: dict[date, list[dict]] = {}
    for row in cur.fetchall():
        out.setdefault(row[at], []).append({n: v for n, v in zip(names, row) if n != key})
    return out


def nights_source_runs(store, first: date, last: date) -> dict[date, list[dict]]:
    """Each source's gate result on each night of ``first`` .. ``last``, by source: status,
    reason (and its stable code), how many resource lines and measurements it stored."""
    return _by_night(store.db.execute(
        "SELECT snapshot_date, source, status, reason, stats->>'reason_code' AS reason_code, "
        "lines, measurements FROM source_runs WHERE snapshot_date BETWEEN ? AND ? "
        "ORDER BY snapshot_date, source", [first, last]))


def nights_findings(store, first: date, last: date) -> dict[date, list[dict]]:
    """The findings of each night of ``first`` .. ``last`` in the order they were stored
    (the report sorts them by severity), with their figures (None when none) and resource
    ids ([] when none) decoded."""
    out = _by_night(store.db.execute(
        "SELECT snapshot_date, code, severity, item_no, source, message, figures, resource_ids "
        "FROM findings WHERE snapshot_date BETWEEN ? AND ? ORDER BY snapshot_date, rowid",
        [first, last]))
    for rows in out.values():
        for f in rows:
            f["figures"] = json.loads(f["figures"]) if f["figures"] else None
            f["resource_ids"] = json.loads(f["resource_ids"]) if f["resource_ids"] else []
    return out


def nights_scope_measurements(store, first: date, last: date) -> dict[date, list[dict]]:
    """The accepted measurements of each night of ``first`` .. ``last`` that one scope
    (region/project: a source named ``service@scope``) contributed, by item, source and
    metric: how an item's figure adds up across the tenant's scopes."""
    return _by_night(store.db.execute(
        "SELECT snapshot_date, item_no, source, metric, quantity, basis FROM measurements "
        "WHERE snapshot_date BETWEEN ? AND ? AND accepted AND contains(source, '@') "
        "ORDER BY snapshot_date, item_no, source, metric", [first, last]))


def nights_item_days(store, first: date, last: date) -> dict[date, list[dict]]:
    """Every item's reconciled figures on each night of ``first`` .. ``last`` (item_days,
    all that the nightly report shows), by item; ``parts`` decoded ([] when none)."""
    out = _by_night(store.db.execute(
        "SELECT snapshot_date, item_no, contracted, allocated, in_use, shortfall, overage, "
        "utilisation, day_value, shortfall_value, overage_value, status, measured_by, "
        "allocated_basis, in_use_basis, unlimited, parts FROM item_days "
        "WHERE snapshot_date BETWEEN ? AND ? ORDER BY snapshot_date, item_no", [first, last]))
    for rows in out.values():
        for r in rows:
            r["parts"] = json.loads(r["parts"]) if r["parts"] else []
    return out


def nights_not_counted(store, first: date, last: date) -> dict[date, list[dict]]:
    """The resources seen on each night of ``first`` .. ``last`` that the connectors
    measured but did not count (quantity 0, ``counted: false``: an error volume, a deleted
    server ...), by item, type, name and id, their attributes decoded ({} when none)."""
    # the attributes are read of the night's lines of quantity 0 only: a filter on them
    # alone, DuckDB evaluates it on every resource of the store as it scans them (the CASE
    # names the line, so it waits for the join): 0.016 -> 0.002 s at 100,000 servers
    out = _by_night(store.db.execute(
        "SELECT l.snapshot_date, r.source, r.resource_type, r.resource_id, r.name, l.item_no, "
        "r.attributes FROM resource_lines l JOIN resources r USING (resource_key) "
        "WHERE l.snapshot_date BETWEEN ? AND ? AND l.quantity = 0 "
        "AND CASE WHEN l.quantity = 0 THEN json_extract_string(r.attributes, '$.counted') "
        "END = 'false' "
        "ORDER BY l.snapshot_date, l.item_no, r.resource_type, r.name, r.resource_id",
        [first, last]))
    for rows in out.values():
        for r in rows:
            r["attributes"] = json.loads(r["attributes"]) if r["attributes"] else {}
    return out


def resource_names(store, resource_ids: list[str]) -> dict[str, str]:
    """The names behind resource ids (only those that have a name other than the id): a
    reader knows a volume by name, not by UUID."""
    return dict(store.db.execute(
        "SELECT resource_id, any_value(name) FROM resources "
        "WHERE resource_id IN (SELECT unnest(?::VARCHAR[])) AND name IS NOT NULL "
        "AND name <> '' AND name <> resource_id GROUP BY resource_id",
        [resource_ids]).fetchall())


def exit_codes_by_night(store) -> dict[date, int]:
    """Each night's verdict: the exit code of its latest finished run (a night whose runs
    never finished is absent)."""
    return dict(store.db.execute(
        "SELECT snapshot_date, arg_max(exit_code, run_id) FROM runs "
        "WHERE exit_code IS NOT NULL GROUP BY 1").fetchall())


def finding_counts_by_night(store) -> dict[tuple[date, str], int]:
    """How many findings of each severity each night has: (night, severity) -> count."""
    return {(d, s): n for d, s, n in store.db.execute(
        "SELECT snapshot_date, severity, count(*) FROM findings GROUP BY 1, 2").fetchall()}


def unknown_items_by_night(store, first: date | None = None,
                           last: date | None = None) -> dict[date, list[int]]:
    """The items each night (of ``first`` .. ``last``, when given) could not verify
    (status unknown), by item number; a night with none is absent."""
    return dict(store.db.execute(
        "SELECT snapshot_date, list(item_no ORDER BY item_no) FROM item_days "
        "WHERE status = 'unknown' AND (?::DATE IS NULL OR snapshot_date >= ?::DATE) "
        "AND (?::DATE IS NULL OR snapshot_date <= ?::DATE) GROUP BY 1",
        [first, first, last, last]).fetchall())


def allocation_ratios(store) -> dict[int, dict[date, Decimal]]:
    """Allocated / contracted per item and night, where the allocation was measured (not
    unknown) against a contracted quantity: the index's delivery trend."""
    by_item: dict[int, dict[date, Decimal]] = {}
    for item_no, d, ratio in store.db.execute(
            "SELECT item_no, snapshot_date, allocated / contracted FROM item_days "
            "WHERE allocated IS NOT NULL AND contracted > 0 AND status <> 'unknown' "
            "ORDER BY item_no, snapshot_date").fetchall():
        by_item.setdefault(item_no, {})[d] = Decimal(ratio)
    return by_item


def source_failures(store) -> list[dict]:
    """Per source, by name: on how many nights it did not deliver (``failed``: failed or
    rejected), out of how many (``nights``), and which nights (``failed_on``, oldest first)."""
    return [{"source": src, "failed": bad, "nights": n, "failed_on": list(ds or [])}
            for src, bad, n, ds in store.db.execute(
                "SELECT source, count(*) FILTER (WHERE status <> 'ok'), count(*), "
                "list(snapshot_date ORDER BY snapshot_date) FILTER (WHERE status <> 'ok') "
                "FROM source_runs GROUP BY 1 ORDER BY 1").fetchall()]


def night_runs(store) -> list[tuple[date, int]]:
    """Each stored night, oldest first, with the run that stored it."""
    return store.db.execute(
        "SELECT snapshot_date, max(run_id) FROM source_runs GROUP BY 1 ORDER BY 1").fetchall()


def measured_by_item(store, first: date, last: date) -> dict[int, str]:
    """Per item, the sources that measured it over ``first`` .. ``last`` ("a, b")."""
    return dict(store.db.execute(
        "SELECT item_no, string_agg(DISTINCT measured_by, ', ' ORDER BY measured_by) "
        "FROM item_days WHERE snapshot_date BETWEEN ? AND ? GROUP BY item_no",
        [first, last]).fetchall())


def allocated_basis_by_item(store, first: date, last: date) -> dict[int, str]:
    """Per item, the basis of its allocated figure on the latest night of ``first`` ..
    ``last`` that had one (quota, resources, export ...)."""
    return dict(store.db.execute(
        "SELECT item_no, allocated_basis FROM item_days WHERE snapshot_date BETWEEN ? AND ? "
        "AND allocated_basis IS NOT NULL "
        "QUALIFY row_number() OVER (PARTITION BY item_no ORDER BY snapshot_date DESC) = 1",
        [first, last]).fetchall())


# -- the contract each night was judged by: written by recon/nightly.py (migration 14) --------
def save_night_contract(store, day: date, run_id: int, number: str, kind: str) -> None:
    """Which contract judged night ``day`` and how (term | transition), replacing a rerun's."""
    with store.transaction() as db:
        db.execute("DELETE FROM night_contracts WHERE snapshot_date = ?", [day])
        insert(db, "night_contracts", ("snapshot_date", "run_id", "contract_number", "kind"),
               [[day, run_id, number, kind]])


def night_evidence(store, first: date, last: date) -> list[dict]:
    """Per night stored in ``first`` .. ``last``: the run id that wrote it, its exit code and
    each source's gate result (ok | failed | rejected, with the reason): the MANIFEST of an
    acceptance pack."""
    runs = {d: (rid, code, origin) for d, rid, code, origin in store.db.execute(
        "SELECT s.snapshot_date, max(s.run_id), arg_max(r.exit_code, r.run_id), "
        "arg_max(coalesce(r.origin, 'pull'), r.run_id) "
        "FROM source_runs s LEFT JOIN runs r USING (run_id, snapshot_date) "
        "WHERE s.snapshot_date BETWEEN ? AND ? GROUP BY 1", [first, last]).fetchall()}
    out: dict[date, dict] = {}
    for d, source, status, reason, lines, meas in store.db.execute(
            "SELECT snapshot_date, source, status, reason, lines, measurements FROM source_runs "
            "WHERE snapshot_date BETWEEN ? AND ? ORDER BY 1, 2", [first, last]).fetchall():
        rid, code, origin = runs.get(d, (None, None, None))
        night = out.setdefault(d, {"night": d, "run_id": rid, "exit_code": code, "sources": []})
        if origin == "demo":   # 演示生成: `recon demo` generated it from its scenario
            night["generated"] = True
        night["sources"].append({"source": source, "status": status, "reason": reason,
                                 "lines": lines, "measurements": meas})
    return [out[d] for d in sorted(out)]


def item_day_rows(store, first: date, last: date) -> list[dict]:
    """The reconciled figures of every item on every night of ``first`` .. ``last``
    (item_days), by night and item: what a pack's per-item figures are computed from."""
    cur = store.db.execute(
        "SELECT snapshot_date, item_no, contracted, allocated, in_use, shortfall, status, "
        "allocated_basis, day_value, shortfall_value FROM item_days "
        "WHERE snapshot_date BETWEEN ? AND ? ORDER BY 1, 2", [first, last])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def runs_finished_at(store, first: date, last: date) -> dict[date, datetime]:
    """When the latest finished run of each night of ``first`` .. ``last`` finished (a
    regenerated nightly JSON is dated by it, never by the clock); a night without a
    finished run is absent."""
    return dict(store.db.execute(
        "SELECT snapshot_date, arg_max(finished_at, run_id) FROM runs "
        "WHERE snapshot_date BETWEEN ? AND ? AND finished_at IS NOT NULL GROUP BY 1",
        [first, last]).fetchall())


# -- reads for finance: recon/finance/verify.py ------------------------------------------------
def item_nights(store, first: date, last: date, item_nos) -> dict[tuple[int, date], dict]:
    """What the store measured of the items ``item_nos`` on each night of ``first`` ..
    ``last`` (item_days: status, allocated, allocated_basis), by (item, night): one query
    for a whole statement, however many lines it has (a statement billed per resource has
    tens of thousands, and one query per line took seconds)."""
    cur = store.db.execute(
        "SELECT item_no, snapshot_date, status, allocated, allocated_basis FROM item_days "
        "WHERE snapshot_date BETWEEN ? AND ? AND list_contains(?, item_no)",
        [first, last, sorted(item_nos)])
    return {(no, day): {"status": status, "allocated": allocated, "allocated_basis": basis}
            for no, day, status, allocated, basis in cur.fetchall()}
