"""The penalty ledger's rules (附件2, 附件3, 第三条, 第十二条): each breach priced by its row,
a figure resting on an open incident pending until it closes, band edges as the contract
words them, each fault judged against its own limits, the readings of assessment.toml
named on every penalty, and the agency's confirmation.

The money: fee per month = 2,919,558.00 / 12 = 243,296.50; 30% = 72,988.95, 50% =
121,648.25, 20% = 48,659.30.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from recon import conclude, penalties, store as stored
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.rules import RULES_FILE
from recon.store import Store
from tests.conftest import write_config

HEADER = ("事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,"
          "影响,投诉,事件级别,重大损失,备注\n")


def _import(workdir, text: str, name: str = "inc.csv", cfg=None) -> None:
    (workdir / name).write_text(HEADER + text, encoding="utf-8")
    cfg = cfg or workdir / "recon.toml"
    assert main(["--config", str(cfg), "incidents", "import", str(workdir / name)]) == 0


def _ledger(workdir, until: date, cfg=None) -> list:
    config = load_config(cfg or workdir / "recon.toml")
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        return penalties.ledger(store, load_contract(config), config, until)


def _key(lines, key):
    return next(p for p in lines if p.key == key)


ROW = "{id},{system},否,故障,{start},{resp},{site},,{end},{outage},,{complaint},,{loss},\n"


def _incident(id, start, minutes, resp=5, site=None, outage="是", complaint="否", loss="否",
              system="门户网站"):
    t0 = datetime.fromisoformat(start)
    fmt = lambda m: (t0 + timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    return ROW.format(id=id, system=system, start=start, resp=fmt(resp),
                      site=fmt(site) if site is not None else "", end=fmt(minutes),
                      outage=outage, complaint=complaint, loss=loss)


@pytest.mark.parametrize("rows, expected", [
    # 10 minutes down, no complaints, no major loss: 附件3 row 1, 50%
    ([_incident("a", "2026-08-03 10:00", 10)], [("附件3第1条", "121648.25")]),
    # the agency flagged a major loss: 附件2 row 1, 200%
    ([_incident("a", "2026-08-03 10:00", 10, loss="是")], [("附件2第1条", "486593.00")]),
    # three complaints in the term: 附件3 row 2, 20%
    ([_incident(f"c{n}", f"2026-08-0{n} 10:00", 2, complaint="是", system=f"系统{n}")
      for n in (3, 4, 5)],
     [("附件3第2条", "48659.30")]),
    # one system down 150 minutes: availability, then 附件3 row 5 (30%); recovery 150 min is
    # past the table's last band (大于 60 且小于 120): listed under row 11 (50%), pending
    # (the agency's call), never counted silently
    ([_incident("a", "2026-08-03 10:00", 150)],
     [("附件3第1条", "121648.25"), ("附件3第5条", "72988.95"), ("附件3第11条", "121648.25")]),
    # the same system down three times: 附件3 row 6 (60%) instead of row 5
    ([_incident(f"r{n}", f"2026-08-0{n} 10:00", 1) for n in (3, 4, 5)],
     [("附件3第6条", "145977.90")]),
    # response 40 minutes on average, no outage: 附件3 row 9 (50%); recovery 45: row 10 (30%)
    ([_incident("a", "2026-08-03 10:00", 45, resp=40, outage="否")],
     [("附件3第9条", "121648.25"), ("附件3第10条", "72988.95")]),
    # on site after 3 h 30 min: 90 minutes unattended beyond the 2 h: 附件3 row 12 (30%)
    ([_incident("a", "2026-08-03 10:00", 20, site=210, outage="否")],
     [("附件3第12条", "72988.95")]),
])
def test_service_level_breaches_map_to_their_annex_rows(workdir, rows, expected):
    (workdir / "inc.csv").write_text(HEADER + "".join(rows),
                                     encoding="utf-8")
    cfg = workdir / "recon.toml"
    assert main(["--config", str(cfg), "incidents", "import", str(workdir / "inc.csv")]) == 0
    config = load_config(cfg)
    contract = load_contract(config)
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        got = [(p.clause, str(p.amount)) for p in
               penalties.ledger(store, contract, config, date(2026, 8, 31))]
    assert got == expected


# -- a figure resting on an open incident is pending (issue 22 point 1) ------------------------
#: November in the demo: GZ-1101 an important system's fault recovered after 22 minutes,
#: GZ-1103 26 minutes, GZ-1105 begun 22:40 on 11-30 and not recovered by the month's end
NOVEMBER = (
    "GZ-1101,卫生健康大数据平台,是,故障,2026-11-09 21:40,2026-11-09 21:47,,2026-11-09 21:55,"
    "2026-11-09 22:02,是,,否,,否,\n"
    "GZ-1103,统计分析系统,否,故障,2026-11-20 14:00,2026-11-20 14:09,,,2026-11-20 14:26,否,,否,,否,\n"
    "GZ-1105,数据共享交换平台,否,故障,2026-11-30 22:40,2026-11-30 22:52,,,,否,,否,,否,\n")


def test_a_mean_with_an_incident_still_open_is_pending_and_names_it(workdir):
    _import(workdir, NOVEMBER)
    line = _key(_ledger(workdir, date(2026, 11, 30)), "sla:2026-11:recovery_mean")
    # (22 + 26 + 80) / 3 = 42.7 is a lower bound: 附件3 row 10 for now, not counted
    assert (line.clause, line.status, line.held_by) == ("附件3第10条", "pending", ["GZ-1105"])
    assert "42.7 分钟 = (22.0 + 26.0 + 80.0) / 3" in line.basis
    assert "GZ-1105 80.0（未恢复，计至月末）" in line.basis
    assert "recovery_kinds=fault" in line.rule and "fee_basis=contract_month" in line.rule
    # only GZ-1101's outage (availability, 附件3 row 1) is counted meanwhile
    assert str(penalties.total(_ledger(workdir, date(2026, 11, 30)))) == "121648.25"
    # recovered at 01:00 on 12-01: 140 minutes, (22 + 26 + 140) / 3 = 62.7: row 11, counted
    _import(workdir, NOVEMBER.replace("2026-11-30 22:52,,,,否", "2026-11-30 22:52,,,"
                                      "2026-12-01 01:00,否"), name="inc2.csv")
    line = _key(_ledger(workdir, date(2026, 11, 30)), "sla:2026-11:recovery_mean")
    assert (line.clause, line.status, line.held_by, str(line.amount)) == \
        ("附件3第11条", "counted", [], "121648.25")
    assert "62.7 分钟" in line.reason


def test_the_month_s_criterion_waits_for_an_open_incident_unless_it_fails_already(workdir):
    # only ordinary faults: the open one makes the recovery criterion undetermined (待定)
    _import(workdir, NOVEMBER.replace("卫生健康大数据平台,是", "卫生健康大数据平台,否"))
    config = load_config(workdir / "recon.toml")
    contract = load_contract(config)
    with Store(workdir / "recon.duckdb") as store:
        conclude.month(store, contract, config, "2026-11")
        [v] = [v for v in stored.month_verdicts(store, "2026-11") if v["month"] == "2026-11"]
    crit = {c["code"]: c for c in v["criteria"]}["recovery_time"]
    assert crit["passed"] is None and crit["value"].startswith("一般 ≥ 42.7")
    assert "GZ-1105 月末仍未恢复" in crit["reason"]


def test_each_fault_is_judged_against_its_own_limits_with_its_times(workdir):
    """第三条 4-5: GZ-1101, an important system, was located at 15 minutes (over 10) and
    recovered at 22; GZ-1105 is open at 80 minutes (over 30): both listed, with times."""
    _import(workdir, NOVEMBER)
    config = load_config(workdir / "recon.toml")
    contract = load_contract(config)
    with Store(workdir / "recon.duckdb") as store:
        conclude.month(store, contract, config, "2026-11")
        [v] = [v for v in stored.month_verdicts(store, "2026-11") if v["month"] == "2026-11"]
    got = [(b["incident_id"], b["limit"], b["minutes"], b["limit_minutes"], b["at"], b["open"])
           for b in v["fault_breaches"]]
    assert got == [("GZ-1101", "locate", "15.0", 10, "2026-11-09 21:55", False),
                   ("GZ-1105", "locate", "80.0", 30, None, True)]


def test_a_value_on_a_band_edge_fits_neither_row_and_says_so(workdir):
    # one service request answered after exactly 30 minutes: 大于15且小于30 / 大于30且小于60
    _import(workdir, "Q-1,门户网站,否,运维需求,2026-08-03 10:00,2026-08-03 10:30,,,"
                     "2026-08-03 10:40,否,,否,,否,\n")
    line = _key(_ledger(workdir, date(2026, 8, 31)), "sla:2026-08:response_mean")
    assert line.status == "pending" and line.clause == "附件3第8条"
    assert "恰为 30.0 分钟" in line.reason and "不在任何一档，由甲方判断" in line.reason


def test_which_events_an_average_counts_is_the_agency_s_reading(workdir, tmp_path):
    # a fault answered in 5 minutes and a service request in 40: all kinds average 22.5
    # (附件3 row 8); the reading response_kinds = ["request"] averages 40 (row 9)
    _import(workdir, _incident("F-1", "2026-08-03 10:00", 10, resp=5, outage="否")
            + "Q-1,门户网站,否,运维需求,2026-08-04 10:00,2026-08-04 10:40,,,2026-08-04 10:50,"
              "否,,否,,否,\n")
    assert _key(_ledger(workdir, date(2026, 8, 31)), "sla:2026-08:response_mean").clause \
        == "附件3第8条"
    rules = tmp_path / "requests.toml"
    rules.write_text(RULES_FILE.read_text(encoding="utf-8").replace(
        'response_kinds = ["fault", "request", "security"]', 'response_kinds = ["request"]'),
        encoding="utf-8")
    cfg = write_config(workdir, extra=f'[assessment]\nfile = "{rules}"\n')
    line = _key(_ledger(workdir, date(2026, 8, 31), cfg), "sla:2026-08:response_mean")
    assert (line.clause, str(line.amount)) == ("附件3第9条", "121648.25")
    assert "response_kinds=request" in line.rule and "40.0 分钟" in line.reason


def test_the_fee_a_penalty_is_taken_from_is_the_agency_s_reading(workdir, tmp_path):
    # 门户网站 down 150 minutes: 附件3 row 5 (30%) of the whole contract's month, or of the
    # system's own monthly fee with fee_basis = "system_month" (20,000.00 x 30% = 6,000.00)
    _import(workdir, _incident("a", "2026-08-03 10:00", 150))
    assert str(_key(_ledger(workdir, date(2026, 8, 31)),
                    "sla:2026-08:outage:门户网站").amount) == "72988.95"
    rules = tmp_path / "systems.toml"
    rules.write_text(RULES_FILE.read_text(encoding="utf-8").replace(
        'fee_basis = "contract_month"', 'fee_basis = "system_month"')
        + '\n[[systems]]\nname = "门户网站"\nmonthly_fee = "20000.00"\n', encoding="utf-8")
    cfg = write_config(workdir, extra=f'[assessment]\nfile = "{rules}"\n')
    line = _key(_ledger(workdir, date(2026, 8, 31), cfg), "sla:2026-08:outage:门户网站")
    assert (str(line.fee), str(line.amount)) == ("20000.00", "6000.00")
    assert "fee_basis=system_month" in line.rule and "按该系统月服务费 20000.00 元计" in line.basis


def test_the_agency_confirms_a_penalty_and_a_changed_amount_is_an_estimate_again(workdir,
                                                                                capsys):
    cfg = str(workdir / "recon.toml")
    _import(workdir, NOVEMBER)
    assert main(["--config", cfg, "report", "monthly", "--month", "2026-11"]) == 0
    # a pending penalty cannot be confirmed
    assert main(["--config", cfg, "penalties", "confirm", "sla:2026-11:recovery_mean",
                 "--by", "张三"]) == 3
    assert "held by GZ-1105" in capsys.readouterr().err
    assert main(["--config", cfg, "penalties", "confirm", "sla:2026-11:availability",
                 "--by", "张三", "--date", "2026-12-05"]) == 0
    line = _key(_ledger(workdir, date(2026, 11, 30)), "sla:2026-11:availability")
    assert (line.confirmed_by, line.confirmed_on, line.estimate) == \
        ("张三", date(2026, 12, 5), False)
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        kept = _key(conclude.ledger(store, date(2026, 11, 30)), "sla:2026-11:availability")
    assert kept.confirmed_by == "张三"               # stored, so every report shows it
    # three complaints later in the term change the row: the confirmed amount no longer holds
    _import(workdir, "".join(_incident(f"c{n}", f"2026-11-0{n} 10:00", 1, complaint="是",
                                       system=f"系统{n}") for n in (2, 3, 4)), name="c.csv")
    line = _key(_ledger(workdir, date(2026, 11, 30)), "sla:2026-11:availability")
    assert line.estimate and line.clause == "附件3第2条"
    assert main(["--config", cfg, "penalties", "confirm", "sla:2026-99:x", "--by", "张三"]) == 3


# -- the ledger over a year (tests/yearstore.py) ---------------------------------------------
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
