"""Console exports: encodings, XLSX, unknown items and services, the GX gate."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.exports import ExportConnector
from connectors.mapping import load_mapping
from recon.config import load_config
from recon.contract import load_contract
from recon.validation import Gate

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"


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
    path = tmp_path / "sec.csv"
    path.write_bytes((HEADER + "17,主机杀毒服务,av,杀毒,74,70,台\n").encode(encoding))
    res = connector.read(path)
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
    path = tmp_path / "x.csv"
    path.write_text("服务名称,订购数量,使用数量\nWAF,25,20\n神秘服务,3,3\n", encoding="utf-8")
    res = connector.read(path)
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
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "17,主机杀毒服务,ok,杀毒,1,1,台\n" + body, encoding="utf-8")
    path.write_text(HEADER + body, encoding="utf-8")
    res = connector.read(path)
    assert res.status == "rejected"
    assert f"bad.csv{where}" in res.reason
    assert res.lines == [] and res.measurements == []


def test_missing_column_rejects(connector, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("序号,服务名称,订购数量\n17,主机杀毒服务,74\n", encoding="utf-8")
    res = connector.read(path)
    assert res.status == "rejected" and "missing column 使用数量" in res.reason


def test_negative_quantity_is_rejected_by_great_expectations(connector, tmp_path):
    path = tmp_path / "neg.csv"
    path.write_text(HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n", encoding="utf-8")
    res = connector.read(path)
    assert res.status == "rejected"
    assert "expect_column_values_to_be_between on allocated" in res.reason
    assert "-74" in res.reason


def test_xlsx_export(connector, tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    wb.active.append(["序号", "服务名称", "订购数量", "使用数量"])
    wb.active.append([28, "金仓数据库", 1, 0])
    wb.save(tmp_path / "lic.xlsx")
    res = connector.read(tmp_path / "lic.xlsx")
    assert res.ok and _fig(res, 28, "in_use") == 0


def test_dated_folder_wins(connector, workdir):
    day = workdir / "exports" / "2026-11-11"
    day.mkdir()
    (day / "only.csv").write_text(HEADER + "32,增值服务,v,v,7,7,项\n", encoding="utf-8")
    assert [r.source for r in connector.pull(date(2026, 11, 11))] == ["export:only"]
    assert len(connector.pull(date(2026, 11, 12))) == 4
