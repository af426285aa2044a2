"""Utilisation is in use / allocated rounded half up to 4 places on the exact quotient.

DuckDB used to divide the two DECIMALs in DOUBLE and round that: 0.14525 is
0.145249999... as a double, so it stored 0.1452 where Spark (exact DECIMAL) stored
0.1453, and a utilisation of exactly 29.995% was "idle" below the 30% threshold.  The
store here is written the way a night writes it (Store.replace_snapshot, then
reconcile) with ties at the 5th decimal and the cases that have no utilisation;
tests/test_spark_parity.py reconciles the same store on Spark.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from connectors.base import Measurement, SourceResult
from recon.config import load_config
from recon.contract import load_contract
from recon.reconcile import reconcile
from recon.store import Store

from tests.conftest import write_config

TIE_NIGHT = date(2026, 11, 12)

#: item -> (allocated, in use, basis of the allocation); quantities as a source reports them
TIE_FIGURES = {
    2: ("16000", "2163540", "quota"),           # 135.22125: a tie
    6: ("200000", "29050", "quota"),            # 0.14525: a tie
    5: ("20000", "5999", "quota"),              # 0.29995: a tie at the idle threshold (0.30)
    9: ("100000000000", "14525000000", "quota"),  # 0.14525, in millionths past 64 bits
    8: ("3", "2", "quota"),                     # 2/3
    31: ("3", "1", "quota"),                    # 1/3
    15: ("8", "1", "quota"),                    # 1/8, exact in 4 places
    10: ("33", "0", "quota"),                   # nothing in use
    11: ("0", "0", "quota"),                    # nothing allocated
    30: ("0", "10000", "quota"),                # contracted 5000 (amendment): money ties
    1: (None, "40", "unlimited"),               # a -1 quota
    25: (None, "7", "not_measured"),            # the API sees only use (licences)
}


def build_tie_store(folder: Path, number: str = "CMBJ-202602732",
                    figures: dict = TIE_FIGURES) -> Path:
    """A store of one night (TIE_NIGHT) whose items carry ``figures`` (TIE_FIGURES),
    reconciled; returns its recon.toml.  Every other item has no figure (unknown)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n"
        "A1,2026-10-20,2026-11-01,30,5000,more SNAT\n", encoding="utf-8")
    cfg = write_config(folder, number=number)
    config = load_config(cfg)
    contract = load_contract(config)
    by_source: dict[str, list[Measurement]] = {}
    for item_no, (allocated, in_use, basis) in figures.items():
        source = contract.items[item_no].source
        by_source.setdefault(source, []).extend([
            Measurement(source, item_no, "allocated",
                        None if allocated is None else Decimal(allocated), basis),
            Measurement(source, item_no, "in_use", Decimal(in_use))])
    results = [SourceResult(source, "ok", measurements=ms) for source, ms in by_source.items()]
    with Store(config.db_path) as store:
        with store.transaction():
            run_id = store.new_run_id()
            store.replace_snapshot(TIE_NIGHT, run_id, results, {r.source: True for r in results})
            reconcile(store, contract, [TIE_NIGHT], config.idle_below)
            store.record_run(TIE_NIGHT, "complete", 1, run_id=run_id)
    return cfg


def test_utilisation_rounds_the_exact_quotient_half_up(tmp_path):
    cfg = build_tie_store(tmp_path)
    with Store(load_config(cfg).db_path, read_only=True) as store:
        days = {r[0]: r[1:] for r in store.db.execute(
            "SELECT item_no, utilisation, status FROM item_days").fetchall()}
        findings = store.db.execute(
            "SELECT item_no, code, message, figures FROM findings "
            "WHERE code IN ('idle_capacity', 'allocation_shortfall')").fetchall()

    # by hand: u / a to 4 places, a 5 in the 5th place rounds up
    want = {
        2: Decimal("135.2213"),   # 2163540 / 16000 = 135.22125 (DOUBLE said 135.2212)
        6: Decimal("0.1453"),     # 29050 / 200000 = 0.14525 (DOUBLE said 0.1452)
        5: Decimal("0.3000"),     # 5999 / 20000 = 0.29995 (DOUBLE said 0.2999)
        9: Decimal("0.1453"),     # 14525000000 / 100000000000 = 0.14525
        8: Decimal("0.6667"),     # 0.66666...
        31: Decimal("0.3333"),    # 0.33333...
        15: Decimal("0.1250"),    # 0.125
        10: Decimal("0.0000"),    # 0 / 33
        11: None,                 # allocated 0: no utilisation
        30: None,                 # allocated 0 (its money ties: the next test)
        1: None,                  # unlimited: no utilisation
        25: None,                 # allocation not measured: no utilisation
        3: None,                  # no figure: unknown
    }
    assert {n: days[n][0] for n in want} == want
    # exactly 30% is not idle (idle is below 0.30): item 5 is ok, no idle finding for it
    assert {n: days[n][1] for n in want} == {
        2: "over", 6: "idle", 5: "ok", 9: "over", 8: "shortfall", 31: "ok", 15: "idle",
        10: "idle", 11: "shortfall", 30: "shortfall", 1: "ok", 25: "ok", 3: "unknown"}
    idle = {n: (message, json.loads(figures)) for n, code, message, figures in findings
            if code == "idle_capacity"}
    assert set(idle) == {6, 10, 15}
    # the finding carries the stored figure, and its message the percentage rounded from it
    assert idle[6][1]["utilisation"] == "0.1453"
    assert "使用率 14.5%" in idle[6][0]


def test_money_ties_at_the_fen_ten_thousandth_round_half_up(tmp_path):
    """Day values were always exact products cast to DECIMAL(18,6); this pins the tie."""
    cfg = build_tie_store(tmp_path)
    with Store(load_config(cfg).db_path, read_only=True) as store:
        row = store.db.execute(
            "SELECT contracted, shortfall, overage, day_value, shortfall_value, overage_value "
            "FROM item_days WHERE item_no = 30").fetchone()
    # item 30: 2,634.24 / 12 / 30 days = 7.3173333333 (to 1e-10) a unit a November night;
    # x 5000 = 36,586.6666665: a 5 in the 7th place rounds up
    assert row == (Decimal(5000), Decimal(5000), Decimal(5000), Decimal("36586.666667"),
                   Decimal("36586.666667"), Decimal("36586.666667"))


def test_use_far_beyond_the_allocation_is_a_figure_not_a_lost_night(tmp_path):
    """An export saying 1 subscribed and 250,000 in use (a typo, a unit mix-up) is a figure
    to flag, not a reason to lose the night: utilisation was DECIMAL(9,4), and the insert
    failed above 99,999.9999.  It now holds any ratio two quantities can give (< 10^18)."""
    cfg = build_tie_store(tmp_path, figures={
        17: ("1", "250000", "export"),
        9: ("0.000001", "999999999999", "quota"),   # the largest ratio DECIMAL(18,6) allows
    })
    with Store(load_config(cfg).db_path, read_only=True) as store:
        days = {r[0]: r[1:] for r in store.db.execute(
            "SELECT item_no, utilisation, status FROM item_days "
            "WHERE item_no IN (9, 17)").fetchall()}
    # (both allocations are far below the contract: the shortfall is the status)
    assert days == {17: (Decimal("250000.0000"), "shortfall"),
                    9: (Decimal("999999999999000000.0000"), "shortfall")}
