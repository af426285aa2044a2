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

The package keeps reading a file apart from the tenant it describes:
:mod:`~recon.sim.scenario.parse` reads and checks a file (with ``checks``,
``records``, ``timeline`` and ``faults``) into the
:class:`~recon.sim.scenario.model.Scenario`; :mod:`~recon.sim.scenario.state`
is the :class:`State` of one day, built by replaying the timeline (the only
place names in the timeline are resolved; parsing runs it once, to the last
day, so a bad name fails the load); ``terms`` holds the service names and
defaults both sides use, ``ids`` the derived identifiers.
"""
from __future__ import annotations

from .checks import parse_today
from .faults import parse_fault
from .model import Scenario
from .parse import load_scenario, load_scenarios, parse_scenario
from .state import State
from .terms import (
    COMPUTE_QUOTA_DEFAULTS,
    FAULT_KINDS,
    LB_QUOTA_DEFAULTS,
    NETWORK_QUOTA_DEFAULTS,
    PAGE_SIZE_DEFAULTS,
    QUOTA_DEFAULTS,
    RESOURCE_KINDS,
    SERVER_STATUSES,
    SERVICES,
    VOLUME_QUOTA_DEFAULTS,
    VOLUME_STATUSES,
    canonical_service,
)
from .timeline import Event

__all__ = [
    "Scenario",
    "State",
    "Event",
    "load_scenario",
    "load_scenarios",
    "parse_scenario",
    "parse_fault",
    "parse_today",
    "SERVICES",
    "FAULT_KINDS",
    "RESOURCE_KINDS",
    "SERVER_STATUSES",
    "VOLUME_STATUSES",
    "QUOTA_DEFAULTS",
    "COMPUTE_QUOTA_DEFAULTS",
    "VOLUME_QUOTA_DEFAULTS",
    "NETWORK_QUOTA_DEFAULTS",
    "LB_QUOTA_DEFAULTS",
    "PAGE_SIZE_DEFAULTS",
    "canonical_service",
]
