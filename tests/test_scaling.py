"""Scaling requests (扩容) played out night by night through the simulator and the SDK.

All requests of tests/scenarios/scaling.yaml are made on 2026-11-02 (day 0), so
day 7 is 2026-11-09; the quota changes in the scenario decide each outcome.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from recon.ledgers import scaling
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.demo import drop_exports
from recon.data import CATALOG, BUNDLED_CONFIG
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
S-BM1,4,,1,2026-11-03,,,物理服务器 +1
S-BM2,4,,1,2026-11-04,,,物理服务器 再 +1（上一次仍未完成）
S-FINAL,1,1800,,2026-10-27,,,vCPU 第7天按期完成，次日被收回
S-UND-DONE,2,4000,,2026-10-30,,,内存 第7天采集失败，之后达到目标
S-UND-OPEN,1,2000,,2026-10-29,2026-11-08,2026-11-09,vCPU 第7天采集失败，一直未达到
S-EARLY-NOTICE,11,60,,2026-11-02,2026-11-05,2026-11-07,第7天前发出的书面通知
"""
LAST = date(2026, 11, 13)
#: each night's scaling states as computed right after that night ran
AS_RUN: dict[date, list] = {}


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """Import the ledger, then run every night 11-01 .. 11-13 against the simulator.

    Right after each night the states of that night are kept in ``as_run``, to hold
    them against a recomputation once all later nights are stored.
    """
    folder = tmp_path_factory.mktemp("scaling")
    # item 20 (cloud anti-DDoS) as a contract whose provider exports nothing for it
    items = (CATALOG / "contract_items.csv").read_text(encoding="utf-8").splitlines()
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
            drop_exports(folder / "exports", day)   # the night's console downloads
            codes[day] = night.run(day, folder / "recon.duckdb", folder / "out").exit_code
            with Store(folder / "recon.duckdb", read_only=True) as store:
                AS_RUN[day] = (scaling.states(store, night.contract, day),
                               scaling.findings(store, night.contract, day, "contract",
                                                night.scaling_coefficient))
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
    assert st.dropped_on == [date(2026, 11, 4)]   # ... then taken back before day 7
    assert st.reverted_on == []                    # not a revert of a final completion
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
    assert second.builds_on is None        # S-ONTIME was already at its target: nothing open
    assert second.completed_on == date(2026, 11, 12) and second.state == "completed"
    assert states["S-ONTIME"].state == "completed"


def test_second_increase_while_the_first_is_open_adds_to_its_target(played):
    # item 4 has 1 server; +1 on 11-03 is still open on 11-04, so +1 more needs 3 in all
    states = state_on(played, LAST)
    assert states["S-BM1"].target == 2
    assert states["S-BM2"].target == 3 and states["S-BM2"].builds_on == "S-BM1"
    assert states["S-BM2"].baseline == 1       # what was measured before it, for the record


def test_completion_held_through_day_7_is_final_and_a_later_drop_is_reverted(played):
    # S-FINAL: day 7 is 11-03, when cores were 1800; taken back to 1617 on 11-04
    st = state_on(played, LAST)["S-FINAL"]
    assert st.state == "completed" and st.completed_on == date(2026, 11, 3)
    assert st.final_on == date(2026, 11, 3)
    assert st.reverted_on == [date(2026, 11, d) for d in (4, 7, 8, 9, 10)]
    f = findings(played, date(2026, 11, 4))
    assert f[("scaling_reverted", "S-FINAL")]["severity"] == "warning"
    assert "扩容后被收回" in f[("scaling_reverted", "S-FINAL")]["message"]
    for d in range(1, 14):
        codes = {c for c, r in findings(played, date(2026, 11, d)) if r == "S-FINAL"}
        assert not codes & {"scaling_late", "scaling_overdue", "scaling_notice_overdue"}
    assert ("scaling_reverted", "S-FINAL") not in findings(played, date(2026, 11, 5))  # unknown
    assert ("scaling_reverted", "S-FINAL") not in findings(played, LAST)               # restored
    folder, _ = played
    rep = json.loads((folder / "out" / "2026-11-04" / "nightly.json").read_text("utf-8"))
    assert rep["penalties"]["amount"] == "0.00"


def test_unknown_day_7_leaves_on_time_undetermined(played):
    # S-UND-DONE: day 7 is 11-06, a night compute failed; RAM is at the target on 11-07
    st = state_on(played, LAST)["S-UND-DONE"]
    assert st.state == "undetermined" and st.completed_on == date(2026, 11, 7)
    f = findings(played, date(2026, 11, 7))
    assert "无法判定" in f[("scaling_undetermined", "S-UND-DONE")]["message"]
    assert "2026-11-07 实测达到目标" in f[("scaling_undetermined", "S-UND-DONE")]["message"]
    for d in range(1, 14):
        codes = {c for c, r in findings(played, date(2026, 11, d)) if r == "S-UND-DONE"}
        assert not codes & {"scaling_late", "scaling_overdue", "scaling_notice_overdue"}
    assert not findings(played, date(2026, 11, 8)).get(("scaling_undetermined", "S-UND-DONE"))
    folder, _ = played
    html = (folder / "out" / LAST.isoformat() / "nightly.html").read_text("utf-8")
    assert "无法判定" in html


def test_unknown_day_7_and_still_short_is_said_every_night_never_overdue(played):
    # S-UND-OPEN: day 7 is 11-05 (compute failed); cores never reach 2000; the notice
    # deadline 11-09 passes, but with 11-05 and 11-06 unknown the penalty is undecidable
    for d in range(6, 14):
        f = findings(played, date(2026, 11, d))
        assert ("scaling_undetermined", "S-UND-OPEN") in f
        assert ("scaling_overdue", "S-UND-OPEN") not in f
        assert ("scaling_notice_overdue", "S-UND-OPEN") not in f
    st = state_on(played, LAST)["S-UND-OPEN"]
    assert st.state == "undetermined" and not st.penalty_applies and st.penalty_unknown
    assert "违约金" in findings(played, LAST)[("scaling_undetermined", "S-UND-OPEN")]["message"]


def test_notice_dated_before_day_7_triggers_nothing(played):
    st = state_on(played, LAST)["S-EARLY-NOTICE"]
    assert st.state == "overdue" and not st.notice_counts and not st.penalty_applies
    f = findings(played, LAST)
    assert ("scaling_notice_overdue", "S-EARLY-NOTICE") not in f
    assert "不构成附件3第4条" in f[("scaling_overdue", "S-EARLY-NOTICE")]["message"]
    # the only penalty of the night is S-NEVER's, whose notice came after day 7
    assert state_on(played, LAST)["S-NEVER"].notice_counts


def test_due_soon_wording_names_the_night_and_days_left(played):
    m5 = findings(played, date(2026, 11, 7))[("scaling_due_soon", "S-NEVER")]["message"]
    m6 = findings(played, date(2026, 11, 8))[("scaling_due_soon", "S-NEVER")]["message"]
    assert "须于 11-09 晚（第7天）前完成，剩 2 天" in m5
    assert "剩 1 天" in m6
    assert "今天" not in m5 + m6
    # a night whose pull failed: the figure shown is dated, not called "current"
    m = findings(played, date(2026, 11, 5))[("scaling_due_soon", "S-UND-DONE")]["message"]
    assert "最近一次实测分配 3,835 GB（2026-11-04）" in m and "当前分配" not in m
    # day 7 itself: not yet overdue, and it warns that it is due tonight (docs/ledgers.md)
    f = findings(played, date(2026, 11, 9))
    assert ("scaling_overdue", "S-NEVER") not in f
    assert "今日为第 7 天，今晚到期" in f[("scaling_due_soon", "S-NEVER")]["message"]


def test_state_on_a_night_never_changes_when_later_nights_are_stored(played):
    folder, _ = played
    contract = load_contract(load_config(folder / "recon.toml"))
    assert len(AS_RUN) == 13
    with Store(folder / "recon.duckdb", read_only=True) as store:
        for day, (states, found) in AS_RUN.items():
            assert scaling.states(store, contract, day) == states, day
            assert scaling.findings(store, contract, day, "contract", Decimal("0.20")) == found, day


def test_item_the_api_cannot_measure_is_unverifiable_never_overdue(played):
    st = state_on(played, LAST)["S-EXPORT"]
    assert st.state == "unverifiable"
    f = findings(played, LAST)
    assert ("scaling_unverifiable", "S-EXPORT") in f
    assert ("scaling_overdue", "S-EXPORT") not in f


def test_report_lists_the_requests(played):
    folder, _ = played
    html = (folder / "out" / LAST.isoformat() / "nightly.html").read_text("utf-8")
    text = re.sub(r"<[^>]+>", "", html)  # each date is kept on one line by a <span>
    assert "扩容申请" in text and "S-NEVER" in text and "2026-11-05、2026-11-06" in text
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


def test_penalty_basis_item():
    contract = load_contract(load_config(BUNDLED_CONFIG))
    # 207,908.64 / 12 x 20%
    assert scaling.penalty(contract, 6, "item", Decimal("0.20")) == Decimal("3465.14")
