"""The project's OpenStack connector, as the nightly job runs it, against real services.

The connector authenticates with the reader's application credential from a
clouds.yaml dict, reads every page through the SDK's proxies and turns them
into item figures with connectors/mapping.toml.  The expected figures follow
from the seed (tests.realstack.seed.DEFAULT_SEED) and the mapping's rules.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from recon.data import BUNDLED_CONFIG, CONFIG_DIR

pytestmark = [pytest.mark.conformance,
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]

DAY = date(2026, 11, 25)
#: mapping.toml's bare-metal resource classes -> item
BAREMETAL_ITEMS = {"CUSTOM_BM_KUNPENG920_910B": 3, "CUSTOM_BM_A10X4": 4, "CUSTOM_BM_GPU16": 31}


@pytest.fixture(scope="module")
def results(real_stack, need):
    for service in ("nova", "cinder", "glance", "neutron", "compute"):
        need(service)
    from connectors.mapping import load_mapping
    from connectors.openstack import OpenStackConnector
    from recon.config import load_config
    from recon.contract import load_contract

    contract = load_contract(load_config(BUNDLED_CONFIG))
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    connector = OpenStackConnector("recon-realstack", mapping, contract, timeout=30, retries=1,
                                   cloud_config=real_stack.clouds_yaml("recon-realstack"))
    return {r.source: r for r in connector.pull(DAY)}


def _expected(spec: dict) -> dict:
    flavors = {f["name"]: f for f in spec["flavors"]}
    vcpu = ram_mb = 0
    special: dict[int, int] = {3: 0, 4: 0, 31: 0, 13: 0}
    for s in spec["servers"]:
        f = flavors[s["flavor"]]
        bm = [BAREMETAL_ITEMS[k.split(":", 1)[1]] for k in (f.get("extra_specs") or {})
              if k.split(":", 1)[-1] in BAREMETAL_ITEMS]
        if bm:
            special[bm[0]] += 1
        elif (s.get("metadata") or {}).get("service") == "remote-access":
            special[13] += 1
        else:
            vcpu += f["vcpus"]
            ram_mb += f["ram"]
    by_type: dict[str, int] = {}
    for v in spec["volumes"]:
        if v.get("status") != "error":  # a volume in error is listed, not counted
            by_type[v["type"]] = by_type.get(v["type"], 0) + v["size"]
    q, vq, net = spec["compute_quotas"], spec["volume_quotas"], spec["network"]
    images = {i["name"]: i["properties"] for i in spec["images"]}
    windows = sum(images[s["image"]].get("os_type") == "windows" for s in spec["servers"])
    domestic = sum(images[s["image"]].get("os_distro") in ("kylin", "openeuler")
                   for s in spec["servers"])
    # the project's own policies only: a shared one of another project is not counted
    bandwidth = sum(p["max_kbps"] for p in net["qos_policies"] if not p.get("owner")) / 1000
    out = {
        (1, "allocated"): q["cores"], (1, "in_use"): vcpu,
        (2, "allocated"): q["ram"] / 1024, (2, "in_use"): ram_mb / 1024,
        (5, "allocated"): vq["gigabytes_general"], (5, "in_use"): by_type.get("general", 0),
        (6, "allocated"): vq["gigabytes_ssd"], (6, "in_use"): by_type.get("ssd", 0),
        (8, "allocated"): vq["backup_gigabytes"], (8, "in_use"): 0,
        # every internet-bw-* policy is on the router gateway or a floating IP
        (9, "allocated"): bandwidth, (9, "in_use"): bandwidth,
        (10, "allocated"): net["quotas"]["floatingip"],
        (10, "in_use"): sum(bool(s.get("floating_ip")) for s in spec["servers"]),
        # the API sees only the agency's use of SNAT, licences and hosts: not the allocation
        (30, "in_use"): 1, (25, "in_use"): windows, (26, "in_use"): domestic,
    }
    for item, n in special.items():
        out[(item, "allocated")] = out[(item, "in_use")] = n
    out = {k: Decimal(str(v)) for k, v in out.items()}
    for item in (13, 25, 26, 30):
        out[(item, "allocated")] = "not_measured"
    return out


def figures(results) -> dict:
    """(item, metric) -> quantity, or the basis of a figure without one."""
    return {(m.item_no, m.metric): m.basis if m.quantity is None else m.quantity
            for r in results.values() if r.ok for m in r.measurements}


def variant_mapping(contract, folder: Path):
    """mapping.toml with the seed's extra volume types mapped: general-hdd -> 5, ssd-fast -> 6."""
    from connectors.mapping import load_mapping

    text = (CONFIG_DIR / "mapping.toml").read_text(encoding="utf-8")
    path = folder / "mapping.toml"
    path.write_text(text.replace("general = 5\n", 'general = 5\n"general-hdd" = 5\n"ssd-fast" = 6\n'),
                    encoding="utf-8")
    return load_mapping(path, contract)


def check_disputed_cases(results: dict, spec: dict) -> None:
    """Two types for one item, an unlimited per-type quota, a volume in error and a shared
    QoS policy of another project, as the connector must read them (sim and real alike)."""
    by = {(m.item_no, m.metric): m for r in results.values() if r.ok for m in r.measurements}
    vq = spec["volume_quotas"]
    size = {}
    for v in spec["volumes"]:
        if v.get("status") != "error":
            size[v["type"]] = size.get(v["type"], 0) + v["size"]
    general = by[(5, "allocated")]
    assert general.basis == "quota"
    assert general.quantity == vq["gigabytes_general"] + vq["gigabytes_general-hdd"]
    assert [(p["name"], p["quantity"]) for p in general.parts] == [
        ("gigabytes_general", str(vq["gigabytes_general"])),
        ("gigabytes_general-hdd", str(vq["gigabytes_general-hdd"]))]
    assert by[(5, "in_use")].quantity == size["general"] + size["general-hdd"]
    # ssd-fast is at -1: item 6 draws on the project-wide pool, and says it is shared
    ssd = by[(6, "allocated")]
    assert ssd.basis == "quota" and ssd.quantity == vq["gigabytes"]
    assert {p.get("name"): p.get("quantity") for p in ssd.parts if "name" in p} == {
        "gigabytes_ssd": str(vq["gigabytes_ssd"]), "gigabytes_ssd-fast": "unlimited",
        "gigabytes": str(vq["gigabytes"])}
    assert by[(6, "in_use")].quantity == size["ssd"] + size["ssd-fast"]
    lines = {ln.name: ln for r in results.values() if r.ok for ln in r.lines}
    broken = lines["data-ssd-broken"]
    assert (broken.item_no, broken.quantity, broken.attributes.get("counted")) == (6, 0, False)
    shared = lines["internet-bw-shared"]
    assert (shared.item_no, shared.quantity, shared.attributes.get("counted")) == (9, 0, False)
    assert by[(9, "allocated")].quantity == 3500


def test_disputed_cases_on_real_services(real_stack, need, spec, tmp_path):
    for service in ("cinder", "neutron"):
        need(service)
    from connectors.openstack import OpenStackConnector
    from recon.config import load_config
    from recon.contract import load_contract

    contract = load_contract(load_config(CONFIG_DIR / "recon.toml"))
    connector = OpenStackConnector("recon-realstack", variant_mapping(contract, tmp_path),
                                   contract, timeout=30, retries=1,
                                   cloud_config=real_stack.clouds_yaml("recon-realstack"))
    check_disputed_cases({r.source: r for r in connector.pull(DAY)}, spec)


def test_services_in_the_catalog_are_read(results):
    for source in ("compute", "block-storage", "network", "image"):
        r = results[f"openstack:{source}"]
        assert r.ok, r.reason
        assert r.stats["requests"] >= 1
    # no VPNaaS in this Neutron: the IPsec item stays unmeasured, the source is fine
    assert results["openstack:network"].stats.get("absent") == ["vpn"]


def test_services_not_deployed_are_unknown_not_zero(results):
    # no Octavia and no Swift in the stack: failed (unknown), never measured as 0
    for source in ("load-balancer", "object-store"):
        r = results[f"openstack:{source}"]
        assert not r.ok
        assert "catalog" in r.reason
        assert r.measurements == []


def test_item_figures_match_the_seed(results, spec):
    got = figures(results)
    want = _expected(spec)
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not wrong, f"(item, metric): (connector, seed) {wrong}"


def test_resource_lines_name_real_ids(results, real_stack):
    seeded = real_stack.seeded
    lines = [ln for r in results.values() if r.ok for ln in r.lines]
    server_ids = {ln.resource_id for ln in lines if ln.resource_type == "server"}
    assert server_ids == set(seeded["servers"].values())
    volume_ids = {ln.resource_id for ln in lines if ln.resource_type == "volume"}
    assert volume_ids == set(seeded["volumes"].values())
    unmapped = {ln.name for ln in lines if ln.resource_type == "volume" and ln.item_no is None}
    # legacy-sas and the types the bundled mapping does not know: kept, reported
    assert unmapped == {"old-sas-01", "data-hdd-01", "data-ssd-fast-01"}
    assert all(ln.project_id == real_stack.project_id
               for ln in lines if ln.resource_type in ("server", "volume"))
