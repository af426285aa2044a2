"""Glance + Nova + Cinder: OS licences (items 25 Windows, 26 domestic Linux).

A server carries the licence its image says (``os_type`` / ``os_distro``; a
server booted from a volume through the volume's image metadata).  The API
sees the licences the agency runs, not what was bought: in use only,
allocated not measured -- from the provider's console export when one lists
the item, else no shortfall is drawn (use above the contract is still
flagged).  Needs compute and block storage: when either failed, the licences
are unknown too.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.http import Fetched, Http

NAME = "image"
#: services whose pulls this one's figures are built from
NEEDS = ("compute", "block-storage")
BOOT_DEVICES = ("/dev/vda", "/dev/sda", "/dev/xvda")


def fetch(http: Http, conn, f: Fetched) -> None:
    f.data["images"] = http.pages(conn.image, "/images", "images", f)


def measure(ev, source: str, data: dict, fetched: dict):
    images = {i["id"]: i for i in data["images"]}
    boot_meta = {}  # server id -> image metadata of its boot volume
    for v in fetched["block-storage"].data["volumes"]:
        meta = v.get("volume_image_metadata")
        for a in v.get("attachments") or []:
            if meta and a.get("device") in BOOT_DEVICES:
                boot_meta[a.get("server_id")] = meta
    fig = ev.figures()
    lines = []
    for rule in ev.mapping.raw.get("licences", []):
        fig.use(int(rule["item"]))
        fig.not_measured(int(rule["item"]), "API 只见在用操作系统，不见订购套数")
    for s in fetched["compute"].data["servers"]:
        image_ref = s.get("image")
        image = images.get(image_ref.get("id")) if isinstance(image_ref, dict) else None
        meta = image or boot_meta.get(s["id"]) or {}
        item = ev.mapping.licence_item(meta)
        if item is None:
            continue
        lines.append(ResourceLine(source, "server_licence", s["id"], s.get("name", ""),
                                  s.get("tenant_id", ""), item, Decimal(1), ev.unit(item),
                                  {"os_type": meta.get("os_type"),
                                   "os_distro": meta.get("os_distro")}))
        fig.add_use(item, Decimal(1))
    return lines, fig
