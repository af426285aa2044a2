"""One contract across several regions and projects (`[openstack] scopes`, issue 16).

The simulator serves each scope from the same scenario file shape behind one
Keystone (SimServer.add_scope); the night reaches them through clouds.yaml and
openstacksdk exactly as it reaches a real cloud.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon.cli import main
from recon.data import CONFIG_DIR
from recon.sim.scenario import load_scenarios
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import write_config

SCOPES = Path(__file__).parent / "scenarios" / "scopes.yaml"
MAIN = "RegionOne/bjwjw-bigdata"
GPU = "GPU-Region/bjwjw-ai"
DMZ = "RegionOne/bjwjw-dmz"


@pytest.fixture
def fleet(workdir, monkeypatch):
    """The three scopes of scopes.yaml behind one Keystone, reachable as cloud 'sim'."""
    first, *others = load_scenarios(SCOPES)
    sim = SimServer(first, today=date(2026, 11, 10))
    peers = {f"{sc.region}/{sc.project['name']}": sim.add_scope(
        SimServer(sc, today=date(2026, 11, 10))) for sc in others}
    with sim:
        path = workdir / "clouds.yaml"
        path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim")))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield sim, peers


def scopes_config(workdir, *scopes: str, mapping: dict | None = None,
                  services: dict | None = None) -> None:
    """recon.toml naming ``scopes`` ("REGION/PROJECT") of cloud 'sim' instead of one cloud."""
    rows = []
    for s in scopes:
        region, project = s.split("/")
        own = f', mapping = "{mapping[s]}"' if mapping and s in mapping else ""
        if services and s in services:
            own += f", services = {json.dumps(services[s])}"
        rows.append(f'{{cloud = "sim", region = "{region}", project = "{project}"{own}}}')
    cfg = write_config(workdir)
    text = cfg.read_text(encoding="utf-8").replace('cloud = ""\n',
                                                   f"scopes = [{', '.join(rows)}]\n")
    cfg.write_text(text, encoding="utf-8")


def night(workdir, day="2026-11-10") -> tuple[int, dict]:
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", day, "-q"])
    rep = json.loads((workdir / "out" / day / "nightly.json").read_text(encoding="utf-8"))
    return code, rep


def single_scope_night(workdir) -> dict:
    """The items as the plain single-cloud form measures the first scope alone."""
    write_config(workdir, cloud="sim")
    _, rep = night(workdir)
    return {i["item_no"]: i for i in rep["items"]}


def test_two_regions_add_up_with_each_scope_its_own_source(fleet, workdir):
    alone = single_scope_night(workdir)
    scopes_config(workdir, MAIN, GPU)
    code, rep = night(workdir)
    status = {s["source"]: s["status"] for s in rep["sources"]}
    assert status[f"openstack:compute@{MAIN}"] == "ok"
    assert status[f"openstack:compute@{GPU}"] == "ok"
    assert "openstack:compute" not in status
    items = {i["item_no"]: i for i in rep["items"]}
    # the GPU region holds the same tenant shape again: every figure doubles
    for no in (1, 2, 6):
        assert Decimal(items[no]["allocated"]) == 2 * Decimal(alone[no]["allocated"])
        assert Decimal(items[no]["in_use"]) == 2 * Decimal(alone[no]["in_use"])
    assert items[1]["measured_by"] == f"openstack:compute@{GPU}, openstack:compute@{MAIN}"
    # the evidence lists what each scope gave
    scopes = {p["scope"] for p in items[6]["parts"]}
    assert scopes == {MAIN, GPU}
    # the nightly JSON keeps each scope's own figures
    used = {(f["scope"], f["metric"]): Decimal(f["quantity"]) for f in items[1]["by_scope"]}
    assert used[(GPU, "in_use")] == used[(MAIN, "in_use")] == Decimal(alone[1]["in_use"])
    assert code == 1
    # the report shows, per item, the scopes that measured it and what each gave
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    row = html[html.index(">1<"):]
    row = row[:row.index("</tr>")]
    # (the service once, in Chinese, each scope under it; the source ids in its title)
    assert f"<small>{MAIN}</small>" in row and f"<small>{GPU}</small>" in row
    assert row.count(">云主机</span>") == 1
    assert f"openstack:compute@{MAIN}" in row and f"openstack:compute@{GPU}" in row
    assert f"{GPU} cores" in row


def test_one_project_in_two_regions_logs_in_once(fleet, workdir):
    sim, _ = fleet
    alone = single_scope_night(workdir)
    scopes_config(workdir, MAIN, "GPU-Region/bjwjw-bigdata")
    sim.requests.clear()
    code, rep = night(workdir)
    items = {i["item_no"]: i for i in rep["items"]}
    assert Decimal(items[1]["allocated"]) == 2 * Decimal(alone[1]["allocated"])
    assert items[1]["measured_by"] == ("openstack:compute@GPU-Region/bjwjw-bigdata, "
                                       f"openstack:compute@{MAIN}")
    # one token for the project, good in both regions
    logins = [r for r in sim.requests if r[0] == "POST" and r[1].endswith("/auth/tokens")]
    assert len(logins) == 1


def test_two_projects_in_one_region(fleet, workdir):
    alone = single_scope_night(workdir)
    scopes_config(workdir, MAIN, DMZ)
    _, rep = night(workdir)
    items = {i["item_no"]: i for i in rep["items"]}
    status = {s["source"]: s["status"] for s in rep["sources"]}
    assert status[f"openstack:block-storage@{DMZ}"] == "ok"
    # the DMZ project holds 4 c4m16 servers of its own (scopes.yaml)
    assert Decimal(items[1]["in_use"]) == Decimal(alone[1]["in_use"]) + 16
    assert Decimal(items[1]["allocated"]) > Decimal(alone[1]["allocated"])


def test_one_scope_failing_leaves_its_items_unknown(fleet, workdir):
    sim, peers = fleet
    peers[GPU].set_fault("block-storage", "http_500")
    scopes_config(workdir, MAIN, GPU)
    code, rep = night(workdir)
    assert code == 2
    items = {i["item_no"]: i for i in rep["items"]}
    for no in (5, 6, 8):
        # the main region's block storage answered, but its figure alone is short
        assert items[no]["status"] == "unknown" and items[no]["allocated"] is None
    assert items[1]["status"] != "unknown"  # compute answered in both scopes
    codes = {(f["code"], f["item_no"], f["source"]) for f in rep["findings"]}
    assert ("source_unavailable", None, f"openstack:block-storage@{GPU}") in codes
    # Chinese first, the scope's source id after it
    down = next(f for f in rep["findings"] if f["code"] == "source_unavailable")
    assert down["message"].startswith(f"数据源 块存储 openstack:block-storage@{GPU} 未能采集")
    assert {s["source"]: s["name"] for s in rep["sources"]}[
        f"openstack:block-storage@{GPU}"] == f"块存储 {GPU}"
    assert not any(c in ("allocation_shortfall", "idle_capacity") and i in (5, 6, 8)
                   for c, i, _ in codes)


@pytest.mark.parametrize("scope,what", [("Nowhere/bjwjw-ai", "region 'Nowhere'"),
                                        ("RegionOne/no-such-project", "no-such-project")])
def test_unknown_region_or_project_is_bad_configuration(fleet, workdir, capsys, scope, what):
    scopes_config(workdir, MAIN, scope)
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    assert code == 3
    err = capsys.readouterr().err
    assert what in err and scope in err
    assert not (workdir / "out").exists() and not (workdir / "recon.duckdb").exists()


def test_each_scope_can_have_its_own_mapping(fleet, workdir):
    # the GPU region calls its SSD volumes "legacy-sas": its own mapping says so
    gpu_mapping = workdir / "mapping-gpu.toml"
    gpu_mapping.write_text((CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8").replace(
        "ssd = 6\n", "ssd = 6\nlegacy-sas = 6\n"), encoding="utf-8")
    alone = single_scope_night(workdir)
    scopes_config(workdir, MAIN, GPU, mapping={GPU: gpu_mapping})
    _, rep = night(workdir)
    items = {i["item_no"]: i for i in rep["items"]}
    # GPU: gigabytes_ssd + gigabytes_legacy-sas (600) on top of the main region's ssd quota
    assert Decimal(items[6]["allocated"]) == 2 * Decimal(alone[6]["allocated"]) + 600
    unmapped = {f["source"] for f in rep["findings"] if f["code"] == "unmapped_resource"}
    assert f"openstack:block-storage@{MAIN}" in unmapped
    assert f"openstack:block-storage@{GPU}" not in unmapped


def test_scopes_and_cloud_together_is_bad_configuration(workdir, capsys):
    cfg = write_config(workdir, cloud="sim")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'cloud = "sim"\n', 'cloud = "sim"\nscopes = [{cloud = "sim", region = "R"}]\n'),
        encoding="utf-8")
    assert main(["--config", str(cfg), "contract", "check"]) == 3
    assert "either cloud or scopes" in capsys.readouterr().err


def test_a_region_without_some_services_pulls_only_the_ones_listed(fleet, workdir):
    alone = single_scope_night(workdir)
    # a GPU region offers compute, volumes and images: no Swift, Octavia or Neutron to pull
    scopes_config(workdir, MAIN, GPU,
                  services={GPU: ["compute", "block-storage", "image"]})
    code, rep = night(workdir)
    pulled = {s["source"] for s in rep["sources"]}
    assert f"openstack:image@{GPU}" in pulled
    assert f"openstack:object-store@{GPU}" not in pulled
    assert f"openstack:network@{GPU}" not in pulled
    items = {i["item_no"]: i for i in rep["items"]}
    assert items[7]["allocated"] == alone[7]["allocated"]   # object storage: one account
    assert items[10]["allocated"] == alone[10]["allocated"]  # public IPs: the main region's
    assert Decimal(items[1]["allocated"]) == 2 * Decimal(alone[1]["allocated"])
    assert Decimal(items[26]["in_use"]) == 2 * Decimal(alone[26]["in_use"])


@pytest.mark.parametrize("listed,says", [(["compute", "image"], "image needs block-storage"),
                                         (["compute", "swift"], "unknown 'swift'")])
def test_a_scope_listing_services_that_cannot_work_is_bad_configuration(
        fleet, workdir, capsys, listed, says):
    scopes_config(workdir, MAIN, GPU, services={GPU: listed})
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    assert code == 3
    assert says in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_a_scope_served_twice_in_a_scenario_file_is_refused(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(SCOPES.read_text(encoding="utf-8").replace(
        "  - {region: GPU-Region}", "  - {region: RegionOne}"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"scopes\[1\].*RegionOne.*bjwjw-bigdata.*twice"):
        load_scenarios(path)


def test_an_application_credential_cannot_reach_another_project(fleet, workdir, capsys):
    sim, _ = fleet
    path = workdir / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
    scopes_config(workdir, MAIN, GPU)  # the credential is bjwjw-bigdata's
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10", "-q"])
    assert code == 3
    assert "scoped to project 'bjwjw-bigdata', not 'bjwjw-ai'" in capsys.readouterr().err
    assert not (workdir / "out").exists()


def test_a_mistyped_key_in_a_scope_is_bad_configuration(workdir, capsys):
    cfg = write_config(workdir)
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        'cloud = ""\n', 'scopes = [{cloud = "sim", regoin = "GPU-Region"}]\n'),
        encoding="utf-8")
    assert main(["--config", str(cfg), "contract", "check"]) == 3
    err = capsys.readouterr().err
    assert "[openstack.scopes]" in err and "'regoin'" in err and "'region'" in err
