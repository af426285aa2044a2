"""The monthly assessment report (月度考核): HTML, PDF and JSON of what the store concluded,
byte-identical for the same store (tests/yearstore.py plays the year it reports on)."""
from __future__ import annotations

import json
import subprocess
from decimal import Decimal

from recon import penalties, rules
from recon.ledgers import scaling
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from tests.conftest import write_config


def test_the_nightly_report_totals_the_same_ledger(year):
    def total(day):
        rep = json.loads((year / "out" / day / "nightly.json").read_text(encoding="utf-8"))
        return rep["penalties"]["amount"]

    # by 12-10: the availability penalties of July, August and September (121,648.25 x 3)
    assert total("2026-12-10") == "364944.75"
    # by 12-12: and KR-9's, dated 12-11 (+ 48,659.30)
    assert total("2026-12-12") == "413604.05"
    # by 2027-01-01: December's three service-level penalties too, as the ledger says
    assert total("2027-01-01") == "608241.25"


def test_report_files_are_byte_identical_and_the_pdf_says_what_the_json_says(year):
    cfg = str(year / "recon.toml")
    outs = [year / "out-a", year / "out-b"]
    for out in outs:
        assert main(["--config", cfg, "report", "monthly", "--month", "2026-12",
                     "--out", str(out)]) == 0
    folder = outs[0] / "monthly" / "2026-12"
    for name in ("assessment.html", "assessment.json", "assessment.pdf"):
        assert (folder / name).read_bytes() == \
            (outs[1] / "monthly" / "2026-12" / name).read_bytes(), name
    js = json.loads((folder / "assessment.json").read_text(encoding="utf-8"))
    assert js["month"] == "2026-12" and js["passed"] is False
    assert js["consecutive_failed_months"] == 1
    assert js["penalty_total"]["amount"] == "608241.25"
    assert js["penalty_cap"]["amount"] == "291955.80"
    assert {c["code"] for c in js["criteria"]} == set(rules.CODES)
    assert {"code", "passed", "value", "threshold", "clause", "reason"} <= set(js["criteria"][0])
    assert {"clause", "coefficient", "amount", "dated"} <= set(js["penalties"][0])
    text = subprocess.run(["pdftotext", "-layout", str(folder / "assessment.pdf"), "-"],
                          capture_output=True, check=True, text=True).stdout
    flat = "".join(text.split())
    for words in ("政务云服务月度考核报告", "考核结论", "未通过", "签字", "甲方", "乙方",
                  "附件3第4条", js["penalty_total"]["text"], js["penalty_total"]["daxie"],
                  js["penalty_cap"]["daxie"], "KR-9", "D-2"):
        assert words in flat, words
    for c in js["criteria"]:
        assert "".join(c["value"].split()) in flat, c["value"]
    for p in js["penalties"]:
        assert f"{Decimal(p['amount']):,.2f}" in flat
    html = (folder / "assessment.html").read_text(encoding="utf-8")
    assert "<script>x" not in html and "平台&lt;script&gt;x&lt;/script&gt;" in html
    # self-contained: no address of anything, not even a namespace URL
    assert "http://" not in html and "https://" not in html and "<svg" in html


def test_a_pdf_is_rendered_again_only_when_its_html_changed_never_kept_stale(year):
    """An assessment's PDF is the rendering of the HTML beside it: written again for an
    unchanged HTML it is kept as it is (not rendered twice); beside a changed HTML (older
    data) it is rendered again, whatever the old PDF held."""
    cfg, out = str(year / "recon.toml"), year / "out-pdf"
    args = ["--config", cfg, "report", "monthly", "--month", "2026-12", "--out", str(out)]
    assert main(args) == 0
    folder = out / "monthly" / "2026-12"
    fresh = (folder / "assessment.pdf").read_bytes()
    (folder / "assessment.pdf").write_bytes(b"kept: the HTML beside it is unchanged")
    assert main(args) == 0
    assert (folder / "assessment.pdf").read_bytes() == b"kept: the HTML beside it is unchanged"
    html = folder / "assessment.html"
    html.write_text(html.read_text(encoding="utf-8").replace("2026-12", "2026-11"),
                    encoding="utf-8")
    assert main(args) == 0
    assert (folder / "assessment.pdf").read_bytes() == fresh


def test_a_month_outside_the_term_is_bad_input(year, capsys):
    # before the term (a month after it is the transition: tests/test_transition.py)
    assert main(["--config", str(year / "recon.toml"), "report", "monthly", "--month",
                 "2026-06", "--out", str(year / "x")]) == 3
    assert "outside the contract term" in capsys.readouterr().err
    assert not (year / "x").exists()


def test_the_scaling_coefficient_lives_in_assessment_toml_alone(tmp_path):
    """附件3 row 4's coefficient is read from assessment.toml by the night's flags, their
    finding text and the ledger alike; the bundled recon.toml no longer carries a copy."""
    from recon.rules import RULES_FILE
    from recon.data import BUNDLED_CONFIG

    assert "penalty_coefficient" not in BUNDLED_CONFIG.read_text(encoding="utf-8")
    text = RULES_FILE.read_text(encoding="utf-8")
    row4 = 'coefficient = "0.20"\nrule = "scaling_notice"'
    assert text.count(row4) == 1
    rules = tmp_path / "assessment.toml"
    rules.write_text(text.replace(row4, row4.replace("0.20", "0.25")), encoding="utf-8")
    cfg = write_config(tmp_path, extra=f'[assessment]\nfile = "{rules}"\n')
    config = load_config(cfg)
    assert penalties.scaling_coefficient(config) == Decimal("0.25")
    # 2,919,558.00 / 12 x 25%, as the nightly finding and the ledger state it
    assert scaling.penalty(load_contract(config), 6, "contract",
                           penalties.scaling_coefficient(config)) == Decimal("60824.13")


def test_the_scaling_coefficient_has_one_value(year, capsys):
    (year / "coef").mkdir()
    cfg = write_config(year / "coef", extra='[scaling]\npenalty_coefficient = "0.25"\n')
    assert main(["--config", str(cfg), "report", "monthly", "--month", "2026-12", "--db",
                 str(year / "recon.duckdb"), "--out", str(year / "coef" / "out")]) == 3
    err = capsys.readouterr().err
    assert "附件3 row 4 coefficient 0.20 differs" in err and "penalty_coefficient 0.25" in err
    assert not (year / "coef" / "out").exists()
    # a night checks it before it pulls or writes anything
    assert main(["--config", str(cfg), "run", "--date", "2026-12-01", "-q"]) == 3
    assert not (year / "coef" / "recon.duckdb").exists()


# -- service-level breaches priced by their annex rows (ledger only, no nights needed) ------


def test_a_misspelt_threshold_in_assessment_toml_is_bad_input(year, capsys):
    from recon.rules import RULES_FILE

    bad = year / "assessment-typo.toml"
    bad.write_text(RULES_FILE.read_text(encoding="utf-8").replace(
        "max_shortfall_days = 7", "max_shortfal_days = 3"), encoding="utf-8")
    (year / "typo").mkdir()
    cfg = write_config(year / "typo", extra=f'[assessment]\nfile = "{bad}"\n')
    assert main(["--config", str(cfg), "report", "monthly", "--month", "2026-12", "--db",
                 str(year / "recon.duckdb"), "--out", str(year / "typo" / "out")]) == 3
    err = capsys.readouterr().err
    assert "assessment-typo.toml:19 [[criteria]] #1: unknown key 'max_shortfal_days'" in err
    assert "did you mean 'max_shortfall_days'" in err
    assert not (year / "typo" / "out").exists()
