"""`recon demo` shows the milestones on its simulated data, and the milestones' verdicts are
stored conclusions that the reports read.

One demo store for the module: `run_demo(2)` pulls 2026-11-01 and 11-02 through
openstacksdk and generates the rest of the mid-term period from the scenario (演示生成:
2026-07-10 .. 10-31 and 2026-12-01 .. 2027-01-09; 11-03 .. 11-30 stay gaps), then writes
every month's assessment and the mid-term pack with its evidence zip.
"""
from __future__ import annotations

import json
import zipfile
from datetime import date
from decimal import Decimal

import duckdb
import pytest

from recon import conclude, store as stored
from recon.config import load_config
from recon.contract import load_contract
from recon.data import BUNDLED_CONFIG
from recon.demo import run_demo
from recon.finance import settlement
from recon.ledgers import acceptance
from recon.store import Store
from reports.acceptance import build_acceptance
from reports.annual import build_annual
from reports.pdf import pdf_of, pdfs_of

CENT = Decimal("0.01")
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    assert run_demo(2, out, quiet=True) == 0
    return out


def _db(out):
    return duckdb.connect(str(out / "demo.duckdb"), read_only=True)


def test_the_demo_store_spans_the_mid_term_period_with_the_pack_written(demo):
    db = _db(demo)
    first, last, nights = db.execute("SELECT min(snapshot_date), max(snapshot_date), "
                                     "count(DISTINCT snapshot_date) FROM item_days").fetchone()
    origins = dict(db.execute("SELECT coalesce(origin, 'pull'), count(*) FROM runs "
                              "GROUP BY 1").fetchall())
    db.close()
    assert (first, last) == (date(2026, 7, 10), date(2027, 1, 9))
    assert nights == 184 - 28 and origins == {"pull": 2, "demo": 154}
    for month in MONTHS:
        assert (demo / "monthly" / month / "assessment.pdf").stat().st_size > 1000
    pack = json.loads((demo / "acceptance" / "mid" / "acceptance.json").read_text("utf-8"))
    assert (pack["first"], pack["last"], pack["data_as_of"]) == \
        ("2026-07-10", "2027-01-09", "2027-01-09")
    assert pack["generated_runs"] == ["2026-07-10 至 2026-10-31", "2026-12-01 至 2027-01-09"]
    assert pack["gap_runs"] == ["2026-11-03 至 2026-11-30"]
    assert "演示生成的夜晚（154 晚" in (demo / "acceptance" / "mid" / "acceptance.html"
                                   ).read_text("utf-8")
    with zipfile.ZipFile(demo / "acceptance" / "acceptance-mid.zip") as z:
        manifest = json.loads(z.read("MANIFEST.json"))
        # a generated night's report, rebuilt from the store, says so; a pulled one does not
        assert json.loads(z.read("nightly/2026-07-10/nightly.json"))["generated"] is True
        assert "generated" not in json.loads(z.read("nightly/2026-11-01/nightly.json"))
        assert {f"monthly/{m}/assessment.pdf" for m in MONTHS} <= set(z.namelist())
    by_night = {n["night"]: n for n in manifest["nights"]}
    assert by_night["2026-07-10"]["generated"] and "generated" not in by_night["2026-11-01"]


def test_the_index_links_the_pack_the_zip_and_every_month_and_marks_generated_nights(demo):
    idx = json.loads((demo / "index.json").read_text("utf-8"))
    html = (demo / "index.html").read_text("utf-8")
    assert sorted(m["month"] for m in idx["monthly"]) == MONTHS
    for month in MONTHS:
        assert f'href="monthly/{month}/assessment.html"' in html
    assert 'href="acceptance/mid/acceptance.html"' in html
    assert 'href="acceptance/acceptance-mid.zip"' in html
    nights = {n["snapshot_date"]: n for n in idx["nights"]}
    assert nights["2026-08-15"]["generated"] and nights["2026-08-15"]["report"] is None
    assert not nights["2026-11-01"]["generated"]
    assert nights["2026-11-01"]["report"] == "2026-11-01/nightly.html"
    assert "2026-08-15 <span class=\"meta\">演示生成</span>" in html
    # no page for a generated night, and none is rendered for it by the index
    assert not (demo / "2026-08-15").exists() and (demo / "2026-11-01" / "nightly.html").exists()


def test_a_month_of_generated_nights_says_so_and_a_pulled_month_does_not(demo):
    """A reader of July's assessment must not take its 22 generated nights for pulled ones."""
    july = json.loads((demo / "monthly" / "2026-07" / "assessment.json").read_text("utf-8"))
    assert july["generated"][0] == "2026-07-10" and len(july["generated"]) == 22
    html = (demo / "monthly" / "2026-07" / "assessment.html").read_text("utf-8")
    assert "演示生成：本月 22 晚（2026-07-10 至 2026-07-31）" in html
    assert "2026-07-15 <span class=\"meta\">演示生成</span>" in html
    november = json.loads((demo / "monthly" / "2026-11" / "assessment.json").read_text("utf-8"))
    assert "generated" not in november
    assert "演示生成" not in (demo / "monthly" / "2026-11" / "assessment.html").read_text("utf-8")


def test_a_generated_night_has_the_figures_a_pull_of_the_same_state_gives(demo):
    """10-31 (generated) and 11-01 (pulled through openstacksdk) are the same state of the
    scenario (nothing happens between 08-03 and 11-03): the same lines, figures and items
    (their day values differ: October has 31 days, November 30)."""
    db = _db(demo)

    def night(d):
        return [db.execute(f"SELECT {cols} FROM {t} WHERE snapshot_date = ? ORDER BY ALL",
                           [d]).fetchall()
                for t, cols in (("measurements", "* EXCLUDE (snapshot_date)"),
                                ("resource_lines", "* EXCLUDE (snapshot_date)"),
                                ("item_days", "item_no, contracted, allocated, in_use, "
                                              "shortfall, status, measured_by"))]

    generated, pulled = night(date(2026, 10, 31)), night(date(2026, 11, 1))
    db.close()
    assert generated == pulled and len(generated[1]) > 800


def test_the_pack_figures_of_the_ascend_servers_over_the_half_year_by_hand(demo):
    """Item 3 (3 Ascend servers at 226,316.16 each a year): two delivered 07-10 .. 07-23, the
    third from 07-24; measured on the 156 nights run (154 generated, 2 pulled).  By hand:
    delivered = (14 x 2 + 142 x 3) / 156 = 2.91 (the pack's two decimals); not delivered =
    14 nights x 1 server x 226,316.16 / 12 / 31 (July's day value)."""
    pack = json.loads((demo / "acceptance" / "mid" / "acceptance.json").read_text("utf-8"))
    [item] = [i for i in pack["items"] if i["item_no"] == 3]
    assert item["measured_nights"] == 156
    assert Decimal(item["contracted"]) == 3
    assert Decimal(item["delivered"]) == (Decimal(14 * 2 + 142 * 3) / 156).quantize(CENT)
    assert Decimal(item["undelivered_value"]) == \
        (14 * Decimal("226316.16") / 12 / 31).quantize(CENT)
    [july] = [m for m in pack["months"] if m["month"] == "2026-07"]
    [j3] = [i for i in july["items"] if i["item_no"] == 3]
    assert (july["first"], july["partial"], j3["measured_nights"]) == ("2026-07-10", True, 22)
    assert Decimal(j3["delivered"]) == (Decimal(14 * 2 + 8 * 3) / 22).quantize(CENT)


def test_a_generated_night_is_concluded_as_a_night_concluded_alone_would_be(demo):
    """The generator assesses a month's history once for all its nights: concluding a
    generated night again on its own gives the same penalty ledger and scaling states."""
    config = load_config(BUNDLED_CONFIG)
    contract = load_contract(config)
    with Store(demo / "demo.duckdb") as store:
        for day in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 12, 15), date(2027, 1, 9)):
            before = (stored.penalty_ledger(store, day), stored.scaling_states(store, day))
            conclude.night(store, contract, config, day)
            assert (stored.penalty_ledger(store, day), stored.scaling_states(store, day)) == \
                before, day
            assert before[0], day     # the 3-months-failed penalty (pending) from 09-30 on


def test_the_recommendation_and_the_annual_verdict_are_stored_and_the_reports_read_them(demo):
    config = load_config(BUNDLED_CONFIG)
    contract = load_contract(config)
    mid = acceptance.span(contract, "mid")
    pack = json.loads((demo / "acceptance" / "mid" / "acceptance.json").read_text("utf-8"))
    with Store(demo / "demo.duckdb") as store:
        v = stored.milestone_verdict(store, "acceptance", "mid")
        # what the pack says is what was stored
        assert (v["code"], v["verdict"]) == ("fail", pack["recommendation"]) == \
            ("fail", "建议不通过")
        assert v["reasons"]["against"] == pack["against"]
        assert v["as_of"] == date(2027, 1, 9)
        year = stored.milestone_verdict(store, "annual", "term")
        assert (year["code"], year["verdict"]) == ("not_yet", "尚不能判定（服务期未满）")
        assert settlement.gate(store, contract, config, "annual").state == "unknown"
        # the reports show the stored verdicts, never one worked out again
        stored.save_milestone_verdict(store, dict(v, code="pass", verdict="建议通过",
                                                  reasons={"against": [], "open": [],
                                                           "support": ["验收小组复核"]}))
        stored.save_milestone_verdict(store, dict(year, code="pass", verdict="通过"))
        rep = build_acceptance(store, contract, config, mid)
        assert (rep.recommendation, rep.recommendation_code, rep.support) == \
            ("建议通过", "pass", ["验收小组复核"])
        annual = build_annual(store, contract, config)
        assert (annual.verdict, annual.passed) == ("通过", True)
        assert settlement.gate(store, contract, config, "annual").state == "passed"
        # concluded again, the data's own recommendation is back
        conclude.acceptance(store, contract, config, mid)
        assert build_acceptance(store, contract, config, mid).recommendation == "建议不通过"


def test_a_packs_months_rendered_side_by_side_are_the_pdfs_rendered_one_by_one(demo):
    """reports.pdf shares the PDFs with a second process: the same bytes, in order."""
    pages = sorted((demo / "monthly").glob("*/assessment.html"))[:3]
    jobs = [(p.read_text("utf-8"), f"月度考核 {p.parent.name}", "2027-01-09") for p in pages]
    assert len(jobs) == 3
    alone = [pdf_of(*job) for job in jobs]
    assert pdfs_of(jobs) == alone
    # with the caller's own work meanwhile (a pack's nightly JSONs): its result beside them
    assert pdfs_of(jobs, meanwhile=lambda: "nights") == (alone, "nights")
    assert pdfs_of(jobs[:1], meanwhile=lambda: 7) == (alone[:1], 7)
