"""Issue 24: no Python traceback reaches the user, whatever the input.

Every command (run, init, contract check/show, scaling add/import/list, incidents
import/list, report monthly/index, finance verify/schedule, export parquet) is driven as a
real process with bad input: a path under a regular file, a folder where a file belongs, a
file that is missing, binary, empty or only a header, another program's DuckDB file, a
DuckDB file that is not one, dates outside the term, numbers that are not, clouds.yaml that
is not YAML, notes of 10,000 characters, right-to-left overrides.  Each must end with a
documented exit code (0-4) and one line, never "Traceback" (exit 5, the last net of
recon/cli/__init__.py, is for what nobody foresaw: none of these may reach it).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT, write_config

DAY = "2026-11-10"
INCIDENT_HEADER = ("事件编号,系统名称,重要系统,类型,发生时间,响应时间,到场时间,定位时间,"
                   "恢复时间,是否中断服务,影响,投诉,事件级别,重大损失,备注\n")
SCALING_HEADER = "申请编号,序号,目标数量,申请时间\n"
STATEMENT_HEADER = "发票号码,序号,项目名称,计费起,计费止,数量,单价,金额\n"
RLO = "\u202e"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A recon folder with one stored night and a shelf of bad files."""
    import shutil

    from recon.data import DEMO

    f = tmp_path_factory.mktemp("bad")
    shutil.copytree(DEMO / "exports", f / "exports")
    (f / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    write_config(f)
    assert _recon(f, "run", "--date", DAY, "-q").returncode in (1, 2)
    (f / "afile").write_text("a regular file", encoding="utf-8")
    (f / "adir").mkdir()
    (f / "bin.csv").write_bytes(bytes(range(256)) * 8)
    (f / "empty.csv").write_bytes(b"")
    (f / "nul.csv").write_bytes(b"a,b\x00,c\n1,\x00,3\n")
    db = duckdb.connect(str(f / "other.duckdb"))
    db.execute("CREATE TABLE invoices (id INTEGER)")
    db.close()
    (f / "garbage.duckdb").write_text("not a database", encoding="utf-8")
    (f / "bad.yaml").write_text("clouds:\n  sim:\n    auth: [unclosed\n", encoding="utf-8")
    (f / "incidents-header.csv").write_text(INCIDENT_HEADER, encoding="utf-8")
    (f / "incidents-odd.csv").write_text(
        INCIDENT_HEADER + f"R-1,rtl{RLO}gpj.exe,否,故障,2026-11-10 10:00,2026-11-10 10:03,,,"
        f"2026-11-10 10:04,是,,否,,否,{'长' * 10_000}\n"
        "R-2,门户,否,故障,inf,nan,,,-1,是,,否,,否,\n", encoding="utf-8")
    (f / "scaling-header.csv").write_text(SCALING_HEADER, encoding="utf-8")
    (f / "scaling-odd.csv").write_text(
        SCALING_HEADER + "K-1,inf,99999,2026-11-05 10:00\nK-2,1,inf,2026-11-05\n"
        "K-3,1,1e999999,2026-11-05\n", encoding="utf-8")
    (f / "scaling-huge.csv").write_text(SCALING_HEADER
                                        + "K-3,1,1e999999,2026-11-05\n", encoding="utf-8")
    (f / "statement-header.csv").write_text(STATEMENT_HEADER, encoding="utf-8")
    (f / "statement-odd.csv").write_text(
        STATEMENT_HEADER + f"N{RLO}1,inf,x,2026-11-10,2026-11-10,inf,NaN,1e999999\n",
        encoding="utf-8")
    (f / "items-bin.toml").write_text(
        (f / "recon.toml").read_text(encoding="utf-8").replace(
            str(ROOT / "contract_items.csv"), str(f / "bin.csv")), encoding="utf-8")
    (f / "binary.toml").write_bytes(b"\xff\xfe\x00[contract\x00")
    return f


def _recon(folder: Path, *argv, config: str = "recon.toml", env: dict | None = None):
    environ = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    environ.pop("RECON_CONFIG", None)
    environ.pop("RECON_DB", None)
    return subprocess.run([sys.executable, "-m", "recon.cli", "--config",
                           str(folder / config), *argv], cwd=folder, env=environ,
                          capture_output=True, text=True, timeout=600)


F = "{F}"
CASES = {
    # run
    "run --out under a file": ["run", "--date", DAY, "-q", "--out", "{F}/afile/out"],
    "run --out is a file": ["run", "--date", DAY, "-q", "--out", "{F}/afile"],
    "run --db foreign": ["run", "--date", DAY, "-q", "--db", "{F}/other.duckdb"],
    "run --db garbage": ["run", "--date", DAY, "-q", "--db", "{F}/garbage.duckdb"],
    "run --db a folder": ["run", "--date", DAY, "-q", "--db", "{F}/adir"],
    "run --db under a file": ["run", "--date", DAY, "-q", "--db", "{F}/afile/x.duckdb"],
    "run outside the term": ["run", "--date", "2030-01-01", "-q"],
    "run clouds.yaml not YAML": ["run", "--date", DAY, "-q", "--cloud", "sim"],
    "run binary config": ["run", "--date", DAY, "-q", "@binary.toml"],
    "run config is a folder": ["run", "-q", "@adir"],
    # init
    "init into a file": ["init", "{F}/afile"],
    "init under a file": ["init", "{F}/afile/sub"],
    # contract
    "contract check binary items": ["contract", "check", "@items-bin.toml"],
    "contract check missing config": ["contract", "check", "@missing.toml"],
    "contract show bad date": ["contract", "show", "--date", "2026-13-45"],
    "contract show binary items": ["contract", "show", "@items-bin.toml"],
    # scaling
    "scaling add unknown item": ["scaling", "add", "--id", "X", "--item", "999", "--target",
                                 "5", "--requested", "2026-11-05"],
    "scaling add inf target": ["scaling", "add", "--id", "X", "--item", "1", "--target",
                               "inf", "--requested", "2026-11-05"],
    "scaling add NaN increase": ["scaling", "add", "--id", "X", "--item", "1", "--increase",
                                 "NaN", "--requested", "2026-11-05"],
    "scaling add huge target": ["scaling", "add", "--id", "X", "--item", "1", "--target",
                                "1e999999", "--requested", "2026-11-05"],
    "scaling add outside the term": ["scaling", "add", "--id", "X", "--item", "1", "--target",
                                     "5", "--requested", "1999-01-01"],
    "scaling add foreign db": ["scaling", "add", "--id", "X", "--item", "1", "--target", "5",
                               "--requested", "2026-11-05", "--db", "{F}/other.duckdb"],
    "scaling import binary": ["scaling", "import", "{F}/bin.csv"],
    "scaling import empty": ["scaling", "import", "{F}/empty.csv"],
    "scaling import header only": ["scaling", "import", "{F}/scaling-header.csv"],
    "scaling import odd numbers": ["scaling", "import", "{F}/scaling-odd.csv"],
    "scaling import NUL bytes": ["scaling", "import", "{F}/nul.csv"],
    "scaling import huge target": ["scaling", "import", "{F}/scaling-huge.csv"],
    "scaling import a folder": ["scaling", "import", "{F}/adir"],
    "scaling import missing": ["scaling", "import", "{F}/missing.csv"],
    "scaling list garbage db": ["scaling", "list", "--db", "{F}/garbage.duckdb"],
    "scaling list db is a folder": ["scaling", "list", "--db", "{F}/adir"],
    "scaling list foreign db": ["scaling", "list", "--db", "{F}/other.duckdb"],
    "scaling list no store": ["scaling", "list", "--db", "{F}/nothing.duckdb"],
    # incidents
    "incidents import binary": ["incidents", "import", "{F}/bin.csv"],
    "incidents import empty": ["incidents", "import", "{F}/empty.csv"],
    "incidents import header only": ["incidents", "import", "{F}/incidents-header.csv"],
    "incidents import odd": ["incidents", "import", "{F}/incidents-odd.csv"],
    "incidents import a folder": ["incidents", "import", "{F}/adir"],
    "incidents import NUL bytes": ["incidents", "import", "{F}/nul.csv"],
    "incidents list bad month": ["incidents", "list", "--month", "2026-13"],
    "incidents list foreign db": ["incidents", "list", "--db", "{F}/other.duckdb"],
    # report
    "report monthly outside the term": ["report", "monthly", "--month", "2030-01"],
    "report monthly out under a file": ["report", "monthly", "--month", "2026-11", "--out",
                                        "{F}/afile/x"],
    "report monthly foreign db": ["report", "monthly", "--month", "2026-11", "--db",
                                  "{F}/other.duckdb"],
    "report index out is a file": ["report", "index", "--out", "{F}/afile"],
    "report index garbage db": ["report", "index", "--db", "{F}/garbage.duckdb"],
    # finance
    "finance verify binary": ["finance", "verify", "{F}/bin.csv"],
    "finance verify empty": ["finance", "verify", "{F}/empty.csv"],
    "finance verify header only": ["finance", "verify", "{F}/statement-header.csv"],
    "finance verify odd numbers": ["finance", "verify", "{F}/statement-odd.csv"],
    "finance verify a folder": ["finance", "verify", "{F}/adir"],
    "finance verify missing": ["finance", "verify", "{F}/missing.csv"],
    "finance verify out under a file": ["finance", "verify", "{F}/statement-odd.csv", "--out",
                                        "{F}/afile/x"],
    "finance schedule binary calendar": ["finance", "schedule", "--calendar", "{F}/bin.csv"],
    "finance schedule calendar folder": ["finance", "schedule", "--calendar", "{F}/adir"],
    "finance schedule calendar missing": ["finance", "schedule", "--calendar",
                                          "{F}/missing.toml"],
    "finance payment add huge amount": ["finance", "payment", "add", "--kind", "first",
                                        "--date", "2026-08-03", "--amount", "1e400"],
    "finance payment add nan": ["finance", "payment", "add", "--kind", "first", "--date",
                                "2026-08-03", "--amount", "NaN"],
    "finance payment add inside the term": ["finance", "payment", "add", "--kind", "final",
                                            "--date", "2026-12-01", "--amount", "1"],
    "finance payment list foreign db": ["finance", "payment", "list", "--db",
                                        "{F}/other.duckdb"],
    "finance settle out under a file": ["finance", "settle", "--out", "{F}/afile/x"],
    "finance settle foreign db": ["finance", "settle", "--db", "{F}/other.duckdb"],
    "finance settle planned 2027 no calendar": ["finance", "settle", "--planned-final",
                                                "2027-07-20"],
    "finance settle planned in the term": ["finance", "settle", "--planned-final",
                                           "2026-12-01"],
    # export
    "export parquet out under a file": ["export", "parquet", "--out", "{F}/afile/lake"],
    "export parquet outside the term": ["export", "parquet", "--out", "{F}/lake", "--from",
                                        "2030-01-01"],
    "export parquet foreign db": ["export", "parquet", "--out", "{F}/lake2", "--db",
                                  "{F}/other.duckdb"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_no_command_shows_a_traceback(folder, case):
    argv = [a.replace(F, str(folder)) for a in CASES[case]]
    config = next((a[1:] for a in argv if a.startswith("@")), "recon.toml")
    argv = [a for a in argv if not a.startswith("@")]
    env = {"OS_CLIENT_CONFIG_FILE": str(folder / "bad.yaml")}
    r = _recon(folder, *argv, config=config, env=env)
    said = r.stdout + r.stderr
    assert "Traceback" not in said, said[-3000:]
    assert r.returncode in (0, 1, 2, 3, 4), (r.returncode, said[-2000:])
    if r.returncode >= 3:  # one line says what is wrong
        assert "error" in r.stderr, said[-2000:]
