"""The DuckDB store: dated snapshots, runs, findings and the reconciled figures.

One file.  The schema is versioned: :data:`MIGRATIONS` is an append-only list,
applied in order on open, each in its own transaction, and recorded in
``schema_migrations``.  Never edit a migration that has shipped; add one.

A night is one transaction (:meth:`Store.transaction`): its snapshot replaces
the date's (delete, then insert, as Koku re-processes a day), its conclusions,
scaling flags and its ``runs`` row commit together or not at all, and its
report files appear through the store's :class:`~recon.outbox.Outbox` exactly
when it commits.  There is never a ``running`` row: a run that dies leaves
nothing but a journal the next open settles.

DuckDB lets one process hold the file read-write, or many read-only.  So a
night holds it only while it writes (after the pull), and every open waits
up to ``lock_wait_seconds`` for whoever holds it, saying for whom.  Two
nights never interleave: :func:`run_lock` holds an advisory lock file beside
the store for a whole run, pull included.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from recon.config import LOCK_WAIT_SECONDS
from recon.errors import StoreBusy, StoreError
from recon.outbox import Outbox
from recon.progress import SHANGHAI

QTY = "DECIMAL(18,6)"
MONEY = "DECIMAL(18,6)"

MIGRATIONS: list[str] = [
    # 1: the nightly core
    f"""
    CREATE SEQUENCE run_ids START 1;
    CREATE TABLE runs (
        run_id BIGINT NOT NULL DEFAULT nextval('run_ids'),
        snapshot_date DATE NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        status VARCHAR NOT NULL,          -- running | complete | incomplete | failed | abandoned
        exit_code INTEGER,
        host VARCHAR,
        note VARCHAR
    );
    CREATE TABLE source_runs (
        snapshot_date DATE NOT NULL,
        run_id BIGINT NOT NULL,
        source VARCHAR NOT NULL,
        status VARCHAR NOT NULL,          -- ok | failed | rejected
        reason VARCHAR,
        lines INTEGER,
        measurements INTEGER,
        stats JSON
    );
    -- one row per resource ever seen; name and attributes are the latest seen
    CREATE TABLE resources (
        resource_key INTEGER NOT NULL,
        source VARCHAR NOT NULL,
        resource_type VARCHAR NOT NULL,
        resource_id VARCHAR NOT NULL,
        name VARCHAR,
        project_id VARCHAR,
        attributes JSON,
        first_seen DATE,
        last_seen DATE
    );
    -- the daily evidence: how much of which item each resource accounted for
    CREATE TABLE resource_lines (
        snapshot_date DATE NOT NULL,
        resource_key INTEGER NOT NULL,
        item_no SMALLINT,                 -- NULL: maps to no item (unmapped)
        quantity {QTY} NOT NULL,
        unit VARCHAR,
        accepted BOOLEAN NOT NULL
    );
    CREATE TABLE measurements (
        snapshot_date DATE NOT NULL,
        source VARCHAR NOT NULL,
        item_no SMALLINT NOT NULL,
        metric VARCHAR NOT NULL,          -- allocated | in_use
        quantity {QTY} NOT NULL,
        accepted BOOLEAN NOT NULL
    );
    -- the reconciliation of each item on each date
    CREATE TABLE item_days (
        snapshot_date DATE NOT NULL,
        item_no SMALLINT NOT NULL,
        contracted {QTY},
        allocated {QTY},
        in_use {QTY},
        shortfall {QTY},
        overage {QTY},
        utilisation DECIMAL(9,4),         -- DECIMAL(22,4) from migration 7
        day_value {MONEY},
        shortfall_value {MONEY},
        overage_value {MONEY},
        status VARCHAR NOT NULL,          -- ok | shortfall | over | unknown | not_measured
        measured_by VARCHAR
    );
    CREATE TABLE findings (
        snapshot_date DATE NOT NULL,
        code VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,        -- critical | warning | info
        item_no SMALLINT,
        source VARCHAR,
        message VARCHAR NOT NULL,
        figures JSON,
        resource_ids JSON
    );
    """,
    # 2: the scaling-request ledger (扩容), with history: a change is a new revision
    f"""
    CREATE TABLE scaling_requests (
        request_id VARCHAR NOT NULL,
        revision INTEGER NOT NULL,
        item_no SMALLINT NOT NULL,
        target {QTY},                     -- absolute target, or NULL when given as an increase
        increase {QTY},
        requested_at TIMESTAMPTZ NOT NULL,
        requested_date DATE NOT NULL,     -- Asia/Shanghai; day 0 of the 7 natural days
        notice_date DATE,                 -- the management unit's written notice
        notice_deadline DATE,             -- the deadline that notice set
        note VARCHAR,
        origin VARCHAR,                   -- 'cli' or 'file.csv:LINE'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 3: a night is one transaction now and never leaves a 'running' row; rows that
    # older versions left 'running' were runs that died
    """
    UPDATE runs SET status = 'abandoned' WHERE status = 'running';
    """,
    # 4: the incidents ledger (faults, service requests, security events; 第三条, 附件1-3),
    # with history: a change is a new revision, the latest revision counts
    """
    CREATE TABLE incidents (
        incident_id VARCHAR NOT NULL,
        revision INTEGER NOT NULL,
        system VARCHAR NOT NULL,
        important BOOLEAN NOT NULL,       -- 重要信息系统: 10 minutes to clear a fault, not 30
        kind VARCHAR NOT NULL,            -- fault | request | security
        started_at TIMESTAMPTZ NOT NULL,
        responded_at TIMESTAMPTZ,
        on_site_at TIMESTAMPTZ,
        located_at TIMESTAMPTZ,
        recovered_at TIMESTAMPTZ,         -- NULL: still open
        outage BOOLEAN NOT NULL,          -- the service was interrupted
        impact VARCHAR,
        complaint BOOLEAN NOT NULL,       -- the agency complained (附件3 row 2)
        event_level VARCHAR,              -- 附件1 A | B, the agency's judgement; NULL: neither
        major_loss BOOLEAN NOT NULL,      -- 附件2 造成重大损失, the agency's judgement
        note VARCHAR,
        origin VARCHAR,                   -- 'file.csv:LINE'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 5: what each figure is (connectors/base.py Measurement.basis) and what it adds up;
    #    quantity is NULL when the basis is not_measured or unlimited
    """
    ALTER TABLE measurements ALTER COLUMN quantity DROP NOT NULL;
    ALTER TABLE measurements ADD COLUMN basis VARCHAR;
    ALTER TABLE measurements ADD COLUMN parts JSON;
    ALTER TABLE item_days ADD COLUMN allocated_basis VARCHAR;
    ALTER TABLE item_days ADD COLUMN in_use_basis VARCHAR;
    ALTER TABLE item_days ADD COLUMN unlimited BOOLEAN;
    ALTER TABLE item_days ADD COLUMN parts JSON;
    """,
    # 6: a digest of each resource's attributes as the connector handed them over, so that a
    #    night encodes JSON only for the resources whose attributes changed
    #    (Store._upsert_resources); empty in an older store: its first night writes them all
    """
    CREATE TABLE resource_digests (
        resource_key INTEGER NOT NULL,
        digest UBIGINT NOT NULL
    );
    """,
    # 7: utilisation holds any ratio two DECIMAL(18,6) quantities give (< 10^18): at
    #    DECIMAL(9,4) an export with 100,000 times its allocation in use failed the night
    """
    ALTER TABLE item_days ALTER COLUMN utilisation TYPE DECIMAL(22,4);
    """,
    # 8: conclusions, computed once by the step that concludes them (recon/conclude.py) and
    #    read by every report: the penalty ledger and each scaling request's state as they
    #    stood on a night (or a month's last day), and each month's verdict.  Replaced whole
    #    per period (delete, then insert), with a status row per concluded period (Koku).
    #    The coefficient is kept as the text assessment.toml gives (0.20 stays 0.20).
    """
    CREATE TABLE conclusions (
        kind VARCHAR NOT NULL,            -- night | month
        period VARCHAR NOT NULL,          -- YYYY-MM-DD (night) | YYYY-MM (month)
        concluded_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE penalty_ledger (
        as_of DATE NOT NULL,              -- the ledger as it stood on this night
        seq INTEGER NOT NULL,             -- date order, as the ledger lists them
        key VARCHAR NOT NULL,             -- stable: scaling:REQ, sla:2026-11:availability ...
        dated DATE NOT NULL,
        month VARCHAR NOT NULL,
        annex SMALLINT NOT NULL,
        row_no SMALLINT NOT NULL,
        clause VARCHAR NOT NULL,
        coefficient VARCHAR NOT NULL,
        fee DECIMAL(18,2) NOT NULL,       -- the monthly fee the coefficient applies to
        amount DECIMAL(18,2) NOT NULL,
        status VARCHAR NOT NULL,          -- counted | pending
        reason VARCHAR NOT NULL,
        item_no SMALLINT,
        running_total DECIMAL(18,2) NOT NULL,
        over_cap BOOLEAN NOT NULL,
        rule VARCHAR NOT NULL,            -- the readings it rests on (assessment.toml)
        basis VARCHAR NOT NULL,           -- the figures it rests on
        held_by JSON NOT NULL,            -- open incidents it waits for
        confirmed_by VARCHAR,             -- NULL: 估算
        confirmed_on DATE
    );
    -- the agency's confirmation of a penalty (recon penalties confirm): a change is a revision
    CREATE TABLE penalty_confirmations (
        key VARCHAR NOT NULL,
        revision INTEGER NOT NULL,
        confirmed_by VARCHAR NOT NULL,
        confirmed_on DATE NOT NULL,
        amount DECIMAL(18,2) NOT NULL,    -- the amount confirmed: a later change unconfirms it
        note VARCHAR,
        withdrawn BOOLEAN NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE scaling_states (
        as_of DATE NOT NULL,
        seq INTEGER NOT NULL,
        request_id VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        penalty_applies BOOLEAN NOT NULL,
        detail JSON NOT NULL              -- the whole state and the request revision it read
    );
    CREATE TABLE month_verdicts (
        month VARCHAR NOT NULL,
        first_day DATE NOT NULL,
        last_day DATE NOT NULL,
        partial BOOLEAN NOT NULL,
        passed BOOLEAN,                   -- NULL: undetermined
        failed_in_a_row INTEGER NOT NULL,
        termination BOOLEAN NOT NULL,     -- a 第十二条 termination condition is met
        termination_reason VARCHAR NOT NULL,
        criteria JSON NOT NULL,           -- each criterion: code, name, clause, passed, ...
        fault_breaches JSON NOT NULL      -- each fault over a limit of 第三条 4-5, with its times
    );
    """,
    # 9: the notices ledger (书面通知, 整改通知: 附件3第3、4条, 第十二条4, 第六条), with history: a
    # change (drafted again, sent) is a new revision, the latest revision counts
    """
    CREATE TABLE notices (
        notice_id VARCHAR NOT NULL,       -- TZ-YYYY-NNN, sequential per year of drafting
        revision INTEGER NOT NULL,
        kind VARCHAR NOT NULL,            -- scaling | rectification | acceptance
        ref VARCHAR NOT NULL,             -- request id | YYYY-MM (third failed month) | acceptance
        drafted_on DATE NOT NULL,         -- the letter's date (成文日期)
        deadline DATE NOT NULL,           -- the deadline the letter sets
        sent_on DATE,                     -- NULL: drafted, not sent
        files JSON,                       -- [{"path": ..., "sha256": ...}] of the DOCX and PDF
        note VARCHAR,
        origin VARCHAR,                   -- 'cli'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 10: the materials ledger (验收材料, 第六条): what the provider handed in, with each file's
    # sha256 as received (the file itself is never written); a change is a new revision
    """
    CREATE TABLE materials (
        name VARCHAR NOT NULL,            -- 运维月报, 漏扫报告, ... (with period: the key)
        period VARCHAR NOT NULL,          -- 2026-11, 2026, 中期验收 ...
        revision INTEGER NOT NULL,
        received_on DATE NOT NULL,
        file VARCHAR NOT NULL,            -- the file's absolute path when recorded
        size BIGINT NOT NULL,
        sha256 VARCHAR NOT NULL,
        note VARCHAR,
        origin VARCHAR,                   -- 'cli' or 'file.csv:LINE'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 11: the payments ledger (第七条第2款: 首款 50% within 20 working days of signing, 尾款 50%
    # after the term and a passed annual assessment): what the agency paid and when; a change
    # is a new revision, the latest revision of each kind counts
    """
    CREATE TABLE payments (
        kind VARCHAR NOT NULL,            -- first | final
        revision INTEGER NOT NULL,
        paid_on DATE NOT NULL,
        amount DECIMAL(18,2) NOT NULL,
        note VARCHAR,
        origin VARCHAR,                   -- 'cli'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 12: the acceptance ledger (验收, 第六条): each review's result as the agency records it;
    # a resubmission after rework is a new revision of the same period, the latest counts
    """
    CREATE TABLE acceptance_records (
        period VARCHAR NOT NULL,          -- mid | final | FROM..TO
        revision INTEGER NOT NULL,
        result VARCHAR NOT NULL,          -- pass | fail
        decided_on DATE NOT NULL,         -- the day of the review (验收评审会)
        note VARCHAR,
        origin VARCHAR,                   -- 'cli'
        recorded_at TIMESTAMPTZ NOT NULL
    );
    """,
]

#: the store's upkeep (Store.upkeep): a file whose free blocks are over this share of it,
#: and at least COMPACT_MIN_FREE_BYTES, is rewritten compact as its writer closes it
COMPACT_FREE_SHARE = 0.5
COMPACT_MIN_FREE_BYTES = 64 * 2 ** 20

#: the tables holding one night's snapshot, replaced whole by a rerun
SNAPSHOT_TABLES = ("source_runs", "resource_lines", "measurements", "item_days", "findings")


#: DuckDB's lock error names the process holding the file
_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


#: one encoder for every resource's attributes: json.dumps with options builds a new
#: encoder per call, which was half of storing a 100,000-line night (bench/README.md)
_attributes_json = json.JSONEncoder(default=str, ensure_ascii=False, sort_keys=True,
                                    check_circular=False).encode

def attributes_digest_text(attributes: dict | None) -> str:
    """What a resource's attributes digest is taken of (``hash()`` in SQL): the dict's repr."""
    return repr(attributes) if attributes else "{}"


def _digest_texts(dicts: list) -> np.ndarray:
    """:func:`attributes_digest_text` of each of ``dicts`` (dicts or None), without a Python
    call per dict: ``repr`` mapped in C, None's "None" made "{}" after."""
    texts = np.array(list(map(repr, dicts)), dtype=object)
    if len(texts):
        texts[texts == "None"] = "{}"
    return texts


class _Night:
    """A night's lines as the store writes them: one row per resource, numbers per line.

    Built from each source's :class:`connectors.base.Lines` columns with numpy and
    pandas' hash tables (no Python per line): the resources of a source are its
    distinct (type, id) pairs (``pd.factorize``), each taken with its first line's
    name, project and attributes dict (a connector hands every line of a resource
    the same); a line becomes its resource's number, its item, and codes into the
    night's distinct quantities and units.  Text goes to DuckDB once per resource
    (not per line), the quantities once per distinct value.  The attributes stay
    Python dicts: each distinct dict object is kept once (``dicts``) and whether it
    is encoded as JSON is decided per resource (:meth:`Store._upsert_resources`).
    """

    def __init__(self):
        self.res: dict[str, list] = {c: [] for c in ("source", "resource_type", "resource_id",
                                                     "name", "project_id", "attr")}
        self.lines: dict[str, list] = {c: [] for c in ("res", "item_no", "qty", "unit",
                                                       "accepted")}
        self.dicts: list = []
        self._qty: dict = {}
        self._unit: dict = {}
        self.n_res = 0

    @staticmethod
    def _codes(values: list, table: dict) -> np.ndarray:
        """Codes into ``table`` (key -> (code, object), grown here) for a column of objects.

        By identity where that is cheap (connectors hand the same few quantity and
        unit objects to many lines; equal values under two ids get two codes and the
        same text), else by value (pandas' hash table)."""
        n = len(values)
        ids = np.fromiter(map(id, values), dtype=np.uint64, count=n)
        codes, uniques = pd.factorize(ids)
        if len(uniques) * 8 > n:  # mostly distinct objects: by value
            codes, uniques = pd.factorize(np.array(values, dtype=object),
                                          use_na_sentinel=False)
            keys = [("v", u) for u in uniques.tolist()]
            objects = uniques.tolist()
        else:
            first = np.empty(len(uniques), dtype=np.int64)
            first[codes[::-1]] = np.arange(n - 1, -1, -1)
            keys = [("id", u) for u in uniques.tolist()]
            objects = [values[i] for i in first.tolist()]
        if not keys:
            return codes.astype(np.int32)
        where = np.array([table.setdefault(k, (len(table), v))[0]
                          for k, v in zip(keys, objects)], dtype=np.int32)
        return where[codes]

    def add(self, source: str, blocks: list, accepted: bool) -> None:
        """One source's lines (a source's results, if several, are one: ``blocks``)."""
        def column(name):
            if len(blocks) == 1:
                return getattr(blocks[0], name)
            return [v for b in blocks for v in getattr(b, name)]
        n = sum(len(b) for b in blocks)
        rid = np.array(column("resource_id"), dtype=object)
        rtype = np.array(column("resource_type"), dtype=object)
        codes, ids = pd.factorize(rid, use_na_sentinel=False)
        first = np.empty(len(ids), dtype=np.int64)
        first[codes[::-1]] = np.arange(n - 1, -1, -1)
        # a resource is a (type, id) pair: one id under two types is two resources
        if (rtype[first][codes] != rtype).any():
            pairs = pd.MultiIndex.from_arrays([rtype, rid])
            codes, _ = pd.factorize(pairs, use_na_sentinel=False)
            first = np.empty(codes.max() + 1, dtype=np.int64)
            first[codes[::-1]] = np.arange(n - 1, -1, -1)
        nres = len(first)
        # the attributes dict of each resource (its first line's); distinct ones are
        # picked out for the whole night in resources_frame
        attrs = np.array(column("attributes"), dtype=object)[first]
        r = self.res
        r["source"].append(np.full(nres, source, dtype=object))
        r["resource_type"].append(rtype[first])
        r["resource_id"].append(rid[first])
        r["name"].append(np.array(column("name"), dtype=object)[first])
        r["project_id"].append(np.array(column("project_id"), dtype=object)[first])
        r["attr"].append(attrs)
        ln = self.lines
        ln["res"].append(codes.astype(np.int64) + self.n_res)
        ln["item_no"].append(pd.array(column("item_no"), dtype="Int16"))
        ln["qty"].append(self._codes(column("quantity"), self._qty))
        ln["unit"].append(self._codes(column("unit"), self._unit))
        ln["accepted"].append(np.full(n, accepted))
        self.n_res += nres

    def resources_frame(self) -> pd.DataFrame:
        r = self.res
        if not r["source"]:
            return pd.DataFrame({"res": np.array([], dtype=np.int64),
                                 **{c: pd.Series([], dtype=object) for c in
                                    ("source", "resource_type", "resource_id", "name",
                                     "project_id")},
                                 "attr": np.array([], dtype=np.int64)})
        # each distinct dict object once (a server's lines share one; so may resources)
        attrs = np.concatenate(r["attr"])
        codes, _ = pd.factorize(np.fromiter(map(id, attrs), dtype=np.uint64,
                                            count=len(attrs)))
        first = np.empty(codes.max() + 1 if len(codes) else 0, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        self.dicts = attrs[first].tolist()
        return pd.DataFrame({"res": np.arange(self.n_res, dtype=np.int64),
                             **{c: np.concatenate(r[c]) for c in
                                ("source", "resource_type", "resource_id", "name",
                                 "project_id")},
                             "attr": codes.astype(np.int64)})

    def lines_frame(self, keys: np.ndarray) -> pd.DataFrame:
        """The night's lines with their resource keys (``keys[res]``)."""
        ln = self.lines
        if not ln["res"]:
            return pd.DataFrame({"resource_key": np.array([], dtype=np.int32),
                                 "item_no": pd.array([], dtype="Int16"),
                                 "qty": np.array([], dtype=np.int32),
                                 "unit": np.array([], dtype=np.int32),
                                 "accepted": np.array([], dtype=bool)})
        return pd.DataFrame({"resource_key": keys[np.concatenate(ln["res"])],
                             "item_no": pd.concat([pd.Series(a) for a in ln["item_no"]],
                                                  ignore_index=True).array,
                             "qty": np.concatenate(ln["qty"]),
                             "unit": np.concatenate(ln["unit"]),
                             "accepted": np.concatenate(ln["accepted"])})

    def quantities_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"qty": np.arange(len(self._qty), dtype=np.int32),
                             "quantity": [str(q) for _, q in self._qty.values()]})

    def units_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"unit": np.arange(len(self._unit), dtype=np.int32),
                             "text": pd.Series([u for _, u in self._unit.values()],
                                               dtype=object)})


class Store:
    """A DuckDB connection with the schema migrated and any cut-off night settled.

    ``wait_seconds``: how long to wait while another process holds the file
    (a night writing, a reader, an outside program), retrying; ``say`` is told
    once that we wait and for whom.  Past the wait: :class:`StoreBusy` (exit 4).
    The default waits as long as an unconfigured ``lock_wait_seconds``, so no
    reader fails just because a night is writing.
    """

    def __init__(self, path: Path, read_only: bool = False,
                 wait_seconds: float = LOCK_WAIT_SECONDS,
                 say: Callable[[str], None] | None = None):
        self.path = Path(path)
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create the store's folder: "
                                 f"{exc.strerror}") from None
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here yet (run `recon run` first)")
        self.read_only = read_only
        self.db = self._connect(read_only, wait_seconds, say)
        self._in_transaction = False
        self.outbox = Outbox(Path(str(self.path) + ".outbox"))
        self.db.execute("SET TimeZone = 'Asia/Shanghai'")
        try:
            self._check_ours()
        except StoreError:
            self.db.close()
            raise
        if not read_only:
            self.migrate()
        self.version = self._version()
        if read_only and self.version != len(MIGRATIONS):
            # a reader cannot migrate: say so, rather than fail on a missing table later
            raise StoreError(f"{self.path}: store schema v{self.version}, this recon reads "
                             f"v{len(MIGRATIONS)}; " + ("upgrade recon" if self.version >
                                                        len(MIGRATIONS) else
                             "run `recon run` (or any command that writes) once to migrate it"))
        settled = self.outbox.settle(self._run_stored)
        if settled and say:
            say(f"{self.path}: {settled}")

    @staticmethod
    def check(path: Path) -> None:
        """Before a night pulls anything: a file at ``path`` that is not a recon store is
        StoreError (exit 4) now, not after the pull.  A store someone holds is checked
        when the night opens it."""
        path = Path(path)
        if not path.exists():
            return
        try:
            db = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return
            raise StoreError(f"{path}: cannot open the store: "
                             f"{str(exc).splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise StoreError(f"{path}: not a recon store or unreadable: "
                             f"{str(exc).splitlines()[0]}") from None
        probe = object.__new__(Store)
        probe.path, probe.db = path, db
        try:
            probe._check_ours()
        finally:
            db.close()

    def _connect(self, read_only: bool, wait_seconds: float, say) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + wait_seconds
        pause, told = 0.02, False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise StoreError(f"{self.path}: cannot open the store: "
                                     f"{msg.splitlines()[0]}") from None
                holder = _holder(self.path, msg)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(f"{self.path}: the store is held by {holder}; waited "
                                    f"{wait_seconds:g} s (lock_wait_seconds)") from None
                if not told and say:
                    say(f"{self.path}: the store is in use by {holder}; waiting up to "
                        f"{wait_seconds:g} s")
                    told = True
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.25)
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: not a recon store or unreadable: "
                                 f"{str(exc).splitlines()[0]}") from None

    # -- schema -------------------------------------------------------------
    def _check_ours(self) -> None:
        """A file that holds something and is not a recon store is never written (exit 4).

        A recon store has recon's ``schema_migrations`` (version, applied_at); a new
        file has nothing at all.  Another program's DuckDB file given as ``--db`` has
        tables of its own: migrating it would put recon's tables inside it.
        """
        tables = [r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()").fetchall()]
        if "schema_migrations" in tables:
            cols = {r[0] for r in self.db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'schema_migrations' AND table_catalog = current_database()").fetchall()}
            if {"version", "applied_at"} <= cols:
                return
        elif not tables:
            return
        shown = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
        raise StoreError(f"{self.path}: not a recon store (a DuckDB file with other tables: "
                         f"{shown}; no recon schema_migrations): recon writes nothing into it; "
                         f"give --db (or [store] path) a recon store or a new file")

    def _version(self) -> int:
        have = self.db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name='schema_migrations'"
        ).fetchall()[0][0]
        if not have:
            return 0
        return self.db.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]

    def migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
        current = self._version()
        if current > len(MIGRATIONS):
            raise StoreError(f"{self.path}: store schema v{current} is newer than this recon "
                             f"(v{len(MIGRATIONS)}); upgrade recon")
        for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction():
                self.db.execute(sql)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])

    @contextlib.contextmanager
    def transaction(self):
        """One transaction; inside one already open, the caller's transaction is joined.

        So a night's steps (snapshot, reconciliation, scaling flags, run row)
        each say "this is atomic" and, called from :meth:`Night.run
        <recon.nightly.Night.run>`, are atomic together.  Files staged in
        :attr:`outbox` take their names when the outermost transaction
        commits and are removed when it rolls back.
        """
        if self._in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN")
        self._in_transaction = True
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self._in_transaction = False
            with contextlib.suppress(duckdb.Error):
                self.db.execute("ROLLBACK")
            self.outbox.discard()
            raise
        self._in_transaction = False
        self.outbox.publish()

    def close(self) -> None:
        """Close; a store opened to write gets its upkeep first (:meth:`upkeep`)."""
        compact = None
        if not self.read_only and not self._in_transaction:
            with contextlib.suppress(duckdb.Error, OSError):
                compact = self.upkeep()
        if compact is not None:
            # the compact copy takes the store's name while this connection still holds
            # the old file: whoever opens the store from now on opens the copy
            os.replace(compact, self.path)
        self.db.close()

    def upkeep(self) -> Path | None:
        """The store's size policy, applied by every writer as it closes (no manual step).

        CHECKPOINT: the night's changes go into the file, the WAL is emptied, and
        the blocks that the night's deletes freed (a replaced night, item_days and
        findings re-reconciled) are free for the next writes, the free blocks at
        the end of the file cut off (DuckDB).  The file therefore keeps only
        blocks in use plus those freed and not yet reused; should the free ones
        outgrow the ones in use (:data:`COMPACT_FREE_SHARE` of the file, and at
        least :data:`COMPACT_MIN_FREE_BYTES`: a large date range deleted, say), the
        store is copied compact (``COPY FROM DATABASE``: tables, sequences and
        their values) beside the file, and the copy's path is returned for
        :meth:`close` to put in its place.  A copy cut short is only a stray
        ``.compact`` file, removed by the next one.
        """
        db = self.db
        db.execute("CHECKPOINT")
        block, used, free = db.execute(
            "SELECT block_size, used_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchall()[0]
        if free * block < COMPACT_MIN_FREE_BYTES or free < (used + free) * COMPACT_FREE_SHARE:
            return None
        tmp = self.path.with_name(self.path.name + ".compact")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        name = db.execute("SELECT current_database()").fetchall()[0][0]
        db.execute(f"ATTACH '{tmp}' AS _compact")
        try:
            db.execute(f'COPY FROM DATABASE "{name}" TO _compact')
        finally:
            db.execute("DETACH _compact")
        if Path(str(tmp) + ".wal").exists():  # not whole on its own: keep the store as it is
            tmp.unlink(missing_ok=True)
            return None
        return tmp

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- runs ---------------------------------------------------------------
    def new_run_id(self) -> int:
        return self.db.execute("SELECT nextval('run_ids')").fetchall()[0][0]

    def record_run(self, snapshot_date: date, status: str, exit_code: int,
                   started_at: datetime | None = None, note: str = "",
                   run_id: int | None = None) -> int:
        """The run's row, written once with its outcome (in the night's transaction)."""
        if run_id is None:
            run_id = self.new_run_id()
        self.db.execute(
            "INSERT INTO runs (run_id, snapshot_date, started_at, finished_at, status, "
            "exit_code, host, note) VALUES (?, ?, coalesce(?, now()), now(), ?, ?, ?, ?)",
            [run_id, snapshot_date, started_at, status, exit_code, os.uname().nodename, note])
        return run_id

    def _run_stored(self, run_id: int) -> bool:
        return self.db.execute("SELECT count(*) FROM runs WHERE run_id = ?",
                               [run_id]).fetchall()[0][0] > 0

    # -- snapshot -----------------------------------------------------------
    def replace_snapshot(self, snapshot_date: date, run_id: int, sources: list,
                         accepted: dict[str, bool]) -> None:
        """Store one night's pulled data, replacing whatever that date held.

        ``sources`` are :class:`connectors.base.SourceResult`; ``accepted``
        says, per source, whether the validation gate let its rows count.
        Rejected rows are kept (``accepted = false``) so they can be looked at.
        """
        night, meas, runs, blocks = _Night(), [], [], {}
        for res in sources:
            ok = accepted.get(res.source, False)
            status = res.status if res.status != "ok" else ("ok" if ok else "rejected")
            runs.append((res.source, status, res.reason, len(res.lines), len(res.measurements),
                         json.dumps(res.stats, default=str, ensure_ascii=False)))
            if len(res.lines):
                blocks.setdefault(res.source, ([], ok))[0].append(res.lines)
            for m in res.measurements:
                meas.append((m.source, m.item_no, m.metric,
                             None if m.quantity is None else str(m.quantity), ok, m.basis,
                             json.dumps(list(m.parts), ensure_ascii=False) if m.parts
                             else None))
        for source, (lines, ok) in blocks.items():
            night.add(source, lines, ok)
        meas_df = pd.DataFrame(meas, columns=["source", "item_no", "metric", "quantity",
                                              "accepted", "basis", "parts"])
        runs_df = pd.DataFrame(runs, columns=["source", "status", "reason", "lines",
                                              "measurements", "stats"])
        db = self.db
        try:
            with self.transaction():
                for table in SNAPSHOT_TABLES:
                    db.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot_date])
                db.register("_runs", runs_df)
                db.execute("INSERT INTO source_runs SELECT ?, ?, source, status, reason, lines, "
                           "measurements, stats::JSON FROM _runs", [snapshot_date, run_id])
                db.register("_meas", meas_df)
                db.execute(f"INSERT INTO measurements SELECT ?, source, item_no, metric, "
                           f"quantity::{QTY}, accepted, basis, parts::JSON FROM _meas",
                           [snapshot_date])
                db.register("_res", night.resources_frame())  # sets night.dicts
                self._upsert_resources(snapshot_date, night.dicts)
                found = db.execute("SELECT res, resource_key FROM _seen ORDER BY res"
                                   ).fetchnumpy()
                keys = np.zeros(night.n_res, dtype=np.int32)
                keys[np.asarray(found["res"], dtype=np.int64)] = found["resource_key"]
                db.register("_lines", night.lines_frame(keys))
                db.register("_qty", night.quantities_frame())
                db.register("_unit", night.units_frame())
                db.execute(f"""
                    INSERT INTO resource_lines
                    SELECT ?, l.resource_key, l.item_no, q.quantity::{QTY}, u.text, l.accepted
                    FROM _lines l LEFT JOIN _qty q USING (qty) LEFT JOIN _unit u USING (unit)
                """, [snapshot_date])
                db.execute("DROP TABLE _seen")
        finally:
            for view in ("_runs", "_meas", "_res", "_lines", "_qty", "_unit", "_attrs",
                         "_json"):
                db.unregister(view)

    def _upsert_resources(self, snapshot_date: date, dicts: list) -> None:
        """New resources get a key; known ones get their latest name and attributes.

        Leaves ``_seen``: each resource of the night with its key.  Only what
        changed is written: most nights a resource's name, project and
        attributes are what the store holds, and only its dates move.
        Rewriting every text of ~100,000 resources a night cost seconds, and
        where earlier nights' rows were not checkpointed yet (several nights
        in one process) DuckDB's UPDATE of them took up to a minute a night
        (bench/README.md).  Encoding the attributes as JSON was
        most of the Python time, so it is done only for new resources and
        those whose attributes differ from the last stored: compared through
        a digest of the dict's ``repr`` (about three times cheaper than JSON; equal
        reprs of plain API values are equal JSON, a differing repr at worst
        re-encodes the same JSON).  A new DuckDB version may hash differently:
        then one night re-encodes every resource once.
        """
        db = self.db
        db.register("_attrs", pd.DataFrame({
            "attr": np.arange(len(dicts), dtype=np.int64),
            "text": _digest_texts(dicts)}))
        # one row per resource of the night, no text: what it is (res, into _res), its key
        # and what moved; the names and ids are read back from _res only where needed
        db.execute("""
            CREATE OR REPLACE TEMP TABLE _seen AS
            SELECT s.res, s.attr, hash(a.text) AS digest, r.resource_key,
                   r.resource_key IS NULL AS new,
                   r.name IS DISTINCT FROM s.name
                       OR r.project_id IS DISTINCT FROM s.project_id AS renamed,
                   d.digest IS DISTINCT FROM hash(a.text) AS reattributed,
                   r.first_seen IS DISTINCT FROM least(r.first_seen, $1)
                       OR r.last_seen IS DISTINCT FROM greatest(r.last_seen, $1) AS dated
            FROM _res s JOIN _attrs a USING (attr)
            LEFT JOIN resources r USING (source, resource_type, resource_id)
            LEFT JOIN resource_digests d ON d.resource_key = r.resource_key
        """, [snapshot_date])
        # new resources are numbered after the store's last key, by (source, type, id)
        db.execute("""
            UPDATE _seen SET resource_key = k.resource_key FROM (
                SELECT n.res, (SELECT coalesce(max(resource_key), 0) FROM resources)
                    + row_number() OVER (ORDER BY s.source, s.resource_type, s.resource_id)
                    AS resource_key
                FROM _seen n JOIN _res s USING (res) WHERE n.new
            ) k WHERE _seen.res = k.res
        """)
        need = db.execute("SELECT DISTINCT attr FROM _seen WHERE reattributed"
                          ).fetchnumpy()["attr"].tolist()
        db.register("_json", pd.DataFrame({
            "attr": pd.Series(need, dtype="int64"),
            "attributes": [_attributes_json(dicts[i] or {}) for i in need]}))
        db.execute("""
            UPDATE resources r SET name = s.name, project_id = s.project_id,
                   attributes = coalesce(j.attributes::JSON, r.attributes)
            FROM _seen n JOIN _res s USING (res) LEFT JOIN _json j ON j.attr = n.attr
            WHERE NOT n.new AND (n.renamed OR n.reattributed)
              AND r.resource_key = n.resource_key
        """)
        db.execute("""
            UPDATE resources r SET first_seen = least(r.first_seen, $1),
                   last_seen = greatest(r.last_seen, $1)
            FROM _seen n WHERE NOT n.new AND n.dated AND r.resource_key = n.resource_key
        """, [snapshot_date])
        db.execute("""
            INSERT INTO resources
            SELECT n.resource_key, s.source, s.resource_type, s.resource_id, s.name,
                   s.project_id, j.attributes::JSON, $1, $1
            FROM _seen n JOIN _res s USING (res) JOIN _json j ON j.attr = n.attr
            WHERE n.new ORDER BY n.resource_key
        """, [snapshot_date])
        db.execute("""
            DELETE FROM resource_digests WHERE resource_key IN
                (SELECT resource_key FROM _seen WHERE reattributed AND NOT new)
        """)
        db.execute("""
            INSERT INTO resource_digests
            SELECT resource_key, digest FROM _seen WHERE reattributed ORDER BY resource_key
        """)

    def snapshot_dates(self) -> list[date]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT snapshot_date FROM source_runs ORDER BY 1").fetchall()]


def _lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock")


def _holder(db_path: Path, duckdb_message: str) -> str:
    """Who holds the store's file, from DuckDB's lock error and the run lock file."""
    found = _HOLDER.search(duckdb_message)
    if not found:
        return "another process"
    pid, program = found["pid"], found["program"]
    try:
        run = _lock_path(db_path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        run = ""
    if run.startswith(f"pid {pid}:"):  # the lock file names this process: say what it does
        return run
    return f"pid {pid} ({program})"


@contextlib.contextmanager
def current(db_path: Path, wait_seconds: float, say: Callable[[str], None] | None = None):
    """An existing store, migrated to this recon's schema, for commands that read it.

    Reports and ledgers read several tables at once; a night writes all of its
    tables in one transaction, so they see one night's writes whole.  They wait
    for a night's short write phase (not for its pull), and a store made by an
    older recon works without a nightly run first.  A missing store is an error,
    never a new empty one.
    """
    if not Path(db_path).exists():
        raise StoreError(f"{db_path}: no store here yet (run `recon run` first)")
    with Store(db_path, wait_seconds=wait_seconds, say=say) as store:
        yield store


@contextlib.contextmanager
def run_lock(db_path: Path, wait_seconds: float, holder: str = "recon",
             say: Callable[[str], None] | None = None):
    """Hold the store's run lock, waiting up to ``wait_seconds`` for another run.

    DuckDB's own file lock only covers an open connection; this lock covers
    the whole run, pull included, so two nights never interleave.  The lock
    file names its holder (``holder``: what the run does) for whoever waits.
    The kernel releases the lock if the process dies: no stale lock files.
    """
    lock_path = _lock_path(db_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{db_path}: cannot use the store's folder: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                other = os.pread(fd, 300, 0).decode(errors="replace").strip() or \
                    "an unknown process"
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"{db_path}: another recon run holds the store "
                                    f"({other}); waited {wait_seconds:g} s "
                                    f"(lock_wait_seconds)") from None
                if not told and say:
                    say(f"{db_path}: another recon run holds the store ({other}); "
                        f"waiting up to {wait_seconds:g} s")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        since = datetime.now(SHANGHAI).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()}: {holder}, since {since}".encode(), 0)
        yield
    finally:
        os.close(fd)


# -- conclusions: written by recon/conclude.py, read by every report --------------------------
LEDGER_COLUMNS = ("key", "dated", "month", "annex", "row_no", "clause", "coefficient", "fee",
                  "amount", "status", "reason", "item_no", "running_total", "over_cap", "rule",
                  "basis", "held_by", "confirmed_by", "confirmed_on")


def save_night_conclusions(store: Store, as_of: date, ledger: list[dict],
                           states: list[dict]) -> None:
    """The penalty ledger and the scaling states as they stand on ``as_of``, replacing
    whatever was concluded for that night before (one transaction)."""
    with store.transaction() as db:
        for table in ("penalty_ledger", "scaling_states"):
            db.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
        db.execute("DELETE FROM conclusions WHERE kind = 'night' AND period = ?",
                   [as_of.isoformat()])
        if ledger:
            db.executemany(
                f"INSERT INTO penalty_ledger (as_of, seq, {', '.join(LEDGER_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(LEDGER_COLUMNS) + 2))})",
                [[as_of, n] + [json.dumps(row[c], ensure_ascii=False) if c == "held_by"
                               else row[c] for c in LEDGER_COLUMNS]
                 for n, row in enumerate(ledger)])
        if states:
            db.executemany(
                "INSERT INTO scaling_states VALUES (?, ?, ?, ?, ?, ?)",
                [[as_of, n, s["request_id"], s["state"], s["penalty_applies"],
                  json.dumps(s, ensure_ascii=False, sort_keys=True)]
                 for n, s in enumerate(states)])
        db.execute("INSERT INTO conclusions VALUES ('night', ?, now())", [as_of.isoformat()])


def save_month_verdicts(store: Store, verdicts: list[dict]) -> None:
    """Each month's verdict, replacing that month's earlier one (one transaction)."""
    with store.transaction() as db:
        for v in verdicts:
            db.execute("DELETE FROM month_verdicts WHERE month = ?", [v["month"]])
            db.execute("DELETE FROM conclusions WHERE kind = 'month' AND period = ?",
                       [v["month"]])
            db.execute("INSERT INTO month_verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [v["month"], v["first_day"], v["last_day"], v["partial"], v["passed"],
                        v["failed_in_a_row"], v["termination"], v["termination_reason"],
                        json.dumps(v["criteria"], ensure_ascii=False),
                        json.dumps(v["fault_breaches"], ensure_ascii=False, default=str)])
            db.execute("INSERT INTO conclusions VALUES ('month', ?, now())", [v["month"]])


def concluded(store: Store, kind: str, period: str) -> bool:
    """Has ``period`` (a night's date or a month) been concluded and stored?"""
    return bool(store.db.execute("SELECT count(*) FROM conclusions WHERE kind = ? AND period = ?",
                                 [kind, period]).fetchone()[0])


def penalty_ledger(store: Store, as_of: date) -> list[dict]:
    """The penalty ledger as concluded for ``as_of``, in its order."""
    cur = store.db.execute(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM penalty_ledger "
                           "WHERE as_of = ? ORDER BY seq", [as_of])
    names = [d[0] for d in cur.description]
    out = [dict(zip(names, row)) for row in cur.fetchall()]
    for r in out:
        r["held_by"] = json.loads(r["held_by"])
    return out


def penalty_confirmations(store: Store) -> dict[str, tuple[str, date, Decimal]]:
    """The penalties the agency confirmed (latest revision, not withdrawn):
    key -> (by, on, the amount confirmed)."""
    return {k: (by, on, amount) for k, by, on, amount in store.db.execute("""
        SELECT key, confirmed_by, confirmed_on, amount FROM penalty_confirmations
        QUALIFY revision = max(revision) OVER (PARTITION BY key) AND NOT withdrawn
        ORDER BY key""").fetchall()}


def confirm_penalty(store: Store, key: str, by: str, on: date, amount: Decimal,
                    note: str = "", withdrawn: bool = False) -> int:
    """Record the agency's confirmation (or its withdrawal) of a penalty: a new revision."""
    with store.transaction() as db:
        rev = db.execute("SELECT coalesce(max(revision), 0) + 1 FROM penalty_confirmations "
                         "WHERE key = ?", [key]).fetchone()[0]
        db.execute("INSERT INTO penalty_confirmations VALUES (?, ?, ?, ?, ?, ?, ?, now())",
                   [key, rev, by, on, amount, note, withdrawn])
    return rev


def penalty_total(store: Store, as_of: date, month: str | None = None,
                  dated_from: date | None = None) -> Decimal:
    """What the counted penalties of that ledger add up to (only those of ``month``, or
    dated from ``dated_from`` on, when given): the one sum every report and the finance
    workbook show."""
    return store.db.execute(
        "SELECT coalesce(sum(amount) FILTER (WHERE status = 'counted'), 0)::DECIMAL(18,2) "
        "FROM penalty_ledger WHERE as_of = ? AND (? IS NULL OR month = ?) "
        "AND (?::DATE IS NULL OR dated >= ?::DATE)",
        [as_of, month, month, dated_from, dated_from]).fetchone()[0]


def scaling_states(store: Store, as_of: date) -> list[dict]:
    """Each request's state as concluded for the night ``as_of``."""
    return [json.loads(d) for (d,) in store.db.execute(
        "SELECT detail FROM scaling_states WHERE as_of = ? ORDER BY seq", [as_of]).fetchall()]


def month_verdicts(store: Store, until_month: str) -> list[dict]:
    """The stored verdicts of every month up to ``until_month``, oldest first."""
    cur = store.db.execute("SELECT * FROM month_verdicts WHERE month <= ? ORDER BY month",
                           [until_month])
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        v = dict(zip(names, row))
        v["criteria"] = json.loads(v["criteria"])
        v["fault_breaches"] = json.loads(v["fault_breaches"])
        out.append(v)
    return out


def latest_ledger_date(store: Store) -> date | None:
    """The newest night (or month end) a penalty ledger was concluded for."""
    return store.db.execute("SELECT max(as_of) FROM penalty_ledger").fetchone()[0]


# -- the notices ledger: written and read by recon/ledgers/notices.py -------------------------
NOTICE_COLUMNS = ("notice_id", "revision", "kind", "ref", "drafted_on", "deadline", "sent_on",
                  "files", "note", "origin")


def _notice_rows(cur) -> list[dict]:
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        n = dict(zip(names, row))
        n["files"] = json.loads(n["files"]) if n["files"] else []
        out.append(n)
    return out


def latest_notices(store: Store) -> list[dict]:
    """Every notice's latest revision, in the order of their ids."""
    return _notice_rows(store.db.execute(
        f"SELECT {', '.join(NOTICE_COLUMNS)} FROM notices "
        "QUALIFY revision = max(revision) OVER (PARTITION BY notice_id) ORDER BY notice_id"))


def notice_history(store: Store, notice_id: str) -> list[dict]:
    """Every revision of one notice, oldest first."""
    return _notice_rows(store.db.execute(
        f"SELECT {', '.join(NOTICE_COLUMNS)}, recorded_at FROM notices WHERE notice_id = ? "
        "ORDER BY revision", [notice_id]))


def last_notice_number(store: Store, year: int) -> int:
    """The highest NNN of the ids TZ-YEAR-NNN given so far (0: none yet)."""
    return store.db.execute(
        "SELECT coalesce(max(CAST(split_part(notice_id, '-', 3) AS INTEGER)), 0) FROM notices "
        "WHERE notice_id LIKE ?", [f"TZ-{year}-%"]).fetchone()[0]


def save_notice_revision(store: Store, notice: dict) -> None:
    """Append one revision of a notice (its ``revision`` says which)."""
    with store.transaction() as db:
        db.execute(f"INSERT INTO notices ({', '.join(NOTICE_COLUMNS)}, recorded_at) "
                   f"VALUES ({', '.join('?' * len(NOTICE_COLUMNS))}, now())",
                   [notice[c] if c != "files" else json.dumps(notice["files"], ensure_ascii=False)
                    for c in NOTICE_COLUMNS])


# -- the materials ledger: written and read by recon/ledgers/materials.py ---------------------
MATERIAL_COLUMNS = ("name", "period", "revision", "received_on", "file", "size", "sha256",
                    "note", "origin")


def latest_materials(store: Store, period: str | None = None) -> list[dict]:
    """Every material's latest revision (of one period, when given), by period and name."""
    cur = store.db.execute(
        f"SELECT {', '.join(MATERIAL_COLUMNS)} FROM materials "
        "WHERE (?::VARCHAR IS NULL OR period = ?) "
        "QUALIFY revision = max(revision) OVER (PARTITION BY name, period) "
        "ORDER BY period, received_on, name", [period, period])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def material_history(store: Store, name: str, period: str) -> list[dict]:
    cur = store.db.execute(
        f"SELECT {', '.join(MATERIAL_COLUMNS)}, recorded_at FROM materials "
        "WHERE name = ? AND period = ? ORDER BY revision", [name, period])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_material_revisions(store: Store, rows: list[dict]) -> None:
    """Append revisions of materials in one transaction (all or none)."""
    with store.transaction() as db:
        for m in rows:
            db.execute(f"INSERT INTO materials ({', '.join(MATERIAL_COLUMNS)}, recorded_at) "
                       f"VALUES ({', '.join('?' * len(MATERIAL_COLUMNS))}, now())",
                       [m[c] for c in MATERIAL_COLUMNS])


def scaling_request_ids(store: Store) -> set[str]:
    """The ids of the scaling requests recorded (any revision)."""
    return {r for (r,) in store.db.execute(
        "SELECT DISTINCT request_id FROM scaling_requests").fetchall()}


def findings_between(store: Store, first: date, last: date, codes: tuple[str, ...]) -> list[dict]:
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


# -- the payments ledger: written and read by recon/ledgers/payments.py -----------------------
PAYMENT_COLUMNS = ("kind", "revision", "paid_on", "amount", "note", "origin")


def latest_payments(store: Store) -> list[dict]:
    """Each payment's latest revision: the first payment, then the final one."""
    cur = store.db.execute(
        f"SELECT {', '.join(PAYMENT_COLUMNS)}, recorded_at FROM payments "
        "QUALIFY revision = max(revision) OVER (PARTITION BY kind) "
        "ORDER BY CASE kind WHEN 'first' THEN 1 ELSE 2 END")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def payment_history(store: Store, kind: str) -> list[dict]:
    """Every revision of one payment, oldest first."""
    cur = store.db.execute(
        f"SELECT {', '.join(PAYMENT_COLUMNS)}, recorded_at FROM payments WHERE kind = ? "
        "ORDER BY revision", [kind])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_payment_revision(store: Store, payment: dict) -> None:
    """Append one revision of a payment (its ``revision`` says which)."""
    with store.transaction() as db:
        db.execute(f"INSERT INTO payments ({', '.join(PAYMENT_COLUMNS)}, recorded_at) "
                   f"VALUES ({', '.join('?' * len(PAYMENT_COLUMNS))}, now())",
                   [payment[c] for c in PAYMENT_COLUMNS])


# -- the acceptance ledger: written and read by recon/ledgers/acceptance.py -------------------
ACCEPTANCE_COLUMNS = ("period", "revision", "result", "decided_on", "note", "origin")


def acceptance_records(store: Store, period: str | None = None) -> list[dict]:
    """Every revision of every acceptance record (of one period, when given), by period and
    revision."""
    cur = store.db.execute(
        f"SELECT {', '.join(ACCEPTANCE_COLUMNS)} FROM acceptance_records "
        "WHERE (?::VARCHAR IS NULL OR period = ?) ORDER BY period, revision", [period, period])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def save_acceptance_revision(store: Store, row: dict) -> None:
    """Append one revision of an acceptance record (its ``revision`` says which)."""
    with store.transaction() as db:
        db.execute(f"INSERT INTO acceptance_records ({', '.join(ACCEPTANCE_COLUMNS)}, "
                   f"recorded_at) VALUES ({', '.join('?' * len(ACCEPTANCE_COLUMNS))}, now())",
                   [row[c] for c in ACCEPTANCE_COLUMNS])


def night_evidence(store: Store, first: date, last: date) -> list[dict]:
    """Per night stored in ``first`` .. ``last``: the run id that wrote it, its exit code and
    each source's gate result (ok | failed | rejected, with the reason): the MANIFEST of an
    acceptance pack."""
    runs = {d: (rid, code) for d, rid, code in store.db.execute(
        "SELECT s.snapshot_date, max(s.run_id), arg_max(r.exit_code, r.run_id) "
        "FROM source_runs s LEFT JOIN runs r USING (run_id, snapshot_date) "
        "WHERE s.snapshot_date BETWEEN ? AND ? GROUP BY 1", [first, last]).fetchall()}
    out: dict[date, dict] = {}
    for d, source, status, reason, lines, meas in store.db.execute(
            "SELECT snapshot_date, source, status, reason, lines, measurements FROM source_runs "
            "WHERE snapshot_date BETWEEN ? AND ? ORDER BY 1, 2", [first, last]).fetchall():
        rid, code = runs.get(d, (None, None))
        night = out.setdefault(d, {"night": d, "run_id": rid, "exit_code": code, "sources": []})
        night["sources"].append({"source": source, "status": status, "reason": reason,
                                 "lines": lines, "measurements": meas})
    return [out[d] for d in sorted(out)]


def item_day_rows(store: Store, first: date, last: date) -> list[dict]:
    """The reconciled figures of every item on every night of ``first`` .. ``last``
    (item_days), by night and item: what a pack's per-item figures are computed from."""
    cur = store.db.execute(
        "SELECT snapshot_date, item_no, contracted, allocated, in_use, shortfall, status, "
        "allocated_basis, day_value, shortfall_value FROM item_days "
        "WHERE snapshot_date BETWEEN ? AND ? ORDER BY 1, 2", [first, last])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def run_finished_at(store: Store, day: date) -> datetime | None:
    """When the latest finished run of night ``day`` finished (a regenerated nightly JSON is
    dated by it, never by the clock)."""
    return store.db.execute(
        "SELECT arg_max(finished_at, run_id) FROM runs WHERE snapshot_date = ? "
        "AND finished_at IS NOT NULL", [day]).fetchone()[0]
