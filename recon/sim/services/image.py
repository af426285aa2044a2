"""Glance v2: images, paged and filtered as Glance does it.

Glance's ``next`` is a link relative to the endpoint, its default page is 25
and a bad marker reads differently; filters take its ``in:`` operator
(``?id=in:a,b``).
"""
from __future__ import annotations

import urllib.parse

from .. import paging
from .. import views as V
from ..errors import not_found
from ..scenario import State
from ..versions import image_versions
from ..wire import Req, Response, dumps
from .base import Service, read_only

#: query parameters that are paging or sorting, not attribute filters
SKIP = {"limit", "marker", "sort", "sort_key", "sort_dir", "member_status"}


class Image(Service):
    name = "image"
    prefix = "image"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") in ("", "/versions")

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        base = req.base
        if rest == "":
            return Response(300, image_versions(base))
        if rest == "/versions":
            return Response(200, image_versions(base))
        if not rest.startswith("/v2/") and rest != "/v2":
            raise not_found(req)
        self.sim.auth(req)
        read_only(req)
        parts = [p for p in rest.split("/")[2:] if p]
        if parts and parts[0] == "images":
            ent = self.sim.listing(st, ("images",), lambda: sorted(
                st.images.values(), key=lambda im: (im["created_at"], im["id"]),
                reverse=True), V.image_view)
            if len(parts) >= 2:
                n = ent[3].get(parts[1])
                if n is None or len(parts) > 2:
                    raise not_found(req, f"No image found with ID {parts[1]}")
                return Response(200, ent[1][n])
            sel = paging.select(req, ent, SKIP)
            size = self.scenario.settings["page_size"]["image"] or 25
            limit = paging.page_size(req, 1000, size)
            page, page_no, _ = paging.page(req, ent, sel, limit)
            self.sim.expire_check(req, page_no)
            body = b'{"images": ' + paging.join(ent[1], page)
            body += b', "first": "/v2/images", "schema": "/v2/schemas/images"'
            if limit and len(page) == limit:
                params = [(k, v) for k, vs in req.query.items()
                          if k not in ("marker", "limit") for v in vs]
                params += [("marker", ent[2][page[-1]]), ("limit", str(limit))]
                nxt = "/v2/images?" + urllib.parse.urlencode(params)
                body += b', "next": ' + dumps(nxt)
            return Response(200, body + b"}")
        if parts == ["schemas", "image"] or parts == ["schemas", "images"]:
            return Response(200, {"name": parts[1], "properties": {},
                                  "additionalProperties": {"type": "string"}})
        raise not_found(req)
