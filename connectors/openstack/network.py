"""Neutron: internet bandwidth (9), public IPs (10), IPsec (15), SNAT (30).

* Bandwidth: the QoS policies **of the contract's project** whose name matches
  ``network.bandwidth_policies``; allocated = their egress bandwidth-limit
  rules (max_kbps / 1000, basis delivered), in use = those attached to a
  gateway or floating IP.  A shared policy of another project is listed with
  quantity 0 and ``counted: false`` (the provider's pool, not this contract's
  bandwidth); another project's policy that is not shared (seen only with an
  admin credential) is left out.  A policy that matches no pattern, or matches one but has no
  egress bandwidth-limit rule, is unmapped and named in the finding.
* Public IPs: allocated = the ``floatingip`` quota (-1: unlimited) or, with
  ``floating_ip_allocated = "resources"``, the IPs held (basis delivered);
  in use = the IPs attached to a port.
* IPsec connections and SNAT gateways: the API sees what the agency set up,
  not what was bought: in use only, allocated not measured (or from a
  console export).

Neutron has no microversions; an extension that is not deployed (VPNaaS,
QoS: 404) leaves its item unmeasured, the rest of the service counts.

Each list is turned into lines a page at a time (:class:`Builder`); the QoS
policies come after the floating IPs and routers, whose policy ids say which
policies are attached.
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import Lines
from connectors.openstack.figures import qtext, read_quota
from connectors.openstack.http import Fetched, Http

NAME = "network"


def fetch(http: Http, conn, f: Fetched, b: "Builder") -> None:
    from openstack import exceptions

    pid = conn.current_project_id
    b.project_id = pid
    http.pages(conn.network, "/floatingips", "floatingips", f, b.floatingips,
               params={"project_id": pid})
    http.pages(conn.network, "/routers", "routers", f, b.routers, params={"project_id": pid})
    try:
        # unfiltered on purpose: shared policies of other projects are shown, not counted
        http.pages(conn.network, "/qos/policies", "policies", f, b.policies)
    except exceptions.NotFoundException:
        f.absent.append("qos")
        b.qos = False
    f.data["quota"] = http.body(conn.network, f"/quotas/{pid}/details", "quota", f)
    try:
        http.pages(conn.network, "/vpn/ipsec-site-connections", "ipsec_site_connections", f,
                   b.ipsec, params={"project_id": pid})
    except exceptions.NotFoundException:
        f.absent.append("vpn")
        b.vpn = False


class Builder:
    """Floating IPs, routers, QoS policies and IPsec connections, a page at a time."""

    def __init__(self, ev, source: str, f: Fetched):
        self.ev = ev
        self.n = n = ev.mapping.raw.get("network", {})
        self.fig = fig = ev.figures()
        self.lines = Lines(source)
        self.project_id = ""
        self.qos = self.vpn = True  # deployed (a 404 says not)
        #: QoS policy ids attached to a gateway or a floating IP
        self.attached: set = set()
        self.fips = 0
        self.fip_item, self.snat_item = n.get("floating_ip_item"), n.get("snat_item")
        self.bw_item, self.ipsec_item = n.get("bandwidth_item"), n.get("ipsec_item")
        self.bw_total = self.bw_used = Decimal(0)
        self.bw_parts: list[dict] = []
        if self.fip_item:
            fig.use(self.fip_item)
        if self.snat_item:
            fig.use(self.snat_item)
            fig.not_measured(self.snat_item, "API 只见已启用 SNAT 的网关，不见订购数量")

    def floatingips(self, page: list[dict]) -> None:
        self.fips += len(page)
        self.attached.update(ip.get("qos_policy_id") for ip in page)
        item = self.fip_item
        if not item:
            return
        unit = self.ev.unit(item)
        for ip in page:
            self.fig.add_use(item, Decimal(bool(ip.get("port_id"))))
            self.lines.add("floatingip", ip["id"], ip.get("floating_ip_address", ""),
                           ip.get("project_id", ""), item, Decimal(1), unit,
                           {"port_id": ip.get("port_id"), "qos_policy_id": ip.get("qos_policy_id")})

    def routers(self, page: list[dict]) -> None:
        self.attached.update((r.get("external_gateway_info") or {}).get("qos_policy_id")
                             for r in page)
        item = self.snat_item
        if not item:
            return
        for r in page:
            if (r.get("external_gateway_info") or {}).get("enable_snat"):
                self.fig.add_use(item, Decimal(1))
                self.lines.add("router", r["id"], r.get("name", ""), r.get("project_id", ""),
                               item, Decimal(1), self.ev.unit(item), {"status": r.get("status")})

    def policies(self, page: list[dict]) -> None:
        item = self.bw_item
        if not item:
            return
        ev, lines, pid, parts = self.ev, self.lines, self.project_id, self.bw_parts
        for p in page:
            name = p.get("name") or ""
            owner = p.get("project_id") or p.get("tenant_id") or ""
            egress = [r for r in p.get("rules", []) if r.get("type") == "bandwidth_limit"
                      and r.get("direction", "egress") == "egress"]
            mbps = sum((Decimal(int(r.get("max_kbps") or 0)) / 1000 for r in egress),
                       Decimal(0))
            attrs = {"kind": name, "attached": p["id"] in self.attached,
                     "shared": p.get("shared")}
            foreign = bool(owner) and owner != pid
            if foreign and (not p.get("shared") or not ev.mapping.is_bandwidth_policy(name)):
                # visible only to an admin credential, or no bandwidth policy at all: not ours
                continue
            if not ev.mapping.is_bandwidth_policy(name) or not egress:
                attrs["why"] = ("名称不符合 bandwidth_policies" if egress or
                                not ev.mapping.is_bandwidth_policy(name)
                                else "无出方向带宽限制规则")
                lines.add("qos_policy", p["id"], name, owner, None, mbps, ev.unit(item), attrs)
                continue
            if foreign:
                attrs.update(counted=False, why="其他项目的共享策略，不计入本合同")
                lines.add("qos_policy", p["id"], name, owner, item, Decimal(0), ev.unit(item),
                          attrs)
                parts.append({"name": name, "quantity": qtext(mbps), "counted": False,
                              "note": "其他项目的共享策略"})
                continue
            self.bw_total += mbps
            if p["id"] in self.attached:
                self.bw_used += mbps
            parts.append({"name": name, "quantity": qtext(mbps)})
            lines.add("qos_policy", p["id"], name, owner, item, mbps, ev.unit(item), attrs)

    def ipsec(self, page: list[dict]) -> None:
        item = self.ipsec_item
        if not item:
            return
        for c in page:
            self.fig.add_use(item, Decimal(1))
            self.lines.add("ipsec_site_connection", c["id"], c.get("name", ""),
                           c.get("project_id", ""), item, Decimal(1), self.ev.unit(item),
                           {"status": c.get("status")})

    def finish(self, data: dict, fetched: dict):
        fig, n = self.fig, self.n
        if self.fip_item:
            if n.get("floating_ip_allocated", "quota") == "quota":
                limit = read_quota(data["quota"].get("floatingip"))
                if limit is not None:
                    fig.quota_sum(self.fip_item, [("floatingip", limit)])
            else:
                fig.allocated(self.fip_item, Decimal(self.fips), "delivered")
        if self.bw_item and self.qos:
            fig.allocated(self.bw_item, self.bw_total, "delivered", self.bw_parts)
            fig.use(self.bw_item, self.bw_used)
        if self.ipsec_item and self.vpn:
            fig.use(self.ipsec_item)
            fig.not_measured(self.ipsec_item, "API 只见已建立的 IPsec 连接，不见订购数量")
        return self.lines, fig
