"""Scenario files for the OpenStack API simulator.

A scenario is a YAML file with *static definitions* (who the tenant is, which
flavors, volume types and images exist, the quotas it starts with) and a
*timeline*: dated events that create, change and delete resources, change
quotas and the object-store account, and inject faults.  The simulator serves
the state of one simulated day, ``today``: every timeline event whose date is
``<= today``, applied in file order (events on the same date keep their order).

Top-level keys (all optional except ``project``)::

    today: 2026-11-14            # default "today" when none is given elsewhere
    region: RegionOne
    project:   {id: <32 hex>, name: bjwjw-bigdata,
                domain: {id: default, name: Default}, description: ...}
    users:                       # password users, all in the project's domain
      - name: recon-reader
        password: s3cret
        id: <optional, derived from the name>
        roles: [reader]          # roles on the project; "admin" shows admin-only fields
    application_credentials:
      - id: <optional>
        name: recon-nightly
        secret: s3cret
        user: recon-reader       # owner; roles default to the owner's roles
        roles: [reader]
    flavors:
      - {name: c8m32, id: <optional>, vcpus: 8, ram: 32768, disk: 100,
         ephemeral: 0, swap: 0, is_public: true, description: ...,
         extra_specs: {"hw:cpu_policy": shared}}
      # bare metal: resources:VCPU/MEMORY_MB "0" override what the flavor
      # counts towards the compute cores/ram quota usage
      - {name: bm.kp920.910b, vcpus: 192, ram: 786432, disk: 960,
         extra_specs: {"resources:CUSTOM_BM_KUNPENG920_910B": "1",
                       "resources:VCPU": "0", "resources:MEMORY_MB": "0",
                       "resources:DISK_GB": "0"}}
    volume_types:
      - {name: general, id: <optional>, description: ..., extra_specs: {...}}
    images:
      - {name: kylin-v10-sp3, id: <optional>, disk_format: qcow2,
         container_format: bare, size: 4294967296, min_disk: 40, min_ram: 0,
         visibility: public, status: active, owner: <optional>,
         properties: {os_distro: kylin, os_type: linux}}   # top-level keys in glance
    external_network: {name: public, id: <optional>, cidr: 203.0.113.0/24}
    tenant_network:   {name: bjwjw-net, id: <optional>, cidr: 10.0.0.0/16}
    quotas:                      # per service; unspecified keys keep service defaults
      compute: {cores: 1617, ram: 3927040, instances: 400}
      block-storage: {gigabytes: 130000, gigabytes_general: 17082,
                      volumes_ssd: -1, backups: 10, backup_gigabytes: 11}
      network: {floatingip: 33, router: 10}
      load-balancer: {load_balancer: 48}
    object_store: {bytes_used: 1099511627776, object_count: 5000,
                   container_count: 3, quota_bytes: <optional>,
                   containers: [{name: backups, bytes: 10, count: 2}]}  # optional
    settings:
      token_ttl: 3600            # seconds (wall clock) a token lives
      page_size: {compute: 1000, block-storage: 1000, network: 0,
                  load-balancer: 1000, image: 25}   # server-side max_limit; 0 = unlimited
      compute_max_microversion: "2.96"   # the newest Nova microversion served (2.1 ..
                                 # 2.96); a request above it gets 406.  Below 2.47
                                 # servers name their flavor by id only (Queens and
                                 # older), as recon must handle on older clouds
      volume_max_microversion: "3.70"    # the same for Cinder (3.0 .. 3.70)
      vpnaas: true               # false: a Neutron without VPNaaS (/vpn/... is 404)
    timeline:
      - date: 2026-11-01
        time: "02:00:00"          # optional, creation time of the resources
        note: free text
        create:
          servers:
            - name: "app-{n:03d}"  # {n} runs from `start` (default 1); {i} from 0
              count: 20            # the count shorthand; default 1
              start: 1
              flavor: c8m32        # flavor name or id
              image: kylin-v10-sp3 # image name or id; omitted with boot_volume
              boot_volume: {size: 100, type: ssd, image: kylin-v10-sp3,
                            delete_on_termination: true}   # booted from volume
              volumes: [{size: 500, type: general}]        # data volumes, attached
              status: ACTIVE       # ACTIVE SHUTOFF ERROR PAUSED SUSPENDED BUILD
              metadata: {service: remote-access}
              availability_zone: nova
              key_name: ops
              floating_ip: true    # allocate and associate a floating IP
          volumes:
            - {name: "scratch-{n}", count: 3, size: 100, type: legacy-sas,
               server: app-001, status: <optional>, bootable: false,
               image: <optional>, metadata: {}}
          backups:   [{name: "bk-{n}", count: 2, volume: scratch-1, size: 5,
                       status: available, incremental: false}]
          floating_ips: [{count: 3, server: <optional>, qos_policy: <optional>,
                          description: ""}]
          qos_policies:
            - name: internet-bw-1
              rules: [{type: bandwidth_limit, max_kbps: 2000000, direction: egress,
                       max_burst_kbps: 0}]
            - name: provider-shared-bw   # another project's policy shared with this one
              project_id: 0123456789abcdef0123456789abcdef
              shared: true
              rules: [{type: bandwidth_limit, max_kbps: 10000000}]
          routers: [{name: gw, external_gateway: {enable_snat: true,
                                                  qos_policy: internet-bw-1}}]
          ipsec_site_connections: [{name: "vpn-{n}", count: 4,
                                    peer_address: 198.51.100.10,
                                    peer_cidrs: [192.168.0.0/24], status: ACTIVE}]
          load_balancers: [{name: "lb-{n:02d}", count: 40, provider: amphora,
                            provisioning_status: ACTIVE, operating_status: ONLINE,
                            listeners: 1, pools: 1, floating_ip: false}]
          images: [...]            # same shape as the static images
      - date: 2026-11-05
        delete:                    # names or globs; {match: glob, count: N}
          servers: ["app-01*"]     # deletes the N most recently created matches
          volumes: [{match: "scratch-*", count: 1}]
      - date: 2026-11-06
        update:                    # change attributes of live resources
          servers: [{match: "app-00*", set: {status: SHUTOFF}}]
      - date: 2026-11-12
        quotas: {block-storage: {gigabytes_ssd: 101916}}
        object_store: {bytes_used: 2199023255552}
      - date: 2026-11-09
        until: 2026-11-09          # optional, faults last from date to until
        faults:
          - {service: block-storage, kind: http_503, retry_after: 120}

Fault kinds (``service`` is one of identity, compute, block-storage, network,
load-balancer, object-store, image): ``http_500``, ``http_503`` (``retry_after``),
``delay`` (``seconds``), ``token_expiry`` (``page``: the token in use dies at
that page of a paginated list, default 2), ``malformed_json``,
``missing_from_catalog``.  Every fault takes ``times: N`` (fire N times, then
stop; default unlimited, token_expiry default 1), ``match`` (a regular
expression searched in the request path), ``method`` and ``discovery: true``
(also hit version-discovery documents, which are spared by default).

Semantics worth knowing:

* Deleting a server deletes its boot volume (``delete_on_termination``, default
  true) and *detaches* its data volumes (default false): they stay, ``available``.
  Its floating IP is disassociated, not released.
* Compute quota usage (``cores``/``ram`` ``in_use``, ``/limits``) counts every
  live server (any status) at its flavor's vcpus/ram, except that the extra specs
  ``resources:VCPU`` / ``resources:MEMORY_MB`` override them (bare metal: "0").
  Block-storage usage counts every volume (per type too) and backup.
* Faults of a dated event are active from ``date`` to ``until``.  Every
  ``SimServer.set_today()`` arms them afresh (a new night); ``clear_faults()``
  silences them until the next ``set_today()``.
* Server-side page sizes (``settings.page_size``) are read on every request, so
  tests may change ``sim.scenario.settings["page_size"]`` on a running server.

Several regions and projects (``[openstack] scopes``) come from one file
with a top-level ``scopes`` list, read by :func:`load_scenarios`: the file
itself is the first scope (its ``region`` and ``project``), and each entry of
``scopes`` is another one: the file with the entry's top-level keys replacing
its own (a key not given is the file's)::

    region: RegionOne
    project: {name: bjwjw-prod}
    ...                            # the first scope, as any scenario
    scopes:
      - {region: GPU-Region, project: {name: bjwjw-ai}}       # same shape, other region
      - project: {name: bjwjw-dmz}                            # other project, own resources
        timeline: [{date: 2026-11-01, create: {servers: [...]}}]

Serve them with one Keystone: ``sim = SimServer(first)``, then
``sim.add_scope(SimServer(other))`` for each other scope (``recon-sim`` does
this for such a file).  Users and application credentials are the first
scope's; a token scoped to a project lists every region serving that project.

Identifiers are derived deterministically (uuid5) from the project, the kind,
the name and the creation date unless given, so the same scenario always
serves the same ids.  Errors raise :class:`ValueError` naming the file and the
key, e.g. ``demo.yaml: timeline[3].create.servers[0].flavor: unknown flavor 'x'``.
"""
from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import hashlib
import ipaddress
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is ~10x faster on large generated scenarios
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

__all__ = [
    "Scenario",
    "State",
    "load_scenario",
    "parse_scenario",
    "SERVICES",
    "FAULT_KINDS",
    "canonical_service",
]

SERVICES = (
    "identity",
    "compute",
    "block-storage",
    "network",
    "load-balancer",
    "object-store",
    "image",
)
_SERVICE_ALIASES = {
    "keystone": "identity",
    "nova": "compute",
    "cinder": "block-storage",
    "volume": "block-storage",
    "volumev3": "block-storage",
    "block_storage": "block-storage",
    "blockstorage": "block-storage",
    "neutron": "network",
    "octavia": "load-balancer",
    "load_balancer": "load-balancer",
    "loadbalancer": "load-balancer",
    "swift": "object-store",
    "object_store": "object-store",
    "glance": "image",
}
FAULT_KINDS = (
    "http_500",
    "http_503",
    "delay",
    "token_expiry",
    "malformed_json",
    "missing_from_catalog",
)
_FAULT_KEYS = {"service", "kind", "times", "seconds", "retry_after", "page",
               "match", "method", "discovery"}

COMPUTE_QUOTA_DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
VOLUME_QUOTA_DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}
NETWORK_QUOTA_DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "subnetpool": -1,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}
LB_QUOTA_DEFAULTS = {
    "load_balancer": -1,
    "listener": -1,
    "pool": -1,
    "member": -1,
    "health_monitor": -1,
    "l7policy": -1,
    "l7rule": -1,
}
QUOTA_DEFAULTS = {
    "compute": COMPUTE_QUOTA_DEFAULTS,
    "block-storage": VOLUME_QUOTA_DEFAULTS,
    "network": NETWORK_QUOTA_DEFAULTS,
    "load-balancer": LB_QUOTA_DEFAULTS,
}
PAGE_SIZE_DEFAULTS = {
    "compute": 1000,  # nova [api] max_limit
    "block-storage": 1000,  # cinder osapi_max_limit
    "network": 0,  # neutron pagination_max_limit = -1 (unlimited)
    "load-balancer": 1000,  # octavia [api_settings] pagination_max_limit
    "image": 25,  # glance limit_param_default (api_limit_max is 1000)
}
SERVER_STATUSES = {
    # status: (vm_state, power_state, task_state)
    "ACTIVE": ("active", 1, None),
    "SHUTOFF": ("stopped", 4, None),
    "ERROR": ("error", 0, None),
    "PAUSED": ("paused", 3, None),
    "SUSPENDED": ("suspended", 7, None),
    "BUILD": ("building", 0, "spawning"),
    "SHELVED_OFFLOADED": ("shelved_offloaded", 4, None),
}
VOLUME_STATUSES = {"available", "in-use", "error", "creating", "reserved",
                   "maintenance", "error_extending", "extending", "backing-up",
                   "downloading"}
_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")  # uuid.NAMESPACE_X500
RESOURCE_KINDS = (
    "servers",
    "volumes",
    "backups",
    "qos_policies",  # before floating_ips and routers, which may carry one
    "floating_ips",
    "routers",
    "ipsec_site_connections",
    "load_balancers",
    "images",
)


def canonical_service(name: str) -> str:
    """Map a service name or alias (``nova``, ``volume``, ...) to its type."""
    key = str(name).strip().lower()
    key = _SERVICE_ALIASES.get(key, key)
    if key not in SERVICES:
        raise ValueError(
            f"unknown service {name!r}; expected one of {', '.join(SERVICES)}"
        )
    return key


_NS_SHA1 = hashlib.sha1(_NS.bytes)


def _uuid(*parts: Any) -> str:
    """uuid.uuid5(_NS, "/".join(parts)), computed without the uuid module's overhead."""
    h = _NS_SHA1.copy()
    h.update("/".join([p if isinstance(p, str) else str(p) for p in parts]).encode())
    d = bytearray(h.digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    x = d.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def _hex(*parts: Any) -> str:
    return uuid.uuid5(_NS, "/".join(str(p) for p in parts)).hex


class _Err:
    """Builds ValueErrors that name the file and the key."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, key: str, msg: str) -> ValueError:
        return ValueError(f"{self.path}: {key}: {msg}")


def _parse_date(err: _Err, key: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise err(key, f"not a date (YYYY-MM-DD): {value!r}") from None


def parse_today(value: Any) -> _dt.date:
    """A date from a ``date``, ``datetime`` or ``YYYY-MM-DD`` string."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _check_keys(err: _Err, key: str, d: Any, allowed: set[str],
                required: tuple[str, ...] = ()) -> dict:
    if not isinstance(d, dict):
        raise err(key, f"expected a mapping, got {type(d).__name__}")
    unknown = sorted(set(map(str, d)) - allowed)
    if unknown:
        raise err(
            f"{key}.{unknown[0]}",
            f"unknown key; expected one of {', '.join(sorted(allowed))}",
        )
    for r in required:
        if r not in d or d[r] is None:
            raise err(f"{key}.{r}", "required key is missing")
    return d


def _int(err: _Err, key: str, v: Any, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        try:
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                v = int(v)
            else:
                raise TypeError
        except TypeError:
            raise err(key, f"expected an integer, got {v!r}") from None
    if minimum is not None and v < minimum:
        raise err(key, f"must be >= {minimum}, got {v}")
    return v


def _str(err: _Err, key: str, v: Any) -> str:
    if v is None or isinstance(v, (dict, list)):
        raise err(key, f"expected a string, got {v!r}")
    return str(v)


def _list(err: _Err, key: str, v: Any) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        raise err(key, f"expected a list, got {type(v).__name__}")
    return v


def _strmap(err: _Err, key: str, v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise err(key, f"expected a mapping, got {type(v).__name__}")
    return {str(k): ("" if x is None else str(x) if not isinstance(x, bool)
                     else str(x).lower())
            for k, x in v.items()}


# ---------------------------------------------------------------------------
# Faults


def parse_fault(spec: dict, err: _Err | None = None, key: str = "fault") -> dict:
    """Validate a fault spec; returns a normalised copy."""
    err = err or _Err("fault")
    _check_keys(err, key, spec, _FAULT_KEYS, ("service", "kind"))
    try:
        service = canonical_service(spec["service"])
    except ValueError as e:
        raise err(f"{key}.service", str(e)) from None
    kind = str(spec["kind"])
    if kind not in FAULT_KINDS:
        raise err(f"{key}.kind",
                  f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    out: dict[str, Any] = {"service": service, "kind": kind}
    times = spec.get("times")
    if times is None and kind == "token_expiry":
        times = 1
    out["times"] = None if times is None else _int(err, f"{key}.times", times, 1)
    if kind == "delay":
        if "seconds" not in spec:
            raise err(f"{key}.seconds", "required for a delay fault")
        try:
            out["seconds"] = float(spec["seconds"])
        except (TypeError, ValueError):
            raise err(f"{key}.seconds", f"not a number: {spec['seconds']!r}") from None
    if spec.get("retry_after") is not None:
        out["retry_after"] = _int(err, f"{key}.retry_after", spec["retry_after"], 0)
    out["page"] = _int(err, f"{key}.page", spec.get("page", 2), 1)
    if spec.get("match") is not None:
        try:
            re.compile(str(spec["match"]))
        except re.error as e:
            raise err(f"{key}.match", f"bad regular expression: {e}") from None
        out["match"] = str(spec["match"])
    if spec.get("method") is not None:
        out["method"] = str(spec["method"]).upper()
    out["discovery"] = bool(spec.get("discovery", False))
    return out


# ---------------------------------------------------------------------------
# Scenario


@dataclass
class Event:
    date: _dt.date
    until: _dt.date
    index: int
    key: str  # "timeline[3]" for error messages
    time: _dt.time
    create: dict[str, list[dict]] = field(default_factory=dict)
    delete: dict[str, list[dict]] = field(default_factory=dict)
    update: dict[str, list[dict]] = field(default_factory=dict)
    quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    object_store: dict[str, Any] = field(default_factory=dict)
    faults: list[dict] = field(default_factory=list)
    note: str = ""


@dataclass
class Scenario:
    path: str
    project: dict
    region: str
    users: list[dict]
    app_creds: list[dict]
    flavors: list[dict]
    volume_types: list[dict]
    images: list[dict]
    external_network: dict
    tenant_network: dict
    quotas: dict[str, dict[str, int]]
    object_store: dict
    events: list[Event]
    settings: dict
    default_today: _dt.date | None
    raw: dict = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.flavors_by_key = {}
        for f in self.flavors:
            self.flavors_by_key[f["name"]] = f
            self.flavors_by_key[f["id"]] = f
        self.volume_types_by_key = {}
        for t in self.volume_types:
            self.volume_types_by_key[t["name"]] = t
            self.volume_types_by_key[t["id"]] = t
        self._state_cache: dict[_dt.date, State] = {}
        self._state_lock = threading.Lock()

    # -- convenience ---------------------------------------------------------
    @property
    def project_id(self) -> str:
        return self.project["id"]

    @property
    def first_date(self) -> _dt.date | None:
        return min((e.date for e in self.events), default=None)

    @property
    def last_date(self) -> _dt.date | None:
        return max((e.until for e in self.events), default=None)

    def user(self, name_or_id: str | None = None) -> dict:
        if not self.users:
            raise ValueError(f"{self.path}: users: the scenario defines no user")
        if name_or_id is None:
            return self.users[0]
        for u in self.users:
            if name_or_id in (u["name"], u["id"]):
                return u
        raise ValueError(f"{self.path}: users: no user {name_or_id!r}")

    def app_cred(self, name_or_id: str | None = None) -> dict:
        if not self.app_creds:
            raise ValueError(
                f"{self.path}: application_credentials: the scenario defines none")
        if name_or_id is None:
            return self.app_creds[0]
        for a in self.app_creds:
            if name_or_id in (a["name"], a["id"]):
                return a
        raise ValueError(
            f"{self.path}: application_credentials: none named {name_or_id!r}")

    def resolve_today(self, today: Any = None) -> _dt.date:
        if today is not None:
            return parse_today(today)
        if self.default_today is not None:
            return self.default_today
        return _dt.date.today()

    def faults_on(self, today: _dt.date) -> list[dict]:
        """Scenario faults active on ``today`` (fresh copies)."""
        out = []
        for ev in self.events:
            if ev.faults and ev.date <= today <= ev.until:
                out.extend(copy.deepcopy(ev.faults))
        return out

    def state_at(self, today: Any) -> "State":
        """The tenant as it is on ``today`` (cached; treat as read-only)."""
        today = parse_today(today)
        st = self._state_cache.get(today)
        if st is None:
            with self._state_lock:
                st = self._state_cache.get(today)
                if st is None:
                    st = State(self, today)
                    for ev in self.events:
                        if ev.date > today:
                            break
                        st.apply(ev)
                    st.finish()
                    if len(self._state_cache) >= 8:
                        self._state_cache.pop(next(iter(self._state_cache)))
                    self._state_cache[today] = st
        return st


def load_scenario(path: Any) -> Scenario:
    """Load and validate a scenario YAML file (raises ValueError on bad input).

    A file with ``scopes`` is several; this is its first (:func:`load_scenarios`
    gives them all).
    """
    return load_scenarios(path)[0]


def load_scenarios(path: Any) -> list[Scenario]:
    """Every scope of a scenario file (see "Several regions and projects" above).

    A file without ``scopes`` is one scope.  Raises ValueError naming the file
    and the scope on bad input.
    """
    p = str(path)
    try:
        with open(p, "rb") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except FileNotFoundError:
        raise ValueError(f"{p}: file not found") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{p}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        return [parse_scenario(data, p)]
    data = dict(data)
    extra = data.pop("scopes", None) or []
    if not isinstance(extra, list) or not all(isinstance(e, dict) for e in extra):
        raise ValueError(f"{p}: scopes: a list of tables of top-level keys")
    out = [parse_scenario(data, p)]
    seen = {(out[0].region, out[0].project["name"])}
    for n, over in enumerate(extra):
        sc = parse_scenario(dict(data, **over), f"{p} scopes[{n}]")
        key = (sc.region, sc.project["name"])
        if key in seen:
            raise ValueError(f"{p}: scopes[{n}]: region {key[0]!r} project {key[1]!r} "
                             "is served twice")
        seen.add(key)
        out.append(sc)
    return out


def parse_scenario(data: Any, path: str = "<scenario>") -> Scenario:
    """Validate a scenario already parsed into Python objects."""
    err = _Err(path)
    top_keys = {"today", "region", "project", "users", "application_credentials",
                "flavors", "volume_types", "images", "external_network",
                "tenant_network", "quotas", "object_store", "settings", "timeline",
                "description", "name"}
    if data is None:
        raise err("project", "the file is empty")
    _check_keys(err, "<top>", data, top_keys, ("project",))

    # project ---------------------------------------------------------------
    pr = _check_keys(err, "project", data["project"],
                     {"id", "name", "domain", "description"}, ("name",))
    dom = pr.get("domain", {"id": "default", "name": "Default"})
    if isinstance(dom, str):
        dom = {"id": dom.lower() if dom == "Default" else _hex("domain", dom),
               "name": dom}
    _check_keys(err, "project.domain", dom, {"id", "name"})
    dom = {"id": str(dom.get("id") or _hex("domain", dom.get("name"))),
           "name": str(dom.get("name") or dom.get("id"))}
    project = {
        "id": _str(err, "project.id", pr.get("id") or _hex("project", pr["name"])),
        "name": _str(err, "project.name", pr["name"]),
        "domain": dom,
        "description": str(pr.get("description") or ""),
    }
    pid = project["id"]
    region = str(data.get("region") or "RegionOne")

    # users ------------------------------------------------------------------
    users = []
    for i, u in enumerate(_list(err, "users", data.get("users"))):
        k = f"users[{i}]"
        _check_keys(err, k, u, {"name", "id", "password", "roles", "email",
                                "domain"}, ("name", "password"))
        roles = [str(r) for r in _list(err, f"{k}.roles", u.get("roles", ["member"]))]
        users.append({
            "name": str(u["name"]),
            "id": str(u.get("id") or _hex(pid, "user", u["name"])),
            "password": str(u["password"]),
            "roles": roles,
            "domain": dom,
            "email": u.get("email"),
        })
    by_user = {}
    for u in users:
        by_user[u["name"]] = u
        by_user[u["id"]] = u

    app_creds = []
    for i, a in enumerate(_list(err, "application_credentials",
                                data.get("application_credentials"))):
        k = f"application_credentials[{i}]"
        _check_keys(err, k, a, {"id", "name", "secret", "user", "roles",
                                "description", "unrestricted", "expires_at"},
                    ("name", "secret", "user"))
        owner = by_user.get(str(a["user"]))
        if owner is None:
            raise err(f"{k}.user", f"unknown user {a['user']!r}")
        roles = [str(r) for r in _list(err, f"{k}.roles",
                                        a.get("roles", owner["roles"]))]
        bad = [r for r in roles if r not in owner["roles"]]
        if bad:
            raise err(f"{k}.roles", f"user {owner['name']!r} does not hold role {bad[0]!r}")
        app_creds.append({
            "id": str(a.get("id") or _hex(pid, "appcred", a["name"])),
            "name": str(a["name"]),
            "secret": str(a["secret"]),
            "user": owner,
            "roles": roles,
            "description": a.get("description"),
            "unrestricted": bool(a.get("unrestricted", False)),
        })

    # flavors ------------------------------------------------------------------
    flavors = []
    seen = set()
    for i, f in enumerate(_list(err, "flavors", data.get("flavors"))):
        k = f"flavors[{i}]"
        _check_keys(err, k, f, {"name", "id", "vcpus", "ram", "disk", "ephemeral",
                                "swap", "is_public", "description", "extra_specs",
                                "rxtx_factor", "disabled"},
                    ("name", "vcpus", "ram"))
        fl = {
            "name": str(f["name"]),
            "id": str(f.get("id") or _uuid(pid, "flavor", f["name"])),
            "vcpus": _int(err, f"{k}.vcpus", f["vcpus"], 0),
            "ram": _int(err, f"{k}.ram", f["ram"], 0),
            "disk": _int(err, f"{k}.disk", f.get("disk", 0), 0),
            "ephemeral": _int(err, f"{k}.ephemeral", f.get("ephemeral", 0), 0),
            "swap": _int(err, f"{k}.swap", f.get("swap", 0), 0),
            "is_public": bool(f.get("is_public", True)),
            "disabled": bool(f.get("disabled", False)),
            "description": f.get("description"),
            "rxtx_factor": float(f.get("rxtx_factor", 1.0)),
            "extra_specs": _strmap(err, f"{k}.extra_specs", f.get("extra_specs")),
        }
        if fl["name"] in seen or fl["id"] in seen:
            raise err(f"{k}.name", f"duplicate flavor {fl['name']!r}")
        seen.update((fl["name"], fl["id"]))
        specs = fl["extra_specs"]
        # what the flavor counts towards cores/ram quota usage
        fl["quota_vcpus"] = _spec_override(specs, "resources:VCPU", fl["vcpus"])
        fl["quota_ram"] = _spec_override(specs, "resources:MEMORY_MB", fl["ram"])
        flavors.append(fl)

    # volume types -------------------------------------------------------------
    volume_types = []
    seen = set()
    for i, t in enumerate(_list(err, "volume_types", data.get("volume_types"))):
        k = f"volume_types[{i}]"
        if isinstance(t, str):
            t = {"name": t}
        _check_keys(err, k, t, {"name", "id", "description", "extra_specs",
                                "is_public", "qos_specs_id"}, ("name",))
        vt = {
            "name": str(t["name"]),
            "id": str(t.get("id") or _uuid(pid, "volume_type", t["name"])),
            "description": t.get("description"),
            "extra_specs": _strmap(err, f"{k}.extra_specs", t.get("extra_specs")),
            "is_public": bool(t.get("is_public", True)),
            "qos_specs_id": t.get("qos_specs_id"),
        }
        if vt["name"] in seen:
            raise err(f"{k}.name", f"duplicate volume type {vt['name']!r}")
        seen.add(vt["name"])
        volume_types.append(vt)
    if not volume_types:
        volume_types.append({"name": "__DEFAULT__", "id": _uuid(pid, "volume_type",
                                                               "__DEFAULT__"),
                             "description": "Default Volume Type", "extra_specs": {},
                             "is_public": True, "qos_specs_id": None})

    # images -------------------------------------------------------------------
    images = []
    for i, im in enumerate(_list(err, "images", data.get("images"))):
        images.append(_parse_image(err, f"images[{i}]", im, pid, None))

    # networks -----------------------------------------------------------------
    ext = data.get("external_network") or {}
    _check_keys(err, "external_network", ext, {"name", "id", "cidr", "subnet_id"})
    tnet = data.get("tenant_network") or {}
    _check_keys(err, "tenant_network", tnet, {"name", "id", "cidr", "subnet_id"})
    external_network = _parse_net(err, "external_network", ext, pid, "public",
                                  "203.0.113.0/24")
    tenant_network = _parse_net(err, "tenant_network", tnet, pid,
                                f"{project['name']}-net", "10.0.0.0/16")

    # quotas -------------------------------------------------------------------
    vt_names = [t["name"] for t in volume_types]
    quotas = {svc: dict(d) for svc, d in QUOTA_DEFAULTS.items()}
    for t in vt_names:
        for base in ("volumes", "gigabytes", "snapshots"):
            quotas["block-storage"][f"{base}_{t}"] = -1
    if data.get("quotas") is not None:
        _merge_quotas(err, "quotas", quotas, data["quotas"], vt_names)

    # object store --------------------------------------------------------------
    object_store = {"bytes_used": 0, "object_count": 0, "container_count": 0,
                    "quota_bytes": None, "containers": None}
    if data.get("object_store") is not None:
        _merge_object_store(err, "object_store", object_store, data["object_store"])

    # settings -----------------------------------------------------------------
    st = data.get("settings") or {}
    _check_keys(err, "settings", st, {"token_ttl", "page_size",
                                      "compute_max_microversion",
                                      "volume_max_microversion", "vpnaas"})
    page_size = dict(PAGE_SIZE_DEFAULTS)
    for svc, n in (st.get("page_size") or {}).items():
        try:
            c = canonical_service(svc)
        except ValueError as e:
            raise err(f"settings.page_size.{svc}", str(e)) from None
        page_size[c] = _int(err, f"settings.page_size.{svc}", n, 0)
    settings = {
        "token_ttl": _int(err, "settings.token_ttl", st.get("token_ttl", 3600), 1),
        "page_size": page_size,
        "compute_max_microversion": _mv(err, "settings.compute_max_microversion",
                                        st.get("compute_max_microversion", "2.96"), 2),
        "volume_max_microversion": _mv(err, "settings.volume_max_microversion",
                                       st.get("volume_max_microversion", "3.70"), 3),
        "vpnaas": bool(st.get("vpnaas", True)),
    }

    default_today = (_parse_date(err, "today", data["today"])
                     if data.get("today") is not None else None)

    # timeline -----------------------------------------------------------------
    events = []
    for i, ev in enumerate(_list(err, "timeline", data.get("timeline"))):
        events.append(_parse_event(err, f"timeline[{i}]", i, ev, pid, vt_names))
    events.sort(key=lambda e: (e.date, e.index))

    sc = Scenario(
        path=path, project=project, region=region, users=users,
        app_creds=app_creds, flavors=flavors, volume_types=volume_types,
        images=images, external_network=external_network,
        tenant_network=tenant_network, quotas=quotas, object_store=object_store,
        events=events, settings=settings, default_today=default_today, raw=data,
    )
    # Dry run of the whole timeline: resolves every reference (flavors,
    # images, servers to attach to, ...) so errors surface at load time.
    if events:
        sc.state_at(sc.last_date)
    else:
        sc.state_at(sc.default_today or _dt.date.today())
    return sc


def _spec_override(specs: dict[str, str], key: str, default: int) -> int:
    v = specs.get(key)
    if v is None:
        return default
    try:
        return int(v)
    except ValueError:
        return default


def _mv(err: _Err, key: str, v: Any, major: int) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)", str(v).strip())
    if not m or int(m.group(1)) != major:
        raise err(key, f"expected a microversion like {major}.NN, got {v!r}")
    return (int(m.group(1)), int(m.group(2)))


def _parse_net(err: _Err, key: str, d: dict, pid: str, name: str, cidr: str) -> dict:
    nm = str(d.get("name") or name)
    try:
        net = ipaddress.ip_network(str(d.get("cidr") or cidr), strict=False)
    except ValueError as e:
        raise err(f"{key}.cidr", str(e)) from None
    if net.version != 4 or net.num_addresses < 8:
        raise err(f"{key}.cidr", "need an IPv4 network of at least /29")
    return {
        "name": nm,
        "id": str(d.get("id") or _uuid(pid, "network", key, nm)),
        "subnet_id": str(d.get("subnet_id") or _uuid(pid, "subnet", key, nm)),
        "cidr": str(net),
        "net": net,
    }


_IMAGE_KEYS = {"name", "id", "disk_format", "container_format", "size",
               "virtual_size", "min_disk", "min_ram", "visibility", "status",
               "owner", "properties", "tags", "protected", "checksum",
               "created_at", "os_hidden"}


def _parse_image(err: _Err, k: str, im: dict, pid: str, created: str | None) -> dict:
    _check_keys(err, k, im, _IMAGE_KEYS, ("name",))
    props = im.get("properties") or {}
    if not isinstance(props, dict):
        raise err(f"{k}.properties", "expected a mapping")
    reserved = {"id", "name", "status", "visibility", "owner", "size", "self",
                "file", "schema", "tags", "created_at", "updated_at"}
    for pk in props:
        if pk in reserved:
            raise err(f"{k}.properties.{pk}", "is a reserved glance attribute")
    vis = str(im.get("visibility", "public"))
    if vis not in ("public", "private", "shared", "community"):
        raise err(f"{k}.visibility", f"unknown visibility {vis!r}")
    owner = im.get("owner")
    if owner in (None, "admin"):
        owner = _hex("admin-project") if vis == "public" else pid
    elif owner == "project":
        owner = pid
    name = str(im["name"])
    iid = str(im.get("id") or _uuid(pid, "image", name))
    size = _int(err, f"{k}.size", im.get("size", 2147483648), 0)
    return {
        "name": name,
        "id": iid,
        "disk_format": str(im.get("disk_format", "qcow2")),
        "container_format": str(im.get("container_format", "bare")),
        "size": size,
        "virtual_size": im.get("virtual_size"),
        "min_disk": _int(err, f"{k}.min_disk", im.get("min_disk", 0), 0),
        "min_ram": _int(err, f"{k}.min_ram", im.get("min_ram", 0), 0),
        "visibility": vis,
        "status": str(im.get("status", "active")),
        "owner": str(owner),
        "properties": {str(a): b for a, b in props.items()},
        "tags": [str(t) for t in _list(err, f"{k}.tags", im.get("tags"))],
        "protected": bool(im.get("protected", False)),
        "os_hidden": bool(im.get("os_hidden", False)),
        "checksum": str(im.get("checksum") or hashlib.md5(iid.encode()).hexdigest()),
        "os_hash_value": hashlib.sha512(iid.encode()).hexdigest(),
        "created_at": str(im.get("created_at") or created or "2026-01-01T00:00:00Z"),
    }


def _merge_quotas(err: _Err, key: str, quotas: dict, spec: Any,
                  vt_names: list[str]) -> None:
    if not isinstance(spec, dict):
        raise err(key, "expected a mapping of service: {key: limit}")
    for svc, vals in spec.items():
        try:
            c = canonical_service(svc)
        except ValueError as e:
            raise err(f"{key}.{svc}", str(e)) from None
        if c not in QUOTA_DEFAULTS:
            raise err(f"{key}.{svc}", "this service has no quotas here "
                      "(compute, block-storage, network, load-balancer)")
        if not isinstance(vals, dict):
            raise err(f"{key}.{svc}", "expected a mapping of quota keys to limits")
        for qk, qv in vals.items():
            qk = str(qk)
            kk = f"{key}.{svc}.{qk}"
            if c == "block-storage":
                m = re.fullmatch(r"(volumes|gigabytes|snapshots)_(.+)", qk)
                if qk not in VOLUME_QUOTA_DEFAULTS and not (m and m.group(2) in vt_names):
                    if m:
                        raise err(kk, f"unknown volume type {m.group(2)!r}")
                    raise err(kk, "unknown block-storage quota key")
            elif c == "load-balancer" and qk in ("loadbalancer", "healthmonitor"):
                qk = {"loadbalancer": "load_balancer",
                      "healthmonitor": "health_monitor"}[qk]
            elif qk not in QUOTA_DEFAULTS[c]:
                raise err(kk, f"unknown {c} quota key; expected one of "
                          f"{', '.join(QUOTA_DEFAULTS[c])}")
            quotas[c][qk] = _int(err, kk, qv, -1)


def _merge_object_store(err: _Err, key: str, acct: dict, spec: Any) -> None:
    _check_keys(err, key, spec, {"bytes_used", "object_count", "container_count",
                                 "quota_bytes", "containers"})
    for k in ("bytes_used", "object_count", "container_count"):
        if spec.get(k) is not None:
            acct[k] = _int(err, f"{key}.{k}", spec[k], 0)
    if "quota_bytes" in spec:
        acct["quota_bytes"] = (None if spec["quota_bytes"] is None else
                               _int(err, f"{key}.quota_bytes", spec["quota_bytes"], 0))
    if spec.get("containers") is not None:
        cs = []
        for i, c in enumerate(_list(err, f"{key}.containers", spec["containers"])):
            kk = f"{key}.containers[{i}]"
            _check_keys(err, kk, c, {"name", "bytes", "count", "last_modified"},
                        ("name",))
            cs.append({"name": str(c["name"]),
                       "bytes": _int(err, f"{kk}.bytes", c.get("bytes", 0), 0),
                       "count": _int(err, f"{kk}.count", c.get("count", 0), 0),
                       "last_modified": str(c.get("last_modified")
                                            or "2026-01-01T00:00:00.000000")})
        acct["containers"] = sorted(cs, key=lambda c: c["name"])
        if spec.get("container_count") is None:
            acct["container_count"] = len(cs)
        if spec.get("bytes_used") is None:
            acct["bytes_used"] = sum(c["bytes"] for c in cs)
        if spec.get("object_count") is None:
            acct["object_count"] = sum(c["count"] for c in cs)


# -- resource templates -------------------------------------------------------

_COMMON = {"name", "count", "start", "id", "created_at", "description"}
_KIND_KEYS = {
    "servers": _COMMON | {"flavor", "image", "boot_volume", "volumes", "status",
                          "metadata", "availability_zone", "key_name",
                          "floating_ip", "tags", "locked", "user"},
    "volumes": _COMMON | {"size", "type", "server", "status", "bootable", "image",
                          "metadata", "availability_zone", "multiattach",
                          "encrypted", "device"},
    "backups": _COMMON | {"volume", "size", "status", "incremental",
                          "object_count", "container", "availability_zone"},
    "floating_ips": _COMMON | {"server", "qos_policy", "address", "status",
                               "dns_name"},
    "qos_policies": _COMMON | {"rules", "shared", "is_default", "project_id"},
    "routers": _COMMON | {"external_gateway", "status", "admin_state_up",
                          "routes"},
    "ipsec_site_connections": _COMMON | {"peer_address", "peer_id", "peer_cidrs",
                                         "status", "mtu", "psk", "initiator",
                                         "router", "admin_state_up"},
    "load_balancers": _COMMON | {"provider", "flavor_id", "provisioning_status",
                                 "operating_status", "vip_address", "listeners",
                                 "pools", "availability_zone", "tags",
                                 "floating_ip"},
    "images": _IMAGE_KEYS | {"count", "start"},
}
_UPDATABLE = {
    "servers": {"status", "metadata", "name", "description", "locked", "tags"},
    "volumes": {"status", "size", "metadata", "name", "description"},
    "backups": {"status", "name", "description"},
    "floating_ips": {"status", "description", "qos_policy"},
    "qos_policies": {"rules", "name", "description"},
    "routers": {"status", "admin_state_up", "external_gateway", "name"},
    "ipsec_site_connections": {"status", "name", "peer_address", "peer_cidrs"},
    "load_balancers": {"provisioning_status", "operating_status", "name",
                       "description"},
    "images": {"status", "properties", "name", "visibility", "tags"},
}


def _parse_event(err: _Err, k: str, index: int, ev: Any, pid: str,
                 vt_names: list[str]) -> Event:
    _check_keys(err, k, ev, {"date", "until", "time", "note", "create", "delete",
                             "update", "quotas", "object_store", "faults"},
                ("date",))
    d = _parse_date(err, f"{k}.date", ev["date"])
    until = _parse_date(err, f"{k}.until", ev["until"]) if ev.get("until") else d
    if until < d:
        raise err(f"{k}.until", "is before date")
    t = ev.get("time", "02:00:00")
    if isinstance(t, int):  # YAML 1.1 sexagesimal: 02:00:00 -> 7200
        t = _dt.time(t // 3600 % 24, t // 60 % 60, t % 60)
    else:
        try:
            t = _dt.time.fromisoformat(str(t))
        except ValueError:
            raise err(f"{k}.time", f"not a time (HH:MM:SS): {t!r}") from None
    event = Event(date=d, until=until, index=index, key=k, time=t,
                  note=str(ev.get("note") or ""))
    for section in ("create", "delete", "update"):
        spec = ev.get(section)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise err(f"{k}.{section}", "expected a mapping of kind: [...]")
        for kind, items in spec.items():
            kk = f"{k}.{section}.{kind}"
            if kind not in _KIND_KEYS:
                raise err(kk, f"unknown resource kind; expected one of "
                          f"{', '.join(RESOURCE_KINDS)}")
            items = _list(err, kk, items)
            parsed = []
            for j, it in enumerate(items):
                ik = f"{kk}[{j}]"
                if section == "create":
                    _check_keys(err, ik, it, _KIND_KEYS[kind])
                    if kind in ("servers", "volumes", "load_balancers", "routers",
                                "qos_policies", "ipsec_site_connections",
                                "images") and not it.get("name"):
                        if kind not in ("volumes",):
                            raise err(f"{ik}.name", "required key is missing")
                    n = _int(err, f"{ik}.count", it.get("count", 1), 0)
                    start = _int(err, f"{ik}.start", it.get("start", 1))
                    name = str(it.get("name", ""))
                    try:
                        name.format(n=start, i=0)
                    except (KeyError, IndexError, ValueError) as e:
                        raise err(f"{ik}.name", f"bad name pattern: {e}") from None
                    if n > 1 and it.get("id"):
                        raise err(f"{ik}.id", "an explicit id needs count: 1")
                    parsed.append(dict(it, _key=ik, _count=n, _start=start))
                elif section == "delete":
                    if isinstance(it, str):
                        it = {"match": it}
                    _check_keys(err, ik, it, {"match", "count", "id"})
                    if not it.get("match") and not it.get("id"):
                        raise err(f"{ik}.match", "required key is missing")
                    parsed.append({
                        "match": None if it.get("match") is None else str(it["match"]),
                        "id": it.get("id"),
                        "count": (None if it.get("count") is None else
                                  _int(err, f"{ik}.count", it["count"], 1)),
                        "_key": ik})
                else:  # update
                    _check_keys(err, ik, it, {"match", "id", "set", "count"}, ("set",))
                    if not it.get("match") and not it.get("id"):
                        raise err(f"{ik}.match", "required key is missing")
                    sets = it["set"]
                    if not isinstance(sets, dict):
                        raise err(f"{ik}.set", "expected a mapping")
                    bad = sorted(set(sets) - _UPDATABLE[kind])
                    if bad:
                        raise err(f"{ik}.set.{bad[0]}",
                                  f"cannot be updated; one of "
                                  f"{', '.join(sorted(_UPDATABLE[kind]))}")
                    parsed.append({
                        "match": None if it.get("match") is None else str(it["match"]),
                        "id": it.get("id"),
                        "count": (None if it.get("count") is None else
                                  _int(err, f"{ik}.count", it["count"], 1)),
                        "set": sets, "_key": ik})
            getattr(event, section)[kind] = parsed
    if ev.get("quotas") is not None:
        q: dict[str, dict[str, int]] = {svc: {} for svc in QUOTA_DEFAULTS}
        _merge_quotas(err, f"{k}.quotas", q, ev["quotas"], vt_names)
        event.quotas = {s: v for s, v in q.items() if v}
    if ev.get("object_store") is not None:
        acct: dict[str, Any] = {}
        _merge_object_store(err, f"{k}.object_store", acct, ev["object_store"])
        event.object_store = acct
    for j, f in enumerate(_list(err, f"{k}.faults", ev.get("faults"))):
        event.faults.append(parse_fault(f, err, f"{k}.faults[{j}]"))
    return event


# ---------------------------------------------------------------------------
# State


def _iso(d: _dt.datetime) -> str:
    return d.replace(microsecond=0).isoformat() + "Z"


def _mac(rid: str) -> str:
    h = hashlib.md5(rid.encode()).hexdigest()
    return "fa:16:3e:" + ":".join(h[i:i + 2] for i in (0, 2, 4))


class State:
    """Resources, quotas and account of one simulated day.

    Resources are plain dicts in creation order (keyed by id).  Views that
    turn them into API bodies live in :mod:`recon.sim.views`.
    """

    def __init__(self, sc: Scenario, today: _dt.date):
        self.sc = sc
        self.today = today
        self.pid = sc.project_id
        self.servers: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.backups: dict[str, dict] = {}
        self.floating_ips: dict[str, dict] = {}
        self.qos_policies: dict[str, dict] = {}
        self.routers: dict[str, dict] = {}
        self.ipsec_site_connections: dict[str, dict] = {}
        self.load_balancers: dict[str, dict] = {}
        self.images: dict[str, dict] = {im["id"]: im for im in sc.images}
        self.quotas = copy.deepcopy(sc.quotas)
        self.object_store = copy.deepcopy(sc.object_store)
        self._image_by_name: dict[str, dict] = {}
        self._tenant_ip = 10
        self._ext_ip = 10
        self.usage: dict[str, dict[str, int]] = {}
        self.cache: dict[Any, Any] = {}  # views cache (per state)

    # -- helpers ------------------------------------------------------------
    def _coll(self, kind: str) -> dict[str, dict]:
        return getattr(self, kind)

    def _find_one(self, kind: str, ref: str, key: str) -> dict:
        coll = self._coll(kind)
        if ref in coll:
            return coll[ref]
        hit = self._find_cache.get((kind, ref))
        if hit is not None and hit["id"] in coll:
            return hit
        hits = [r for r in coll.values() if r.get("name") == ref]
        if hits:
            self._find_cache[(kind, ref)] = hits[-1]
        if not hits:
            raise ValueError(f"{self.sc.path}: {key}: no live {kind[:-1].replace('_', ' ')} "
                             f"named {ref!r} on {self.today}")
        return hits[-1]

    def _select(self, kind: str, spec: dict) -> list[dict]:
        coll = self._coll(kind)
        if spec.get("id"):
            hit = coll.get(str(spec["id"]))
            found = [hit] if hit else []
        else:
            pat = spec["match"]
            if any(c in pat for c in "*?["):
                rx = re.compile(fnmatch.translate(pat)).match
                found = [r for r in coll.values() if rx(r.get("name") or "")]
            else:
                found = [r for r in coll.values() if r.get("name") == pat]
                if not found:
                    raise ValueError(
                        f"{self.sc.path}: {spec['_key']}: no live "
                        f"{kind[:-1].replace('_', ' ')} named {pat!r} on this date")
        if spec.get("count") is not None:
            found = found[::-1][: spec["count"]]  # most recently created first
        return found

    def _alloc_tenant_ip(self, key: str) -> str:
        net = self.sc.tenant_network["net"]
        if self._tenant_ip >= net.num_addresses - 1:
            raise ValueError(f"{self.sc.path}: {key}: tenant_network.cidr "
                             f"{net} has no free address left")
        ip = str(net.network_address + self._tenant_ip)
        self._tenant_ip += 1
        return ip

    def _alloc_ext_ip(self, key: str) -> str:
        net = self.sc.external_network["net"]
        if self._ext_ip >= net.num_addresses - 1:
            raise ValueError(f"{self.sc.path}: {key}: external_network.cidr "
                             f"{net} has no free address left")
        ip = str(net.network_address + self._ext_ip)
        self._ext_ip += 1
        return ip

    # -- events ---------------------------------------------------------------
    def apply(self, ev: Event) -> None:
        self._find_cache: dict[tuple[str, str], dict] = {}
        base = _dt.datetime.combine(ev.date, ev.time)
        for kind in RESOURCE_KINDS:  # dependency order
            for spec in ev.create.get(kind, ()):
                n = spec["_count"]
                for i in range(n):
                    num = spec["_start"] + i
                    name = str(spec.get("name", "")).format(n=num, i=i)
                    when = base + _dt.timedelta(seconds=i)
                    if spec.get("created_at"):
                        when = _dt.datetime.fromisoformat(
                            str(spec["created_at"]).replace("Z", "")) \
                            + _dt.timedelta(seconds=i)
                    getattr(self, f"_create_{kind}")(spec, name, when, ev, i)
        for kind, specs in ev.update.items():
            for spec in specs:
                for rec in self._select(kind, spec):
                    self._update(kind, rec, spec["set"], spec["_key"], base)
        for kind, specs in ev.delete.items():
            for spec in specs:
                for rec in self._select(kind, spec):
                    getattr(self, f"_delete_{kind}", self._delete_generic(kind))(rec)
        for svc, vals in ev.quotas.items():
            self.quotas[svc].update(vals)
        if ev.object_store:
            self._apply_object_store(ev.object_store)

    def _apply_object_store(self, upd: dict) -> None:
        acct = self.object_store
        cs = acct.get("containers")
        if upd.get("containers") is None and cs:
            # keep the container listing consistent with the account totals:
            # the first container absorbs the change
            cs = [dict(c) for c in cs]
            if "bytes_used" in upd:
                cs[0]["bytes"] = max(0, cs[0]["bytes"] + upd["bytes_used"] - acct["bytes_used"])
            if "object_count" in upd:
                cs[0]["count"] = max(0, cs[0]["count"] + upd["object_count"]
                                     - acct["object_count"])
            acct.update(upd)
            acct["containers"] = cs
        else:
            acct.update(upd)

    def _rid(self, spec: dict, kind: str, name: str, ev: Event, i: int) -> str:
        if spec.get("id"):
            rid = str(spec["id"])
        else:
            rid = _uuid(self.pid, kind, name, ev.date.isoformat(), ev.index, i)
        if rid in self._coll(kind):
            raise ValueError(f"{self.sc.path}: {spec['_key']}.id: duplicate id {rid}")
        return rid

    def _server_prep(self, spec: dict) -> dict:
        """Validation and lookups shared by every server of a count group."""
        key = spec["_key"]
        sc = self.sc
        err = _Err(sc.path)
        fl = sc.flavors_by_key.get(str(spec.get("flavor")))
        if fl is None:
            raise ValueError(f"{sc.path}: {key}.flavor: unknown flavor "
                             f"{spec.get('flavor')!r}")
        status = str(spec.get("status", "ACTIVE")).upper()
        if status not in SERVER_STATUSES:
            raise ValueError(f"{sc.path}: {key}.status: unknown server status "
                             f"{status!r}; one of {', '.join(SERVER_STATUSES)}")
        bv = spec.get("boot_volume")
        if bv is not None:
            if not isinstance(bv, dict):
                raise ValueError(f"{sc.path}: {key}.boot_volume: expected a mapping")
            _check_keys(err, f"{key}.boot_volume", bv,
                        {"size", "type", "image", "delete_on_termination", "name"},
                        ("size",))
        for j, dv in enumerate(spec.get("volumes") or []):
            dk = f"{key}.volumes[{j}]"
            if not isinstance(dv, dict):
                raise ValueError(f"{sc.path}: {dk}: expected a mapping")
            _check_keys(err, dk, dv, {"size", "type", "name",
                                      "delete_on_termination"}, ("size",))
        user = sc.users[0]["id"] if sc.users else _hex(self.pid, "user", "owner")
        if spec.get("user"):
            user = sc.user(str(spec["user"]))["id"]
        return {"flavor": fl, "status": status, "user": user,
                "metadata": _strmap(err, f"{key}.metadata", spec.get("metadata")),
                "tags": [str(t) for t in spec.get("tags") or []]}

    def _create_servers(self, spec, name, when, ev, i):
        key = spec["_key"]
        sc = self.sc
        prep = spec.get("_prep")
        if prep is None:
            prep = spec["_prep"] = self._server_prep(spec)
        fl = prep["flavor"]
        status = prep["status"]
        image = None
        bv = spec.get("boot_volume")
        if spec.get("image") is not None:
            image = self._image(spec["image"], f"{key}.image")
        if image is None and bv is None:
            raise ValueError(f"{sc.path}: {key}: a server needs an image or a boot_volume")
        rid = self._rid(spec, "servers", name, ev, i)
        user = prep["user"]
        iso = _iso(when)
        srv = {
            "id": rid, "name": name, "created": iso, "updated": iso,
            "status": status, "flavor": fl, "image": None if bv else image,
            "metadata": dict(prep["metadata"]),
            "az": str(spec.get("availability_zone", "nova")),
            "key_name": spec.get("key_name"), "user_id": user,
            "description": spec.get("description"),
            "tags": list(prep["tags"]),
            "locked": bool(spec.get("locked", False)),
            "ip": self._alloc_tenant_ip(key), "mac": _mac(rid),
            "port_id": _uuid(rid, "port"),
            "host": f"compute-{int(hashlib.md5(rid.encode()).hexdigest()[:4], 16) % 64:02d}",
            "volume_ids": [], "fip": None,
        }
        self.servers[rid] = srv
        if bv is not None:
            bimg = image if spec.get("image") is not None else (
                self._image(bv["image"], f"{key}.boot_volume.image")
                if bv.get("image") is not None else None)
            vol = self._new_volume(
                {"size": bv["size"], "type": bv.get("type"), "_key": f"{key}.boot_volume"},
                str(bv.get("name", "")), when, _uuid(rid, "boot-volume"),
                image=bimg, bootable=True)
            vol["delete_on_termination"] = bool(bv.get("delete_on_termination", True))
            self._attach(vol, srv, "/dev/vda", when)
            srv["boot_volume_id"] = vol["id"]
        for j, dv in enumerate(spec.get("volumes") or []):
            dk = f"{key}.volumes[{j}]"
            vol = self._new_volume(
                {"size": dv["size"], "type": dv.get("type"), "_key": dk},
                str(dv.get("name") or f"{name}-data-{j + 1}"), when,
                _uuid(rid, "data-volume", j))
            vol["delete_on_termination"] = bool(dv.get("delete_on_termination", False))
            self._attach(vol, srv, None, when)
        if spec.get("floating_ip"):
            self._create_floating_ips({"_key": f"{key}.floating_ip"}, "", when, ev,
                                      i, server=srv)

    def _image(self, ref: Any, key: str) -> dict:
        ref = str(ref)
        if ref in self.images:
            return self.images[ref]
        hit = self._image_by_name.get(ref)
        if hit is not None and hit["id"] in self.images:
            return hit
        for im in self.images.values():
            if im["name"] == ref:
                self._image_by_name[ref] = im
                return im
        raise ValueError(f"{self.sc.path}: {key}: unknown image {ref!r}")

    def _new_volume(self, spec: dict, name: str, when: _dt.datetime, rid: str,
                    image: dict | None = None, bootable: bool = False) -> dict:
        sc = self.sc
        key = spec["_key"]
        tname = spec.get("type")
        vt = (sc.volume_types[0] if tname is None
              else sc.volume_types_by_key.get(str(tname)))
        if vt is None:
            raise ValueError(f"{sc.path}: {key}.type: unknown volume type {tname!r}")
        size = spec.get("size", 1)
        if type(size) is not int or size < 1:
            size = _int(_Err(sc.path), f"{key}.size", size, 1)
        if rid in self.volumes:
            raise ValueError(f"{sc.path}: {key}: duplicate volume id {rid}")
        iso = _iso(when)
        meta = spec.get("metadata")
        vol = {
            "id": rid, "name": name, "size": size, "type": vt,
            "created": iso, "updated": iso,
            "status": spec.get("status"), "server_id": None, "device": None,
            "attachment_id": None, "attached_at": None,
            "bootable": bool(spec.get("bootable", bootable or image is not None)),
            "image": image,
            "metadata": _strmap(_Err(sc.path), f"{key}.metadata", meta) if meta else {},
            "az": str(spec.get("availability_zone", "nova")),
            "description": spec.get("description"),
            "multiattach": bool(spec.get("multiattach", False)),
            "encrypted": bool(spec.get("encrypted", False)),
            "user_id": sc.users[0]["id"] if sc.users else _hex(self.pid, "user", "owner"),
            "delete_on_termination": False,
        }
        if vol["status"] is not None and vol["status"] not in VOLUME_STATUSES:
            raise ValueError(f"{sc.path}: {key}.status: unknown volume status "
                             f"{vol['status']!r}")
        self.volumes[rid] = vol
        return vol

    def _attach(self, vol: dict, srv: dict, device: str | None, when) -> None:
        if device is None:
            device = "/dev/vd" + "bcdefghijklmnopqrstuvwxyz"[min(len(srv["volume_ids"]), 24)]
        vol["server_id"] = srv["id"]
        vol["device"] = device
        vol["attachment_id"] = None  # derived in the view
        vol["attached_at"] = when.replace(microsecond=0).isoformat() + ".000000"
        srv["volume_ids"].append(vol["id"])

    def _create_volumes(self, spec, name, when, ev, i):
        rid = self._rid(spec, "volumes", name, ev, i)
        image = (self._image(spec["image"], f"{spec['_key']}.image")
                 if spec.get("image") is not None else None)
        vol = self._new_volume(spec, name, when, rid, image=image)
        if spec.get("server"):
            srv = self._find_one("servers", str(spec["server"]), f"{spec['_key']}.server")
            self._attach(vol, srv, spec.get("device"), when)

    def _create_backups(self, spec, name, when, ev, i):
        key = spec["_key"]
        if not spec.get("volume"):
            raise ValueError(f"{self.sc.path}: {key}.volume: required key is missing")
        vol = self._find_one("volumes", str(spec["volume"]), f"{key}.volume")
        rid = self._rid(spec, "backups", name, ev, i)
        size = _int(_Err(self.sc.path), f"{key}.size", spec.get("size", vol["size"]), 0)
        self.backups[rid] = {
            "id": rid, "name": name, "volume_id": vol["id"], "size": size,
            "status": str(spec.get("status", "available")),
            "created": _iso(when), "updated": _iso(when),
            "incremental": bool(spec.get("incremental", False)),
            "object_count": int(spec.get("object_count", max(1, size * 20))),
            "container": str(spec.get("container", "volumebackups")),
            "az": str(spec.get("availability_zone", "nova")),
            "description": spec.get("description"),
            "user_id": vol["user_id"],
        }

    def _create_floating_ips(self, spec, name, when, ev, i, server=None):
        key = spec["_key"]
        rid = _uuid(self.pid, "fip", name, ev.date.isoformat(), ev.index, key, i) \
            if not spec.get("id") else str(spec["id"])
        if rid in self.floating_ips:
            raise ValueError(f"{self.sc.path}: {key}: duplicate floating IP id {rid}")
        if server is None and spec.get("server"):
            server = self._find_one("servers", str(spec["server"]), f"{key}.server")
        qos = None
        if spec.get("qos_policy"):
            qos = self._find_one("qos_policies", str(spec["qos_policy"]),
                                 f"{key}.qos_policy")["id"]
        fip = {
            "id": rid, "name": name, "address": str(spec.get("address") or
                                                    self._alloc_ext_ip(key)),
            "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "qos_policy_id": qos, "server_id": None, "dns_name": spec.get("dns_name", ""),
            "status": spec.get("status"),
        }
        self.floating_ips[rid] = fip
        if server is not None:
            if server.get("fip"):
                raise ValueError(f"{self.sc.path}: {key}: server {server['name']!r} "
                                 "already has a floating IP")
            fip["server_id"] = server["id"]
            server["fip"] = rid

    def _create_qos_policies(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "qos_policies", name, ev, i)
        self.qos_policies[rid] = {
            "id": rid, "name": name, "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "shared": bool(spec.get("shared", False)),
            "is_default": bool(spec.get("is_default", False)),
            # another project's policy (shared with this one): listed, owned elsewhere
            "project_id": str(spec["project_id"]) if spec.get("project_id") else None,
            "rules": self._rules(spec.get("rules"), rid, f"{key}.rules"),
        }

    def _rules(self, rules: Any, pol_id: str, key: str) -> list[dict]:
        err = _Err(self.sc.path)
        out = []
        for j, r in enumerate(_list(err, key, rules)):
            rk = f"{key}[{j}]"
            _check_keys(err, rk, r, {"type", "max_kbps", "max_burst_kbps",
                                     "direction", "min_kbps", "dscp_mark", "id"})
            typ = str(r.get("type", "bandwidth_limit"))
            rule = {"id": str(r.get("id") or _uuid(pol_id, "rule", j)), "type": typ,
                    "qos_policy_id": pol_id}
            if typ == "bandwidth_limit":
                if r.get("max_kbps") is None:
                    raise err(f"{rk}.max_kbps", "required key is missing")
                rule["max_kbps"] = _int(err, f"{rk}.max_kbps", r["max_kbps"], 0)
                rule["max_burst_kbps"] = _int(err, f"{rk}.max_burst_kbps",
                                              r.get("max_burst_kbps", 0), 0)
                d = str(r.get("direction", "egress"))
                if d not in ("egress", "ingress"):
                    raise err(f"{rk}.direction", "must be egress or ingress")
                rule["direction"] = d
            elif typ == "minimum_bandwidth":
                rule["min_kbps"] = _int(err, f"{rk}.min_kbps", r.get("min_kbps", 0), 0)
                rule["direction"] = str(r.get("direction", "egress"))
            elif typ == "dscp_marking":
                rule["dscp_mark"] = _int(err, f"{rk}.dscp_mark", r.get("dscp_mark", 0), 0)
            else:
                raise err(f"{rk}.type", f"unknown QoS rule type {typ!r}")
            out.append(rule)
        return out

    def _create_routers(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "routers", name, ev, i)
        gw = spec.get("external_gateway", {"enable_snat": True})
        self.routers[rid] = {
            "id": rid, "name": name, "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "status": str(spec.get("status", "ACTIVE")),
            "admin_state_up": bool(spec.get("admin_state_up", True)),
            "routes": list(spec.get("routes") or []),
            "gateway": None, "interface_port_id": _uuid(rid, "interface-port"),
            "interface_ip": None,
        }
        self.routers[rid]["interface_ip"] = str(
            self.sc.tenant_network["net"].network_address + 1) \
            if len(self.routers) == 1 else self._alloc_tenant_ip(key)
        self._set_gateway(self.routers[rid], gw, key)

    def _set_gateway(self, router: dict, gw: Any, key: str) -> None:
        if gw in (None, False):
            router["gateway"] = None
            return
        if gw is True:
            gw = {}
        _check_keys(_Err(self.sc.path), f"{key}.external_gateway", gw,
                    {"enable_snat", "qos_policy", "ip_address"})
        qos = None
        if gw.get("qos_policy"):
            qos = self._find_one("qos_policies", str(gw["qos_policy"]),
                                 f"{key}.external_gateway.qos_policy")["id"]
        old = router.get("gateway") or {}
        router["gateway"] = {
            "enable_snat": bool(gw.get("enable_snat", True)),
            "qos_policy_id": qos,
            "ip": str(gw.get("ip_address") or old.get("ip") or self._alloc_ext_ip(key)),
            "port_id": _uuid(router["id"], "gateway-port"),
        }

    def _create_ipsec_site_connections(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "ipsec_site_connections", name, ev, i)
        router = None
        if spec.get("router"):
            router = self._find_one("routers", str(spec["router"]), f"{key}.router")
        elif self.routers:
            router = next(iter(self.routers.values()))
        peer = str(spec.get("peer_address", f"198.51.100.{10 + i}"))
        self.ipsec_site_connections[rid] = {
            "id": rid, "name": name, "created": _iso(when),
            "description": str(spec.get("description") or ""),
            "peer_address": peer, "peer_id": str(spec.get("peer_id", peer)),
            "peer_cidrs": [str(c) for c in spec.get("peer_cidrs") or
                           [f"192.168.{i % 250}.0/24"]],
            "status": str(spec.get("status", "ACTIVE")),
            "mtu": int(spec.get("mtu", 1500)),
            "psk": str(spec.get("psk", "secret")),
            "initiator": str(spec.get("initiator", "bi-directional")),
            "admin_state_up": bool(spec.get("admin_state_up", True)),
            "router_id": router["id"] if router else None,
            "vpnservice_id": _uuid(self.pid, "vpnservice",
                                   router["id"] if router else "none"),
            "ikepolicy_id": _uuid(self.pid, "ikepolicy"),
            "ipsecpolicy_id": _uuid(self.pid, "ipsecpolicy"),
        }

    def _create_load_balancers(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "load_balancers", name, ev, i)
        nl = int(spec.get("listeners", 1))
        np_ = int(spec.get("pools", 1))
        self.load_balancers[rid] = {
            "id": rid, "name": name, "created": _iso(when),
            "updated": _iso(when + _dt.timedelta(seconds=95)),
            "description": str(spec.get("description") or ""),
            "provider": str(spec.get("provider", "amphora")),
            "flavor_id": str(spec.get("flavor_id") or ""),
            "provisioning_status": str(spec.get("provisioning_status", "ACTIVE")),
            "operating_status": str(spec.get("operating_status", "ONLINE")),
            "vip_address": str(spec.get("vip_address") or self._alloc_tenant_ip(key)),
            "vip_port_id": _uuid(rid, "vip-port"),
            "listeners": [_uuid(rid, "listener", j) for j in range(nl)],
            "pools": [_uuid(rid, "pool", j) for j in range(np_)],
            "az": spec.get("availability_zone"),
            "tags": [str(t) for t in spec.get("tags") or []],
        }
        if spec.get("floating_ip"):
            fid = _uuid(rid, "fip")
            self.floating_ips[fid] = {
                "id": fid, "name": "", "address": self._alloc_ext_ip(key),
                "created": _iso(when), "updated": _iso(when), "description": "",
                "qos_policy_id": None, "server_id": None, "lb_id": rid,
                "dns_name": "", "status": None,
            }

    def _create_images(self, spec, name, when, ev, i):
        im = {k: v for k, v in spec.items() if not k.startswith("_")
              and k not in ("count", "start")}
        im["name"] = name
        if not im.get("id") and spec["_count"] > 1:
            im["id"] = _uuid(self.pid, "image", name, ev.date, i)
        rec = _parse_image(_Err(self.sc.path), spec["_key"], im, self.pid, _iso(when))
        self.images[rec["id"]] = rec

    # -- update / delete ------------------------------------------------------
    def _update(self, kind: str, rec: dict, sets: dict, key: str, when) -> None:
        err = _Err(self.sc.path)
        rec["updated"] = _iso(when)
        for k, v in sets.items():
            if k == "metadata":
                rec["metadata"] = dict(rec.get("metadata") or {},
                                       **_strmap(err, f"{key}.set.metadata", v))
            elif k == "properties":
                rec["properties"] = dict(rec["properties"], **(v or {}))
            elif k == "status" and kind == "servers":
                s = str(v).upper()
                if s not in SERVER_STATUSES:
                    raise err(f"{key}.set.status", f"unknown server status {v!r}")
                rec["status"] = s
            elif k == "size":
                rec["size"] = _int(err, f"{key}.set.size", v, 1)
            elif k == "rules":
                rec["rules"] = self._rules(v, rec["id"], f"{key}.set.rules")
            elif k == "external_gateway":
                self._set_gateway(rec, v, f"{key}.set")
            elif k == "qos_policy":
                rec["qos_policy_id"] = (self._find_one("qos_policies", str(v),
                                                       f"{key}.set.qos_policy")["id"]
                                        if v else None)
            else:
                rec[k] = v

    def _delete_generic(self, kind: str):
        def _delete(rec: dict) -> None:
            self._coll(kind).pop(rec["id"], None)
        return _delete

    def _delete_servers(self, srv: dict) -> None:
        self.servers.pop(srv["id"], None)
        for vid in srv["volume_ids"]:
            vol = self.volumes.get(vid)
            if vol is None:
                continue
            if vol.get("delete_on_termination"):
                self.volumes.pop(vid, None)
            else:
                vol.update(server_id=None, device=None, attachment_id=None,
                           attached_at=None)
        if srv.get("fip") and srv["fip"] in self.floating_ips:
            self.floating_ips[srv["fip"]]["server_id"] = None

    def _delete_volumes(self, vol: dict) -> None:
        self.volumes.pop(vol["id"], None)
        srv = self.servers.get(vol.get("server_id") or "")
        if srv is not None and vol["id"] in srv["volume_ids"]:
            srv["volume_ids"].remove(vol["id"])

    def _delete_floating_ips(self, fip: dict) -> None:
        self.floating_ips.pop(fip["id"], None)
        srv = self.servers.get(fip.get("server_id") or "")
        if srv is not None:
            srv["fip"] = None

    def _delete_load_balancers(self, lb: dict) -> None:
        self.load_balancers.pop(lb["id"], None)
        for fid in [f["id"] for f in self.floating_ips.values()
                    if f.get("lb_id") == lb["id"]]:
            self.floating_ips[fid]["lb_id"] = None

    # -- usage ----------------------------------------------------------------
    def finish(self) -> None:
        srv = self.servers.values()
        self.usage["compute"] = {
            "instances": len(self.servers),
            "cores": sum(s["flavor"]["quota_vcpus"] for s in srv),
            "ram": sum(s["flavor"]["quota_ram"] for s in srv),
            "key_pairs": len({s["key_name"] for s in srv if s["key_name"]}),
        }
        vu: dict[str, int] = {"volumes": 0, "gigabytes": 0, "snapshots": 0,
                              "backups": len(self.backups),
                              "backup_gigabytes": sum(b["size"] for b in
                                                      self.backups.values())}
        for t in self.sc.volume_types:
            vu[f"volumes_{t['name']}"] = 0
            vu[f"gigabytes_{t['name']}"] = 0
        for v in self.volumes.values():
            t = v["type"]["name"]
            vu["volumes"] += 1
            vu["gigabytes"] += v["size"]
            vu[f"volumes_{t}"] += 1
            vu[f"gigabytes_{t}"] += v["size"]
        self.usage["block-storage"] = vu
        self.usage["network"] = {
            "floatingip": len(self.floating_ips),
            "router": len(self.routers),
            "network": 1, "subnet": 1,
            "port": len(self.servers) + len(self.routers) + len(self.load_balancers) + 1,
            "security_group": 1, "security_group_rule": 4,
        }
        self.usage["load-balancer"] = {"load_balancer": len(self.load_balancers)}
        acct = self.object_store
        if acct.get("containers") is None:
            acct["containers"] = _synth_containers(acct)

    def summary(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "servers": len(self.servers),
            "volumes": len(self.volumes),
            "backups": len(self.backups),
            "floating_ips": len(self.floating_ips),
            "routers": len(self.routers),
            "qos_policies": len(self.qos_policies),
            "ipsec_site_connections": len(self.ipsec_site_connections),
            "load_balancers": len(self.load_balancers),
            "images": len(self.images),
            "usage": self.usage,
            "quotas": self.quotas,
            "object_store": {k: v for k, v in self.object_store.items()
                             if k != "containers"},
        }


def _synth_containers(acct: dict) -> list[dict]:
    n = acct.get("container_count") or 0
    if n <= 0:
        return []
    b, o = acct.get("bytes_used", 0), acct.get("object_count", 0)
    out = []
    for i in range(n):
        out.append({"name": f"container-{i + 1:03d}",
                    "bytes": b // n + (b % n if i == 0 else 0),
                    "count": o // n + (o % n if i == 0 else 0),
                    "last_modified": "2026-01-01T00:00:00.000000"})
    return out
