"""What each figure is, in cases a provider would dispute: unlimited quotas, several
volume types for one item, shared QoS policies, servers and volumes in error, clouds
without some services, older microversions, a flaky Keystone, and configuration that
cannot work.  All through openstacksdk over HTTP against the simulator."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from recon.data import CATALOG, CONFIG_DIR
from connectors.mapping import load_mapping
from connectors.openstack import OpenStackConnector
from recon.cli import main
from recon.config import load_config
from recon.contract import load_contract
from recon.errors import ConfigError
from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.conftest import write_config
from tests.test_openstack_connector import EXPECTED, figures

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = date(2026, 11, 10)
OTHER_PROJECT = "0123456789abcdef0123456789abcdef"


def small(**quotas) -> dict:
    """The small scenario as a dict; ``quotas`` replaces quota values per service."""
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    for service, values in quotas.items():
        data["quotas"][service.replace("_", "-")].update(values)
    return data


def serve(data: dict) -> SimServer:
    return SimServer(parse_scenario(data, "<test>"), today=DAY)


def connector(sim, mapping, contract, log=None, retries=1, timeout=3, **cloud):
    clouds = clouds_yaml(sim, "t", auth="application_credential")
    clouds["clouds"]["t"].update(cloud)
    return OpenStackConnector("t", mapping, contract, timeout=timeout, retries=retries,
                              cloud_config=clouds, log=log)


def pull(sim, mapping, contract, **kw) -> dict:
    return {r.source: r for r in connector(sim, mapping, contract, **kw).pull(DAY)}


def measurement(results, item, metric):
    return next(m for r in results.values() if r.ok for m in r.measurements
                if (m.item_no, m.metric) == (item, metric))


def night(workdir: Path, sim, monkeypatch, day: str = "2026-11-10") -> tuple[int, dict]:
    """One `recon run` against ``sim`` through clouds.yaml; (exit code, nightly.json)."""
    path = workdir / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds_yaml(sim, "sim", auth="application_credential")))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    write_config(workdir, cloud="sim")
    code = main(["--config", str(workdir / "recon.toml"), "run", "--date", day, "-q"])
    rep = json.loads((workdir / "out" / day / "nightly.json").read_text(encoding="utf-8"))
    return code, rep


# -- 2. unlimited is not unknown ------------------------------------------------------------
UNLIMITED = dict(compute={"cores": -1, "ram": -1}, network={"floatingip": -1},
                 load_balancer={"load_balancer": -1},
                 block_storage={"gigabytes_general": -1, "backup_gigabytes": -1})


def test_minus_one_at_any_level_is_unlimited_and_use_is_still_measured(mapping, contract):
    with serve(small(**UNLIMITED)) as sim:
        results = pull(sim, mapping, contract)
    got = figures(results)
    for item in (1, 2, 8, 10, 11):
        assert got[(item, "allocated")] == "unlimited", item
    # never a count of the load balancers posing as the provider's allocation
    assert got[(11, "in_use")] == 3 and got[(1, "in_use")] == 124 and got[(10, "in_use")] == 10
    # a per-type -1 draws on the project-wide pool, and says so
    general = measurement(results, 5, "allocated")
    assert (general.quantity, general.basis) == (Decimal(200000), "quota")
    names = {p.get("name"): p for p in general.parts}
    assert names["gigabytes_general"]["quantity"] == "unlimited"
    assert names["gigabytes"]["shared"] is True
    assert any("共用项目总配额" in p.get("note", "") for p in general.parts)


def test_per_type_and_project_pool_both_unlimited(mapping, contract):
    with serve(small(block_storage={"gigabytes_general": -1, "gigabytes": -1})) as sim:
        got = figures(pull(sim, mapping, contract))
    assert got[(5, "allocated")] == "unlimited" and got[(5, "in_use")] == 4000
    assert got[(6, "allocated")] == 101916  # its own per-type quota still caps it


def test_unlimited_night_says_buxian_draws_no_shortfall_and_is_complete(workdir, monkeypatch):
    with serve(small(**UNLIMITED)) as sim:
        code, rep = night(workdir, sim, monkeypatch)
    items = {i["item_no"]: i for i in rep["items"]}
    for item in (1, 2, 10, 11):
        assert items[item]["unlimited"] is True and items[item]["allocated"] is None
        assert items[item]["allocated_basis"] == "unlimited"
        assert items[item]["allocated_basis_label"] == "不限"
        assert items[item]["status"] in ("ok", "over") and items[item]["shortfall"] == "0.000000"
    assert items[11]["in_use"] == "3.000000"
    assert not [f for f in rep["findings"] if f["item_no"] in (1, 2, 10, 11)
                and f["code"] in ("allocation_shortfall", "item_unmeasured")]
    assert code != 2, [f["message"] for f in rep["findings"]]
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    assert "不限" in html


def test_a_scaling_request_on_an_unlimited_item_is_met_not_overdue(workdir, monkeypatch):
    # 2,000 more vCPU asked on 11-09; the cores quota is -1 on the night: nothing caps the
    # item, so the target is available (never "overdue" for want of a number)
    with serve(small(**UNLIMITED)) as sim:
        write_config(workdir, cloud="sim")
        assert main(["--config", str(workdir / "recon.toml"), "scaling", "add", "--id", "U-1",
                     "--item", "1", "--target", "3617", "--requested", "2026-11-09"]) == 0
        code, rep = night(workdir, sim, monkeypatch)
    (line,) = [s for s in rep["scaling"] if s["request_id"] == "U-1"]
    assert line["state"] == "completed" and line["latest"] == "Infinity"
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    assert "scaling_overdue" not in {f["code"] for f in rep["findings"]}
    assert "Infinity" not in html


# -- 1. the API sees only use: allocated not measured, use still checked ---------------------
def test_use_only_items_draw_no_shortfall_but_overuse_is_flagged(workdir, monkeypatch):
    data = small()
    # 16 Windows servers against 15 contracted licences; 20 hosts against 2 contracted
    data["timeline"].append({"date": "2026-11-06", "create": {"servers": [
        {"name": "win-x{n:02d}", "count": 14, "flavor": "c4m16", "image": "win2019"},
        {"name": "ra-x{n}", "count": 18, "flavor": "c4m16", "image": "centos7",
         "metadata": {"service": "remote-access"}}]}})
    with serve(data) as sim:
        code, rep = night(workdir, sim, monkeypatch)
    items = {i["item_no"]: i for i in rep["items"]}
    for item in (13, 15, 25, 26, 30):
        assert items[item]["allocated_basis"] == "not_measured", item
        assert items[item]["allocated_basis_label"] == "未计量"
        assert items[item]["status"] != "unknown" and items[item]["shortfall"] is None
    # 21 domestic-Linux servers of 90 bought: the agency's under-use is nobody's shortfall
    assert items[26]["in_use"] == "21.000000" and items[26]["status"] == "ok"
    over = {f["item_no"] for f in rep["findings"] if f["code"] == "usage_over_contract"}
    assert {13, 25} <= over
    shortfalls = {f["item_no"] for f in rep["findings"] if f["code"] == "allocation_shortfall"}
    assert not shortfalls & {13, 15, 25, 26, 30}
    assert not [f for f in rep["findings"] if f["code"] == "item_unmeasured"
                and f["item_no"] in (13, 15, 25, 26, 30)]
    # the report's 计量依据 column says what each figure is and what it adds up
    html = (workdir / "out" / "2026-11-10" / "nightly.html").read_text(encoding="utf-8")
    assert "分配：未计量" in html and "分配：配额" in html and "分配：已交付资源" in html
    # (a part's figure never breaks inside: it is one no-wrap span)
    assert 'gigabytes_ssd <span class="nw">101,916' in html
    assert 'internet-bw-main <span class="nw">3,000' in html


def test_an_export_row_gives_the_allocation_of_a_use_only_item(workdir, monkeypatch):
    (workdir / "exports" / "os-licences-2026-11-10.csv").write_text(
        "序号,服务名称,订购数量,使用数量\n26,国产Linux套餐,80,75\n", encoding="utf-8")
    with serve(small()) as sim:
        code, rep = night(workdir, sim, monkeypatch)
    item = {i["item_no"]: i for i in rep["items"]}[26]
    # allocation from the provider's export, use from what the API sees (21 servers)
    assert item["allocated"] == "80.000000" and item["allocated_basis"] == "export"
    assert item["in_use"] == "21.000000" and item["in_use_basis"] == "usage"
    assert item["shortfall"] == "10.000000" and item["status"] == "shortfall"


# -- 3. several types for one item add up ------------------------------------------------------
def test_two_volume_types_for_one_item_add_up_and_list_the_parts(tmp_path, contract):
    text = (CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
    path = tmp_path / "mapping.toml"
    path.write_text(text.replace("general = 5\n", 'general = 5\n"legacy-sas" = 5\n'),
                    encoding="utf-8")
    mapping = load_mapping(path, contract)
    with serve(small(block_storage={"gigabytes_legacy-sas": 3000})) as sim:
        results = pull(sim, mapping, contract)
    m = measurement(results, 5, "allocated")
    assert m.quantity == Decimal(17082 + 3000)
    assert [(p["name"], p["quantity"]) for p in m.parts] == [
        ("gigabytes_general", "17082"), ("gigabytes_legacy-sas", "3000")]
    assert figures(results)[(5, "in_use")] == 4000 + 600
    assert not [ln for ln in results["openstack:block-storage"].lines if ln.item_no is None]


# -- 4. QoS: the project's own policies; the others named --------------------------------------
def test_shared_policy_of_another_project_is_shown_not_counted(mapping, contract):
    data = small()
    data["timeline"][0]["create"]["qos_policies"] += [
        {"name": "internet-bw-shared", "project_id": OTHER_PROJECT, "shared": True,
         "rules": [{"type": "bandwidth_limit", "max_kbps": 9999000, "direction": "egress"}]},
        # another tenant's own policy, as an admin credential would see it: not ours at all
        {"name": "internet-bw-tenant2", "project_id": OTHER_PROJECT,
         "rules": [{"type": "bandwidth_limit", "max_kbps": 7000000, "direction": "egress"}]}]
    with serve(data) as sim:
        results = pull(sim, mapping, contract)
    assert figures(results)[(9, "allocated")] == 3500
    assert "internet-bw-tenant2" not in {ln.name for ln in results["openstack:network"].lines}
    line = next(ln for ln in results["openstack:network"].lines
                if ln.name == "internet-bw-shared")
    assert line.item_no == 9 and line.quantity == 0 and line.attributes["counted"] is False
    part = next(p for p in measurement(results, 9, "allocated").parts
                if p["name"] == "internet-bw-shared")
    assert part["counted"] is False and part["quantity"] == "9999"


def test_policy_matching_no_pattern_is_an_unmapped_finding_naming_it(workdir, monkeypatch):
    with serve(small()) as sim:
        code, rep = night(workdir, sim, monkeypatch)
    unmapped = {f["source"] + " " + f["message"] for f in rep["findings"]
                if f["code"] == "unmapped_resource"}
    assert any("intranet-limit" in m and "openstack:network" in m for m in unmapped), unmapped
    # unmapped volumes are named by their volume type
    assert any("卷类型 legacy-sas" in m for m in unmapped), unmapped


# -- 5. bare metal in a usable state; volumes in error apart -----------------------------------
def test_servers_and_volumes_in_error_are_listed_not_counted(mapping, contract):
    data = small()
    data["timeline"].append({"date": "2026-11-06",
                             "update": {"servers": [{"match": "kp-1", "set": {"status": "ERROR"}},
                                                    {"match": "g16-1",
                                                     "set": {"status": "SHUTOFF"}}]},
                             "create": {"volumes": [{"name": "broken-1", "size": 500,
                                                     "type": "ssd", "status": "error"}]}})
    with serve(data) as sim:
        results = pull(sim, mapping, contract)
    got = figures(results)
    assert got[(3, "allocated")] == got[(3, "in_use")] == 2      # kp-1 in ERROR
    assert got[(31, "allocated")] == 2                           # SHUTOFF is still delivered
    assert got[(6, "in_use")] == 10300                           # the error volume adds nothing
    kp1 = next(ln for ln in results["openstack:compute"].lines if ln.name == "kp-1")
    assert (kp1.item_no, kp1.quantity, kp1.attributes["counted"]) == (3, 0, False)
    broken = next(ln for ln in results["openstack:block-storage"].lines if ln.name == "broken-1")
    assert (broken.item_no, broken.quantity, broken.attributes["counted"]) == (6, 0, False)
    assert broken.attributes["status"] == "error"


# -- 6. only the services the contract needs ---------------------------------------------------
@pytest.fixture
def contract_without_lb_and_swift(tmp_path):
    lines = (CATALOG / "contract_items.csv").read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.startswith(("7,", "11,")):
            line = line.rsplit(",", 2)[0] + ",export,export_quantity"
        out.append(line)
    items = tmp_path / "items.csv"
    items.write_text("\n".join(out) + "\n", encoding="utf-8")
    (tmp_path / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    return load_contract(load_config(write_config(tmp_path, items=items)))


def test_a_service_no_item_needs_is_never_called(contract_without_lb_and_swift):
    contract = contract_without_lb_and_swift
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    with serve(small()) as sim:
        sim.set_fault("load-balancer", "missing_from_catalog")
        sim.set_fault("object-store", "http_503")
        sim.reset_counts()
        results = pull(sim, mapping, contract)
        counts = sim.request_count
    assert set(results) == {"openstack:compute", "openstack:block-storage",
                            "openstack:network", "openstack:image"}
    assert all(r.ok for r in results.values())
    assert counts.get("load-balancer", 0) == 0 and counts.get("object-store", 0) == 0


def test_a_needed_service_absent_from_the_catalog_fails_in_words(mapping, contract):
    with serve(small()) as sim:
        sim.set_fault("load-balancer", "missing_from_catalog")
        results = pull(sim, mapping, contract)
    lb = results["openstack:load-balancer"]
    assert lb.status == "failed" and lb.stats["reason_code"] == "not_in_catalog"
    assert lb.reason.startswith("服务目录中无此服务")


# -- 7. older clouds -----------------------------------------------------------------------------
@pytest.mark.parametrize("compute_mv, volume_mv", [("2.1", "3.0"), ("2.60", "3.40"),
                                                   ("2.96", "3.70")])
def test_older_microversions_measure_the_same(mapping, contract, compute_mv, volume_mv):
    data = small()
    data["settings"].update(compute_max_microversion=compute_mv,
                            volume_max_microversion=volume_mv)
    with serve(data) as sim:
        results = pull(sim, mapping, contract)
        paths = [p for _, p, _, svc, _ in sim.requests if svc == "compute"]
    assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
    assert figures(results) == EXPECTED
    want = {"2.1": "2.1", "2.60": "2.60", "2.96": "2.79"}[compute_mv]
    assert results["openstack:compute"].stats["versions"] == {"compute": want}
    flavor_reads = [p for p in paths if "/flavors/" in p]
    if compute_mv == "2.1":
        # servers name their flavor by id: each of the 5 flavors is read once, with extra specs
        assert len([p for p in flavor_reads if p.endswith("os-extra_specs")]) == 5
        assert len(flavor_reads) == 10
    else:
        assert flavor_reads == []


# -- 8. Keystone is retried like any other call; retries are said --------------------------------
def test_keystone_5xx_is_retried_and_the_retries_are_logged(mapping, contract):
    said = []
    with serve(small()) as sim:
        sim.set_fault("identity", "http_503", times=2, method="POST")
        sim.set_fault("block-storage", "http_503", times=1)
        results = pull(sim, mapping, contract, log=said.append, retries=3)
    assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
    assert figures(results) == EXPECTED
    assert [m for m in said if m.startswith("identity: ")] == [
        "identity: HTTP 503, retry 1/3 in 0.5 s", "identity: HTTP 503, retry 2/3 in 1 s"]
    assert "block-storage: HTTP 503, retry 1/3 in 0.5 s" in said


def test_keystone_down_fails_every_needed_source_as_auth(mapping, contract):
    with serve(small()) as sim:
        sim.set_fault("identity", "http_503", method="POST")
        results = pull(sim, mapping, contract, retries=1)
    assert results and all(r.status == "failed" for r in results.values())
    assert {r.stats["reason_code"] for r in results.values()} == {"auth"}
    reason = results["openstack:compute"].reason
    assert reason.startswith("认证失败") and "服务端错误" in reason and "503" in reason


@pytest.mark.parametrize("kind, opts, code, words", [
    ("http_503", {}, "http_5xx", "服务端错误"),
    ("malformed_json", {}, "malformed", "应答格式错误"),
    ("delay", {"seconds": 3}, "timeout", "超时"),
])
def test_failure_reason_says_what_happened(mapping, contract, kind, opts, code, words):
    with serve(small()) as sim:
        sim.set_fault("compute", kind, **opts)
        results = pull(sim, mapping, contract, timeout=1, retries=1)
    compute = results["openstack:compute"]
    assert compute.stats["reason_code"] == code and compute.reason.startswith(words)
    image = results["openstack:image"]  # the licences are built from the servers
    assert image.stats["reason_code"] == "dependency"
    assert image.reason.startswith("依赖的数据源失败") and "openstack:compute" in image.reason


# -- issue 12: configuration that cannot work is exit 3 before anything is written ---------------
def test_unknown_cloud_name_lists_the_known_ones(mapping, contract):
    with serve(small()) as sim:
        clouds = clouds_yaml(sim, "provider", auth="application_credential")
        conn = OpenStackConnector("provdier", mapping, contract, cloud_config=clouds)
        with pytest.raises(ConfigError, match="no cloud named 'provdier'; known: provider"):
            conn.preflight()


def test_wrong_secret_is_a_config_error(mapping, contract):
    with serve(small()) as sim:
        clouds = clouds_yaml(sim, "t", auth="application_credential")
        clouds["clouds"]["t"]["auth"]["application_credential_secret"] = "wrong"
        conn = OpenStackConnector("t", mapping, contract, cloud_config=clouds, retries=3)
        with pytest.raises(ConfigError, match="401"):
            conn.preflight()
        assert sim.request_count.get("compute", 0) == 0


def test_unknown_region_is_a_config_error(mapping, contract):
    with serve(small()) as sim:
        conn = connector(sim, mapping, contract, region_name="RegionTwo")
        with pytest.raises(ConfigError, match="region 'RegionTwo' is not in the service catalog"
                                              "; the catalog has: RegionOne"):
            conn.preflight()


def test_no_clouds_yaml_says_where_it_looked(mapping, contract, monkeypatch):
    from openstack.config.loader import CONFIG_FILES
    if any(Path(p).exists() for p in CONFIG_FILES):
        pytest.skip("this machine has a clouds.yaml where openstacksdk looks")
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
    conn = OpenStackConnector("provider", mapping, contract)
    with pytest.raises(ConfigError, match="no clouds.yaml found .* looked in .*/etc/openstack"):
        conn.preflight()


def test_a_night_with_a_wrong_cloud_exits_3_and_writes_nothing(workdir, monkeypatch):
    with serve(small()) as sim:
        path = workdir / "clouds.yaml"
        clouds = clouds_yaml(sim, "sim", auth="application_credential")
        clouds["clouds"]["sim"]["auth"]["application_credential_secret"] = "wrong"
        path.write_text(yaml.safe_dump(clouds))
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        write_config(workdir, cloud="sim")
        code = main(["--config", str(workdir / "recon.toml"), "run", "--date", "2026-11-10",
                     "-q"])
    assert code == 3
    assert not (workdir / "recon.duckdb").exists() and not (workdir / "out").exists()


@pytest.mark.parametrize("kind, opts, code, words", [
    ("http_503", {}, "http_5xx", "服务端错误"),
    ("delay", {"seconds": 3}, "timeout", "超时"),
])
def test_failed_version_discovery_says_the_real_reason(mapping, contract, kind, opts, code,
                                                       words):
    # the SDK says only "does not have any supported versions" whatever happened
    with serve(small()) as sim:
        sim.set_fault("image", kind, discovery=True, **opts)
        results = pull(sim, mapping, contract, timeout=1, retries=1)
    image = results["openstack:image"]
    assert image.stats["reason_code"] == code and image.reason.startswith(words)
    assert "supported versions" not in image.reason


def test_a_transient_discovery_failure_is_retried(mapping, contract):
    said = []
    with serve(small()) as sim:
        # keystoneauth asks the unversioned endpoint twice per discovery
        sim.set_fault("image", "http_503", discovery=True, times=2)
        results = pull(sim, mapping, contract, log=said.append, retries=2)
    assert results["openstack:image"].ok, results["openstack:image"].reason
    assert figures(results) == EXPECTED
    assert "image: version discovery failed, retry 1/2 in 0.5 s" in said


def test_bare_metal_of_two_flavors_for_one_item_add_up_per_flavor(tmp_path, contract):
    text = (CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
    path = tmp_path / "mapping.toml"
    path.write_text(text.replace('flavor_names = ["bm.kp920.910b"]',
                                 'flavor_names = ["bm.kp920.910b", "bm.a10x4"]')
                    .replace('resource_classes = ["CUSTOM_BM_A10X4"]', 'resource_classes = []')
                    .replace('flavor_names = ["bm.a10x4"]', 'flavor_names = []'),
                    encoding="utf-8")
    mapping = load_mapping(path, contract)
    with serve(small()) as sim:
        results = pull(sim, mapping, contract)
    m = measurement(results, 3, "allocated")
    assert (m.quantity, m.basis) == (Decimal(4), "delivered")
    assert [(p["name"], p["quantity"]) for p in m.parts] == [("bm.a10x4", "1"),
                                                             ("bm.kp920.910b", "3")]
    assert figures(results)[(4, "allocated")] == 0

