"""The nightly page as a Chinese reader signs it: total with 大写, units, links, reasons, escaping."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
import yaml

from connectors.base import SourceResult
from connectors.exports import split_name
from recon import labels
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.demo import run_demo
from recon.reconcile import QTY_MACRO, reconcile
from recon import conclude
from reports.nightly import build_nightly, write_nightly
from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer, clouds_yaml
from recon.store import Store
from tests.conftest import write_config

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"


def run(workdir: Path, day: str) -> int:
    return main(["--config", str(workdir / "recon.toml"), "run", "--date", day, "-q"])


def page(workdir: Path, day: str) -> str:
    return (workdir / "out" / day / "nightly.html").read_text(encoding="utf-8")


def data(workdir: Path, day: str) -> dict:
    return json.loads((workdir / "out" / day / "nightly.json").read_text(encoding="utf-8"))


class _Cells(HTMLParser):
    """Text of each <td>, and every href, as a browser would read them."""

    def __init__(self):
        super().__init__()
        self.cells, self.hrefs, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._cell = []
        if tag == "a":
            self.hrefs.append(dict(attrs)["href"])
        if tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, text):
        if self._cell is not None:
            self._cell.append(text)


def parse(html: str) -> _Cells:
    p = _Cells()
    p.feed(html)
    return p


def first_chinese(text: str) -> bool:
    return bool(text) and "\u4e00" <= text.strip()[0] <= "\u9fff"


@pytest.fixture
def cloud(workdir, monkeypatch):
    """The small scenario on loopback as cloud 'sim' on 2026-11-03; servers and unmapped volumes
    named <script>; the sample exports dropped in the 2026-11-03 folder, to count that night."""
    night = workdir / "exports" / "2026-11-03"
    night.mkdir()
    for f in (workdir / "exports").glob("*.*"):
        f.rename(night / (split_name(f)[0] + f.suffix))
    raw = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    for step in raw["timeline"]:
        for kind in ("servers", "volumes"):
            for group in step.get("create", {}).get(kind, []):
                if kind == "servers" or group["type"] == "legacy-sas":  # the unmapped ones
                    group["name"] = "<script>alert(1)</script>" + group["name"]
    with SimServer(parse_scenario(raw), today=date(2026, 11, 3)) as sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        yield sim


def test_header_shows_the_contract_total_with_daxie(workdir):
    run(workdir, "2026-11-10")
    html = page(workdir, "2026-11-10")
    assert "合同总额：<span class=\"num\">2,919,558.00</span> 元（大写：<span class=\"daxie\">" \
           "人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整</span>）" in html
    assert data(workdir, "2026-11-10")["contract_total"] == {
        "amount": "2919558.00", "text": "2,919,558.00", "daxie": "人民币贰佰玖拾壹万玖仟伍佰伍拾捌元整"}


def test_finding_messages_carry_units_and_thousands_separators(cloud, workdir):
    assert run(workdir, "2026-11-03") == 1
    findings = data(workdir, "2026-11-03")["findings"]
    msgs = {(f["code"], f["item_no"]): f["message"] for f in findings}
    # the ssd quota is 90,000 GB until the 11-05 expansion
    assert msgs[("allocation_shortfall", 6)] == "第6项 分配 90,000 GB 少于合同 101,916 GB，缺 11,916 GB"
    assert msgs[("allocation_shortfall", 14)] == "第14项 分配 45 个 少于合同 49 个，缺 4 个"
    assert msgs[("idle_capacity", 1)] == "第1项 使用率 6.4%，已分配 1,617 vCPU 仅用 104 vCPU"
    # an unmapped volume type: named in Chinese, with the total size
    assert {f["message"] for f in findings if f["code"] == "unmapped_resource"} == {
        "2 个云硬盘未对应任何合同项：卷类型 legacy-sas，共 600 GB（来源：块存储 openstack:block-storage）",
        "1 个带宽策略未对应任何合同项：策略 intranet-limit，共 100 Mbps（来源：网络 openstack:network）",
        "1 个控制台导出资源未对应任何合同项：服务名称 云安全中心专业版，共 1 套（来源：控制台导出文件 security）"}
    assert not any(re.search(r"\d{4}", m.replace("2026-", "")) for m in msgs.values()), msgs


def test_scaling_messages_carry_units_and_separators(workdir):
    (workdir / "requests.csv").write_text(
        "申请编号,序号,目标数量,申请时间\nKR-1,14,1200,2026-11-05\n", encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "import",
                 str(workdir / "requests.csv")]) == 0
    run(workdir, "2026-11-10")  # day 5 of 7
    msg = next(f["message"] for f in data(workdir, "2026-11-10")["findings"]
               if f["code"] == "scaling_due_soon")
    assert msg.startswith("扩容申请 KR-1（第14项 SSL VPN接入，目标 1,200 个）：第 5 天")
    assert "；当前分配 45 个；" in msg
    cells = parse(page(workdir, "2026-11-10")).cells
    assert "1,200 个" in cells and "45 个" in cells  # the requests table, with the item's unit


def test_an_exports_only_night_speaks_chinese_around_its_ids(workdir):
    (workdir / "exports" / "security-2026-11-10.csv").write_bytes(  # rejected: 16-24 unknown
        "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n17,主机杀毒服务,av,杀毒,-74,70,台\n"
        .encode("gbk"))
    assert run(workdir, "2026-11-10") == 2
    for f in data(workdir, "2026-11-10")["findings"]:
        # ids (openstack:compute, export:security) and units may be Latin; words may not
        words = re.sub(r"[\w.-]*:[\w.:/-]+|vCPU|GB|Mbps|\d", "", f["message"])
        assert not re.search(r"\b(export|volume|server|needs|failed)\b", words), f["message"]
    unmeasured = next(f["message"] for f in data(workdir, "2026-11-10")["findings"]
                      if f["code"] == "item_unmeasured" and f["item_no"] == 16)
    assert unmeasured == "第16项 本日无有效计量数据（数据源：控制台导出文件），不作判断"


@pytest.mark.parametrize("source", ["openstack:block-storage", "openstack:image", "export",
                                    "export:security", "export:", "elsewhere:thing", "plain"])
def test_messages_and_tables_name_a_source_the_same_way(source):
    db = duckdb.connect()
    db.execute(labels.sql_labels("source_label", labels.SOURCE))
    from recon.reconcile import SOURCE_MACRO
    db.execute(SOURCE_MACRO)
    assert db.execute("SELECT source_text(?)", [source]).fetchall()[0][0] == \
        labels.source_text(source)


@pytest.mark.parametrize("code, reason, text", [
    ("http_5xx", "GET /volumes/detail: HTTP 503", "服务端错误 — GET /volumes/detail: HTTP 503"),
    ("http_5xx", "服务端错误：GET /volumes/detail: HTTP 503", "服务端错误：GET /volumes/detail: HTTP 503"),
    ("timeout", None, "超时"),
    (None, "connection reset", "connection reset"),
    ("no-such-code", "connection reset", "connection reset"),
    (None, None, "")])
def test_a_reason_reads_chinese_first_and_is_labelled_once(code, reason, text):
    db = duckdb.connect()
    db.execute(labels.sql_labels("source_reason", labels.SOURCE_REASON))
    from recon.reconcile import REASON_MACRO
    db.execute(REASON_MACRO)
    assert labels.reason_text(code, reason) == text
    assert db.execute("SELECT reason_text(?, ?)", [code, reason]).fetchall()[0][0] == text


@pytest.mark.parametrize("value, unit", [
    ("0", None), ("0.000000", "GB"), ("1.500000", None), ("90000.000000", "GB"),
    ("101916", "GB"), ("1234567.250000", "个"), ("-0.500000", None), ("999.999999", "Mbps"),
    (None, "GB")])
def test_messages_and_tables_write_a_quantity_the_same_way(value, unit):
    db = duckdb.connect()
    db.execute(QTY_MACRO)
    sql = db.execute("SELECT qty(?::DECIMAL(18,6), ?)", [value, unit]).fetchall()[0][0]
    assert sql == labels.qty(None if value is None else Decimal(value), unit)


def test_links_between_nights_and_to_the_index_resolve(tmp_path):
    out = tmp_path / "demo"
    assert run_demo(3, out, quiet=True, generate=False) == 0
    for n, day in enumerate(("2026-11-01", "2026-11-02", "2026-11-03")):
        hrefs = parse((out / day / "nightly.html").read_text(encoding="utf-8")).hrefs
        assert "../index.html" in hrefs
        for href in hrefs:
            assert (out / day / href).resolve().is_file(), (day, href)
        prev_next = [h for h in hrefs if h.endswith("/nightly.html")]
        # the first night has no previous one, the last no next one: no dead link either way
        assert len(prev_next) == {0: 2, 1: 4, 2: 2}[n]
    assert "../2026-11-02/nightly.html" in parse(
        (out / "2026-11-01" / "nightly.html").read_text(encoding="utf-8")).hrefs


def test_a_night_written_later_is_linked_from_its_neighbours(workdir):
    run(workdir, "2026-11-08")
    run(workdir, "2026-11-12")
    before = data(workdir, "2026-11-12")
    run(workdir, "2026-11-10")  # a night in between, written afterwards
    assert data(workdir, "2026-11-08")["nav"]["next_night"] == "2026-11-10"
    after = data(workdir, "2026-11-12")
    assert after["nav"]["previous_night"] == "2026-11-10"
    assert "../2026-11-10/nightly.html" in parse(page(workdir, "2026-11-12")).hrefs
    # only the links changed: the 12th is still the report its own run wrote
    assert {k: v for k, v in after.items() if k != "nav"} == \
        {k: v for k, v in before.items() if k != "nav"}
    nav = data(workdir, "2026-11-10")["nav"]
    assert (nav["previous_night"], nav["next_night"]) == ("2026-11-08", "2026-11-12")


def test_failed_source_reason_is_chinese_first(cloud, workdir):
    cloud.set_fault("block-storage", "http_500")
    assert run(workdir, "2026-11-03") == 2
    rep = data(workdir, "2026-11-03")
    failed = [f for f in rep["findings"] if f["code"] == "source_unavailable"]
    assert failed and all(first_chinese(f["message"]) for f in failed)
    cells = parse(page(workdir, "2026-11-03")).cells
    row = cells.index(next(c for c in cells if c.endswith("openstack:block-storage")))
    assert cells[row + 1] == "采集失败" and first_chinese(cells[row + 4])


def test_a_reason_code_shows_its_chinese_label_before_the_detail(workdir):
    config = load_config(workdir / "recon.toml")
    contract = load_contract(config)
    day = date(2026, 11, 10)
    results = [SourceResult.failed("openstack:block-storage",
                                   "GET /volumes/detail: HTTP 503 (after 4 tries)",
                                   reason_code="http_5xx", requests=4),
               SourceResult.failed("openstack:image", "needs openstack:block-storage, which failed",
                                   reason_code="dependency"),
               SourceResult.failed("openstack:network", "connection reset <img src=x>")]  # generic
    db = workdir / "recon.duckdb"
    with Store(db) as store:
        run_id = store.new_run_id()
        store.replace_snapshot(day, run_id, results, {r.source: False for r in results})
        reconcile(store, contract, [day])
        conclude.night(store, contract, config, day)
        report = build_nightly(store, contract, day, run_id, config)
    write_nightly(report, workdir / "out")
    msgs = {f.source: f.message for f in report.findings if f.code == "source_unavailable"}
    assert msgs["openstack:block-storage"] == (
        "数据源 块存储 openstack:block-storage 未能采集：服务端错误 — "
        "GET /volumes/detail: HTTP 503 (after 4 tries)")
    assert msgs["openstack:image"].startswith(
        "数据源 镜像 openstack:image 未能采集：依赖的数据源失败 — needs")
    assert msgs["openstack:network"] == \
        "数据源 网络 openstack:network 未能采集：采集出错 — connection reset <img src=x>"
    html = page(workdir, "2026-11-10")
    cells = parse(html).cells
    assert "服务端错误 — GET /volumes/detail: HTTP 503 (after 4 tries)" in cells
    assert "采集出错 — connection reset <img src=x>" in cells and "<img" not in html
    assert "块存储 openstack:block-storage" in cells


def test_every_cloud_value_is_escaped(cloud, workdir):
    (workdir / "exports" / "2026-11-03" / "evil.csv").write_text(
        "服务名称,资源ID,资源名称,订购数量,使用数量\n"
        "<img src=x onerror=alert(2)>,<b>id</b>,<script>alert(3)</script>,1,1\n",
        encoding="utf-8")
    run(workdir, "2026-11-03")
    html = page(workdir, "2026-11-03")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    # the servers (listed under the idle vCPU finding) and the export's id and name, escaped
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8
    # the page lists 8 resources of a finding; the JSON has the rest
    assert re.search(r"另有 \d+ 个，全部编号见 nightly.json", html)
    assert "<li>&lt;script&gt;alert(3)&lt;/script&gt;<br><code>&lt;b&gt;id&lt;/b&gt;</code></li>" in html


def test_a_damaged_neighbour_does_not_fail_the_night(workdir):
    assert run(workdir, "2026-11-08") == 2
    (workdir / "out" / "2026-11-08" / "nightly.json").write_text("{not json", encoding="utf-8")
    assert run(workdir, "2026-11-10") == 1
    assert data(workdir, "2026-11-10")["nav"]["previous_night"] == "2026-11-08"
    assert "../2026-11-10/nightly.html" not in parse(page(workdir, "2026-11-08")).hrefs


def test_a_request_says_when_its_allocation_was_last_measured(cloud, workdir):
    (workdir / "requests.csv").write_text(
        "申请编号,序号,目标数量,申请时间\nKR-6,6,101916,2026-11-02\n", encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "import",
                 str(workdir / "requests.csv")]) == 0
    run(workdir, "2026-11-03")
    assert "90,000 GB" in parse(page(workdir, "2026-11-03")).cells  # measured tonight: no date
    cloud.set_today(date(2026, 11, 4))
    cloud.set_fault("block-storage", "http_500")
    assert run(workdir, "2026-11-04") == 2
    assert "90,000 GB 2026-11-03 实测" in parse(page(workdir, "2026-11-04")).cells


def test_an_unknown_item_names_the_scope_that_failed_for_it(tmp_path):
    """The demo's 11-09: block storage fails in RegionOne while the GPU region answers; items
    5 and 6 are unknown and name the RegionOne source that failed, not the one that answered.
    The month's last night says its penalties are priced by the monthly assessment."""
    out = tmp_path / "demo"
    assert run_demo(30, out, quiet=True, generate=False) == 0
    rep = json.loads((out / "2026-11-09" / "nightly.json").read_text(encoding="utf-8"))
    items = {i["item_no"]: i for i in rep["items"]}
    for no in (5, 6):
        assert items[no]["status"] == "unknown"
        assert [g["sources"] for g in items[no]["failed_by"]] == \
            [["openstack:block-storage@RegionOne/bjwjw-bigdata"]]
    assert items[1]["failed_by"] == []
    assert "未能采集：" in (out / "2026-11-09" / "nightly.html").read_text("utf-8")
    last = json.loads((out / "2026-11-30" / "nightly.json").read_text(encoding="utf-8"))
    assert "recon report monthly --month 2026-11" in last["month_end"]
    assert "month_end" not in json.loads((out / "2026-11-29" / "nightly.json")
                                         .read_text(encoding="utf-8"))
    # 11-11: KR-2026-012 is overdue and the management unit's written notice goes out; the
    # index links the letter (DOCX to edit, PDF) and says it was met (completed on 11-12)
    idx = json.loads((out / "index.json").read_text(encoding="utf-8"))
    [letter] = idx["letters"]
    assert (letter["notice_id"], letter["ref"], letter["status"]) == \
        ("TZ-2026-001", "KR-2026-012", "已满足")
    for href in letter["links"].values():
        assert (out / href).stat().st_size > 1000
    assert 'href="notices/TZ-2026-001/TZ-2026-001.pdf"' in (out / "index.html").read_text("utf-8")
