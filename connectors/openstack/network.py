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
"""
from __future__ import annotations

from decimal import Decimal

from connectors.base import ResourceLine
from connectors.openstack.figures import qtext, read_quota
from connectors.openstack.http import Fetched, Http

NAME = "network"


def fetch(http: Http, conn, f: Fetched) -> None:
    from openstack import exceptions

    pid = conn.current_project_id
    f.data["project_id"] = pid
    f.data["floatingips"] = http.pages(conn.network, "/floatingips", "floatingips", f,
                                       params={"project_id": pid})
    f.data["routers"] = http.pages(conn.network, "/routers", "routers", f,
                                   params={"project_id": pid})
    try:
        # unfiltered on purpose: shared policies of other projects are shown, not counted
        f.data["policies"] = http.pages(conn.network, "/qos/policies", "policies", f)
    except exceptions.NotFoundException:
        f.absent.append("qos")
    f.data["quota"] = http.body(conn.network, f"/quotas/{pid}/details", "quota", f)
    try:
        f.data["ipsec"] = http.pages(conn.network, "/vpn/ipsec-site-connections",
                                     "ipsec_site_connections", f, params={"project_id": pid})
    except exceptions.NotFoundException:
        f.absent.append("vpn")


def measure(ev, source: str, data: dict, fetched: dict):
    n = ev.mapping.raw.get("network", {})
    fig = ev.figures()
    lines: list[ResourceLine] = []
    fip_item = n.get("floating_ip_item")
    if fip_item:
        fig.use(fip_item)
        for ip in data["floatingips"]:
            fig.add_use(fip_item, Decimal(bool(ip.get("port_id"))))
            lines.append(ResourceLine(source, "floatingip", ip["id"],
                                      ip.get("floating_ip_address", ""),
                                      ip.get("project_id", ""), fip_item, Decimal(1),
                                      ev.unit(fip_item),
                                      {"port_id": ip.get("port_id"),
                                       "qos_policy_id": ip.get("qos_policy_id")}))
        if n.get("floating_ip_allocated", "quota") == "quota":
            limit = read_quota(data["quota"].get("floatingip"))
            if limit is not None:
                fig.quota_sum(fip_item, [("floatingip", limit)])
        else:
            fig.allocated(fip_item, Decimal(len(data["floatingips"])), "delivered")
    snat_item = n.get("snat_item")
    if snat_item:
        fig.use(snat_item)
        fig.not_measured(snat_item, "API 只见已启用 SNAT 的网关，不见订购数量")
        for r in data["routers"]:
            if (r.get("external_gateway_info") or {}).get("enable_snat"):
                fig.add_use(snat_item, Decimal(1))
                lines.append(ResourceLine(source, "router", r["id"], r.get("name", ""),
                                          r.get("project_id", ""), snat_item, Decimal(1),
                                          ev.unit(snat_item), {"status": r.get("status")}))
    bw_item = n.get("bandwidth_item")
    if bw_item and "policies" in data:
        _bandwidth(ev, fig, lines, source, bw_item, data)
    ipsec_item = n.get("ipsec_item")
    if ipsec_item and "ipsec" in data:
        fig.use(ipsec_item)
        fig.not_measured(ipsec_item, "API 只见已建立的 IPsec 连接，不见订购数量")
        for c in data["ipsec"]:
            fig.add_use(ipsec_item, Decimal(1))
            lines.append(ResourceLine(source, "ipsec_site_connection", c["id"],
                                      c.get("name", ""), c.get("project_id", ""), ipsec_item,
                                      Decimal(1), ev.unit(ipsec_item),
                                      {"status": c.get("status")}))
    return lines, fig


def _bandwidth(ev, fig, lines, source, item, data) -> None:
    pid = data["project_id"]
    attached = {(r.get("external_gateway_info") or {}).get("qos_policy_id")
                for r in data["routers"]}
    attached |= {ip.get("qos_policy_id") for ip in data["floatingips"]}
    total = used = Decimal(0)
    parts = []
    for p in data["policies"]:
        name = p.get("name") or ""
        owner = p.get("project_id") or p.get("tenant_id") or ""
        egress = [r for r in p.get("rules", []) if r.get("type") == "bandwidth_limit"
                  and r.get("direction", "egress") == "egress"]
        mbps = sum((Decimal(int(r.get("max_kbps") or 0)) / 1000 for r in egress), Decimal(0))
        attrs = {"kind": name, "attached": p["id"] in attached, "shared": p.get("shared")}
        foreign = bool(owner) and owner != pid
        if foreign and (not p.get("shared") or not ev.mapping.is_bandwidth_policy(name)):
            # visible only to an admin credential, or no bandwidth policy at all: not ours
            continue
        if not ev.mapping.is_bandwidth_policy(name) or not egress:
            attrs["why"] = ("名称不符合 bandwidth_policies" if egress or
                            not ev.mapping.is_bandwidth_policy(name)
                            else "无出方向带宽限制规则")
            lines.append(ResourceLine(source, "qos_policy", p["id"], name, owner, None,
                                      mbps, ev.unit(item), attrs))
            continue
        if foreign:
            attrs.update(counted=False, why="其他项目的共享策略，不计入本合同")
            lines.append(ResourceLine(source, "qos_policy", p["id"], name, owner, item,
                                      Decimal(0), ev.unit(item), attrs))
            parts.append({"name": name, "quantity": qtext(mbps), "counted": False,
                          "note": "其他项目的共享策略"})
            continue
        total += mbps
        if p["id"] in attached:
            used += mbps
        parts.append({"name": name, "quantity": qtext(mbps)})
        lines.append(ResourceLine(source, "qos_policy", p["id"], name, owner, item, mbps,
                                  ev.unit(item), attrs))
    fig.allocated(item, total, "delivered", parts)
    fig.use(item, used)

