"""Fault injection: each kind over raw HTTP and through openstacksdk."""
from __future__ import annotations

import json
import time

import pytest
import requests

import openstack
from keystoneauth1 import exceptions as ksa_exc

from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer
from tests.simkit import PROJECT_ID, sdk_connection, small_scenario

PID = PROJECT_ID
SERVERS = "/compute/v2.1/servers/detail"


@pytest.fixture
def sim():
    with SimServer(parse_scenario(small_scenario()), today="2026-11-02") as s:
        yield s


def _token(sim) -> str:
    body = {"auth": {"identity": {"methods": ["application_credential"],
                                  "application_credential": {
                                      "id": "ac0000000000000000000000000000aa",
                                      "secret": "nightly-secret"}}}}
    r = requests.post(sim.auth_url + "/auth/tokens", json=body, timeout=5)
    assert r.status_code == 201
    return r.headers["X-Subject-Token"]


def _get(sim, path, tok, **kw):
    return requests.get(sim.url + path, headers={"X-Auth-Token": tok}, timeout=kw.pop(
        "timeout", 5), **kw)


def test_http_500_then_recovers(sim):
    tok = _token(sim)
    sim.set_fault("compute", "http_500", times=1)
    r = _get(sim, SERVERS, tok)
    assert r.status_code == 500 and "computeFault" in r.json()
    assert _get(sim, SERVERS, tok).status_code == 200
    # other services are not touched
    sim.set_fault("compute", "http_500")
    assert _get(sim, f"/volume/v3/{PID}/volumes", tok).status_code == 200


def test_http_503_twice_then_ok_with_retry_after(sim):
    tok = _token(sim)
    f = sim.set_fault("block-storage", "http_503", times=2, retry_after=7)
    assert f["kind"] == "http_503" and f["times"] == 2
    codes = []
    for _ in range(3):
        r = _get(sim, f"/volume/v3/{PID}/volumes/detail", tok)
        codes.append(r.status_code)
        if r.status_code == 503:
            assert r.headers["Retry-After"] == "7"
    assert codes == [503, 503, 200]


def test_retry_with_backoff_through_the_sdk(sim):
    sim.set_fault("compute", "http_503", times=2)
    conn = sdk_connection(sim)
    attempts, delay = 0, 0.01
    while True:
        attempts += 1
        try:
            servers = list(conn.compute.servers())
            break
        except openstack.exceptions.HttpException as e:
            assert e.status_code == 503 and attempts < 5
            time.sleep(delay)
            delay *= 2
    assert attempts == 3 and len(servers) == 11


def test_delay_exceeds_a_client_timeout(sim):
    tok = _token(sim)
    sim.set_fault("network", "delay", seconds=0.8, times=1)
    t0 = time.perf_counter()
    with pytest.raises(requests.exceptions.Timeout):
        _get(sim, "/network/v2.0/floatingips", tok, timeout=0.2)
    assert time.perf_counter() - t0 < 0.7
    assert _get(sim, "/network/v2.0/floatingips", tok).status_code == 200


def test_delay_through_the_sdk_times_out(sim):
    sim.set_fault("compute", "delay", seconds=2)
    conn = sdk_connection(sim, api_timeout=0.3)
    with pytest.raises(ksa_exc.ConnectTimeout):
        list(conn.compute.servers())


def test_token_expiry_at_page_k_raw(sim):
    tok = _token(sim)
    sim.set_fault("compute", "token_expiry", page=2)
    first = _get(sim, SERVERS + "?limit=4", tok)
    assert first.status_code == 200
    nxt = first.json()["servers_links"][0]["href"]
    r = requests.get(nxt, headers={"X-Auth-Token": tok}, timeout=5)
    assert r.status_code == 401
    assert _get(sim, SERVERS, tok).status_code == 401  # that token is dead now
    fresh = _token(sim)
    assert requests.get(nxt, headers={"X-Auth-Token": fresh}, timeout=5).status_code == 200
    # it fired once: page 2 with the fresh token keeps working
    assert requests.get(nxt, headers={"X-Auth-Token": fresh}, timeout=5).status_code == 200


def test_token_expiry_is_recovered_by_keystoneauth(sim):
    sim.set_fault("block-storage", "token_expiry", page=2)
    conn = sdk_connection(sim, auth="application_credential")
    vols = list(conn.block_storage.volumes(details=True))
    assert len(vols) == 11
    statuses = [r[2] for r in sim.requests if "/volumes/detail" in r[1]]
    assert statuses.count(401) == 1
    assert sum(1 for r in sim.requests if r[0] == "POST") == 2  # re-authenticated once


def test_malformed_json(sim):
    tok = _token(sim)
    sim.set_fault("load-balancer", "malformed_json", times=1)
    r = _get(sim, "/load-balancer/v2/lbaas/loadbalancers", tok)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(r.content)
    assert _get(sim, "/load-balancer/v2/lbaas/loadbalancers", tok).json()["loadbalancers"]
    sim.set_fault("image", "malformed_json")
    conn = sdk_connection(sim)
    with pytest.raises(ValueError):
        list(conn.image.images())


def test_missing_from_catalog(sim):
    old = _token(sim)
    sim.set_fault("block-storage", "missing_from_catalog", times=1)
    r = requests.post(sim.auth_url + "/auth/tokens", json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {
            "name": "reader", "domain": {"id": "default"}, "password": "reader-pw"}}},
        "scope": {"project": {"id": PID}}}}, timeout=5)
    types = {s["type"] for s in r.json()["token"]["catalog"]}
    assert "block-storage" not in types and "volumev3" not in types
    assert "compute" in types
    # the service itself still answers; the next token has it again
    assert _get(sim, f"/volume/v3/{PID}/volumes", old).status_code == 200
    types = {s["type"] for s in requests.post(sim.auth_url + "/auth/tokens", json={
        "auth": {"identity": {"methods": ["application_credential"],
                              "application_credential": {
                                  "id": "ac0000000000000000000000000000aa",
                                  "secret": "nightly-secret"}}}},
        timeout=5).json()["token"]["catalog"]}
    assert "block-storage" in types


def test_missing_from_catalog_through_the_sdk(sim):
    sim.set_fault("network", "missing_from_catalog")
    conn = sdk_connection(sim)
    with pytest.raises(openstack.exceptions.SDKException):
        list(conn.network.ips())
    assert len(list(conn.compute.servers())) == 11


def test_discovery_is_spared_unless_asked(sim):
    tok = _token(sim)
    sim.set_fault("compute", "http_503")
    assert requests.get(sim.url + "/compute/", timeout=5).status_code == 200
    assert _get(sim, SERVERS, tok).status_code == 503
    sim.clear_faults()
    sim.set_fault("compute", "http_503", discovery=True)
    assert requests.get(sim.url + "/compute/", timeout=5).status_code == 503


def test_match_and_method_narrow_a_fault(sim):
    tok = _token(sim)
    sim.set_fault("network", "http_500", match=r"/routers")
    assert _get(sim, "/network/v2.0/routers", tok).status_code == 500
    assert _get(sim, "/network/v2.0/floatingips", tok).status_code == 200


def test_scenario_faults_follow_today_and_can_be_cleared(sim):
    tok = _token(sim)
    assert _get(sim, "/network/v2.0/routers", tok).status_code == 200
    sim.set_today("2026-11-03")  # the small scenario's network outage
    assert _get(sim, "/network/v2.0/routers", tok).status_code == 503
    assert [f["kind"] for f in sim.faults()] == ["http_503"]
    sim.clear_faults()
    assert _get(sim, "/network/v2.0/routers", tok).status_code == 200
    sim.set_today("2026-11-02")
    sim.set_today("2026-11-03")  # a new night: the scenario's fault is back
    assert _get(sim, "/network/v2.0/routers", tok).status_code == 503


def test_admin_fault_endpoints(sim):
    tok = _token(sim)
    r = requests.post(sim.url + "/_sim/faults", json={
        "service": "image", "kind": "http_503", "times": 1}, timeout=5)
    assert r.status_code == 201 and r.json()["faults"][0]["service"] == "image"
    listed = requests.get(sim.url + "/_sim/faults", timeout=5).json()["faults"]
    assert [f["kind"] for f in listed] == ["http_503"]
    assert _get(sim, "/image/v2/images", tok).status_code == 503
    assert _get(sim, "/image/v2/images", tok).status_code == 200
    requests.post(sim.url + "/_sim/faults", json={"service": "nova", "kind": "http_500"},
                  timeout=5)
    assert _get(sim, SERVERS, tok).status_code == 500
    assert requests.delete(sim.url + "/_sim/faults", timeout=5).status_code == 204
    assert _get(sim, SERVERS, tok).status_code == 200
    bad = requests.post(sim.url + "/_sim/faults", json={"service": "compute",
                                                        "kind": "meteor"}, timeout=5)
    assert bad.status_code == 400 and "meteor" in bad.json()["error"]


def test_bad_fault_arguments_raise():
    sim = SimServer(parse_scenario(small_scenario()))
    with pytest.raises(ValueError):
        sim.set_fault("compute", "delay")  # needs seconds
    with pytest.raises(ValueError):
        sim.set_fault("warp-drive", "http_500")


def test_identity_faults(sim):
    sim.set_fault("identity", "http_503", times=1)
    r = requests.post(sim.auth_url + "/auth/tokens", json={}, timeout=5)
    assert r.status_code == 503
    assert _token(sim)
