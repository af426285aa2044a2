"""`recon contract check` and the bad-input corpus for the contract files."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract, term_end
from recon.data import CATALOG, BUNDLED_CONFIG
from tests.conftest import write_config

ITEMS = (CATALOG / "contract_items.csv").read_text(encoding="utf-8")


def _rows():
    return list(csv.reader(io.StringIO(ITEMS)))


def _write(path: Path, rows, encoding="utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _check(tmp_path, capsys, **kw) -> tuple[int, str]:
    cfg = write_config(tmp_path, **kw)
    code = main(["--config", str(cfg), "contract", "check"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_bundled_contract_passes_and_prints_total_in_daxie(tmp_path, capsys):
    code, out = _check(tmp_path, capsys, items=CATALOG / "contract_items.csv")
    assert code == 0
    assert "2,919,558.00" in out
    assert "人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整" in out
    assert "32 项" in out


def test_bundled_contract_holds_the_32_items():
    contract = load_contract(load_config(BUNDLED_CONFIG))
    assert sorted(contract.items) == list(range(1, 33))
    assert contract.total == Decimal("2919558.00")
    assert contract.items[6].quantity == 101916
    assert contract.items[2].unit_price * contract.items[2].quantity == Decimal("798907.20")
    assert contract.end == date(2027, 7, 9)


def test_term_end_is_inclusive_last_day():
    assert term_end(date(2026, 7, 10), 12) == date(2027, 7, 9)
    assert term_end(date(2026, 1, 31), 1) == date(2026, 2, 27)


@pytest.mark.parametrize("mutate, where, words", [
    # line total no longer equals unit price x quantity (line 3 = item 2)
    (lambda r: r[2].__setitem__(8, "798907.21"), ":3 [line_total]", "unit price x quantity"),
    # quantity not a number
    (lambda r: r[5].__setitem__(6, "三"), ":6 [quantity]", "not a number"),
    # negative quantity
    (lambda r: r[7].__setitem__(6, "-1"), ":8 [quantity]", "must be positive"),
    # duplicate item number
    (lambda r: r[4].__setitem__(0, "1"), ":5 [item_no]", "appears twice"),
    # a renamed column
    (lambda r: r[0].__setitem__(5, "price"), ":1 [unit_price]", "missing column"),
    # unknown source
    (lambda r: r[9].__setitem__(10, "vmware"), ":10 [source]", "unknown source"),
])
def test_bad_items_exit_3_naming_file_line_column(tmp_path, capsys, mutate, where, words):
    rows = _rows()
    mutate(rows)
    # keep the grand total right where the mutation is not about it
    path = _write(tmp_path / "items.csv", rows)
    code, out = _check(tmp_path, capsys, items=path)
    assert code == 3
    assert f"items.csv{where}" in out
    assert words in out


def test_wrong_grand_total_exit_3(tmp_path, capsys):
    code, out = _check(tmp_path, capsys, items=CATALOG / "contract_items.csv", total="2919558.01")
    assert code == 3
    assert "2,919,558.00" in out and "2,919,558.01" in out


def test_missing_column_exit_3(tmp_path, capsys):
    rows = [r[:7] + r[8:] for r in _rows()]  # drop "months"
    code, out = _check(tmp_path, capsys, items=_write(tmp_path / "items.csv", rows))
    assert code == 3 and "missing column 'months'" in out


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "gb18030"])
def test_gbk_and_bom_files_are_read(tmp_path, capsys, encoding):
    code, out = _check(tmp_path, capsys, items=_write(tmp_path / "items.csv", _rows(), encoding))
    assert code == 0, out
    contract = load_contract(load_config(tmp_path / "recon.toml"))
    assert contract.items[17].name == "主机杀毒服务"


def test_undecodable_file_names_the_line(tmp_path, capsys):
    path = tmp_path / "items.csv"
    path.write_bytes(ITEMS.encode("utf-8") + b"33,\xff\xfe\xfd\x80\x80\n")
    code, out = _check(tmp_path, capsys, items=path)
    assert code == 3 and "neither UTF-8 nor GBK" in out


def test_amendments_change_quantity_from_their_date(tmp_path):
    (tmp_path / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n"
        "BC-2026-01,2026-11-01,2026-11-12,6,110000,高性能存储扩容\n", encoding="utf-8")
    write_config(tmp_path)
    contract = load_contract(load_config(tmp_path / "recon.toml"))
    assert contract.quantity_on(6, date(2026, 11, 11)) == 101916
    assert contract.quantity_on(6, date(2026, 11, 12)) == 110000


@pytest.mark.parametrize("row, where", [
    ("BC-1,2026-11-01,2028-01-01,6,110000,x", "[effective_date]"),
    ("BC-1,2026-11-01,2026-11-12,99,110000,x", "[item_no]"),
    ("BC-1,2026-11-01,2026-11-12,6,-5,x", "[quantity]"),
    ("BC-1,2026-11-01,2026-13-12,6,5,x", "[effective_date]"),
])
def test_bad_amendments_exit_3(tmp_path, capsys, row, where):
    (tmp_path / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n" + row + "\n",
        encoding="utf-8")
    code, out = _check(tmp_path, capsys, items=CATALOG / "contract_items.csv")
    assert code == 3
    assert f"contract_amendments.csv:2 {where}" in out
