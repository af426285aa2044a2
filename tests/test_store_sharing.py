"""Readers and a night share the store: neither makes the other fail; an outside program
that keeps the file past lock_wait_seconds gets exit 4 with its pid."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from recon.cli import main
from recon.store import Store, run_lock

DAY = "2026-11-10"

#: an outside program holding the store open until its stdin closes
HOLD = """
import duckdb, sys
db = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("holding", flush=True)
sys.stdin.read()
"""


def wait_seconds(workdir: Path, seconds: int) -> None:
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "lock_wait_seconds = 1", f"lock_wait_seconds = {seconds}"), encoding="utf-8")


def recon(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "recon.cli", "--config", str(workdir / "recon.toml"), *args]


def hold(workdir: Path, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(workdir / "recon.duckdb"), mode],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "holding\n"
    return proc


def runs(workdir: Path) -> list[tuple]:
    with duckdb.connect(str(workdir / "recon.duckdb"), read_only=True) as db:
        return db.execute("SELECT run_id, snapshot_date::VARCHAR, status FROM runs "
                          "ORDER BY run_id").fetchall()


def test_a_reader_holding_the_store_makes_the_night_wait_not_fail(workdir):
    wait_seconds(workdir, 60)
    Store(workdir / "recon.duckdb").close()
    reader = hold(workdir, "ro")
    night = subprocess.Popen(recon(workdir, "run", "--date", DAY), stderr=subprocess.PIPE,
                             text=True)
    said = []
    for line in night.stderr:   # the pull runs while the reader reads; then the night waits
        said.append(line)
        if "in use by" in line:
            break
    assert f"pid {reader.pid}" in said[-1] and "waiting up to 60 s" in said[-1], said
    time.sleep(0.5)
    reader.stdin.close()        # the reader finishes
    assert reader.wait(timeout=30) == 0
    rest = night.communicate(timeout=120)[1]
    assert night.returncode == 1, rest   # the exports-only night, whole
    assert [r[1:] for r in runs(workdir)] == [(DAY, "complete")]
    assert json.loads((workdir / "out" / DAY / "nightly.json").read_text("utf-8"))["run_id"] == 1


def test_an_outside_program_holding_the_store_past_the_wait_is_exit_4_with_its_pid(workdir):
    Store(workdir / "recon.duckdb").close()
    holder = hold(workdir, "rw")
    try:
        started = time.monotonic()
        night = subprocess.run(recon(workdir, "run", "--date", DAY, "-q"), capture_output=True,
                               text=True, timeout=120)
        waited = time.monotonic() - started
        lister = subprocess.run(recon(workdir, "scaling", "list"), capture_output=True,
                                text=True, timeout=60)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert night.returncode == 4, night.stderr
    assert f"the store is held by pid {holder.pid}" in night.stderr
    assert "waited 1 s (lock_wait_seconds)" in night.stderr
    assert waited >= 1
    assert lister.returncode == 4 and f"pid {holder.pid}" in lister.stderr
    assert runs(workdir) == [] and not (workdir / "out" / DAY).exists()


def test_scaling_list_during_a_night_succeeds_and_so_does_the_night(workdir, capsys):
    wait_seconds(workdir, 60)
    cfg = str(workdir / "recon.toml")
    assert main(["--config", cfg, "run", "--date", "2026-11-09", "-q"]) == 2
    night = subprocess.Popen(recon(workdir, "run", "--date", DAY), stderr=subprocess.PIPE,
                             text=True)
    codes = []
    while night.poll() is None:   # list, list, list ... while the night pulls and writes
        codes.append(main(["--config", cfg, "scaling", "list"]))
        time.sleep(0.1)
    err = night.stderr.read()
    assert night.returncode == 1, err
    assert codes and set(codes) == {0}
    # they met: the night waited for a listing, or a listing for the night's write phase
    readers_waited = "the store is in use by" in capsys.readouterr().err
    assert readers_waited or f"the store is in use by pid {os.getpid()}" in err
    assert [r[1:] for r in runs(workdir)] == [("2026-11-09", "incomplete"),
                                              (DAY, "complete")]


def test_a_second_run_names_the_run_holding_the_lock_in_beijing_time(workdir, capsys):
    with run_lock(workdir / "recon.duckdb", 0, "recon run --date 2026-11-09"):
        assert main(["--config", str(workdir / "recon.toml"), "run", "--date", DAY, "-q"]) == 4
    err = capsys.readouterr().err
    found = re.search(rf"another recon run holds the store \(pid {os.getpid()}: recon run "
                      r"--date 2026-11-09, since (\S+)\); waited 1 s", err)
    assert found, err
    assert found[1].endswith("+08:00")
    assert not (workdir / "recon.duckdb").exists()


def test_recording_a_request_does_not_wait_for_a_night_that_is_pulling(workdir):
    cfg = str(workdir / "recon.toml")
    wait_seconds(workdir, 30)
    # a night holds the run lock for its whole pull; the ledger does not wait for it
    with run_lock(workdir / "recon.duckdb", 0, "recon run --date 2026-11-10"):
        started = time.monotonic()
        assert main(["--config", cfg, "scaling", "add", "--id", "KR-9", "--item", "16",
                     "--target", "99", "--requested", "2026-11-01"]) == 0
        assert time.monotonic() - started < 5
    assert main(["--config", cfg, "run", "--date", DAY, "-q"]) == 1
    rep = json.loads((workdir / "out" / DAY / "nightly.json").read_text("utf-8"))
    assert [s["request_id"] for s in rep["scaling"]] == ["KR-9"]


def test_a_reader_kept_waiting_by_a_night_is_told_which_night(workdir, capsys):
    Store(workdir / "recon.duckdb").close()
    # a night in its write phase: the run lock and the store's file, in one process
    night = subprocess.Popen([sys.executable, "-c", f"""
import sys
from recon.store import Store, run_lock
with run_lock({str(workdir / "recon.duckdb")!r}, 0, "recon run --date {DAY}"), \\
        Store({str(workdir / "recon.duckdb")!r}):
    print("holding", flush=True)
    sys.stdin.read()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert night.stdout.readline() == "holding\n"
        assert main(["--config", str(workdir / "recon.toml"), "scaling", "list"]) == 4
    finally:
        night.stdin.close()
        night.wait(timeout=30)
    err = capsys.readouterr().err
    assert re.search(rf"in use by pid {night.pid}: recon run --date {DAY}, since \S+\+08:00; "
                     r"waiting up to 1 s", err), err
    assert f"held by pid {night.pid}: recon run --date {DAY}" in err
