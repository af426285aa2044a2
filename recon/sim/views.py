"""API bodies, shaped as the OpenStack api-ref documents them.

Each ``*_view`` turns one simulator record (see :class:`recon.sim.scenario.State`)
into the JSON object the real service returns.  ``base`` is the URL the
client reached us at (``http://127.0.0.1:PORT``); ``mv`` a microversion tuple.
"""
from __future__ import annotations

import hashlib
from typing import Any

from .scenario import SERVER_STATUSES, State
from .scenario.ids import derived_uuid


def _ms(ts: str) -> str:
    """2026-11-01T02:00:00Z -> 2026-11-01T02:00:00.000000 (cinder/neutron style)."""
    return ts.rstrip("Z") + ".000000"


def _plain(ts: str) -> str:
    return ts.rstrip("Z")


# ---------------------------------------------------------------------------
# keystone


def catalog(base: str, sc, exclude: set[str]) -> list[dict]:
    pid = sc.project_id
    entries = [
        ("identity", "keystone", f"{base}/identity"),
        ("compute", "nova", f"{base}/compute/v2.1"),
        ("block-storage", "cinder", f"{base}/volume/v3/{pid}"),
        ("volumev3", "cinderv3", f"{base}/volume/v3/{pid}"),
        ("network", "neutron", f"{base}/network"),
        ("load-balancer", "octavia", f"{base}/load-balancer"),
        ("object-store", "swift", f"{base}/object-store/v1/AUTH_{pid}"),
        ("image", "glance", f"{base}/image"),
    ]
    out = []
    for typ, name, url in entries:
        canon = "block-storage" if typ == "volumev3" else typ
        if canon in exclude:
            continue
        sid = hashlib.md5(f"svc/{typ}".encode()).hexdigest()
        eps = []
        for iface in ("public", "internal"):
            eps.append({
                "id": hashlib.md5(f"ep/{typ}/{iface}".encode()).hexdigest(),
                "interface": iface,
                "region": sc.region,
                "region_id": sc.region,
                "url": url,
            })
        out.append({"endpoints": eps, "id": sid, "type": typ, "name": name})
    return out


def role_refs(roles: list[str]) -> list[dict]:
    return [{"id": hashlib.md5(f"role/{r}".encode()).hexdigest(), "name": r}
            for r in roles]


# ---------------------------------------------------------------------------
# nova


def _flavor_swap(fl: dict, mv) -> Any:
    if fl["swap"] == 0 and mv < (2, 75):
        return ""
    return fl["swap"]


def flavor_view(base: str, fl: dict, mv, detail: bool = True) -> dict:
    links = [{"rel": "self", "href": f"{base}/compute/v2.1/flavors/{fl['id']}"},
             {"rel": "bookmark", "href": f"{base}/compute/flavors/{fl['id']}"}]
    out: dict[str, Any] = {"id": fl["id"], "name": fl["name"], "links": links}
    if mv >= (2, 55):
        out["description"] = fl["description"]
    if not detail:
        return out
    out.update({
        "ram": fl["ram"],
        "vcpus": fl["vcpus"],
        "disk": fl["disk"],
        "OS-FLV-EXT-DATA:ephemeral": fl["ephemeral"],
        "OS-FLV-DISABLED:disabled": fl["disabled"],
        "os-flavor-access:is_public": fl["is_public"],
        "rxtx_factor": fl["rxtx_factor"],
        "swap": _flavor_swap(fl, mv),
    })
    if mv >= (2, 61):
        out["extra_specs"] = dict(fl["extra_specs"])
    return out


def server_view(base: str, st: State, s: dict, mv, admin: bool) -> dict:
    sc = st.sc
    fl = s["flavor"]
    vm_state, power_state, task_state = SERVER_STATUSES[s["status"]]
    net = sc.tenant_network
    addrs = [{"OS-EXT-IPS-MAC:mac_addr": s["mac"], "version": 4,
              "addr": s["ip"], "OS-EXT-IPS:type": "fixed"}]
    if s.get("fip") and s["fip"] in st.floating_ips:
        addrs.append({"OS-EXT-IPS-MAC:mac_addr": s["mac"], "version": 4,
                      "addr": st.floating_ips[s["fip"]]["address"],
                      "OS-EXT-IPS:type": "floating"})
    if s["image"] is not None:
        image: Any = {"id": s["image"]["id"], "links": [
            {"rel": "bookmark", "href": f"{base}/compute/images/{s['image']['id']}"}]}
    else:
        image = ""
    if mv >= (2, 47):
        flavor: dict[str, Any] = {
            "vcpus": fl["vcpus"], "ram": fl["ram"], "disk": fl["disk"],
            "ephemeral": fl["ephemeral"], "swap": fl["swap"],
            "original_name": fl["name"],
            "extra_specs": dict(fl["extra_specs"]),
        }
    else:
        flavor = {"id": fl["id"], "links": [
            {"rel": "bookmark", "href": f"{base}/compute/flavors/{fl['id']}"}]}
    vols = []
    for vid in s["volume_ids"]:
        v = st.volumes.get(vid)
        if v is None:
            continue
        item: dict[str, Any] = {"id": vid}
        if mv >= (2, 3):
            item["delete_on_termination"] = bool(v.get("delete_on_termination"))
        vols.append(item)
    host_id = hashlib.sha224((st.pid + s["host"]).encode()).hexdigest()
    launched = s["created"].replace("Z", ".000000") if s["status"] != "BUILD" else None
    out: dict[str, Any] = {
        "id": s["id"],
        "name": s["name"],
        "status": s["status"],
        "tenant_id": st.pid,
        "user_id": s["user_id"],
        "metadata": dict(s["metadata"]),
        "hostId": host_id,
        "image": image,
        "flavor": flavor,
        "created": s["created"],
        "updated": s["updated"],
        "addresses": {net["name"]: addrs},
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": f"{base}/compute/v2.1/servers/{s['id']}"},
                  {"rel": "bookmark", "href": f"{base}/compute/servers/{s['id']}"}],
        "OS-DCF:diskConfig": "MANUAL",
        "progress": 0,
        "OS-EXT-AZ:availability_zone": s["az"],
        "config_drive": "",
        "key_name": s["key_name"],
        "OS-SRV-USG:launched_at": launched,
        "OS-SRV-USG:terminated_at": None,
        "security_groups": [{"name": "default"}],
        "OS-EXT-STS:task_state": task_state,
        "OS-EXT-STS:vm_state": vm_state,
        "OS-EXT-STS:power_state": power_state,
        "os-extended-volumes:volumes_attached": vols,
    }
    if s["status"] == "ERROR":
        out["fault"] = {"code": 500, "created": s["updated"],
                        "message": "No valid host was found. "}
    if admin:
        out["OS-EXT-SRV-ATTR:host"] = s["host"]
        out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = f"{s['host']}.localdomain"
        out["OS-EXT-SRV-ATTR:instance_name"] = (
            "instance-%08x" % (int(s["id"].replace("-", "")[:7], 16)))
        if mv >= (2, 3):
            out.update({
                "OS-EXT-SRV-ATTR:reservation_id": "r-" + s["id"][:8],
                "OS-EXT-SRV-ATTR:launch_index": 0,
                "OS-EXT-SRV-ATTR:kernel_id": "",
                "OS-EXT-SRV-ATTR:ramdisk_id": "",
                "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                "OS-EXT-SRV-ATTR:user_data": None,
            })
        if mv >= (2, 16):
            out["host_status"] = "UP"
    if mv >= (2, 3) and (admin or mv >= (2, 90)):
        out["OS-EXT-SRV-ATTR:hostname"] = s["name"].lower().replace("_", "-")
    if mv >= (2, 9):
        out["locked"] = s["locked"]
    if mv >= (2, 19):
        out["description"] = s["description"]
    if mv >= (2, 26):
        out["tags"] = list(s["tags"])
    if mv >= (2, 63):
        out["trusted_image_certificates"] = None
    if mv >= (2, 71):
        out["server_groups"] = []
    if mv >= (2, 73):
        out["locked_reason"] = None
    if mv >= (2, 96):
        out["pinned_availability_zone"] = None
    return out


def server_summary_view(base: str, s: dict) -> dict:
    return {"id": s["id"], "name": s["name"], "links": [
        {"rel": "self", "href": f"{base}/compute/v2.1/servers/{s['id']}"},
        {"rel": "bookmark", "href": f"{base}/compute/servers/{s['id']}"}]}


_NOVA_NET_QUOTAS = {"fixed_ips": -1, "floating_ips": 10, "networks": 3,
                    "security_group_rules": 20, "security_groups": 10}


def compute_quota_keys(mv) -> list[str]:
    keys = ["cores", "instances", "key_pairs", "metadata_items", "ram",
            "server_groups", "server_group_members"]
    if mv < (2, 57):
        keys += ["injected_files", "injected_file_content_bytes",
                 "injected_file_path_bytes"]
    if mv < (2, 36):
        keys += list(_NOVA_NET_QUOTAS)
    return sorted(keys)


def compute_quota_set(st: State, mv, detail: bool) -> dict:
    q = st.quotas["compute"]
    used = st.usage["compute"]
    out: dict[str, Any] = {"id": st.pid}
    for k in compute_quota_keys(mv):
        lim = q.get(k, _NOVA_NET_QUOTAS.get(k, -1))
        if detail:
            out[k] = {"limit": lim, "in_use": used.get(k, 0), "reserved": 0}
        else:
            out[k] = lim
    return {"quota_set": out}


def compute_limits(st: State, mv) -> dict:
    q = st.quotas["compute"]
    u = st.usage["compute"]
    ab: dict[str, Any] = {
        "maxImageMeta": q["metadata_items"],
        "maxServerMeta": q["metadata_items"],
        "maxTotalCores": q["cores"],
        "maxTotalInstances": q["instances"],
        "maxTotalKeypairs": q["key_pairs"],
        "maxTotalRAMSize": q["ram"],
        "maxServerGroups": q["server_groups"],
        "maxServerGroupMembers": q["server_group_members"],
        "totalCoresUsed": u["cores"],
        "totalInstancesUsed": u["instances"],
        "totalRAMUsed": u["ram"],
        "totalServerGroupsUsed": 0,
    }
    if mv < (2, 57):
        ab["maxPersonality"] = q["injected_files"]
        ab["maxPersonalitySize"] = q["injected_file_content_bytes"]
    if mv < (2, 36):
        ab.update({"maxSecurityGroupRules": 20, "maxSecurityGroups": 10,
                   "maxTotalFloatingIps": 10, "totalFloatingIpsUsed": 0,
                   "totalSecurityGroupsUsed": 0})
    return {"limits": {"absolute": ab, "rate": []}}


# ---------------------------------------------------------------------------
# cinder


def volume_view(base: str, st: State, v: dict, mv, admin: bool) -> dict:
    pid = st.pid
    status = v["status"] or ("in-use" if v["server_id"] else "available")
    atts = []
    if v["server_id"]:
        atts.append({
            "server_id": v["server_id"],
            "attachment_id": derived_uuid(v["id"], "attachment", v["server_id"]),
            "attached_at": v["attached_at"], "host_name": None,
            "volume_id": v["id"], "device": v["device"], "id": v["id"],
        })
    out: dict[str, Any] = {
        "id": v["id"],
        "name": v["name"],
        "status": status,
        "size": v["size"],
        "availability_zone": v["az"],
        "created_at": _ms(v["created"]),
        "updated_at": _ms(v["updated"]),
        "attachments": atts,
        "bootable": "true" if v["bootable"] else "false",
        "encrypted": v["encrypted"],
        "multiattach": v["multiattach"],
        "description": v["description"],
        "volume_type": v["type"]["name"],
        "snapshot_id": None,
        "source_volid": None,
        "consistencygroup_id": None,
        "replication_status": None,
        "metadata": dict(v["metadata"]),
        "user_id": v["user_id"],
        "os-vol-tenant-attr:tenant_id": pid,
        "links": [{"rel": "self", "href": f"{base}/volume/v3/{pid}/volumes/{v['id']}"},
                  {"rel": "bookmark", "href": f"{base}/volume/{pid}/volumes/{v['id']}"}],
    }
    if v["image"] is not None:
        im = v["image"]
        meta = {"image_id": im["id"], "image_name": im["name"],
                "checksum": im["checksum"], "container_format": im["container_format"],
                "disk_format": im["disk_format"], "min_disk": str(im["min_disk"]),
                "min_ram": str(im["min_ram"]), "size": str(im["size"])}
        meta.update({k: str(x) for k, x in im["properties"].items()})
        out["volume_image_metadata"] = meta
    if admin:
        out["os-vol-host-attr:host"] = f"cinder-volume@{v['type']['name']}#pool"
        out["os-vol-mig-status-attr:migstat"] = None
        out["os-vol-mig-status-attr:name_id"] = None
        out["migration_status"] = None
    if mv >= (3, 13):
        out["group_id"] = None
    if mv >= (3, 21) and admin:
        out["provider_id"] = None
    if mv >= (3, 48):
        out["shared_targets"] = True
        out["service_uuid"] = hashlib.md5(b"cinder-volume").hexdigest()
    if mv >= (3, 61) and admin:
        out["cluster_name"] = None
    if mv >= (3, 63):
        out["volume_type_id"] = v["type"]["id"]
    if mv >= (3, 64):
        out["encryption_key_id"] = None
    if mv >= (3, 65):
        out["consumes_quota"] = True
    return out


def volume_summary_view(base: str, st: State, v: dict) -> dict:
    pid = st.pid
    return {"id": v["id"], "name": v["name"], "links": [
        {"rel": "self", "href": f"{base}/volume/v3/{pid}/volumes/{v['id']}"},
        {"rel": "bookmark", "href": f"{base}/volume/{pid}/volumes/{v['id']}"}]}


def volume_type_view(vt: dict, mv) -> dict:
    return {
        "id": vt["id"],
        "name": vt["name"],
        "description": vt["description"],
        "is_public": vt["is_public"],
        "os-volume-type-access:is_public": vt["is_public"],
        "extra_specs": dict(vt["extra_specs"]),
        "qos_specs_id": vt["qos_specs_id"],
    }


def backup_view(base: str, st: State, b: dict, mv, detail: bool = True) -> dict:
    pid = st.pid
    links = [{"rel": "self", "href": f"{base}/volume/v3/{pid}/backups/{b['id']}"},
             {"rel": "bookmark", "href": f"{base}/volume/{pid}/backups/{b['id']}"}]
    if not detail:
        return {"id": b["id"], "name": b["name"], "links": links}
    out: dict[str, Any] = {
        "id": b["id"],
        "name": b["name"],
        "status": b["status"],
        "size": b["size"],
        "volume_id": b["volume_id"],
        "availability_zone": b["az"],
        "container": b["container"],
        "created_at": _ms(b["created"]),
        "updated_at": _ms(b["updated"]),
        "data_timestamp": _ms(b["created"]),
        "description": b["description"],
        "fail_reason": None,
        "has_dependent_backups": False,
        "is_incremental": b["incremental"],
        "object_count": b["object_count"],
        "snapshot_id": None,
        "links": links,
    }
    if mv >= (3, 18):
        out["os-backup-project-attr:project_id"] = pid
    if mv >= (3, 43):
        out["metadata"] = {}
    if mv >= (3, 56):
        out["user_id"] = b["user_id"]
    if mv >= (3, 64):
        out["encryption_key_id"] = None
    return out


def volume_quota_set(st: State, usage: bool) -> dict:
    q = st.quotas["block-storage"]
    u = st.usage["block-storage"]
    out: dict[str, Any] = {"id": st.pid}
    for k in sorted(q):
        if usage:
            out[k] = {"limit": q[k], "in_use": u.get(k, 0), "reserved": 0}
        else:
            out[k] = q[k]
    return {"quota_set": out}


# ---------------------------------------------------------------------------
# neutron


def _neutron_common(st: State, rec: dict) -> dict:
    return {
        "project_id": st.pid,
        "tenant_id": st.pid,
        "created_at": rec["created"],
        "updated_at": rec.get("updated", rec["created"]),
        "revision_number": 1,
        "tags": [],
    }


def floating_ip_view(st: State, f: dict) -> dict:
    sc = st.sc
    srv = st.servers.get(f.get("server_id") or "")
    lb = st.load_balancers.get(f.get("lb_id") or "")
    router = next(iter(st.routers.values()), None)
    out = {
        "id": f["id"],
        "floating_ip_address": f["address"],
        "floating_network_id": sc.external_network["id"],
        "router_id": None,
        "port_id": None,
        "fixed_ip_address": None,
        "status": f["status"] or "DOWN",
        "description": f["description"],
        "dns_domain": "",
        "dns_name": f.get("dns_name") or "",
        "port_details": None,
        "port_forwardings": [],
        "qos_policy_id": f["qos_policy_id"],
        "qos_network_policy_id": None,
    }
    out.update(_neutron_common(st, f))
    if srv is not None:
        out.update({
            "router_id": router["id"] if router else None,
            "port_id": srv["port_id"],
            "fixed_ip_address": srv["ip"],
            "status": f["status"] or "ACTIVE",
            "port_details": {
                "name": "", "network_id": sc.tenant_network["id"],
                "mac_address": srv["mac"], "admin_state_up": True,
                "status": "ACTIVE", "device_id": srv["id"],
                "device_owner": f"compute:{srv['az']}",
            },
        })
    elif lb is not None:
        out.update({
            "router_id": router["id"] if router else None,
            "port_id": lb["vip_port_id"],
            "fixed_ip_address": lb["vip_address"],
            "status": f["status"] or "ACTIVE",
            "port_details": {
                "name": f"octavia-lb-{lb['id']}", "network_id": sc.tenant_network["id"],
                "mac_address": "fa:16:3e:00:00:01", "admin_state_up": False,
                "status": "DOWN", "device_id": f"lb-{lb['id']}",
                "device_owner": "Octavia",
            },
        })
    return out


def router_view(st: State, r: dict, admin: bool) -> dict:
    sc = st.sc
    gw = r["gateway"]
    out: dict[str, Any] = {
        "id": r["id"],
        "name": r["name"],
        "description": r["description"],
        "status": r["status"],
        "admin_state_up": r["admin_state_up"],
        "external_gateway_info": None,
        "routes": list(r["routes"]),
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "flavor_id": None,
        "conntrack_helpers": [],
        "enable_ndp_proxy": False,
    }
    if gw is not None:
        out["external_gateway_info"] = {
            "network_id": sc.external_network["id"],
            "enable_snat": gw["enable_snat"],
            "external_fixed_ips": [{"subnet_id": sc.external_network["subnet_id"],
                                    "ip_address": gw["ip"]}],
            "qos_policy_id": gw["qos_policy_id"],
        }
    if admin:
        out["distributed"] = False
        out["ha"] = False
    out.update(_neutron_common(st, r))
    return out


def qos_rule_view(rule: dict, with_meta: bool = True) -> dict:
    out = {k: v for k, v in rule.items() if k not in ("qos_policy_id", "type")}
    if with_meta:
        out["qos_policy_id"] = rule["qos_policy_id"]
        out["type"] = rule["type"]
    return out


def qos_policy_view(st: State, p: dict) -> dict:
    out = {
        "id": p["id"],
        "name": p["name"],
        "description": p["description"],
        "shared": p["shared"],
        "is_default": p["is_default"],
        "rules": [qos_rule_view(r) for r in p["rules"]],
    }
    out.update(_neutron_common(st, p))
    if p.get("project_id"):
        out["project_id"] = out["tenant_id"] = p["project_id"]
    return out


def ipsec_view(st: State, c: dict) -> dict:
    out = {
        "id": c["id"],
        "name": c["name"],
        "description": c["description"],
        "status": c["status"],
        "admin_state_up": c["admin_state_up"],
        "peer_address": c["peer_address"],
        "peer_id": c["peer_id"],
        "peer_cidrs": list(c["peer_cidrs"]),
        "local_id": "",
        "local_ep_group_id": None,
        "peer_ep_group_id": None,
        "route_mode": "static",
        "mtu": c["mtu"],
        "auth_mode": "psk",
        "psk": c["psk"],
        "initiator": c["initiator"],
        "dpd": {"action": "hold", "interval": 30, "timeout": 120},
        "vpnservice_id": c["vpnservice_id"],
        "ikepolicy_id": c["ikepolicy_id"],
        "ipsecpolicy_id": c["ipsecpolicy_id"],
        "project_id": st.pid,
        "tenant_id": st.pid,
    }
    return out


def network_quota(st: State, details: bool) -> dict:
    q = st.quotas["network"]
    u = st.usage["network"]
    out: dict[str, Any] = {}
    for k in sorted(q):
        out[k] = ({"limit": q[k], "used": u.get(k, 0), "reserved": 0}
                  if details else q[k])
    return {"quota": out}


def networks_view(st: State) -> list[dict]:
    sc = st.sc
    out = []
    for net, ext, owner in ((sc.tenant_network, False, st.pid),
                            (sc.external_network, True, "admin")):
        d = {
            "id": net["id"], "name": net["name"], "status": "ACTIVE",
            "admin_state_up": True, "shared": False, "router:external": ext,
            "subnets": [net["subnet_id"]], "mtu": 1450 if not ext else 1500,
            "availability_zone_hints": [], "availability_zones": ["nova"],
            "ipv4_address_scope": None, "ipv6_address_scope": None,
            "port_security_enabled": True, "qos_policy_id": None,
            "dns_domain": "", "description": "", "is_default": ext,
            "l2_adjacency": True,
            "project_id": st.pid if not ext else
            hashlib.md5(b"admin-project").hexdigest(),
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "revision_number": 1, "tags": [],
        }
        d["tenant_id"] = d["project_id"]
        out.append(d)
    return out


def subnets_view(st: State) -> list[dict]:
    sc = st.sc
    out = []
    for net, ext in ((sc.tenant_network, False), (sc.external_network, True)):
        n = net["net"]
        pid = st.pid if not ext else hashlib.md5(b"admin-project").hexdigest()
        out.append({
            "id": net["subnet_id"], "name": f"{net['name']}-subnet",
            "network_id": net["id"], "cidr": net["cidr"], "ip_version": 4,
            "gateway_ip": str(n.network_address + 1), "enable_dhcp": not ext,
            "allocation_pools": [{"start": str(n.network_address + 2),
                                  "end": str(n.broadcast_address - 1)}],
            "dns_nameservers": [], "host_routes": [], "ipv6_ra_mode": None,
            "ipv6_address_mode": None, "subnetpool_id": None, "description": "",
            "service_types": [], "segment_id": None, "dns_publish_fixed_ip": False,
            "project_id": pid, "tenant_id": pid,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "revision_number": 0, "tags": [],
        })
    return out


def ports_view(st: State) -> list[dict]:
    sc = st.sc
    net = sc.tenant_network
    out = []

    def port(pid_, mac, ip, owner, device, name="", created="2026-01-01T00:00:00Z"):
        return {
            "id": pid_, "name": name, "network_id": net["id"], "mac_address": mac,
            "admin_state_up": True, "status": "ACTIVE", "device_owner": owner,
            "device_id": device,
            "fixed_ips": [{"subnet_id": net["subnet_id"], "ip_address": ip}],
            "allowed_address_pairs": [], "extra_dhcp_opts": [],
            "security_groups": [] if owner.startswith("network:") else
            [hashlib.md5(f"sg/{st.pid}".encode()).hexdigest()],
            "description": "", "binding:vnic_type": "normal",
            "port_security_enabled": not owner.startswith("network:"),
            "qos_policy_id": None, "qos_network_policy_id": None,
            "dns_name": "", "dns_assignment": [], "propagate_uplink_status": False,
            "project_id": st.pid, "tenant_id": st.pid,
            "created_at": created, "updated_at": created,
            "revision_number": 1, "tags": [],
        }

    n = net["net"]
    out.append(port(hashlib.md5(f"dhcp/{net['id']}".encode()).hexdigest()[:8] + "-dhcp-"
                    + net["id"][14:], "fa:16:3e:00:00:02", str(n.network_address + 2),
                    "network:dhcp", "dhcp" + net["id"]))
    for r in st.routers.values():
        out.append(port(r["interface_port_id"], "fa:16:3e:00:00:03", r["interface_ip"],
                        "network:router_interface", r["id"], created=r["created"]))
    for s in st.servers.values():
        out.append(port(s["port_id"], s["mac"], s["ip"], f"compute:{s['az']}", s["id"],
                        created=s["created"]))
    for lb in st.load_balancers.values():
        out.append(port(lb["vip_port_id"], "fa:16:3e:00:00:01", lb["vip_address"],
                        "Octavia", f"lb-{lb['id']}", name=f"octavia-lb-{lb['id']}",
                        created=lb["created"]))
    return out


# ---------------------------------------------------------------------------
# octavia


def lb_view(st: State, lb: dict) -> dict:
    sc = st.sc
    return {
        "id": lb["id"],
        "name": lb["name"],
        "description": lb["description"],
        "admin_state_up": True,
        "project_id": st.pid,
        "tenant_id": st.pid,
        "provisioning_status": lb["provisioning_status"],
        "operating_status": lb["operating_status"],
        "provider": lb["provider"],
        "flavor_id": lb["flavor_id"],
        "vip_address": lb["vip_address"],
        "vip_port_id": lb["vip_port_id"],
        "vip_subnet_id": sc.tenant_network["subnet_id"],
        "vip_network_id": sc.tenant_network["id"],
        "vip_qos_policy_id": None,
        "vip_vnic_type": "normal",
        "additional_vips": [],
        "listeners": [{"id": x} for x in lb["listeners"]],
        "pools": [{"id": x} for x in lb["pools"]],
        "availability_zone": lb["az"],
        "created_at": _plain(lb["created"]),
        "updated_at": _plain(lb["updated"]),
        "tags": list(lb["tags"]),
    }


def lb_quota(st: State) -> dict:
    q = dict(st.quotas["load-balancer"])
    # octavia still returns the deprecated spellings alongside the new ones
    q["loadbalancer"] = q["load_balancer"]
    q["healthmonitor"] = q["health_monitor"]
    q["project_id"] = st.pid
    return {"quota": q}


# ---------------------------------------------------------------------------
# glance


def image_view(im: dict) -> dict:
    out: dict[str, Any] = {
        "id": im["id"],
        "name": im["name"],
        "status": im["status"],
        "visibility": im["visibility"],
        "owner": im["owner"],
        "size": im["size"] if im["status"] == "active" else None,
        "virtual_size": im["virtual_size"],
        "disk_format": im["disk_format"],
        "container_format": im["container_format"],
        "min_disk": im["min_disk"],
        "min_ram": im["min_ram"],
        "protected": im["protected"],
        "os_hidden": im["os_hidden"],
        "checksum": im["checksum"],
        "os_hash_algo": "sha512",
        "os_hash_value": im["os_hash_value"],
        "tags": list(im["tags"]),
        "created_at": im["created_at"],
        "updated_at": im["created_at"],
        "self": f"/v2/images/{im['id']}",
        "file": f"/v2/images/{im['id']}/file",
        "schema": "/v2/schemas/image",
    }
    for k, v in im["properties"].items():
        out[k] = v if isinstance(v, str) else str(v).lower() \
            if isinstance(v, bool) else str(v)
    return out
