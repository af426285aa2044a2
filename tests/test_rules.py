"""recon.rules: assessment.toml loaded once into typed rules, each key declared once with its
type, default, range and clause; and the configuration files' keys checked the same way
(recon.config.Key): a wrong type or range is exit 3 naming file, line and key."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from recon import rules
from recon.cli import main
from recon.config import load_config
from recon.data import BUNDLED_CONFIG, CONFIG_DIR
from recon.errors import ConfigError
from recon.rules import RULES_FILE
from tests.conftest import write_config

TEXT = RULES_FILE.read_text(encoding="utf-8")


def _rules_file(tmp_path: Path, old: str, new: str) -> Path:
    assert TEXT.count(old) >= 1, old
    path = tmp_path / "assessment.toml"
    path.write_text(TEXT.replace(old, new, 1), encoding="utf-8")
    return write_config(tmp_path, extra=f'[assessment]\nfile = "{path}"\n')


def test_the_bundled_rules_typed():
    r = rules.load(load_config(BUNDLED_CONFIG))
    assert r.max_shortfall_days == 7
    assert r.min_availability == Decimal("0.9999")
    assert (r.response_max_mean_minutes, r.recovery_max_mean_minutes,
            r.recovery_max_mean_minutes_important, r.on_site_max_minutes) == (15, 30, 10, 120)
    assert r.min_complete_share == Decimal("0.90")
    assert r.consecutive_months == 3 and r.rectification_failed == ()
    assert r.unattended_after_minutes == 120
    assert r.cap_share == Decimal("0.10") and r.scaling_coefficient == Decimal("0.20")
    assert [c for c in r.criteria] == list(rules.CODES)
    assert r.criteria["availability"].clause == "第三条、附件3第1条"
    assert len(r.rows("on_site")) == 4 and r.row(3, 4).rule == "scaling_notice"


def test_each_threshold_is_declared_once_with_its_type_default_and_clause():
    for code, keys in rules.CRITERIA.items():
        for name, key in keys.items():
            assert key.clause, (code, name)
            assert key.default is not None, (code, name)
    # the bundled file writes each declared default: the file and the code agree
    r = rules.load(load_config(BUNDLED_CONFIG))
    assert r.min_availability == Decimal(rules.CRITERIA["availability"]["min_availability"].default)


def test_loaded_once_while_the_file_is_unchanged(tmp_path):
    cfg = load_config(_rules_file(tmp_path, "max_shortfall_days = 7", "max_shortfall_days = 5"))
    first = rules.load(cfg)
    assert rules.load(cfg) is first and first.max_shortfall_days == 5
    path = rules.rules_path(cfg)
    path.write_text(path.read_text(encoding="utf-8").replace("= 5", "= 6 "), encoding="utf-8")
    assert rules.load(cfg).max_shortfall_days == 6


def test_a_missing_threshold_takes_its_one_default(tmp_path):
    cfg = load_config(_rules_file(tmp_path, 'min_availability = "0.9999"\n', ""))
    assert rules.load(cfg).min_availability == Decimal("0.9999")


def test_the_penalty_formula_and_the_cap():
    # 2,919,558.00 / 12 x 20% = 48,659.30; 10% of the total = 291,955.80
    assert rules.penalty_amount(Decimal("2919558.00"), 12, Decimal("0.20")) == Decimal("48659.30")
    from recon.contract import load_contract
    config = load_config(BUNDLED_CONFIG)
    assert rules.load(config).cap(load_contract(config)) == Decimal("291955.80")


@pytest.mark.parametrize("old, new, words", [
    ("max_shortfall_days = 7", 'max_shortfall_days = "seven"',
     ":19 [[criteria]] #1: max_shortfall_days must be a whole number, got 'seven'"),
    ("max_shortfall_days = 7", "max_shortfall_days = 0", "max_shortfall_days must be at least 1"),
    ('min_availability = "0.9999"', 'min_availability = "NaN"',
     "min_availability must be a number"),
    ('min_availability = "0.9999"', 'min_availability = "1.5"', "min_availability must be at most 1"),
    ("max_mean_minutes = 15", "max_mean_minutes = true", "max_mean_minutes must be a number"),
    ("consecutive_months = 3", "consecutive_months = -3", "[monthly_rule]: consecutive_months "
     "must be at least 1"),
    ("rectification_failed = []", 'rectification_failed = "2026-12"',
     "rectification_failed must be a list of strings"),
    ('coefficient = "0.20"\nrule = "scaling_notice"', 'coefficient = "x"\nrule = "scaling_notice"',
     "[[annex3]] #4: coefficient must be a number"),
    ('rule = "scaling_notice"', 'rule = "scaling"', "[[annex3]] #4: rule must be one of"),
    ("complaints = 3", "complaints = 0", "complaints must be at least 1"),
    ("count = 3\n", "", "rule 'outage_repeated' needs key 'count'"),
    ("required = true", "required = 1", "required must be true or false"),
])
def test_a_wrong_value_in_assessment_toml_is_exit_3_naming_file_line_and_key(
        tmp_path, capsys, old, new, words):
    cfg = _rules_file(tmp_path, old, new)
    assert main(["--config", str(cfg), "run", "--date", "2026-11-10", "-q"]) == 3
    err = capsys.readouterr().err
    assert words in err and "assessment.toml" in err and "Traceback" not in err
    assert not (tmp_path / "recon.duckdb").exists()


# -- recon.toml and mapping.toml: every key typed at load ---------------------------------
def _recon_toml(tmp_path: Path, old: str, new: str) -> Path:
    cfg = write_config(tmp_path)
    text = cfg.read_text(encoding="utf-8")
    assert old in text, old
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    return cfg


@pytest.mark.parametrize("old, new, words", [
    ("months = 12", "months = -12", ":8 [contract]: months must be at least 1, got -12"),
    ('total = "2919558.00"', 'total = "NaN"', ":9 [contract]: total must be a number"),
    ("[exports]\ndir = ", "[exports]\ndir = 5 #", ":23 [exports]: dir must be a string"),
    ("[store]\npath = ", '[store]\npath = ["a.duckdb"] #', ":13 [store]: path must be a string"),
    ("timeout_seconds = 5", "timeout_seconds = -5", ":20 [openstack]: timeout_seconds must be "
     "above 0"),
    ("retries = 1", 'retries = "3"', ":21 [openstack]: retries must be a whole number"),
    ("[report]\n", '[report]\nidle_below = "NaN"\n', ":16 [report]: idle_below must be a number"),
    ("[report]\n", '[report]\nidle_below = "1.5"\n', ":16 [report]: idle_below must be at most 1"),
    ("signed = 2026-07-10", 'signed = "2026-07-10"', ":7 [contract]: signed must be a date"),
    ("lock_wait_seconds = 1", "lock_wait_seconds = false",
     ":14 [store]: lock_wait_seconds must be a number"),
    ("[contract]\n", "contract = 5\n[contractx]\n", ":2: [contract] must be a table"),
])
def test_a_wrong_value_in_recon_toml_is_exit_3_naming_its_line_and_key(tmp_path, capsys, old,
                                                                         new, words):
    cfg = _recon_toml(tmp_path, old, new)
    assert main(["--config", str(cfg), "contract", "check"]) == 3
    err = capsys.readouterr().err
    assert f"recon.toml{words}" in err, err
    assert "contract_items.csv" not in err and "Traceback" not in err


def test_a_wrong_contract_term_is_blamed_on_recon_toml_not_the_items(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(_recon_toml(tmp_path, "months = 12", "months = -12"))
    assert "recon.toml:8 [contract]: months" in str(exc.value)


@pytest.mark.parametrize("old, new, words", [
    ("backup_item = 8\n", "backup_item = 8\nvolume_types = 5\n",
     ":42 [block_storage]: volume_types must be a table"),
    ("vcpu_item = 1", 'vcpu_item = "1"', "[compute]: vcpu_item must be a whole number"),
    ('floating_ip_allocated = "quota"', 'floating_ip_allocated = "all"',
     "floating_ip_allocated must be one of 'quota', 'resources'"),
    ('bandwidth_policies = ["internet-bw-*"]', 'bandwidth_policies = "internet-bw-*"',
     "bandwidth_policies must be a list of strings"),
])
def test_a_wrong_value_in_mapping_toml_is_exit_3(tmp_path, capsys, old, new, words):
    text = (CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
    assert old in text
    mapping = tmp_path / "mapping.toml"
    text = text.replace(old, new, 1)
    if "volume_types = 5" in new:      # the table's own rows go with its header
        text = text.replace("[block_storage.volume_types]\ngeneral = 5\nssd = 6\n", "")
    mapping.write_text(text, encoding="utf-8")
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        str(CONFIG_DIR / "mapping.toml"), str(mapping)), encoding="utf-8")
    assert main(["--config", str(cfg), "run", "--date", "2026-11-10", "-q"]) == 3
    err = capsys.readouterr().err
    assert "mapping.toml:" in err and words in err and "Traceback" not in err


def test_a_clouds_yaml_entry_without_auth_url_is_exit_3_naming_it(tmp_path, capsys, monkeypatch):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  prov:\n    auth:\n      username: u\n      password: p\n"
                      "      project_name: x\n      user_domain_name: Default\n"
                      "      project_domain_name: Default\n    region_name: RegionOne\n",
                      encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    cfg = write_config(tmp_path, cloud="prov")
    assert main(["--config", str(cfg), "run", "--date", "2026-11-10", "-q"]) == 3
    err = capsys.readouterr().err
    assert f"{clouds}: cloud 'prov': missing key auth.auth_url" in err
    assert "Traceback" not in err and not (tmp_path / "recon.duckdb").exists()
