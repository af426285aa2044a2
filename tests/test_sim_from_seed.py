"""The realstack seed as a simulator scenario (tests.realstack.to_scenario), no services needed.

The conformance tier (tests/conformance/test_sim_parity.py) compares this
scenario with the real stack item by item; here it is only loaded and pulled.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from connectors.mapping import load_mapping
from connectors.openstack import OpenStackConnector
from recon.config import load_config
from recon.contract import load_contract
from recon.data import BUNDLED_CONFIG, CONFIG_DIR
from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.realstack.seed import DEFAULT_SEED
from tests.realstack.to_scenario import scenario_from_seed

ROOT = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 25)


def _conformance():
    # the conformance tier's expectations from the seed (plain functions there)
    path = ROOT / "tests" / "conformance" / "test_connector_real.py"
    mod_spec = importlib.util.spec_from_file_location("_recon_conformance_expected", path)
    mod = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def results():
    contract = load_contract(load_config(BUNDLED_CONFIG))
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    scenario = parse_scenario(scenario_from_seed(DEFAULT_SEED), "<seed>")
    with SimServer(scenario) as sim:
        conn = OpenStackConnector("recon-sim", mapping, contract, timeout=10, retries=0,
                                  cloud_config=clouds_yaml(sim, "recon-sim",
                                                           auth="application_credential"))
        return {r.source: r for r in conn.pull(DAY)}


def test_importable_without_the_service_packages():
    # tests.realstack imports only the standard library until a stack starts
    code = ("import sys, tests.realstack.to_scenario as t; t.scenario_from_seed(); "
            "print(sorted({'keystone', 'nova', 'cinder', 'glance', 'neutron', 'openstack'}"
            " & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_scenario_loads_with_the_seeds_tenant():
    sc = parse_scenario(scenario_from_seed(DEFAULT_SEED), "<seed>")
    st = sc.state_at(sc.resolve_today(None))
    assert sc.project["name"] == DEFAULT_SEED["project"]["name"]
    assert {s["name"] for s in st.servers.values()} == {s["name"] for s in DEFAULT_SEED["servers"]}
    assert {v["name"]: v["status"] for v in st.volumes.values()} == {
        v["name"]: v.get("status", "creating") for v in DEFAULT_SEED["volumes"]}
    assert "error" in {v["status"] for v in st.volumes.values()}
    assert not st.backups and not st.ipsec_site_connections and not st.load_balancers
    fips = sorted(st.floating_ips.values(), key=lambda f: f["name"])
    assert len(fips) == DEFAULT_SEED["network"]["floating_ips"]
    assert sum(f["qos_policy_id"] is not None for f in fips) == 1
    assert sum(f["server_id"] is not None for f in fips) == 1


def test_services_the_seed_fills_are_ok(results):
    for source in ("compute", "block-storage", "network", "image"):
        r = results[f"openstack:{source}"]
        assert r.ok, r.reason
    # as in the real stack: no VPNaaS, no Octavia, no Swift
    assert results["openstack:network"].stats.get("absent") == ["vpn"]
    for source in ("load-balancer", "object-store"):
        r = results[f"openstack:{source}"]
        assert not r.ok and "catalog" in r.reason


def test_item_figures_match_the_seed(results):
    conformance = _conformance()
    got = conformance.figures(results)
    want = conformance._expected(DEFAULT_SEED)
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not wrong, f"(item, metric): (connector on the sim, seed) {wrong}"


def test_disputed_cases_on_the_seed_scenario(tmp_path):
    # the same checks the conformance tier makes on the real services
    conformance = _conformance()
    contract = load_contract(load_config(CONFIG_DIR / "recon.toml"))
    scenario = parse_scenario(scenario_from_seed(DEFAULT_SEED), "<seed>")
    with SimServer(scenario) as sim:
        conn = OpenStackConnector("recon-sim", conformance.variant_mapping(contract, tmp_path),
                                  contract, timeout=10, retries=0,
                                  cloud_config=clouds_yaml(sim, "recon-sim",
                                                           auth="application_credential"))
        results = {r.source: r for r in conn.pull(DAY)}
    conformance.check_disputed_cases(results, DEFAULT_SEED)
