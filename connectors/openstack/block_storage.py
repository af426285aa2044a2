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
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.figures import UNLIMITED, qtext, read_quota
from connectors.openstack.http import Fetched, Http, negotiate

NAME = "block-storage"
WANT_MICROVERSION = "3.50"
#: volume states that are not storage the agency has (README: volumes in error)
NOT_COUNTED = frozenset({"error"})


def fetch(http: Http, conn, f: Fetched) -> None:
    pid = conn.current_project_id
    mv = negotiate(conn.block_storage, WANT_MICROVERSION)
    f.versions["block-storage"] = mv
    f.data["volumes"] = http.pages(conn.block_storage, "/volumes/detail", "volumes", f, mv)
    f.data["quota"] = http.body(conn.block_storage, f"/os-quota-sets/{pid}", "quota_set", f,
                                params={"usage": "True"}, microversion=mv)
    f.data["backups"] = http.pages(conn.block_storage, "/backups/detail", "backups", f, mv)


def measure(ev, source: str, data: dict, fetched: dict):
    bs = ev.mapping.raw.get("block_storage", {})
    quota = data["quota"]
    fig = ev.figures()
    lines = []
    types_of: dict[int, list[str]] = {}
    for type_name, item in bs.get("volume_types", {}).items():
        types_of.setdefault(int(item), []).append(type_name)
    for item, names in sorted(types_of.items()):
        fig.use(item)
        _volume_quota(fig, item, names, quota)
    for v in data["volumes"]:
        type_name = v.get("volume_type") or ""
        item = ev.mapping.volume_type_item(type_name)
        size = Decimal(int(v.get("size") or 0))
        attrs = {"volume_type": type_name, "kind": type_name, "status": v.get("status")}
        counted = v.get("status") not in NOT_COUNTED
        if item is not None and not counted:
            attrs["counted"] = False
        lines.append(ResourceLine(source, "volume", v["id"], v.get("name") or "",
                                  v.get("os-vol-tenant-attr:tenant_id", ""), item,
                                  size if counted else Decimal(0), "GB", attrs))
        if item is not None and counted:
            fig.add_use(item, size)
    backup_item = bs.get("backup_item")
    if backup_item:
        fig.use(backup_item)
        for b in data["backups"]:
            size = Decimal(int(b.get("size") or 0))
            fig.add_use(backup_item, size)
            lines.append(ResourceLine(source, "backup", b["id"], b.get("name") or "", "",
                                      backup_item, size, ev.unit(backup_item),
                                      {"status": b.get("status")}))
        limit = read_quota(quota.get("backup_gigabytes"))
        if limit is not None:
            fig.quota_sum(backup_item, [("backup_gigabytes", limit)])
    return lines, fig


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
