"""`recon run` end to end on console exports: store, rerun, lock, report, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from recon.cli import main
from recon.store import run_lock

HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"


def run(workdir: Path, day: str, *extra) -> int:
    return main(["--config", str(workdir / "recon.toml"), "run", "--date", day, "-q", *extra])


def report(workdir: Path, day: str) -> dict:
    return json.loads((workdir / "out" / day / "nightly.json").read_text(encoding="utf-8"))


def counts(workdir: Path) -> dict:
    db = duckdb.connect(str(workdir / "recon.duckdb"), read_only=True)
    try:
        return {t: db.execute(f"SELECT snapshot_date::VARCHAR, count(*) FROM {t} GROUP BY 1 "
                              "ORDER BY 1").fetchall()
                for t in ("resource_lines", "measurements", "findings", "item_days")}
    finally:
        db.close()


def test_exports_only_night_is_a_finding_and_says_why(workdir):
    # no cloud configured: the OpenStack items are unknown, never zero; every source that is
    # configured answered, so the unmeasured items are a standing finding (1), not 2
    assert run(workdir, "2026-11-10") == 1
    rep = report(workdir, "2026-11-10")
    items = {i["item_no"]: i for i in rep["items"]}
    assert len(items) == 32
    assert items[1]["status"] == "unknown" and items[1]["allocated"] is None
    assert items[14]["status"] == "shortfall"
    assert items[14]["shortfall"] == "4.000000"
    codes = {(f["code"], f["item_no"]) for f in rep["findings"]}
    assert ("allocation_shortfall", 14) in codes
    assert ("item_unmeasured", 1) in codes
    assert not any(c == "allocation_shortfall" and i == 1 for c, i in codes)
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    assert "分配不足" in html and "大写" in html and "人民币" in html
    assert "http://" not in html and "https://" not in html


def test_rerun_replaces_only_that_date(workdir):
    assert run(workdir, "2026-11-10") == 1
    assert run(workdir, "2026-11-11") == 1
    before = counts(workdir)
    assert run(workdir, "2026-11-10") == 1
    assert counts(workdir) == before
    # change the 10th's exports: only the 10th changes
    (workdir / "exports" / "value-added-2026-11-10.csv").unlink()
    assert run(workdir, "2026-11-10") == 1
    after = counts(workdir)
    for table in after:
        assert after[table][1] == before[table][1], table  # the 11th untouched
    assert after["resource_lines"][0][1] == before["resource_lines"][0][1] - 1


def test_shortfall_value_and_daxie_in_json(workdir):
    run(workdir, "2026-11-10")
    rep = report(workdir, "2026-11-10")
    # item 14: 4 accounts short x 940.80 / 12 / 30 days = 10.4533.. -> 10.45
    assert rep["shortfall_value"]["amount"] == "10.45"
    assert rep["shortfall_value"]["daxie"] == "人民币壹拾元零肆角伍分"


def test_rejected_file_is_kept_but_does_not_count(workdir):
    (workdir / "exports" / "security-2026-11-10.csv").write_bytes(
        (HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n").encode("gbk"))
    assert run(workdir, "2026-11-10") == 2
    rep = report(workdir, "2026-11-10")
    src = {s["source"]: s for s in rep["sources"]}
    assert src["export:security"]["status"] == "rejected"
    assert src["export:licences"]["status"] == "ok"
    rejected = [f for f in rep["findings"] if f["code"] == "data_rejected"]
    assert rejected and "-74" in rejected[0]["message"]
    items = {i["item_no"]: i for i in rep["items"]}
    assert items[17]["status"] == "unknown"
    assert items[28]["status"] in ("ok", "idle")


def test_values_from_sources_are_escaped_in_html(workdir):
    (workdir / "exports" / "evil-2026-11-10.csv").write_text(
        "服务名称,资源ID,订购数量,使用数量\n<script>alert(1)</script>,<b>x</b>,1,1\n",
        encoding="utf-8")
    run(workdir, "2026-11-10")
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_clean_night_exits_0(workdir):
    # only export items, all delivered in full; every other item marked as not measured
    from tests.conftest import clean_workdir, write_config
    clean_workdir(workdir)
    write_config(workdir, items=workdir / "items.csv")
    assert run(workdir, "2026-11-10") == 0
    rep = report(workdir, "2026-11-10")
    assert rep["findings"] == [] and rep["exit_code"] == 0


def test_second_run_waits_then_exits_4(workdir, capsys):
    with run_lock(workdir / "recon.duckdb", 0):
        started = time.monotonic()
        assert run(workdir, "2026-11-10") == 4
        assert time.monotonic() - started >= 0.9  # lock_wait_seconds = 1
    assert "another recon run holds the store" in capsys.readouterr().err
    assert run(workdir, "2026-11-10") == 1  # lock released: runs


def test_concurrent_processes_do_not_corrupt_the_store(workdir):
    cmd = [sys.executable, "-m", "recon.cli", "--config", str(workdir / "recon.toml"), "run",
           "--date", "2026-11-10", "-q"]
    # generous wait so both complete, one after the other
    (workdir / "recon.toml").write_text((workdir / "recon.toml").read_text().replace(
        "lock_wait_seconds = 1", "lock_wait_seconds = 120"))
    procs = [subprocess.Popen(cmd, stderr=subprocess.PIPE) for _ in range(2)]
    codes = [p.wait(timeout=180) for p in procs]
    assert codes == [1, 1], [p.stderr.read() for p in procs]
    db = duckdb.connect(str(workdir / "recon.duckdb"), read_only=True)
    runs = db.execute("SELECT status FROM runs ORDER BY run_id").fetchall()
    assert runs == [("complete",), ("complete",)]
    assert db.execute("SELECT count(DISTINCT run_id) FROM source_runs").fetchone()[0] == 1


def test_unreadable_store_path_exits_4_and_writes_nothing(workdir, capsys):
    bad = workdir / "not-a-db"
    bad.write_text("this is not duckdb")
    assert run(workdir, "2026-11-10", "--db", str(bad)) == 4
    assert "not-a-db" in capsys.readouterr().err
    assert not (workdir / "out" / "2026-11-10").exists()
    assert bad.read_text() == "this is not duckdb"


def test_date_outside_term_is_bad_input(workdir, capsys):
    # before the term (after it is the transition period: tests/test_transition.py)
    assert run(workdir, "2026-07-09") == 3
    assert "outside the contract term" in capsys.readouterr().err


def test_help_on_every_subcommand(capsys):
    for argv in (["--help"], ["run", "--help"], ["contract", "--help"],
                 ["contract", "check", "--help"], ["contract", "show", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
    assert "YYYY-MM-DD" in capsys.readouterr().out


def test_cron_log_is_plain_lines_without_progress_bars(workdir, capfd):
    # not a terminal: one timestamped line per step, no GX/tqdm progress bars
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10"])
    assert code == 1
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines and all(ln.startswith("2026-") or ln.startswith("20") for ln in lines), lines[:5]
    assert "+08:00 recon: " in lines[0]
    assert "Calculating Metrics" not in err and "\r" not in err


def test_mapping_naming_an_unknown_item_is_configuration_error(workdir, capsys):
    from recon.data import CONFIG_DIR
    bad = workdir / "mapping.toml"
    bad.write_text((CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
                   .replace("general = 5", "general = 99"), encoding="utf-8")
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        str(CONFIG_DIR / "mapping.toml"), str(bad)), encoding="utf-8")
    assert run(workdir, "2026-11-10") == 3
    err = capsys.readouterr().err
    assert "mapping.toml: block_storage.volume_types.general = 99" in err
    assert not (workdir / "recon.duckdb").exists()


def test_malformed_config_exit_3(workdir, capsys):
    (workdir / "recon.toml").write_text("[contract\nsigned = ", encoding="utf-8")
    assert run(workdir, "2026-11-10") == 3
    assert "not valid TOML" in capsys.readouterr().err


def test_unmeasured_items_alone_are_findings_not_an_incomplete_night(workdir):
    """README: 2 is a source that failed or was rejected; an item the configuration leaves
    unmeasured while every configured source answered is a finding (1)."""
    assert run(workdir, "2026-11-10") == 1
    rep = report(workdir, "2026-11-10")
    assert {s["status"] for s in rep["sources"]} == {"ok"}
    assert any(f["code"] == "item_unmeasured" for f in rep["findings"])
    assert rep["exit_code"] == 1


def test_contract_check_lists_the_items_no_configured_source_measures(workdir, capsys):
    from recon.cli import main
    assert main(["--config", str(workdir / "recon.toml"), "contract", "check"]) == 0
    out = capsys.readouterr().out
    assert "第1项" in out and "openstack:compute 未配置" in out  # no cloud configured
    assert "第17项" not in out  # an export item: [exports] dir is set
