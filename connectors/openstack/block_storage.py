"""Cinder: volumes per type (items 5, 6) and backups (item 8).

* Volume items: allocated = the sum of the per-type quotas ``gigabytes_<type>``
  of every volume type mapped to the item (basis quota, each type a part).  A
  per-type quota of -1 means the type draws on the project-wide ``gigabytes``
  pool: the item's allocation is that pool, shared with every other volume type
  (the parts say so); when the pool is -1 too, the item is unlimited.
  In use = the sizes of the item's volumes; a volume in ``error`` never came
  into being: it is listed in the evidence with quantity 0 and
  ``counted: false``, not counted.
* Backups: allocated = ``backup_gigabytes`` (-1: unlimited), in use = backup sizes.

Version: the highest volume microversion the server offers, up to 3.50
(none on a Cinder without microversions).

Volumes and backups are turned into lines a page at a time (:class:`Builder`)
and the page dropped; what the licences (image.py) need of a boot volume --
its image metadata, by server -- is kept.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from connectors.base import Lines
from connectors.openstack.figures import UNLIMITED, Decimals, Shared, qtext, read_quota
from connectors.openstack.http import Fetched, Http, negotiate

NAME = "block-storage"
WANT_MICROVERSION = "3.50"
#: volume states that are not storage the agency has (README: volumes in error)
NOT_COUNTED = frozenset({"error"})
#: where a volume attached as the boot disk sits (image.py reads its image metadata)
BOOT_DEVICES = ("/dev/vda", "/dev/sda", "/dev/xvda")


class Volume(msgspec.Struct):
    """What :class:`Builder` reads of a volume in ``/volumes/detail``, and nothing else
    (the rest of a page is skipped unparsed).  ``Any``, with the builder's defaults: a
    size that is not a number fails where it is read, as it did; attachments are read
    only for a volume with image metadata, as they were.  A volume that is not an
    object, or has no ``id``, fails in the decoder."""

    id: Any
    name: Any = None
    status: Any = None
    size: Any = None
    volume_type: Any = None
    tenant_id: Any = msgspec.field(default="", name="os-vol-tenant-attr:tenant_id")
    volume_image_metadata: Any = None  # a boot volume's image metadata (image.py)
    attachments: Any = None  # [{"device": ..., "server_id": ...}]


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    pid = conn.current_project_id
    mv = negotiate(conn.block_storage, WANT_MICROVERSION)
    f.versions["block-storage"] = mv
    http.pages(conn.block_storage, "/volumes/detail", "volumes", f, b.volumes, mv,
               item=Volume)
    f.data["quota"] = http.body(conn.block_storage, f"/os-quota-sets/{pid}", "quota_set", f,
                                params={"usage": "True"}, microversion=mv)
    # a handful of backups (one page): read whole, as dicts
    http.pages(conn.block_storage, "/backups/detail", "backups", f, b.backups, mv)


class Builder:
    """Volumes and backups, a page at a time, as lines and running figures."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        self.bs = ev.mapping.raw.get("block_storage", {})
        self.lines = Lines(source)
        self.fig = ev.figures()
        self.item_of: dict = {}  # volume type -> item (or None)
        self.kinds: dict[tuple, dict] = {}  # (volume type, status) -> the lines' attributes
        self.used: dict[int, int] = {}  # item -> GB of its counted volumes
        self.backup_item = self.bs.get("backup_item")
        self.backups_gb = 0
        self.decimals = Decimals()
        self.shared = Shared()
        #: server id -> the image metadata of its boot volume (image.py)
        self.boot_meta: dict = {}
        f.data["boot_meta"] = self.boot_meta

    def kind(self, type_name: str, status) -> dict:
        """The attributes of a volume of this type and status, made once."""
        attrs = {"volume_type": type_name, "kind": type_name, "status": status}
        if self.item_of[type_name] is not None and status in NOT_COUNTED:
            attrs["counted"] = False
        self.kinds[(type_name, status)] = attrs
        return attrs

    def volumes(self, page: list[Volume]) -> None:
        shared, item_of, exact = self.shared, self.item_of, self.decimals
        types = [shared[v.volume_type or ""] for v in page]
        for t in types:
            if t not in item_of:
                item_of[t] = self.ev.mapping.volume_type_item(t)
        items = [item_of[t] for t in types]
        statuses = [v.status for v in page]
        sizes = [int(v.size or 0) for v in page]
        counted = [s not in NOT_COUNTED for s in statuses]
        # one attributes dict per (type, status): a handful, shared by the lines (read only)
        kinds, kind = self.kinds, self.kind
        attrs = [kinds.get(k) or kind(*k) for k in zip(types, statuses)]
        if not all(counted):
            # a volume not counted keeps its size in the evidence: the report lists it apart
            # and says why its figure differs from Cinder's own usage, which counts it
            attrs = [a if c else dict(a, size=size)
                     for a, c, size in zip(attrs, counted, sizes)]
        used = self.used
        for item, size, c in zip(items, sizes, counted):
            if item is not None and c:
                used[item] = used.get(item, 0) + size
        boot = self.boot_meta
        for v in page:
            meta = v.volume_image_metadata
            if meta:
                for a in v.attachments or []:
                    if a.get("device") in BOOT_DEVICES:
                        boot[a.get("server_id")] = meta
        n = len(page)
        self.lines.extend(
            resource_type=["volume"] * n, resource_id=[v.id for v in page],
            name=[v.name or "" for v in page],
            project_id=[shared[v.tenant_id] for v in page],
            item_no=items, unit=["GB"] * n, attributes=attrs,
            quantity=[exact[size] if c else exact[0] for size, c in zip(sizes, counted)])

    def backups(self, page: list[dict]) -> None:
        item = self.backup_item
        if not item:
            return
        sizes = [int(b.get("size") or 0) for b in page]
        self.backups_gb += sum(sizes)
        n = len(page)
        self.lines.extend(
            resource_type=["backup"] * n, resource_id=[b["id"] for b in page],
            name=[b.get("name") or "" for b in page], project_id=[""] * n,
            item_no=[item] * n, quantity=[self.decimals[s] for s in sizes],
            unit=[self.ev.unit(item)] * n,
            attributes=[{"status": b.get("status")} for b in page])

    def finish(self, data: dict, fetched: dict):
        fig, quota = self.fig, data["quota"]
        types_of: dict[int, list[str]] = {}
        for type_name, item in self.bs.get("volume_types", {}).items():
            types_of.setdefault(int(item), []).append(type_name)
        for item, names in sorted(types_of.items()):
            fig.use(item)
            _volume_quota(fig, item, names, quota)
        for item, gb in self.used.items():
            fig.add_use(item, Decimal(gb))
        if self.backup_item:
            fig.add_use(self.backup_item, Decimal(self.backups_gb))
            limit = read_quota(quota.get("backup_gigabytes"))
            if limit is not None:
                fig.quota_sum(self.backup_item, [("backup_gigabytes", limit)])
        return self.lines, fig


def _volume_quota(fig, item: int, names: list[str], quota: dict) -> None:
    """The item's allocation from its types' quotas (the -1 fallback lives here)."""
    parts, pooled, absent = [], [], []
    for name in names:
        limit = read_quota(quota.get(f"gigabytes_{name}"))
        if limit is None:
            absent.append(name)  # no such type on this cloud: nothing to add
        elif limit == UNLIMITED:
            pooled.append(name)
        else:
            parts.append((f"gigabytes_{name}", limit))
    if len(absent) == len(names):
        return  # the quota set knows none of the item's types: not measured, stays unknown
    missing = f"配额中无卷类型 {'、'.join(absent)}（该云无此类型），不计入" if absent else None
    if not pooled:
        fig.quota_sum(item, parts, note=missing)
        return
    pool = read_quota(quota.get("gigabytes"))
    if pool is None:
        return
    note = (f"卷类型 {'、'.join(pooled)} 无单独配额（-1），共用项目总配额 gigabytes"
            f"（所有卷类型共享，非本项独占）")
    listed = [{"name": n, "quantity": qtext(q)} for n, q in parts] + \
        [{"name": f"gigabytes_{n}", "quantity": UNLIMITED} for n in pooled] + \
        [{"name": "gigabytes", "quantity": UNLIMITED if pool == UNLIMITED else qtext(pool),
          "shared": True}, {"note": note}] + ([{"note": missing}] if missing else [])
    if pool == UNLIMITED:
        fig.unlimited(item, listed)
    else:
        # the pool caps every type together: the item can hold at most the pool
        fig.allocated(item, pool, "quota", listed)
