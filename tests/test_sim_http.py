"""The simulator over raw HTTP: status codes, headers and bodies as the api-ref has them."""
from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request

import pytest
import requests

from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer
from tests.simkit import PROJECT_ID, small_scenario

PID = PROJECT_ID


@pytest.fixture(scope="module")
def sim():
    with SimServer(parse_scenario(small_scenario(), "small.yaml"), today="2026-11-02") as s:
        yield s


@pytest.fixture(scope="module")
def http():
    with requests.Session() as s:
        yield s


def _token_body(user="reader", password="reader-pw", scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}}}}
    body["auth"]["scope"] = scope if scope is not None else {
        "project": {"name": "test-project", "domain": {"name": "Default"}}}
    return body


@pytest.fixture(scope="module")
def token(sim, http):
    r = http.post(sim.auth_url + "/auth/tokens", json=_token_body())
    assert r.status_code == 201
    return r.headers["X-Subject-Token"]


def get(http, sim, path, token=None, headers=None, **kw):
    h = dict(headers or {})
    if token:
        h["X-Auth-Token"] = token
    url = path if path.startswith("http") else sim.url + path
    return http.get(url, headers=h, **kw)


def follow(http, sim, token, path, key, links_key=None, headers=None):
    """Every item of a paginated list, following `<key>_links` / glance `next`."""
    items, pages, url = [], 0, path
    while url:
        r = get(http, sim, url, token, headers)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body[key]
        pages += 1
        url = None
        for link in body.get(links_key or f"{key}_links", []):
            if link["rel"] == "next":
                url = link["href"]
        if key == "images" and body.get("next"):
            url = "/image" + body["next"]
        assert pages < 100
    return items, pages


# ---------------------------------------------------------------------------
# keystone


def test_identity_discovery(sim, http):
    r = get(http, sim, "/identity")
    assert r.status_code == 300
    values = r.json()["versions"]["values"]
    assert values[0]["id"].startswith("v3.") and values[0]["status"] == "stable"
    assert values[0]["links"][0]["href"] == sim.url + "/identity/v3/"
    r = get(http, sim, "/identity/v3")
    assert r.status_code == 200 and r.json()["version"]["id"].startswith("v3.")


def test_password_token_has_catalog_project_roles(sim, http):
    r = http.post(sim.auth_url + "/auth/tokens", json=_token_body())
    assert r.status_code == 201
    assert r.headers["X-Subject-Token"]
    tok = r.json()["token"]
    assert tok["methods"] == ["password"]
    assert tok["project"] == {"id": PID, "name": "test-project",
                              "domain": {"id": "default", "name": "Default"}}
    assert tok["user"]["name"] == "reader"
    assert [x["name"] for x in tok["roles"]] == ["reader"]
    exp = dt.datetime.strptime(tok["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert exp > dt.datetime.utcnow()
    types = {svc["type"]: svc for svc in tok["catalog"]}
    assert set(types) >= {"identity", "compute", "block-storage", "volumev3", "network",
                          "load-balancer", "object-store", "image"}
    for svc in types.values():
        ifaces = {e["interface"] for e in svc["endpoints"]}
        assert {"public", "internal"} <= ifaces
        assert all(e["region"] == "RegionOne" and e["url"].startswith(sim.url)
                   for e in svc["endpoints"])
    urls = {t: s["endpoints"][0]["url"] for t, s in types.items()}
    assert urls["compute"] == sim.url + "/compute/v2.1"
    assert urls["block-storage"] == f"{sim.url}/volume/v3/{PID}"
    assert urls["object-store"] == f"{sim.url}/object-store/v1/AUTH_{PID}"


def test_token_scoped_by_project_id_and_validation(sim, http):
    r = http.post(sim.auth_url + "/auth/tokens",
                  json=_token_body(scope={"project": {"id": PID}}))
    assert r.status_code == 201
    tok = r.headers["X-Subject-Token"]
    v = http.get(sim.auth_url + "/auth/tokens",
                 headers={"X-Auth-Token": tok, "X-Subject-Token": tok})
    assert v.status_code == 200 and v.json()["token"]["project"]["id"] == PID
    assert http.delete(sim.auth_url + "/auth/tokens",
                       headers={"X-Auth-Token": tok, "X-Subject-Token": tok}).status_code == 204
    assert get(http, sim, "/compute/v2.1/servers", tok).status_code == 401


def test_identity_reads_for_the_own_project(sim, http, token):
    r = get(http, sim, "/identity/v3/projects?name=test-project", token)
    assert [p["id"] for p in r.json()["projects"]] == [PID]
    assert get(http, sim, "/identity/v3/projects?name=other", token).json()["projects"] == []
    assert get(http, sim, f"/identity/v3/projects/{PID}",
               token).json()["project"]["name"] == "test-project"
    cat = get(http, sim, "/identity/v3/auth/catalog", token).json()["catalog"]
    assert "compute" in {c["type"] for c in cat}
    assert get(http, sim, "/identity/v3/auth/projects", token).json()["projects"][0]["id"] == PID


def test_application_credential_token(sim, http):
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {
                                      "id": "ac0000000000000000000000000000aa",
                                      "secret": "nightly-secret"}}}}
    r = http.post(sim.auth_url + "/auth/tokens", json=body)
    assert r.status_code == 201
    tok = r.json()["token"]
    assert tok["methods"] == ["application_credential"]
    assert tok["application_credential"]["name"] == "nightly"
    assert tok["project"]["id"] == PID and tok["catalog"]
    body["auth"]["identity"]["application_credential"]["secret"] = "wrong"
    assert http.post(sim.auth_url + "/auth/tokens", json=body).status_code == 401


@pytest.mark.parametrize("body", [
    _token_body(password="wrong"),
    _token_body(user="ghost"),
    _token_body(user="norole", password="norole-pw"),
    _token_body(scope={"project": {"name": "other", "domain": {"name": "Default"}}}),
])
def test_bad_credentials_get_401(sim, http, body):
    r = http.post(sim.auth_url + "/auth/tokens", json=body)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == 401


@pytest.mark.parametrize("path", [
    "/compute/v2.1/servers/detail", f"/volume/v3/{PID}/volumes/detail",
    "/network/v2.0/floatingips", "/load-balancer/v2/lbaas/loadbalancers",
    f"/object-store/v1/AUTH_{PID}", "/image/v2/images",
])
def test_every_service_wants_a_valid_token(sim, http, path):
    for tok in (None, "not-a-token"):
        r = get(http, sim, path, tok)
        assert r.status_code == 401, path
        assert "Keystone uri=" in r.headers["WWW-Authenticate"]


# ---------------------------------------------------------------------------
# nova


def test_compute_discovery_and_microversions(sim, http, token):
    vs = get(http, sim, "/compute/").json()["versions"]
    v21 = [v for v in vs if v["id"] == "v2.1"][0]
    assert v21["min_version"] == "2.1" and v21["version"] == "2.96"
    assert get(http, sim, "/compute/v2.1/").json()["version"]["version"] == "2.96"

    r = get(http, sim, "/compute/v2.1/flavors/detail", token,
            {"OpenStack-API-Version": "compute 2.60"})
    assert r.headers["OpenStack-API-Version"] == "compute 2.60"
    assert r.headers["X-OpenStack-Nova-API-Version"] == "2.60"
    assert "OpenStack-API-Version" in r.headers["Vary"]
    assert all("extra_specs" not in f for f in r.json()["flavors"])
    r = get(http, sim, "/compute/v2.1/flavors/detail", token,
            {"X-OpenStack-Nova-API-Version": "2.61"})
    assert r.headers["OpenStack-API-Version"] == "compute 2.61"
    bm = [f for f in r.json()["flavors"] if f["name"] == "bm.kp920.910b"][0]
    assert bm["extra_specs"]["resources:CUSTOM_BM_KUNPENG920_910B"] == "1"
    r = get(http, sim, "/compute/v2.1/flavors/detail", token,
            {"OpenStack-API-Version": "compute latest"})
    assert r.headers["OpenStack-API-Version"] == "compute 2.96"
    r = get(http, sim, "/compute/v2.1/servers/detail", token)
    assert r.headers["OpenStack-API-Version"] == "compute 2.1"
    srv = r.json()["servers"][0]
    assert set(srv["flavor"]) == {"id", "links"}  # before 2.47
    r = get(http, sim, "/compute/v2.1/servers", token,
            {"OpenStack-API-Version": "compute 2.200"})
    assert r.status_code == 406
    assert "maximum is 2.96" in r.json()["computeFault"]["message"]
    r = get(http, sim, "/compute/v2.1/servers", token,
            {"OpenStack-API-Version": "compute two"})
    assert r.status_code == 400


def test_servers_detail_pages_and_bodies(sim, http, token):
    h = {"OpenStack-API-Version": "compute 2.96"}
    r = get(http, sim, "/compute/v2.1/servers/detail?limit=4", token, h)
    body = r.json()
    assert len(body["servers"]) == 4
    nxt = body["servers_links"][0]
    assert nxt["rel"] == "next"
    assert f"marker={body['servers'][-1]['id']}" in nxt["href"]
    assert nxt["href"].startswith(sim.url + "/compute/v2.1/servers/detail?")
    servers, pages = follow(http, sim, token, "/compute/v2.1/servers/detail?limit=4",
                            "servers", headers=h)
    assert len(servers) == 11 and len({s["id"] for s in servers}) == 11
    assert pages == 3
    # the server's own max_limit (page_size 5 in this scenario) applies without limit
    first = get(http, sim, "/compute/v2.1/servers/detail", token, h).json()
    assert len(first["servers"]) == 5 and "limit=5" in first["servers_links"][0]["href"]

    by_name = {s["name"]: s for s in servers}
    db = by_name["db-1"]
    assert db["flavor"] == {"vcpus": 8, "ram": 32768, "disk": 100, "ephemeral": 0,
                            "swap": 0, "original_name": "c8m32",
                            "extra_specs": {"hw:cpu_policy": "shared"}}
    assert db["image"]["id"] == "11111111-1111-4111-8111-111111111111"
    assert db["image"]["links"][0]["rel"] == "bookmark"
    assert db["metadata"] == {"service": "remote-access"}
    assert db["tenant_id"] == PID and db["status"] == "ACTIVE"
    assert db["OS-EXT-STS:vm_state"] == "active" and db["OS-EXT-STS:power_state"] == 1
    assert db["OS-EXT-AZ:availability_zone"] == "nova"
    kinds = {a["OS-EXT-IPS:type"] for net in db["addresses"].values() for a in net}
    assert kinds == {"fixed", "floating"}
    for key in ("locked", "description", "tags", "trusted_image_certificates",
                "server_groups", "locked_reason", "pinned_availability_zone",
                "os-extended-volumes:volumes_attached", "OS-SRV-USG:launched_at",
                "hostId", "created", "updated", "user_id", "links", "key_name"):
        assert key in db
    assert "OS-EXT-SRV-ATTR:host" not in db  # reader, not admin
    bfv = by_name["bfv-1"]
    assert bfv["image"] == ""
    att = bfv["os-extended-volumes:volumes_attached"]
    assert len(att) == 1 and att[0]["delete_on_termination"] is True
    single = get(http, sim, f"/compute/v2.1/servers/{db['id']}", token, h).json()["server"]
    assert single == db
    assert get(http, sim, "/compute/v2.1/servers/nope", token).status_code == 404
    r = get(http, sim, "/compute/v2.1/servers/detail?marker=nope", token)
    assert r.status_code == 400 and "badRequest" in r.json()


def test_admin_sees_admin_only_fields(sim, http):
    r = http.post(sim.auth_url + "/auth/tokens", json=_token_body("admin", "admin-pw"))
    tok = r.headers["X-Subject-Token"]
    srv = get(http, sim, "/compute/v2.1/servers/detail?limit=1", tok,
              {"OpenStack-API-Version": "compute 2.96"}).json()["servers"][0]
    assert srv["OS-EXT-SRV-ATTR:host"] and srv["OS-EXT-SRV-ATTR:hypervisor_hostname"]


def test_flavor_extra_specs_endpoint(sim, http, token):
    r = get(http, sim, "/compute/v2.1/flavors/bm1/os-extra_specs", token)
    assert r.json()["extra_specs"]["resources:VCPU"] == "0"
    assert get(http, sim, "/compute/v2.1/flavors/zzz/os-extra_specs", token).status_code == 404


def test_compute_quotas_and_limits(sim, http, token):
    # live on 2026-11-02: 7 x c2m4 + bfv c2m4 (2 vcpu) + 2 x c8m32; bare metal counts 0
    cores, ram = 7 * 2 + 2 + 2 * 8, 8 * 4096 + 2 * 32768
    q = get(http, sim, f"/compute/v2.1/os-quota-sets/{PID}/detail", token).json()["quota_set"]
    assert q["id"] == PID
    assert q["cores"] == {"limit": 100, "in_use": cores, "reserved": 0}
    assert q["ram"] == {"limit": 409600, "in_use": ram, "reserved": 0}
    assert q["instances"]["in_use"] == 11
    plain = get(http, sim, f"/compute/v2.1/os-quota-sets/{PID}", token,
                {"OpenStack-API-Version": "compute 2.57"}).json()["quota_set"]
    assert plain["cores"] == 100 and "injected_files" not in plain
    assert get(http, sim, "/compute/v2.1/os-quota-sets/someoneelse",
               token).status_code == 403
    ab = get(http, sim, "/compute/v2.1/limits", token).json()["limits"]["absolute"]
    assert ab["totalCoresUsed"] == cores and ab["maxTotalCores"] == 100
    assert ab["totalRAMUsed"] == ram and ab["totalInstancesUsed"] == 11


# ---------------------------------------------------------------------------
# cinder


def test_block_storage_discovery_and_microversion(sim, http, token):
    r = get(http, sim, "/volume/")
    assert r.status_code == 300
    v = r.json()["versions"][0]
    assert (v["id"], v["min_version"], v["version"]) == ("v3.0", "3.0", "3.70")
    assert get(http, sim, "/volume/v3/").json()["versions"][0]["version"] == "3.70"
    r = get(http, sim, f"/volume/v3/{PID}/volumes/detail", token,
            {"OpenStack-API-Version": "volume 3.65"})
    assert r.headers["OpenStack-API-Version"] == "volume 3.65"
    assert r.json()["volumes"][0]["consumes_quota"] is True
    r = get(http, sim, f"/volume/v3/{PID}/volumes/detail", token)
    assert r.headers["OpenStack-API-Version"] == "volume 3.0"
    assert "volume_type_id" not in r.json()["volumes"][0]
    r = get(http, sim, f"/volume/v3/{PID}/volumes", token,
            {"OpenStack-API-Version": "volume 3.99"})
    assert r.status_code == 406


def test_volumes_pages_and_bodies(sim, http, token):
    h = {"OpenStack-API-Version": "volume 3.70"}
    vols, pages = follow(http, sim, token, f"/volume/v3/{PID}/volumes/detail", "volumes",
                         headers=h)
    # 8 data volumes (app-08's detached one included) + bfv root + 2 sas
    assert len(vols) == 11 and pages == 3
    by_name = {v["name"]: v for v in vols}
    att = by_name["app-01-data-1"]
    assert att["status"] == "in-use" and att["volume_type"] == "general"
    assert att["attachments"][0]["server_id"]
    assert by_name["app-08-data-1"]["status"] == "available"
    root = [v for v in vols if v["bootable"] == "true"][0]
    assert root["volume_type"] == "ssd" and root["size"] == 40
    assert root["volume_image_metadata"]["os_distro"] == "centos"
    assert root["os-vol-tenant-attr:tenant_id"] == PID
    r = get(http, sim, f"/volume/v3/{PID}/volumes/detail?limit=2&with_count=true", token, h)
    body = r.json()
    assert body["count"] == 11 and len(body["volumes"]) == 2
    assert body["volumes_links"][0]["href"].startswith(f"{sim.url}/volume/v3/{PID}/volumes/detail?")
    sas = get(http, sim, f"/volume/v3/{PID}/volumes/detail?volume_type=legacy-sas",
              token, h).json()["volumes"]
    assert {v["name"] for v in sas} == {"sas-1", "sas-2"}


def test_volume_types_backups_quota_usage(sim, http, token):
    types = get(http, sim, f"/volume/v3/{PID}/types", token).json()["volume_types"]
    assert {t["name"] for t in types} == {"general", "ssd", "legacy-sas"}
    bks, _ = follow(http, sim, token, f"/volume/v3/{PID}/backups/detail", "backups")
    assert [b["name"] for b in bks] == ["bk-1"] and bks[0]["size"] == 5
    q = get(http, sim, f"/volume/v3/{PID}/os-quota-sets/{PID}?usage=True",
            token).json()["quota_set"]
    assert q["gigabytes_ssd"] == {"limit": 3000, "in_use": 40, "reserved": 0}
    assert q["gigabytes_general"] == {"limit": 1000, "in_use": 80, "reserved": 0}
    assert q["gigabytes_legacy-sas"]["in_use"] == 200
    assert q["volumes_legacy-sas"]["in_use"] == 2
    assert q["backups"]["in_use"] == 1 and q["backup_gigabytes"] == {
        "limit": 11, "in_use": 5, "reserved": 0}
    plain = get(http, sim, f"/volume/v3/{PID}/os-quota-sets/{PID}",
                token).json()["quota_set"]
    assert plain["gigabytes_ssd"] == 3000


# ---------------------------------------------------------------------------
# neutron


def test_network_lists_and_pagination(sim, http, token):
    assert get(http, sim, "/network/").json()["versions"][0]["id"] == "v2.0"
    fips, pages = follow(http, sim, token, "/network/v2.0/floatingips?limit=2",
                         "floatingips")
    assert len(fips) == 5 and pages == 3  # 2 on servers + 3 free
    assert sum(1 for f in fips if f["port_id"]) == 2
    assert all(f["floating_ip_address"].startswith("203.0.113.") for f in fips)
    every = get(http, sim, "/network/v2.0/floatingips", token).json()
    assert len(every["floatingips"]) == 5 and "floatingips_links" not in every
    page2 = get(http, sim, f"/network/v2.0/floatingips?limit=2&marker={fips[1]['id']}",
                token).json()
    assert {x["rel"] for x in page2["floatingips_links"]} == {"next", "previous"}
    routers = get(http, sim, "/network/v2.0/routers", token).json()["routers"]
    gw = routers[0]["external_gateway_info"]
    assert gw["enable_snat"] is True and gw["qos_policy_id"]
    pols = get(http, sim, "/network/v2.0/qos/policies", token).json()["policies"]
    assert pols[0]["id"] == gw["qos_policy_id"]
    rules = pols[0]["rules"]
    assert {(r["type"], r["direction"], r["max_kbps"]) for r in rules} == {
        ("bandwidth_limit", "egress", 1000000), ("bandwidth_limit", "ingress", 1000000)}
    bw = get(http, sim, f"/network/v2.0/qos/policies/{pols[0]['id']}/bandwidth_limit_rules",
             token).json()["bandwidth_limit_rules"]
    assert sorted(r["direction"] for r in bw) == ["egress", "ingress"]
    assert all(set(r) >= {"id", "max_kbps", "max_burst_kbps"} for r in bw)
    vpn = get(http, sim, "/network/v2.0/vpn/ipsec-site-connections",
              token).json()["ipsec_site_connections"]
    assert len(vpn) == 2 and vpn[0]["status"] == "ACTIVE" and vpn[0]["peer_cidrs"]
    filt = get(http, sim, "/network/v2.0/vpn/ipsec-site-connections?name=vpn-1",
               token).json()["ipsec_site_connections"]
    assert [c["name"] for c in filt] == ["vpn-1"]
    only = get(http, sim, "/network/v2.0/routers?fields=id&fields=name",
               token).json()["routers"]
    assert set(only[0]) == {"id", "name"}
    r = get(http, sim, "/network/v2.0/floatingips/nope", token)
    assert r.status_code == 404 and "NeutronError" in r.json()


def test_a_filtered_list_pages_the_same_whatever_was_asked_before(sim, http, token):
    # the simulator keeps what a query's filters picked for the day: another filter, or the
    # same one again, must still get its own items, each once, by limit and marker
    path = "/network/v2.0/floatingips?limit=2&project_id="
    mine, pages = follow(http, sim, token, path + PID, "floatingips")
    assert len(mine) == 5 and len({f["id"] for f in mine}) == 5 and pages == 3
    assert follow(http, sim, token, path + "someone-else", "floatingips")[0] == []
    bound, _ = follow(http, sim, token, "/network/v2.0/floatingips?limit=1&status=ACTIVE",
                      "floatingips")
    every = get(http, sim, "/network/v2.0/floatingips", token).json()["floatingips"]
    assert bound and [f["id"] for f in bound] == [f["id"] for f in every
                                                if f["status"] == "ACTIVE"]
    assert follow(http, sim, token, path + PID, "floatingips") == (mine, pages)


def test_network_quota_details(sim, http, token):
    q = get(http, sim, f"/network/v2.0/quotas/{PID}/details", token).json()["quota"]
    assert q["floatingip"] == {"limit": 10, "used": 5, "reserved": 0}
    assert q["router"]["used"] == 1
    assert get(http, sim, f"/network/v2.0/quotas/{PID}",
               token).json()["quota"]["floatingip"] == 10


# ---------------------------------------------------------------------------
# octavia, swift, glance


def test_load_balancers_and_quota(sim, http, token):
    lbs, pages = follow(http, sim, token, "/load-balancer/v2/lbaas/loadbalancers",
                        "loadbalancers")
    assert len(lbs) == 7 and pages == 3  # page size 3 in this scenario
    lb = lbs[0]
    assert lb["provisioning_status"] == "ACTIVE" and lb["operating_status"] == "ONLINE"
    assert lb["project_id"] == PID and lb["vip_address"] and lb["listeners"]
    # a limit above the server's maximum is capped to it
    r = get(http, sim, "/load-balancer/v2/lbaas/loadbalancers?limit=100", token).json()
    assert len(r["loadbalancers"]) == 3
    assert [x["rel"] for x in r["loadbalancers_links"]] == ["next"]
    last = get(http, sim, f"/load-balancer/v2/lbaas/loadbalancers?marker={lbs[5]['id']}",
               token).json()
    assert [x["name"] for x in last["loadbalancers"]] == [lbs[6]["name"]]
    assert "next" not in {x["rel"] for x in last["loadbalancers_links"]}
    q = get(http, sim, f"/load-balancer/v2/lbaas/quotas/{PID}", token).json()["quota"]
    assert q["load_balancer"] == 8 and q["loadbalancer"] == 8


def test_object_store_account(sim, http, token):
    r = http.head(f"{sim.url}/object-store/v1/AUTH_{PID}", headers={"X-Auth-Token": token})
    assert r.status_code == 204
    assert r.headers["X-Account-Bytes-Used"] == "1234567890"
    assert r.headers["X-Account-Container-Count"] == "2"
    assert r.headers["X-Account-Object-Count"] == "42"
    assert r.headers["X-Account-Meta-Quota-Bytes"] == "10000000000"
    r = get(http, sim, f"/object-store/v1/AUTH_{PID}?format=json", token)
    assert r.status_code == 200
    assert sum(c["bytes"] for c in r.json()) == 1234567890
    assert r.headers["X-Account-Bytes-Used"] == "1234567890"
    assert get(http, sim, "/object-store/v1/AUTH_other", token).status_code == 403


def test_images(sim, http, token):
    assert get(http, sim, "/image/").status_code == 300
    assert get(http, sim, "/image/versions").json()["versions"][0]["status"] == "CURRENT"
    imgs, pages = follow(http, sim, token, "/image/v2/images", "images")
    assert len(imgs) == 4 and pages >= 2
    win = [i for i in imgs if i["name"] == "win2022"][0]
    assert win["os_type"] == "windows" and win["os_distro"] == "windows"
    assert win["visibility"] == "public" and win["status"] == "active"
    assert win["self"] == f"/v2/images/{win['id']}"
    one = get(http, sim, f"/image/v2/images/{win['id']}", token).json()
    assert one == win
    assert get(http, sim, "/image/v2/images/nope", token).status_code == 404
    kylin = get(http, sim, "/image/v2/images?os_distro=kylin", token).json()["images"]
    assert [i["name"] for i in kylin] == ["kylin-v10"]
    two = get(http, sim, "/image/v2/images?id=in:" + ",".join(
        i["id"] for i in imgs[:2]) + "&limit=10", token).json()["images"]
    assert {i["id"] for i in two} == {i["id"] for i in imgs[:2]}


# ---------------------------------------------------------------------------
# admin


def test_admin_today_changes_what_is_served(http):
    with SimServer(parse_scenario(small_scenario()), today="2026-11-01") as sim:
        tok = http.post(sim.auth_url + "/auth/tokens",
                        json=_token_body()).headers["X-Subject-Token"]

        def names():
            items, _ = follow(http, sim, tok, "/compute/v2.1/servers", "servers")
            return {s["name"] for s in items}

        assert "app-08" in names()
        r = http.post(sim.url + "/_sim/today", json={"date": "2026-11-02"})
        assert r.status_code == 200 and r.json() == {"today": "2026-11-02"}
        assert "app-08" not in names()
        assert http.get(sim.url + "/_sim/today").json()["today"] == "2026-11-02"
        st = http.get(sim.url + "/_sim/state").json()
        assert st["today"] == "2026-11-02" and st["state"]["servers"] == 11
        assert st["request_count"]["compute"] >= 2
        assert http.post(sim.url + "/_sim/today", json={"date": "2026-02-30"}).status_code == 400
        sim.set_today(dt.date(2026, 10, 1))
        assert names() == set()


def test_tokens_expire_after_the_scenario_ttl(http):
    data = small_scenario(settings={"token_ttl": 1})
    with SimServer(parse_scenario(data), today="2026-11-02") as sim:
        r = http.post(sim.auth_url + "/auth/tokens", json=_token_body())
        tok = r.headers["X-Subject-Token"]
        exp = dt.datetime.strptime(r.json()["token"]["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        iss = dt.datetime.strptime(r.json()["token"]["issued_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert 0 < (exp - iss).total_seconds() <= 1.01
        assert get(http, sim, "/compute/v2.1/flavors", tok).status_code == 200
        time.sleep(1.1)
        assert get(http, sim, "/compute/v2.1/flavors", tok).status_code == 401


def test_plain_urllib_works(sim, token):
    req = urllib.request.Request(f"{sim.url}/compute/v2.1/flavors",
                                 headers={"X-Auth-Token": token})
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{sim.url}/compute/v2.1/flavors", timeout=5)
    assert e.value.code == 401


def test_concurrent_clients_get_consistent_pages(sim, token):
    from concurrent.futures import ThreadPoolExecutor

    def pull(_):
        with requests.Session() as s:
            servers, _ = follow(s, sim, token, "/compute/v2.1/servers/detail?limit=3",
                                "servers")
            vols, _ = follow(s, sim, token, f"/volume/v3/{PID}/volumes/detail?limit=2",
                             "volumes")
            return tuple(sorted(x["id"] for x in servers)), len(vols)

    with ThreadPoolExecutor(8) as ex:
        results = set(ex.map(pull, range(16)))
    assert len(results) == 1 and next(iter(results))[1] == 11


def test_read_only_and_unknown_paths(sim, http, token):
    r = http.post(sim.url + "/compute/v2.1/servers", json={"server": {}},
                  headers={"X-Auth-Token": token})
    assert r.status_code == 403
    assert get(http, sim, "/compute/v2.1/os-hypervisors", token).status_code == 404
    assert get(http, sim, "/nothing-here").status_code == 404
    assert get(http, sim, "/network/v2.0/lbaas", token).status_code == 404
    r = http.head(sim.url + "/compute/v2.1/flavors", headers={"X-Auth-Token": token})
    assert r.status_code == 200 and r.content == b""
    assert get(http, sim, "/").json()["services"]["compute"] == sim.url + "/compute"
