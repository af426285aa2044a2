"""`recon finance settle` and `recon finance payment`: the final payment as finance books it.

Issue 23.5 and 22.6: penalties are deducted once, in the final settlement, capped by
第十二条第3款; payments are what 第七条 says (首款 50%, 尾款 50%).

Two stores: the real contract (2,919,558.00) with no night (the final payment
1,459,779.00, nothing to deduct), and the five-item contract of tests/test_finance.py
(88,398.00: final 44,199.00, cap 8,839.80) with three nights (2026-11-01..11-03) and a
scaling request past its written notice's deadline (11-02): 88,398.00 / 12 x 20% = 1,473.30.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from recon import store as stored
from recon.cli import main
from recon.config import load_config
from recon.data import CATALOG, CONFIG_DIR
from recon.nightly import Night
from recon.progress import Progress
from tests.conftest import write_config
from tests.test_calendar import calendar_text

ITEMS = (12, 14, 16, 17, 32)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("settle")
    rows = list(csv.reader(io.StringIO((CATALOG / "contract_items.csv").read_text("utf-8"))))
    with open(folder / "items.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [r for r in rows[1:] if int(r[0]) in ITEMS])
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    (folder / "mapping.toml").write_text('[exports.aliases]\n"WAF" = 16\n', encoding="utf-8")
    cfg = write_config(folder, items=folder / "items.csv", total="88398.00")
    cfg.write_text(cfg.read_text("utf-8").replace(
        str(CONFIG_DIR / "mapping.toml"), str(folder / "mapping.toml")), "utf-8")
    day = date(2026, 11, 1)
    while day <= date(2026, 11, 3):
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        (d / "services.csv").write_text(
            "序号,服务名称,订购数量,使用数量\n12,远程接入服务,10,1\n16,WAF,25,1\n"
            "17,主机杀毒服务,74,1\n32,增值服务,7,1\n14,SSL VPN接入,49,1\n", encoding="utf-8")
        day += timedelta(days=1)
    night = Night(load_config(cfg), cloud="", progress=Progress(quiet=True))
    day = date(2026, 11, 1)
    while day <= date(2026, 11, 3):
        night.run(day, folder / "recon.duckdb", folder / "out")
        day += timedelta(days=1)
    return folder


@pytest.fixture
def small(base, tmp_path):
    """A copy of the five-item store (each test changes its own)."""
    folder = tmp_path / "s"
    shutil.copytree(base, folder)
    cfg = folder / "recon.toml"
    cfg.write_text(cfg.read_text("utf-8").replace(str(base), str(folder)), "utf-8")
    return folder


def run(folder: Path, *args) -> int:
    return main(["--config", str(folder / "recon.toml"), *args])


def settle(folder: Path, *args, day="2026-12-04"):
    code = run(folder, "finance", "settle", "--date", day, *args)
    out = folder / "out" / "settlement" / day
    js = json.loads((out / "settlement.json").read_text("utf-8")) \
        if (out / "settlement.json").exists() else None
    return code, js, out


def add_penalty(folder: Path) -> None:
    # requested 10-25 (day 7: the night of 11-01, measured at 49), written notice 11-02 with
    # deadline 11-02, still at 49 on 11-03: 附件3第4条 20%, dated 11-03
    assert run(folder, "scaling", "add", "--id", "S-1", "--item", "14", "--target", "60",
               "--requested", "2026-10-25", "--notice-date", "2026-11-02",
               "--notice-deadline", "2026-11-02") == 0


def test_the_real_contract_with_no_penalty_is_1459779_net(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "contract_amendments.csv").write_text(
        (CATALOG / "contract_amendments.csv").read_text("utf-8"), "utf-8")
    assert main(["--config", str(cfg), "finance", "payment", "add", "--kind", "first",
                 "--date", "2026-08-03", "--amount", "1459779.00"]) == 0
    code, r, out = settle(tmp_path)
    assert code == 1                                    # a forecast: the term is not over
    assert r["final_amount"]["amount"] == "1459779.00"
    assert r["final_amount"]["daxie"] == "人民币壹佰肆拾伍万玖仟柒佰柒拾玖元整"
    assert r["cap"]["amount"] == "291955.80"
    assert r["penalty_total"]["amount"] == r["deduction"]["amount"] == "0.00"
    assert r["net"]["amount"] == "1459779.00" and r["counted"] == []
    assert r["forecast"] and r["kind_label"].startswith("预估")
    assert r["first_payment"]["timing"] == "on_time"   # due by 2026-08-07
    gates = {g["code"]: (g["state"], g["label"], g["detail"]) for g in r["gates"]}
    assert gates["acceptance"] == ("unknown", "未核实",
                                   "未记录（recon acceptance record --period final）")
    assert gates["annual"][:2] == ("unknown", "未核实") and "届满" in gates["annual"][2]
    # the final acceptance recorded: the gate reads the acceptance ledger, never a default
    cfg = str(tmp_path / "recon.toml")
    assert main(["--config", cfg, "acceptance", "record", "--period", "final", "--result",
                 "fail", "--date", "2027-07-15"]) == 0
    code, r, out = settle(tmp_path)
    gates = {g["code"]: (g["state"], g["detail"]) for g in r["gates"]}
    assert gates["acceptance"][0] == "failed" and "2027-07-15 验收未通过" in gates["acceptance"][1]
    assert r["invoice_by"] is None and "未定" in r["calendar_note"]
    assert any("尚未届满" in p for p in r["open_points"])
    html = (out / "settlement.html").read_text("utf-8")
    assert "1,459,779.00" in html and "未核实" in html and "预估" in html


def test_penalties_are_one_deduction_line_with_their_clauses(small):
    add_penalty(small)
    code, r, out = settle(small)
    assert [(p["clause"], p["amount"], p["dated"]) for p in r["counted"]] == \
        [("附件3第4条", "1473.30", "2026-11-03")]
    # 88,398.00 / 2 = 44,199.00; 44,199.00 - 1,473.30 = 42,725.70
    assert r["final_amount"]["amount"] == "44199.00"
    assert r["deduction"]["amount"] == r["penalty_total"]["amount"] == "1473.30"
    assert r["net"]["amount"] == "42725.70"
    assert r["net"]["daxie"] == "人民币肆万贰仟柒佰贰拾伍元柒角整"
    assert r["excess"]["amount"] == "0.00" and code == 1
    html = (out / "settlement.html").read_text("utf-8")
    assert "附件3第4条" in html and "42,725.70" in html


def _sum_of_named_range(ws, formula: str, values) -> Decimal:
    """What =SUM(Gm:Gn) adds, read from the cells it names (the cached numbers)."""
    inner = formula[len("=SUM("):-1]
    first, last = inner.split(":")
    col = first[0]
    return sum((Decimal(str(values[f"{col}{n}"].value))
                for n in range(int(first[1:]), int(last[1:]) + 1)), Decimal(0))


def test_over_the_cap_the_excess_is_stated_not_deducted_and_the_workbook_agrees(small):
    add_penalty(small)
    # October: a 9-hour outage and slow answers: 附件3 rows 1 (50%), 6 (60%) ... each
    # 88,398.00 / 12 x coefficient, far above the cap of 8,839.80
    (small / "inc.csv").write_text(
        "事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注\n"
        "GZ-1,平台,否,故障,2026-10-10 08:00,2026-10-10 08:45,2026-10-10 09:00,2026-10-10 09:30,"
        "2026-10-10 17:10,是,中断,否,,否,\n"
        "GZ-2,平台,否,故障,2026-10-12 08:00,2026-10-12 08:50,2026-10-12 09:00,2026-10-12 09:30,"
        "2026-10-12 11:30,是,中断,否,,否,\n", encoding="utf-8")
    assert run(small, "incidents", "import", str(small / "inc.csv")) == 0
    code, r, out = settle(small)
    total = Decimal(r["penalty_total"]["amount"])
    assert total > Decimal("8839.80") and r["cap"]["amount"] == "8839.80"
    assert r["deduction"]["amount"] == "8839.80"
    assert Decimal(r["excess"]["amount"]) == total - Decimal("8839.80")
    assert r["net"]["amount"] == "35359.20"          # 44,199.00 - 8,839.80
    assert any("解除合同" in p for p in r["open_points"])
    # the stored ledger's one sum is what the workbook's SUM adds up
    with stored.Store(small / "recon.duckdb", read_only=True) as store:
        ledger_total = stored.penalty_total(store, date(2026, 11, 3))
    assert total == ledger_total
    wb = openpyxl.load_workbook(out / "settlement.xlsx")
    vals = openpyxl.load_workbook(out / "settlement.xlsx", data_only=True)
    pens, pv = wb["违约金"], vals["违约金"]
    (row,) = [c.row for c in pens["F"] if c.value == "合计"]
    formula = pens[f"G{row}"].value
    assert formula.startswith("=SUM(G")
    assert _sum_of_named_range(pens, formula, pv) == ledger_total
    assert Decimal(str(pv[f"G{row}"].value)).quantize(Decimal("0.01")) == ledger_total
    book, bv = wb["尾款结算"], vals["尾款结算"]
    cells = {book[f"A{n}"].value: (book[f"B{n}"].value, bv[f"B{n}"].value)
             for n in range(1, 40) if book[f"A{n}"].value}
    f_pen, v_pen = cells["违约金台账计入合计（见“违约金”表）"]
    assert f_pen == f"=违约金!G{row}"
    f_ded, v_ded = cells["减：违约金（计入合计，以上限为限）"]
    assert f_ded.startswith("=MIN(") and Decimal(str(v_ded)) == Decimal("8839.80")
    f_net, v_net = cells["尾款应付净额"]
    assert f_net.startswith("=B") and Decimal(str(v_net)) == Decimal("35359.20")
    f_fin, v_fin = cells["尾款（合同金额 50%，第七条第2款）"]
    assert "ROUND" in f_fin and Decimal(str(v_fin)) == Decimal("44199.00")


def test_a_planned_date_in_a_year_the_calendar_lacks_is_exit_3_naming_it(small, capsys):
    code, r, out = settle(small, "--planned-final", "2027-07-20")
    assert code == 3 and r is None and not out.exists()
    err = capsys.readouterr().err
    assert "2027" in err and "Traceback" not in err


def test_the_invoice_deadline_is_5_working_days_before_the_planned_date(small, tmp_path):
    # a 2027 calendar file in the shape of the State Council's notice (tests/test_calendar.py:
    # made-up dates, no holiday in July)
    cal = tmp_path / "cal.csv"
    cal.write_text(calendar_text(), encoding="utf-8")
    code, r, _ = settle(small, "--planned-final", "2027-07-20", "--calendar", str(cal))
    # 2027-07-20 is a Tuesday; five working days before: 07-13 (Tuesday)
    assert r["planned"] == "2027-07-20" and r["invoice_by"] == "2027-07-13"


def test_payments_ledger_first_on_time_or_late_and_revisions(small, capsys):
    assert run(small, "finance", "payment", "add", "--kind", "first", "--date", "2026-08-10",
               "--amount", "44199.00") == 0
    said = capsys.readouterr().out
    assert "逾期 1 个工作日" in said and "2026-08-07" in said
    assert run(small, "finance", "payment", "add", "--kind", "first", "--date", "2026-08-05",
               "--amount", "44199.00") == 0
    assert "revision 2" in capsys.readouterr().out
    assert run(small, "finance", "payment", "list", "--history") == 0
    listed = capsys.readouterr().out
    assert "2026-08-05" in listed and "按期" in listed and "rev 1" in listed
    assert "尾款（合同金额 50%）: 44,199.00 元，未记录" in listed
    # the final payment inside the term, and a bad amount, are refused naming the option
    assert run(small, "finance", "payment", "add", "--kind", "final", "--date", "2027-01-05",
               "--amount", "1") == 3
    assert "[--date]" in capsys.readouterr().err
    assert run(small, "finance", "payment", "add", "--kind", "first", "--date", "2026-08-05",
               "--amount", "12.345") == 3
    assert "[--amount]" in capsys.readouterr().err
    _, r, _ = settle(small)
    assert r["first_payment"]["paid_on"] == "2026-08-05"
    assert r["first_payment"]["timing"] == "on_time"

