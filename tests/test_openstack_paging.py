"""A tenant of 1,509 servers and 2,510 volumes, listed in many pages: the connector builds
each page's lines as it arrives and drops the page, so nothing may be lost, doubled or
mis-summed at a page boundary.  The figures below are worked out from the scenario's
groups by hand (count x flavor, count x size), as the agency would check them."""
from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from connectors.openstack import OpenStackConnector
from recon.sim.scenario import parse_scenario
from recon.sim.server import SimServer, clouds_yaml

DAY = date(2026, 11, 10)
C4M16 = {"vcpus": 4, "ram": 16384, "disk": 40}
C8M32 = {"vcpus": 8, "ram": 32768, "disk": 40}
BM = {"extra_specs": {"resources:CUSTOM_BM_A10X4": "1", "resources:VCPU": "0",
                      "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}}

SCENARIO = {
    "today": "2026-11-10",
    "project": {"name": "bjwjw-paging"},
    "users": [{"name": "recon-reader", "password": "reader-pass", "roles": ["reader"]}],
    "application_credentials": [{"name": "recon-nightly", "secret": "app-secret",
                                 "user": "recon-reader", "roles": ["reader"]}],
    "flavors": [dict(C4M16, name="c4m16"), dict(C8M32, name="c8m32"),
                dict(BM, name="bm.a10x4", vcpus=64, ram=262144, disk=1500)],
    "volume_types": [{"name": "general"}, {"name": "ssd"}, {"name": "legacy-sas"}],
    "images": [{"name": "kylin-v10", "properties": {"os_distro": "kylin", "os_type": "linux"}},
               {"name": "win2019", "properties": {"os_distro": "windows",
                                                  "os_type": "windows"}},
               {"name": "centos7", "properties": {"os_distro": "centos", "os_type": "linux"}}],
    "quotas": {"compute": {"cores": 10000, "ram": 40960000, "instances": 5000},
               "block-storage": {"gigabytes": 500000, "gigabytes_general": 200000,
                                 "gigabytes_ssd": 60000, "backup_gigabytes": 10,
                                 "backups": 10},
               "network": {"floatingip": 10}, "load-balancer": {"load_balancer": 5}},
    # the services answer in pages smaller than the connector asks for (limit=1000)
    "settings": {"page_size": {"compute": 250, "block-storage": 400, "image": 1}},
    "timeline": [{"date": "2026-11-01", "create": {
        "servers": [
            {"name": "web-{n:04d}", "count": 1200, "flavor": "c4m16", "image": "kylin-v10"},
            {"name": "batch-{n:03d}", "count": 290, "flavor": "c8m32", "image": "centos7",
             "status": "SHUTOFF"},
            {"name": "bfv-{n:02d}", "count": 10, "flavor": "c4m16",
             "boot_volume": {"size": 100, "type": "ssd", "image": "win2019"}},
            {"name": "a10-{n}", "count": 4, "flavor": "bm.a10x4", "image": "centos7"},
            {"name": "a10-bad-{n}", "count": 2, "flavor": "bm.a10x4", "image": "centos7",
             "status": "ERROR"},
            {"name": "ra-{n}", "count": 3, "flavor": "c4m16", "image": "centos7",
             "metadata": {"service": "remote-access"}}],
        "volumes": [
            {"name": "g-{n:04d}", "count": 1500, "size": 100, "type": "general"},
            {"name": "s-{n:03d}", "count": 900, "size": 50, "type": "ssd"},
            {"name": "e-{n:02d}", "count": 40, "size": 500, "type": "general",
             "status": "error"},
            {"name": "old-{n:02d}", "count": 60, "size": 10, "type": "legacy-sas"}]}}],
}
VMS = 1200 + 290 + 10  # counted toward vCPU and memory: not bare metal, not remote access
SERVERS = VMS + 4 + 2 + 3
VOLUMES = 1500 + 900 + 40 + 60 + 10  # the 10 boot volumes too


@pytest.fixture(scope="module", params=["2.79", "2.1"])
def pulled(request, mapping, contract):
    """The night's results, and the simulator's record of the list calls; at 2.1 every
    server names its flavor by id, read once per flavor across all the pages."""
    data = dict(SCENARIO, settings=dict(SCENARIO["settings"],
                                        compute_max_microversion=request.param))
    with SimServer(parse_scenario(data, "<paging>"), today=DAY) as sim:
        conn = OpenStackConnector("t", mapping, contract, timeout=10, retries=1,
                                  cloud_config=clouds_yaml(sim, "t"))
        results = {r.source.split(":")[1]: r for r in conn.pull(DAY)}
        calls = Counter(path.split("?")[0].rsplit("/", 2)[-2] + "/" +
                        path.split("?")[0].rsplit("/", 1)[-1] for _, path, *_ in sim.requests)
    assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
    return results, calls


def figure(results, item, metric):
    return next(m.quantity for r in results.values() for m in r.measurements
                if (m.item_no, m.metric) == (item, metric))


def test_every_page_is_read(pulled):
    _, calls = pulled
    assert calls["servers/detail"] == 7  # 1,509 servers in pages of 250
    assert calls["volumes/detail"] == 7  # 2,510 volumes in pages of 400


def test_vcpu_and_memory_add_up_over_all_pages(pulled):
    results, _ = pulled
    assert figure(results, 1, "in_use") == (1200 + 10) * 4 + 290 * 8
    assert figure(results, 2, "in_use") == (1200 + 10) * 16 + 290 * 32  # GB
    lines = results["compute"].lines
    per_item = Counter(lines.item_no)
    assert per_item[1] == per_item[2] == VMS
    # every server once, however the pages fell
    assert len(set(lines.resource_id)) == SERVERS
    assert len(set(zip(lines.resource_id, lines.item_no))) == len(lines)
    assert sum(q for q, i in zip(lines.quantity, lines.item_no) if i == 1) == \
        figure(results, 1, "in_use")
    assert all(type(q) is Decimal for q in lines.quantity)


def test_bare_metal_in_error_is_listed_not_delivered(pulled):
    results, _ = pulled
    assert figure(results, 4, "allocated") == figure(results, 4, "in_use") == 4
    bm = [ln for ln in results["compute"].lines if ln.item_no == 4]
    assert len(bm) == 6
    assert sorted(ln.name for ln in bm if ln.attributes.get("counted") is False) == \
        ["a10-bad-1", "a10-bad-2"]
    assert figure(results, 13, "in_use") == 3


def test_volumes_by_type_error_and_unmapped_across_pages(pulled):
    results, _ = pulled
    assert figure(results, 5, "in_use") == 1500 * 100  # the 40 in error never came to be
    assert figure(results, 6, "in_use") == 900 * 50 + 10 * 100  # boot volumes are ssd
    lines = results["block-storage"].lines
    assert len(lines) == len(set(lines.resource_id)) == VOLUMES
    by_item = Counter(lines.item_no)
    assert by_item == {5: 1540, 6: 910, None: 60}  # legacy-sas: kept, unmapped
    errors = [ln for ln in lines if ln.attributes.get("status") == "error"]
    assert len(errors) == 40
    assert all(ln.quantity == 0 and ln.attributes["counted"] is False for ln in errors)
    unmapped = {ln.attributes["volume_type"] for ln in lines if ln.item_no is None}
    assert unmapped == {"legacy-sas"}


def test_licences_from_images_and_boot_volumes(pulled):
    results, _ = pulled
    assert figure(results, 26, "in_use") == 1200  # kylin
    assert figure(results, 25, "in_use") == 10  # windows, through the boot volume's image
    assert len(results["image"].lines) == 1210
