"""Large-tenant scenario generator (``recon sim generate``).

The output uses the ``count:`` shorthand, so a 10,000-server / 30,000-volume
tenant is a file of a few hundred groups that loads in well under a second,
yet expands to exactly the requested numbers of servers and volumes (as live
on the last day of its timeline).
"""
from __future__ import annotations

import datetime as _dt
import random
from typing import Any

import yaml

from .scenario.ids import derived_hex

_FLAVORS = [
    {"name": "c2m4", "vcpus": 2, "ram": 4096, "disk": 40},
    {"name": "c4m8", "vcpus": 4, "ram": 8192, "disk": 50},
    {"name": "c4m16", "vcpus": 4, "ram": 16384, "disk": 50},
    {"name": "c8m16", "vcpus": 8, "ram": 16384, "disk": 100},
    {"name": "c8m32", "vcpus": 8, "ram": 32768, "disk": 100},
    {"name": "c16m64", "vcpus": 16, "ram": 65536, "disk": 100},
]
_BM_FLAVORS = [
    {"name": "bm.kp920.910b", "vcpus": 192, "ram": 1572864, "disk": 1920,
     "extra_specs": {"resources:CUSTOM_BM_KUNPENG920_910B": "1", "resources:VCPU": "0",
                     "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
    {"name": "bm.a10x4", "vcpus": 64, "ram": 524288, "disk": 960,
     "extra_specs": {"resources:CUSTOM_BM_A10X4": "1", "resources:VCPU": "0",
                     "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
    {"name": "bm.gpu16", "vcpus": 128, "ram": 1048576, "disk": 1920,
     "extra_specs": {"resources:CUSTOM_BM_GPU16": "1", "resources:VCPU": "0",
                     "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
]
_IMAGES = [
    {"name": "win2022-dc", "properties": {"os_type": "windows", "os_distro": "windows"}},
    {"name": "kylin-v10-sp3", "properties": {"os_type": "linux", "os_distro": "kylin"}},
    {"name": "uos-20", "properties": {"os_type": "linux", "os_distro": "uos"}},
    {"name": "openeuler-22.03", "properties": {"os_type": "linux", "os_distro": "openeuler"}},
    {"name": "centos-7.9", "properties": {"os_type": "linux", "os_distro": "centos"}},
    {"name": "ubuntu-22.04", "properties": {"os_type": "linux", "os_distro": "ubuntu"}},
]
_IMAGE_WEIGHTS = [1, 4, 2, 2, 6, 3]
_TYPES = ["general", "ssd", "legacy-sas"]


def generate_scenario(servers: int, volumes: int, seed: int = 0,
                      start: _dt.date = _dt.date(2026, 11, 1), days: int = 7,
                      group_size: int = 50, project_name: str = "bigtenant") -> dict:
    """A scenario dict whose last day holds ``servers`` servers and ``volumes`` volumes."""
    if servers < 0 or volumes < 0:
        raise ValueError("servers and volumes must be >= 0")
    rnd = random.Random(seed)
    days = max(1, days)
    day = [start + _dt.timedelta(days=i) for i in range(days)]

    # -- servers: groups of `group_size`, ~20% booted from volume --------------
    groups: list[dict] = []
    n_bm = 2 * len(_BM_FLAVORS) if servers >= 100 else 0
    left = servers - n_bm
    g = 0
    bfv = 0
    while left > 0:
        n = min(group_size, left)
        g += 1
        fl = rnd.choice(_FLAVORS)["name"]
        img = rnd.choices(_IMAGES, _IMAGE_WEIGHTS)[0]["name"]
        spec: dict[str, Any] = {"name": f"srv-{g:04d}-{{n:03d}}", "count": n,
                                "flavor": fl}
        if rnd.random() < 0.2 and bfv + n <= volumes:
            spec["boot_volume"] = {"size": rnd.choice([40, 80, 100]), "type": "ssd",
                                   "image": img}
            bfv += n
        else:
            spec["image"] = img
        if rnd.random() < 0.1:
            spec["status"] = "SHUTOFF"
        spec["metadata"] = {"group": f"g{g:04d}"}
        groups.append(spec)
        left -= n
    if n_bm:
        for bm in _BM_FLAVORS:
            groups.append({"name": f"{bm['name']}-{{n:02d}}", "count": 2,
                           "flavor": bm["name"], "image": "openeuler-22.03"})

    # -- volumes: data volumes on servers, the rest standalone ------------------
    data_left = max(0, volumes - bfv)
    vm_servers = sum(s["count"] for s in groups if "srv-" in s["name"])
    per_server = data_left // vm_servers if vm_servers else 0
    per_server = min(per_server, 3)
    for s in groups:
        if "srv-" in s["name"] and per_server:
            s["volumes"] = [{"size": rnd.choice([50, 100, 200, 500]),
                             "type": rnd.choice(_TYPES[:2])} for _ in range(per_server)]
    standalone = data_left - per_server * vm_servers
    vol_groups = []
    k = 0
    while standalone > 0:
        n = min(200, standalone)
        k += 1
        vol_groups.append({"name": f"vol-{k:04d}-{{n:03d}}", "count": n,
                           "size": rnd.choice([10, 50, 100, 1000]),
                           "type": rnd.choices(_TYPES, [5, 4, 1])[0]})
        standalone -= n

    # -- the timeline: everything on day 0; churn on later days -----------------
    # churn keeps the final totals: a group created on day i is matched by
    # the deletion of a group of the same size created on day 0.
    timeline: list[dict] = []
    d0: dict[str, Any] = {"servers": groups, "volumes": vol_groups}
    lbs = max(1, servers // 250)
    d0["load_balancers"] = [{"name": "lb-{n:04d}", "count": lbs}]
    fips = min(servers, max(1, servers // 20), 60000)
    d0["floating_ips"] = [{"count": fips}]
    d0["qos_policies"] = [{"name": "internet-bw-1", "rules": [
        {"type": "bandwidth_limit", "max_kbps": 10000000, "direction": "egress"},
        {"type": "bandwidth_limit", "max_kbps": 10000000, "direction": "ingress"}]}]
    d0["routers"] = [{"name": "gw", "external_gateway": {"enable_snat": True,
                                                         "qos_policy": "internet-bw-1"}}]
    d0["ipsec_site_connections"] = [{"name": "vpn-{n}", "count": 4}]
    bk_vol = None
    for s in groups:
        if "srv-" in s["name"] and s.get("volumes"):
            bk_vol = s["name"].format(n=1) + "-data-1"
            break
    if bk_vol:
        d0["backups"] = [{"name": "bk-{n:03d}", "count": 20, "volume": bk_vol}]
    timeline.append({"date": day[0].isoformat(), "note": "initial tenant", "create": d0})
    churn_pool = [s for s in groups if "srv-" in s["name"] and not s.get("boot_volume")]
    for i in range(1, days):
        ev: dict[str, Any] = {"date": day[i].isoformat()}
        if churn_pool and i < len(churn_pool):
            victim = churn_pool[i - 1]
            repl = dict(victim, name=f"srv-d{i}-{{n:03d}}",
                        metadata={"group": f"day{i}"})
            ev["delete"] = {"servers": [victim["name"].split("{")[0] + "*"]}
            # the victim's data volumes are detached, not deleted: delete them too
            if victim.get("volumes"):
                ev["delete"]["volumes"] = [victim["name"].split("{")[0] + "*-data-*"]
            ev["create"] = {"servers": [repl]}
        if i == days // 2:
            ev["quotas"] = {"compute": {"cores": servers * 20 + 1000}}
        ev["object_store"] = {"bytes_used": (1 << 40) * (i + 1), "object_count":
                              100000 * (i + 1)}
        timeline.append(ev)

    cores = servers * 16 + 1000
    return {
        "today": day[-1].isoformat(),
        "description": f"generated: {servers} servers, {volumes} volumes, seed {seed}",
        "project": {"id": derived_hex("generated", project_name, seed), "name": project_name,
                    "domain": {"id": "default", "name": "Default"}},
        "users": [{"name": "recon-reader", "password": "reader-pw", "roles": ["reader"]}],
        "application_credentials": [{"name": "recon-nightly", "secret": "nightly-secret",
                                     "user": "recon-reader"}],
        "flavors": _FLAVORS + _BM_FLAVORS,
        "volume_types": [{"name": t} for t in _TYPES],
        "images": _IMAGES,
        "external_network": {"name": "internet", "cidr": "100.64.0.0/12"},
        "tenant_network": {"name": f"{project_name}-net", "cidr": "10.0.0.0/8"},
        "quotas": {
            "compute": {"cores": cores, "ram": cores * 4096, "instances": servers + 100},
            "block-storage": {"volumes": volumes + 1000, "gigabytes": volumes * 1000,
                              "backups": 100, "backup_gigabytes": 100000},
            "network": {"floatingip": fips + 10, "port": servers * 2 + 1000},
            "load-balancer": {"load_balancer": lbs + 10},
        },
        "object_store": {"bytes_used": 1 << 40, "object_count": 100000,
                         "container_count": 5},
        "timeline": timeline,
    }


def write_scenario(data: dict, path: str) -> None:
    try:
        dumper = yaml.CSafeDumper
    except AttributeError:  # pragma: no cover
        dumper = yaml.SafeDumper
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"# {data.get('description', 'generated scenario')}\n"
                 "# format: see recon/sim/scenario/__init__.py\n")
        yaml.dump(data, fh, Dumper=dumper, sort_keys=False, allow_unicode=True,
                  default_flow_style=None, width=120)
