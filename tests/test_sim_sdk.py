"""The simulator through the real openstacksdk (no mocks): what a connector sees."""
from __future__ import annotations

import pytest
import yaml

import openstack
from openstack.config import loader

from recon.data import DEMO
from recon.sim.scenario import load_scenario, parse_scenario
from recon.sim.server import SimServer, clouds_yaml
from tests.simkit import PROJECT_ID, sdk_connection, small_scenario

PID = PROJECT_ID


@pytest.fixture(scope="module")
def sim():
    with SimServer(parse_scenario(small_scenario()), today="2026-11-02") as s:
        yield s


def _connect_from_file(sim, tmp_path, auth):
    """As a nightly job would: a clouds.yaml on disk, the cloud picked by name."""
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds_yaml(sim, "recon-sim", auth=auth)))
    cfg = loader.OpenStackConfig(config_files=[str(path)], vendor_files=[],
                                 load_envvars=False)
    return openstack.connection.Connection(config=cfg.get_one(cloud="recon-sim"))


@pytest.mark.parametrize("auth", ["password", "application_credential"])
def test_clouds_yaml_connects_with_both_auth_methods(sim, tmp_path, auth):
    d = clouds_yaml(sim, "recon-sim", auth=auth)
    cloud = d["clouds"]["recon-sim"]
    assert cloud["auth"]["auth_url"] == sim.auth_url
    assert cloud["region_name"] == "RegionOne" and cloud["interface"] == "public"
    assert cloud["identity_api_version"] == 3
    conn = _connect_from_file(sim, tmp_path, auth)
    assert conn.current_project_id == PID
    names = {s.name for s in conn.compute.servers(details=True)}
    assert len(names) == 11 and "app-08" not in names


def test_clouds_yaml_rejects_unknown_auth(sim):
    with pytest.raises(ValueError):
        clouds_yaml(sim, auth="kerberos")


def test_servers_across_pages(sim):
    conn = sdk_connection(sim, auth="application_credential")
    sim.reset_counts()
    servers = list(conn.compute.servers(details=True))
    assert len(servers) == 11 and len({s.id for s in servers}) == 11
    pages = [r for r in sim.requests if "/servers/detail" in r[1]]
    assert len(pages) == 3  # server-side page size 5: 5 + 5 + 1
    by_name = {s.name: s for s in servers}
    db = by_name["db-1"]
    assert db.flavor.vcpus == 8 and db.flavor.ram == 32768
    assert db.flavor.original_name == "c8m32"
    assert db.flavor.extra_specs == {"hw:cpu_policy": "shared"}
    assert db.image.id == "11111111-1111-4111-8111-111111111111"
    assert db.metadata == {"service": "remote-access"}
    assert db.project_id == PID and db.status == "ACTIVE"
    assert not (by_name["bfv-1"].image or {}).get("id")  # nova: "" when booted from volume
    assert by_name["bm-1"].flavor.extra_specs["resources:CUSTOM_BM_KUNPENG920_910B"] == "1"
    # an explicit small limit: more pages, same servers
    sim.reset_counts()
    again = list(conn.compute.servers(details=True, limit=2))
    assert {s.id for s in again} == {s.id for s in servers}
    assert len([r for r in sim.requests if "/servers/detail" in r[1]]) >= 6


def test_flavors_and_compute_quota_usage(sim):
    conn = sdk_connection(sim)
    flavors = {f.name: f for f in conn.compute.flavors(details=True)}
    assert flavors["bm.kp920.910b"].extra_specs["resources:VCPU"] == "0"
    assert flavors["c8m32"].vcpus == 8
    q = conn.compute.get_quota_set(PID, usage=True)
    assert q.cores == 100 and q.usage["cores"] == 32
    assert q.ram == 409600 and q.usage["ram"] == 8 * 4096 + 2 * 32768
    assert conn.compute.get_limits().absolute.total_cores_used == 32


def test_volumes_backups_types_and_quota_usage(sim):
    conn = sdk_connection(sim)
    vols = list(conn.block_storage.volumes(details=True))
    assert len(vols) == 11
    assert {v.volume_type for v in vols} == {"general", "ssd", "legacy-sas"}
    boot = [v for v in vols if v.is_bootable][0]
    assert boot.volume_image_metadata["os_distro"] == "centos"
    assert [b.name for b in conn.block_storage.backups(details=True)] == ["bk-1"]
    assert {t.name for t in conn.block_storage.types()} == {"general", "ssd", "legacy-sas"}
    q = conn.block_storage.get_quota_set(PID, usage=True)
    assert q.usage["gigabytes_ssd"] == 40
    assert q.usage["gigabytes_legacy-sas"] == 200
    assert q.backup_gigabytes == 11 and q.usage["backup_gigabytes"] == 5


def test_network_resources(sim):
    conn = sdk_connection(sim)
    fips = list(conn.network.ips())
    assert len(fips) == 5
    assert sum(1 for f in fips if f.port_id) == 2
    routers = list(conn.network.routers())
    assert routers[0].external_gateway_info["enable_snat"] is True
    policies = list(conn.network.qos_policies())
    assert [p.name for p in policies] == ["internet-bw-1"]
    rules = list(conn.network.qos_bandwidth_limit_rules(policies[0]))
    assert sorted((r.direction, r.max_kbps) for r in rules) == [
        ("egress", 1000000), ("ingress", 1000000)]
    assert routers[0].external_gateway_info["qos_policy_id"] == policies[0].id
    assert len(list(conn.network.vpn_ipsec_site_connections())) == 2
    q = conn.network.get_quota(PID, details=True)
    assert q.floating_ips == {"limit": 10, "used": 5, "reserved": 0}
    # paginated through neutron's links when asked for small pages
    assert len(list(conn.network.ips(limit=2))) == 5


def test_load_balancers_images_object_store(sim):
    conn = sdk_connection(sim, auth="application_credential")
    lbs = list(conn.load_balancer.load_balancers())
    assert len(lbs) == 7 and all(lb.provisioning_status == "ACTIVE" for lb in lbs)
    assert conn.load_balancer.get_quota(PID).load_balancers == 8
    images = {i.name: i for i in conn.image.images()}
    assert set(images) == {"win2022", "kylin-v10", "centos-7.9", "uos-20"}
    assert images["win2022"].os_type == "windows"
    assert images["kylin-v10"].os_distro == "kylin"
    acct = conn.object_store.get_account_metadata()
    assert acct.account_bytes_used == 1234567890
    assert acct.account_container_count == 2 and acct.account_object_count == 42
    assert [c.name for c in conn.object_store.containers()] == ["container-001",
                                                                "container-002"]


def test_today_moved_is_seen_by_a_connected_client(tmp_path):
    sc = parse_scenario(small_scenario())
    with SimServer(sc, today="2026-11-01") as sim:
        conn = sdk_connection(sim)
        assert len(list(conn.compute.servers())) == 12
        q1 = conn.block_storage.get_quota_set(PID).gigabytes_ssd
        sim.set_today("2026-11-02")
        assert len(list(conn.compute.servers())) == 11
        assert (q1, conn.block_storage.get_quota_set(PID).gigabytes_ssd) == (2000, 3000)


def test_demo_scenario_first_and_last_night():
    sc = load_scenario(DEMO / "scenario.yaml")
    with SimServer(sc, today="2026-11-01") as sim:
        conn = sdk_connection(sim, auth="application_credential")
        servers = list(conn.compute.servers(details=True))
        assert 200 <= len(servers) <= 300
        remote = [s for s in servers if s.metadata.get("service") == "remote-access"]
        assert len(remote) == 2
        q = conn.block_storage.get_quota_set(sc.project_id, usage=True)
        assert q.gigabytes_general == 17082 and q.gigabytes_ssd == 90000
        sim.set_today("2026-11-14")
        q = conn.block_storage.get_quota_set(sc.project_id, usage=True)
        assert q.gigabytes_ssd == 101916 and q.usage["gigabytes_ssd"] > 90000
        assert len(list(conn.network.vpn_ipsec_site_connections())) == 4
        assert conn.load_balancer.get_quota(sc.project_id).load_balancers == 48
