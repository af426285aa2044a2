"""A realstack seed spec as a simulator scenario: the same tenant on both back-ends.

    from tests.realstack.to_scenario import scenario_from_seed
    from tests.realstack.seed import DEFAULT_SEED
    from recon.sim.scenario import parse_scenario
    from recon.sim.server import SimServer

    sim = SimServer(parse_scenario(scenario_from_seed(DEFAULT_SEED)))

The scenario describes the tenant *as the real stack leaves it* after
:func:`tests.realstack.seed.seed`, not as the seed wishes it were:

* volumes stay ``creating`` and unattached (the stack runs no cinder-volume);
* no backups, no IPsec site connections, no load balancers, no object store:
  the stack has no Cinder backup service, no VPNaaS, no Octavia and no Swift.
  Octavia and Swift are *missing from the catalog* there, so the scenario takes
  them out of the simulator's catalog too (a ``missing_from_catalog`` fault
  lasting the whole scenario), and ``settings.vpnaas: false`` makes the
  simulator's Neutron answer 404 for ``/vpn/...`` as a Neutron without the
  VPNaaS plugin does;
* floating IPs: as many as the seed asks, the first ``floating_ip_qos`` of them
  carrying their QoS policy, handed out in order to the servers that ask for one
  (exactly the order :func:`tests.realstack.seed._servers` uses);
* sections whose service the stack does not run (``services=``) are left out, as
  the seed skips them, and that service is missing from the catalog.

Everything happens in one timeline event on ``date`` (also the scenario's
``today``).  Importing this module needs only the standard library (the seed's
YAML files need PyYAML, as :func:`tests.realstack.seed.load_spec` does).
"""
from __future__ import annotations

import copy
import datetime as _dt
from pathlib import Path

__all__ = ["scenario_from_seed", "DEFAULT_DATE", "READER_PASSWORD", "APP_CRED_SECRET"]

#: the day the tenant is created on (and the scenario's ``today``)
DEFAULT_DATE = "2026-11-01"
#: the admin's project, owner of the seed's ``owner: admin`` QoS policies
ADMIN_PROJECT_ID = "ad0000000000000000000000000000ad"
#: the seed generates random ones; the simulator needs fixed ones
READER_PASSWORD = "recon-reader-pw"
APP_CRED_SECRET = "recon-nightly-secret"
#: the realstack's service names -> the simulator's catalog services they provide
_CATALOG = {"nova": "compute", "cinder": "block-storage", "neutron": "network",
            "glance": "image"}
#: never in the real stack's catalog
_NEVER = ("load-balancer", "object-store")
_ALL = ("keystone", "nova", "cinder", "glance", "neutron", "placement", "compute")
#: the seed's image upload (tests.realstack.seed.IMAGE_BYTES), for the image size
_IMAGE_SIZE = len(b"recon realstack image\n" * 64)


def _load(spec) -> dict:
    if spec is None:
        from .seed import DEFAULT_SEED

        return copy.deepcopy(DEFAULT_SEED)
    if isinstance(spec, (str, Path)):
        import yaml

        return yaml.safe_load(Path(spec).read_text())
    return copy.deepcopy(spec)


def scenario_from_seed(spec: dict | None = None, *, date: str | _dt.date = DEFAULT_DATE,
                       services=_ALL) -> dict:
    """The simulator scenario (a dict for :func:`recon.sim.scenario.parse_scenario`) of ``spec``.

    ``services`` are the realstack services running (``Stack.services``; default
    all of them, with compute): what the seed skips for a missing service is
    left out here too.
    """
    spec = _load(spec)
    services = set(services)
    if "compute" in services:  # compute brings nova, placement and neutron (stack.py)
        services |= {"nova", "placement", "neutron"}
    day = date.isoformat() if isinstance(date, _dt.date) else str(date)

    pspec = spec.get("project") or {"name": "bjwjw-bigdata"}
    rspec = spec.get("reader") or {}
    reader = rspec.get("name", "bjwjw-recon-reader")
    sc: dict = {
        "today": day,
        "region": "RegionOne",
        "project": {"name": pspec["name"], "description": pspec.get("description", ""),
                    "domain": {"id": "default", "name": "Default"}},
        "users": [{"name": reader, "password": str(rspec.get("password") or READER_PASSWORD),
                   "roles": ["reader"]}],
        "application_credentials": [
            {"name": rspec.get("app_credential", "recon-nightly"), "secret": APP_CRED_SECRET,
             "user": reader, "roles": ["reader"],
             "description": "nightly reconciliation (read only)"}],
        # Cinder/Nova/Neutron without VPNaaS, as the real stack runs them
        "settings": {"vpnaas": False},
        "quotas": {},
    }
    create: dict = {}
    event: dict = {"date": day, "note": "tests.realstack seed", "create": create}

    if "nova" in services:
        sc["flavors"] = [
            {k: v for k, v in {
                "name": f["name"], "vcpus": f["vcpus"], "ram": f["ram"], "disk": f.get("disk", 0),
                "is_public": f.get("is_public", True), "description": f.get("description", ""),
                "extra_specs": {k: str(v) for k, v in (f.get("extra_specs") or {}).items()},
            }.items()}
            for f in spec.get("flavors") or []]
        if spec.get("compute_quotas"):
            sc["quotas"]["compute"] = dict(spec["compute_quotas"])

    if "cinder" in services:
        sc["volume_types"] = [
            {"name": t["name"], "description": t.get("description", ""),
             "extra_specs": {k: str(v) for k, v in (t.get("extra_specs") or {}).items()},
             "is_public": t.get("is_public", True)}
            for t in spec.get("volume_types") or []]
        if spec.get("volume_quotas"):
            sc["quotas"]["block-storage"] = dict(spec["volume_quotas"])
        # no cinder-volume in the stack: every volume stays "creating", unattached,
        # unless the seed resets its status
        vols = [{"name": v["name"], "size": v["size"], "status": v.get("status", "creating"),
                 **({"type": v["type"]} if v.get("type") else {}),
                 **({"description": v["description"]} if v.get("description") else {})}
                for v in spec.get("volumes") or []]
        if vols:
            create["volumes"] = vols

    if "glance" in services:
        imgs = []
        for im in spec.get("images") or []:
            upload = im.get("upload", True)
            rec = {"name": im["name"], "disk_format": im.get("disk_format", "raw"),
                   "container_format": im.get("container_format", "bare"),
                   "visibility": im.get("visibility", "private"),
                   "status": "active" if upload else "queued",
                   "properties": {k: str(v) for k, v in (im.get("properties") or {}).items()}}
            if upload:
                rec["size"] = _IMAGE_SIZE
            imgs.append(rec)
        if imgs:
            sc["images"] = imgs

    nspec = spec.get("network") or {}
    has_servers = bool(spec.get("servers")) and "compute" in services
    if "neutron" in services and nspec:
        ext = nspec.get("external")
        if ext:
            sc["external_network"] = {"name": ext["name"], "cidr": ext["cidr"]}
        tnets = nspec.get("tenant_networks") or []
        if tnets:  # the simulator has one tenant network
            sc["tenant_network"] = {"name": tnets[0]["name"], "cidr": tnets[0]["cidr"]}
        if nspec.get("quotas"):
            sc["quotas"]["network"] = dict(nspec["quotas"])
        pols = [{"name": q["name"], "description": q.get("description", ""),
                 "rules": [{"type": "bandwidth_limit", "max_kbps": q["max_kbps"],
                            "max_burst_kbps": q.get("max_burst_kbps", 0),
                            "direction": q.get("direction", "egress")}],
                 **({"project_id": ADMIN_PROJECT_ID} if q.get("owner") == "admin" else {}),
                 **({"shared": True} if q.get("shared") else {})}
                for q in nspec.get("qos_policies") or []]
        if pols:
            create["qos_policies"] = pols
        if ext:  # without an external network the seed makes no gateway and no floating IP
            routers = []
            for r in nspec.get("routers") or []:
                gw = {"enable_snat": bool(r.get("enable_snat", True))}
                if r.get("qos_policy"):
                    gw["qos_policy"] = r["qos_policy"]
                routers.append({"name": r["name"], "external_gateway": gw})
            if routers:
                create["routers"] = routers
            fip_qos = [name for name, n in (nspec.get("floating_ip_qos") or {}).items()
                       for _ in range(int(n))]
            n_fips = int(nspec.get("floating_ips") or 0)
            # the seed associates its floating IPs, in creation order, with the
            # servers (in spec order) that ask for one and have a network
            takers = [s["name"] for s in spec.get("servers") or []
                      if has_servers and s.get("floating_ip") and s.get("network")][:n_fips]
            fips = []
            for i in range(n_fips):
                fip = {"name": f"fip-{i + 1}"}
                if i < len(fip_qos):
                    fip["qos_policy"] = fip_qos[i]
                if i < len(takers):
                    fip["server"] = takers[i]
                fips.append(fip)
            if fips:
                create["floating_ips"] = fips

    if has_servers:
        create["servers"] = [
            {k: v for k, v in {
                "name": s["name"], "flavor": s["flavor"], "image": s.get("image"),
                "status": "ACTIVE",
                "metadata": {k: str(v) for k, v in (s.get("metadata") or {}).items()} or None,
            }.items() if v is not None}
            for s in spec["servers"]]

    # what the real stack's catalog lacks, the simulator's lacks too
    absent = [*_NEVER, *(svc for name, svc in _CATALOG.items() if name not in services)]
    event["faults"] = [{"service": svc, "kind": "missing_from_catalog"} for svc in absent]
    event["until"] = "2099-12-31"  # for the whole scenario, whatever day it is served
    sc["timeline"] = [event]
    return sc
