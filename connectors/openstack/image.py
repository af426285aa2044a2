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

from connectors.base import Lines
from connectors.openstack.http import Fetched, Http

NAME = "image"
#: services whose pulls this one's figures are built from
NEEDS = ("compute", "block-storage")


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    http.pages(conn.image, "/images", "images", f, b.images)


class Builder:
    """The images, kept by id (a tenant has tens, not thousands); the licences at the end,
    when compute and block storage are done."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        self.source = source
        self.by_id: dict[str, dict] = {}

    def images(self, page: list[dict]) -> None:
        self.by_id.update((i["id"], i) for i in page)

    def finish(self, data: dict, fetched: dict):
        ev, images = self.ev, self.by_id
        boot_meta = fetched["block-storage"].data["boot_meta"]
        fig = ev.figures()
        lines = Lines(self.source)
        for rule in ev.mapping.raw.get("licences", []):
            fig.use(int(rule["item"]))
            fig.not_measured(int(rule["item"]), "API 只见在用操作系统，不见订购套数")
        counts: dict[int, int] = {}
        one = Decimal(1)
        # the mapping reads only os_type and os_distro: one reading per distinct pair
        read: dict[tuple, tuple] = {}
        for sid, name, project, image_id in fetched["compute"].data["servers"]:
            image = images.get(image_id) if image_id is not None else None
            meta = image or boot_meta.get(sid) or {}
            pair = (meta.get("os_type"), meta.get("os_distro"))
            try:
                item = read[pair]
            except KeyError:
                item = read[pair] = ev.mapping.licence_item(meta)
            except TypeError:  # an unhashable value: read it this once
                item = ev.mapping.licence_item(meta)
            if item is None:
                continue
            lines.add("server_licence", sid, name, project, item, one, ev.unit(item),
                      {"os_type": pair[0], "os_distro": pair[1]})
            counts[item] = counts.get(item, 0) + 1
        for item, n in counts.items():
            fig.add_use(item, Decimal(n))
        return lines, fig
