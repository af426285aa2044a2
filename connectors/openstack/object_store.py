"""Swift: the object-storage account (item 7, priced per 套).

Allocated = 1 when the account answers (basis delivered: the account exists
for the project); in use = 1 when it holds a container.  Bytes, objects and
the account's quota are kept in the evidence line.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import Lines
from connectors.openstack.http import Fetched, Http

NAME = "object-store"


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    resp = http.get(conn.object_store, "", f, method="HEAD")
    f.data["account"] = {k.lower(): v for k, v in resp.headers.items()
                         if k.lower().startswith("x-account-")}


class Builder:
    """No pages: one HEAD, read at the end."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        self.source = source

    def finish(self, data: dict, fetched: dict):
        fig = self.ev.figures()
        lines = Lines(self.source)
        item = self.ev.mapping.setting("object_store", "item")
        if not item:
            return lines, fig
        acct = data["account"]
        containers = int(acct.get("x-account-container-count", 0) or 0)
        used = Decimal(1 if containers > 0 else 0)
        lines.add("account", "account", "object storage account", "", item, used,
                  self.ev.unit(item), {"bytes_used": acct.get("x-account-bytes-used"),
                                       "containers": containers,
                                       "objects": acct.get("x-account-object-count"),
                                       "quota_bytes": acct.get("x-account-meta-quota-bytes")})
        fig.allocated(item, Decimal(1), "delivered")
        fig.use(item, used)
        return lines, fig
