"""What a read-only application credential really gets back from real OpenStack services.

Every test reads with the reader's application credential (``reader``), never
with the admin, and compares with the seed spec the stack was filled from.
Both the SDK's resource calls and the raw proxy calls that the project's
connector makes (``conn.compute.get('/flavors/detail', microversion=...)``)
are exercised.
"""
from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

import openstack.exceptions
import pytest

pytestmark = [pytest.mark.conformance,
              # openstacksdk's own RemovedInSDK*Warning noise
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]


def _pages(proxy, path: str, key: str, **kw) -> tuple[list, int]:
    """Follow ``<key>_links`` next links as the connector does; (items, pages)."""
    items, pages, url = [], 0, path
    while url:
        r = proxy.get(url, **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body[key])
        pages += 1
        url = None
        for link in body.get(f"{key}_links", []):
            if link.get("rel") == "next":
                parts = urlsplit(link["href"])
                # the link is absolute (with version prefix): hand the proxy the full URL
                url = link["href"] if parts.scheme else parts.path + "?" + parts.query
        assert pages < 100
    return items, pages


# ---------------------------------------------------------------- identity

def test_reader_authenticates_with_application_credential(real_stack, reader):
    assert real_stack.reader_cloud["auth_type"] == "v3applicationcredential"
    assert "password" not in real_stack.reader_cloud["auth"]
    access = reader.session.auth.get_access(reader.session)
    assert access.project_id == real_stack.project_id
    assert access.role_names == ["reader"]
    assert access.service_catalog.get_endpoints()  # the catalog comes with the token


def test_reader_cannot_write(need, reader):
    need("cinder")
    with pytest.raises(openstack.exceptions.ForbiddenException):
        reader.block_storage.create_volume(name="must-not-exist", size=1)


# ---------------------------------------------------------------- compute

def test_compute_quota_set_with_usage(need, real_stack, reader, spec):
    need("nova")
    qs = reader.compute.get_quota_set(real_stack.project_id, usage=True)
    want = spec["compute_quotas"]
    assert qs.cores == want["cores"] == 1617
    assert qs.ram == want["ram"] == 3835 * 1024
    assert qs.instances == want["instances"]
    servers = (spec.get("servers") or []) if real_stack.compute_enabled else []
    flavors = {f["name"]: f for f in spec["flavors"]}
    assert qs.usage["instances"] == len(servers)
    assert qs.usage["cores"] == sum(flavors[s["flavor"]]["vcpus"] for s in servers)
    assert qs.usage["ram"] == sum(flavors[s["flavor"]]["ram"] for s in servers)
    # the raw detail call the connector makes
    r = reader.compute.get(f"/os-quota-sets/{real_stack.project_id}/detail")
    assert r.status_code == 200, r.text
    body = r.json()["quota_set"]
    assert body["cores"] == {"limit": 1617, "in_use": qs.usage["cores"], "reserved": 0}
    assert body["ram"]["limit"] == 3835 * 1024


def test_flavors_with_extra_specs_raw_pages(need, reader, spec):
    need("nova")
    flavors, pages = _pages(reader.compute, "/flavors/detail?limit=2", "flavors",
                            microversion="2.61")
    assert pages >= 3  # six flavors, two a page: the next links were followed
    got = {f["name"]: f for f in flavors}
    assert set(got) == {f["name"] for f in spec["flavors"]}
    for want in spec["flavors"]:
        f = got[want["name"]]
        assert (f["vcpus"], f["ram"], f["disk"]) == (want["vcpus"], want["ram"], want["disk"])
        # 2.61: extra specs inline in the flavor body
        assert f["extra_specs"] == want.get("extra_specs", {})
    assert got["bm.kp920.910b"]["extra_specs"]["resources:CUSTOM_BM_KUNPENG920_910B"] == "1"
    assert got["bm.a10x4"]["extra_specs"]["resources:CUSTOM_BM_A10X4"] == "1"
    assert got["bm.gpu16"]["extra_specs"]["resources:CUSTOM_BM_GPU16"] == "1"
    assert got["c8m32"]["vcpus"] == 8 and got["c8m32"]["ram"] == 32768


def test_flavors_with_extra_specs_sdk(need, reader, spec):
    need("nova")
    flavors = {f.name: f for f in reader.compute.flavors(details=True)}
    for want in spec["flavors"]:
        f = flavors[want["name"]]
        specs = f.extra_specs or reader.compute.fetch_flavor_extra_specs(f).extra_specs
        assert dict(specs) == want.get("extra_specs", {})


def test_compute_limits_and_microversion_header(need, reader):
    need("nova")
    r = reader.compute.get("/limits", microversion="2.61")
    assert r.status_code == 200
    assert r.headers["OpenStack-API-Version"] == "compute 2.61"
    absolute = r.json()["limits"]["absolute"]
    assert absolute["maxTotalCores"] == 1617


# ---------------------------------------------------------------- block storage

def test_block_storage_quota_with_per_type_usage(need, real_stack, reader, spec):
    need("cinder")
    r = reader.block_storage.get(f"/os-quota-sets/{real_stack.project_id}?usage=True")
    assert r.status_code == 200, r.text
    q = r.json()["quota_set"]
    want = spec["volume_quotas"]
    used = defaultdict(int)
    count = defaultdict(int)
    for v in spec["volumes"]:
        used[v["type"]] += v["size"]
        count[v["type"]] += 1
    assert q["gigabytes_general"]["limit"] == want["gigabytes_general"] == 17082
    assert q["gigabytes_ssd"]["limit"] == want["gigabytes_ssd"] == 101916
    assert q["gigabytes_general-hdd"]["limit"] == want["gigabytes_general-hdd"] == 3000
    # a per-type quota nobody set is -1 (unlimited) in the project's quota set
    assert "gigabytes_ssd-fast" not in want and q["gigabytes_ssd-fast"]["limit"] == -1
    assert q["backup_gigabytes"]["limit"] == want["backup_gigabytes"] == 11
    for vtype in used:
        assert q[f"gigabytes_{vtype}"]["in_use"] == used[vtype]
        assert q[f"volumes_{vtype}"]["in_use"] == count[vtype]
    assert q["gigabytes"]["in_use"] == sum(used.values())
    assert q["volumes"]["in_use"] == len(spec["volumes"])
    # the SDK's QuotaSet has the fixed keys with usage
    qs = reader.block_storage.get_quota_set(real_stack.project_id, usage=True)
    assert qs.backup_gigabytes == 11
    assert qs.usage["gigabytes"] == sum(used.values())


def test_volumes_per_type_raw(need, reader, spec):
    need("cinder")
    r = reader.block_storage.get("/volumes/detail?limit=1000")
    assert r.status_code == 200, r.text
    vols = r.json()["volumes"]
    got = {v["name"]: v for v in vols}
    assert set(got) == {v["name"] for v in spec["volumes"]}
    for want in spec["volumes"]:
        v = got[want["name"]]
        assert v["volume_type"] == want["type"]
        assert v["size"] == want["size"]
        # no volume service runs: the volume stays 'creating' but exists and counts,
        # unless the seed reset it to error (an admin action)
        if want.get("status"):
            assert v["status"] == want["status"]
        else:
            assert v["status"] in ("creating", "available", "in-use")
    # pages of two, as a large tenant would be read
    paged, pages = _pages(reader.block_storage, "/volumes/detail?limit=2", "volumes")
    assert pages >= 3 and sorted(v["id"] for v in paged) == sorted(v["id"] for v in vols)


def test_volumes_sdk_and_types(need, reader, spec):
    need("cinder")
    by_type = defaultdict(int)
    for v in reader.block_storage.volumes(details=True):
        by_type[v.volume_type] += v.size
    want = defaultdict(int)
    for v in spec["volumes"]:
        want[v["type"]] += v["size"]
    assert dict(by_type) == dict(want)
    types = {t.name for t in reader.block_storage.types()}
    assert {"general", "ssd", "legacy-sas"} <= types


# ---------------------------------------------------------------- images

def test_images_with_os_properties(need, reader, spec):
    need("glance")
    r = reader.image.get("/images?limit=1000")
    assert r.status_code == 200, r.text
    got = {i["name"]: i for i in r.json()["images"]}
    for want in spec["images"]:
        im = got[want["name"]]
        for key, value in want["properties"].items():
            assert im[key] == value  # image properties are top-level keys in v2
        assert im["status"] == "active"
    distros = {i["os_distro"] for i in got.values()}
    assert {"kylin", "openeuler", "windows"} <= distros
    sdk = {i.name: i for i in reader.image.images()}
    assert sdk["Kylin V10 SP3"].os_distro == "kylin"
    assert sdk["Windows Server 2019 Datacenter"].os_type == "windows"


# ---------------------------------------------------------------- network

def test_floating_ips(need, real_stack, reader, spec):
    need("neutron")
    ips = list(reader.network.ips(project_id=real_stack.project_id))
    assert len(ips) == spec["network"]["floating_ips"]
    ext_id = real_stack.seeded["network"]["external_network_id"]
    assert all(ip.floating_network_id == ext_id for ip in ips)
    assert all(ip.floating_ip_address.startswith("203.0.113.") for ip in ips)


def test_routers_with_snat(need, reader, spec):
    need("neutron")
    routers = {r.name: r for r in reader.network.routers()}
    for want in spec["network"]["routers"]:
        gw = routers[want["name"]].external_gateway_info
        assert gw["enable_snat"] is want["enable_snat"]
        assert gw["external_fixed_ips"]


def test_qos_policies_with_bandwidth_rules(need, real_stack, reader, spec):
    need("neutron")
    policies = {p.name: p for p in reader.network.qos_policies()}
    want = {q["name"]: q for q in spec["network"]["qos_policies"]}
    # the reader also sees the provider's shared policy of another project
    assert set(policies) == set(want)
    assert all(name.startswith("internet-bw-") for name in policies)
    for name, p in policies.items():
        rules = [r for r in p.rules if r["type"] == "bandwidth_limit"]
        assert [r["max_kbps"] for r in rules] == [want[name]["max_kbps"]]
    shared = policies["internet-bw-shared"]
    assert shared.is_shared and shared.project_id != real_stack.project_id
    own = [p for p in policies.values() if p.project_id == real_stack.project_id]
    assert sum(r["max_kbps"] for p in own for r in p.rules) / 1000 == 3500


def test_network_quota_details(need, real_stack, reader, spec):
    need("neutron")
    q = reader.network.get_quota(real_stack.project_id, details=True)
    assert q.floating_ips == {"limit": 33, "used": spec["network"]["floating_ips"], "reserved": 0}
    assert q.routers["used"] == len(spec["network"]["routers"])
    r = reader.network.get(f"/quotas/{real_stack.project_id}/details")
    assert r.status_code == 200, r.text
    assert r.json()["quota"]["floatingip"]["limit"] == 33


def test_external_network_visible_to_reader(need, real_stack, reader):
    need("neutron")
    nets = {n.name: n for n in reader.network.networks(is_router_external=True)}
    assert nets["internet"].id == real_stack.seeded["network"]["external_network_id"]


# ---------------------------------------------------------------- servers (compute)

def test_servers_with_embedded_flavor_raw_pages(need, real_stack, reader, spec):
    need("compute")
    servers, pages = _pages(reader.compute, "/servers/detail?limit=2", "servers",
                            microversion="2.47")
    assert pages >= 3
    want = {s["name"]: s for s in spec["servers"]}
    got = {s["name"]: s for s in servers}
    assert set(got) == set(want)
    flavors = {f["name"]: f for f in spec["flavors"]}
    images = real_stack.seeded["images"]
    for name, s in got.items():
        assert s["status"] == "ACTIVE"
        assert s["tenant_id"] == real_stack.project_id
        # 2.47: the flavor is embedded (no flavor id), with its extra specs
        f = s["flavor"]
        w = flavors[want[name]["flavor"]]
        assert f["original_name"] == w["name"]
        assert (f["vcpus"], f["ram"], f["disk"]) == (w["vcpus"], w["ram"], w["disk"])
        assert f["extra_specs"] == w.get("extra_specs", {})
        assert s["image"]["id"] == images[want[name]["image"]]
    bm = [s for s in got.values() if s["flavor"]["original_name"].startswith("bm.")]
    assert {s["flavor"]["original_name"] for s in bm} == {"bm.kp920.910b", "bm.a10x4", "bm.gpu16"}


def test_server_addresses_and_floating_ip(need, real_stack, reader, spec):
    need("compute")
    servers = {s.name: s for s in reader.compute.servers(details=True)}
    for srv in spec["servers"]:
        s = servers[srv["name"]]
        if srv.get("network"):
            fixed = [a["addr"] for a in s.addresses[srv["network"]]]
            assert len(fixed) == 1 and fixed[0].startswith("10.20.0.")
        else:
            assert s.addresses == {}
    # which server a floating IP serves: Neutron's port device_id
    for name, fip_id in real_stack.seeded["floating_ip_servers"].items():
        fip = reader.network.get_ip(fip_id)
        port = reader.network.get_port(fip.port_id)
        assert port.device_id == servers[name].id
        assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]


def test_server_usage_counts_bare_metal(need, real_stack, reader, spec):
    need("compute")
    qs = reader.compute.get_quota_set(real_stack.project_id, usage=True)
    flavors = {f["name"]: f for f in spec["flavors"]}
    assert qs.usage["instances"] == len(spec["servers"])
    # Nova counts a bare-metal server's flavor vcpus/ram like a VM's
    assert qs.usage["cores"] == sum(flavors[s["flavor"]]["vcpus"] for s in spec["servers"])
