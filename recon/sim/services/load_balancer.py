"""Octavia v2: load balancers (with their status tree) and quotas.

Its list calls take Neutron's paging and ``fields`` parameters, so they share
Neutron's set of non-filter query keys.
"""
from __future__ import annotations

import re

from .. import paging
from .. import views as V
from ..errors import forbidden, not_found
from ..scenario import LB_QUOTA_DEFAULTS, State
from ..versions import lb_versions
from ..wire import Req, Response, dumps
from .base import Service, read_only
from .network import SKIP


class LoadBalancer(Service):
    name = "load-balancer"
    prefix = "load-balancer"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") in ("", "/v2", "/v2.0")

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        base = req.base
        if rest == "":
            return Response(200, lb_versions(base))
        if rest in ("/v2", "/v2.0"):
            return Response(200, {"version": lb_versions(base)["versions"][-1]})
        m = re.match(r"^/v2(?:\.0)?(/.*)$", rest)
        if not m:
            raise not_found(req)
        self.sim.auth(req)
        read_only(req)
        sc = self.scenario
        parts = [p for p in m.group(1).split("/") if p]
        if len(parts) >= 2 and parts[0] == "lbaas" and parts[1] == "loadbalancers":
            ent = self.sim.listing(st, ("lbs", base), lambda: sorted(
                st.load_balancers.values(), key=lambda x: (x["created"], x["id"])),
                lambda lb: V.lb_view(st, lb))
            if len(parts) >= 3:
                n = ent[3].get(parts[2])
                if n is None:
                    raise not_found(req, f"Load Balancer {parts[2]} not found.")
                if len(parts) == 3:
                    return Response(200, {"loadbalancer": ent[0][n]})
                if parts[3] == "status":
                    lb = ent[0][n]
                    return Response(200, {"statuses": {"loadbalancer": {
                        "id": lb["id"], "name": lb["name"], "listeners": [],
                        "provisioning_status": lb["provisioning_status"],
                        "operating_status": lb["operating_status"]}}})
                raise not_found(req)
            sel = paging.select(req, ent, SKIP)
            limit = paging.page_size(req, sc.settings["page_size"]["load-balancer"], None)
            page, page_no, more = paging.page(req, ent, sel, limit)
            self.sim.expire_check(req, page_no)
            if req.query.get("fields"):
                items = dumps(paging.fields(req, [ent[0][i] for i in page]))
            else:
                items = paging.join(ent[1], page)
            links = []
            path = f"{base}/load-balancer/v2/lbaas/loadbalancers"
            if limit is not None and page:
                if more:
                    links.append({"rel": "next", "href": paging.next_href(
                        req, path, ent[2][page[-1]], limit)})
                if req.q("marker"):
                    links.append({"rel": "previous", "href": paging.next_href(
                        req, path, ent[2][page[0]], limit, {"page_reverse": "True"})})
            return Response(200, b'{"loadbalancers": ' + items +
                            b', "loadbalancers_links": ' + dumps(links) + b"}")
        if len(parts) >= 2 and parts[0] == "lbaas" and parts[1] == "quotas":
            if len(parts) == 2:
                q = V.lb_quota(st)["quota"]
                return Response(200, {"quotas": [q], "quotas_links": []})
            if parts[2] == "defaults":
                d = LB_QUOTA_DEFAULTS
                q = dict(d, loadbalancer=d["load_balancer"], healthmonitor=d["health_monitor"])
                return Response(200, {"quota": q})
            if parts[2] != sc.project_id:
                raise forbidden(req, "Policy does not allow this request to be "
                                     "performed.")
            return Response(200, V.lb_quota(st))
        raise not_found(req)
