"""Parsers of the records a scenario may give both up front and on a date.

An image may be defined among the static definitions or created by a timeline
event; quotas and the object-store account are set up front and changed on a
date.  Both paths parse through these, so the two read the same.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any

from .checks import Err, as_int, as_list, check_keys
from .ids import derived_hex, derived_uuid
from .terms import QUOTA_DEFAULTS, VOLUME_QUOTA_DEFAULTS, canonical_service

IMAGE_KEYS = {"name", "id", "disk_format", "container_format", "size",
              "virtual_size", "min_disk", "min_ram", "visibility", "status",
              "owner", "properties", "tags", "protected", "checksum",
              "created_at", "os_hidden"}


def parse_image(err: Err, k: str, im: dict, pid: str, created: str | None) -> dict:
    check_keys(err, k, im, IMAGE_KEYS, ("name",))
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
        owner = derived_hex("admin-project") if vis == "public" else pid
    elif owner == "project":
        owner = pid
    name = str(im["name"])
    iid = str(im.get("id") or derived_uuid(pid, "image", name))
    size = as_int(err, f"{k}.size", im.get("size", 2147483648), 0)
    return {
        "name": name,
        "id": iid,
        "disk_format": str(im.get("disk_format", "qcow2")),
        "container_format": str(im.get("container_format", "bare")),
        "size": size,
        "virtual_size": im.get("virtual_size"),
        "min_disk": as_int(err, f"{k}.min_disk", im.get("min_disk", 0), 0),
        "min_ram": as_int(err, f"{k}.min_ram", im.get("min_ram", 0), 0),
        "visibility": vis,
        "status": str(im.get("status", "active")),
        "owner": str(owner),
        "properties": {str(a): b for a, b in props.items()},
        "tags": [str(t) for t in as_list(err, f"{k}.tags", im.get("tags"))],
        "protected": bool(im.get("protected", False)),
        "os_hidden": bool(im.get("os_hidden", False)),
        "checksum": str(im.get("checksum") or hashlib.md5(iid.encode()).hexdigest()),
        "os_hash_value": hashlib.sha512(iid.encode()).hexdigest(),
        "created_at": str(im.get("created_at") or created or "2026-01-01T00:00:00Z"),
    }


def merge_quotas(err: Err, key: str, quotas: dict, spec: Any,
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
            quotas[c][qk] = as_int(err, kk, qv, -1)


def merge_object_store(err: Err, key: str, acct: dict, spec: Any) -> None:
    check_keys(err, key, spec, {"bytes_used", "object_count", "container_count",
                                "quota_bytes", "containers"})
    for k in ("bytes_used", "object_count", "container_count"):
        if spec.get(k) is not None:
            acct[k] = as_int(err, f"{key}.{k}", spec[k], 0)
    if "quota_bytes" in spec:
        acct["quota_bytes"] = (None if spec["quota_bytes"] is None else
                               as_int(err, f"{key}.quota_bytes", spec["quota_bytes"], 0))
    if spec.get("containers") is not None:
        cs = []
        for i, c in enumerate(as_list(err, f"{key}.containers", spec["containers"])):
            kk = f"{key}.containers[{i}]"
            check_keys(err, kk, c, {"name", "bytes", "count", "last_modified"},
                       ("name",))
            cs.append({"name": str(c["name"]),
                       "bytes": as_int(err, f"{kk}.bytes", c.get("bytes", 0), 0),
                       "count": as_int(err, f"{kk}.count", c.get("count", 0), 0),
                       "last_modified": str(c.get("last_modified")
                                            or "2026-01-01T00:00:00.000000")})
        acct["containers"] = sorted(cs, key=lambda c: c["name"])
        if spec.get("container_count") is None:
            acct["container_count"] = len(cs)
        if spec.get("bytes_used") is None:
            acct["bytes_used"] = sum(c["bytes"] for c in cs)
        if spec.get("object_count") is None:
            acct["object_count"] = sum(c["count"] for c in cs)
