"""Nova: vCPU and memory (items 1, 2), bare metal (3, 4, 31), remote-access hosts (13).

* vCPU / memory: allocated = the project's ``cores`` / ``ram`` quota (basis
  quota; -1 is unlimited), in use = the flavors of the VM servers.
* Bare metal: allocated = in use = the servers of a bare-metal flavor that are
  in a usable state (basis delivered).  A server in ERROR, BUILD, DELETED,
  SOFT_DELETED, SHELVED_OFFLOADED or UNKNOWN is listed in the evidence with
  quantity 0 and ``counted: false``, never counted: the provider has not
  delivered a machine the agency can use.
* Remote-access hosts: the API sees the hosts the agency runs, not what was
  bought: in use only, allocated not measured (or from a console export).

Microversion: the highest the server offers, up to 2.79.  From 2.47 a server
embeds its flavor (with extra_specs); below that it names the flavor by id,
and each distinct flavor is read once (``GET /flavors/{id}`` and
``/os-extra_specs``).  A flavor that cannot be read any more (deleted, 404)
leaves its servers unmapped, named by the flavor id.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.figures import UNLIMITED, read_quota
from connectors.openstack.http import Fetched, Http, negotiate

NAME = "compute"
WANT_MICROVERSION = "2.79"
EMBEDDED_FLAVOR = (2, 47)
MB_PER_GB = Decimal(1024)
#: a bare-metal server in one of these states is not delivered (README: bare metal)
NOT_USABLE = frozenset({"ERROR", "BUILD", "DELETED", "SOFT_DELETED", "SHELVED_OFFLOADED",
                        "UNKNOWN"})


def fetch(http: Http, conn, f: Fetched) -> None:
    from keystoneauth1 import discover
    from openstack import exceptions

    pid = conn.current_project_id
    mv = negotiate(conn.compute, WANT_MICROVERSION) or "2.1"
    f.versions["compute"] = mv
    servers = http.pages(conn.compute, "/servers/detail", "servers", f, mv)
    if discover.normalize_version_number(mv) < EMBEDDED_FLAVOR:
        flavors: dict[str, dict] = {}
        for s in servers:
            fid = (s.get("flavor") or {}).get("id")
            if fid is None:
                continue
            if fid not in flavors:
                try:
                    fl = http.body(conn.compute, f"/flavors/{fid}", "flavor", f,
                                   microversion=mv)
                    fl["extra_specs"] = http.body(conn.compute,
                                                  f"/flavors/{fid}/os-extra_specs",
                                                  "extra_specs", f, microversion=mv)
                    fl["original_name"] = fl.get("name")
                except exceptions.NotFoundException:
                    fl = {"id": fid, "missing": True}
                flavors[fid] = fl
            s["flavor"] = flavors[fid]
    f.data["servers"] = servers
    f.data["quota"] = http.body(conn.compute, f"/os-quota-sets/{pid}/detail", "quota_set", f,
                                microversion=mv)


def measure(ev, source: str, data: dict, fetched: dict):
    c = ev.mapping.compute
    vcpu_item, ram_item = c.get("vcpu_item"), c.get("ram_item")
    fig = ev.figures()
    lines = []
    baremetal = {int(r["item"]) for r in c.get("baremetal", [])}
    hosts = {int(r["item"]) for r in c.get("service_hosts", [])}
    for item in sorted(baremetal):
        fig.allocated(item, Decimal(0), "delivered")
        fig.use(item)
    for item in sorted(hosts):
        fig.use(item)
        fig.not_measured(item, "API 只见承载云主机的使用，不见订购数量")
    vcpus = ram = Decimal(0)
    per_flavor: dict[tuple[int, str], int] = {}  # bare metal delivered, per flavor
    for s in data["servers"]:
        flavor = s.get("flavor") or {}
        attrs = {"flavor": flavor.get("original_name") or flavor.get("id"),
                 "status": s.get("status"), "created": s.get("created")}
        base = dict(source=source, resource_type="server", resource_id=s["id"],
                    name=s.get("name", ""), project_id=s.get("tenant_id", ""))
        if flavor.get("missing"):
            attrs["flavor_missing"] = True
            lines.append(ResourceLine(item_no=None, quantity=Decimal(0), unit="",
                                      attributes=attrs, **base))
            continue
        bm = ev.mapping.baremetal_item(flavor)
        item = bm if bm is not None else ev.mapping.service_host_item(s.get("metadata") or {})
        if item is not None:
            counted = bm is None or s.get("status") not in NOT_USABLE
            if not counted:
                attrs["counted"] = False
            lines.append(ResourceLine(item_no=item, quantity=Decimal(int(counted)),
                                      unit=ev.unit(item), attributes=attrs, **base))
            if counted:
                fig.add_use(item, Decimal(1))
                if bm is not None:
                    fig.by_key[(item, "allocated")].quantity += 1
                    per_flavor[(item, attrs["flavor"])] = \
                        per_flavor.get((item, attrs["flavor"]), 0) + 1
            continue
        cpu = Decimal(int(flavor.get("vcpus", 0)))
        mem = Decimal(int(flavor.get("ram", 0))) / MB_PER_GB
        vcpus += cpu
        ram += mem
        lines.append(ResourceLine(item_no=vcpu_item, quantity=cpu, unit="vCPU",
                                  attributes=attrs, **base))
        lines.append(ResourceLine(item_no=ram_item, quantity=mem, unit="GB",
                                  attributes=attrs, **base))
    for (item, flavor), n in sorted(per_flavor.items()):
        fig.by_key[(item, "allocated")].parts.append({"name": flavor, "quantity": str(n)})
    quota = data["quota"]
    for item, key, scale, unit, used in (
            (vcpu_item, c.get("cores_quota", "cores"), 1, "vCPU", vcpus),
            (ram_item, c.get("ram_quota", "ram"), MB_PER_GB, "MB", ram)):
        if not item:
            continue
        limit = read_quota(quota.get(key))
        if limit == UNLIMITED:
            fig.unlimited(item, [{"name": key, "quantity": UNLIMITED}])
        elif limit is not None:
            fig.allocated(item, limit / scale, "quota",
                          [{"name": key, "quantity": str(limit), "unit": unit}])
        fig.use(item, used)
    return lines, fig
