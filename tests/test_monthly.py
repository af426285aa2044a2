"""The monthly assessment (月度考核) over nights played through the real nightly job.

One store holds a contract year in miniature: nights run from dated console
exports (every item, with the quantities each case needs), the agency's
incidents ledger and a scaling request, imported through the CLI.

    2026-07  first, partial month: a 4-minute outage fails 99.99% over 22 days
    2026-08, 2026-09  a 10-minute outage each: failed months 2 and 3 in a row
    2026-12  nights 1-12 only; every criterion fails; an incident open at month end
    2027-01  nights 1-3 with items 1-11 unmeasured: undetermined, not failed
    2027-07  last, partial month: nine complete nights, nothing wrong: passes

Money (fee per month = 2,919,558.00 / 12 = 243,296.50):
    附件3 row 1 availability 50%  = 121,648.25
    附件3 row 3 monthly rule 20%   =  48,659.30 (pending until the rectification fails)
    附件3 row 4 scaling 20%        =  48,659.30
    附件3 rows 8 and 10, 30% each  =  72,988.95
"""
from __future__ import annotations

import json
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from recon import conclude, penalties, rules
from recon.ledgers import scaling
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.nightly import Night
from recon.progress import Progress
from reports.monthly import build_monthly
from recon.store import Store
from tests.conftest import write_config

INCIDENTS = """事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注
J-1,门户网站,否,故障,2026-07-20 10:00,2026-07-20 10:03,,,2026-07-20 10:04,是,,否,,否,4 分钟
A-1,门户网站,否,故障,2026-08-15 10:00,2026-08-15 10:05,,,2026-08-15 10:10,是,,否,,否,10 分钟
S-1,门户网站,否,故障,2026-09-10 10:00,2026-09-10 10:05,,,2026-09-10 10:10,是,,否,,否,10 分钟
D-1,平台<script>x</script>,否,故障,2026-12-03 09:00,2026-12-03 09:20,2026-12-03 11:30,,2026-12-03 09:40,是,,否,,否,
D-2,卫健数据平台,是,故障,2026-12-31 23:30,2026-12-31 23:58,,,2027-01-01 09:00,否,,否,A,否,跨月
Q-1,统计分析系统,否,运维需求,2027-07-02 10:00,2027-07-02 10:05,,,2027-07-02 10:30,否,,否,,否,
"""
SCALING = """申请编号,序号,目标数量,申请时间,书面通知日期,通知期限
KR-9,9,4000,2026-12-01 10:00,2026-12-09,2026-12-10
"""


def nights():
    """(night, {item: allocated}) for every night the store holds; items left out are unknown."""
    for d in range(1, 13):
        day = date(2026, 12, d)
        over = {9: 4000 if d == 12 else 3500}
        if d != 5:
            over[6] = 90000           # item 6 short by 11,916 GB every measured night
        yield day, over, {6} if d == 5 else set()
    # the expansion to 4000 Mbps stays delivered
    for d in range(1, 4):
        yield date(2027, 1, d), {9: 4000}, set(range(1, 12))
    for d in range(1, 10):
        yield date(2027, 7, d), {9: 4000}, set()


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("monthly")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    cfg = write_config(folder)
    contract = load_contract(load_config(cfg))
    for day, over, missing in nights():
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        rows = ["序号,订购数量,使用数量"] + [
            f"{i.item_no},{over.get(i.item_no, i.quantity)},{i.quantity * 9 // 10}"
            for i in contract.items.values() if i.item_no not in missing]
        (d / "console.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "incidents.csv").write_bytes(INCIDENTS.encode("gbk"))
    (folder / "scaling.csv").write_text(SCALING, encoding="utf-8")
    assert main(["--config", str(cfg), "incidents", "import", str(folder / "incidents.csv")]) == 0
    assert main(["--config", str(cfg), "scaling", "import", str(folder / "scaling.csv")]) == 0
    night = Night(load_config(cfg), progress=Progress(quiet=True))
    for day, _, _ in nights():
        night.run(day, folder / "recon.duckdb", folder / "out")
    return folder


def report(year, month: str, extra: str = ""):
    """The month's report context; ``extra`` adds sections to a copy of the config."""
    cfg = year / "recon.toml"
    if extra:
        alt = year / f"alt-{abs(hash(extra))}"
        alt.mkdir(exist_ok=True)
        cfg = write_config(alt, extra=extra)
    config = load_config(cfg)
    contract = load_contract(config)
    with Store(year / "recon.duckdb") as store:  # as `recon report monthly`: conclude, then read
        conclude.month(store, contract, config, month)
        return build_monthly(store, contract, config, month)


def criteria(rep) -> dict:
    return {c.code: c for c in rep.criteria}


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


def _rules_with(year, line: str):
    from recon.rules import RULES_FILE

    text = RULES_FILE.read_text(encoding="utf-8").replace("rectification_failed = []", line)
    path = year / "assessment-alt.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_penalty_ledger_each_once_dated_against_the_cap(year):
    config = load_config(year / "recon.toml")
    contract = load_contract(config)
    with Store(year / "recon.duckdb", read_only=True) as store:
        pens = penalties.ledger(store, contract, config, date(2026, 12, 31))
        early = penalties.ledger(store, contract, config, date(2026, 12, 10))
    got = [(p.dated.isoformat(), p.clause, str(p.coefficient), str(p.amount), p.status)
           for p in pens]
    assert got == [
        ("2026-07-31", "附件3第1条", "0.50", "121648.25", "counted"),
        ("2026-08-31", "附件3第1条", "0.50", "121648.25", "counted"),
        ("2026-09-30", "附件3第1条", "0.50", "121648.25", "counted"),
        ("2026-09-30", "附件3第3条", "0.20", "48659.30", "pending"),
        ("2026-12-11", "附件3第4条", "0.20", "48659.30", "counted"),
        ("2026-12-31", "附件3第1条", "0.50", "121648.25", "counted"),
        ("2026-12-31", "附件3第8条", "0.30", "72988.95", "counted"),
        # the recovery mean (40 + 570) / 2 = 305 minutes is past the table's last band
        # (大于 60 且小于 120): the agency's call, pending, never the last band silently
        ("2026-12-31", "附件3第11条", "0.50", "121648.25", "pending"),
    ]
    assert len({p.key for p in pens}) == len(pens)
    # 121,648.25 x 4 + 48,659.30 + 72,988.95
    assert penalties.total(pens) == Decimal("608241.25")
    assert penalties.cap(contract, config) == Decimal("291955.80")
    # the third availability penalty takes the running total past the cap
    assert [p.over_cap for p in pens[:3]] == [False, False, True]
    # what finance asks for: penalties dated up to a day, no later ones
    assert [p.dated for p in early] == [date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30),
                                        date(2026, 9, 30)]


def test_the_nightly_report_totals_the_same_ledger(year):
    def total(day):
        rep = json.loads((year / "out" / day / "nightly.json").read_text(encoding="utf-8"))
        return rep["penalties"]["amount"]

    # by 12-10: the availability penalties of July, August and September (121,648.25 x 3)
    assert total("2026-12-10") == "364944.75"
    # by 12-12: and KR-9's, dated 12-11 (+ 48,659.30)
    assert total("2026-12-12") == "413604.05"
    # by 2027-01-01: December's three service-level penalties too, as the ledger says
    assert total("2027-01-01") == "608241.25"


def test_report_files_are_byte_identical_and_the_pdf_says_what_the_json_says(year):
    cfg = str(year / "recon.toml")
    outs = [year / "out-a", year / "out-b"]
    for out in outs:
        assert main(["--config", cfg, "report", "monthly", "--month", "2026-12",
                     "--out", str(out)]) == 0
    folder = outs[0] / "monthly" / "2026-12"
    for name in ("assessment.html", "assessment.json", "assessment.pdf"):
        assert (folder / name).read_bytes() == \
            (outs[1] / "monthly" / "2026-12" / name).read_bytes(), name
    js = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert js["month"] == "2026-12" and js["passed"] is False
    assert js["consecutive_failed_months"] == 1
    assert js["penalty_total"]["amount"] == "608241.25"
    assert js["penalty_cap"]["amount"] == "291955.80"
    assert {c["code"] for c in js["criteria"]} == set(rules.CODES)
    assert {"code", "passed", "value", "threshold", "clause", "reason"} <= set(js["criteria"][0])
    assert {"clause", "coefficient", "amount", "dated"} <= set(js["penalties"][0])
    text = subprocess.run(["pdftotext", "-layout", str(folder / "assessment.pdf"), "-"],
                          capture_output=True, check=True, text=True).stdout
    flat = "".join(text.split())
    for words in ("政务云服务月度考核报告", "考核结论", "未通过", "签字", "甲方", "乙方",
                  "附件3第4条", js["penalty_total"]["text"], js["penalty_total"]["daxie"],
                  js["penalty_cap"]["daxie"], "KR-9", "D-2"):
        assert words in flat, words
    for c in js["criteria"]:
        assert "".join(c["value"].split()) in flat, c["value"]
    for p in js["penalties"]:
        assert f"{Decimal(p['amount']):,.2f}" in flat
    html = (folder / "assessment.html").read_text(encoding="utf-8")
    assert "<script>x" not in html and "平台&lt;script&gt;x&lt;/script&gt;" in html
    # self-contained: no address of anything, not even a namespace URL
    assert "http://" not in html and "https://" not in html and "<svg" in html


def test_a_month_outside_the_term_is_bad_input(year, capsys):
    assert main(["--config", str(year / "recon.toml"), "report", "monthly", "--month",
                 "2027-08", "--out", str(year / "x")]) == 3
    assert "outside the contract term" in capsys.readouterr().err
    assert not (year / "x").exists()


def test_the_scaling_coefficient_lives_in_assessment_toml_alone(tmp_path):
    """附件3 row 4's coefficient is read from assessment.toml by the night's flags, their
    finding text and the ledger alike; the bundled recon.toml no longer carries a copy."""
    from recon.rules import RULES_FILE
    from recon.data import BUNDLED_CONFIG

    assert "penalty_coefficient" not in BUNDLED_CONFIG.read_text(encoding="utf-8")
    text = RULES_FILE.read_text(encoding="utf-8")
    row4 = 'coefficient = "0.20"\nrule = "scaling_notice"'
    assert text.count(row4) == 1
    rules = tmp_path / "assessment.toml"
    rules.write_text(text.replace(row4, row4.replace("0.20", "0.25")), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[assessment]\nfile = "{rules}"\n')
    config = load_config(cfg)
    assert penalties.scaling_coefficient(config) == Decimal("0.25")
    # 2,919,558.00 / 12 x 25%, as the nightly finding and the ledger state it
    assert scaling.penalty(load_contract(config), 6, "contract",
                           penalties.scaling_coefficient(config)) == Decimal("60824.13")


def test_the_scaling_coefficient_has_one_value(year, capsys):
    (year / "coef").mkdir()
    cfg = write_config(year / "coef", extra='[scaling]\npenalty_coefficient = "0.25"\n')
    assert main(["--config", str(cfg), "report", "monthly", "--month", "2026-12", "--db",
                 str(year / "recon.duckdb"), "--out", str(year / "coef" / "out")]) == 3
    err = capsys.readouterr().err
    assert "附件3 row 4 coefficient 0.20 differs" in err and "penalty_coefficient 0.25" in err
    assert not (year / "coef" / "out").exists()
    # a night checks it before it pulls or writes anything
    assert main(["--config", str(cfg), "run", "--date", "2026-12-01", "-q"]) == 3
    assert not (year / "coef" / "recon.duckdb").exists()


# -- service-level breaches priced by their annex rows (ledger only, no nights needed) ------
def test_a_misspelt_threshold_in_assessment_toml_is_bad_input(year, capsys):
    from recon.rules import RULES_FILE

    bad = year / "assessment-typo.toml"
    bad.write_text(RULES_FILE.read_text(encoding="utf-8").replace(
        "max_shortfall_days = 7", "max_shortfal_days = 3"), encoding="utf-8")
    (year / "typo").mkdir()
    cfg = write_config(year / "typo", extra=f'[assessment]\nfile = "{bad}"\n')
    assert main(["--config", str(cfg), "report", "monthly", "--month", "2026-12", "--db",
                 str(year / "recon.duckdb"), "--out", str(year / "typo" / "out")]) == 3
    err = capsys.readouterr().err
    assert "assessment-typo.toml:19 [[criteria]] #1: unknown key 'max_shortfal_days'" in err
    assert "did you mean 'max_shortfall_days'" in err
    assert not (year / "typo" / "out").exists()


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


def test_the_ledger_concluded_for_a_night_is_the_ledger_of_that_night(year):
    config = load_config(year / "recon.toml")
    contract = load_contract(config)
    with Store(year / "recon.duckdb") as store:
        conclude.night(store, contract, config, date(2026, 12, 31))
        kept = conclude.ledger(store, date(2026, 12, 31))
        fresh = penalties.ledger(store, contract, config, date(2026, 12, 31))
        from recon import store as stored
        total = stored.penalty_total(store, date(2026, 12, 31))
    assert [p.as_row() for p in kept] == [p.as_row() for p in fresh]
    assert total == penalties.total(fresh) == Decimal("608241.25")


def test_a_failed_month_says_the_rectification_the_contract_calls_for_and_its_state(year):
    rep = report(year, "2026-12")
    assert rep.rectification is not None
    assert "附件3第3条" in rep.rectification["demand"] and "第十二条第4款" in \
        rep.rectification["demand"]
    assert rep.rectification["state"].startswith("尚未发出整改通知")
    assert report(year, "2027-07").rectification is None     # a passed month asks nothing
