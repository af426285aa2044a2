"""Console exports: encodings, XLSX, unknown items and services, the GX gate, export dates."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from connectors.exports import ExportConnector
from connectors.mapping import load_mapping
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.validation import Gate
from tests.conftest import write_config

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"
DAY = date(2026, 11, 10)


@pytest.fixture(scope="module")
def gate():
    return Gate(parameters={"item_numbers": list(range(1, 33))})


@pytest.fixture
def connector(workdir, gate):
    config = load_config(workdir / "recon.toml")
    contract = load_contract(config)
    return ExportConnector(workdir / "exports", contract,
                           load_mapping(config.mapping_path, contract), gate)


def _fig(result, item, metric):
    return next(m.quantity for m in result.measurements
                if m.item_no == item and m.metric == metric)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_any_excel_encoding(connector, tmp_path, encoding):
    path = tmp_path / "sec-2026-11-10.csv"
    path.write_bytes((HEADER + "17,主机杀毒服务,av,杀毒,74,70,台\n").encode(encoding))
    res = connector.read(path, DAY)
    assert res.ok, res.reason
    assert _fig(res, 17, "allocated") == 74 and _fig(res, 17, "in_use") == 70


def test_bundled_samples_cover_the_export_items(connector):
    results = connector.pull(date(2026, 11, 10))
    assert {r.source for r in results} == {"export:security", "export:network-vpn",
                                           "export:licences", "export:value-added"}
    assert all(r.ok for r in results), [r.reason for r in results]
    items = {m.item_no for r in results for m in r.measurements}
    assert items == {12, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 27, 28, 29, 32}
    lic = next(r for r in results if r.source == "export:licences")
    assert _fig(lic, 29, "allocated") == 2  # two rows of one item add up


def test_service_names_and_aliases_map_unknown_ones_are_kept(connector, tmp_path):
    path = tmp_path / "x-2026-11-10.csv"
    path.write_text("服务名称,订购数量,使用数量\nWAF,25,20\n神秘服务,3,3\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.ok
    assert _fig(res, 16, "in_use") == 20
    unmapped = [ln for ln in res.lines if ln.item_no is None]
    assert [ln.name for ln in unmapped] == ["神秘服务"]
    assert unmapped[0].quantity == Decimal(3)


@pytest.mark.parametrize("body, where", [
    ("33,不存在,x,x,1,1,个\n", ":2 [序号]"),          # item not in the contract
    ("17,主机杀毒服务,av,杀毒,七十,70,台\n", ":2 [订购数量]"),  # not a number
    ("17,主机杀毒服务,av,杀毒,74,,台\n", ":2 [使用数量]"),    # empty
])
def test_bad_rows_reject_the_file_naming_line_and_column(connector, tmp_path, body, where):
    path = tmp_path / "bad-20261110.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected"
    assert f"bad-20261110.csv{where}" in res.reason
    assert res.lines == [] and res.measurements == []


def test_missing_column_rejects(connector, tmp_path):
    path = tmp_path / "bad-2026-11-10.csv"
    path.write_text("序号,服务名称,订购数量\n17,主机杀毒服务,74\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected" and "missing column 使用数量" in res.reason


def test_negative_quantity_is_rejected_by_great_expectations(connector, tmp_path):
    path = tmp_path / "neg-2026-11-10.csv"
    path.write_text(HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected"
    assert "expect_column_values_to_be_between on allocated" in res.reason
    assert "-74" in res.reason


def test_one_bad_file_of_a_night_rejects_itself_only(connector, tmp_path):
    """The night's files are gated in one batch; a failing batch is re-checked file by file,
    so a negative quantity in one file neither passes nor takes the good files with it, and
    the same resource listed in two files (unique per file, not across) is no failure."""
    (tmp_path / "av-2026-11-10.csv").write_text(HEADER + "17,主机杀毒服务,av,杀毒,74,70,台\n",
                                                encoding="utf-8")
    (tmp_path / "neg-2026-11-10.csv").write_text(HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n",
                                                 encoding="utf-8")
    (tmp_path / "waf-2026-11-10.csv").write_text(HEADER + "17,主机杀毒服务,av,杀毒,3,3,台\n",
                                                 encoding="utf-8")
    results = {r.source: r for r in ExportConnector(tmp_path, connector.contract,
                                                    connector.mapping, connector.gate).pull(DAY)}
    assert results["export:neg"].status == "rejected"
    assert "neg-2026-11-10.csv" in results["export:neg"].reason
    assert "-74" in results["export:neg"].reason
    assert results["export:av"].ok and _fig(results["export:av"], 17, "allocated") == 74
    assert results["export:waf"].ok and _fig(results["export:waf"], 17, "allocated") == 3


def test_xlsx_export(connector, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.append(["序号", "服务名称", "订购数量", "使用数量"])
    wb.active.append([28, "金仓数据库", 1, 0])
    wb.save(tmp_path / "lic_20261110.xlsx")
    res = connector.read(tmp_path / "lic_20261110.xlsx", DAY)
    assert res.ok and _fig(res, 28, "in_use") == 0


def test_dated_folder_wins(connector, workdir):
    day = workdir / "exports" / "2026-11-11"
    day.mkdir()
    (day / "only.csv").write_text(HEADER + "32,增值服务,v,v,7,7,项\n", encoding="utf-8")
    [res] = connector.pull(date(2026, 11, 11))
    assert res.source == "export:only" and res.ok, res.reason
    assert [r.source for r in connector.pull(DAY)] == [
        "export:licences", "export:network-vpn", "export:security", "export:value-added"]


# -- export dates (docs/exports.md) ------------------------------------------------
def test_undated_export_is_rejected_never_fresh(connector, tmp_path):
    path = tmp_path / "security.csv"
    path.write_text(HEADER + "17,主机杀毒服务,av,杀毒,74,70,台\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected" and res.measurements == []
    assert "security.csv" in res.reason and "未注明导出日期" in res.reason


def test_sample_exports_count_for_their_night_and_the_next_only(connector):
    # the samples are dated 2026-11-10 in their names; max_age_days = 1
    assert all(r.ok for r in connector.pull(date(2026, 11, 11)))
    stale = connector.pull(date(2026, 11, 12))
    assert len(stale) == 4 and all(r.status == "rejected" for r in stale)
    sec = next(r for r in stale if r.source == "export:security")
    assert "security-2026-11-10.csv" in sec.reason and "导出日期 2026-11-10" in sec.reason
    assert "早 2 天" in sec.reason and "max_age_days = 1" in sec.reason
    assert sec.stats["export_date"] == "2026-11-10"


def test_export_dated_after_the_night_does_not_count_for_it(connector):
    results = connector.pull(date(2026, 11, 9))
    assert results and all(r.status == "rejected" for r in results)
    assert all("晚于核对日 2026-11-09" in r.reason for r in results)


def test_newest_file_of_a_source_up_to_the_night_is_read(connector, tmp_path):
    folder = tmp_path / "drops"
    folder.mkdir()
    for day, qty in (("2026-11-08", 70), ("2026-11-09", 72), ("2026-11-11", 74)):
        (folder / f"security-{day}.csv").write_text(
            HEADER + f"17,主机杀毒服务,av,杀毒,{qty},1,台\n", encoding="utf-8")
    connector.exports_dir = folder
    [res] = connector.pull(DAY)          # one source, not three
    assert res.source == "export:security" and res.ok
    assert _fig(res, 17, "allocated") == 72
    [res] = connector.pull(date(2026, 11, 11))
    assert _fig(res, 17, "allocated") == 74
    [res] = connector.pull(date(2026, 11, 7))
    assert res.status == "rejected" and "security-2026-11-08.csv" in res.reason


@pytest.mark.parametrize("cell, ok", [
    ("2026-11-10", True), ("2026/11/09", True), ("20261110", True),
    ("2026-11-10 23:40", True),
    ("2026-11-10T17:00:00+00:00", False),   # 01:00 on 11-11 in Beijing: after the night
    ("2026-11-08", False),                  # two days old
])
def test_export_date_column(connector, tmp_path, cell, ok):
    path = tmp_path / "vpn.csv"
    path.write_text("序号,订购数量,使用数量,导出日期\n14,45,45," + cell + "\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.ok == ok, res.reason
    if not ok:
        assert "导出日期列第 2 行" in res.reason


def test_export_date_column_in_xlsx_and_a_bad_cell(connector, tmp_path):
    import openpyxl
    from datetime import datetime
    wb = openpyxl.Workbook()
    wb.active.append(["item_no", "allocated", "in_use", "export_date"])
    wb.active.append([28, 1, 1, datetime(2026, 11, 10, 8, 30)])
    wb.active.append([29, 2, 1, datetime(2026, 11, 1)])
    wb.save(tmp_path / "lic.xlsx")
    res = connector.read(tmp_path / "lic.xlsx", DAY)
    # the oldest row decides: one stale row makes the whole file stale
    assert res.status == "rejected" and "2026-11-01" in res.reason and "第 3 行" in res.reason
    (tmp_path / "v.csv").write_text("序号,订购数量,使用数量,导出日期\n32,7,3,昨天\n", "utf-8")
    res = connector.read(tmp_path / "v.csv", DAY)
    assert res.status == "rejected" and "v.csv:2 [导出日期]" in res.reason


def test_file_in_the_nights_folder_that_says_it_is_older_is_stale(connector, workdir):
    day = workdir / "exports" / "2026-11-10"
    day.mkdir()
    (day / "security-2026-11-01.csv").write_text(HEADER + "17,主机杀毒服务,av,杀毒,74,70,台\n",
                                                 encoding="utf-8")
    [res] = connector.pull(DAY)
    assert res.status == "rejected" and "导出日期 2026-11-01" in res.reason


def test_stale_export_is_a_data_rejected_finding_of_the_night(workdir):
    write_config(workdir, extra="max_age_days = 3")   # appended to [exports]
    cfg = str(workdir / "recon.toml")
    assert main(["--config", cfg, "run", "--date", "2026-11-13", "-q"]) == 1
    rep = json.loads((workdir / "out" / "2026-11-13" / "nightly.json").read_text("utf-8"))
    assert {s["status"] for s in rep["sources"] if s["source"].startswith("export:")} == {"ok"}
    assert main(["--config", cfg, "run", "--date", "2026-11-14", "-q"]) == 2
    rep = json.loads((workdir / "out" / "2026-11-14" / "nightly.json").read_text("utf-8"))
    rejected = {f["source"]: f for f in rep["findings"] if f["code"] == "data_rejected"}
    assert set(rejected) == {"export:security", "export:network-vpn", "export:licences",
                             "export:value-added"}
    assert "security-2026-11-10.csv：导出日期 2026-11-10" in rejected["export:security"]["message"]
    items = {i["item_no"]: i for i in rep["items"]}
    assert items[17]["status"] == "unknown" and items[17]["allocated"] is None


@pytest.mark.parametrize("value", ["-1", '"one"', "1.5"])
def test_bad_max_age_days_is_a_configuration_error(workdir, capsys, value):
    write_config(workdir, extra=f"max_age_days = {value}")
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 3
    assert "max_age_days" in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_demo_lays_down_a_drop_that_counts_for_its_night_only(connector, tmp_path):
    from recon.demo import drop_exports
    drops = tmp_path / "drops"
    drop_exports(drops, date(2026, 11, 1))
    connector.exports_dir = drops
    results = connector.pull(date(2026, 11, 1))
    assert sorted(r.source for r in results) == [
        "export:licences", "export:network-vpn", "export:security", "export:value-added"]
    assert all(r.ok for r in results), [r.reason for r in results]
    # a night without its drop reads nothing: never the day before's files
    [missing] = connector.pull(date(2026, 11, 2))
    assert missing.status == "failed"


def test_header_only_export_is_rejected_as_no_data(connector, tmp_path):
    path = tmp_path / "sec-2026-11-10.csv"
    path.write_text(HEADER, encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected"
    assert "sec-2026-11-10.csv:2" in res.reason and "no data rows" in res.reason


def test_header_only_export_is_a_data_rejected_finding_of_the_night(workdir):
    for f in (workdir / "exports").iterdir():
        if "security" in f.name:
            f.write_text(HEADER, encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 2
    rep = json.loads((workdir / "out" / "2026-11-10" / "nightly.json").read_text("utf-8"))
    rejected = {f["source"] for f in rep["findings"] if f["code"] == "data_rejected"}
    assert "export:security" in rejected


@pytest.mark.parametrize("cell", ["inf", "-Infinity", "NaN", "17.5"])
def test_an_item_number_that_is_no_whole_number_rejects_the_file_not_the_night(
        connector, tmp_path, cell):
    path = tmp_path / "sec-2026-11-10.csv"
    path.write_text(HEADER + f"{cell},主机杀毒服务,av,杀毒,74,70,台\n", encoding="utf-8")
    res = connector.read(path, DAY)
    assert res.status == "rejected"
    assert "sec-2026-11-10.csv:2 [序号]" in res.reason
    assert "not a number" in res.reason or "not a whole number" in res.reason
