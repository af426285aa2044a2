"""recon.cells: every cell of every user file read one way, and refused one way (file, line,
column).  The readers' own tests (test_contract, test_scaling, test_incidents, test_finance,
test_exports) check that each file is read through it."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from recon import cells
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.data import BUNDLED_CONFIG, CATALOG
from recon.errors import InputError
from recon.ledgers import scaling
from recon.progress import SHANGHAI
from recon.store import Store
from recon.textfiles import read_table
from tests.conftest import EXPORT_HEADER, write_config


# -- the rules of a cell ---------------------------------------------------------------
@pytest.mark.parametrize("text", ["2026-11-02", "2026/11/02", "2026/11/2", "2026.11.02",
                                  "20261102", "2026年11月2日", " 2026年11月02日 "])
def test_a_date_in_every_way_a_chinese_file_writes_it(text):
    assert cells.day(text) == date(2026, 11, 2)


@pytest.mark.parametrize("text", ["2026-13-02", "2026-02-30", "昨天", "11/02/2026", "2026-11",
                                  "2026年11月"])
def test_not_a_date(text):
    with pytest.raises(cells.CellError, match="not a date"):
        cells.day(text)


@pytest.mark.parametrize("text, hour, minute", [
    ("2026-11-02", 0, 0), ("2026-11-02 10:30", 10, 30), ("2026/11/02 10:30", 10, 30),
    ("2026年11月2日 10:30", 10, 30), ("2026-11-02T10:30:15", 10, 30),
    ("2026-11-02 9:05", 9, 5)])
def test_a_time_without_a_zone_is_beijing_time(text, hour, minute):
    value = cells.moment(text)
    assert value.tzinfo is not None
    assert value.astimezone(SHANGHAI).replace(tzinfo=None, second=0) == \
        datetime(2026, 11, 2, hour, minute)


def test_a_time_with_a_zone_keeps_it_and_its_beijing_day_counts():
    # moved here from test_scaling: 17:30 UTC is 01:30 the next day in Beijing
    contract = load_contract(load_config(BUNDLED_CONFIG))
    late_utc = scaling.make_request(contract, "R", 6, "1", None, "2026-11-02T17:30:00+00:00")
    assert late_utc.requested_date == date(2026, 11, 3)
    assert late_utc.deadline == date(2026, 11, 10)
    assert cells.moment("2026-11-02T17:30:00+00:00").utcoffset() == timedelta(0)
    assert cells.moment("2026-11-02T17:30Z").tzinfo == timezone.utc


@pytest.mark.parametrize("text", ["2026-13-05 10:00", "2026-11-05 25:00", "下午三点", "10:30"])
def test_not_a_time(text):
    with pytest.raises(cells.CellError, match="not a date or time"):
        cells.moment(text)


@pytest.mark.parametrize("text, value", [
    ("1234.5", "1234.5"), ("1,234.50", "1234.50"), ("¥1,234.50", "1234.50"),
    ("￥ 99.06", "99.06"), ("-3", "-3"), ("1e-05", "0.00001"), ("12,345,678", "12345678"),
    ("999999999999.999999", "999999999999.999999")])
def test_numbers_with_yuan_signs_and_thousands_separators(text, value):
    assert cells.number(text) == Decimal(value)


@pytest.mark.parametrize("text, words", [
    ("三", "not a number"), ("NaN", "not a number"), ("Infinity", "not a number"),
    ("1,2,3", "thousands separators"), ("12,34.5", "thousands separators"), ("", "not a number"),
    ("1e308", "too large"), ("-1e12", "too large"), ("1000000000000", "too large")])
def test_not_a_number_a_column_can_hold(text, words):
    with pytest.raises(cells.CellError, match=words):
        cells.number(text)


def test_whole_numbers():
    assert cells.whole("1,200") == 1200 and cells.whole("3.0") == 3
    with pytest.raises(cells.CellError, match="not a whole number"):
        cells.whole("3.5")


@pytest.mark.parametrize("text, value", [("是", True), ("否", False), ("", False), ("Yes", True),
                                         ("n", False), ("TRUE", True), ("0", False)])
def test_flags(text, value):
    assert cells.flag(text) is value


def test_a_flag_that_is_neither():
    with pytest.raises(cells.CellError, match="write 是 or 否"):
        cells.flag("也许")


def test_control_characters_are_refused_in_data_and_stripped_from_free_text():
    with pytest.raises(cells.CellError, match="U\\+0000 at character 3"):
        cells.check_text("S-\x00X")
    assert cells.check_text("普通文本 ok") == "普通文本 ok"
    assert cells.free_text("备注\x00\x1b[31m\n第二行\t！") == ("备注[31m\n第二行\t！", True)
    assert cells.free_text("备注") == ("备注", False)


def test_one_error_names_file_line_and_column():
    with pytest.raises(InputError) as exc:
        cells.read(Path("x.csv"), 7, "数量", cells.number, "1e308")
    assert str(exc.value).startswith("x.csv:7 [数量]: '1e308' is too large")


# -- every file: control characters -----------------------------------------------------
def test_a_nul_in_any_cell_of_a_csv_is_refused_naming_line_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("编号,名称,备注\nA-1,正常,好\nA-2,坏\x00名,好\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"t.csv:3 \[名称\]: control character U\+0000"):
        read_table(path)


def test_a_control_character_in_a_free_text_column_is_stripped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "t.csv"
    path.write_text("编号,备注\nA-1,带\x07铃声\n", encoding="gbk")
    with caplog.at_level(logging.WARNING, logger="recon.cells"):
        table = read_table(path, free=("备注",))
    assert table.rows[0][1]["备注"] == "带铃声"
    assert "t.csv:2 [备注]: control characters removed" in caplog.text


def _contract_rows(edit) -> str:
    text = (CATALOG / "contract_items.csv").read_text(encoding="utf-8")
    return edit(text)


def test_contract_items_refuse_a_nul(tmp_path, capsys):
    items = tmp_path / "items.csv"
    items.write_text(_contract_rows(lambda t: t.replace("主机杀毒服务", "主机杀毒\x00服务", 1)),
                     encoding="utf-8")
    code = main(["--config", str(write_config(tmp_path, items=items)), "contract", "check"])
    assert code == 3
    err = capsys.readouterr().err
    assert "items.csv:18 [name]: control character U+0000" in err


def test_scaling_ids_and_incident_fields_refuse_a_nul(workdir, capsys):
    cfg = str(workdir / "recon.toml")
    ledger = workdir / "s.csv"
    ledger.write_text("申请编号,序号,目标数量,申请时间\nS-\x001,6,110000,2026-11-02\n",
                      encoding="utf-8")
    assert main(["--config", cfg, "scaling", "import", str(ledger)]) == 3
    assert "s.csv:2 [申请编号]: control character U+0000" in capsys.readouterr().err
    assert main(["--config", cfg, "scaling", "add", "--id", "R\x1b1", "--item", "6",
                 "--target", "110000", "--requested", "2026-11-03"]) == 3
    assert "U+001B" in capsys.readouterr().err
    inc = workdir / "i.csv"
    inc.write_text("事件编号,系统名称,类型,发生时间,影响\nF-1,平台\x00A,故障,2026-11-05 10:00,"
                   "门户\n", encoding="utf-8")
    assert main(["--config", cfg, "incidents", "import", str(inc)]) == 3
    assert "i.csv:2 [系统名称]: control character U+0000" in capsys.readouterr().err
    assert not (workdir / "recon.duckdb").exists()


def test_an_incident_note_loses_its_control_characters_with_a_warning(workdir, caplog):
    cfg = str(workdir / "recon.toml")
    inc = workdir / "i.csv"
    inc.write_text("事件编号,系统名称,类型,发生时间,备注\nF-1,平台A,故障,2026-11-05 10:00,"
                   "值班\x07记录\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="recon.cells"):
        assert main(["--config", cfg, "incidents", "import", str(inc)]) == 0
    assert "i.csv:2 [备注]: control characters removed" in caplog.text
    from recon.ledgers import incidents
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        assert incidents.latest(store)["F-1"].note == "值班记录"


def test_a_console_export_with_a_nul_is_rejected_for_the_night(workdir, capsys):
    day = workdir / "exports" / "2026-11-10"
    day.mkdir()
    (day / "security.csv").write_text(EXPORT_HEADER + "17,主机杀毒服务,av\x00-1,杀毒,74,70,台\n",
                                      encoding="utf-8")
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    assert code == 2
    assert "security.csv:2 [资源ID]: control character U+0000" in capsys.readouterr().err


# -- every file: 1e308 -----------------------------------------------------------------
def test_scaling_import_refuses_1e308_naming_the_cell(workdir, capsys):
    ledger = workdir / "s.csv"
    ledger.write_text("申请编号,序号,目标数量,申请时间\nS-1,6,1e308,2026-11-02\n", encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "import", str(ledger)]) == 3
    err = capsys.readouterr().err
    assert "s.csv:2 [目标数量]" in err and "too large" in err and "Traceback" not in err


def test_a_console_export_of_1e308_is_data_rejected_and_the_night_goes_on(workdir, capsys):
    day = workdir / "exports" / "2026-11-10"
    day.mkdir()
    (day / "security.csv").write_text(EXPORT_HEADER + "17,主机杀毒服务,av,杀毒,1e308,70,台\n",
                                      encoding="utf-8")
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "security.csv:2 [订购数量]" in err and "too large" in err
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        assert store.db.execute("SELECT status FROM source_runs WHERE source = "
                                "'export:security'").fetchall() == [("rejected",)]
