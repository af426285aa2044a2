"""The command as cron and an operator meet it: exit codes of usage and config mistakes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from recon.cli import main
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


def test_usage_error_exit_3_from_the_installed_command(tmp_path):
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
    mapping.write_text(edit((ROOT / "connectors" / "mapping.toml").read_text(encoding="utf-8")),
                       encoding="utf-8")
    cfg = workdir / "recon.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        str(ROOT / "connectors" / "mapping.toml"), str(mapping)), encoding="utf-8")
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
    assert ("[compute.baremetal]: unknown key 'flavour_names' (did you mean 'flavor_names'?)"
            in capsys.readouterr().err)


def test_user_names_in_mapping_tables_are_not_keys(workdir):
    # volume types and export aliases are the provider's names, not recon's keys
    _with_mapping(workdir, lambda t: t.replace("ssd = 6", "ssd = 6\n\"高性能-ssd\" = 6")
                  .replace('"MySQL" = 29', '"MySQL" = 29\n"云数据库MySQL版" = 29'))
    assert main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                 "-q"]) == 2
