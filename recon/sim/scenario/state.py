"""The tenant on one simulated day: resources, quotas, usage and the object-store account.

A :class:`State` is built by applying the timeline's events up to that day;
this is where names in the timeline are resolved (a flavor, the server a volume
attaches to) and addresses allocated.
"""
from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import hashlib
import re
from typing import Any

from .checks import Err, as_int, as_list, as_strmap, check_keys
from .ids import derived_hex, derived_uuid
from .records import parse_image
from .terms import RESOURCE_KINDS, SERVER_STATUSES, VOLUME_STATUSES
from .timeline import Event


def _iso(d: _dt.datetime) -> str:
    return d.replace(microsecond=0).isoformat() + "Z"


def _mac(rid: str) -> str:
    h = hashlib.md5(rid.encode()).hexdigest()
    return "fa:16:3e:" + ":".join(h[i:i + 2] for i in (0, 2, 4))


class State:
    """Resources, quotas and account of one simulated day.

    Resources are plain dicts in creation order (keyed by id).  Views that
    turn them into API bodies live in :mod:`recon.sim.views`.

    ``sc`` is the :class:`~recon.sim.scenario.model.Scenario` whose timeline
    this day replays (typed ``Any``: the Scenario builds its States, so this
    module cannot import it back without a circle).
    """

    def __init__(self, sc: Any, today: _dt.date):
        self.sc = sc
        self.today = today
        self.pid = sc.project_id
        self.servers: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.backups: dict[str, dict] = {}
        self.floating_ips: dict[str, dict] = {}
        self.qos_policies: dict[str, dict] = {}
        self.routers: dict[str, dict] = {}
        self.ipsec_site_connections: dict[str, dict] = {}
        self.load_balancers: dict[str, dict] = {}
        self.images: dict[str, dict] = {im["id"]: im for im in sc.images}
        self.quotas = copy.deepcopy(sc.quotas)
        self.object_store = copy.deepcopy(sc.object_store)
        self._image_by_name: dict[str, dict] = {}
        self._tenant_ip = 10
        self._ext_ip = 10
        self.usage: dict[str, dict[str, int]] = {}
        self.cache: dict[Any, Any] = {}  # views cache (per state)

    # -- helpers ------------------------------------------------------------
    def _coll(self, kind: str) -> dict[str, dict]:
        return getattr(self, kind)

    def _find_one(self, kind: str, ref: str, key: str) -> dict:
        coll = self._coll(kind)
        if ref in coll:
            return coll[ref]
        hit = self._find_cache.get((kind, ref))
        if hit is not None and hit["id"] in coll:
            return hit
        hits = [r for r in coll.values() if r.get("name") == ref]
        if hits:
            self._find_cache[(kind, ref)] = hits[-1]
        if not hits:
            raise ValueError(f"{self.sc.path}: {key}: no live {kind[:-1].replace('_', ' ')} "
                             f"named {ref!r} on {self.today}")
        return hits[-1]

    def _select(self, kind: str, spec: dict) -> list[dict]:
        coll = self._coll(kind)
        if spec.get("id"):
            hit = coll.get(str(spec["id"]))
            found = [hit] if hit else []
        else:
            pat = spec["match"]
            if any(c in pat for c in "*?["):
                rx = re.compile(fnmatch.translate(pat)).match
                found = [r for r in coll.values() if rx(r.get("name") or "")]
            else:
                found = [r for r in coll.values() if r.get("name") == pat]
                if not found:
                    raise ValueError(
                        f"{self.sc.path}: {spec['_key']}: no live "
                        f"{kind[:-1].replace('_', ' ')} named {pat!r} on this date")
        if spec.get("count") is not None:
            found = found[::-1][: spec["count"]]  # most recently created first
        return found

    def _alloc_tenant_ip(self, key: str) -> str:
        net = self.sc.tenant_network["net"]
        if self._tenant_ip >= net.num_addresses - 1:
            raise ValueError(f"{self.sc.path}: {key}: tenant_network.cidr "
                             f"{net} has no free address left")
        ip = str(net.network_address + self._tenant_ip)
        self._tenant_ip += 1
        return ip

    def _alloc_ext_ip(self, key: str) -> str:
        net = self.sc.external_network["net"]
        if self._ext_ip >= net.num_addresses - 1:
            raise ValueError(f"{self.sc.path}: {key}: external_network.cidr "
                             f"{net} has no free address left")
        ip = str(net.network_address + self._ext_ip)
        self._ext_ip += 1
        return ip

    # -- events ---------------------------------------------------------------
    def apply(self, ev: Event) -> None:
        self._find_cache: dict[tuple[str, str], dict] = {}
        base = _dt.datetime.combine(ev.date, ev.time)
        for kind in RESOURCE_KINDS:  # dependency order
            for spec in ev.create.get(kind, ()):
                n = spec["_count"]
                for i in range(n):
                    num = spec["_start"] + i
                    name = str(spec.get("name", "")).format(n=num, i=i)
                    when = base + _dt.timedelta(seconds=i)
                    if spec.get("created_at"):
                        when = _dt.datetime.fromisoformat(
                            str(spec["created_at"]).replace("Z", "")) \
                            + _dt.timedelta(seconds=i)
                    getattr(self, f"_create_{kind}")(spec, name, when, ev, i)
        for kind, specs in ev.update.items():
            for spec in specs:
                for rec in self._select(kind, spec):
                    self._update(kind, rec, spec["set"], spec["_key"], base)
        for kind, specs in ev.delete.items():
            for spec in specs:
                for rec in self._select(kind, spec):
                    getattr(self, f"_delete_{kind}", self._delete_generic(kind))(rec)
        for svc, vals in ev.quotas.items():
            self.quotas[svc].update(vals)
        if ev.object_store:
            self._apply_object_store(ev.object_store)

    def _apply_object_store(self, upd: dict) -> None:
        acct = self.object_store
        cs = acct.get("containers")
        if upd.get("containers") is None and cs:
            # keep the container listing consistent with the account totals:
            # the first container absorbs the change
            cs = [dict(c) for c in cs]
            if "bytes_used" in upd:
                cs[0]["bytes"] = max(0, cs[0]["bytes"] + upd["bytes_used"] - acct["bytes_used"])
            if "object_count" in upd:
                cs[0]["count"] = max(0, cs[0]["count"] + upd["object_count"]
                                     - acct["object_count"])
            acct.update(upd)
            acct["containers"] = cs
        else:
            acct.update(upd)

    def _rid(self, spec: dict, kind: str, name: str, ev: Event, i: int) -> str:
        if spec.get("id"):
            rid = str(spec["id"])
        else:
            rid = derived_uuid(self.pid, kind, name, ev.date.isoformat(), ev.index, i)
        if rid in self._coll(kind):
            raise ValueError(f"{self.sc.path}: {spec['_key']}.id: duplicate id {rid}")
        return rid

    def _server_prep(self, spec: dict) -> dict:
        """Validation and lookups shared by every server of a count group."""
        key = spec["_key"]
        sc = self.sc
        err = Err(sc.path)
        fl = sc.flavors_by_key.get(str(spec.get("flavor")))
        if fl is None:
            raise ValueError(f"{sc.path}: {key}.flavor: unknown flavor "
                             f"{spec.get('flavor')!r}")
        status = str(spec.get("status", "ACTIVE")).upper()
        if status not in SERVER_STATUSES:
            raise ValueError(f"{sc.path}: {key}.status: unknown server status "
                             f"{status!r}; one of {', '.join(SERVER_STATUSES)}")
        bv = spec.get("boot_volume")
        if bv is not None:
            if not isinstance(bv, dict):
                raise ValueError(f"{sc.path}: {key}.boot_volume: expected a mapping")
            check_keys(err, f"{key}.boot_volume", bv,
                       {"size", "type", "image", "delete_on_termination", "name"},
                       ("size",))
        for j, dv in enumerate(spec.get("volumes") or []):
            dk = f"{key}.volumes[{j}]"
            if not isinstance(dv, dict):
                raise ValueError(f"{sc.path}: {dk}: expected a mapping")
            check_keys(err, dk, dv, {"size", "type", "name",
                                     "delete_on_termination"}, ("size",))
        user = sc.users[0]["id"] if sc.users else derived_hex(self.pid, "user", "owner")
        if spec.get("user"):
            user = sc.user(str(spec["user"]))["id"]
        return {"flavor": fl, "status": status, "user": user,
                "metadata": as_strmap(err, f"{key}.metadata", spec.get("metadata")),
                "tags": [str(t) for t in spec.get("tags") or []]}

    def _create_servers(self, spec, name, when, ev, i):
        key = spec["_key"]
        sc = self.sc
        prep = spec.get("_prep")
        if prep is None:
            prep = spec["_prep"] = self._server_prep(spec)
        fl = prep["flavor"]
        status = prep["status"]
        image = None
        bv = spec.get("boot_volume")
        if spec.get("image") is not None:
            image = self._image(spec["image"], f"{key}.image")
        if image is None and bv is None:
            raise ValueError(f"{sc.path}: {key}: a server needs an image or a boot_volume")
        rid = self._rid(spec, "servers", name, ev, i)
        user = prep["user"]
        iso = _iso(when)
        srv = {
            "id": rid, "name": name, "created": iso, "updated": iso,
            "status": status, "flavor": fl, "image": None if bv else image,
            "metadata": dict(prep["metadata"]),
            "az": str(spec.get("availability_zone", "nova")),
            "key_name": spec.get("key_name"), "user_id": user,
            "description": spec.get("description"),
            "tags": list(prep["tags"]),
            "locked": bool(spec.get("locked", False)),
            "ip": self._alloc_tenant_ip(key), "mac": _mac(rid),
            "port_id": derived_uuid(rid, "port"),
            "host": f"compute-{int(hashlib.md5(rid.encode()).hexdigest()[:4], 16) % 64:02d}",
            "volume_ids": [], "fip": None,
        }
        self.servers[rid] = srv
        if bv is not None:
            bimg = image if spec.get("image") is not None else (
                self._image(bv["image"], f"{key}.boot_volume.image")
                if bv.get("image") is not None else None)
            vol = self._new_volume(
                {"size": bv["size"], "type": bv.get("type"), "_key": f"{key}.boot_volume"},
                str(bv.get("name", "")), when, derived_uuid(rid, "boot-volume"),
                image=bimg, bootable=True)
            vol["delete_on_termination"] = bool(bv.get("delete_on_termination", True))
            self._attach(vol, srv, "/dev/vda", when)
            srv["boot_volume_id"] = vol["id"]
        for j, dv in enumerate(spec.get("volumes") or []):
            dk = f"{key}.volumes[{j}]"
            vol = self._new_volume(
                {"size": dv["size"], "type": dv.get("type"), "_key": dk},
                str(dv.get("name") or f"{name}-data-{j + 1}"), when,
                derived_uuid(rid, "data-volume", j))
            vol["delete_on_termination"] = bool(dv.get("delete_on_termination", False))
            self._attach(vol, srv, None, when)
        if spec.get("floating_ip"):
            self._create_floating_ips({"_key": f"{key}.floating_ip"}, "", when, ev,
                                      i, server=srv)

    def _image(self, ref: Any, key: str) -> dict:
        ref = str(ref)
        if ref in self.images:
            return self.images[ref]
        hit = self._image_by_name.get(ref)
        if hit is not None and hit["id"] in self.images:
            return hit
        for im in self.images.values():
            if im["name"] == ref:
                self._image_by_name[ref] = im
                return im
        raise ValueError(f"{self.sc.path}: {key}: unknown image {ref!r}")

    def _new_volume(self, spec: dict, name: str, when: _dt.datetime, rid: str,
                    image: dict | None = None, bootable: bool = False) -> dict:
        sc = self.sc
        key = spec["_key"]
        tname = spec.get("type")
        vt = (sc.volume_types[0] if tname is None
              else sc.volume_types_by_key.get(str(tname)))
        if vt is None:
            raise ValueError(f"{sc.path}: {key}.type: unknown volume type {tname!r}")
        size = spec.get("size", 1)
        if type(size) is not int or size < 1:
            size = as_int(Err(sc.path), f"{key}.size", size, 1)
        if rid in self.volumes:
            raise ValueError(f"{sc.path}: {key}: duplicate volume id {rid}")
        iso = _iso(when)
        meta = spec.get("metadata")
        vol = {
            "id": rid, "name": name, "size": size, "type": vt,
            "created": iso, "updated": iso,
            "status": spec.get("status"), "server_id": None, "device": None,
            "attachment_id": None, "attached_at": None,
            "bootable": bool(spec.get("bootable", bootable or image is not None)),
            "image": image,
            "metadata": as_strmap(Err(sc.path), f"{key}.metadata", meta) if meta else {},
            "az": str(spec.get("availability_zone", "nova")),
            "description": spec.get("description"),
            "multiattach": bool(spec.get("multiattach", False)),
            "encrypted": bool(spec.get("encrypted", False)),
            "user_id": sc.users[0]["id"] if sc.users else derived_hex(self.pid, "user", "owner"),
            "delete_on_termination": False,
        }
        if vol["status"] is not None and vol["status"] not in VOLUME_STATUSES:
            raise ValueError(f"{sc.path}: {key}.status: unknown volume status "
                             f"{vol['status']!r}")
        self.volumes[rid] = vol
        return vol

    def _attach(self, vol: dict, srv: dict, device: str | None, when) -> None:
        if device is None:
            device = "/dev/vd" + "bcdefghijklmnopqrstuvwxyz"[min(len(srv["volume_ids"]), 24)]
        vol["server_id"] = srv["id"]
        vol["device"] = device
        vol["attachment_id"] = None  # derived in the view
        vol["attached_at"] = when.replace(microsecond=0).isoformat() + ".000000"
        srv["volume_ids"].append(vol["id"])

    def _create_volumes(self, spec, name, when, ev, i):
        rid = self._rid(spec, "volumes", name, ev, i)
        image = (self._image(spec["image"], f"{spec['_key']}.image")
                 if spec.get("image") is not None else None)
        vol = self._new_volume(spec, name, when, rid, image=image)
        if spec.get("server"):
            srv = self._find_one("servers", str(spec["server"]), f"{spec['_key']}.server")
            self._attach(vol, srv, spec.get("device"), when)

    def _create_backups(self, spec, name, when, ev, i):
        key = spec["_key"]
        if not spec.get("volume"):
            raise ValueError(f"{self.sc.path}: {key}.volume: required key is missing")
        vol = self._find_one("volumes", str(spec["volume"]), f"{key}.volume")
        rid = self._rid(spec, "backups", name, ev, i)
        size = as_int(Err(self.sc.path), f"{key}.size", spec.get("size", vol["size"]), 0)
        self.backups[rid] = {
            "id": rid, "name": name, "volume_id": vol["id"], "size": size,
            "status": str(spec.get("status", "available")),
            "created": _iso(when), "updated": _iso(when),
            "incremental": bool(spec.get("incremental", False)),
            "object_count": int(spec.get("object_count", max(1, size * 20))),
            "container": str(spec.get("container", "volumebackups")),
            "az": str(spec.get("availability_zone", "nova")),
            "description": spec.get("description"),
            "user_id": vol["user_id"],
        }

    def _create_floating_ips(self, spec, name, when, ev, i, server=None):
        key = spec["_key"]
        rid = derived_uuid(self.pid, "fip", name, ev.date.isoformat(), ev.index, key, i) \
            if not spec.get("id") else str(spec["id"])
        if rid in self.floating_ips:
            raise ValueError(f"{self.sc.path}: {key}: duplicate floating IP id {rid}")
        if server is None and spec.get("server"):
            server = self._find_one("servers", str(spec["server"]), f"{key}.server")
        qos = None
        if spec.get("qos_policy"):
            qos = self._find_one("qos_policies", str(spec["qos_policy"]),
                                 f"{key}.qos_policy")["id"]
        fip = {
            "id": rid, "name": name, "address": str(spec.get("address") or
                                                    self._alloc_ext_ip(key)),
            "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "qos_policy_id": qos, "server_id": None, "dns_name": spec.get("dns_name", ""),
            "status": spec.get("status"),
        }
        self.floating_ips[rid] = fip
        if server is not None:
            if server.get("fip"):
                raise ValueError(f"{self.sc.path}: {key}: server {server['name']!r} "
                                 "already has a floating IP")
            fip["server_id"] = server["id"]
            server["fip"] = rid

    def _create_qos_policies(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "qos_policies", name, ev, i)
        self.qos_policies[rid] = {
            "id": rid, "name": name, "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "shared": bool(spec.get("shared", False)),
            "is_default": bool(spec.get("is_default", False)),
            # another project's policy (shared with this one): listed, owned elsewhere
            "project_id": str(spec["project_id"]) if spec.get("project_id") else None,
            "rules": self._rules(spec.get("rules"), rid, f"{key}.rules"),
        }

    def _rules(self, rules: Any, pol_id: str, key: str) -> list[dict]:
        err = Err(self.sc.path)
        out = []
        for j, r in enumerate(as_list(err, key, rules)):
            rk = f"{key}[{j}]"
            check_keys(err, rk, r, {"type", "max_kbps", "max_burst_kbps",
                                    "direction", "min_kbps", "dscp_mark", "id"})
            typ = str(r.get("type", "bandwidth_limit"))
            rule = {"id": str(r.get("id") or derived_uuid(pol_id, "rule", j)), "type": typ,
                    "qos_policy_id": pol_id}
            if typ == "bandwidth_limit":
                if r.get("max_kbps") is None:
                    raise err(f"{rk}.max_kbps", "required key is missing")
                rule["max_kbps"] = as_int(err, f"{rk}.max_kbps", r["max_kbps"], 0)
                rule["max_burst_kbps"] = as_int(err, f"{rk}.max_burst_kbps",
                                                r.get("max_burst_kbps", 0), 0)
                d = str(r.get("direction", "egress"))
                if d not in ("egress", "ingress"):
                    raise err(f"{rk}.direction", "must be egress or ingress")
                rule["direction"] = d
            elif typ == "minimum_bandwidth":
                rule["min_kbps"] = as_int(err, f"{rk}.min_kbps", r.get("min_kbps", 0), 0)
                rule["direction"] = str(r.get("direction", "egress"))
            elif typ == "dscp_marking":
                rule["dscp_mark"] = as_int(err, f"{rk}.dscp_mark", r.get("dscp_mark", 0), 0)
            else:
                raise err(f"{rk}.type", f"unknown QoS rule type {typ!r}")
            out.append(rule)
        return out

    def _create_routers(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "routers", name, ev, i)
        gw = spec.get("external_gateway", {"enable_snat": True})
        self.routers[rid] = {
            "id": rid, "name": name, "created": _iso(when), "updated": _iso(when),
            "description": str(spec.get("description") or ""),
            "status": str(spec.get("status", "ACTIVE")),
            "admin_state_up": bool(spec.get("admin_state_up", True)),
            "routes": list(spec.get("routes") or []),
            "gateway": None, "interface_port_id": derived_uuid(rid, "interface-port"),
            "interface_ip": None,
        }
        self.routers[rid]["interface_ip"] = str(
            self.sc.tenant_network["net"].network_address + 1) \
            if len(self.routers) == 1 else self._alloc_tenant_ip(key)
        self._set_gateway(self.routers[rid], gw, key)

    def _set_gateway(self, router: dict, gw: Any, key: str) -> None:
        if gw in (None, False):
            router["gateway"] = None
            return
        if gw is True:
            gw = {}
        check_keys(Err(self.sc.path), f"{key}.external_gateway", gw,
                   {"enable_snat", "qos_policy", "ip_address"})
        qos = None
        if gw.get("qos_policy"):
            qos = self._find_one("qos_policies", str(gw["qos_policy"]),
                                 f"{key}.external_gateway.qos_policy")["id"]
        old = router.get("gateway") or {}
        router["gateway"] = {
            "enable_snat": bool(gw.get("enable_snat", True)),
            "qos_policy_id": qos,
            "ip": str(gw.get("ip_address") or old.get("ip") or self._alloc_ext_ip(key)),
            "port_id": derived_uuid(router["id"], "gateway-port"),
        }

    def _create_ipsec_site_connections(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "ipsec_site_connections", name, ev, i)
        router = None
        if spec.get("router"):
            router = self._find_one("routers", str(spec["router"]), f"{key}.router")
        elif self.routers:
            router = next(iter(self.routers.values()))
        peer = str(spec.get("peer_address", f"198.51.100.{10 + i}"))
        self.ipsec_site_connections[rid] = {
            "id": rid, "name": name, "created": _iso(when),
            "description": str(spec.get("description") or ""),
            "peer_address": peer, "peer_id": str(spec.get("peer_id", peer)),
            "peer_cidrs": [str(c) for c in spec.get("peer_cidrs") or
                           [f"192.168.{i % 250}.0/24"]],
            "status": str(spec.get("status", "ACTIVE")),
            "mtu": int(spec.get("mtu", 1500)),
            "psk": str(spec.get("psk", "secret")),
            "initiator": str(spec.get("initiator", "bi-directional")),
            "admin_state_up": bool(spec.get("admin_state_up", True)),
            "router_id": router["id"] if router else None,
            "vpnservice_id": derived_uuid(self.pid, "vpnservice",
                                          router["id"] if router else "none"),
            "ikepolicy_id": derived_uuid(self.pid, "ikepolicy"),
            "ipsecpolicy_id": derived_uuid(self.pid, "ipsecpolicy"),
        }

    def _create_load_balancers(self, spec, name, when, ev, i):
        key = spec["_key"]
        rid = self._rid(spec, "load_balancers", name, ev, i)
        nl = int(spec.get("listeners", 1))
        np_ = int(spec.get("pools", 1))
        self.load_balancers[rid] = {
            "id": rid, "name": name, "created": _iso(when),
            "updated": _iso(when + _dt.timedelta(seconds=95)),
            "description": str(spec.get("description") or ""),
            "provider": str(spec.get("provider", "amphora")),
            "flavor_id": str(spec.get("flavor_id") or ""),
            "provisioning_status": str(spec.get("provisioning_status", "ACTIVE")),
            "operating_status": str(spec.get("operating_status", "ONLINE")),
            "vip_address": str(spec.get("vip_address") or self._alloc_tenant_ip(key)),
            "vip_port_id": derived_uuid(rid, "vip-port"),
            "listeners": [derived_uuid(rid, "listener", j) for j in range(nl)],
            "pools": [derived_uuid(rid, "pool", j) for j in range(np_)],
            "az": spec.get("availability_zone"),
            "tags": [str(t) for t in spec.get("tags") or []],
        }
        if spec.get("floating_ip"):
            fid = derived_uuid(rid, "fip")
            self.floating_ips[fid] = {
                "id": fid, "name": "", "address": self._alloc_ext_ip(key),
                "created": _iso(when), "updated": _iso(when), "description": "",
                "qos_policy_id": None, "server_id": None, "lb_id": rid,
                "dns_name": "", "status": None,
            }

    def _create_images(self, spec, name, when, ev, i):
        im = {k: v for k, v in spec.items() if not k.startswith("_")
              and k not in ("count", "start")}
        im["name"] = name
        if not im.get("id") and spec["_count"] > 1:
            im["id"] = derived_uuid(self.pid, "image", name, ev.date, i)
        rec = parse_image(Err(self.sc.path), spec["_key"], im, self.pid, _iso(when))
        self.images[rec["id"]] = rec

    # -- update / delete ------------------------------------------------------
    def _update(self, kind: str, rec: dict, sets: dict, key: str, when) -> None:
        err = Err(self.sc.path)
        rec["updated"] = _iso(when)
        for k, v in sets.items():
            if k == "metadata":
                rec["metadata"] = dict(rec.get("metadata") or {},
                                       **as_strmap(err, f"{key}.set.metadata", v))
            elif k == "properties":
                rec["properties"] = dict(rec["properties"], **(v or {}))
            elif k == "status" and kind == "servers":
                s = str(v).upper()
                if s not in SERVER_STATUSES:
                    raise err(f"{key}.set.status", f"unknown server status {v!r}")
                rec["status"] = s
            elif k == "size":
                rec["size"] = as_int(err, f"{key}.set.size", v, 1)
            elif k == "rules":
                rec["rules"] = self._rules(v, rec["id"], f"{key}.set.rules")
            elif k == "external_gateway":
                self._set_gateway(rec, v, f"{key}.set")
            elif k == "qos_policy":
                rec["qos_policy_id"] = (self._find_one("qos_policies", str(v),
                                                       f"{key}.set.qos_policy")["id"]
                                        if v else None)
            else:
                rec[k] = v

    def _delete_generic(self, kind: str):
        def _delete(rec: dict) -> None:
            self._coll(kind).pop(rec["id"], None)
        return _delete

    def _delete_servers(self, srv: dict) -> None:
        self.servers.pop(srv["id"], None)
        for vid in srv["volume_ids"]:
            vol = self.volumes.get(vid)
            if vol is None:
                continue
            if vol.get("delete_on_termination"):
                self.volumes.pop(vid, None)
            else:
                vol.update(server_id=None, device=None, attachment_id=None,
                           attached_at=None)
        if srv.get("fip") and srv["fip"] in self.floating_ips:
            self.floating_ips[srv["fip"]]["server_id"] = None

    def _delete_volumes(self, vol: dict) -> None:
        self.volumes.pop(vol["id"], None)
        srv = self.servers.get(vol.get("server_id") or "")
        if srv is not None and vol["id"] in srv["volume_ids"]:
            srv["volume_ids"].remove(vol["id"])

    def _delete_floating_ips(self, fip: dict) -> None:
        self.floating_ips.pop(fip["id"], None)
        srv = self.servers.get(fip.get("server_id") or "")
        if srv is not None:
            srv["fip"] = None

    def _delete_load_balancers(self, lb: dict) -> None:
        self.load_balancers.pop(lb["id"], None)
        for fid in [f["id"] for f in self.floating_ips.values()
                    if f.get("lb_id") == lb["id"]]:
            self.floating_ips[fid]["lb_id"] = None

    # -- usage ----------------------------------------------------------------
    def finish(self) -> None:
        srv = self.servers.values()
        self.usage["compute"] = {
            "instances": len(self.servers),
            "cores": sum(s["flavor"]["quota_vcpus"] for s in srv),
            "ram": sum(s["flavor"]["quota_ram"] for s in srv),
            "key_pairs": len({s["key_name"] for s in srv if s["key_name"]}),
        }
        vu: dict[str, int] = {"volumes": 0, "gigabytes": 0, "snapshots": 0,
                              "backups": len(self.backups),
                              "backup_gigabytes": sum(b["size"] for b in
                                                      self.backups.values())}
        for t in self.sc.volume_types:
            vu[f"volumes_{t['name']}"] = 0
            vu[f"gigabytes_{t['name']}"] = 0
        for v in self.volumes.values():
            t = v["type"]["name"]
            vu["volumes"] += 1
            vu["gigabytes"] += v["size"]
            vu[f"volumes_{t}"] += 1
            vu[f"gigabytes_{t}"] += v["size"]
        self.usage["block-storage"] = vu
        self.usage["network"] = {
            "floatingip": len(self.floating_ips),
            "router": len(self.routers),
            "network": 1, "subnet": 1,
            "port": len(self.servers) + len(self.routers) + len(self.load_balancers) + 1,
            "security_group": 1, "security_group_rule": 4,
        }
        self.usage["load-balancer"] = {"load_balancer": len(self.load_balancers)}
        acct = self.object_store
        if acct.get("containers") is None:
            acct["containers"] = _synth_containers(acct)

    def summary(self) -> dict:
        return {
            "today": self.today.isoformat(),
            "servers": len(self.servers),
            "volumes": len(self.volumes),
            "backups": len(self.backups),
            "floating_ips": len(self.floating_ips),
            "routers": len(self.routers),
            "qos_policies": len(self.qos_policies),
            "ipsec_site_connections": len(self.ipsec_site_connections),
            "load_balancers": len(self.load_balancers),
            "images": len(self.images),
            "usage": self.usage,
            "quotas": self.quotas,
            "object_store": {k: v for k, v in self.object_store.items()
                             if k != "containers"},
        }


def _synth_containers(acct: dict) -> list[dict]:
    n = acct.get("container_count") or 0
    if n <= 0:
        return []
    b, o = acct.get("bytes_used", 0), acct.get("object_count", 0)
    out = []
    for i in range(n):
        out.append({"name": f"container-{i + 1:03d}",
                    "bytes": b // n + (b % n if i == 0 else 0),
                    "count": o // n + (o % n if i == 0 else 0),
                    "last_modified": "2026-01-01T00:00:00.000000"})
    return out
