"""A whole night against the simulator through clouds.yaml, and `recon demo`."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon.cli import main
from recon.demo import run_demo
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import write_config

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"


@pytest.fixture
def cloud(workdir, monkeypatch):
    """The small scenario served on loopback, reachable as cloud 'sim' through clouds.yaml."""
    with SimServer(load_scenario(SMALL), today=date(2026, 11, 10)) as sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        yield sim


def night(workdir, day="2026-11-10") -> tuple[int, dict]:
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", day, "-q"])
    rep = json.loads((workdir / "out" / day / "nightly.json").read_text(encoding="utf-8"))
    return code, rep


def test_cloud_night_measures_openstack_items(cloud, workdir):
    code, rep = night(workdir)
    items = {i["item_no"]: i for i in rep["items"]}
    assert {s["source"]: s["status"] for s in rep["sources"]}["openstack:compute"] == "ok"
    assert items[1]["allocated"] == "1617.000000" and items[1]["in_use"] == "124.000000"
    assert items[6]["shortfall"] == "0.000000"  # 101916 GB since the 11-05 expansion
    assert items[5]["status"] == "idle"        # 4000 of 17082 GB used
    unmapped = [f for f in rep["findings"] if f["code"] == "unmapped_resource"
                and f["source"] == "openstack:block-storage"]
    assert unmapped and unmapped[0]["resource_count"] == 2
    assert code == 1                           # SSL VPN shortfall in the exports, unmapped volumes
    assert not [s for s in rep["sources"] if s["status"] != "ok"]


def test_failed_service_is_unknown_exit_2_and_no_false_finding(cloud, workdir):
    cloud.set_fault("block-storage", "http_500")
    code, rep = night(workdir)
    assert code == 2
    items = {i["item_no"]: i for i in rep["items"]}
    for no in (5, 6, 8, 25, 26):
        assert items[no]["status"] == "unknown" and items[no]["allocated"] is None
    codes = {(f["code"], f["item_no"], f["source"]) for f in rep["findings"]}
    assert ("source_unavailable", None, "openstack:block-storage") in codes
    assert not any(c in ("allocation_shortfall", "idle_capacity") and i in (5, 6, 8, 25, 26)
                   for c, i, _ in codes)
    assert items[1]["status"] == "idle"  # compute still measured


def test_shortfall_before_expansion(cloud, workdir):
    cloud.set_today(date(2026, 11, 3))
    code, rep = night(workdir, "2026-11-03")
    short = [f for f in rep["findings"] if f["code"] == "allocation_shortfall" and f["item_no"] == 6]
    assert short and short[0]["figures"]["shortfall"] == "11916.000000"
    # 11916 GB x 2.04 / 12 / 30 days
    assert short[0]["figures"]["shortfall_value"].startswith("67.524")


def test_demo_plays_nights_through_the_sdk(tmp_path):
    assert run_demo(2, tmp_path / "demo", quiet=True, generate=False) == 0
    for day in ("2026-11-01", "2026-11-02"):
        rep = json.loads((tmp_path / "demo" / day / "nightly.json").read_text(encoding="utf-8"))
        items = {i["item_no"]: i for i in rep["items"]}
        assert items[1]["allocated"] is not None
        assert rep["exit_code"] == 1  # the demo's problems are findings
        # the bare metal lives in the GPU region: its scope measures items 3, 4 and 31
        gpu = "openstack:compute@GPU-Region/bjwjw-bigdata"
        for no, delivered in ((3, "3"), (4, "1"), (31, "1")):
            assert gpu in items[no]["measured_by"].split(", ")
            assert [p["quantity"] for p in items[no]["parts"]
                    if p["scope"] == "GPU-Region/bjwjw-bigdata"] == [delivered]
            assert items[no]["allocated"].startswith(delivered + ".")
        sources = {s["source"] for s in rep["sources"]}
        assert "openstack:object-store@GPU-Region/bjwjw-bigdata" not in sources
        assert any(s["source"].startswith("openstack:") for s in rep["sources"])
    assert [s["request_id"] for s in rep["scaling"]] == ["KR-2026-011"]  # the demo ledger
    assert "2026-11-02/nightly.html" in (tmp_path / "demo" / "index.html").read_text("utf-8")
    # and the month's assessment, its unplayed nights named as gaps
    month = json.loads((tmp_path / "demo" / "monthly" / "2026-11" / "assessment.json")
                       .read_text(encoding="utf-8"))
    assert len(month["gaps"]) == 28 and (tmp_path / "demo" / "monthly" / "2026-11" /
                                         "assessment.pdf").stat().st_size > 10000
    assert "monthly/2026-11/assessment.html" in (tmp_path / "demo" / "index.html").read_text("utf-8")


def test_items_no_source_verifies_are_unverified_never_delivered(tmp_path):
    """Items 13, 15, 25, 26 and 30: OpenStack sees only their use and no export gives their
    allocation (未计量).  Their value is 未核实: its own column and total, never 0 delivered
    value, never counted as measured nights, named in the delivery criterion."""
    import duckdb

    assert run_demo(2, tmp_path / "demo", quiet=True, generate=False) == 0
    month = json.loads((tmp_path / "demo" / "monthly" / "2026-11" / "assessment.json")
                       .read_text(encoding="utf-8"))
    items = {i["item_no"]: i for i in month["items"]}
    assert month["unmeasurable_items"] == [13, 15, 25, 26, 30]
    db = duckdb.connect(str(tmp_path / "demo" / "demo.duckdb"), read_only=True)
    value = {no: v for no, v in db.execute(
        "SELECT item_no, sum(day_value) FROM item_days WHERE item_no IN (13, 15, 25, 26, 30) "
        "GROUP BY 1").fetchall()}
    db.close()
    for no in (13, 15, 25, 26, 30):
        assert items[no]["undelivered_value"] is None            # not 0.00
        assert items[no]["measured_nights"] == 0 and items[no]["unverified_nights"] == 2
        assert items[no]["unverified_value"] == str(value[no].quantize(Decimal("0.01")))
    total = sum(value.values()).quantize(Decimal("0.01"))
    assert month["unmeasurable_value"]["amount"] == str(total)
    assert Decimal(month["unverified_value"]["amount"]) >= total
    delivery = next(c for c in month["criteria"] if c["code"] == "delivery")
    assert "第13、15、25、26、30项 无数据源计量分配，未核实" in delivery["reason"]
    html = (tmp_path / "demo" / "monthly" / "2026-11" / "assessment.html").read_text("utf-8")
    assert "本月未核实价值合计" in html and month["unverified_value"]["daxie"] in html
