"""Cinder v3: volumes, volume types, backups, quota sets (with usage) and limits.

The project id may or may not be in the path (``/volume/v3/{project_id}/...``),
as the catalog's endpoint carries it and clients differ.
"""
from __future__ import annotations

import re

from .. import paging
from .. import views as V
from ..errors import forbidden, not_found
from ..scenario import VOLUME_QUOTA_DEFAULTS, State
from ..versions import volume_version_v3
from ..wire import Req, Response, dumps
from .base import Service, is_admin, microversion, read_only

#: query parameters that are paging, sorting or scope, not attribute filters
SKIP = {"limit", "marker", "sort", "sort_key", "sort_dir", "with_count",
        "all_tenants", "offset", "usage"}


class BlockStorage(Service):
    name = "block-storage"
    prefix = "volume"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") in ("", "/v3", f"/v3/{self.scenario.project_id}")

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        sc = self.scenario
        hi = sc.settings["volume_max_microversion"]
        base = req.base
        if rest == "":
            return Response(300, {"versions": [volume_version_v3(base, hi)]})
        if rest in ("/v3", f"/v3/{sc.project_id}"):
            return Response(200, {"versions": [volume_version_v3(base, hi)]})
        if not rest.startswith("/v3/"):
            raise not_found(req)
        self.sim.auth(req)
        mv = microversion(req, "volume", None, (3, 0), hi)
        req.mv = mv
        req.extra_headers += [("OpenStack-API-Version", f"volume {mv[0]}.{mv[1]}"),
                              ("Vary", "OpenStack-API-Version")]
        parts = [p for p in rest.split("/")[2:] if p]
        url_pid = None
        if parts and re.fullmatch(r"[0-9a-f]{32}|[0-9a-f-]{36}", parts[0]):
            url_pid, parts = parts[0], parts[1:]
        if url_pid is not None and url_pid != sc.project_id:
            raise forbidden(req, "Policy doesn't allow this operation on another "
                                 "project.")
        read_only(req)
        admin = is_admin(req)
        pref = f"{base}/volume/v3/{url_pid}" if url_pid else f"{base}/volume/v3"
        if not parts:
            raise not_found(req)
        head = parts[0]
        if head == "volumes":
            if len(parts) == 1 or parts[1] == "detail":
                return self._cinder_volumes(req, st, len(parts) > 1, admin, pref)
            v = st.volumes.get(parts[1])
            if v is None or len(parts) > 2:
                raise not_found(req, f"Volume {parts[1]} could not be found.")
            return Response(200, {"volume": V.volume_view(base, st, v, mv, admin)})
        if head == "types":
            if len(parts) == 1:
                return Response(200, {"volume_types": [V.volume_type_view(t, mv)
                                                       for t in sc.volume_types]})
            t = sc.volume_types_by_key.get(parts[1])
            if t is None or t["id"] != parts[1]:
                raise not_found(req, f"Volume type {parts[1]} could not be found.")
            if len(parts) == 2:
                return Response(200, {"volume_type": V.volume_type_view(t, mv)})
            if parts[2] == "extra_specs":
                return Response(200, {"extra_specs": dict(t["extra_specs"])})
            raise not_found(req)
        if head == "os-quota-sets" and len(parts) >= 2:
            if parts[1] != sc.project_id:
                raise forbidden(req, "Policy doesn't allow volume_extension:quotas:"
                                     "show to be performed.")
            if len(parts) == 3 and parts[2] == "defaults":
                body = V.volume_quota_set(st, False)
                for k in body["quota_set"]:
                    if k != "id":
                        body["quota_set"][k] = VOLUME_QUOTA_DEFAULTS.get(k, -1)
                return Response(200, body)
            raw = (req.q("usage") or "false").strip().lower()
            usage = raw in ("1", "t", "true", "on", "y", "yes")
            return Response(200, V.volume_quota_set(st, usage))
        if head == "backups":
            if len(parts) == 1 or parts[1] == "detail":
                return self._cinder_backups(req, st, len(parts) > 1, pref)
            b = st.backups.get(parts[1])
            if b is None or len(parts) > 2:
                raise not_found(req, f"Backup {parts[1]} could not be found.")
            return Response(200, {"backup": V.backup_view(base, st, b, mv)})
        if head == "limits":
            q, u = st.quotas["block-storage"], st.usage["block-storage"]
            return Response(200, {"limits": {"rate": [], "absolute": {
                "totalSnapshotsUsed": 0, "maxTotalBackups": q["backups"],
                "maxTotalVolumeGigabytes": q["gigabytes"],
                "maxTotalSnapshots": q["snapshots"],
                "maxTotalBackupGigabytes": q["backup_gigabytes"],
                "totalBackupGigabytesUsed": u["backup_gigabytes"],
                "maxTotalVolumes": q["volumes"], "totalVolumesUsed": u["volumes"],
                "totalBackupsUsed": u["backups"],
                "totalGigabytesUsed": u["gigabytes"]}}})
        raise not_found(req)

    def volumes_listing(self, st: State, base: str, detail: bool, mv, admin: bool):
        """Today's volumes as cinder lists them (newest first), in the view of ``mv``."""
        key = ("volumes", detail, mv, admin, base)

        def build():
            return sorted(st.volumes.values(), key=lambda v: (v["created"], v["id"]),
                          reverse=True)

        if detail:
            return self.sim.listing(st, key, build,
                                    lambda v: V.volume_view(base, st, v, mv, admin))
        return self.sim.listing(st, key, build, lambda v: V.volume_summary_view(base, st, v))

    def _cinder_volumes(self, req, st, detail, admin, pref) -> Response:
        base, mv = req.base, req.mv
        ent = self.volumes_listing(st, base, detail, mv, admin)
        sel = None
        flt = {k: v for k, v in req.query.items() if k not in SKIP}
        if flt:
            full = self.volumes_listing(st, base, True, mv, admin)
            sel = paging.select(req, full, SKIP)
        return self._cinder_page(req, ent, sel, "volumes", pref)

    def _cinder_page(self, req, ent, sel, coll, pref) -> Response:
        limit = paging.page_size(req, self.scenario.settings["page_size"]["block-storage"], None)
        page, page_no, _ = paging.page(req, ent, sel, limit)
        self.sim.expire_check(req, page_no)
        body = b'{"' + coll.encode() + b'": ' + paging.join(ent[1], page)
        if limit and len(page) == limit:
            sub = req.path.rstrip("/").rsplit("/", 1)[-1]
            path = f"{pref}/{coll}" + ("/detail" if sub == "detail" else "")
            links = [{"rel": "next",
                      "href": paging.next_href(req, path, ent[2][page[-1]], limit)}]
            body += b', "' + coll.encode() + b'_links": ' + dumps(links)
        if req.mv and req.mv >= (3, 45) and (req.q("with_count") or "").lower() in (
                "true", "1", "yes"):
            total = len(ent[2]) if sel is None else len(sel)
            body += b', "count": ' + str(total).encode()
        return Response(200, body + b"}")

    def _cinder_backups(self, req, st, detail, pref) -> Response:
        base, mv = req.base, req.mv
        key = ("backups", detail, mv, base)

        ent = self.sim.listing(
            st, key, lambda: sorted(st.backups.values(), key=lambda b: (b["created"], b["id"]),
                                    reverse=True),
            lambda b: V.backup_view(base, st, b, mv, detail))
        sel = paging.select(req, ent, SKIP)
        return self._cinder_page(req, ent, sel, "backups", pref)
