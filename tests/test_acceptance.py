"""The acceptance pack (验收, 第六条), its evidence zip and the rework clock.

A store of ten nights inside the mid-term period (2026-07-10 .. 2027-01-09), played through
the real nightly job from dated console exports:

    2026-07-10 .. 12   every item delivered in full
    2026-11-01 .. 05   item 6 (高性能存储) at 90,000 GB of 101,916; item 9 unknown on 11-03
    2027-01-08 .. 09   every item delivered in full

The figures of items 6 and 9 are computed here again from the contract's own numbers.
"""
from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.ledgers import acceptance
from recon.nightly import Night
from recon.progress import Progress
from recon.store import Store, item_day_rows
from reports.nightly import build_nightly
from tests.conftest import write_config

NIGHTS = ([date(2026, 7, d) for d in (10, 11, 12)] + [date(2026, 11, d) for d in range(1, 6)]
          + [date(2027, 1, 8), date(2027, 1, 9)])
INCIDENTS = """事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注
N-1,门户网站<b>,否,故障,2026-11-02 10:00,2026-11-02 10:03,,,2026-11-02 10:04,是,,否,,否,1 分钟
"""


def allocations(day: date) -> tuple[dict, set]:
    if date(2026, 11, 1) <= day <= date(2026, 11, 5):
        return {6: 90000}, ({9} if day == date(2026, 11, 3) else set())
    return {}, set()


@pytest.fixture(scope="module")
def mid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("acceptance")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    cfg = write_config(folder)
    contract = load_contract(load_config(cfg))
    for day in NIGHTS:
        over, missing = allocations(day)
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        rows = ["序号,订购数量,使用数量"] + [
            f"{i.item_no},{over.get(i.item_no, i.quantity)},{i.quantity * 9 // 10}"
            for i in contract.items.values() if i.item_no not in missing]
        (d / "console.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    assert main(["--config", str(cfg), "incidents", "import", str(folder / "incidents.csv")]) == 0
    night = Night(load_config(cfg), progress=Progress(quiet=True))
    for day in NIGHTS:
        night.run(day, folder / "recon.duckdb", folder / "out")
    for n, name in enumerate(("运维记录", "运维月报", "漏扫报告")):
        f = folder / f"m{n}.pdf"
        f.write_bytes(f"material {n}".encode())
        period = "2026-11" if name == "运维月报" else "中期验收"
        assert main(["--config", str(cfg), "materials", "add", "--name", name, "--period", period,
                     "--received", "2027-01-09", "--file", str(f)]) == 0
    return folder


def pack(folder, out="out", *extra):
    assert main(["--config", str(folder / "recon.toml"), "report", "acceptance", "--period",
                 "mid", "--out", str(folder / out), *extra]) == 0
    base = folder / out / "acceptance"
    return base / "mid", base / "acceptance-mid.zip"


def test_the_mid_term_period_is_the_first_six_months():
    contract = load_contract(load_config(write_config_tmp()))
    s = acceptance.span(contract, "mid")
    assert (s.first, s.last) == (date(2026, 7, 10), date(2027, 1, 9))
    assert s.months == ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12",
                        "2027-01"]
    assert acceptance.span(contract, "final").last == contract.end


def write_config_tmp():
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.mkdtemp())
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    return write_config(folder)


def test_the_pack_figures_match_a_hand_computation_for_two_items(mid):
    folder, _ = pack(mid)
    data = json.loads((folder / "acceptance.json").read_text(encoding="utf-8"))
    items = {i["item_no"]: i for i in data["items"]}
    # item 6: 101,916 GB at 2.04 for the term; short 11,916 GB on the five November nights;
    # a night's value is the line total / 12 / the month's days
    per_night = Decimal(11916) * Decimal("2.04") / 12 / 30
    assert Decimal(items[6]["undelivered_value"]) == (per_night * 5).quantize(Decimal("0.01"))
    assert Decimal(items[6]["undelivered_value"]) == Decimal("337.62")
    mean = (Decimal(101916) * 5 + Decimal(90000) * 5) / 10
    assert Decimal(items[6]["delivered"]) == mean.quantize(Decimal("0.01"))
    assert Decimal(items[6]["contracted"]) == Decimal("101916.00")
    assert Decimal(items[6]["delivered_ratio"]) == (mean / 101916).quantize(Decimal("0.0001"))
    # item 9: 3,500 Mbps, unknown on 11-03 (named, neither delivered nor short)
    assert items[9]["unknown_nights"] == ["2026-11-03"]
    assert items[9]["measured_nights"] == 9
    assert Decimal(items[9]["in_use"]) == Decimal(3500 * 9 // 10)
    assert Decimal(items[9]["undelivered_value"]) == 0
    # the same figures from the store's item_days rows, independently
    with Store(mid / "recon.duckdb") as store:
        rows = [r for r in item_day_rows(store, date(2026, 7, 10), date(2027, 1, 9))
                if r["item_no"] == 6]
    assert sum(r["shortfall_value"] for r in rows).quantize(Decimal("0.01")) == Decimal("337.62")
    nov = next(m for m in data["months"] if m["month"] == "2026-11")
    assert nov["undelivered_value"]["amount"] == "337.62"
    assert nov["undelivered_value"]["daxie"] == "人民币叁佰叁拾柒元陆角贰分"
    assert {i["item_no"]: i["unknown_nights"] for i in nov["items"]}[9] == ["2026-11-03"]
    jan = next(m for m in data["months"] if m["month"] == "2027-01")
    assert (jan["first"], jan["last"], jan["partial"]) == ("2027-01-01", "2027-01-09", True)


def test_the_pack_states_its_recommendation_checklist_coverage_and_ledgers(mid):
    folder, _ = pack(mid)
    data = json.loads((folder / "acceptance.json").read_text(encoding="utf-8"))
    assert data["data_as_of"] == "2027-01-09"
    assert data["missing_materials"] == ["年报", "云平台巡检报告"]
    assert data["recommendation"] == "建议不通过"
    assert any("年报、云平台巡检报告" in x for x in data["against"])
    assert any("9/184" in x for x in data["open"])
    assert data["nights_run"] == 10 and len(data["gaps"]) == 174
    assert data["unknown_nights"] == ["2026-11-03"]
    assert [m["month"] for m in data["months"]][0] == "2026-07"
    assert data["penalty_cap"]["daxie"] == "人民币贰拾玖万壹仟玖佰伍拾伍元捌角整"
    html = (folder / "acceptance.html").read_text(encoding="utf-8")
    assert "门户网站&lt;b&gt;" in html and "门户网站<b>" not in html
    assert "验收小组成员签字" in html


def test_the_pdf_says_the_same_in_chinese(mid):
    folder, _ = pack(mid)
    text = subprocess.run(["pdftotext", "-layout", str(folder / "acceptance.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    for words in ("政务云服务中期验收报告", "建议不通过", "云平台巡检报告", "验收小组成员签字",
                  "人民币叁佰叁拾柒元陆角贰分", "2026-11-03"):
        assert words in text, words


def test_same_store_same_period_byte_identical_pack_and_zip(mid):
    folder, bundle = pack(mid, "out-a")
    first = {p.name: p.read_bytes() for p in folder.iterdir()} | {"zip": bundle.read_bytes()}
    folder, bundle = pack(mid, "out-a")
    again = {p.name: p.read_bytes() for p in folder.iterdir()} | {"zip": bundle.read_bytes()}
    assert first == again
    # a fresh report folder (the nightly JSON rebuilt from the store) gives the same pack
    folder_b, bundle_b = pack(mid, "out-b")
    assert (folder_b / "acceptance.pdf").read_bytes() == first["acceptance.pdf"]
    assert (folder_b / "acceptance.json").read_bytes() == first["acceptance.json"]
    assert bundle_b.read_bytes() == first["zip"]


def test_a_pack_written_again_renders_only_the_pdfs_whose_html_changed(mid):
    """Written again into its folder, the pack keeps each PDF whose HTML is unchanged (the
    pack's, a month's: not rendered twice) and renders again any whose HTML beside it
    differs (older data): never a stale PDF, in the folder or in the zip."""
    folder, bundle = pack(mid, "out-again")
    fresh = (folder / "acceptance.pdf").read_bytes()
    month = folder.parent.parent / "monthly" / "2026-11"
    fresh_month = (month / "assessment.pdf").read_bytes()
    (month / "assessment.pdf").write_bytes(b"kept")
    html = folder / "acceptance.html"
    html.write_text(html.read_text(encoding="utf-8").replace("2027-01-09", "2027-01-08"),
                    encoding="utf-8")
    (folder / "acceptance.pdf").write_bytes(b"stale")
    folder, bundle = pack(mid, "out-again")
    assert (folder / "acceptance.pdf").read_bytes() == fresh
    assert (month / "assessment.pdf").read_bytes() == b"kept"
    with zipfile.ZipFile(bundle) as z:
        assert z.read("acceptance/acceptance.pdf") == fresh
        assert z.read("monthly/2026-11/assessment.pdf") == b"kept"
    (month / "assessment.pdf").write_bytes(fresh_month)


def test_the_zip_holds_the_pack_months_nights_and_a_manifest(mid):
    _, bundle = pack(mid)
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        manifest = json.loads(z.read("MANIFEST.json"))
        assert names == sorted(names)
        assert {"acceptance/acceptance.html", "acceptance/acceptance.pdf",
                "acceptance/acceptance.json", "inputs/item_days.csv",
                "monthly/2026-11/assessment.pdf", "nightly/2026-11-03/nightly.json"} <= set(names)
        assert len([n for n in names if n.startswith("nightly/")]) == 10
        import hashlib
        for f in manifest["files"]:
            assert hashlib.sha256(z.read(f["path"])).hexdigest() == f["sha256"]
        assert all(i.date_time == (2027, 1, 9, 0, 0, 0) for i in z.infolist())
    assert manifest["recon_version"] and manifest["period"] == "mid"
    nov3 = next(n for n in manifest["nights"] if n["night"] == "2026-11-03")
    assert nov3["run_id"] and nov3["sources"]


def test_each_nightly_json_of_the_zip_is_that_night_s_own_report(mid):
    """The pack builds its nights from the period's rows read at once; each night's JSON
    says what that night's report built alone says (the nightly run's read), but for
    generated_at (the run's finish time)."""
    _, bundle = pack(mid)
    cfg = load_config(mid / "recon.toml")
    contract = load_contract(cfg)
    with zipfile.ZipFile(bundle) as z, Store(mid / "recon.duckdb") as store:
        runs = {n["night"]: n["run_id"] for n in json.loads(z.read("MANIFEST.json"))["nights"]}
        assert len(runs) == len(NIGHTS)
        for day in NIGHTS:
            packed = json.loads(z.read(f"nightly/{day}/nightly.json"))
            alone = json.loads(build_nightly(store, contract, day, runs[str(day)], cfg).to_json())
            packed.pop("generated_at"), alone.pop("generated_at")
            assert packed == alone, day
            assert packed["items"] and packed["sources"]
    # the nights differ where their data does: 11-03 lacks item 9, 11-01 has 6 over
    nov3 = json.loads(zipfile.ZipFile(bundle).read("nightly/2026-11-03/nightly.json"))
    assert any(i["item_no"] == 9 and i["status"] == "unknown" for i in nov3["items"])


def test_a_failed_acceptance_starts_the_five_day_rework_clock(mid, tmp_path):
    cfg = str(mid / "recon.toml")
    assert main(["--config", cfg, "acceptance", "record", "--period", "mid", "--result", "fail",
                 "--date", "2027-01-09"]) == 0
    with Store(mid / "recon.duckdb") as store:
        [w] = acceptance.open_rework(store, date(2027, 1, 9))
        assert w.deadline == date(2027, 1, 14) and w.days_left == 5
        assert acceptance.open_rework(store, date(2027, 1, 8)) == []   # not yet recorded then
    # the nightly report and the index show it; the pack lists the record
    assert main(["--config", cfg, "run", "--date", "2027-01-09"]) in (0, 1)
    nightly = json.loads((mid / "out" / "2027-01-09" / "nightly.json").read_text("utf-8"))
    assert nightly["rework"][0]["deadline"] == "2027-01-14"
    assert "2027-01-14" in (mid / "out" / "2027-01-09" / "nightly.html").read_text("utf-8")
    assert main(["--config", cfg, "report", "index"]) == 0
    index = json.loads((mid / "out" / "index.json").read_text("utf-8"))
    assert index["rework"][0]["deadline"] == "2027-01-14"
    folder, _ = pack(mid)
    data = json.loads((folder / "acceptance.json").read_text("utf-8"))
    assert data["records"][-1]["rework_deadline"] == "2027-01-14"
    # the resubmission reviewed again is a new revision; the clock stops
    assert main(["--config", cfg, "acceptance", "record", "--period", "mid", "--result", "pass",
                 "--date", "2027-01-13"]) == 0
    with Store(mid / "recon.duckdb") as store:
        assert [r.revision for r in acceptance.history(store, "mid")] == [1, 2]
        assert acceptance.open_rework(store, date(2027, 1, 13)) == []
    with pytest.raises(SystemExit) as bad:
        main(["--config", cfg, "acceptance", "record", "--period", "mid", "--result", "maybe",
              "--date", "2027-01-13"])
    assert bad.value.code == 3
    # a record dated before the period's last one is bad input, naming the argument
    assert main(["--config", cfg, "acceptance", "record", "--period", "mid", "--result", "pass",
                 "--date", "2027-01-01"]) == 3


def test_bad_periods_are_bad_input(mid):
    cfg = str(mid / "recon.toml")
    assert main(["--config", cfg, "report", "acceptance"]) == 3
    assert main(["--config", cfg, "report", "acceptance", "--from", "2026-01-01", "--to",
                 "2026-02-01"]) == 3
    assert main(["--config", cfg, "report", "acceptance", "--period", "mid", "--from",
                 "2026-07-10"]) == 3
