"""Issue 24 point 7: text that reorders itself never reaches a person as it would read.

A name with a right-to-left override (U+202E), "rtl\u202egpj.exe", reads "rtlexe.jpg" on a
page.  Every human-facing output (nightly.html, the monthly HTML and PDF, the finance
workbook and page, the ledger listings) shows it as "rtl[U+202E]gpj.exe"; the JSON keeps the
value verbatim.  A long incident note is cut with "…" saying where the whole text is.
"""
from __future__ import annotations

import json
import subprocess

import openpyxl

from recon.cli import main
from tests.conftest import EXPORT_HEADER

RLO = "\u202e"
NAME = f"rtl{RLO}gpj.exe"
SHOWN = "rtl[U+202E]gpj.exe"
DAY = "2026-11-10"


def recon(workdir, *argv) -> int:
    return main(["--config", str(workdir / "recon.toml"), *argv])


def test_a_name_with_an_override_is_shown_escaped_in_the_nightly_page_json_verbatim(workdir):
    (workdir / "exports" / "odd-2026-11-10.csv").write_text(
        EXPORT_HEADER + f",{NAME},id-{NAME},{NAME},1,1,个\n", encoding="utf-8")
    assert recon(workdir, "run", "--date", DAY, "-q") == 1
    html = (workdir / "out" / DAY / "nightly.html").read_text(encoding="utf-8")
    assert SHOWN in html and RLO not in html
    rep = (workdir / "out" / DAY / "nightly.json").read_text(encoding="utf-8")
    assert NAME in rep  # the machine's copy is the value as it came


def test_the_monthly_pdf_and_page_show_the_override_and_cut_a_long_note(workdir, capsys):
    note = "长" * 10_000
    (workdir / "incidents.csv").write_text(
        "事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,"
        "是否中断服务,影响,投诉,事件级别,重大损失,备注\n"
        f"R-1,{NAME},否,故障,2026-11-10 10:00,2026-11-10 10:03,,,2026-11-10 10:04,是,"
        f"{NAME},否,,否,{note}\n", encoding="utf-8")
    assert recon(workdir, "incidents", "import", str(workdir / "incidents.csv")) == 0
    assert recon(workdir, "incidents", "list") == 0
    listed = capsys.readouterr().out
    assert SHOWN in listed and RLO not in listed
    assert recon(workdir, "run", "--date", DAY, "-q") == 1
    assert recon(workdir, "report", "monthly", "--month", "2026-11") in (0, 1, 2)
    folder = workdir / "out" / "monthly" / "2026-11"
    html = (folder / "assessment.html").read_text(encoding="utf-8")
    assert SHOWN in html and RLO not in html
    assert "…（全文 10000 字，见 assessment.json 的 incidents）" in html
    assert note not in html
    text = subprocess.run(["pdftotext", str(folder / "assessment.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "rtlexe.jpg" not in flat and RLO not in text
    assert "U+202E" in flat and "全文10000字" in flat
    data = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert NAME in json.dumps(data, ensure_ascii=False) and note in json.dumps(
        data, ensure_ascii=False)


def test_the_finance_workbook_and_page_show_the_override(workdir):
    assert recon(workdir, "run", "--date", DAY, "-q") == 1
    path = workdir / "statement.csv"
    path.write_text("发票号码,序号,项目名称,计费起,计费止,数量,单价,金额\n"
                    f"{NAME},17,{NAME},2026-11-10,2026-11-10,74,1.00,74.00\n", encoding="utf-8")
    assert recon(workdir, "finance", "verify", str(path)) in (0, 1, 2)
    [out] = (workdir / "out" / "finance").glob("2026-11-10_2026-11-10-*")  # period + digest
    book = openpyxl.load_workbook(out / "verification.xlsx")
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert any(SHOWN in c for c in cells), cells[:40]
    assert not any(RLO in c for c in cells)
    html = (out / "verification.html").read_text(encoding="utf-8")
    assert SHOWN in html and RLO not in html
