"""Issue 24 point 12: a volume in error is stored with quantity 0 and said, apart, with why
the figure differs from Cinder's own usage (which counts it)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from recon.cli import main
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import write_config

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = "2026-11-10"


def test_a_volume_in_error_is_listed_apart_with_its_size_and_why(workdir, monkeypatch,
                                                                 tmp_path):
    text = SMALL.read_text(encoding="utf-8").replace(
        '        - {name: "data-s-{n}", count: 2, size: 5000, type: ssd}\n',
        '        - {name: "data-s-{n}", count: 2, size: 5000, type: ssd}\n'
        '        - {name: "broken-{n}", count: 1, size: 7, type: ssd, status: error}\n')
    assert "broken-" in text
    scenario = tmp_path / "small-error.yaml"
    scenario.write_text(text, encoding="utf-8")
    with SimServer(load_scenario(scenario), today=date(2026, 11, 10)) as sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        assert main(["--config", str(workdir / "recon.toml"), "run", "--date", DAY,
                     "-q"]) in (1, 2)
    rep = json.loads((workdir / "out" / DAY / "nightly.json").read_text(encoding="utf-8"))
    [vol] = rep["not_counted"]
    assert vol["name"] == "broken-1" and vol["status"] == "error"
    assert vol["size"] == "7" and vol["unit"] == "GB" and vol["item_no"] == 6
    items = {i["item_no"]: i for i in rep["items"]}
    assert items[6]["in_use"] == "10300.000000"  # the 7 GB are not counted
    html = (workdir / "out" / DAY / "nightly.html").read_text(encoding="utf-8")
    assert "未计入的资源（1 个，状态异常）" in html and "broken-1" in html
    assert "Cinder 显示的用量少第6项 7 GB" in html
