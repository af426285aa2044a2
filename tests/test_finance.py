"""`recon finance verify`: statements checked against the contract and real nights in the store.

The store is filled the way a user fills it: `recon scaling add` and ten real
nights (2026-11-01 .. 11-10) of the nightly job reading console exports.  A
five-item contract keeps every statement small enough to compute by hand:

  item 12 远程接入服务 1344.00 x 10 (补充合同: 12 from 2026-11-06)
  item 14 SSL VPN接入   940.80 x 49
  item 16 WAF           302.40 x 25
  item 17 主机杀毒服务   173.40 x 74
  item 32 增值服务      1209.60 x 7          total 88,398.00

Delivered (exports): every item its contracted quantity every night, except
item 14: 45 on 11-03 and no data on 11-05 (its export file is rejected).
November has 30 days, so each night is 1/(12 x 30) = 1/360 of the term:
11-06..11-10 is 5/360 = 1/72 and 11-01..11-10 is 10/360 = 1/36.
A scaling request for item 14 past its written notice's deadline (11-04)
dates a penalty of 88,398.00 / 12 x 20% = 1,473.30 on 11-05.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from connectors.mapping import load_mapping
from recon.cli import main
from recon.config import load_config, store_path
from recon.contract import load_contract
from recon.data import CATALOG, CONFIG_DIR
from recon.nightly import Night
from recon.finance import verify as verification
from recon.finance.statements import read_statement
from recon.progress import Progress
from recon.store import current
from reports.common import to_json
from reports.finance import build_finance
from tests.conftest import write_config

ITEMS = (12, 14, 16, 17, 32)
HEAD = "序号,项目名称,计费起,计费止,数量,单价,金额\n"
# all five items, 11-06..11-10 (share 1/72), contracted quantities at contract prices:
#   12: 1344.00 x 12 / 72 = 224.00 (the supplementary contract's 12 is in force)
#   14: 940.80 x 49 / 72 = 640.2666.. -> 640.27
#   16: 302.40 x 25 / 72 = 105.00
#   17: 173.40 x 74 / 72 = 178.2166.. -> 178.22
#   32: 1209.60 x 7 / 72 = 117.60                       total 1,265.09
CORRECT = {
    12: "12,远程接入服务,2026-11-06,2026-11-10,12,1344.00,224.00\n",
    14: "14,SSL VPN接入,2026-11-06,2026-11-10,49,940.80,640.27\n",
    16: "16,WAF,2026-11-06,2026-11-10,25,302.40,105.00\n",
    17: "17,主机杀毒服务,2026-11-06,2026-11-10,74,173.40,178.22\n",
    32: "32,增值服务,2026-11-06,2026-11-10,7,1209.60,117.60\n",
}


def _correct(**replace) -> str:
    return HEAD + "".join(replace.get(f"i{n}", CORRECT[n]) for n in ITEMS)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finance")
    rows = list(csv.reader(io.StringIO((CATALOG / "contract_items.csv").read_text("utf-8"))))
    with open(folder / "items.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0]] + [r for r in rows[1:] if int(r[0]) in ITEMS])
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n"
        "BC-1,2026-11-01,2026-11-06,12,12,远程接入扩至12\n", encoding="utf-8")
    (folder / "mapping.toml").write_text('[exports.aliases]\n"WAF" = 16\n', encoding="utf-8")
    cfg = write_config(folder, items=folder / "items.csv", total="88398.00")
    cfg.write_text(cfg.read_text("utf-8").replace(
        str(CONFIG_DIR / "mapping.toml"), str(folder / "mapping.toml")), "utf-8")
    assert main(["--config", str(cfg), "scaling", "add", "--id", "S-1", "--item", "14",
                 "--target", "60", "--requested", "2026-10-26", "--notice-date", "2026-11-03",
                 "--notice-deadline", "2026-11-04"]) == 0
    day = date(2026, 11, 1)
    while day <= date(2026, 11, 10):
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        remote = 12 if day >= date(2026, 11, 6) else 10
        (d / "services.csv").write_text(
            "序号,服务名称,订购数量,使用数量\n"
            f"12,远程接入服务,{remote},1\n16,WAF,25,1\n17,主机杀毒服务,74,1\n32,增值服务,7,1\n",
            encoding="utf-8")
        vpn = {date(2026, 11, 3): "45", date(2026, 11, 5): "四十九"}.get(day, "49")
        (d / "vpn.csv").write_text(f"序号,服务名称,订购数量,使用数量\n14,SSL VPN接入,{vpn},1\n",
                                   encoding="utf-8")
        day += timedelta(days=1)
    night = Night(load_config(cfg), cloud="", progress=Progress(quiet=True))
    day = date(2026, 11, 1)
    while day <= date(2026, 11, 10):
        night.run(day, folder / "recon.duckdb", folder / "out")
        day += timedelta(days=1)
    return folder


def verify(store: Path, name: str, text: str | None = None, data: bytes | None = None,
           suffix: str = ".csv"):
    path = store / f"{name}{suffix}"
    if data is None:
        data = text.encode("utf-8")
    path.write_bytes(data)
    code = main(["--config", str(store / "recon.toml"), "finance", "verify", str(path)])
    out = folder_of(path)
    report = json.loads((out / "verification.json").read_text("utf-8")) \
        if out and (out / "verification.json").exists() else None
    return code, report


def folder_of(path: Path, out: Path | None = None) -> Path | None:
    """OUT/finance/<period>-<digest>/ of a statement file: found by its content's digest."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    found = list(((out or path.parent / "out") / "finance").glob(f"*-{digest[:6]}"))
    assert len(found) <= 1, found
    return found[0] if found else None


def line(report, item_no):
    return [ln for ln in report["lines"] if ln["item_no"] == item_no]


def nights(ln) -> dict[str, dict]:
    """A JSON line's evidence night by night (its runs of alike nights spread out)."""
    return {(date.fromisoformat(run["first"]) + timedelta(days=n)).isoformat(): run
            for run in ln["runs"] for n in range(run["nights"])}


def test_a_correct_statement_is_ok_line_by_line_and_exits_0(store):
    code, r = verify(store, "correct", _correct())
    assert code == 0
    assert [ln["statuses"] for ln in r["lines"]] == [["ok"]] * 5
    assert r["statuses"] == [] and r["missing_items"] == []
    # 224.00 + 640.27 + 105.00 + 178.22 + 117.60
    assert r["billed"]["amount"] == "1265.09" and r["accepted"]["amount"] == "1265.09"
    assert r["billed"]["daxie"] == "人民币壹仟贰佰陆拾伍元零玖分"
    assert r["difference"]["amount"] == "0.00" and r["unknown_value"]["amount"] == "0.00"
    assert all(ln["unknown_days"] == [] for ln in r["lines"])


def test_the_history_index_lists_each_verified_statement_with_its_totals(store):
    verify(store, "correct", _correct())
    verify(store, "price", _correct(i16="16,WAF,2026-11-06,2026-11-10,25,320.00,111.11\n"))
    index = json.loads((store / "out" / "index.json").read_text("utf-8"))
    rows = {f["statement"]: f for f in index["finance"]}
    assert set(rows) == {"correct", "price"}
    folder = folder_of(store / "correct.csv").name
    assert folder.startswith("2026-11-06_2026-11-10-")
    assert rows["correct"]["report"] == f"finance/{folder}/verification.html"
    assert rows["correct"]["workbook"] == f"finance/{folder}/verification.xlsx"
    assert rows["correct"]["billed"] == rows["correct"]["accepted"] == "1,265.09"
    assert rows["correct"]["exit_code"] == 0 and rows["price"]["exit_code"] == 1
    html = (store / "out" / "index.html").read_text("utf-8")
    assert f'href="finance/{folder_of(store / "price.csv").name}/verification.html"' in html
    assert f'href="finance/{folder}/verification.xlsx"' in html
    assert "2 份账单核验" in html


def test_a_wrong_unit_price_shows_the_difference_over_the_line(store):
    # 320.00 x 25 / 72 = 111.111.. -> 111.11 (the line's own arithmetic holds)
    # contract: 302.40 x 25 / 72 = 105.00; (320.00 - 302.40) x 25 / 72 = 6.111.. -> 6.11
    code, r = verify(store, "price", _correct(i16="16,WAF,2026-11-06,2026-11-10,25,320.00,111.11\n"))
    assert code == 1
    (waf,) = line(r, 16)
    assert waf["statuses"] == ["price_mismatch"]
    assert waf["price_difference"] == "6.11"
    assert waf["accepted_amount"] == "105.00" and waf["difference"] == "6.11"


def test_a_quantity_above_the_contract(store):
    # 173.40 x 80 / 72 = 192.666.. -> 192.67; accepted at 74: 178.2166.. -> 178.22
    code, r = verify(store, "qty",
                     _correct(i17="17,主机杀毒服务,2026-11-06,2026-11-10,80,173.40,192.67\n"))
    assert code == 1
    (av,) = line(r, 17)
    assert av["statuses"] == ["quantity_over_contract"]
    assert av["contracted_qty"] == "74"
    assert av["accepted_amount"] == "178.22" and av["difference"] == "14.45"


def test_billed_above_delivered_with_an_unknown_night_valued_apart(store):
    # 11-01..11-10 (1/36): 940.80 x 49 / 36 = 1280.5333.. -> 1280.53 billed
    # measured: 8 nights at 49, 11-03 at 45; 11-05 unknown (export rejected)
    # accepted = 940.80 x (8 x 49 + 45) / 360 = 940.80 x 437 / 360 = 1142.0266.. -> 1142.03
    # unknown  = 940.80 x 49 / 360 = 128.0533.. -> 128.05, neither delivered nor undelivered
    # difference = 1280.53 - 1142.03 - 128.05 = 10.45
    code, r = verify(store, "delivered", HEAD + "14,SSL VPN接入,2026-11-01,2026-11-10,49,940.80,"
                     "1280.53\n")
    assert code == 1
    (vpn,) = line(r, 14)
    assert vpn["statuses"] == ["billed_over_delivered"]
    assert vpn["accepted_amount"] == "1142.03"
    assert vpn["unknown_value"] == "128.05" and vpn["unknown_days"] == ["2026-11-05"]
    assert vpn["difference"] == "10.45"
    assert vpn["delivered_qty"] == "48.555556"     # 437 / 9 measured nights
    states = {day: run["state"] for day, run in nights(vpn).items()}
    assert states["2026-11-05"] == "unknown" and states["2026-11-03"] == "measured"


def test_an_unknown_night_alone_is_not_a_finding(store):
    # 11-04..11-06 at 49: 11-04 and 11-06 delivered 49, 11-05 unknown
    # 940.80 x 49 x 3 / 360 = 384.16 billed; accepted 2 nights: 256.1066.. -> 256.11
    # unknown 128.05; difference 384.16 - 256.11 - 128.05 = 0.00
    code, r = verify(store, "unknown", HEAD + "14,SSL VPN接入,2026-11-04,2026-11-06,49,940.80,"
                     "384.16\n")
    (vpn,) = line(r, 14)
    assert vpn["statuses"] == ["ok"]
    assert (vpn["accepted_amount"], vpn["unknown_value"], vpn["difference"]) == \
        ("256.11", "128.05", "0.00")
    # only item 14 is billed: the four others are missing, which alone makes exit 1
    assert code == 1 and [m["item_no"] for m in r["missing_items"]] == [12, 16, 17, 32]


def test_a_line_billed_right_over_an_unknown_night_leaves_no_fen_of_rounding(store):
    # 11-05..11-06: 940.80 x 49 x 2 / 360 = 256.1066.. -> 256.11 billed
    # accepted (11-06) = 128.0533.. -> 128.05; accepted + unknown = 256.1066.. -> 256.11,
    # so unknown = 256.11 - 128.05 = 128.06 (rounded alone it would be 128.05, leaving 0.01)
    _, r = verify(store, "remainder", HEAD + "14,SSL VPN接入,2026-11-05,2026-11-06,49,940.80,"
                  "256.11\n")
    (vpn,) = line(r, 14)
    assert (vpn["accepted_amount"], vpn["unknown_value"], vpn["difference"]) == \
        ("128.05", "128.06", "0.00")


def test_an_arithmetic_error(store):
    # 1209.60 x 7 / 72 = 117.60, the line writes 117.06
    code, r = verify(store, "arith",
                     _correct(i32="32,增值服务,2026-11-06,2026-11-10,7,1209.60,117.06\n"))
    assert code == 1
    (vas,) = line(r, 32)
    assert vas["statuses"] == ["arithmetic_error"]
    assert vas["accepted_amount"] == "117.60" and vas["difference"] == "-0.54"
    assert "117.60" in vas["notes"][0]


TAX_HEAD = "发票号码,序号,项目名称,计费起,计费止,数量,单价,金额,税率,税额,价税合计,价税合计大写\n"


def test_tax_columns_right_and_wrong(store):
    # WAF 11-06..11-10: 价税合计 = 302.40 x 25 / 72 = 105.00; 金额 = 105.00 / 1.06 = 99.0566..
    # -> 99.06; 税额 = 105.00 - 99.06 = 5.94 (one statement per invoice: each bills the item)
    cases = {
        "tax_ok": "No1,16,WAF,2026-11-06,2026-11-10,25,302.40,99.06,6%,5.94,105.00,"
                  "人民币壹佰零伍元整\n",
        # 99.06 + 6.30 = 105.36, not 105.00
        "tax_sum": "No2,16,WAF,2026-11-06,2026-11-10,25,302.40,99.06,6%,6.30,105.00,壹佰零伍元正\n",
        # 98.70 + 6.30 = 105.00 holds, but 105.00 / 1.06 = 99.06, not 98.70
        "tax_net": "No3,16,WAF,2026-11-06,2026-11-10,25,302.40,98.70,0.06,6.30,105.00,"
                   "人民币壹佰零伍元整\n",
        # an exempt line: 105.00 / (1 + 0) = 105.00, tax 0
        "tax_free": "No4,16,WAF,2026-11-06,2026-11-10,25,302.40,105.00,免税,0,105.00,"
                    "人民币壹佰零伍元整\n",
    }
    got = {name: verify(store, name, TAX_HEAD + text)[1]["lines"][0] for name, text in cases.items()}
    assert {k: v["statuses"] for k, v in got.items()} == {
        "tax_ok": ["ok"], "tax_sum": ["arithmetic_error"], "tax_net": ["arithmetic_error"],
        "tax_free": ["ok"]}
    assert "105.36" in got["tax_sum"]["notes"][0] and "99.06" in got["tax_net"]["notes"][0]
    assert got["tax_ok"]["billed_amount"] == "105.00"


def test_a_wrong_daxie(store):
    # 105.00 ends at 元: 第五十二条 closes it with 整; 壹佰伍元整 drops the 零
    for name, written in (("daxie_zheng", "人民币壹佰零伍元"), ("daxie_ling", "人民币壹佰伍元整")):
        code, r = verify(store, name, TAX_HEAD + "No1,16,WAF,2026-11-06,2026-11-10,25,302.40,"
                         f"99.06,6%,5.94,105.00,{written}\n")
        assert code == 1 and r["lines"][0]["statuses"] == ["daxie_mismatch"]
        assert "人民币壹佰零伍元整" in r["lines"][0]["notes"][0]


def test_an_item_not_in_the_contract_and_a_name_the_mapping_does_not_know(store):
    text = _correct() + ("40,对象存储,2026-11-06,2026-11-10,1,100.00,1.39\n"
                         ",云硬盘快照,2026-11-06,2026-11-10,1,72.00,1.00\n")
    code, r = verify(store, "unknown_item", text)
    assert code == 1
    assert [ln["statuses"] for ln in r["lines"][5:]] == [["unknown_item"], ["unknown_item"]]
    # nothing of an unknown item is accepted: the whole billed amount is the difference
    assert r["lines"][6]["accepted_amount"] == "0.00" and r["lines"][6]["difference"] == "1.00"
    # the known lines still add up: 1265.09 + 1.39 + 1.00 billed, 1265.09 accepted
    assert r["billed"]["amount"] == "1267.48" and r["difference"]["amount"] == "2.39"


def test_a_contracted_item_missing_from_the_statement(store):
    code, r = verify(store, "missing", _correct(i32=""))
    assert code == 1
    assert [ln["statuses"] for ln in r["lines"]] == [["ok"]] * 4
    assert r["statuses"] == ["missing_item"]
    assert [m["item_no"] for m in r["missing_items"]] == [32]


def test_a_period_across_a_supplementary_contract(store):
    # item 12: 10 until 11-05, 12 from 11-06 (BC-1); delivered the same
    # one line billing 12 for 11-01..11-10: 1344.00 x 12 / 36 = 448.00; contracted day-weighted
    # (10 x 5 + 12 x 5) / 10 = 11 < 12; accepted = 1344 x (10 x 5 + 12 x 5) / 360 = 410.666..
    # -> 410.67; difference 37.33
    code, r = verify(store, "across", HEAD + "12,远程接入服务,2026-11-01,2026-11-10,12,1344.00,"
                     "448.00\n")
    (one,) = line(r, 12)
    assert one["statuses"] == ["quantity_over_contract"] and one["contracted_qty"] == "11"
    assert one["accepted_amount"] == "410.67" and one["difference"] == "37.33"
    # split at the supplementary contract: 1344 x 10 x 5 / 360 = 186.666.. -> 186.67; 224.00
    code, r = verify(store, "split", HEAD +
                     "12,远程接入服务,2026-11-01,2026-11-05,10,1344.00,186.67\n"
                     "12,远程接入服务,2026-11-06,2026-11-10,12,1344.00,224.00\n")
    assert [ln["statuses"] for ln in r["lines"]] == [["ok"], ["ok"]]
    assert [ln["contracted_qty"] for ln in r["lines"]] == ["10", "12"]   # as people write them
    assert r["accepted"]["amount"] == "410.67"


def test_penalties_are_information_never_deducted_from_a_statement(store):
    # issue 22.6: S-1 is still open after its notice deadline 11-04 (requested 10-26: a notice
    # after day 7, 11-02, counts): 88,398.00 / 12 x 20% = 1,473.30, dated 11-05.  Each statement
    # used to deduct it again (核准金额减违约金 -331.27 here); it is deducted once, at settlement
    _, r = verify(store, "pen", HEAD + "14,SSL VPN接入,2026-11-01,2026-11-10,49,940.80,1280.53\n")
    assert [(p["dated"], p["clause"], p["status"], p["amount"]) for p in r["penalties"]] \
        == [("2026-11-05", "附件3第4条", "counted", "1473.30")]
    assert r["penalty_total"]["daxie"] == "人民币壹仟肆佰柒拾叁元叁角整"
    assert r["accepted"]["amount"] == "1142.03" and "payable" not in r
    folder = folder_of(store / "pen.csv")
    html = (folder / "verification.html").read_text("utf-8")
    assert "违约金台账（仅供参考，于尾款结算时一次扣除）" in html
    assert "核准金额减违约金" not in html and "-331.27" not in html
    book = openpyxl.load_workbook(folder / "verification.xlsx")
    texts = [c.value for row in book["汇总"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "违约金台账（仅供参考，于尾款结算时一次扣除）" in texts
    assert not any("核准金额减违约金" in t or "违约金扣款" in t for t in texts)
    # the verdict and the exit code depend on the lines alone: a correct statement for
    # 11-06..11-10, with the penalty in the ledger as of 11-10, is 核对无误 and exits 0
    code, r = verify(store, "nopen", _correct())
    assert [p["amount"] for p in r["penalties"]] == ["1473.30"]
    assert code == 0 and r["exit_label"] == "账单各行核对无误"
    assert r["accepted"]["amount"] == "1265.09" and "payable" not in r


def test_gbk_bom_csv_and_xlsx_statements_read_the_same(store):
    code, r = verify(store, "gbk", data=_correct().encode("gbk"))
    assert code == 0 and r["billed"]["amount"] == "1265.09"
    code, r = verify(store, "bom", data=_correct().encode("utf-8-sig"))
    assert code == 0 and r["billed"]["amount"] == "1265.09"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in csv.reader(io.StringIO(_correct())):
        ws.append([float(c) if c.replace(".", "").isdigit() and "-" not in c else c for c in row])
    ws["C2"].value = date(2026, 11, 6)    # Excel keeps dates as dates
    buf = io.BytesIO()
    wb.save(buf)
    code, r = verify(store, "xlsx", data=buf.getvalue(), suffix=".xlsx")
    assert code == 0 and r["billed"]["amount"] == "1265.09"
    assert [ln["statuses"] for ln in r["lines"]] == [["ok"]] * 5


def test_a_malformed_statement_exits_3_naming_line_and_column_and_writes_nothing(store, capsys):
    bad = _correct(i17="17,主机杀毒服务,2026-11-06,2026-11-10,七十四,173.40,178.22\n")
    code, r = verify(store, "bad", bad)
    assert code == 3 and r is None
    assert "bad.csv:5 [数量]" in capsys.readouterr().err
    assert folder_of(store / "bad.csv") is None
    code, _ = verify(store, "nocol", "序号,计费起,计费止,数量,单价\n12,2026-11-06,2026-11-10,1,1\n")
    assert code == 3 and "[金额]" in capsys.readouterr().err
    code, _ = verify(store, "backwards", HEAD + "12,x,2026-11-10,2026-11-06,12,1344.00,224.00\n")
    assert code == 3 and "backwards.csv:2 [计费止]" in capsys.readouterr().err


@pytest.mark.parametrize("row, where, words", [
    # 1e308 used to end in decimal.InvalidOperation with no file, line or column
    ("12,x,2026-11-06,2026-11-10,1e308,1344.00,224.00\n", ":2 [数量]", "too large"),
    ("12,x,2026-11-06,2026-11-10,12,-1344.00,224.00\n", ":2 [单价]", "negative unit price"),
    # a date out of range crashed; one from year 1 burnt 23 s counting days first
    ("12,x,9999-12-30,9999-12-31,12,1344.00,224.00\n", ":2 [计费起]", "far outside the contract term"),
    ("12,x,0001-01-01,2026-11-10,12,1344.00,224.00\n", ":2 [计费起]", "far outside the contract term"),
    ("12,x,2026-11-06,2026-11-10,1\x002,1344.00,224.00\n", ":2 [数量]", "U+0000"),
])
def test_a_statement_cell_no_store_column_can_hold_is_exit_3_naming_it(store, capsys, row, where,
                                                                        words):
    code, r = verify(store, "huge", HEAD + row)
    err = capsys.readouterr().err
    assert code == 3 and r is None
    assert f"huge.csv{where}" in err and words in err and "Traceback" not in err


def test_a_statement_in_chinese_dates_and_yuan_amounts_reads_the_same(store):
    text = _correct().replace("2026-11-06", "2026年11月6日").replace(",224.00", ",¥224.00")
    code, r = verify(store, "cn", text)
    assert code == 0 and r["billed"]["amount"] == "1265.09"


def test_the_workbook_has_chinese_headers_frozen_rows_and_totals_as_formulas(store):
    code, r = verify(store, "book", HEAD + "14,SSL VPN接入,2026-11-01,2026-11-10,49,940.80,"
                     "1280.53\n" + CORRECT[16] + CORRECT[32])
    path = folder_of(store / "book.csv") / "verification.xlsx"
    wb = openpyxl.load_workbook(path)                 # formulas
    vals = openpyxl.load_workbook(path, data_only=True)  # the values recon cached
    assert wb.sheetnames == ["汇总", "明细", "依据（按连续相同的夜晚）"]
    lines = wb["明细"]
    head = [c.value for c in lines[1]]
    assert head[:6] == ["行号", "发票号码", "计费起", "计费止", "序号", "项目"]
    assert lines.freeze_panes == "A2" and wb["依据（按连续相同的夜晚）"].freeze_panes == "A2"
    col = {h: i + 1 for i, h in enumerate(head)}
    billed_col = lines.cell(1, col["账单金额（含税）"]).column_letter
    total = lines.cell(5, col["账单金额（含税）"])
    assert total.value == f"=SUM({billed_col}2:{billed_col}4)"
    assert total.number_format == "#,##0.00"
    # the cached totals are recon's figures, and they are what the formulas add up:
    # billed 1280.53 + 105.00 + 117.60 = 1503.13; accepted 1142.03 + 105.00 + 117.60 = 1364.63
    v = vals["明细"]
    for name, want in (("账单金额（含税）", "1503.13"), ("应核准金额", "1364.63"),
                       ("无数据夜价值（另列）", "128.05"), ("差额", "10.45")):
        c = col[name]
        cells = sum(Decimal(str(v.cell(row, c).value)) for row in range(2, 5))
        assert round(cells, 2) == Decimal(want) == round(Decimal(str(v.cell(5, c).value)), 2)
    diff = lines.cell(2, col["差额"]).value
    assert diff.startswith("=") and "-" in diff       # 差额 = 账单 - 核准 - 无数据
    s, sv = wb["汇总"], vals["汇总"]
    figures = {s.cell(row, 1).value: (s.cell(row, 2).value, sv.cell(row, 2).value,
                                      s.cell(row, 3).value) for row in range(1, 30)}
    formula, value, daxie = figures["应核准金额合计"]
    assert formula.startswith("=明细!") and round(Decimal(str(value)), 2) == Decimal("1364.63")
    assert daxie == "人民币壹仟叁佰陆拾肆元陆角叁分"
    # the penalty ledger is information (deducted once, at settlement): its counted total
    # is a SUMIF over the listed penalties, in column E beside its label
    (formula, value), = [(s.cell(row, 5).value, sv.cell(row, 5).value) for row in range(1, 40)
                         if s.cell(row, 4).value == "台账计入合计（仅供参考，不从本账单扣除）"]
    assert formula.startswith("=SUMIF(D") and '"计入"' in formula
    assert round(Decimal(str(value)), 2) == Decimal("1473.30")
    # the evidence: one row per run of alike nights (VPN: 11-01..04 measured 49, 11-03
    # measured 45 between, 11-05 failed, 11-06..10 measured 49; WAF and VAS one run each)
    assert wb["依据（按连续相同的夜晚）"].max_row == 1 + 5 + 1 + 1


def test_the_html_is_chinese_self_contained_and_escapes_statement_values(store):
    text = ("发票号码,序号,项目名称,计费起,计费止,数量,单价,金额\n"
            "<script>x</script>," + CORRECT[16] +
            "No2,,<img src=x onerror=alert(1)>,2026-11-06,2026-11-10,1,72.00,1.00\n"
            "No3,,=1+2,2026-11-06,2026-11-10,1,72.00,1.00\n")
    verify(store, "html", text)
    # a cell from the provider that looks like a formula stays text in the workbook
    book = openpyxl.load_workbook(folder_of(store / "html.csv") / "verification.xlsx")
    cell = book["明细"]["F4"]
    assert (cell.value, cell.data_type) == ("=1+2", "s")
    html = (folder_of(store / "html.csv") / "verification.html").read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    assert "<script>x" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x" in html
    # totals with their 大写: 105.00 + 1.00 + 1.00 billed
    assert "107.00" in html and "人民币壹佰零柒元整" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html


def test_an_item_no_source_measures_is_valued_apart_not_counted(store):
    # the same store read with a contract that says no source measures item 32 (source none):
    # 1209.60 x 7 / 72 = 117.60 billed; nothing accepted, 117.60 apart, difference 0.00
    items = (store / "items.csv").read_text("utf-8").splitlines()
    items = [ln.replace(",export,export_quantity", ",none,") if ln.startswith("32,") else ln
             for ln in items]
    (store / "items-none.csv").write_text("\n".join(items) + "\n", encoding="utf-8")
    cfg = store / "recon-none.toml"
    cfg.write_text((store / "recon.toml").read_text("utf-8").replace(
        str(store / "items.csv"), str(store / "items-none.csv")), "utf-8")
    path = store / "none.csv"
    path.write_text(HEAD + CORRECT[32], encoding="utf-8")
    code = main(["--config", str(cfg), "finance", "verify", str(path)])
    r = json.loads((folder_of(path) / "verification.json").read_text("utf-8"))
    (vas,) = line(r, 32)
    # nothing measured is nothing verified (issue 22.7): unverified, exit 1
    assert vas["statuses"] == ["unverified"] and code == 1
    assert (vas["accepted_amount"], vas["unknown_value"], vas["difference"]) == \
        ("0.00", "117.60", "0.00")
    assert len(vas["unknown_days"]) == 5 and {d["state"] for d in vas["runs"]} == {"not_measured"}
    assert "本项分配数量无计量" in vas["notes"][-1]


def test_days_outside_the_term_have_no_contracted_quantity(store):
    # 2026-07-01..07-31 for item 17: the term starts 07-10, so 07-01..07-09 carry 0 contracted;
    # day-weighted contracted = 74 x 22 / 31 = 52.516129 < 74; 173.40 x 74 / 12 = 1069.30 billed
    _, r = verify(store, "preterm", HEAD + "17,主机杀毒服务,2026-07-01,2026-07-31,74,173.40,1069.30\n")
    (av,) = line(r, 17)
    # its own status, not "quantity over contract": inside the term 74 is the contract's 74
    # and no night of its 22 days in the term was run: nothing of it could be verified
    assert av["statuses"] == ["outside_term", "unverified"] and av["contracted_qty"] == "52.516129"
    assert av["status_labels"] == ["计费期间超出服务期", "无法核实"]
    assert "9 天在服务期" in " ".join(av["notes"])
    # no night of July was run: the 22 in-term days are unknown (valued apart), none accepted:
    # 173.40 x 74 x 22 / 372 = 758.8580.. -> 758.86; difference 1069.30 - 758.86 = 310.44
    assert av["accepted_amount"] == "0.00" and len(av["unknown_days"]) == 22
    assert (av["unknown_value"], av["difference"]) == ("758.86", "310.44")


def test_an_item_on_two_lines_shares_one_contract_and_nothing_is_accepted_twice(store):
    # WAF split by resource, 20 + 5 = 25 (the contract): 302.40 x 20 / 72 = 84.00 and
    # 302.40 x 5 / 72 = 21.00, both ok, 105.00 accepted in all
    code, r = verify(store, "split_waf", _correct(
        i16="16,WAF,2026-11-06,2026-11-10,20,302.40,84.00\n"
            "16,WAF,2026-11-06,2026-11-10,5,302.40,21.00\n"))
    assert code == 0 and [ln["accepted_amount"] for ln in line(r, 16)] == ["84.00", "21.00"]
    # the same line billed twice: the second finds the contract used up (0 left), accepts
    # nothing, and its whole 105.00 is the difference
    code, r = verify(store, "twice", _correct(i16=CORRECT[16] * 2))
    first, second = line(r, 16)
    assert first["statuses"] == ["ok"]
    assert second["statuses"] == ["quantity_over_contract"] and second["contracted_qty"] == "0"
    assert (second["accepted_amount"], second["difference"]) == ("0.00", "105.00")
    assert code == 1 and r["difference"]["amount"] == "105.00"


def test_the_statements_own_total_row_is_checked_not_billed(store):
    # 合计 = 224.00 + 640.27 + 105.00 + 178.22 + 117.60 = 1265.09
    code, r = verify(store, "total_ok", _correct() +
                     "合计,,,,,,1265.09\n")
    assert code == 0 and len(r["lines"]) == 5 and r["billed"]["amount"] == "1265.09"
    assert r["statuses"] == [] and r["statement_notes"] == []
    text = HEAD.rstrip("\n") + ",价税合计大写\n" + "".join(
        ln.rstrip("\n") + ",\n" for ln in _correct().splitlines(keepends=True)[1:])
    # the total row says 1265.90 and a 大写 of 1265.00
    code, r = verify(store, "total_bad", text + ",合计,,,,,1265.90,人民币壹仟贰佰陆拾伍元整\n")
    assert code == 1 and r["statuses"] == ["arithmetic_error", "daxie_mismatch"]
    assert "1265.09" in r["statement_notes"][0]
    assert "人民币壹仟贰佰陆拾伍元零玖分" in r["statement_notes"][1]


def test_an_unlimited_quota_delivers_the_contract_and_a_use_only_item_is_valued_apart(
        workdir, monkeypatch):
    """One night through openstacksdk against the simulator: the load-balancer quota is -1
    (nothing caps delivery) and SNAT (item 30) is an item the API sees only in use."""
    from tests.test_openstack_evidence import night, serve, small

    with serve(small(load_balancer={"load_balancer": -1})) as sim:
        night(workdir, sim, monkeypatch, "2026-11-10")
    # one night of November: 1/360 of the term
    #   item 11: 134.40 x 48 / 360 = 17.92, all accepted (unlimited: the contract's 48 delivered)
    #   item 30: 2634.24 x 1 / 360 = 7.3173.. -> 7.32, nothing accepted, valued apart
    path = workdir / "one-night.csv"
    path.write_text(HEAD + "11,主机负载均衡服务,2026-11-10,2026-11-10,48,134.40,17.92\n"
                    "30,snat服务,2026-11-10,2026-11-10,1,2634.24,7.32\n", encoding="utf-8")
    main(["--config", str(workdir / "recon.toml"), "finance", "verify", str(path)])
    r = json.loads((folder_of(path) / "verification.json").read_text("utf-8"))
    lb, snat = line(r, 11)[0], line(r, 30)[0]
    assert lb["statuses"] == ["ok"] and lb["runs"][0]["state"] == "measured"
    assert (lb["accepted_amount"], lb["unknown_value"]) == ("17.92", "0.00")
    assert snat["statuses"] == ["unverified"] and snat["runs"][0]["state"] == "not_measured"
    assert (snat["accepted_amount"], snat["unknown_value"], snat["difference"]) == \
        ("0.00", "7.32", "0.00")


# -- issue 22: verdicts the provider cannot contest ------------------------------------
def test_a_statement_wholly_outside_the_term_has_its_own_status(store):
    # the term is 2026-07-10..2027-07-09: a line for July 2027's second half bills nothing
    # the contract holds; 75 is over the contract too, but only the term is the finding
    code, r = verify(store, "after", HEAD + "17,主机杀毒服务,2027-07-10,2027-07-31,75,173.40,"
                     "1.00\n")
    (av,) = line(r, 17)
    assert code == 1 and av["statuses"][0] == "outside_term"
    assert "quantity_over_contract" not in av["statuses"]
    assert av["accepted_amount"] == "0.00" and av["unknown_value"] == "0.00"
    # inside the term a quantity over the contract is still one
    _, r = verify(store, "straddle", HEAD + "17,主机杀毒服务,2026-07-01,2026-07-31,80,173.40,"
                  "1156.00\n")
    assert line(r, 17)[0]["statuses"][:2] == ["outside_term", "quantity_over_contract"]


def test_a_recurring_file_name_never_overwrites_last_months_verification(store):
    nov_a = _correct()
    nov_b = HEAD + CORRECT[16].replace("2026-11-06", "2026-11-07").replace("105.00", "84.00")
    code, first = verify(store, "结算单", nov_a)
    folder_a = folder_of(store / "结算单.csv")
    assert folder_a.parent == store / "out" / "finance"
    assert folder_a.name == "2026-11-06_2026-11-10-" + \
        hashlib.sha256(nov_a.encode()).hexdigest()[:6]
    before = (folder_a / "verification.json").read_bytes()
    verify(store, "结算单", nov_b)                       # same file name, other content
    folder_b = folder_of(store / "结算单.csv")
    assert folder_b != folder_a and folder_b.name.startswith("2026-11-07_2026-11-10-")
    assert (folder_a / "verification.json").read_bytes() == before
    # the same statement verified again keeps its own folder
    verify(store, "结算单", nov_a)
    assert folder_of(store / "结算单.csv") == folder_a
    index = json.loads((store / "out" / "index.json").read_text("utf-8"))
    listed = [f["report"] for f in index["finance"] if f["statement"] == "结算单"]
    assert f"finance/{folder_a.name}/verification.html" in listed
    assert f"finance/{folder_b.name}/verification.html" in listed


def test_a_file_named_dot_csv_writes_inside_out_finance(store):
    code, r = verify(store, "", _correct())            # the file is called ".csv"
    assert code == 0 and r["statement"] == ".csv"
    folder = folder_of(store / ".csv")
    assert folder.parent == store / "out" / "finance"
    assert not list((store / "out").glob("verification.*"))
    assert not list((store / "out" / "finance").glob("verification.*"))


def test_a_digest_collision_never_takes_another_statements_folder(store, tmp_path, contract):
    from recon.finance.statements import read_statement
    from recon.finance.verify import output_folder

    path = tmp_path / "s.csv"
    path.write_text(_correct(), encoding="utf-8")
    st = read_statement(path, contract)
    a, b = "abcdef" + "1" * 58, "abcdef" + "2" * 58     # the same first 6 characters
    fa = output_folder(tmp_path / "finance", st, a)
    fa.mkdir(parents=True)
    (fa / "verification.json").write_text(json.dumps({"sha256": a}), "utf-8")
    assert output_folder(tmp_path / "finance", st, a) == fa
    fb = output_folder(tmp_path / "finance", st, b)
    assert fb != fa and fb.name.endswith("-abcdef222222")


def test_verify_out_elsewhere_writes_only_the_finance_folder(store, tmp_path):
    other = tmp_path / "elsewhere"
    path = store / "out-elsewhere.csv"
    path.write_text(_correct(), encoding="utf-8")
    idx = store / "out" / "index.json"
    index = idx.read_bytes() if idx.exists() else None
    assert main(["--config", str(store / "recon.toml"), "finance", "verify", str(path),
                 "--out", str(other)]) == 0
    written = sorted(p.relative_to(other).as_posix() for p in other.rglob("*") if p.is_file())
    folder = folder_of(path, other).name
    assert written == [f"finance/{folder}/verification.{ext}" for ext in ("html", "json", "xlsx")]
    # the configured report folder's index is left as it was: the verification is not there
    assert (idx.read_bytes() if idx.exists() else None) == index


def test_text_that_looks_like_a_formula_keeps_the_quote_prefix(store):
    text = ("发票号码,序号,项目名称,计费起,计费止,数量,单价,金额\n"
            "+86 10," + CORRECT[16] +
            "-1,,=1+2,2026-11-06,2026-11-10,1,72.00,1.00\n"
            "@x,,@SUM(A1),2026-11-06,2026-11-10,1,72.00,1.00\n")
    verify(store, "formula", text)
    book = openpyxl.load_workbook(folder_of(store / "formula.csv") / "verification.xlsx")
    ws = book["明细"]
    cells = {ws.cell(r, c).value: ws.cell(r, c) for r in range(2, 5) for c in (2, 6)}
    for value in ("+86 10", "-1", "=1+2", "@x", "@SUM(A1)"):
        assert cells[value].data_type == "s" and cells[value].quotePrefix, value
    assert ws.cell(2, 6).value and not ws.cell(2, 6).quotePrefix   # an ordinary text cell


def test_a_negative_unit_price_is_refused_like_a_negative_quantity(store, capsys):
    code, r = verify(store, "negprice", HEAD + "16,WAF,2026-11-06,2026-11-10,25,-302.40,-105.00\n")
    assert code == 3 and r is None
    assert "negprice.csv:2 [单价]" in capsys.readouterr().err
    assert folder_of(store / "negprice.csv") is None


def test_a_statement_above_the_size_limit_is_refused_before_reading(store, capsys, monkeypatch):
    from recon.cli import finance as cli_finance

    path = store / "big.csv"
    path.write_text(_correct() + "\n", encoding="utf-8")      # bytes no other test verifies
    monkeypatch.setattr(cli_finance, "MAX_STATEMENT_BYTES", path.stat().st_size - 1)
    monkeypatch.setattr(cli_finance, "read_statement",
                        lambda *a: pytest.fail("a file over the limit must not be read"))
    assert main(["--config", str(store / "recon.toml"), "finance", "verify", str(path)]) == 3
    assert "larger than" in capsys.readouterr().err
    assert folder_of(path) is None


# -- issue 22.7: nothing verified is not 核对无误 ---------------------------------------------
OCTOBER = {12: "12,远程接入服务,2026-10-01,2026-10-31,10,1344.00,1120.00\n",
           14: "14,SSL VPN接入,2026-10-01,2026-10-31,49,940.80,3841.60\n",
           16: "16,WAF,2026-10-01,2026-10-31,25,302.40,630.00\n",
           17: "17,主机杀毒服务,2026-10-01,2026-10-31,74,173.40,1069.30\n",
           32: "32,增值服务,2026-10-01,2026-10-31,7,1209.60,705.60\n"}


def test_a_period_with_no_measured_night_is_unverified_and_exits_1(store):
    # October: no night ran (the store holds 11-01..11-10).  Every line's arithmetic holds
    # (a whole month is 1/12), and it used to say 5 lines 正确, accepted 0.00, exit 0
    code, r = verify(store, "october", HEAD + "".join(OCTOBER[n] for n in ITEMS))
    assert code == 1
    assert [ln["statuses"] for ln in r["lines"]] == [["unverified"]] * 5
    assert r["counts"]["ok"] == 0 and r["counts"]["unverified"] == 5
    assert r["accepted"]["amount"] == "0.00"
    # 1120.00 + 3841.60 + 630.00 + 1069.30 + 705.60: every fen of it could not be verified
    assert r["unverified_billed"]["amount"] == r["unknown_value"]["amount"] == "7366.50"
    assert "核对无误" not in r["exit_label"] and "7,366.50" in r["exit_label"]
    assert all(d["state"] == "not_run" and d["state_label"] == "未运行"
               for ln in r["lines"] for d in ln["runs"])
    html = (folder_of(store / "october.csv") / "verification.html").read_text("utf-8")
    assert "无法核实" in html and "核对无误" not in html


def test_nights_not_run_failed_and_still_to_come_are_three_words(store):
    # item 14 over 10-31..11-12: 10-31 never ran, 11-05 ran with its export rejected, 11-11
    # and 11-12 come after the newest stored night (11-10); the line has measured nights, so
    # it is checked (billed_over_delivered: 45 on 11-03) and the rest is valued apart
    _, r = verify(store, "three", HEAD + "14,SSL VPN接入,2026-10-31,2026-11-12,49,940.80,"
                  "1665.63\n")
    (vpn,) = line(r, 14)
    states = {day: (d["state"], d["state_label"]) for day, d in nights(vpn).items()}
    assert states["2026-10-31"] == ("not_run", "未运行")
    assert states["2026-11-05"] == ("unknown", "采集失败")
    assert states["2026-11-11"] == states["2026-11-12"] == ("future", "未到")
    assert states["2026-11-04"] == ("measured", "已计量")
    assert "unverified" not in vpn["statuses"]
    assert "采集失败 1 晚、未运行 1 晚、未到 2 晚" in " ".join(vpn["notes"])
    assert vpn["unknown_days"] == ["2026-10-31", "2026-11-05", "2026-11-11", "2026-11-12"]


def test_many_lines_of_one_item_over_different_periods_match_each_line_verified_alone(store):
    # one statement bills items 14 and 12 on many lines, each line its own days (none shared
    # with another line of its item): 10-31 never ran, 11-03 measured 45, 11-05 rejected,
    # 11-06 the supplementary contract of item 12, 11-11.. after the newest night.  Computed
    # together (one read of the store, days grouped into runs), each line's figures and
    # nights must be what the same line gets verified alone
    def text(item, start, end, qty):
        no, name, price = {14: (14, "SSL VPN接入", Decimal("940.80")),
                           12: (12, "远程接入服务", Decimal("1344.00"))}[item]
        days = (end - start).days + 1
        amount = (price * qty * days / 360).quantize(Decimal("0.01"))
        return f"{no},{name},{start},{end},{qty},{price},{amount}\n"

    d = date.fromisoformat
    rows = [text(14, d("2026-10-31"), d("2026-11-02"), 49), text(12, d("2026-11-01"),
            d("2026-11-04"), 10), text(14, d("2026-11-03"), d("2026-11-03"), 49),
            text(14, d("2026-11-04"), d("2026-11-05"), 47), text(12, d("2026-11-05"),
            d("2026-11-07"), 12), text(14, d("2026-11-06"), d("2026-11-06"), 50),
            text(14, d("2026-11-07"), d("2026-11-09"), 49), text(12, d("2026-11-08"),
            d("2026-11-12"), 11), text(14, d("2026-11-10"), d("2026-11-12"), 49)]
    _, together = verify(store, "many", HEAD + "".join(rows))
    figures = ("item_no", "share", "contracted_qty", "delivered_qty", "billed_amount",
               "expected_amount", "accepted_amount", "unknown_value", "difference",
               "price_difference", "statuses", "notes", "unknown_days", "runs")
    assert len(together["lines"]) == len(rows)
    for n, (row, got) in enumerate(zip(rows, together["lines"])):
        _, alone = verify(store, f"alone{n}", HEAD + row)
        assert {k: got[k] for k in figures} == {k: alone["lines"][0][k] for k in figures}, row
    # and the figures are the ones a person computes: 11-03 alone accepts 45 of 49
    # (940.80 x 45 / 360 = 117.60), 11-04..11-05 one measured night at 47 and 11-05 apart
    third, fourth = together["lines"][2], together["lines"][3]
    assert (third["accepted_amount"], third["statuses"]) == ("117.60", ["billed_over_delivered"])
    assert (fourth["accepted_amount"], fourth["unknown_value"]) == ("122.83", "122.82")


def test_lines_with_the_same_nights_share_one_block_of_evidence_in_the_workbook(store):
    # WAF billed on two lines of 10 each (a statement per resource): each is accepted 10 on
    # the same five nights, so the evidence sheet shows that run once, for lines 2–3; the
    # JSON still gives each line its own runs
    code, r = verify(store, "same_nights", HEAD + "16,WAF,2026-11-06,2026-11-10,10,302.40,42.00\n"
                     * 2 + CORRECT[32])
    assert code == 1 and [len(ln["runs"]) for ln in r["lines"]] == [1, 1, 1]   # 16 short of 25
    assert [ln["runs"][0]["nights"] for ln in r["lines"]] == [5, 5, 5]
    assert r["lines"][0]["runs"] == r["lines"][1]["runs"]
    ws = openpyxl.load_workbook(folder_of(store / "same_nights.csv") / "verification.xlsx")[
        "依据（按连续相同的夜晚）"]
    assert ws.max_row == 1 + 1 + 1
    assert [ws.cell(row, 1).value for row in (2, 3)] == ["2–3", 4]
    assert [ws.cell(row, 2).value for row in (2, 3)] == [16, 32]


def test_the_json_is_byte_for_byte_what_the_generic_writer_writes(store):
    # verification.json is written line by line with shared nights pasted (fast at 60,000
    # lines): it must be the bytes reports.common.to_json writes, for nights shared by two
    # lines, a line with none (unknown item), empty and filled tax cells, and text that JSON
    # escapes (a quote, a backslash, a tag, Chinese)
    path = store / "bytes.csv"
    path.write_text(TAX_HEAD +
                    '"No""1\\x</y>",16,WAF,2026-11-06,2026-11-10,10,302.40,39.62,6%,2.38,42.00,'
                    '人民币肆拾贰元整\n' * 2 +
                    "No2,40,对象存储,2026-11-06,2026-11-10,1,100.00,1.39,,,,\n"
                    "No3,14,SSL VPN接入,2026-11-01,2026-11-12,49,940.80,1000.00,,,,\n",
                    encoding="utf-8")
    config = load_config(store / "recon.toml")
    contract = load_contract(config)
    statement = read_statement(path, contract)
    with current(store_path(config, None), config.lock_wait) as db:
        v = verification.verify(statement, contract, db, load_mapping(config.mapping_path,
                                                                        contract), config)
    report = build_finance(v, contract)
    assert report.lines[0].runs is report.lines[1].runs and report.lines[2].runs == []
    assert report.lines[0].invoice_no == 'No"1\\x</y>'
    assert report.to_json() == to_json(report)
