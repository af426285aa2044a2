"""Create the contract tenant in a running real stack from a plain spec.

The spec is a dict (or a YAML file of the same shape); :data:`DEFAULT_SEED`
is the contract's tenant.  Everything tenant-owned is created by the admin
user *scoped to the tenant project* (it is given the admin role there), so the
resources belong to the project as they would in the provider's cloud.  What
the reader sees afterwards is only what its application credential allows.

Every section is optional; a section for a service the stack does not run is
skipped and reported in ``stack.seeded['skipped']``.
"""
from __future__ import annotations

import concurrent.futures as cf
import copy
import secrets
import time
from pathlib import Path

#: The contract's tenant, as the provider's cloud is expected to show it.
DEFAULT_SEED: dict = {
    "project": {"name": "bjwjw-bigdata", "description": "北京市卫生健康大数据 政务云第四包"},
    "reader": {"name": "bjwjw-recon-reader", "app_credential": "recon-nightly"},
    "flavors": [
        {"name": "c4m16", "vcpus": 4, "ram": 16384, "disk": 50},
        {"name": "c8m32", "vcpus": 8, "ram": 32768, "disk": 100},
        {"name": "c16m64", "vcpus": 16, "ram": 65536, "disk": 100},
        # bare metal: scheduled on the custom resource class alone (Ironic practice)
        {"name": "bm.kp920.910b", "vcpus": 192, "ram": 1572864, "disk": 480,
         "extra_specs": {"resources:CUSTOM_BM_KUNPENG920_910B": "1", "resources:VCPU": "0",
                         "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
        {"name": "bm.a10x4", "vcpus": 64, "ram": 262144, "disk": 1500,
         "extra_specs": {"resources:CUSTOM_BM_A10X4": "1", "resources:VCPU": "0",
                         "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
        {"name": "bm.gpu16", "vcpus": 128, "ram": 1048576, "disk": 960,
         "extra_specs": {"resources:CUSTOM_BM_GPU16": "1", "resources:VCPU": "0",
                         "resources:MEMORY_MB": "0", "resources:DISK_GB": "0"}},
    ],
    # item 1: 1617 vCPU; item 2: 3835 GB memory
    "compute_quotas": {"cores": 1617, "ram": 3835 * 1024, "instances": 200},
    "volume_types": [
        {"name": "general", "description": "普通存储", "extra_specs": {"volume_backend_name": "general"}},
        {"name": "ssd", "description": "高性能存储", "extra_specs": {"volume_backend_name": "ssd"}},
        {"name": "legacy-sas", "description": "not priced by the contract",
         "extra_specs": {"volume_backend_name": "legacy-sas"}},
        # two more types a provider may sell under items 5 and 6 (tests map them there):
        # general-hdd with a per-type quota, ssd-fast left at Cinder's default -1
        # (unlimited: it draws on the project-wide pool)
        {"name": "general-hdd", "description": "普通存储（另一后端）",
         "extra_specs": {"volume_backend_name": "general-hdd"}},
        {"name": "ssd-fast", "description": "高性能存储（另一后端）",
         "extra_specs": {"volume_backend_name": "ssd-fast"}},
    ],
    # item 5: 17082 GB general; item 6: 101916 GB ssd; item 8: 11 GB backup
    "volume_quotas": {"gigabytes_general": 17082, "gigabytes_ssd": 101916,
                      "gigabytes_general-hdd": 3000,
                      "gigabytes": 17082 + 101916 + 1000, "volumes": 500,
                      "backup_gigabytes": 11, "backups": 10},
    "volumes": [
        {"name": "data-general-01", "size": 500, "type": "general"},
        {"name": "data-general-02", "size": 1200, "type": "general"},
        {"name": "data-ssd-01", "size": 2000, "type": "ssd"},
        {"name": "data-ssd-02", "size": 4096, "type": "ssd"},
        {"name": "old-sas-01", "size": 100, "type": "legacy-sas"},
        {"name": "data-hdd-01", "size": 300, "type": "general-hdd"},
        {"name": "data-ssd-fast-01", "size": 200, "type": "ssd-fast"},
        # a volume that failed (reset to error by the admin): listed, never counted
        {"name": "data-ssd-broken", "size": 50, "type": "ssd", "status": "error"},
    ],
    "images": [
        {"name": "Windows Server 2019 Datacenter", "properties": {"os_type": "windows", "os_distro": "windows"}},
        {"name": "Kylin V10 SP3", "properties": {"os_type": "linux", "os_distro": "kylin"}},
        {"name": "openEuler 22.03 LTS SP4", "properties": {"os_type": "linux", "os_distro": "openeuler"}},
    ],
    "network": {
        # documentation address range: these are rows in Neutron, no traffic goes anywhere
        "external": {"name": "internet", "physical_network": "public", "cidr": "203.0.113.0/24",
                     "gateway_ip": "203.0.113.1", "pool": ["203.0.113.10", "203.0.113.250"]},
        "tenant_networks": [{"name": "bigdata-net", "cidr": "10.20.0.0/24"}],
        # item 9: 3500 Mbps of internet bandwidth as QoS bandwidth limits, 3000 on the
        # router's gateway (SNAT, item 30), 500 on a floating IP
        "qos_policies": [{"name": "internet-bw-3000", "max_kbps": 3000000},
                         {"name": "internet-bw-500", "max_kbps": 500000},
                         # the provider's policy in its own (admin) project, shared with
                         # every project: visible to the reader, not this contract's bandwidth
                         {"name": "internet-bw-shared", "max_kbps": 9999000,
                          "owner": "admin", "shared": True}],
        "routers": [{"name": "bigdata-router", "enable_snat": True, "interfaces": ["bigdata-net"],
                     "qos_policy": "internet-bw-3000"}],
        "floating_ips": 3,
        "floating_ip_qos": {"internet-bw-500": 1},
        # item 10: 33 public IPs
        "quotas": {"floatingip": 33, "router": 10, "network": 20, "subnet": 40, "port": 500},
    },
    # built only when the stack runs the compute services (services=(..., "compute"));
    # bare-metal servers count in Nova's core/ram usage as Ironic's do
    "servers": [
        {"name": "bigdata-app-01", "flavor": "c8m32", "image": "Kylin V10 SP3",
         "network": "bigdata-net", "floating_ip": True},
        {"name": "bigdata-app-02", "flavor": "c8m32", "image": "openEuler 22.03 LTS SP4",
         "network": "bigdata-net"},
        {"name": "bigdata-win-01", "flavor": "c4m16", "image": "Windows Server 2019 Datacenter",
         "network": "bigdata-net"},
        # item 13: a host that carries the remote-access service (server metadata)
        {"name": "remote-access-01", "flavor": "c4m16", "image": "Kylin V10 SP3",
         "network": "bigdata-net", "metadata": {"service": "remote-access"}},
        {"name": "bm-ascend-01", "flavor": "bm.kp920.910b", "image": "openEuler 22.03 LTS SP4"},
        {"name": "bm-a10-01", "flavor": "bm.a10x4", "image": "Kylin V10 SP3"},
        {"name": "bm-gpu16-01", "flavor": "bm.gpu16", "image": "Kylin V10 SP3"},
    ],
    # more projects of the same agency in the same region (issue 16: one contract, several
    # projects): each with its own quotas, image, volumes and servers, on the flavors and
    # volume types above; the reader gets the reader role and an application credential of
    # its own there (a credential is bound to one project)
    "projects": [{
        "name": "bjwjw-ai", "description": "北京市卫生健康大数据 AI 训练",
        "app_credential": "recon-nightly-ai",
        "compute_quotas": {"cores": 256, "ram": 2048 * 1024, "instances": 20},
        "volume_quotas": {"gigabytes_general": 2000, "gigabytes_ssd": 8000,
                          "gigabytes": 10000, "volumes": 50,
                          "backup_gigabytes": 5, "backups": 5},
        "images": [{"name": "Kylin V10 SP3 AI", "properties": {"os_type": "linux",
                                                              "os_distro": "kylin"}}],
        "volumes": [{"name": "ai-dataset-01", "size": 3000, "type": "ssd"},
                    {"name": "ai-scratch-01", "size": 400, "type": "general"}],
        "servers": [{"name": "ai-train-gpu-01", "flavor": "bm.gpu16", "image": "Kylin V10 SP3 AI"},
                    {"name": "ai-notebook-01", "flavor": "c8m32", "image": "Kylin V10 SP3 AI"}],
    }],
}

IMAGE_BYTES = b"recon realstack image\n" * 64


def load_spec(spec=None) -> dict:
    """None -> DEFAULT_SEED; a path -> its YAML; a dict -> itself (copied)."""
    if spec is None:
        return copy.deepcopy(DEFAULT_SEED)
    if isinstance(spec, (str, Path)):
        import yaml

        return yaml.safe_load(Path(spec).read_text())
    return copy.deepcopy(spec)


def seed(stack, spec=None) -> dict:
    """Create the tenant; fill ``stack.project_id``, ``stack.reader_cloud``, ``stack.seeded``."""
    spec = load_spec(spec)
    t0 = time.monotonic()
    admin = stack.connect()
    out: dict = {"spec": spec, "skipped": []}

    pspec = spec.get("project") or {"name": "bjwjw-bigdata"}
    project = admin.identity.create_project(name=pspec["name"], domain_id="default",
                                            description=pspec.get("description", ""))
    stack.project_id = out["project_id"] = project.id
    roles = {r.name: r for r in admin.identity.roles()}
    admin_user = admin.identity.find_user("admin", domain_id="default", ignore_missing=False)
    admin.identity.assign_project_role_to_user(project, admin_user, roles["admin"])
    # the admin user scoped to the tenant: what it creates, the tenant owns
    tenant = stack.connect(auth={"project_name": project.name})
    out["setup_s"] = round(time.monotonic() - t0, 2)

    steps = out["timings"] = {}

    def timed(name, fn, *args):
        t = time.monotonic()
        fn(*args)
        steps[name] = round(time.monotonic() - t, 2)

    timed("reader", _reader, stack, admin, project, roles, spec.get("reader") or {}, out)

    # the services' sections are independent: seed them side by side, each
    # thread with its own connections
    def section(name, fn, *args):
        a, t = stack.connect(), stack.connect(auth={"project_name": project.name})
        try:
            timed(name, fn, a, t, project, *args)
        finally:
            a.close()
            t.close()

    jobs = []
    if "nova" in stack.services:
        jobs.append(("compute", lambda a, t, p: _compute(a, p, spec, out)))
    elif spec.get("flavors") or spec.get("compute_quotas"):
        out["skipped"].append("compute: nova not running")
    if "cinder" in stack.services:
        jobs.append(("block_storage", lambda a, t, p: _block_storage(a, t, p, spec, out)))
    elif spec.get("volumes") or spec.get("volume_types"):
        out["skipped"].append("block storage: cinder not running")
    if "glance" in stack.services:
        jobs.append(("images", lambda a, t, p: _images(t, spec.get("images") or [], out)))
    elif spec.get("images"):
        out["skipped"].append("images: glance not running")
    if "neutron" in stack.services:
        jobs.append(("network", lambda a, t, p: _network(a, t, p, spec.get("network") or {}, out)))
    elif spec.get("network"):
        out["skipped"].append("network: neutron not running")
    with cf.ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        for fut in [pool.submit(section, name, fn) for name, fn in jobs]:
            fut.result()

    if spec.get("servers"):
        if stack.compute_enabled:
            timed("servers", _servers, stack, tenant, spec["servers"], out)
        else:
            out["skipped"].append("servers: no nova conductor/scheduler/compute in this stack")
    tenant.close()
    for pspec2 in spec.get("projects") or []:
        timed("project " + pspec2["name"], _project, stack, admin, roles, pspec2, out)
    admin.close()
    out["seconds"] = round(time.monotonic() - t0, 2)
    stack.seeded = out
    stack.timings["seed_s"] = out["seconds"]
    return out


def _reader(stack, admin, project, roles, rspec: dict, out: dict) -> None:
    name = rspec.get("name", "bjwjw-recon-reader")
    password = rspec.get("password") or secrets.token_hex(16)
    user = admin.identity.create_user(name=name, password=password, domain_id="default",
                                      default_project_id=project.id)
    admin.identity.assign_project_role_to_user(project, user, roles["reader"])
    reader = stack.connect({
        "auth_type": "password",
        "auth": {"auth_url": stack.auth_url, "username": name, "password": password,
                 "project_id": project.id, "user_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": "3"})
    cred = reader.identity.create_application_credential(
        user=user.id, name=rspec.get("app_credential", "recon-nightly"),
        description="nightly reconciliation (read only)", roles=[{"name": "reader"}])
    reader.close()
    out["reader"] = {"user_id": user.id, "name": name, "password": password,
                     "app_credential_id": cred.id}
    stack.reader_cloud = {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": stack.auth_url, "application_credential_id": cred.id,
                 "application_credential_secret": cred.secret},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": "3",
    }


def _project(stack, admin, roles, pspec: dict, out: dict) -> None:
    """Another project of the agency: its quotas, images, volumes and servers.

    Seeded after the first (it uses that project's flavors and volume types) into
    ``out["projects"][name]``; the reader is given the reader role there and an
    application credential of that project, ``stack.project_clouds[name]``: the
    connector reaches each project with its own credential, as the agency would
    configure two scopes.
    """
    project = admin.identity.create_project(name=pspec["name"], domain_id="default",
                                            description=pspec.get("description", ""))
    admin_user = admin.identity.find_user("admin", domain_id="default", ignore_missing=False)
    admin.identity.assign_project_role_to_user(project, admin_user, roles["admin"])
    tenant = stack.connect(auth={"project_name": project.name})
    mine: dict = {"project_id": project.id, "flavors": out.get("flavors") or {}}
    try:
        if pspec.get("compute_quotas") and "nova" in stack.services:
            _ok(admin.compute.put(f"/os-quota-sets/{project.id}",
                                  json={"quota_set": pspec["compute_quotas"]}))
        if "cinder" in stack.services:
            _block_storage(admin, tenant, project, {k: pspec[k] for k in
                                                    ("volume_quotas", "volumes") if k in pspec},
                           mine)
        if "glance" in stack.services:
            _images(tenant, pspec.get("images") or [], mine)
        if pspec.get("servers") and stack.compute_enabled:
            _servers(stack, tenant, pspec["servers"], mine)
    finally:
        tenant.close()
    reader = out["reader"]
    user = admin.identity.get_user(reader["user_id"])
    admin.identity.assign_project_role_to_user(project, user, roles["reader"])
    conn = stack.connect({
        "auth_type": "password",
        "auth": {"auth_url": stack.auth_url, "username": reader["name"],
                 "password": reader["password"], "project_id": project.id,
                 "user_domain_name": "Default"},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": "3"})
    cred = conn.identity.create_application_credential(
        user=user.id, name=pspec.get("app_credential", "recon-nightly-" + pspec["name"]),
        description="nightly reconciliation (read only)", roles=[{"name": "reader"}])
    conn.close()
    out.setdefault("projects", {})[pspec["name"]] = mine
    stack.project_clouds[pspec["name"]] = {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": stack.auth_url, "application_credential_id": cred.id,
                 "application_credential_secret": cred.secret},
        "region_name": "RegionOne", "interface": "public", "identity_api_version": "3",
    }


def _compute(admin, project, spec: dict, out: dict) -> None:
    flavors = {}
    for f in spec.get("flavors") or []:
        flavor = admin.compute.create_flavor(
            name=f["name"], vcpus=f["vcpus"], ram=f["ram"], disk=f.get("disk", 0),
            is_public=f.get("is_public", True), description=f.get("description", ""))
        if f.get("extra_specs"):
            admin.compute.create_flavor_extra_specs(flavor, f["extra_specs"])
        flavors[f["name"]] = flavor.id
    out["flavors"] = flavors
    quotas = spec.get("compute_quotas")
    if quotas:
        _ok(admin.compute.put(f"/os-quota-sets/{project.id}", json={"quota_set": quotas}))


def _block_storage(admin, tenant, project, spec: dict, out: dict) -> None:
    types = {}
    for t in spec.get("volume_types") or []:
        vt = admin.block_storage.create_type(
            name=t["name"], description=t.get("description", ""),
            extra_specs=t.get("extra_specs") or {}, is_public=t.get("is_public", True))
        types[t["name"]] = vt.id
    out["volume_types"] = types
    quotas = spec.get("volume_quotas")
    if quotas:
        _ok(admin.block_storage.put(f"/os-quota-sets/{project.id}",
                                    json={"quota_set": quotas}))
    vols = {}
    for v in spec.get("volumes") or []:
        vol = tenant.block_storage.create_volume(name=v["name"], size=v["size"],
                                                 volume_type=v.get("type"),
                                                 description=v.get("description", ""))
        if v.get("status"):
            # an admin action on the database row: no volume service needed
            _ok(tenant.block_storage.post(f"/volumes/{vol.id}/action",
                                          json={"os-reset_status": {"status": v["status"]}}))
        vols[v["name"]] = vol.id
    out["volumes"] = vols


def _images(tenant, images: list, out: dict) -> None:
    ids = {}
    for im in images:
        body = {"name": im["name"], "disk_format": im.get("disk_format", "raw"),
                "container_format": im.get("container_format", "bare"),
                "visibility": im.get("visibility", "private"),
                **{k: str(v) for k, v in (im.get("properties") or {}).items()}}
        r = _ok(tenant.image.post("/images", json=body))
        image_id = r.json()["id"]
        if im.get("upload", True):
            _ok(tenant.image.put(f"/images/{image_id}/file", data=IMAGE_BYTES,
                                 headers={"Content-Type": "application/octet-stream"}))
        ids[im["name"]] = image_id
    out["images"] = ids


def _network(admin, tenant, project, nspec: dict, out: dict) -> None:
    net_out: dict = {}
    ext = nspec.get("external")
    ext_net = None
    if ext:
        ext_net = admin.network.create_network(
            name=ext["name"], is_router_external=True, is_shared=False,
            provider_network_type="flat", provider_physical_network=ext.get("physical_network", "public"))
        pool = ext.get("pool")
        admin.network.create_subnet(
            network_id=ext_net.id, name=ext["name"] + "-subnet", ip_version=4, cidr=ext["cidr"],
            gateway_ip=ext.get("gateway_ip"), is_dhcp_enabled=False,
            allocation_pools=[{"start": pool[0], "end": pool[1]}] if pool else None)
        net_out["external_network_id"] = ext_net.id
    nets, subnets = {}, {}
    for n in nspec.get("tenant_networks") or []:
        net = tenant.network.create_network(name=n["name"])
        sub = tenant.network.create_subnet(network_id=net.id, name=n["name"] + "-subnet",
                                           ip_version=4, cidr=n["cidr"])
        nets[n["name"]], subnets[n["name"]] = net.id, sub.id
    net_out["networks"] = nets
    # QoS first: a router gateway or a floating IP may carry one
    qos = {}
    for q in nspec.get("qos_policies") or []:
        # owner "admin": a policy of the admin's own project (shared: every project sees it)
        owner = admin.current_project_id if q.get("owner") == "admin" else project.id
        policy = admin.network.create_qos_policy(name=q["name"], project_id=owner,
                                                 is_shared=bool(q.get("shared", False)),
                                                 description=q.get("description", ""))
        admin.network.create_qos_bandwidth_limit_rule(
            policy, max_kbps=q["max_kbps"], max_burst_kbps=q.get("max_burst_kbps", 0),
            direction=q.get("direction", "egress"))
        qos[q["name"]] = policy.id
    net_out["qos_policies"] = qos
    routers = {}
    for r in nspec.get("routers") or []:
        attrs = {"name": r["name"], "project_id": project.id}
        if ext_net is not None:
            # enable_snat is an admin-only attribute by default policy
            gw = {"network_id": ext_net.id, "enable_snat": bool(r.get("enable_snat", True))}
            if r.get("qos_policy"):
                gw["qos_policy_id"] = qos[r["qos_policy"]]  # extension qos-gateway-ip
            attrs["external_gateway_info"] = gw
        router = admin.network.create_router(**attrs)
        for iface in r.get("interfaces") or []:
            admin.network.add_interface_to_router(router, subnet=subnets[iface])
        routers[r["name"]] = router.id
    net_out["routers"] = routers
    fips = []
    if ext_net is not None:
        # floating_ip_qos: {policy name: how many of the floating IPs carry it} (qos-fip)
        fip_qos = [qos[name] for name, n in (nspec.get("floating_ip_qos") or {}).items()
                   for _ in range(int(n))]
        for i in range(int(nspec.get("floating_ips") or 0)):
            attrs = {"floating_network_id": ext_net.id}
            if i < len(fip_qos):
                attrs["qos_policy_id"] = fip_qos[i]
            fips.append(tenant.network.create_ip(**attrs).id)
    net_out["floating_ips"] = fips
    quotas = nspec.get("quotas")
    if quotas:
        _ok(admin.network.put(f"/quotas/{project.id}", json={"quota": quotas}))
    out["network"] = net_out


def _servers(stack, tenant, servers: list, out: dict, timeout: float = 120.0) -> None:
    """Boot servers (fake virt driver) and wait until each is ACTIVE.

    ``network`` names a tenant network of the spec (a port with a fixed IP,
    bound by the realstack mechanism driver); ``floating_ip: true`` associates
    one of the tenant's floating IPs with that port.  Without ``network`` the
    server has none (``networks: none``).  Bare-metal flavors land on the fake
    node's CUSTOM_BM_* inventory.
    """
    flavors = out.get("flavors") or {}
    images = out.get("images") or {}
    ids = {}
    for srv in servers:
        nets = (out.get("network") or {}).get("networks") or {}
        body = {"name": srv["name"], "flavorRef": flavors.get(srv["flavor"], srv["flavor"]),
                "imageRef": images.get(srv.get("image"), srv.get("image")),
                "networks": [{"uuid": nets[srv["network"]]}] if srv.get("network") else "none"}
        if srv.get("metadata"):
            body["metadata"] = {k: str(v) for k, v in srv["metadata"].items()}
        r = _ok(tenant.compute.post("/servers", json={"server": body}, microversion="2.37"))
        ids[srv["name"]] = r.json()["server"]["id"]
    deadline = time.monotonic() + timeout
    pending = dict(ids)
    while pending:
        for name, sid in list(pending.items()):
            server = _ok(tenant.compute.get(f"/servers/{sid}")).json()["server"]
            if server["status"] == "ACTIVE":
                pending.pop(name)
            elif server["status"] == "ERROR":
                raise RuntimeError(f"server {name} went to ERROR: {server.get('fault')}")
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"servers not ACTIVE within {timeout}s: {sorted(pending)}")
        if pending:
            time.sleep(0.5)
    out["servers"] = ids
    free = list((out.get("network") or {}).get("floating_ips") or [])
    associated = {}
    for srv in servers:
        if srv.get("floating_ip") and srv.get("network") and free:
            ports = list(tenant.network.ports(device_id=ids[srv["name"]]))
            fip = free.pop(0)
            tenant.network.update_ip(fip, port_id=ports[0].id)
            associated[srv["name"]] = fip
    out["floating_ip_servers"] = associated


def _ok(response):
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.url} -> "
                           f"{response.status_code}: {response.text[:500]}")
    return response
