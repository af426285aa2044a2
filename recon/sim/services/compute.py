"""Nova: servers, flavors and their extra specs, quota sets and limits.

Microversions 2.1 up to the scenario's ``compute_max_microversion`` change the
bodies as the api-ref says (flavors embedded from 2.47, ``locked`` from 2.9,
...), so recon is exercised against older clouds too.
"""
from __future__ import annotations

import re

from .. import paging
from .. import views as V
from ..errors import forbidden, not_found
from ..scenario import COMPUTE_QUOTA_DEFAULTS, State
from ..versions import compute_version_v21, compute_versions
from ..wire import Req, Response, dumps
from .base import Service, is_admin, microversion, read_only


class Compute(Service):
    name = "compute"
    prefix = "compute"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") in ("", "/v2.1", "/v2")

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        sc = self.scenario
        hi = sc.settings["compute_max_microversion"]
        base = req.base
        if rest == "":
            return Response(200, compute_versions(base, hi))
        if rest == "/v2.1":
            return Response(200, {"version": compute_version_v21(base, hi)})
        if rest == "/v2":
            v2 = compute_versions(base, hi)["versions"][0]
            return Response(200, {"version": v2})
        if not rest.startswith("/v2.1/") and not rest.startswith("/v2/"):
            raise not_found(req)
        self.sim.auth(req)
        mv = microversion(req, "compute", "X-OpenStack-Nova-API-Version", (2, 1), hi)
        req.mv = mv
        s = f"{mv[0]}.{mv[1]}"
        req.extra_headers += [("OpenStack-API-Version", f"compute {s}"),
                              ("X-OpenStack-Nova-API-Version", s),
                              ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")]
        parts = [p for p in rest.split("/")[2:] if p]
        if parts and parts[0] == sc.project_id:
            parts = parts[1:]
        read_only(req)
        admin = is_admin(req)
        if not parts:
            raise not_found(req)
        head = parts[0]
        if head == "servers":
            if len(parts) == 1 or parts[1] == "detail":
                return self._nova_servers(req, st, detail=len(parts) > 1, admin=admin)
            if len(parts) == 2:
                srv = st.servers.get(parts[1])
                if srv is None:
                    raise not_found(req, f"Instance {parts[1]} could not be found.")
                return Response(200, {"server": V.server_view(base, st, srv, mv, admin)})
            if len(parts) == 3 and parts[2] == "metadata" and parts[1] in st.servers:
                return Response(200, {"metadata": dict(st.servers[parts[1]]["metadata"])})
            if len(parts) == 3 and parts[2] == "os-volume_attachments" \
                    and parts[1] in st.servers:
                atts = []
                for vid in st.servers[parts[1]]["volume_ids"]:
                    v = st.volumes.get(vid)
                    if v:
                        atts.append({"id": vid, "volumeId": vid, "serverId": parts[1],
                                     "device": v["device"], "tag": None,
                                     "delete_on_termination":
                                         bool(v.get("delete_on_termination"))})
                return Response(200, {"volumeAttachments": atts})
            raise not_found(req)
        if head == "flavors":
            if len(parts) == 1 or parts[1] == "detail":
                return self._nova_flavors(req, st, detail=len(parts) > 1)
            fl = sc.flavors_by_key.get(parts[1])
            if fl is None or fl["id"] != parts[1]:
                raise not_found(req, f"Flavor {parts[1]} could not be found.")
            if len(parts) == 2:
                return Response(200, {"flavor": V.flavor_view(base, fl, mv)})
            if parts[2] == "os-extra_specs":
                if len(parts) == 3:
                    return Response(200, {"extra_specs": dict(fl["extra_specs"])})
                key = "/".join(parts[3:])
                if key in fl["extra_specs"]:
                    return Response(200, {key: fl["extra_specs"][key]})
                raise not_found(req, f"Flavor {fl['id']} has no extra specs with "
                                     f"key {key}.")
            raise not_found(req)
        if head == "os-quota-sets" and len(parts) >= 2:
            pid = parts[1]
            if pid != sc.project_id:
                raise forbidden(req, "Policy doesn't allow os_compute_api:"
                                     "os-quota-sets:show to be performed.")
            if len(parts) == 2:
                return Response(200, V.compute_quota_set(st, mv, detail=False))
            if parts[2] == "detail":
                return Response(200, V.compute_quota_set(st, mv, detail=True))
            if parts[2] == "defaults":
                body = V.compute_quota_set(st, mv, detail=False)
                for k in body["quota_set"]:
                    if k in COMPUTE_QUOTA_DEFAULTS:
                        body["quota_set"][k] = COMPUTE_QUOTA_DEFAULTS[k]
                return Response(200, body)
            raise not_found(req)
        if head == "limits" and len(parts) == 1:
            return Response(200, V.compute_limits(st, mv))
        if head == "os-availability-zone":
            return Response(200, {"availabilityZoneInfo": [
                {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]})
        raise not_found(req)

    def servers_listing(self, st: State, base: str, detail: bool, mv, admin: bool):
        """Today's servers as nova lists them (newest first), in the view of ``mv``."""
        key = ("servers", detail, mv if detail else None, admin and detail, base)

        def build():
            # nova's default order: created_at desc, id desc
            return sorted(st.servers.values(), key=lambda s: (s["created"], s["id"]),
                          reverse=True)

        if detail:
            return self.sim.listing(st, key, build,
                                    lambda s: V.server_view(base, st, s, mv, admin))
        return self.sim.listing(st, key, build, lambda s: V.server_summary_view(base, s))

    def _nova_servers(self, req: Req, st: State, detail: bool, admin: bool) -> Response:
        base = req.base
        ent = self.servers_listing(st, base, detail, req.mv, admin)
        sel = None
        flt = {}
        for k in ("status", "name", "flavor", "image"):
            if req.q(k):
                flt[k] = req.q(k)
        if flt:
            # filtering needs the records, not the (maybe summary) views
            sel = []
            for n, sid in enumerate(ent[2]):
                s = st.servers[sid]
                if "status" in flt and s["status"] != flt["status"].upper():
                    continue
                if "name" in flt:
                    try:
                        if not re.search(flt["name"], s["name"]):
                            continue
                    except re.error:
                        if flt["name"] not in s["name"]:
                            continue
                if "flavor" in flt and s["flavor"]["id"] != flt["flavor"]:
                    continue
                if "image" in flt and (s["image"] or {}).get("id") != flt["image"]:
                    continue
                sel.append(n)
        max_limit = self.scenario.settings["page_size"]["compute"]
        limit = paging.page_size(req, max_limit, None)
        page, page_no, _more = paging.page(req, ent, sel, limit)
        self.sim.expire_check(req, page_no)
        links = []
        if limit and len(page) == limit:
            path = f"{base}/compute/v2.1/servers" + ("/detail" if detail else "")
            links.append({"rel": "next",
                          "href": paging.next_href(req, path, ent[2][page[-1]], limit)})
        body = b'{"servers": ' + paging.join(ent[1], page)
        if links:
            body += b', "servers_links": ' + dumps(links)
        return Response(200, body + b"}")

    def _nova_flavors(self, req: Req, st: State, detail: bool) -> Response:
        base = req.base
        mv = req.mv
        sc = self.scenario
        key = ("flavors", detail, mv, base)

        ent = self.sim.listing(st, key, lambda: sorted(sc.flavors, key=lambda f: f["id"]),
                               lambda f: V.flavor_view(base, f, mv, detail))
        sel = None
        if req.q("minRam") or req.q("minDisk") or req.q("is_public"):
            sel = []
            for n, fid in enumerate(ent[2]):
                f = sc.flavors_by_key[fid]
                if req.q("minRam") and f["ram"] < int(req.q("minRam") or 0):
                    continue
                if req.q("minDisk") and f["disk"] < int(req.q("minDisk") or 0):
                    continue
                sel.append(n)
        limit = paging.page_size(req, sc.settings["page_size"]["compute"], None)
        page, page_no, _ = paging.page(req, ent, sel, limit)
        self.sim.expire_check(req, page_no)
        body = b'{"flavors": ' + paging.join(ent[1], page)
        if limit and len(page) == limit:
            path = f"{base}/compute/v2.1/flavors" + ("/detail" if detail else "")
            links = [{"rel": "next",
                      "href": paging.next_href(req, path, ent[2][page[-1]], limit)}]
            body += b', "flavors_links": ' + dumps(links)
        return Response(200, body + b"}")
