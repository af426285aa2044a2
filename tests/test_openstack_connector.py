"""The OpenStack connector through the real openstacksdk against the simulator over HTTP."""
from __future__ import annotations

import socket
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from keystoneauth1 import exceptions as ksa_exc

from connectors.openstack import OpenStackConnector
from connectors.openstack.http import read_body
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = date(2026, 11, 10)


@pytest.fixture
def sim():
    with SimServer(load_scenario(SMALL), today=DAY) as server:
        yield server


def pull(sim, mapping, contract, auth="application_credential", retries=1, timeout=3):
    clouds = clouds_yaml(sim, "t", auth=auth)
    conn = OpenStackConnector("t", mapping, contract, timeout=timeout, retries=retries,
                              cloud_config=clouds)
    return {r.source: r for r in conn.pull(DAY)}


def figures(results) -> dict:
    """(item, metric) -> the quantity as an int, or the basis when there is none."""
    return {(m.item_no, m.metric): int(m.quantity) if m.quantity is not None else m.basis
            for r in results.values() if r.ok for m in r.measurements}


def bases(results) -> dict:
    return {(m.item_no, m.metric): m.basis
            for r in results.values() if r.ok for m in r.measurements}


EXPECTED = {
    # vCPU and memory: quota vs the VM servers (bare metal and service hosts excluded)
    (1, "allocated"): 1617, (1, "in_use"): 124,
    (2, "allocated"): 3835, (2, "in_use"): 496,
    # bare metal by resource class: the servers delivered; remote-access hosts by metadata,
    # which the API sees only in use
    (3, "allocated"): 3, (3, "in_use"): 3, (4, "allocated"): 1, (4, "in_use"): 1,
    (31, "allocated"): 2, (31, "in_use"): 2,
    (13, "allocated"): "not_measured", (13, "in_use"): 2,
    # per-type quota vs volume sizes (boot volumes are ssd)
    (5, "allocated"): 17082, (5, "in_use"): 4000,
    (6, "allocated"): 101916, (6, "in_use"): 10300,
    (8, "allocated"): 11, (8, "in_use"): 8,
    (7, "allocated"): 1, (7, "in_use"): 1,
    # QoS on the internet gateway: 3000 attached + 500 spare; intranet policy unmapped
    (9, "allocated"): 3500, (9, "in_use"): 3000,
    (10, "allocated"): 33, (10, "in_use"): 10,
    (11, "allocated"): 48, (11, "in_use"): 3,
    # IPsec connections and SNAT gateways: the agency's use, not the provider's allocation
    (15, "allocated"): "not_measured", (15, "in_use"): 4,
    (30, "allocated"): "not_measured", (30, "in_use"): 1,
    # licences from image metadata (boot-from-volume through the volume's image metadata)
    (25, "allocated"): "not_measured", (25, "in_use"): 2,
    (26, "allocated"): "not_measured", (26, "in_use"): 21,
}


@pytest.mark.parametrize("auth", ["application_credential", "password"])
def test_every_item_measured_right(sim, mapping, contract, auth):
    results = pull(sim, mapping, contract, auth=auth)
    assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
    assert figures(results) == EXPECTED


def test_each_figure_says_what_it_is(sim, mapping, contract):
    b = bases(pull(sim, mapping, contract))
    assert {b[(i, "allocated")] for i in (1, 2, 5, 6, 8, 10, 11)} == {"quota"}
    assert {b[(i, "allocated")] for i in (3, 4, 31, 7, 9)} == {"delivered"}
    assert {b[(i, "allocated")] for i in (13, 15, 25, 26, 30)} == {"not_measured"}
    assert {v for (i, metric), v in b.items() if metric == "in_use"} == {"usage"}


def test_unmapped_volumes_are_kept(sim, mapping, contract):
    results = pull(sim, mapping, contract)
    lines = results["openstack:block-storage"].lines
    unmapped = [ln for ln in lines if ln.item_no is None]
    assert sorted(ln.name for ln in unmapped) == ["old-1", "old-2"]
    assert sum(ln.quantity for ln in unmapped) == Decimal(600)


def test_each_server_is_evidence(sim, mapping, contract):
    lines = pull(sim, mapping, contract)["openstack:compute"].lines
    vcpu = [ln for ln in lines if ln.item_no == 1]
    assert len(vcpu) == 21 and len({ln.resource_id for ln in vcpu}) == 21
    assert all(ln.resource_type == "server" for ln in lines)


def test_pagination_over_many_pages(sim, mapping, contract):
    # the server caps pages at 4 items (its max_limit): 34 servers and 17 volumes take
    # many pages, and nothing is lost or counted twice
    sim.scenario.settings["page_size"].update({"compute": 4, "block-storage": 4})
    sim.reset_counts()
    results = pull(sim, mapping, contract)
    assert figures(results) == EXPECTED
    assert sim.request_count["compute"] >= 9 and sim.request_count["block-storage"] >= 5


@pytest.mark.parametrize("kind, opts", [
    ("http_500", {}),
    ("http_503", {}),
    ("malformed_json", {}),
    ("missing_from_catalog", {}),
    ("delay", {"seconds": 5}),
])
def test_fault_leaves_that_service_unknown_and_the_rest_measured(sim, mapping, contract,
                                                                 kind, opts):
    sim.set_fault("block-storage", kind, **opts)
    results = pull(sim, mapping, contract, timeout=1)
    bs = results["openstack:block-storage"]
    assert bs.status == "failed" and bs.lines == [] and bs.measurements == []
    assert bs.reason
    # the licences need the boot volumes: unknown too, not zero
    assert results["openstack:image"].status == "failed"
    assert results["openstack:compute"].ok and results["openstack:network"].ok
    got = figures(results)
    assert (5, "allocated") not in got and (6, "in_use") not in got


def test_transient_503_is_retried(sim, mapping, contract):
    sim.set_fault("compute", "http_503", times=2)
    results = pull(sim, mapping, contract, retries=3)
    assert results["openstack:compute"].ok
    assert figures(results)[(1, "in_use")] == 124


def test_token_expiry_mid_pagination_is_recovered(sim, mapping, contract):
    sim.set_fault("block-storage", "token_expiry", page=1)
    results = pull(sim, mapping, contract)
    assert results["openstack:block-storage"].ok, results["openstack:block-storage"].reason
    assert figures(results)[(5, "in_use")] == 4000


def test_dead_endpoint_fails_every_source(mapping, contract):
    clouds = {"clouds": {"dead": {"auth": {"auth_url": "http://127.0.0.1:9/v3",
                                           "application_credential_id": "x",
                                           "application_credential_secret": "y"},
                                  "auth_type": "v3applicationcredential",
                                  "region_name": "RegionOne"}}}
    conn = OpenStackConnector("dead", mapping, contract, timeout=1, retries=0,
                              cloud_config=clouds)
    results = conn.pull(DAY)
    assert results and all(r.status == "failed" for r in results)
    assert results[0].reason.startswith("认证失败")
    assert "无法连接" in results[0].reason
    assert {r.stats["reason_code"] for r in results} == {"auth"}


def test_today_moves_the_measurements(sim, mapping, contract):
    sim.set_today(date(2026, 11, 2))
    got = figures(pull(sim, mapping, contract))
    assert got[(6, "allocated")] == 90000      # before the 11-05 expansion
    assert got[(1, "in_use")] == 104           # before the five late servers


def _cut_server(body: bytes, length: int):
    """A server that answers every GET with ``length`` announced and ``body`` sent, then
    hangs up: a page cut mid-body."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(length).encode() + b"\r\n\r\n" + body)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv


def test_a_page_cut_mid_body_fails_as_the_sdk_would_have_said_not_with_a_traceback():
    # list pages are read after the call (one read, not requests' 10 KB chunks): a body cut
    # short must still become keystoneauth's error, which the pull turns into a reason
    srv = _cut_server(b'{"servers": [{"id": "a"', 5000)
    try:
        url = f"http://127.0.0.1:{srv.getsockname()[1]}/servers/detail"
        resp = requests.get(url, stream=True, timeout=5)
        with pytest.raises(ksa_exc.UnknownConnectionError, match="servers/detail"):
            read_body(resp, ksa_exc)
        srv2 = _cut_server(b'{"servers": []}', 15)
        try:
            whole = requests.get(f"http://127.0.0.1:{srv2.getsockname()[1]}/x", stream=True,
                                 timeout=5)
            read_body(whole, ksa_exc)
            assert whole.content == b'{"servers": []}' and whole.json() == {"servers": []}
        finally:
            srv2.close()
    finally:
        srv.close()
