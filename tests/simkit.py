"""Helpers for tests that need a simulated cloud.

    from recon.sim.scenario import parse_scenario
    from recon.sim.server import SimServer
    from tests.simkit import small_scenario, sdk_connection

    with SimServer(parse_scenario(small_scenario()), today="2026-11-02") as sim:
        conn = sdk_connection(sim)                 # password auth
        conn = sdk_connection(sim, auth="application_credential")

``small_scenario()`` is a dict (tweak it before parsing): 12 servers, small
server-side page sizes (compute 5, block-storage 5, load-balancer 3, image 2)
so that pagination is exercised with few resources.

It lives with the tests, not in the ``recon`` package: only tests use it, and
the wheel ships no test fixture.
"""
from __future__ import annotations

import copy
from typing import Any

import openstack

from recon.sim.server import clouds_yaml

PROJECT_ID = "5a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e"

_SMALL: dict[str, Any] = {
    "today": "2026-11-02",
    "project": {"id": PROJECT_ID, "name": "test-project",
                "domain": {"id": "default", "name": "Default"}},
    "users": [
        {"name": "reader", "password": "reader-pw", "roles": ["reader"]},
        {"name": "admin", "password": "admin-pw", "roles": ["admin", "member", "reader"]},
        {"name": "norole", "password": "norole-pw", "roles": []},
    ],
    "application_credentials": [
        {"name": "nightly", "id": "ac0000000000000000000000000000aa",
         "secret": "nightly-secret", "user": "reader"},
    ],
    "flavors": [
        {"name": "c2m4", "id": "1", "vcpus": 2, "ram": 4096, "disk": 20},
        {"name": "c8m32", "id": "2", "vcpus": 8, "ram": 32768, "disk": 100,
         "extra_specs": {"hw:cpu_policy": "shared"}},
        {"name": "bm.kp920.910b", "id": "bm1", "vcpus": 192, "ram": 1572864, "disk": 960,
         "extra_specs": {"resources:CUSTOM_BM_KUNPENG920_910B": "1", "resources:VCPU": "0",
                         "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
    ],
    "volume_types": [{"name": "general"}, {"name": "ssd"}, {"name": "legacy-sas"}],
    "images": [
        {"name": "win2022", "id": "11111111-1111-4111-8111-111111111111",
         "properties": {"os_type": "windows", "os_distro": "windows"}},
        {"name": "kylin-v10", "id": "22222222-2222-4222-8222-222222222222",
         "properties": {"os_type": "linux", "os_distro": "kylin"}},
        {"name": "centos-7.9", "id": "33333333-3333-4333-8333-333333333333",
         "properties": {"os_distro": "centos"}},
        {"name": "uos-20", "id": "44444444-4444-4444-8444-444444444444",
         "visibility": "private", "properties": {"os_distro": "uos"}},
    ],
    "quotas": {
        "compute": {"cores": 100, "ram": 409600, "instances": 50},
        "block-storage": {"gigabytes": 5000, "gigabytes_general": 1000,
                          "gigabytes_ssd": 2000, "backups": 5, "backup_gigabytes": 11},
        "network": {"floatingip": 10},
        "load-balancer": {"load_balancer": 8},
    },
    "object_store": {"bytes_used": 1234567890, "object_count": 42, "container_count": 2,
                     "quota_bytes": 10000000000},
    "settings": {"page_size": {"compute": 5, "block-storage": 5, "load-balancer": 3,
                               "image": 2}},
    "timeline": [
        {"date": "2026-11-01", "create": {
            "qos_policies": [{"name": "internet-bw-1", "rules": [
                {"type": "bandwidth_limit", "max_kbps": 1000000, "direction": "egress"},
                {"type": "bandwidth_limit", "max_kbps": 1000000, "direction": "ingress"}]}],
            "routers": [{"name": "gw", "external_gateway": {"enable_snat": True,
                                                            "qos_policy": "internet-bw-1"}}],
            "servers": [
                {"name": "app-{n:02d}", "count": 8, "flavor": "c2m4", "image": "kylin-v10",
                 "volumes": [{"size": 10, "type": "general"}]},
                {"name": "db-{n}", "count": 2, "flavor": "c8m32", "image": "win2022",
                 "metadata": {"service": "remote-access"}, "floating_ip": True},
                {"name": "bfv-1", "flavor": "c2m4",
                 "boot_volume": {"size": 40, "type": "ssd", "image": "centos-7.9"}},
                {"name": "bm-1", "flavor": "bm.kp920.910b", "image": "kylin-v10"},
            ],
            "volumes": [{"name": "sas-{n}", "count": 2, "size": 100, "type": "legacy-sas"}],
            "backups": [{"name": "bk-1", "volume": "sas-1", "size": 5}],
            "floating_ips": [{"count": 3}],
            "ipsec_site_connections": [{"name": "vpn-{n}", "count": 2}],
            "load_balancers": [{"name": "lb-{n}", "count": 7}],
        }},
        {"date": "2026-11-02", "delete": {"servers": ["app-08"]},
         "quotas": {"block-storage": {"gigabytes_ssd": 3000}}},
        {"date": "2026-11-03", "faults": [{"service": "network", "kind": "http_503"}]},
    ],
}


def small_scenario(**overrides: Any) -> dict:
    """A fresh copy of the small test scenario; top-level keys can be overridden."""
    d = copy.deepcopy(_SMALL)
    d.update(copy.deepcopy(overrides))
    return d


def sdk_connection(sim, auth: str = "password", user: str | None = None, **kwargs: Any):
    """An ``openstack.connection.Connection`` to ``sim`` built from :func:`clouds_yaml`.

    Ignores clouds.yaml files and OS_* variables of the machine.
    """
    cloud = clouds_yaml(sim, "recon-sim", auth=auth, user=user)["clouds"]["recon-sim"]
    cloud.update(kwargs)
    return openstack.connect(load_yaml_config=False, load_envvars=False, **cloud)
