"""The materials ledger (验收材料, 第六条): each file's sha256 recorded, the file never altered,
a bad list refused whole naming its line and column; the acceptance notice lists them."""
from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from recon.cli import main
from recon.ledgers import materials
from recon.store import Store


def cli(folder, *args) -> int:
    return main(["--config", str(folder / "recon.toml"), "materials", *args])


def files(folder):
    docs = folder / "docs"
    docs.mkdir(exist_ok=True)
    made = {}
    for name, body in (("运维月报-2026-11.pdf", b"%PDF monthly report"),
                       ("漏扫报告.pdf", b"%PDF scan <script>x</script>")):
        (docs / name).write_bytes(body)
        os.utime(docs / name, (1_700_000_000, 1_700_000_000))
        made[name] = body
    return docs, made


def test_add_records_the_sha256_and_never_touches_the_file(workdir, capsys):
    docs, made = files(workdir)
    path = docs / "运维月报-2026-11.pdf"
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode)
    assert cli(workdir, "add", "--name", "运维月报", "--period", "2026-11", "--received",
               "2026-12-03", "--file", str(path)) == 0
    digest = hashlib.sha256(made[path.name]).hexdigest()
    assert f"sha256 {digest}" in capsys.readouterr().out
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_mode) == before
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        (m,) = materials.latest(store)
    assert (m.name, m.period, str(m.received_on), m.sha256, m.size) == \
        ("运维月报", "2026-11", "2026-12-03", digest, len(made[path.name]))
    # the same again adds nothing; a new file for the same name and period is a revision
    assert cli(workdir, "add", "--name", "运维月报", "--period", "2026-11", "--received",
               "2026-12-03", "--file", str(path)) == 0
    assert "unchanged" in capsys.readouterr().out
    path.write_bytes(b"%PDF corrected")
    assert cli(workdir, "list", "--verify") == 0
    assert f"{digest}  {len(made[path.name])}  {path}  changed" in capsys.readouterr().out
    assert cli(workdir, "add", "--name", "运维月报", "--period", "2026-11", "--received",
               "2026-12-05", "--file", str(path)) == 0
    with Store(workdir / "recon.duckdb", read_only=True) as store:
        revs = materials.history(store, "运维月报", "2026-11")
    assert [r.revision for r in revs] == [1, 2] and revs[0].sha256 == digest


def test_import_reads_every_row_and_names_what_is_missing(workdir, capsys):
    docs, made = files(workdir)
    lst = workdir / "materials.csv"
    lst.write_bytes(("材料名称,期间,收到日期,文件,备注\n"
                     "运维月报,中期验收,2027年1月5日,docs/运维月报-2026-11.pdf,\n"
                     "漏扫报告,中期验收,2027-01-06,docs/漏扫报告.pdf,第三方\n").encode("gbk"))
    assert cli(workdir, "import", str(lst)) == 0
    assert "2 materials read, 2 new or changed" in capsys.readouterr().out
    assert cli(workdir, "list", "--period", "中期验收", "--verify") == 0
    out = capsys.readouterr().out
    assert out.count("unchanged") == 2
    assert "第六条 materials not received for 中期验收: 运维记录、年报、云平台巡检报告" in out


@pytest.mark.parametrize("row, column, why", [
    ("运维月报,2026-11,2026-13-01,docs/漏扫报告.pdf", "收到日期", "not a date"),
    ("运维月报,2026-11,2026-12-01,docs/没有这个文件.pdf", "文件", "no such file"),
    (",2026-11,2026-12-01,docs/漏扫报告.pdf", "材料名称", "empty"),
    ("漏扫报告,2026-11,2026-12-01,docs/漏扫报告.pdf", "材料名称", "appears twice"),
])
def test_a_bad_row_names_file_line_and_column_and_records_nothing(workdir, capsys, row, column,
                                                                   why):
    files(workdir)
    lst = workdir / "bad.csv"
    lst.write_text("材料名称,期间,收到日期,文件\n漏扫报告,2026-11,2026-12-01,docs/漏扫报告.pdf\n"
                   + row + "\n", encoding="utf-8")
    assert cli(workdir, "import", str(lst)) == 3
    err = capsys.readouterr().err
    assert f"bad.csv:3 [{column}]" in err and why in err
    with Store(workdir / "recon.duckdb") as store:
        assert materials.latest(store) == []


def test_the_acceptance_notice_lists_the_materials_and_what_is_missing(workdir, capsys):
    import docx

    docs, made = files(workdir)
    assert cli(workdir, "add", "--name", "漏扫报告", "--period", "中期验收", "--received",
               "2027-01-06", "--file", str(docs / "漏扫报告.pdf")) == 0
    assert main(["--config", str(workdir / "recon.toml"), "notice", "draft", "--kind",
                 "acceptance", "--ref", "中期验收", "--date", "2027-01-12",
                 "--note", "巡检报告缺失<b>"]) == 0
    out = capsys.readouterr().out
    assert "TZ-2027-001: drafted" in out and "deadline 2027-01-17" in out   # 第六条: 5 days
    folder = workdir / "out" / "notices" / "TZ-2027-001"
    doc = docx.Document(str(folder / "TZ-2027-001.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "关于中期验收验收不合格限期返工的通知" in text
    assert "验收意见：巡检报告缺失<b>" in text and "合同第六条" in text
    assert "运维记录、运维月报、年报、云平台巡检报告尚未提交" in text
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    digest = hashlib.sha256(made["漏扫报告.pdf"]).hexdigest()
    assert ["漏扫报告", "中期验收", "2027-01-06", "漏扫报告.pdf", digest] in rows
    assert ["年报", "中期验收", "未提交", "-", "-"] in rows
    pdf = subprocess.run(["pdftotext", str(folder / "TZ-2027-001.pdf"), "-"],
                         capture_output=True, text=True, check=True).stdout
    assert "巡检报告缺失<b>" in pdf.replace("\n", "")
