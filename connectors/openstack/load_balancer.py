"""Octavia: load balancers (item 11).

Allocated = the project's ``load_balancer`` quota (basis quota; -1 is
unlimited -- never replaced by a count of the load balancers, which would be
the agency's use posing as the provider's allocation); in use = the load
balancers of the project.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import Lines
from connectors.openstack.figures import read_quota
from connectors.openstack.http import Fetched, Http

NAME = "load-balancer"


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    pid = conn.current_project_id
    http.pages(conn.load_balancer, "/lbaas/loadbalancers", "loadbalancers", f, b.loadbalancers,
               params={"project_id": pid})
    body = http.json(http.get(conn.load_balancer, f"/lbaas/quotas/{pid}", f), "lbaas/quotas")
    f.data["quota"] = body.get("quota", body)


class Builder:
    """The load balancers, a page at a time; the quota at the end."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        self.item = ev.mapping.setting("load_balancer", "item")
        self.lines = Lines(source)
        self.count = 0

    def loadbalancers(self, page: list[dict]) -> None:
        item = self.item
        if not item:
            return
        self.count += len(page)
        for lb in page:
            self.lines.add("loadbalancer", lb["id"], lb.get("name", ""),
                           lb.get("project_id", ""), item, Decimal(1), self.ev.unit(item),
                           {"provisioning_status": lb.get("provisioning_status"),
                            "vip_address": lb.get("vip_address")})

    def finish(self, data: dict, fetched: dict):
        fig, item = self.ev.figures(), self.item
        if not item:
            return self.lines, fig
        quota = data["quota"]
        key = "load_balancer" if "load_balancer" in quota else "loadbalancer"
        limit = read_quota(quota.get(key))
        if limit is not None:
            fig.quota_sum(item, [(key, limit)])
        fig.use(item, Decimal(self.count))
        return self.lines, fig
