"""Issue 24: every bad place named, every failed write undone, no store left unusable.

An --out the user cannot write into, another program's DuckDB file as --db, a journal a
night left behind that names files nobody can place, a clouds.yaml that is not YAML, a
Keystone that answers cut JSON or with a certificate nobody trusts, a service that answers
too slowly.  openstacksdk is never mocked: it talks HTTP to the simulator, through
tests/faultproxy.py where the simulator cannot make the fault itself.
"""
from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from recon.cli import main
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import write_config
from tests.faultproxy import FaultProxy, self_signed

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = "2026-11-10"


def recon(workdir: Path, *argv) -> int:
    return main(["--config", str(workdir / "recon.toml"), *argv])


# -- point 0a / 3: an output folder that cannot be written ------------------------------------
@pytest.mark.parametrize("argv", [
    ["run", "--date", DAY, "-q"],
    ["report", "monthly", "--month", "2026-11"],
    ["report", "index"],
    ["export", "parquet"],
])
def test_out_under_a_regular_file_exits_3_before_anything_is_written(workdir, capsys, argv):
    (workdir / "afile").write_text("not a folder")
    if argv[0] != "run":
        assert recon(workdir, "run", "--date", DAY, "-q") == 1  # a store to read
        capsys.readouterr()
    code = recon(workdir, *argv, "--out", str(workdir / "afile" / "out"))
    err = capsys.readouterr().err
    assert code == 3, err
    assert "afile is a file, not a folder" in err and "Traceback" not in err
    assert not (workdir / "recon.duckdb.outbox").exists()
    if argv[0] == "run":
        assert not (workdir / "recon.duckdb").exists()  # nothing was written
    else:  # the store stays usable by every command
        assert recon(workdir, "scaling", "list") == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_out_in_a_read_only_folder_exits_3(workdir, capsys):
    ro = workdir / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert recon(workdir, "run", "--date", DAY, "-q", "--out", str(ro / "out")) == 3
    finally:
        ro.chmod(0o755)
    assert "cannot write reports there" in capsys.readouterr().err


def test_a_journal_whose_files_cannot_be_placed_never_blocks_the_store(workdir, capsys):
    """A night that died (an older recon) left a journal naming files under a regular file:
    every command used to crash on it (NotADirectoryError) until someone deleted it."""
    assert recon(workdir, "run", "--date", DAY, "-q") == 1
    (workdir / "afile").write_text("not a folder")
    pending = workdir / "afile" / "out" / DAY / "nightly.html"
    journal = workdir / "recon.duckdb.outbox"
    for run_id in (999, 1):  # a run that never committed, then one that did
        journal.write_text(json.dumps({"run_id": run_id, "files": [
            [f"{pending}.run{run_id}.pending", str(pending)]]}), encoding="utf-8")
        capsys.readouterr()
        assert recon(workdir, "scaling", "list") == 0
        assert recon(workdir, "report", "index") == 0
        assert not journal.exists()
        assert "Traceback" not in capsys.readouterr().err
    journal.write_text("{cut", encoding="utf-8")  # a journal cut in half
    assert recon(workdir, "scaling", "list") == 0
    assert not journal.exists()
    assert recon(workdir, "run", "--date", DAY, "-q") == 1


# -- point 0b: another program's DuckDB file ---------------------------------------------------
@pytest.fixture
def foreign(workdir) -> Path:
    path = workdir / "billing.duckdb"
    db = duckdb.connect(str(path))
    db.execute("CREATE TABLE invoices (id INTEGER, amount DECIMAL(18,2))")
    db.execute("INSERT INTO invoices VALUES (1, 9.5)")
    db.close()
    return path


def _tables(path: Path) -> list[str]:
    db = duckdb.connect(str(path), read_only=True)
    try:
        return sorted(r[0] for r in db.execute("SHOW TABLES").fetchall())
    finally:
        db.close()


@pytest.mark.parametrize("argv", [
    ["scaling", "add", "--id", "KR-1", "--item", "1", "--target", "5", "--requested",
     "2026-11-05"],
    ["run", "--date", DAY, "-q"],
    ["scaling", "list"],
    ["report", "index"],
])
def test_another_programs_duckdb_file_is_never_written(workdir, foreign, capsys, argv):
    code = recon(workdir, *argv, "--db", str(foreign))
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"{foreign}: not a recon store" in err and "invoices" in err
    assert "migrate" not in err
    assert _tables(foreign) == ["invoices"]


# -- point 8: a clouds.yaml that is not YAML ----------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ("clouds:\n  sim:\n    auth: [unclosed\n", ":4: clouds.yaml found but is not valid YAML"),
    ("just a sentence\n", "has no 'clouds:' mapping"),
    ("clouds:\n  sim: 3\n", "cloud 'sim' is not a mapping"),
])
def test_a_clouds_yaml_that_cannot_be_read_is_named_not_missing(workdir, monkeypatch, capsys,
                                                                text, says):
    path = workdir / "clouds.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    write_config(workdir, cloud="sim")
    assert recon(workdir, "run", "--date", DAY, "-q") == 3
    err = capsys.readouterr().err
    assert f"{path}" in err and says in err, err
    assert "no clouds.yaml found" not in err
    assert not (workdir / "recon.duckdb").exists()


# -- point 9: a malformed or untrusted Keystone --------------------------------------------------
@pytest.fixture
def sim():
    with SimServer(load_scenario(SMALL), today=date(2026, 11, 10)) as server:
        yield server


def _through(workdir: Path, sim, proxy: FaultProxy, monkeypatch, budget: str = "") -> None:
    clouds = clouds_yaml(sim, "sim", auth="application_credential")
    clouds["clouds"]["sim"]["auth"]["auth_url"] = proxy.url + "/identity/v3"
    (workdir / "clouds.yaml").write_text(yaml.safe_dump(clouds), encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(workdir / "clouds.yaml"))
    write_config(workdir, cloud="sim")
    if budget:
        cfg = workdir / "recon.toml"
        cfg.write_text(cfg.read_text().replace("retries = 1", budget), encoding="utf-8")


def test_keystone_answering_cut_json_fails_the_sources_by_name(workdir, sim, monkeypatch,
                                                               capfd):
    cut = lambda method, path: method == "POST" and path.endswith("/auth/tokens")  # noqa
    with FaultProxy(sim.url, cut=cut) as proxy:
        _through(workdir, sim, proxy, monkeypatch)
        assert recon(workdir, "run", "--date", DAY, "-q") == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "identity: the token answer is not valid JSON" in err
    rep = json.loads((workdir / "out" / DAY / "nightly.json").read_text(encoding="utf-8"))
    failed = [s for s in rep["sources"] if s["source"].startswith("openstack:")]
    assert failed and all(s["status"] == "failed" for s in failed)


def test_a_self_signed_keystone_is_not_trusted_and_says_how_to_trust_it(workdir, sim,
                                                                       monkeypatch, capfd,
                                                                       tmp_path):
    _, ctx = self_signed(tmp_path)
    with FaultProxy(sim.url, tls=ctx) as proxy:
        _through(workdir, sim, proxy, monkeypatch)
        assert recon(workdir, "run", "--date", DAY, "-q") == 3
    err = capfd.readouterr().err
    assert "Traceback" not in err and "SSLError" not in err
    assert f"certificate not trusted for 127.0.0.1:{proxy.port}" in err
    assert "cacert" in err
    assert not (workdir / "recon.duckdb").exists()


# -- point 10: a slow service has a wall-clock budget ----------------------------------------
def test_a_slow_service_is_unavailable_after_its_budget_and_the_night_goes_on(
        workdir, sim, monkeypatch, capfd):
    sim.set_fault("image", "delay", seconds=60)  # every image request held a minute
    with FaultProxy(sim.url) as proxy:
        _through(workdir, sim, proxy, monkeypatch,
                 budget="retries = 3\nbudget_seconds = 4")
        started = time.monotonic()
        assert recon(workdir, "run", "--date", DAY) == 2
        took = time.monotonic() - started
    # without the budget: 4 tries x 5 s timeout + backoff, per page
    assert took < 20 + 12, took  # the night: GX start-up, the other services, 4 s + grace
    err = capfd.readouterr().err
    assert "within the 4 s budget ([openstack] budget_seconds)" in err
    assert "the night took" in err
    rep = json.loads((workdir / "out" / DAY / "nightly.json").read_text(encoding="utf-8"))
    status = {s["source"]: s["status"] for s in rep["sources"]}
    assert status["openstack:image"] == "failed" and status["openstack:compute"] == "ok"


@pytest.mark.parametrize("value", ["0", '"soon"', "-5"])
def test_a_bad_budget_is_a_configuration_error(workdir, capsys, value):
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text().replace("retries = 1", f"retries = 1\nbudget_seconds = "
                                           f"{value}"), encoding="utf-8")
    assert recon(workdir, "run", "--date", DAY, "-q") == 3
    assert "budget_seconds" in capsys.readouterr().err


def test_an_unforeseen_error_is_one_line_exit_5_and_the_traceback_only_with_v(
        workdir, monkeypatch, capsys):
    """The last net (recon/cli/__init__.py): an error nothing foresaw is one line naming the
    command, exit 5; the traceback goes to the debug log (-v) only."""
    import recon.cli.scaling as scaling_cli

    def broken(args):
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(scaling_cli, "cmd_list", broken)
    code = recon(workdir, "scaling", "list")
    err = capsys.readouterr().err
    assert code == 5
    assert "internal error in `recon scaling list`: RuntimeError: something nobody foresaw" \
        in err and "Traceback" not in err
