"""Neutron: floating IPs, routers, ports, networks, subnets, QoS, VPNaaS, quotas.

Lists page as Neutron's do (``limit=0`` and no server-side maximum by default,
``previous`` links, ``?fields=``), and a scenario may turn VPNaaS off to be a
Neutron without the plugin.
"""
from __future__ import annotations

from typing import Callable

from .. import paging
from .. import views as V
from ..errors import forbidden, not_found
from ..scenario import NETWORK_QUOTA_DEFAULTS, State
from ..versions import network_versions
from ..wire import Req, Response, dumps
from .base import Service, is_admin, read_only

#: query parameters that are paging, sorting or field selection, not attribute filters
SKIP = {"limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir"}


class Network(Service):
    name = "network"
    prefix = "network"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") == ""

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        base = req.base
        if rest == "":
            return Response(200, network_versions(base))
        self.sim.auth(req)
        if not (rest == "/v2.0" or rest.startswith("/v2.0/")):
            raise not_found(req)
        if rest.endswith(".json"):
            rest = rest[:-5]
        parts = [p for p in rest.split("/")[2:] if p]
        read_only(req)
        sc = self.scenario
        admin = is_admin(req)
        if not parts:
            return Response(200, {"resources": [
                {"name": n, "collection": c, "links": [
                    {"rel": "self", "href": f"{base}/network/v2.0/{c}"}]}
                for n, c in (("network", "networks"), ("subnet", "subnets"),
                             ("port", "ports"), ("floatingip", "floatingips"),
                             ("router", "routers"))]})
        head = parts[0]
        simple: dict[str, tuple[str, Callable[[], list[dict]]]] = {
            "floatingips": ("floatingip", lambda: [V.floating_ip_view(st, f) for f in
                                                   st.floating_ips.values()]),
            "routers": ("router", lambda: [V.router_view(st, r, admin)
                                           for r in st.routers.values()]),
            "ports": ("port", lambda: V.ports_view(st)),
            "networks": ("network", lambda: V.networks_view(st)),
            "subnets": ("subnet", lambda: V.subnets_view(st)),
        }
        if head in simple:
            single, build = simple[head]
            return self._neutron_list(req, st, head, single, parts[1:], build,
                                      f"{base}/network/v2.0/{head}", (head, admin))
        if head == "qos" and len(parts) >= 2 and parts[1] == "policies":
            build = lambda: [V.qos_policy_view(st, p) for p in st.qos_policies.values()]  # noqa
            if len(parts) >= 4 and parts[3] == "bandwidth_limit_rules":
                pol = st.qos_policies.get(parts[2])
                if pol is None:
                    raise not_found(req, f"QoS policy {parts[2]} could not be "
                                         "found.", "QosPolicyNotFound")
                rules = [V.qos_rule_view(r, with_meta=False) for r in pol["rules"]
                         if r["type"] == "bandwidth_limit"]
                if len(parts) == 4:
                    sel = paging.select(req, (rules,), SKIP)
                    if sel is not None:
                        rules = [rules[i] for i in sel]
                    return Response(200, {"bandwidth_limit_rules":
                                          paging.fields(req, rules)})
                for r in rules:
                    if r["id"] == parts[4]:
                        return Response(200, {"bandwidth_limit_rule": r})
                raise not_found(req, f"Bandwidth limit rule {parts[4]} could not be "
                                     "found.", "QosRuleNotFound")
            return self._neutron_list(req, st, "policies", "policy", parts[2:], build,
                                      f"{base}/network/v2.0/qos/policies", ("qos",))
        if head == "vpn" and not sc.settings.get("vpnaas", True):
            raise not_found(req)  # no VPNaaS plugin: Neutron knows no /vpn
        if head == "vpn" and len(parts) >= 2 and parts[1] == "ipsec-site-connections":
            build = lambda: [V.ipsec_view(st, c)  # noqa
                             for c in st.ipsec_site_connections.values()]
            return self._neutron_list(req, st, "ipsec_site_connections",
                                      "ipsec_site_connection", parts[2:], build,
                                      f"{base}/network/v2.0/vpn/ipsec-site-connections",
                                      ("ipsec",))
        if head == "quotas" and len(parts) >= 2:
            if parts[1] != sc.project_id:
                if parts[1] == "project":
                    return Response(200, V.network_quota(st, False))
                raise forbidden(req, "rule:get_quota is disallowed by policy")
            if len(parts) == 2:
                return Response(200, V.network_quota(st, False))
            if parts[2] == "details":
                return Response(200, V.network_quota(st, True))
            if parts[2] == "default":
                return Response(200, {"quota": dict(NETWORK_QUOTA_DEFAULTS)})
            raise not_found(req)
        if head == "extensions":
            exts = ["router", "ext-gw-mode", "qos", "qos-bw-limit-direction",
                    "qos-gateway-ip", "qos-fip", "vpnaas", "quotas", "quota_details",
                    "pagination", "sorting", "standard-attr-timestamp",
                    "standard-attr-revisions", "standard-attr-tag"]
            if not sc.settings.get("vpnaas", True):
                exts.remove("vpnaas")
            return Response(200, {"extensions": [
                {"alias": a, "name": a, "description": "", "updated": "2023-01-01T00:00:00-00:00",
                 "links": []} for a in exts]})
        raise not_found(req)

    def _neutron_list(self, req, st, coll, single, sub, build, path, key) -> Response:
        ent = self.sim.listing(st, ("neutron",) + key + (req.base,),
                               lambda: sorted(build(), key=lambda v: v["id"]))
        if sub:
            n = ent[3].get(sub[0])
            if n is None or len(sub) > 1:
                nice = single.replace("_", " ").title().replace("Ip", "IP")
                raise not_found(req, f"{nice} {sub[0]} could not be found.",
                                single.title().replace("_", "") + "NotFound")
            item = paging.fields(req, [ent[0][n]])[0]
            return Response(200, {single: item})
        sel = paging.select(req, ent, SKIP)
        limit = paging.page_size(req, self.scenario.settings["page_size"]["network"], None)
        page, page_no, more = paging.page(req, ent, sel, limit)
        self.sim.expire_check(req, page_no)
        if req.query.get("fields"):
            items = dumps(paging.fields(req, [ent[0][i] for i in page]))
        else:
            items = paging.join(ent[1], page)
        body = b'{"' + coll.encode() + b'": ' + items
        links = []
        if limit is not None and page:
            if more:
                links.append({"rel": "next", "href": paging.next_href(
                    req, path, ent[2][page[-1]], limit)})
            if req.q("marker"):
                links.append({"rel": "previous", "href": paging.next_href(
                    req, path, ent[2][page[0]], limit, {"page_reverse": "True"})})
        if links:
            body += b', "' + coll.encode() + b'_links": ' + dumps(links)
        return Response(200, body + b"}")
