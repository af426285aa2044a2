"""OUT/index.html: every night and monthly assessment, trends, rebuilt from the store alone."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from recon.cli import main
from recon.demo import drop_exports
from tests.conftest import write_config

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"
NIGHTS = ("2026-11-10", "2026-11-11", "2026-11-12")


def recon(folder: Path, *args) -> int:
    return main(["--config", str(folder / "recon.toml"), *args])


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """Three nights on the sample exports: the 11th's security export is rejected, and a
    scaling request for item 14 is past its written notice's deadline (a penalty)."""
    folder = tmp_path_factory.mktemp("history")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    write_config(folder)
    assert recon(folder, "scaling", "add", "--id", "KR-1", "--item", "14", "--target", "60",
                 "--requested", "2026-11-03", "--notice-date", "2026-11-11",
                 "--notice-deadline", "2026-11-11") == 0
    for day in NIGHTS:
        drop = drop_exports(folder / "exports", date.fromisoformat(day))
        if day == "2026-11-11":
            (drop / "security.csv").write_bytes(
                (HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n").encode("gbk"))
        # the 11th's security export is rejected (2); the other nights' items no source
        # is configured for are findings (1)
        assert recon(folder, "run", "--date", day, "-q") == (2 if day == "2026-11-11" else 1)
    return folder


def copy_of(history: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "h"
    shutil.copytree(history, folder)
    write_config(folder)
    return folder


def index_json(folder: Path) -> dict:
    return json.loads((folder / "out" / "index.json").read_text(encoding="utf-8"))


def test_every_night_is_listed_newest_first_and_linked(history):
    idx = index_json(history)
    assert [n["snapshot_date"] for n in idx["nights"]] == list(reversed(NIGHTS))
    assert [n["exit_code"] for n in idx["nights"]] == [1, 2, 1]
    html = (history / "out" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', html)
    assert links == [f"{d}/nightly.html" for d in reversed(NIGHTS)]
    for link in links:
        assert (history / "out" / link).exists()
    assert "历史总览" in html and "不完整" in html


def test_unknown_items_and_rejected_source_show_on_their_night(history):
    nights = {n["snapshot_date"]: n for n in index_json(history)["nights"]}
    assert 17 in nights["2026-11-11"]["unknown_items"]
    assert 17 not in nights["2026-11-10"]["unknown_items"]
    gaps = {s["source"]: s for s in index_json(history)["sources"]}
    assert gaps["export:security"]["unknown_nights"] == 1
    assert gaps["export:security"]["dates"] == ["2026-11-11"]
    assert gaps["export:licences"]["unknown_nights"] == 0


def test_an_unmeasured_night_is_a_gap_in_the_delivered_ratio_not_zero(history):
    ratios = {s["item_no"]: s for s in index_json(history)["ratios"]}
    points = {p["snapshot_date"]: p["ratio"] for p in ratios[17]["points"]}
    assert points["2026-11-11"] is None
    assert points["2026-11-10"] == points["2026-11-12"] == "1"
    # item 14: 45 of 49 SSL VPN accounts delivered
    assert ratios[14]["points"][0]["ratio"].startswith("0.918")
    # items no source measured that night have no series at all (nothing was measured)
    assert 1 not in ratios
    html = (history / "out" / "index.html").read_text(encoding="utf-8")
    assert "2026-11-11 未知" in html


def test_penalties_accumulate_against_the_cap_with_daxie(history):
    idx = index_json(history)
    totals = {p["snapshot_date"]: p["total"] for p in idx["penalties"]}
    assert totals == {"2026-11-10": "0.00", "2026-11-11": "0.00", "2026-11-12": "48659.30"}
    assert idx["penalty_cap"]["text"] == "291,955.80"
    (line,) = idx["penalty_lines"]
    assert (line["dated"], line["clause"], line["amount"], line["status"]) == \
        ("2026-11-12", "附件3第4条", "48659.30", "counted")
    assert "KR-1" in line["reason"]
    html = (history / "out" / "index.html").read_text(encoding="utf-8")
    assert "人民币肆万捌仟陆佰伍拾玖元叁角整" in html and "第十二条上限" in html


def test_findings_per_night_by_severity_match_each_nightly_report(history):
    idx = index_json(history)
    assert [s["snapshot_date"] for s in idx["severities"]] == list(NIGHTS)
    for s in idx["severities"]:
        nightly = json.loads((history / "out" / s["snapshot_date"] / "nightly.json")
                             .read_text(encoding="utf-8"))
        assert [s[k] for k in ("critical", "warning", "info")] == \
            [nightly["counts"][k] for k in ("critical", "warning", "info")]
    codes = {f["code"] for f in json.loads(
        (history / "out" / "2026-11-12" / "nightly.json").read_text("utf-8"))["findings"]}
    assert "scaling_notice_overdue" in codes


def test_report_index_rebuilds_deleted_reports_from_the_store(history, tmp_path):
    folder = copy_of(history, tmp_path)
    before = json.loads((folder / "out" / "2026-11-11" / "nightly.json").read_text("utf-8"))
    shutil.rmtree(folder / "out")
    assert recon(folder, "report", "index") == 0
    html = (folder / "out" / "index.html").read_text(encoding="utf-8")
    assert "2026-11-12" in html
    after = json.loads((folder / "out" / "2026-11-11" / "nightly.json").read_text("utf-8"))
    for key in ("findings", "items", "sources", "exit_code", "counts"):
        assert after[key] == before[key], key


def test_monthly_assessments_are_linked_newest_first_with_their_verdict(history, tmp_path):
    folder = copy_of(history, tmp_path)
    page = folder / "out" / "monthly" / "2026-10" / "assessment.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html><body>月度考核</body></html>", encoding="utf-8")
    # `recon report monthly` writes the month and refreshes the index itself
    assert recon(folder, "report", "monthly", "--month", "2026-11") == 0
    idx = index_json(folder)
    assert [m["report"] for m in idx["monthly"]] == ["monthly/2026-11/assessment.html",
                                                   "monthly/2026-10/assessment.html"]
    assessment = json.loads((folder / "out" / "monthly" / "2026-11" / "assessment.json")
                            .read_text(encoding="utf-8"))
    assert idx["monthly"][0]["verdict"] == assessment["verdict"]
    assert idx["monthly"][1]["verdict"] is None  # no JSON beside it: linked all the same
    html = (folder / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="monthly/2026-11/assessment.html"' in html and assessment["verdict"] in html


def test_names_from_exports_are_escaped_in_the_index(workdir):
    (workdir / "exports" / "<img src=x onerror=alert(1)>.csv").write_text(
        "服务名称,资源ID,订购数量,使用数量\n增值服务,v,1,1\n", encoding="utf-8")
    recon(workdir, "run", "--date", "2026-11-10", "-q")
    html = (workdir / "out" / "index.html").read_text(encoding="utf-8")
    assert "<img" not in html and "export:&lt;img src=x onerror=alert(1)&gt;" in html


def test_index_is_self_contained(history):
    html = (history / "out" / "index.html").read_text(encoding="utf-8")
    body = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in body and "https://" not in body and "<script" not in body
    assert "Content-Security-Policy" in html and 'name="viewport"' in html


def test_report_index_without_a_store_exits_4(workdir, capsys):
    assert recon(workdir, "report", "index") == 4
    assert "no store here yet" in capsys.readouterr().err


def test_an_index_that_cannot_be_written_does_not_change_the_night(workdir, caplog):
    drop_exports(workdir / "exports", date(2026, 11, 10))
    (workdir / "out" / "index.html").mkdir(parents=True)  # in the way of the page
    assert recon(workdir, "run", "--date", "2026-11-10", "-q") == 1
    assert (workdir / "out" / "2026-11-10" / "nightly.json").exists()
    assert "index.html not refreshed" in caplog.text


def test_the_index_and_the_nightly_report_read_the_stored_ledger_they_do_not_price_it(
        history, tmp_path):
    """A conclusion is computed once, by the step that concludes it; reports only read it:
    a figure changed in the stored ledger is the figure every report shows."""
    import duckdb

    folder = copy_of(history, tmp_path)
    db = duckdb.connect(str(folder / "recon.duckdb"))
    stored = db.execute("SELECT key, amount FROM penalty_ledger WHERE as_of = DATE "
                        "'2026-11-12'").fetchall()
    assert [(k, str(a)) for k, a in stored] == [("scaling:KR-1", "48659.30")]
    db.execute("UPDATE penalty_ledger SET amount = 1.00, running_total = 1.00 "
               "WHERE as_of = DATE '2026-11-12'")
    db.close()
    shutil.rmtree(folder / "out" / "2026-11-12")
    assert recon(folder, "report", "index") == 0
    idx = index_json(folder)
    assert idx["penalty_total"]["amount"] == "1.00"
    night = json.loads((folder / "out" / "2026-11-12" / "nightly.json").read_text("utf-8"))
    assert night["penalties"]["amount"] == "1.00"
    assert [s["penalty"] for s in night["scaling"]] == ["1.00"]


def test_a_scaling_request_recorded_after_the_night_concludes_the_night_again(history, tmp_path):
    folder = copy_of(history, tmp_path)
    assert recon(folder, "scaling", "add", "--id", "KR-2", "--item", "14", "--target", "70",
                 "--requested", "2026-11-03 09:00", "--notice-date", "2026-11-11",
                 "--notice-deadline", "2026-11-11") == 0
    assert recon(folder, "report", "index") == 0
    keys = [p["key"] for p in index_json(folder)["penalty_lines"]]
    assert keys == ["scaling:KR-1", "scaling:KR-2"]


def test_the_month_lists_the_agency_s_own_matters_apart_from_the_provider_s(history, tmp_path):
    """A console resource that maps to no item (云安全中心专业版) is the agency's to place in
    mapping.toml, as its own over-use is its to settle by a supplementary contract (第十六条):
    neither is a delivery failure; they are listed apart, with their nights."""
    folder = copy_of(history, tmp_path)
    assert recon(folder, "report", "monthly", "--month", "2026-11") == 0
    month = json.loads((folder / "out" / "monthly" / "2026-11" / "assessment.json")
                       .read_text(encoding="utf-8"))
    [unmapped] = month["agency_findings"]
    assert (unmapped["code"], unmapped["nights"]) == ("unmapped_resource", 2)
    assert "云安全中心专业版" in unmapped["message"] and "mapping.toml" in unmapped["whose"]
    # the provider's failings stay in the criteria, not here
    assert not [x for x in month["agency_findings"] if x["code"] == "allocation_shortfall"]
    # the scaling table says which notice 附件3 row 4 rests on
    [kr] = month["scaling"]
    assert (kr["notice_date"], kr["notice_source"]) == ("2026-11-11", "扩容台账录入的通知日期")
    html = (folder / "out" / "monthly" / "2026-11" / "assessment.html").read_text("utf-8")
    assert "甲方事项（不计为乙方问题）" in html


def test_the_index_leads_with_the_contract_s_state_and_its_milestones(history):
    html = (history / "out" / "index.html").read_text(encoding="utf-8")
    state, chart, nights = (html.index("<h2>合同状态</h2>"), html.index("<svg"),
                            html.index("每晚核对（最新在前）"))
    assert state < chart < nights          # the nights' table comes after the charts
    names = [(m["name"], m["date"]) for m in index_json(history)["milestones"]]
    assert names == [("中期验收（第六条）", "2027-01-10"), ("服务期满（第五条）", "2027-07-09"),
                     ("最终验收、年度考核与尾款（第六条、第七条）", "2027-07-10")]
    assert "还有 59 天" in html            # from the last night, 2026-11-12, to 2027-01-10
