"""The store's schema: its column types and its migrations, append-only.

:data:`MIGRATIONS` is applied in order when a store is opened (recon.store.Store.migrate),
each in its own transaction and recorded in ``schema_migrations``.  Never edit a migration
that has shipped; add one.  recon/store.py (the connection, the nights) and
recon/tables.py (the conclusions and the ledgers) are the only modules that name these
tables; everyone else calls their named functions.
"""
from __future__ import annotations

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
    # 13: the milestones' conclusions (recon/conclude.py), read by the acceptance pack, the annual
    # report and the settlement's gate: each acceptance period's recommendation (mid | final |
    # FROM..TO: 建议通过 ...) and the annual verdict ('annual', 'term'), delete-then-insert per
    # (kind, period) with a status row in conclusions (kind 'acceptance' | 'annual'); and
    # where a night's figures came from: NULL pulled, 'demo' generated by `recon demo` from its
    # scenario (演示生成: no report presents it as a pulled night)
    """
    CREATE TABLE milestone_verdicts (
        kind VARCHAR NOT NULL,            -- acceptance | annual
        period VARCHAR NOT NULL,          -- mid | final | FROM..TO | term
        first_day DATE NOT NULL,
        last_day DATE NOT NULL,
        as_of DATE,                       -- the last night stored in the period; NULL: none
        code VARCHAR NOT NULL,            -- acceptance: pass | fail | undetermined;
                                          -- annual: pass | fail | undetermined | not_yet
        verdict VARCHAR NOT NULL,         -- its Chinese label (建议通过, 尚不能判定 ...)
        reasons JSON NOT NULL             -- {against, open, support} | {criteria, open, ...}
    );
    ALTER TABLE runs ADD COLUMN origin VARCHAR;
    """,
    # 14: the contract each night was judged by (第十三条 2): a follow-on contract shares the
    # store, and a night after a contract's end is its transition period (no verdict); a night
    # stored before this migration has no row: it was in the first contract's term
    """
    CREATE TABLE night_contracts (
        snapshot_date DATE NOT NULL,
        run_id BIGINT NOT NULL,
        contract_number VARCHAR NOT NULL,
        kind VARCHAR NOT NULL             -- term | transition
    );
    """,
    # 15: the contract a ledger row or a milestone's conclusion belongs to (第十三条 2: a
    # follow-on contract has its own payments, acceptance, materials and notices).  NULL is
    # the first contract ([contract] in recon.toml): every row stored before this migration
    # was the first contract's, and the migration cannot read the configuration to name it;
    # rows recorded since for the first contract are NULL too, so one rule reads both
    # (recon.tables.OWNER); a follow-on's rows carry its number
    """
    ALTER TABLE payments ADD COLUMN contract_number VARCHAR;
    ALTER TABLE acceptance_records ADD COLUMN contract_number VARCHAR;
    ALTER TABLE materials ADD COLUMN contract_number VARCHAR;
    ALTER TABLE notices ADD COLUMN contract_number VARCHAR;
    ALTER TABLE milestone_verdicts ADD COLUMN contract_number VARCHAR;
    """,
    # 16: the contract a month's verdict is under: a calendar month two terms touch (a
    # follow-on starting inside the month the first contract ends in) is assessed by each
    # contract on its own days, so a month has one verdict per contract.  NULL is the first
    # contract, as in migration 15 (every verdict stored before this was its: a month
    # belonged to one contract then, and a follow-on's verdicts concluded before it are
    # concluded again, under its number, by the next `recon report monthly`)
    """
    ALTER TABLE month_verdicts ADD COLUMN contract_number VARCHAR;
    """,
    # 17: a resource's digest is of all the store keeps of it but its dates (its source,
    # type, id, name, project and attributes: recon.store.RESOURCE_DIGEST), so that a night
    # knows its unchanged resources by the digest alone; the digests of the attributes alone
    # are dropped, and the next night takes every resource's again (its keys kept)
    """
    DELETE FROM resource_digests;
    """,
]


#: the tables holding one night's snapshot, replaced whole by a rerun
SNAPSHOT_TABLES = ("source_runs", "resource_lines", "measurements", "item_days", "findings")
