"""A night is all or nothing: kill -9 a real `recon run` at any moment and the night is
either exactly the old one or exactly the new one, in the store and in the report files."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from recon.data import CONFIG_DIR
from recon.cli import main
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import ROOT, write_config

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = "2026-11-10"
SNAPSHOT = ("source_runs", "measurements", "resource_lines", "item_days", "findings")

#: runs `recon` with one of recon's own functions made to SIGKILL the process on its Nth
#: call (before or after it runs): a kill at an exact moment, where timing cannot aim.
#: A script file, not `python -c`: pyspark (imported by GX) exits 0 when __main__ has no file
KILL_AT = """
import importlib, os, signal, sys
target, when, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
module, _, attr = target.partition(":")
owner = importlib.import_module(module)
*path, name = attr.split(".")
for part in path:
    owner = getattr(owner, part)
original, calls = getattr(owner, name), [0]
def wrapped(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    out = original(*args, **kwargs)
    if calls[0] == nth and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return out
setattr(owner, name, wrapped)
from recon.cli import main
sys.exit(main(sys.argv[4:]))
"""


@pytest.fixture
def night_setup(workdir, monkeypatch):
    """The small cloud as 'sim', a scaling request that flags on DAY, and a first good night."""
    with SimServer(load_scenario(SMALL), today=date(2026, 11, 10)) as sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        cfg = str(workdir / "recon.toml")
        # day 5 of 7 on DAY: a scaling_due_soon flag that must commit with the night
        assert main(["--config", cfg, "scaling", "add", "--id", "KR-T1", "--item", "1",
                     "--target", "99999", "--requested", "2026-11-05"]) == 0
        assert main(["--config", cfg, "run", "--date", DAY, "-q"]) == 1
        yield sim


def run_cmd(workdir: Path) -> list[str]:
    return ["--config", str(workdir / "recon.toml"), "run", "--date", DAY]


def state(workdir: Path) -> dict:
    """What a user sees of DAY: the store's rows and the report folder's files."""
    out = workdir / "out" / DAY
    db = duckdb.connect(str(workdir / "recon.duckdb"), read_only=True)
    try:
        got = {t: sorted(db.execute(f"SELECT * FROM {t} WHERE snapshot_date = ?",
                                    [date.fromisoformat(DAY)]).fetchall(), key=repr)
               for t in SNAPSHOT}
        got["runs"] = db.execute("SELECT run_id, snapshot_date::VARCHAR, status, exit_code "
                                 "FROM runs ORDER BY run_id").fetchall()
        got["resources"] = sorted(db.execute("SELECT * FROM resources").fetchall(), key=repr)
    finally:
        db.close()
    got["files"] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    got["journal"] = (workdir / "recon.duckdb.outbox").exists()
    return got


def settle(workdir: Path) -> None:
    """What any later command does first: here a read command, `recon scaling list`."""
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "list"]) == 0


def assert_whole_night(st: dict, block_storage_fails: bool) -> int:
    """The store's night and the report files are one and the same run; returns its id."""
    assert st["files"].keys() == {"nightly.html", "nightly.json"}, st["files"].keys()
    assert not st["journal"]
    runs = [r for r in st["runs"] if r[1] == DAY]
    assert all(r[2] in ("complete", "incomplete") for r in st["runs"]), st["runs"]
    current = runs[-1]
    rep = json.loads(st["files"]["nightly.json"])
    html = st["files"]["nightly.html"].decode("utf-8")
    assert rep["run_id"] == current[0] and f"运行编号：{current[0]}" in html
    assert current[2] == ("complete" if rep["complete"] else "incomplete")
    assert current[3] == rep["exit_code"]
    # the snapshot is that run's, and its conclusions are all there
    assert {r[1] for r in st["source_runs"]} == {current[0]}
    status = {r[2]: r[3] for r in st["source_runs"]}
    assert status["openstack:block-storage"] == ("failed" if block_storage_fails else "ok")
    assert len(st["item_days"]) == 32
    stored = sorted((r[1], r[3], r[4], r[5]) for r in st["findings"])
    shown = sorted((f["code"], f["item_no"], f["source"], f["message"])
                   for f in rep["findings"])
    assert stored == shown
    assert "scaling_due_soon" in {f[0] for f in stored}
    return current[0]


def test_kill_9_at_spread_out_moments_leaves_the_old_night_or_the_new_one(night_setup,
                                                                          workdir):
    sim = night_setup
    cmd = [sys.executable, "-m", "recon.cli"] + run_cmd(workdir)
    # one uninterrupted night measures how long the write phase takes on this machine
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "storing and reconciling" in line:
            storing = time.monotonic()
        elif "stored as run" in line:
            write_phase = time.monotonic() - storing
    assert proc.wait(timeout=120) == 1
    before = state(workdir)
    assert_whole_night(before, block_storage_fails=False)

    # kills: one during the pull, then spread over the write phase and just past it
    # (denser late: the commit, the renames and the checkpoint come in the last tenth or so)
    moments = [("pulling", 0.3)] + [("storing and reconciling", write_phase * f)
                                    for f in (0, 0.3, 0.6, 0.8, 0.9, 0.97, 1.05)]
    outcomes = []
    for n, (marker, delay) in enumerate(moments):
        fails = n % 2 == 1  # every other night block storage fails: old and new differ
        sim.clear_faults()
        if fails:
            sim.set_fault("block-storage", "http_500")
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        for line in proc.stderr:
            if marker in line:
                break
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=120)
        settle(workdir)
        after = state(workdir)
        if after == before:
            outcomes.append(("old", proc.returncode))
        else:
            assert_whole_night(after, block_storage_fails=fails)
            outcomes.append(("new", proc.returncode))
            before = after
    print("kill outcomes (night, exit status):", outcomes, f"write phase {write_phase:.2f} s")
    assert outcomes[0] == ("old", -signal.SIGKILL)   # killed while pulling: nothing changed
    # the kills landed while the process was storing, not after it had finished
    assert sum(code == -signal.SIGKILL for _, code in outcomes[1:]) >= 3


@pytest.mark.parametrize("target, when, outcome", [
    # report files staged, nothing committed: the pending files go, the old night stays
    ("recon.outbox:Outbox.stage", "after", "old"),
    # every row written, the transaction not committed
    ("recon.store:Store.record_run", "after", "old"),
    # committed, no report file renamed yet: the next command renames them
    ("recon.outbox:Outbox.publish", "before", "new"),
    # committed, nightly.html renamed, nightly.json not yet
    ("recon.outbox:_finish_file", "after", "new"),
])
def test_kill_9_at_each_step_of_the_commit(night_setup, workdir, target, when, outcome):
    night_setup.set_fault("block-storage", "http_500")   # the new night differs from the old
    before = state(workdir)
    script = workdir / "kill_at.py"
    script.write_text(KILL_AT, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script), target, when, "1",
                           *run_cmd(workdir), "-q"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    out = workdir / "out" / DAY
    if outcome == "new":   # the window between the commit and the renames, before settling
        assert (workdir / "recon.duckdb.outbox").exists()
        assert any(p.name.endswith(".pending") for p in out.iterdir())
    settle(workdir)
    after = state(workdir)
    if outcome == "old":
        assert after == before
    else:
        assert after != before
        run_id = assert_whole_night(after, block_storage_fails=True)
        assert run_id == before["runs"][-1][0] + 1


def test_configuration_error_writes_nothing(workdir):
    cfg = str(workdir / "recon.toml")
    assert main(["--config", cfg, "run", "--date", DAY, "-q"]) == 1  # exports only: the OpenStack items unmeasured
    before = state(workdir)
    bad = workdir / "mapping.toml"
    bad.write_text((CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
                   .replace("general = 5", "general = 99"), encoding="utf-8")
    (workdir / "recon.toml").write_text((workdir / "recon.toml").read_text(encoding="utf-8")
                                        .replace(str(CONFIG_DIR / "mapping.toml"),
                                                 str(bad)), encoding="utf-8")
    assert main(["--config", cfg, "run", "--date", DAY, "-q"]) == 3
    assert main(["--config", cfg, "run", "--date", "2026-11-11", "-q"]) == 3
    assert state(workdir) == before   # no runs row, same snapshot, same report
    assert not (workdir / "out" / "2026-11-11").exists()


def test_an_upgrade_finishes_a_night_cut_off_after_its_commit(tmp_path, monkeypatch):
    from recon import store as store_mod
    from recon.store import MIGRATIONS, Store

    path, report = tmp_path / "recon.duckdb", tmp_path / "out" / DAY / "nightly.json"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:-1])   # the previous version
    old = Store(path)
    old.db.execute("BEGIN")   # a night as Night.run writes it, dying right after its commit
    run_id = old.record_run(date.fromisoformat(DAY), "complete", 1)
    old.outbox.stage(run_id, {report: '{"run_id": %d}' % run_id})
    old.db.execute("COMMIT")
    old.db.close()
    assert not report.exists()
    monkeypatch.undo()
    with Store(path) as new:   # migrates (a transaction of its own), then settles
        assert new.version == len(MIGRATIONS)
    assert json.loads(report.read_text("utf-8")) == {"run_id": run_id}
    assert not (tmp_path / "recon.duckdb.outbox").exists()
