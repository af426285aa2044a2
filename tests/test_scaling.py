"""Scaling requests (扩容) played out night by night through the simulator and the SDK.

All requests of tests/scenarios/scaling.yaml are made on 2026-11-02 (day 0), so
day 7 is 2026-11-09; the quota changes in the scenario decide each outcome.
"""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon import scaling
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.data import BUNDLED_CONFIG, CONFIG_DIR, DEMO
from recon.nightly import Night
from recon.progress import Progress
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml
from recon.store import Store
from tests.conftest import write_config

SCENARIO = Path(__file__).parent / "scenarios" / "scaling.yaml"
LEDGER = """申请编号,序号,目标数量,扩容数量,申请时间,书面通知日期,通知期限,备注
S-ONTIME,5,18000,,2026-11-02 09:30,,,普通存储
S-DAY7,6,101916,,2026-11-02,,,高性能存储 第7天完成
S-DAY8,10,40,,2026-11-02 23:59,,,公网IP 第8天完成
S-NEVER,11,60,,2026-11-02,2026-11-10,2026-11-12,负载均衡 从未完成
S-PARTIAL,8,20,,2026-11-02,,,备份 只到15
S-REVERT,1,1800,,2026-11-02,,,vCPU 完成后回退
S-UNKNOWN,2,4000,,2026-11-02,,,内存 其间两晚采集失败
S-TWO,5,,2000,2026-11-06,,,同一项第二次申请
S-EXPORT,20,2,,2026-11-02,,,抗DDoS 无法由接口计量
"""
LAST = date(2026, 11, 13)


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Import the ledger, then run every night 11-01 .. 11-13 against the simulator."""
    folder = tmp_path_factory.mktemp("scaling")
    shutil.copytree(DEMO / "exports", folder / "exports")
    # item 20 (cloud anti-DDoS) as a contract whose provider exports nothing for it
    items = (CONFIG_DIR / "contract_items.csv").read_text(encoding="utf-8").splitlines()
    items = [ln.replace(",export,export_quantity", ",none,") if ln.startswith("20,") else ln
             for ln in items]
    (folder / "items.csv").write_text("\n".join(items) + "\n", encoding="utf-8")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    (folder / "ledger.csv").write_bytes(LEDGER.encode("gbk"))
    cfg = write_config(folder, cloud="sim", items=folder / "items.csv")
    assert main(["--config", str(cfg), "scaling", "import", str(folder / "ledger.csv")]) == 0
    codes = {}
    with SimServer(load_scenario(SCENARIO)) as sim:
        clouds = clouds_yaml(sim, "sim", auth="application_credential")
        night = Night(load_config(cfg), cloud="sim", cloud_config=clouds,
                      progress=Progress(quiet=True))
        day = date(2026, 11, 1)
        while day <= LAST:
            sim.set_today(day)
            codes[day] = night.run(day, folder / "recon.duckdb", folder / "out").exit_code
            day += timedelta(days=1)
    return folder, codes


def state_on(played, day: date) -> dict[str, scaling.State]:
    folder, _ = played
    contract = load_contract(load_config(folder / "recon.toml"))
    with Store(folder / "recon.duckdb", read_only=True) as store:
        return {s.request.request_id: s for s in scaling.states(store, contract, day)}


def findings(played, day: date) -> dict[tuple, dict]:
    folder, _ = played
    rep = json.loads((folder / "out" / day.isoformat() / "nightly.json").read_text("utf-8"))
    return {(f["code"], (f["figures"] or {}).get("request_id")): f for f in rep["findings"]
            if f["code"].startswith("scaling_")}


def test_completed_on_time(played):
    st = state_on(played, LAST)["S-ONTIME"]
    assert st.state == "completed" and st.completed_on == date(2026, 11, 5)


def test_exactly_day_7_is_on_time(played):
    st = state_on(played, LAST)["S-DAY7"]
    assert st.completed_on == date(2026, 11, 9) and st.state == "completed"
    assert not any(r == "S-DAY7" for _, r in findings(played, date(2026, 11, 9)))


def test_day_8_is_late_and_flagged_that_night(played):
    st = state_on(played, LAST)["S-DAY8"]
    assert st.completed_on == date(2026, 11, 10) and st.state == "late"
    assert ("scaling_late", "S-DAY8") in findings(played, date(2026, 11, 10))
    assert ("scaling_overdue", "S-DAY8") not in findings(played, date(2026, 11, 10))


def test_never_completed_is_overdue_from_day_8_every_night(played):
    assert ("scaling_overdue", "S-NEVER") not in findings(played, date(2026, 11, 9))
    for d in (10, 11, 12):
        f = findings(played, date(2026, 11, d))
        assert ("scaling_overdue", "S-NEVER") in f
        assert f[("scaling_overdue", "S-NEVER")]["severity"] == "critical"
    _, codes = played
    assert codes[date(2026, 11, 10)] == 1


def test_warned_two_days_before_day_7(played):
    assert ("scaling_due_soon", "S-NEVER") not in findings(played, date(2026, 11, 6))
    assert ("scaling_due_soon", "S-NEVER") in findings(played, date(2026, 11, 7))
    assert ("scaling_due_soon", "S-NEVER") in findings(played, date(2026, 11, 8))


def test_notice_deadline_passed_applies_the_20_percent_clause(played):
    assert ("scaling_notice_overdue", "S-NEVER") not in findings(played, date(2026, 11, 12))
    f = findings(played, LAST)[("scaling_notice_overdue", "S-NEVER")]
    # 2,919,558.00 / 12 months x 20%
    assert f["figures"]["penalty"] == "48659.30"
    folder, _ = played
    rep = json.loads((folder / "out" / LAST.isoformat() / "nightly.json").read_text("utf-8"))
    assert rep["penalties"]["amount"] == "48659.30"
    assert rep["penalties"]["daxie"] == "人民币肆万捌仟陆佰伍拾玖元叁角整"
    assert rep["penalty_cap"]["amount"] == "291955.80"


def test_partial_then_overdue(played):
    assert state_on(played, date(2026, 11, 6))["S-PARTIAL"].state == "partial"
    st = state_on(played, LAST)["S-PARTIAL"]
    assert st.state == "overdue" and st.best == 15


def test_completed_then_reverted_counts_only_when_it_stays(played):
    early = state_on(played, date(2026, 11, 3))["S-REVERT"]
    assert early.state == "completed"            # reached on day 1 ...
    st = state_on(played, LAST)["S-REVERT"]
    assert st.reverted_on == [date(2026, 11, 4)]  # ... then taken back
    assert st.completed_on == date(2026, 11, 11) and st.state == "late"
    assert ("scaling_overdue", "S-REVERT") in findings(played, date(2026, 11, 10))


def test_unknown_nights_neither_complete_nor_hide(played):
    st = state_on(played, LAST)["S-UNKNOWN"]
    # RAM raised on 11-06, a night compute failed: completion is the first measured night
    assert st.unknown_days == [date(2026, 11, 5), date(2026, 11, 6)]
    assert st.completed_on == date(2026, 11, 7) and st.state == "completed"
    f = findings(played, date(2026, 11, 5))
    assert not any(code == "scaling_overdue" for code, _ in f)
    _, codes = played
    assert codes[date(2026, 11, 5)] == 2  # compute failed: incomplete night


def test_two_requests_on_one_item(played):
    states = state_on(played, LAST)
    second = states["S-TWO"]
    assert second.baseline == 18000 and second.target == 20000  # increase over 11-05's 18000
    assert second.completed_on == date(2026, 11, 12) and second.state == "completed"
    assert states["S-ONTIME"].state == "completed"


def test_item_the_api_cannot_measure_is_unverifiable_never_overdue(played):
    st = state_on(played, LAST)["S-EXPORT"]
    assert st.state == "unverifiable"
    f = findings(played, LAST)
    assert ("scaling_unverifiable", "S-EXPORT") in f
    assert ("scaling_overdue", "S-EXPORT") not in f


def test_report_lists_the_requests(played):
    folder, _ = played
    html = (folder / "out" / LAST.isoformat() / "nightly.html").read_text("utf-8")
    assert "扩容申请" in html and "S-NEVER" in html and "2026-11-05、2026-11-06" in html
    assert "人民币肆万捌仟陆佰伍拾玖元叁角整" in html


def test_list_command_prints_states(played, capsys):
    folder, _ = played
    assert main(["--config", str(folder / "recon.toml"), "scaling", "list", "--history"]) == 0
    out = capsys.readouterr().out
    assert "S-NEVER" in out and "notice_overdue" in out and "rev 1" in out


def test_allocation_above_contract_without_amendment_is_flagged(played):
    folder, _ = played
    rep = json.loads((folder / "out" / LAST.isoformat() / "nightly.json").read_text("utf-8"))
    over = {f["item_no"] for f in rep["findings"] if f["code"] == "allocation_over_contract"}
    assert {1, 2, 10} <= over       # cores 1800 > 1617, RAM 4000 > 3835, IPs 40 > 33
    assert 6 not in over             # 101916 = contracted


# -- the ledger itself ------------------------------------------------------------
def test_import_bad_row_names_line_and_imports_nothing(workdir, capsys):
    bad = workdir / "bad.csv"
    bad.write_text(LEDGER.replace("S-PARTIAL,8,20,", "S-PARTIAL,8,二十,"), encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "import", str(bad)]) == 3
    assert "bad.csv:6 [目标数量]" in capsys.readouterr().err
    with Store(workdir / "recon.duckdb") as store:
        assert scaling.requests(store) == []


@pytest.mark.parametrize("row, where", [
    ("S-X,99,10,,2026-11-02,,,", "[序号]"),            # unknown item
    ("S-X,5,10,5,2026-11-02,,,", "[目标数量]"),         # both target and increase
    ("S-X,5,10,,2026-13-02,,,", "[申请时间]"),          # not a date
    ("S-X,5,10,,2026-11-02,,2026-11-09,", "[书面通知日期]"),  # deadline without notice
    ("S-ONTIME,5,10,,2026-11-02,,,", "[申请编号]"),     # duplicate id
])
def test_import_rejects(workdir, capsys, row, where):
    bad = workdir / "bad.csv"
    bad.write_text(LEDGER.splitlines()[0] + "\nS-ONTIME,5,18000,,2026-11-02,,,\n" + row + "\n",
                   encoding="utf-8")
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "import", str(bad)]) == 3
    assert f"bad.csv:3 {where}" in capsys.readouterr().err


def test_changes_are_revisions(workdir, capsys):
    cfg = str(workdir / "recon.toml")
    args = ["--config", cfg, "scaling", "add", "--id", "R1", "--item", "6", "--target", "101916",
            "--requested", "2026-11-03 10:00"]
    assert main(args) == 0 and main(args) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(args[:-1] + ["2026-11-04 10:00"]) == 0
    with Store(workdir / "recon.duckdb") as store:
        assert [r[0] for r in scaling.history(store, "R1")] == [1, 2]
        assert scaling.requests(store)[0].requested_date == date(2026, 11, 4)


def test_day_counting_in_shanghai():
    contract = load_contract(load_config(BUNDLED_CONFIG))
    late_utc = scaling.make_request(contract, "R", 6, "1", None, "2026-11-02T17:30:00+00:00")
    assert late_utc.requested_date == date(2026, 11, 3)   # 01:30 in Beijing
    assert late_utc.deadline == date(2026, 11, 10)


def test_penalty_basis_item():
    contract = load_contract(load_config(BUNDLED_CONFIG))
    # 207,908.64 / 12 x 20%
    assert scaling.penalty(contract, 6, "item") == Decimal("3465.14")
