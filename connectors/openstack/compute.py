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

Servers are turned into lines a page at a time (:class:`Builder`) and the page
dropped; what the licences (image.py) need of a server is kept as a tuple.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from connectors.base import Lines
from connectors.openstack.figures import UNLIMITED, Shared, read_quota
from connectors.openstack.http import Fetched, Http, negotiate

NAME = "compute"
WANT_MICROVERSION = "2.79"
EMBEDDED_FLAVOR = (2, 47)
MB_PER_GB = Decimal(1024)
#: a bare-metal server in one of these states is not delivered (README: bare metal)
NOT_USABLE = frozenset({"ERROR", "BUILD", "DELETED", "SOFT_DELETED", "SHELVED_OFFLOADED",
                        "UNKNOWN"})


ZERO, ONE = Decimal(0), Decimal(1)


class Server(msgspec.Struct):
    """What :class:`Builder` reads of a server in ``/servers/detail``, and nothing else:
    a page's other fields (addresses, links, security groups...) are skipped unparsed.

    Every field is ``Any``, with the default the builder's ``.get`` had: a value of an
    unexpected shape is checked where it is used, as it was (a flavor that is not an
    object fails the source; an image that is not one is a server without an image).
    Only a server that is not an object, or has no ``id``, fails in the decoder.
    """

    id: Any
    name: Any = ""
    status: Any = None
    tenant_id: Any = ""
    created: Any = None
    metadata: Any = None  # {key: value}, matched against the service-host rules
    image: Any = None  # {"id": ...}, or "" for a server booted from a volume
    flavor: Any = None  # embedded (2.47+) or {"id": ...}, replaced by the flavor read


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    from keystoneauth1 import discover
    from openstack import exceptions

    pid = conn.current_project_id
    mv = negotiate(conn.compute, WANT_MICROVERSION) or "2.1"
    f.versions["compute"] = mv
    flavors: dict[str, dict] = {}

    def named_flavors(page):
        """Below 2.47 a server names its flavor by id: each flavor is read once."""
        for s in page:
            fid = (s.flavor or {}).get("id")
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
            s.flavor = flavors[fid]
        b.servers(page)

    old = discover.normalize_version_number(mv) < EMBEDDED_FLAVOR
    http.pages(conn.compute, "/servers/detail", "servers", f,
               named_flavors if old else b.servers, mv, item=Server)
    f.data["quota"] = http.body(conn.compute, f"/os-quota-sets/{pid}/detail", "quota_set", f,
                                microversion=mv)


class Builder:
    """The servers, a page at a time, as lines and running figures; the quota at the end."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        c = ev.mapping.compute
        self.vcpu_item, self.ram_item = c.get("vcpu_item"), c.get("ram_item")
        self.fig = fig = ev.figures()
        self.lines = Lines(source)
        for item in sorted({int(r["item"]) for r in c.get("baremetal", [])}):
            fig.allocated(item, Decimal(0), "delivered")
            fig.use(item)
        for item in sorted({int(r["item"]) for r in c.get("service_hosts", [])}):
            fig.use(item)
            fig.not_measured(item, "API 只见承载云主机的使用，不见订购数量")
        self.vcpus = self.ram = Decimal(0)
        self.per_flavor: dict[tuple[int, str], int] = {}  # bare metal delivered, per flavor
        self.bare_metal: dict = {}  # flavor's (name, extra specs) -> bare-metal item or None
        self.sizes: dict = {}  # flavor's (vcpus, ram) -> (vCPU, GB), exact (size_of)
        self.shared = Shared()
        # a server's metadata can match a service-host rule only if it has one of the
        # rule's keys (unless a rule asks for the text "None", which an absent key gives)
        rules = [r.get("metadata") or {} for r in c.get("service_hosts", [])]
        self.host_keys = None if any(str(v) == "None" for r in rules for v in r.values()) \
            else frozenset(k for r in rules for k in r)
        #: (id, name, project id, image id) of every server: the licences are read from them
        self.refs: list[tuple] = []
        f.data["servers"] = self.refs

    def bare_metal_item(self, flavor: dict):
        """The mapping's reading of a flavor, once per distinct flavor."""
        specs = flavor.get("extra_specs") or {}
        try:
            key = (flavor.get("original_name") or flavor.get("name") or "",
                   tuple(specs.items()))
            return self.bare_metal[key]
        except KeyError:
            out = self.bare_metal[key] = self.ev.mapping.baremetal_item(flavor)
            return out
        except TypeError:  # an unhashable spec value: read it each time
            return self.ev.mapping.baremetal_item(flavor)

    def size_of(self, flavor: dict) -> tuple[Decimal, Decimal]:
        """A VM flavor's (vCPU, GB of memory), exact, once per distinct (vcpus, ram)."""
        key = (flavor.get("vcpus", 0), flavor.get("ram", 0))
        try:
            return self.sizes[key]
        except KeyError:
            out = self.sizes[key] = (Decimal(int(key[0])), Decimal(int(key[1])) / MB_PER_GB)
            return out

    def servers(self, page: list[Server]) -> None:
        """One page: the VMs as two blocks of columns (vCPU, memory), the rest line by line."""
        ev, fig, shared = self.ev, self.fig, self.shared
        host_item, host_keys = ev.mapping.service_host_item, self.host_keys
        flavors = [s.flavor or {} for s in page]
        ids = [s.id for s in page]
        names = [s.name for s in page]
        projects = [shared[s.tenant_id] for s in page]
        self.refs.extend(zip(ids, names, projects,
                             [i.get("id") if isinstance(i, dict) else None
                              for i in (s.image for s in page)]))
        attrs = [{"flavor": shared[f.get("original_name") or f.get("id")],
                  "status": shared[s.status], "created": s.created}
                 for s, f in zip(page, flavors)]
        vms = []  # positions of the servers counted toward vCPU and memory
        for k, (s, flavor) in enumerate(zip(page, flavors)):
            if flavor.get("missing"):
                attrs[k]["flavor_missing"] = True
                self.lines.add("server", ids[k], names[k], projects[k], None, ZERO, "",
                               attrs[k])
                continue
            bm = self.bare_metal_item(flavor)
            if bm is not None:
                item = bm
            else:
                meta = s.metadata or {}
                item = None if host_keys is not None and host_keys.isdisjoint(meta) \
                    else host_item(meta)
                if item is None:
                    vms.append(k)
                    continue
            counted = bm is None or s.status not in NOT_USABLE
            if not counted:
                attrs[k]["counted"] = False
            self.lines.add("server", ids[k], names[k], projects[k], item,
                           ONE if counted else ZERO, ev.unit(item), attrs[k])
            if counted:
                fig.add_use(item, ONE)
                if bm is not None:
                    fig.by_key[(item, "allocated")].quantity += 1
                    key = (item, attrs[k]["flavor"])
                    self.per_flavor[key] = self.per_flavor.get(key, 0) + 1
        if not vms:
            return
        sized = [self.size_of(flavors[k]) for k in vms]
        cpus = [c for c, _ in sized]
        mems = [m for _, m in sized]
        self.vcpus = sum(cpus, self.vcpus)
        self.ram = sum(mems, self.ram)
        n = len(vms)
        vm_ids = [ids[k] for k in vms]
        vm_names = [names[k] for k in vms]
        vm_projects = [projects[k] for k in vms]
        vm_attrs = [attrs[k] for k in vms]  # one dict for a server's two lines
        self.lines.extend(resource_type=["server"] * (2 * n), resource_id=vm_ids * 2,
                          name=vm_names * 2, project_id=vm_projects * 2,
                          item_no=[self.vcpu_item] * n + [self.ram_item] * n,
                          quantity=cpus + mems, unit=["vCPU"] * n + ["GB"] * n,
                          attributes=vm_attrs * 2)

    def finish(self, data: dict, fetched: dict):
        fig, c = self.fig, self.ev.mapping.compute
        for (item, flavor), n in sorted(self.per_flavor.items()):
            fig.by_key[(item, "allocated")].parts.append({"name": flavor, "quantity": str(n)})
        quota = data["quota"]
        for item, key, scale, unit, used in (
                (self.vcpu_item, c.get("cores_quota", "cores"), 1, "vCPU", self.vcpus),
                (self.ram_item, c.get("ram_quota", "ram"), MB_PER_GB, "MB", self.ram)):
            if not item:
                continue
            limit = read_quota(quota.get(key))
            if limit == UNLIMITED:
                fig.unlimited(item, [{"name": key, "quantity": UNLIMITED}])
            elif limit is not None:
                fig.allocated(item, limit / scale, "quota",
                              [{"name": key, "quantity": str(limit), "unit": unit}])
            fig.use(item, used)
        return self.lines, fig
