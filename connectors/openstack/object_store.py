"""Swift: the object-storage account (item 7, priced per 套).

Allocated = 1 when the account answers (basis delivered: the account exists
for the project); in use = 1 when it holds a container.  Bytes, objects and
the account's quota are kept in the evidence line.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.http import Fetched, Http

NAME = "object-store"


def fetch(http: Http, conn, f: Fetched) -> None:
    resp = http.get(conn.object_store, "", f, method="HEAD")
    f.data["account"] = {k.lower(): v for k, v in resp.headers.items()
                         if k.lower().startswith("x-account-")}


def measure(ev, source: str, data: dict, fetched: dict):
    fig = ev.figures()
    item = ev.mapping.setting("object_store", "item")
    if not item:
        return [], fig
    acct = data["account"]
    containers = int(acct.get("x-account-container-count", 0) or 0)
    used = Decimal(1 if containers > 0 else 0)
    line = ResourceLine(source, "account", "account", "object storage account", "", item,
                        used, ev.unit(item), {"bytes_used": acct.get("x-account-bytes-used"),
                                              "containers": containers,
                                              "objects": acct.get("x-account-object-count"),
                                              "quota_bytes": acct.get("x-account-meta-quota-bytes")})
    fig.allocated(item, Decimal(1), "delivered")
    fig.use(item, used)
    return [line], fig
