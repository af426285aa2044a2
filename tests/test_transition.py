"""After the term: the transition period (第十三条 2) and a follow-on contract in the same store.

Nights run on console exports only (every item that is not an export item is marked
``none``), so each night is quick and its figures are known: every export item is
delivered in full, its contracted quantity.
"""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from recon.cli import main
from recon.data import CATALOG
from tests.conftest import EXPORT_HEADER, write_config

FOLLOW_ON = "CMBJ-202707001"


def _rows() -> list[list[str]]:
    rows = list(csv.reader(io.StringIO((CATALOG / "contract_items.csv").read_text("utf-8"))))
    for r in rows[1:]:
        if r[10] != "export":
            r[10] = "none"
    return rows


def _write_items(path: Path, rows) -> Decimal:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return sum((Decimal(r[8]) for r in rows[1:]), Decimal(0))


def _exports(folder: Path, rows, days) -> None:
    body = "".join(f"{r[0]},{r[2]},id{r[0]},x,{r[6]},{r[6]},{r[4]}\n" for r in rows[1:]
                   if r[10] == "export")
    for day in days:
        (folder / "exports" / day).mkdir(parents=True, exist_ok=True)
        (folder / "exports" / day / "all.csv").write_text(EXPORT_HEADER + body, encoding="utf-8")


def _follow_on_rows():
    """The follow-on's items: the same numbering, item 14 cheaper and item 17 more of it."""
    rows = _rows()
    for r in rows[1:]:
        if r[0] == "14":
            r[5] = str(Decimal(r[5]) / 2)
        if r[0] == "17":
            r[6] = str(Decimal(r[6]) + 10)
        r[8] = str(Decimal(r[5]) * Decimal(r[6]))
    return rows


def _follow_on_toml(folder: Path, total: Decimal, signed: str = "2027-08-01") -> str:
    return f"""
[[contract.follow_on]]
number = "{FOLLOW_ON}"
title = "续签合同"
signed = {signed}
months = 12
total = "{total}"
items = "{folder / 'items2.csv'}"
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder whose first contract measures only its export items, all delivered."""
    (tmp_path / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    rows = _rows()
    _write_items(tmp_path / "items.csv", rows)
    _exports(tmp_path, rows, ["2026-11-10", "2027-07-09", "2027-07-10"])
    write_config(tmp_path, items=tmp_path / "items.csv")
    return tmp_path


def _follow(site: Path, signed: str = "2027-08-01") -> None:
    rows = _follow_on_rows()
    total = _write_items(site / "items2.csv", rows)
    _exports(site, rows, ["2027-08-01"])
    write_config(site, items=site / "items.csv", extra=_follow_on_toml(site, total, signed))


def run(site: Path, day: str) -> int:
    return main(["--config", str(site / "recon.toml"), "run", "--date", day, "-q"])


def report(site: Path, day: str) -> dict:
    return json.loads((site / "out" / day / "nightly.json").read_text(encoding="utf-8"))


def page(site: Path, day: str) -> str:
    return (site / "out" / day / "nightly.html").read_text(encoding="utf-8")


def night_contracts(site: Path) -> dict[str, tuple[str, str]]:
    db = duckdb.connect(str(site / "recon.duckdb"), read_only=True)
    try:
        return {d: (n, k) for d, n, k in db.execute(
            "SELECT snapshot_date::VARCHAR, contract_number, kind FROM night_contracts").fetchall()}
    finally:
        db.close()


def test_the_transition_period_is_measured_valued_and_not_judged(site):
    # a scaling request made in the term: on the term's last night its 7-day clock runs
    assert main(["--config", str(site / "recon.toml"), "scaling", "add", "--id", "R1", "--item",
                 "17", "--target", "100", "--requested", "2027-07-08"]) == 0
    assert run(site, "2027-07-09") in (0, 1)
    last = report(site, "2027-07-09")
    assert [(s["request_id"], s["day"]) for s in last["scaling"]] == [("R1", 1)]
    assert last["penalties"] is not None and last["penalty_cap"] is not None
    # the night after the term: no clock, no penalty, no verdict (exit 0: all measured)
    assert run(site, "2027-07-10") == 0
    rep = report(site, "2027-07-10")
    assert rep["contract_number"] == "CMBJ-202602732"
    assert "切换期（第十三条 2，资源费用由双方协商）" in rep["transition"]
    assert rep["penalties"] is None and rep["scaling"] == []
    # every export item valued at the contract's price: quantity x unit price / 12 / 31 days
    rows = [r for r in _rows()[1:] if r[10] == "export"]
    expected = sum((Decimal(r[5]) * Decimal(r[6]) / 12 / 31 for r in rows), Decimal(0))
    assert abs(Decimal(rep["usage_value"]["amount"]) - expected) <= Decimal("0.01")
    assert rep["usage_value"]["daxie"].startswith("人民币")
    # what no source measures is not valued, and says so
    assert 1 in rep["usage_unvalued"]
    html = page(site, "2027-07-10")
    assert "切换期（第十三条 2，资源费用由双方协商）" in html
    assert "切换期用量计价" in html and "违约金（元）" not in html
    assert night_contracts(site) == {"2027-07-09": ("CMBJ-202602732", "term"),
                                     "2027-07-10": ("CMBJ-202602732", "transition")}


def test_a_night_in_the_term_says_nothing_of_a_transition(site):
    assert run(site, "2027-07-09") == 0
    rep = report(site, "2027-07-09")
    assert "transition" not in rep and "usage_value" not in rep
    assert rep["penalties"] is not None
    assert "切换期" not in page(site, "2027-07-09")
    assert night_contracts(site) == {"2027-07-09": ("CMBJ-202602732", "term")}


def test_a_shortfall_in_transition_is_shown_but_is_no_breach(site):
    # the provider already scaled item 17 down: a finding for the negotiation, exit 0
    day = site / "exports" / "2027-07-10" / "all.csv"
    day.write_text(day.read_text(encoding="utf-8").replace(",主机杀毒服务,id17,x,74,74,",
                                                           ",主机杀毒服务,id17,x,70,70,"),
                   encoding="utf-8")
    assert run(site, "2027-07-10") == 0
    rep = report(site, "2027-07-10")
    items = {i["item_no"]: i for i in rep["items"]}
    assert Decimal(items[17]["allocated"]) == 70
    assert any(f["item_no"] == 17 for f in rep["findings"])


def monthly(site: Path, month: str) -> int:
    return main(["--config", str(site / "recon.toml"), "report", "monthly", "--month", month])


def test_a_month_in_transition_is_valued_not_assessed(site):
    _exports(site, _rows(), ["2027-08-01", "2027-08-02"])
    assert run(site, "2027-08-01") == 0 and run(site, "2027-08-02") == 0
    nights = [report(site, d)["usage_value"]["amount"] for d in ("2027-08-01", "2027-08-02")]
    assert monthly(site, "2027-08") == 0
    folder = site / "out" / "monthly" / "2027-08"
    assert not (folder / "assessment.json").exists()
    js = json.loads((folder / "transition.json").read_text(encoding="utf-8"))
    assert js["verdict"] == "切换期，不考核" and js["contract_number"] == "CMBJ-202602732"
    assert js["nights"] == ["2027-08-01", "2027-08-02"] and len(js["missing"]) == 29
    # the month's value is its nights' (each rounded to fen on its page: within a fen each)
    assert abs(Decimal(js["total"]["amount"]) - sum(map(Decimal, nights))) <= Decimal("0.02")
    assert 1 in js["unvalued"]   # no source measures item 1: not valued, not 0
    html = (folder / "transition.html").read_text(encoding="utf-8")
    assert "切换期，不考核" in html and js["total"]["daxie"] in html


def test_the_month_the_term_ends_assesses_only_its_term_days(site):
    assert run(site, "2027-07-09") == 0 and run(site, "2027-07-10") == 0
    assert monthly(site, "2027-07") in (0, 1, 2)
    js = json.loads((site / "out" / "monthly" / "2027-07" / "assessment.json")
                    .read_text(encoding="utf-8"))
    assert js["contract_number"] == "CMBJ-202602732"
    assert (js["first"], js["last"]) == ("2027-07-01", "2027-07-09")


def test_a_day_before_the_first_contract_is_bad_input(site, capsys):
    assert run(site, "2026-07-09") == 3
    assert "before the first contract" in capsys.readouterr().err


def test_a_follow_on_contract_judges_its_nights_and_history_stays(site):
    assert run(site, "2026-11-10") == 0
    before = report(site, "2026-11-10")
    _follow(site)
    # the first contract's night, run again with the follow-on configured: the same figures
    assert run(site, "2026-11-10") == 0
    again = report(site, "2026-11-10")
    for key in ("contract_number", "term", "items", "day_value", "penalties", "findings"):
        assert again[key] == before[key], key
    assert monthly(site, "2026-11") in (0, 1, 2)
    month = site / "out" / "monthly" / "2026-11" / "assessment.json"
    month_before = month.read_bytes()
    # the gap between the terms is the first contract's transition
    assert run(site, "2027-07-10") == 0
    assert report(site, "2027-07-10")["contract_number"] == "CMBJ-202602732"
    # the follow-on's first night: its number, its term, its prices
    assert run(site, "2027-08-01") == 0
    rep = report(site, "2027-08-01")
    assert rep["contract_number"] == FOLLOW_ON and rep["contract_title"] == "续签合同"
    assert rep["term"] == "2027-08-01 至 2028-07-31"
    assert "transition" not in rep and rep["penalties"] is not None
    items = {i["item_no"]: i for i in rep["items"]}
    first = {i["item_no"]: i for i in before["items"]}
    assert Decimal(items[17]["contracted"]) == Decimal(first[17]["contracted"]) + 10
    # item 14 at half the price: half the day value (Aug and Nov both 30/31 days apart)
    assert Decimal(items[14]["day_value"]) < Decimal(first[14]["day_value"])
    assert FOLLOW_ON in page(site, "2027-08-01")
    # the follow-on's month is assessed under it, in its own folder as its other outputs;
    # the first contract's month is as it was
    assert monthly(site, "2027-08") in (0, 1, 2)
    assert not (site / "out" / "monthly" / "2027-08").exists()
    aug = json.loads((site / "out" / FOLLOW_ON / "monthly" / "2027-08" / "assessment.json")
                     .read_text(encoding="utf-8"))
    assert aug["contract_number"] == FOLLOW_ON and aug["first"] == "2027-08-01"
    assert monthly(site, "2026-11") in (0, 1, 2)
    assert month.read_bytes() == month_before
    assert night_contracts(site) == {"2026-11-10": ("CMBJ-202602732", "term"),
                                     "2027-07-10": ("CMBJ-202602732", "transition"),
                                     "2027-08-01": (FOLLOW_ON, "term")}


def test_overlapping_terms_are_a_configuration_error(site, capsys):
    _follow(site, signed="2027-07-01")
    assert run(site, "2026-11-10") == 3
    err = capsys.readouterr().err
    assert "overlaps" in err and FOLLOW_ON in err and "contract.follow_on" in err


def test_contract_check_shows_each_contract_and_the_transition_between(site, capsys):
    _follow(site)
    assert main(["--config", str(site / "recon.toml"), "contract", "check"]) == 0
    text = capsys.readouterr().out
    assert "测试合同 (CMBJ-202602732)" in text and f"续签合同 ({FOLLOW_ON})" in text
    assert "2027-07-10 至 2027-07-31 为切换期" in text
    assert "2028-07-31 之后为切换期" in text


def test_a_follow_on_without_its_term_or_with_a_used_number_is_named(site, capsys):
    rows = _follow_on_rows()
    total = _write_items(site / "items2.csv", rows)
    toml = _follow_on_toml(site, total)
    write_config(site, items=site / "items.csv",
                 extra=toml.replace("signed = 2027-08-01\n", ""))
    assert run(site, "2026-11-10") == 3
    assert "[[contract.follow_on]] #1: missing key 'signed'" in capsys.readouterr().err
    write_config(site, items=site / "items.csv",
                 extra=toml.replace(FOLLOW_ON, "CMBJ-202602732"))
    assert run(site, "2026-11-10") == 3
    assert "'CMBJ-202602732' is already used" in capsys.readouterr().err
    # its items must add up to its total, as the first contract's must
    write_config(site, items=site / "items.csv", extra=toml.replace(f'"{total}"', '"1.00"'))
    assert run(site, "2026-11-10") == 3
    assert "items2.csv" in capsys.readouterr().err


def test_the_index_renders_a_missing_transition_night_as_one(site):
    assert run(site, "2027-07-09") == 0 and run(site, "2027-07-10") == 0
    (site / "out" / "2027-07-10" / "nightly.html").unlink()
    assert main(["--config", str(site / "recon.toml"), "report", "index"]) == 0
    assert "切换期（第十三条 2，资源费用由双方协商）" in page(site, "2027-07-10")
    assert "切换期" not in page(site, "2027-07-09")


def test_a_transition_night_on_the_cloud_values_each_allocation_at_its_price(workdir,
                                                                            monkeypatch):
    """The simulator's tenant on 2027-07-10: OpenStack items measured as in the term, each
    allocation x unit price / 12 / 31 (July), added up to the fen; nothing judged."""
    from datetime import date

    import yaml

    from recon.sim.scenario import load_scenario
    from recon.sim.server import SimServer, clouds_yaml

    with SimServer(load_scenario(Path(__file__).parent / "scenarios" / "small.yaml"),
                   today=date(2027, 7, 10)) as sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        code = run(workdir, "2027-07-10")
    rep = report(workdir, "2027-07-10")
    assert code in (0, 2) and rep["exit_code"] == code and rep["scaling"] == []
    price = {int(r[0]): Decimal(r[5]) for r in _rows()[1:]}
    measured = [i for i in rep["items"] if i["allocated"] is not None]
    assert any(i["item_no"] == 1 for i in measured)       # the cloud's vCPUs, say
    unit = {no: (p / 12 / 31).quantize(Decimal("1e-10")) for no, p in price.items()}
    expected = sum(((Decimal(i["allocated"]) * unit[i["item_no"]]).quantize(Decimal("1e-6"))
                    for i in measured), Decimal(0)).quantize(Decimal("0.01"))
    assert Decimal(rep["usage_value"]["amount"]) == expected
    assert sorted(rep["usage_unvalued"]) == sorted(
        i["item_no"] for i in rep["items"] if i["allocated"] is None)


def test_a_scaling_request_in_the_follow_ons_term_runs_its_clock_there(site, capsys):
    _follow(site)
    cfg = ["--config", str(site / "recon.toml"), "scaling", "add", "--item", "17",
           "--target", "200"]
    # the gap between the terms belongs to no contract: nothing to scale
    assert main(cfg + ["--id", "GAP", "--requested", "2027-07-20"]) == 3
    assert "outside the contract term" in capsys.readouterr().err
    assert main(cfg + ["--id", "R2", "--requested", "2027-07-31 10:00"]) == 3
    assert main(cfg + ["--id", "R2", "--requested", "2027-08-01 10:00"]) == 0
    assert run(site, "2027-08-01") in (0, 1)
    rep = report(site, "2027-08-01")
    assert [(s["request_id"], s["day"]) for s in rep["scaling"]] == [("R2", 0)]


def test_an_incident_recorded_in_the_transition_reaches_the_ended_contracts_ledger(site):
    """After the term the newest night is a transition night, which concludes nothing: an
    incident of the term imported then is concluded on the contract's last night in the
    term, the ledger its settlement reads (a 10-hour outage of 2027-07-05 fails 附件3 row 1)."""
    assert run(site, "2027-07-09") == 0 and run(site, "2027-07-10") == 0
    ledger = site / "incidents.csv"
    ledger.write_text(
        "事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,"
        "影响,投诉,事件级别,重大损失,备注\n"
        "GZ-2027-0705,卫生健康大数据平台,是,故障,2027-07-05 08:00,2027-07-05 08:05,,"
        "2027-07-05 08:20,2027-07-05 18:00,是,平台中断,否,,否,\n", encoding="utf-8")
    cfg = ["--config", str(site / "recon.toml")]
    assert main([*cfg, "incidents", "import", str(ledger)]) == 0
    assert main([*cfg, "finance", "settle", "--date", "2027-07-20"]) in (0, 1)
    settled = json.loads((site / "out" / "settlement" / "2027-07-20" / "settlement.json")
                         .read_text(encoding="utf-8"))
    assert settled["ledger_as_of"] == "2027-07-09"
    counted = [p for p in settled["counted"] if p["month"] == "2027-07"]
    assert counted, "the outage of 2027-07-05 must reach the ended contract's ledger"
