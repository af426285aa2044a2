"""The monthly assessment's rules (月度考核, 附件3 row 3): each criterion, undetermined where
nothing was measured, failed months in a row, the verdicts stored once (tests/yearstore.py
plays the year they judge)."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from recon import rules
from recon.config import load_config
from recon.contract import load_contract
from recon.store import Store
from reports.monthly import build_monthly
from tests.yearstore import _rules_with, criteria, report


def test_a_month_with_everything_delivered_passes_and_the_last_month_is_partial(year):
    rep = report(year, "2027-07")
    assert rep.passed is True and rep.verdict == "通过"
    assert {c.code: c.passed for c in rep.criteria} == dict.fromkeys(rules.CODES, True)
    assert (rep.first, rep.last, rep.partial, rep.days) == \
        (date(2027, 7, 1), date(2027, 7, 9), True, 9)
    assert "合同末月" in rep.notes[0]
    assert criteria(rep)["data_completeness"].value == "9/9 晚完整"
    assert rep.consecutive_failed_months == 0


def test_a_failing_month_fails_each_criterion_with_its_reason(year):
    rep = report(year, "2026-12")
    c = criteria(rep)
    assert rep.passed is False and rep.verdict == "未通过"
    assert all(c[code].passed is False for code in rules.CODES)
    assert "第6项 连续 11 个已采集夜晚分配不足" in c["delivery"].reason
    assert "KR-9" in c["scaling"].reason and "2026-12-12 完成" in c["scaling"].reason
    # 40 minutes down (D-1) against 31 x 1440 x 0.0001 = 4.464 allowed
    assert c["availability"].value == "99.9104%"
    assert "中断 40.0 分钟，本期允许 4.464 分钟" in c["availability"].reason
    assert c["response_time"].value == "24.0 分钟"          # (20 + 28) / 2
    # D-2 recovered on 01-01 at 09:00: a fault is judged by its whole duration (570 min)
    assert c["recovery_time"].value == "一般 40.0 分钟；重要 570.0 分钟"
    assert c["on_site"].value == "150.0 分钟" and "D-1" in c["on_site"].reason
    # 12 nights ran; 12-05 had an unknown item: 11 complete
    assert c["data_completeness"].value == "11/31 晚完整"
    # the nights that never ran are named, not skipped
    assert rep.gaps == [date(2026, 12, d) for d in range(13, 32)]
    assert rep.consecutive_failed_months == 1
    # rows no figure can decide are listed as not judged (security-service failures ...)
    assert [r[:6] for r in rep.manual_rows] == ["附件2第2条", "附件2第3条", "附件2第4条",
                                                "附件2第5条", "附件2第6条", "附件3第7条"]


def test_an_incident_open_at_month_end_counts_to_the_end_and_is_marked(year):
    rep = report(year, "2026-12")
    inc = {i.incident_id: i for i in rep.incidents}
    assert inc["D-2"].open and not inc["D-1"].open
    assert rep.service_levels.open_at_end == ["D-2"]
    # D-2 began 23:30 on the 31st: its outage counts 30 minutes to December's end, while the
    # fault is judged by its whole recovery, recorded in the ledger (01-01 09:00: 570 minutes)
    assert rep.service_levels.outage_minutes == Decimal("40.0")
    assert rep.service_levels.mean_recovery_important_minutes == Decimal("570.0")
    # 附件1: the agency flagged D-2 an A-level event: the termination right of 第十二条
    assert rep.service_levels.events_a == ["D-2"] and rep.service_levels.termination_right


def test_unknown_nights_neither_fail_nor_pass(year):
    dec = {i.item_no: i for i in report(year, "2026-12").items}
    # 12-05 was unknown for item 6: 11 shortfall nights, not 12, and no value for it
    assert (dec[6].measured_nights, dec[6].unknown_nights, dec[6].shortfall_nights) == (11, 1, 11)
    # 11,916 GB x 2.04 / 12 / 31 = 65.3458 per night, x 11 nights = 718.80
    assert dec[6].undelivered_value == Decimal("718.80")
    assert dec[6].series[4] == (date(2026, 12, 5), None, Decimal(101916))
    jan = report(year, "2027-01")
    c = criteria(jan)
    assert jan.passed is None and jan.verdict == "无法判定"
    assert c["delivery"].passed is None and "第1、2、3、4、5、6、7、8、9、10、11项" in c["delivery"].reason
    items = {i.item_no: i for i in jan.items}
    assert items[1].allocated is None and items[1].unknown_nights == 3
    assert json.loads(jan.to_json())["passed"] is None
    # an undetermined month is not a failed one: the run of failed months stops
    assert jan.consecutive_failed_months == 0


def test_the_first_month_is_partial_and_judged_on_its_own_days(year):
    rep = report(year, "2026-07")
    assert (rep.first, rep.days, rep.partial) == (date(2026, 7, 10), 22, True)
    assert "合同首月" in rep.notes[0]
    # 4 minutes down: within 4.464 for a whole month, over 22 x 1440 x 0.0001 = 3.168 here
    assert "中断 4.0 分钟，本期允许 3.168 分钟" in criteria(rep)["availability"].reason
    assert criteria(rep)["availability"].passed is False
    assert rep.gaps[0] == date(2026, 7, 10) and len(rep.gaps) == 22


def test_the_third_failed_month_in_a_row(year):
    sep = report(year, "2026-09")
    assert [m["failed_in_a_row"] for m in sep.recent_months] == [1, 2, 3]
    assert sep.consecutive_failed_months == 3
    rule = [p for p in sep.penalties if p.clause == "附件3第3条"]
    assert len(rule) == 1 and rule[0].status == "pending" and rule[0].amount == Decimal("48659.30")
    assert "须经限期整改后仍不达标" in rule[0].reason
    assert report(year, "2026-10").consecutive_failed_months == 0
    # the agency records that the rectification deadline failed: the penalty counts
    counted = report(year, "2026-09", extra='[assessment]\nfile = "%s"\n' % _rules_with(
        year, 'rectification_failed = ["2026-09"]'))
    rule = [p for p in counted.penalties if p.clause == "附件3第3条"]
    assert rule[0].status == "counted"
    assert counted.penalty_total.amount == sep.penalty_total.amount + Decimal("48659.30")


def test_each_month_s_verdict_is_stored_once_and_the_report_reads_it(year):
    """`recon report monthly` concludes every month up to its own and stores the verdicts,
    their criteria and the 第十二条 termination conditions; the report reads them back."""
    from recon import store as stored

    report(year, "2027-01")
    with Store(year / "recon.duckdb") as store:
        rows = {v["month"]: v for v in stored.month_verdicts(store, "2027-01")}
        assert [m for m in rows] == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11",
                                     "2026-12", "2027-01"]
        assert [rows[m]["failed_in_a_row"] for m in ("2026-07", "2026-08", "2026-09")] == [1, 2, 3]
        assert rows["2027-01"]["passed"] is None          # undetermined, not failed
        # D-2 (an A-level event on 12-31) gives the agency the right to terminate
        assert rows["2027-01"]["termination"] is True
        assert "A 级事件 1 次（D-2）" in rows["2027-01"]["termination_reason"]
        assert rows["2026-08"]["termination"] is False
        store.db.execute("UPDATE month_verdicts SET passed = true, failed_in_a_row = 0 "
                         "WHERE month = '2026-12'")
        config = load_config(year / "recon.toml")
        rep = build_monthly(store, load_contract(config), config, "2026-12")  # reads only
    assert (rep.passed, rep.verdict, rep.consecutive_failed_months) == (True, "通过", 0)
    assert report(year, "2026-12").verdict == "未通过"     # concluding again restores it


def test_a_failed_month_says_the_rectification_the_contract_calls_for_and_its_state(year):
    rep = report(year, "2026-12")
    assert rep.rectification is not None
    assert "附件3第3条" in rep.rectification["demand"] and "第十二条第4款" in \
        rep.rectification["demand"]
    assert rep.rectification["state"].startswith("尚未发出整改通知")
    assert report(year, "2027-07").rectification is None     # a passed month asks nothing
