"""The annual assessment (年度考核, 第七条2): no verdict before the term ends, what is open;
after it, pass or fail on the agency's [annual] criteria with reasons."""
from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.nightly import Night
from recon.progress import Progress
from tests.conftest import write_config

#: one night a month (every month then has a verdict), the term's last night apart
NIGHTS = [date(2026, 7, 10)] + [date(2026 + (m > 12), (m - 1) % 12 + 1, 1)
                                for m in range(8, 20)]
LAST = date(2027, 7, 9)


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("annual")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    cfg = write_config(folder)
    contract = load_contract(load_config(cfg))
    for day in NIGHTS + [LAST]:
        d = folder / "exports" / day.isoformat()
        d.mkdir(parents=True)
        rows = ["序号,订购数量,使用数量"] + [f"{i.item_no},{i.quantity},{i.quantity * 9 // 10}"
                                       for i in contract.items.values()]
        (d / "console.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    night = Night(load_config(cfg), progress=Progress(quiet=True))
    for day in NIGHTS:
        night.run(day, folder / "recon.duckdb", folder / "out")
    return folder, night


def annual(folder) -> dict:
    assert main(["--config", str(folder / "recon.toml"), "report", "annual"]) == 0
    return json.loads((folder / "out" / "annual" / "annual.json").read_text("utf-8"))


def test_before_the_term_ends_it_says_what_is_open_never_a_verdict(year):
    folder, _ = year
    data = annual(folder)
    assert data["computable"] is False and data["passed"] is None
    assert data["verdict"] == "尚不能判定（服务期未满）"
    assert "服务期至 2027-07-09 届满，本系统数据截至 2027-07-01" in data["open"][0]
    assert all(c["passed"] is None for c in data["criteria"])
    assert all(c["agency_rule"] for c in data["criteria"])
    assert data["months"][0]["partial"] and data["months"][-1]["partial"]
    assert (data["months"][-1]["first"], data["months"][-1]["last"]) == ("2027-07-01",
                                                                         "2027-07-09")
    text = subprocess.run(["pdftotext", "-layout", str(folder / "out" / "annual" / "annual.pdf"),
                           "-"], capture_output=True, text=True, check=True).stdout
    for words in ("政务云服务年度考核报告", "尚不能判定", "甲方规则", "考核小组成员签字",
                  "壹佰肆拾伍万玖仟柒佰柒拾玖元整"):
        assert words in text, words


def test_after_the_term_pass_or_fail_with_reasons(year):
    folder, night = year
    night.run(LAST, folder / "recon.duckdb", folder / "out")
    cfg = str(folder / "recon.toml")
    data = annual(folder)
    assert data["computable"] is True
    # the final acceptance is not recorded yet: open, not a guess
    assert data["passed"] is None and data["verdict"] == "无法判定"
    crit = {c["code"]: c for c in data["criteria"]}
    assert crit["acceptance_passed"]["passed"] is None
    assert crit["no_month_failed_after_deadline"]["passed"] is True
    assert crit["no_termination_condition"]["passed"] is True
    assert main(["--config", cfg, "acceptance", "record", "--period", "final", "--result",
                 "pass", "--date", "2027-07-15"]) == 0
    data = annual(folder)
    assert data["passed"] is True and data["verdict"] == "通过"
    first = (folder / "out" / "annual" / "annual.pdf").read_bytes()
    annual(folder)
    assert (folder / "out" / "annual" / "annual.pdf").read_bytes() == first
    assert main(["--config", cfg, "acceptance", "record", "--period", "final", "--result",
                 "fail", "--date", "2027-07-20"]) == 0
    data = annual(folder)
    assert data["passed"] is False
    assert "返工期限 2027-07-25" in {c["code"]: c for c in data["criteria"]}[
        "acceptance_passed"]["reason"]
