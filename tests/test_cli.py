"""The command as cron and an operator meet it: exit codes of usage and config mistakes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recon.cli import main
from recon.data import CONFIG_DIR
from tests.conftest import ROOT


def _usage(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code, capsys.readouterr().err


@pytest.mark.parametrize("argv, says", [
    (["run", "--date", "2027-02-30"], "not a date (YYYY-MM-DD): '2027-02-30'"),
    (["run", "--date", "banana"], "not a date (YYYY-MM-DD): 'banana'"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["scaling", "add", "--id", "R1"], "the following arguments are required"),
    (["contract"], "the following arguments are required: ACTION"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors_exit_3_with_argparse_message(argv, says, capsys):
    code, err = _usage(argv, capsys)
    assert code == 3
    assert says in err and "usage: recon" in err


def test_usage_error_exits_3_from_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "recon.cli", "run", "--date", "2027-02-30"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "recon run: error: argument --date" in proc.stderr


def test_typo_in_recon_toml_key_exits_3_naming_file_line_table_and_closest_key(workdir, capsys):
    cfg = workdir / "recon.toml"
    text = cfg.read_text(encoding="utf-8").replace("lock_wait_seconds", "lock_wiat_seconds")
    cfg.write_text(text, encoding="utf-8")
    line = text.splitlines().index("lock_wiat_seconds = 1") + 1
    assert main(["--config", str(cfg), "run", "--date", "2026-11-10", "-q"]) == 3
    err = capsys.readouterr().err
    assert (f"{cfg}:{line} [store]: unknown key 'lock_wiat_seconds' "
            "(did you mean 'lock_wait_seconds'?)") in err
    assert not (workdir / "recon.duckdb").exists() and not (workdir / "out").exists()


def test_unknown_table_in_recon_toml_exits_3(workdir, capsys):
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n[reprot]\nout = 'x'\n", encoding="utf-8")
    assert main(["--config", str(cfg), "contract", "check"]) == 3
    assert "unknown table [reprot] (did you mean 'report'?)" in capsys.readouterr().err


def _with_mapping(workdir: Path, edit) -> Path:
    mapping = workdir / "mapping.toml"
    mapping.write_text(edit((CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")),
                       encoding="utf-8")
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        str(CONFIG_DIR / "mapping.toml"), str(mapping)), encoding="utf-8")
    return mapping


def test_typo_in_mapping_key_exits_3_naming_the_closest_key(workdir, capsys):
    mapping = _with_mapping(workdir, lambda t: t.replace("floating_ip_item", "floating_ip_itme"))
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 3
    err = capsys.readouterr().err
    assert f"{mapping}:" in err
    assert ("[network]: unknown key 'floating_ip_itme' (did you mean 'floating_ip_item'?)"
            in err)
    assert not (workdir / "recon.duckdb").exists()


def test_typo_inside_a_mapping_rule_list_is_found(workdir, capsys):
    _with_mapping(workdir, lambda t: t.replace("flavor_names = [\"bm.a10x4\"]",
                                               "flavour_names = [\"bm.a10x4\"]"))
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 3
    assert ("mapping.toml:19 [[compute.baremetal]] #2: unknown key 'flavour_names' "
            "(did you mean 'flavor_names'?)"
            in capsys.readouterr().err)


def test_user_names_in_mapping_tables_are_not_keys(workdir):
    # volume types and export aliases are the provider's names, not recon's keys
    _with_mapping(workdir, lambda t: t.replace("ssd = 6", "ssd = 6\n\"高性能-ssd\" = 6")
                  .replace('"MySQL" = 29', '"MySQL" = 29\n"云数据库MySQL版" = 29'))
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 1


HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"


def test_quiet_night_still_logs_what_it_uses_its_problems_and_its_exit_code(workdir, capfd):
    (workdir / "exports" / "security-2026-11-10.csv").write_bytes(
        (HEADER + "17,主机杀毒服务,av,杀毒,-74,70,台\n").encode("gbk"))
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "--quiet"])
    assert code == 2
    lines = capfd.readouterr().err.splitlines()
    assert all("+08:00 recon: " in ln for ln in lines), lines
    text = "\n".join(lines)
    assert (f"config {workdir / 'recon.toml'}; store {workdir / 'recon.duckdb'}; "
            f"reports {workdir / 'out'}") in lines[0]
    problems = [ln for ln in lines if "recon: problem: " in ln]
    assert len(problems) == 1 and "export:security rejected" in problems[0], problems
    assert "-74" in problems[0]
    assert "2026-11-10: exit 2 (" in lines[-1] and " critical, " in lines[-1]
    # progress is what quiet drops: the sources that were fine are not listed
    assert "export:licences ok" not in text


def test_quiet_night_names_the_openstack_source_that_failed(workdir, capfd, monkeypatch):
    import yaml

    from recon.sim.scenario import load_scenario
    from recon.sim.server import SimServer, clouds_yaml
    from tests.conftest import write_config

    with SimServer(load_scenario(ROOT / "tests" / "scenarios" / "small.yaml")) as sim:
        sim.set_fault("block-storage", "http_500")
        clouds = workdir / "clouds.yaml"
        clouds.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
        write_config(workdir, cloud="sim")
        code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                     "-q"])
    assert code == 2
    problems = [ln for ln in capfd.readouterr().err.splitlines() if "problem: " in ln]
    assert [ln for ln in problems if "openstack:block-storage" in ln], problems


def test_db_in_a_missing_folder_exits_3_naming_it_and_creates_nothing(workdir, capsys):
    db = workdir / "no-such-folder" / "recon.duckdb"
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q",
                 "--db", str(db)]) == 3
    err = capsys.readouterr().err
    assert f"the folder {db.parent} does not exist" in err and "(exit 3)" in err
    assert not db.parent.exists() and not (workdir / "out").exists()


def test_recon_db_env_into_a_missing_folder_exits_3_naming_the_variable(workdir, capsys,
                                                                        monkeypatch):
    monkeypatch.setenv("RECON_DB", str(workdir / "nope" / "x.duckdb"))
    assert main(["--config", str(workdir / "recon.toml"), "scaling", "list"]) == 3
    assert "RECON_DB " in capsys.readouterr().err
    assert not (workdir / "nope").exists()


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RECON_CONFIG", "RECON_DB", "OS_CLOUD")}
    return {**env, **extra}


def test_run_outside_a_recon_folder_exits_3_saying_how_to_start(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "recon.cli", "run", "--date", "2026-11-10"],
                          capture_output=True, text=True, cwd=tmp_path, env=_clean_env())
    assert proc.returncode == 3, proc.stderr
    assert f"no recon.toml in {tmp_path}" in proc.stderr and "recon init DIR" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no store, no report folder


def test_init_writes_a_folder_ready_for_contract_check_and_a_night(tmp_path, capsys,
                                                                   monkeypatch):
    for var in ("RECON_CONFIG", "RECON_DB", "OS_CLOUD"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path / "agency"
    assert main(["init", str(folder)]) == 0
    assert f"wrote {folder / 'recon.toml'}" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == [
        "assessment.toml", "contract_amendments.csv", "contract_items.csv", "exports",
        "mapping.toml", "recon.toml"]
    assert list((folder / "exports").iterdir()) == []
    toml = (folder / "recon.toml").read_text(encoding="utf-8")
    assert "recon contract check" in toml and toml.count("\n#") >= 10  # commented for a reader
    monkeypatch.chdir(folder)
    assert main(["contract", "check"]) == 0
    assert "2,919,558.00" in capsys.readouterr().out
    # a night there uses that folder's files: store and reports land beside recon.toml, and
    # the empty exports folder is a problem the log names, not a quiet zero
    assert main(["run", "--date", "2026-11-10", "-q"]) == 2
    assert f"no export files in {folder / 'exports'}" in capsys.readouterr().err
    assert (folder / "recon.duckdb").exists() and (folder / "out" / "2026-11-10").is_dir()


def test_init_overwrites_nothing(tmp_path, capsys):
    (tmp_path / "recon.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(tmp_path)]) == 3
    assert f"{tmp_path / 'recon.toml'}: already exists" in capsys.readouterr().err
    assert (tmp_path / "recon.toml").read_text(encoding="utf-8") == "# mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recon.toml"]


def test_demo_runs_from_any_folder_ignoring_a_recon_toml_there(tmp_path, monkeypatch):
    (tmp_path / "recon.toml").write_text("[contract\nbroken", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--days", "1", "--pulled-only", "--out", "o", "-q"]) == 0
    assert (tmp_path / "o" / "2026-11-01" / "nightly.html").exists()


def test_quiet_night_says_when_a_notification_could_not_be_sent(workdir, capfd):
    import socket

    from tests.conftest import write_config

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    write_config(workdir, extra=f'[notify]\non = "always"\nretries = 0\ntimeout_seconds = 2\n'
                 f'[[notify.channel]]\ntype = "json"\nurl = "http://127.0.0.1:{dead}/hook"\n')
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    assert code == 1  # a notification never changes the night's exit code
    problems = [ln for ln in capfd.readouterr().err.splitlines() if "recon: problem: notify" in ln]
    assert len(problems) == 1 and "FAILED" in problems[0], problems
