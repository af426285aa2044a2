"""Written notices (书面通知): the letter drafted as DOCX and PDF, the day it went out, and the
penalties that rest on it (附件3第3、4条) counted only once its deadline passed unmet.

One store: nights 2026-11-09 .. 2026-11-17 from console exports, item 9 (internet
bandwidth) at 3,500 Mbps every night; scaling request KR-1 asks for 4,000 on 2026-11-02
(day 7 = 11-09); the incidents ledger fails July, August and September (a 4- and two
10-minute outages) and October (O-1) for the monthly rule.
"""
from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest

from recon import conclude, penalties
from recon.ledgers import notices, scaling
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.nightly import Night
from recon.progress import Progress
from recon.store import Store
from tests.conftest import write_config

INCIDENTS = """事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注
J-1,门户网站,否,故障,2026-07-20 10:00,2026-07-20 10:03,,,2026-07-20 10:04,是,,否,,否,
A-1,门户网站,否,故障,2026-08-15 10:00,2026-08-15 10:05,,,2026-08-15 10:10,是,,否,,否,
S-1,门户网站,否,故障,2026-09-10 10:00,2026-09-10 10:05,,,2026-09-10 10:10,是,,否,,否,
O-1,门户网站,否,故障,2026-10-25 10:00,2026-10-25 10:05,,,2026-10-25 10:10,是,,否,,否,
"""
#: the name carries markup and a control character: values from files are escaped
SCALING = """申请编号,序号,目标数量,申请时间,备注
KR-1,9,4000,2026-11-02 10:00,带宽扩容
"""
NIGHTS = [date(2026, 11, 9) + timedelta(days=n) for n in range(9)]


def cli(folder, *args) -> int:
    return main(["--config", str(folder / "recon.toml"), *args])


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notices")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    cfg = write_config(folder)
    contract = load_contract(load_config(cfg))
    for day in NIGHTS:
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        rows = ["序号,订购数量,使用数量"] + [
            f"{i.item_no},{3500 if i.item_no == 9 else i.quantity},{i.quantity * 9 // 10}"
            for i in contract.items.values()]
        (d / "console.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    (folder / "scaling.csv").write_text(SCALING, encoding="utf-8")
    assert cli(folder, "scaling", "import", str(folder / "scaling.csv")) == 0
    assert cli(folder, "incidents", "import", str(folder / "incidents.csv")) == 0
    night = Night(load_config(cfg), progress=Progress(quiet=True))
    for day in NIGHTS:
        night.run(day, folder / "recon.duckdb", folder / "out")
    return folder


def ledger(folder, until: date) -> dict[str, penalties.PenaltyLine]:
    config = load_config(folder / "recon.toml")
    contract = load_contract(config)
    with Store(folder / "recon.duckdb", read_only=True) as store:
        return {p.key: p for p in penalties.ledger(store, contract, config, until)}


def docx_text(path) -> tuple[list[str], list[list[str]]]:
    import docx

    doc = docx.Document(str(path))
    return ([p.text for p in doc.paragraphs],
            [[c.text for c in row.cells] for t in doc.tables for row in t.rows])


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout


# -- the scaling notice (附件3第4条) ---------------------------------------------------------
def test_scaling_letter_has_every_element_and_the_evidence(store_dir, capsys):
    assert cli(store_dir, "notice", "draft", "--kind", "scaling", "--ref", "KR-1",
               "--deadline", "2026-11-15", "--date", "2026-11-10") == 0
    out = capsys.readouterr().out
    assert "TZ-2026-001: drafted" in out
    folder = store_dir / "out" / "notices" / "TZ-2026-001"
    paras, table = docx_text(folder / "TZ-2026-001.docx")
    text = "\n".join(paras)
    assert "关于限期完成扩容申请KR-1的通知" in paras                     # 标题
    assert "乙方：" in paras                                            # 主送: the provider
    assert "附件3《一般违约行为表》第4条" in text and "经管理单位书面通知仍未能限期满足" in text
    assert "请于2026年11月15日前完成上述扩容" in text                     # the deadline
    assert "甲方" in paras and "2026年11月10日" in paras                 # 落款, 日期
    assert "编号：TZ-2026-001" in paras
    assert "实测分配数量为 3,500 Mbps" in text and "2026年11月9日" in text   # facts: day 7
    assert table[0] == ["日期", "第几天", "实测分配", "目标", "结论"]
    assert ["2026-11-09", "7", "3,500 Mbps", "4,000 Mbps", "低于目标"] in table
    assert ["2026-11-02", "0", "-", "4,000 Mbps", "未能采集"] in table
    pdf = pdf_text(folder / "TZ-2026-001.pdf")
    for words in ("关于限期完成扩容申请KR-1的通知", "乙方：", "附件3《一般违约行为表》第4条",
                  "2026年11月15日", "2026年11月10日", "低于目标"):
        assert words in pdf.replace(" ", ""), words


def test_the_same_draft_gives_the_same_bytes(store_dir, capsys):
    folder = store_dir / "out" / "notices" / "TZ-2026-001"
    args = ("notice", "draft", "--kind", "scaling", "--ref", "KR-1", "--deadline",
            "2026-11-15", "--date", "2026-11-10")
    assert cli(store_dir, *args) == 0
    first = {p: (folder / p).read_bytes() for p in ("TZ-2026-001.docx", "TZ-2026-001.pdf")}
    assert cli(store_dir, *args) == 0
    assert "TZ-2026-001: unchanged" in capsys.readouterr().out
    for name, data in first.items():
        assert (folder / name).read_bytes() == data, name
    with zipfile.ZipFile(io.BytesIO(first["TZ-2026-001.docx"])) as z:
        core = z.read("docProps/core.xml").decode()
        assert {i.date_time for i in z.infolist()} == {(2026, 11, 10, 0, 0, 0)}
    assert "2026-11-10T00:00:00Z" in core
    # the ledger names the files relative to OUT: the same folder spelled another way is
    # the same draft, not a new revision
    assert cli(store_dir, *args, "--out", str(store_dir / "out" / "notices" / "..")) == 0
    assert "TZ-2026-001: unchanged" in capsys.readouterr().out
    with Store(store_dir / "recon.duckdb", read_only=True) as store:
        files = sorted(dict(f)["path"] for f in notices.get(store, "TZ-2026-001").files)
    assert files == ["notices/TZ-2026-001/TZ-2026-001.docx",
                     "notices/TZ-2026-001/TZ-2026-001.pdf"]


def test_no_penalty_before_the_notice_is_sent_or_its_deadline_passed(store_dir, capsys):
    # drafted only: nothing rests on it; the request is overdue, no penalty
    assert "scaling:KR-1" not in ledger(store_dir, date(2026, 11, 17))
    assert cli(store_dir, "notice", "sent", "TZ-2026-001", "--date", "2026-11-10") == 0
    assert "sent on 2026-11-10" in capsys.readouterr().out
    # the deadline 11-15 has not passed on 11-15: still nothing
    assert "scaling:KR-1" not in ledger(store_dir, date(2026, 11, 15))
    pen = ledger(store_dir, date(2026, 11, 16))["scaling:KR-1"]
    assert pen.status == "counted" and pen.amount == Decimal("48659.30")
    assert pen.dated == date(2026, 11, 16)
    assert "TZ-2026-001（2026-11-10 发出）期限 2026-11-15 已过" in pen.reason


def test_the_notice_overrides_the_csv_columns_and_a_later_notice_moves_the_deadline(store_dir):
    config = load_config(store_dir / "recon.toml")
    contract = load_contract(config)
    with Store(store_dir / "recon.duckdb", read_only=True) as store:
        st = {s.request.request_id: s for s in scaling.states(store, contract, date(2026, 11, 16))}
        before = {s.request.request_id: s for s in scaling.states(store, contract,
                                                                   date(2026, 11, 9))}
    assert st["KR-1"].request.notice_id == "TZ-2026-001"
    assert st["KR-1"].state == "notice_overdue" and st["KR-1"].penalty_applies
    # on a night before the notice went out, the state knows nothing of it
    assert before["KR-1"].request.notice_id is None


def test_list_says_where_each_notice_stands(store_dir, capsys):
    assert cli(store_dir, "notice", "list", "--date", "2026-11-13") == 0
    out = capsys.readouterr().out
    assert ("TZ-2026-001  CMBJ-202602732  scaling(扩容限期通知)  KR-1  2026-11-10  2026-11-10  "
            "2026-11-15") in out   # the contract the letter is under
    assert "期限 2026-11-15，还有 2 天" in out
    assert cli(store_dir, "notice", "list", "--date", "2026-11-17", "--history") == 0
    out = capsys.readouterr().out
    assert "unmet(期限已过未满足)：期限 2026-11-15 已过未满足，自 2026-11-16 起逾期" in out
    assert "rev 2: drafted 2026-11-10, deadline 2026-11-15, sent 2026-11-10" in out


def test_nightly_report_shows_the_open_notice_and_the_message_names_it(store_dir):
    from recon import notify
    from reports.nightly import build_nightly

    config = load_config(store_dir / "recon.toml")
    contract = load_contract(config)
    with Store(store_dir / "recon.duckdb") as store:
        conclude.night(store, contract, config, date(2026, 11, 13))
        rep = build_nightly(store, contract, date(2026, 11, 13), 1, config)
        late = build_nightly(store, contract, date(2026, 11, 16), 1, config)
    assert [(n.notice_id, n.days_left, n.falls_due) for n in rep.notices] == \
        [("TZ-2026-001", 2, True)]
    msg = notify.build_message(rep, None, None)
    assert "TZ-2026-001" in msg.markdown and "还有 2 天" in msg.markdown
    assert msg.data["notices"][0]["notice_id"] == "TZ-2026-001"
    assert late.notices[0].overdue_since == date(2026, 11, 16)
    from reports.nightly import _render

    import re

    text = re.sub(r"<[^>]+>", "", _render(late))
    assert "书面通知（未结，截至本日）" in text and "自 2026-11-16 起逾期" in text
    assert "TZ-2026-001" in text


def test_a_bad_draft_is_refused(store_dir, capsys):
    assert cli(store_dir, "notice", "draft", "--kind", "scaling", "--ref", "KR-404",
               "--deadline", "2026-11-20", "--date", "2026-11-10") == 3
    assert "no scaling request 'KR-404'" in capsys.readouterr().err
    assert cli(store_dir, "notice", "draft", "--kind", "scaling", "--ref", "KR-1",
               "--date", "2026-11-10") == 3
    assert "[--deadline]" in capsys.readouterr().err
    assert cli(store_dir, "notice", "sent", "TZ-2026-099", "--date", "2026-11-10") == 3


# -- the rectification notice (附件3第3条, 第十二条4) ------------------------------------------
def test_rectification_counts_only_after_its_deadline_and_a_failed_month(store_dir, capsys):
    assert cli(store_dir, "report", "monthly", "--month", "2026-09") == 0
    pen = ledger(store_dir, date(2026, 9, 30))["monthly:2026-09"]
    assert pen.status == "pending" and "限期整改" in pen.reason
    assert cli(store_dir, "notice", "draft", "--kind", "rectification", "--ref", "2026-09",
               "--deadline", "2026-10-20", "--date", "2026-10-08") == 0
    assert "TZ-2026-002: drafted" in capsys.readouterr().out
    folder = store_dir / "out" / "notices" / "TZ-2026-002"
    paras, table = docx_text(folder / "TZ-2026-002.docx")
    text = "\n".join(paras)
    assert "关于月度考核连续未通过限期整改的通知" in paras
    assert "2026年7月、2026年8月、2026年9月连续 3 个月未通过考核" in text
    assert "第十二条第4款" in text and "请针对附件所列未达标事项进行整改，于2026年10月20日前" in text
    assert table[0] == ["月份", "考核项", "依据", "标准", "本月数值", "结论"]
    assert ["2026年9月", "云服务可用性", "第三条、附件3第1条", "≥ 99.99%", "99.9769%",
            "未通过"] in table
    # recon's own reference criterion (data completeness) is no failure of the provider's
    assert not [r for r in table if r[1] == "核对数据完整性"]
    assert cli(store_dir, "notice", "sent", "TZ-2026-002", "--date", "2026-10-08") == 0
    # before the deadline: pending, naming the notice
    pen = ledger(store_dir, date(2026, 10, 15))["monthly:2026-09"]
    assert pen.status == "pending" and "TZ-2026-002" in pen.reason
    assert "期限届满且 2026-10 月度考核仍未通过方可计收" in pen.reason
    # October fails as well (O-1): counted, dated the month's end, resting on the notice
    assert cli(store_dir, "report", "monthly", "--month", "2026-10") == 0
    pen = ledger(store_dir, date(2026, 10, 31))["monthly:2026-09"]
    assert pen.status == "counted" and pen.dated == date(2026, 10, 31)
    assert "TZ-2026-002（2026-10-08 发出）整改期限 2026-10-20 已过，2026-10 仍未通过考核" in pen.reason
    monthly = (store_dir / "out" / "monthly" / "2026-10" / "assessment.html").read_text("utf-8")
    assert "TZ-2026-002" in monthly
