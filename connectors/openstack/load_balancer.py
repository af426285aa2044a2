"""Octavia: load balancers (item 11).

Allocated = the project's ``load_balancer`` quota (basis quota; -1 is
unlimited -- never replaced by a count of the load balancers, which would be
the agency's use posing as the provider's allocation); in use = the load
balancers of the project.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.figures import read_quota
from connectors.openstack.http import Fetched, Http

NAME = "load-balancer"


def fetch(http: Http, conn, f: Fetched) -> None:
    pid = conn.current_project_id
    f.data["loadbalancers"] = http.pages(conn.load_balancer, "/lbaas/loadbalancers",
                                         "loadbalancers", f, params={"project_id": pid})
    body = http.json(http.get(conn.load_balancer, f"/lbaas/quotas/{pid}", f), "lbaas/quotas")
    f.data["quota"] = body.get("quota", body)


def measure(ev, source: str, data: dict, fetched: dict):
    fig = ev.figures()
    item = ev.mapping.setting("load_balancer", "item")
    if not item:
        return [], fig
    lbs = data["loadbalancers"]
    lines = [ResourceLine(source, "loadbalancer", lb["id"], lb.get("name", ""),
                          lb.get("project_id", ""), item, Decimal(1), ev.unit(item),
                          {"provisioning_status": lb.get("provisioning_status"),
                           "vip_address": lb.get("vip_address")}) for lb in lbs]
    quota = data["quota"]
    key = "load_balancer" if "load_balancer" in quota else "loadbalancer"
    limit = read_quota(quota.get(key))
    if limit is not None:
        fig.quota_sum(item, [(key, limit)])
    fig.use(item, Decimal(len(lbs)))
    return lines, fig
