"""Swift: the account (its usage headers and container listing) and its containers.

Objects are not simulated: what recon measures is the account's bytes, object
and container counts, which Swift gives in headers of a HEAD or GET.
"""
from __future__ import annotations

import re
import secrets

from ..errors import bad_request, forbidden, not_found
from ..scenario import State
from ..wire import Req, Response, dumps
from .base import Service


class ObjectStore(Service):
    name = "object-store"
    prefix = "object-store"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") == "/info"

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        sc = self.scenario
        if rest == "/info":
            return Response(200, {"swift": {"version": "2.33.0", "max_file_size": 5368709122,
                                            "account_listing_limit": 10000,
                                            "container_listing_limit": 10000,
                                            "policies": [{"name": "Policy-0",
                                                          "default": True}]},
                                  "account_quotas": {}, "container_quotas": {}})
        m = re.match(r"^/v1/(AUTH_[^/]+)(?:/([^/]+))?$", rest)
        if not m:
            raise not_found(req)
        self.sim.auth(req)
        if m.group(1) != f"AUTH_{sc.project_id}":
            raise forbidden(req, "Access was denied to this resource.")
        if req.method not in ("GET", "HEAD"):
            raise forbidden(req, "Access was denied to this resource.")
        acct = st.object_store
        ts = "1762000000.00000"
        if m.group(2):
            c = next((c for c in acct["containers"] if c["name"] == m.group(2)), None)
            if c is None:
                raise not_found(req)
            hdrs = [("X-Container-Bytes-Used", str(c["bytes"])),
                    ("X-Container-Object-Count", str(c["count"])),
                    ("X-Timestamp", ts), ("X-Put-Timestamp", ts),
                    ("X-Storage-Policy", "Policy-0"), ("Accept-Ranges", "bytes"),
                    ("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT"),
                    ("X-Trans-Id", "tx" + secrets.token_hex(11))]
            # objects are not simulated: an empty listing
            if req.method == "HEAD":
                return Response(204, b"", "text/plain; charset=utf-8", hdrs)
            if _wants_json(req):
                return Response(200, b"[]", "application/json; charset=utf-8", hdrs)
            return Response(204, b"", "text/plain; charset=utf-8", hdrs)
        hdrs = [("X-Account-Bytes-Used", str(acct["bytes_used"])),
                ("X-Account-Container-Count", str(acct["container_count"])),
                ("X-Account-Object-Count", str(acct["object_count"])),
                ("X-Account-Storage-Policy-Policy-0-Bytes-Used", str(acct["bytes_used"])),
                ("X-Account-Storage-Policy-Policy-0-Container-Count",
                 str(acct["container_count"])),
                ("X-Account-Storage-Policy-Policy-0-Object-Count",
                 str(acct["object_count"])),
                ("X-Timestamp", ts), ("X-Put-Timestamp", ts),
                ("Accept-Ranges", "bytes"), ("X-Trans-Id", "tx" + secrets.token_hex(11))]
        if acct.get("quota_bytes") is not None:
            hdrs.append(("X-Account-Meta-Quota-Bytes", str(acct["quota_bytes"])))
        if req.method == "HEAD":
            return Response(204, b"", "text/plain; charset=utf-8", hdrs)
        cs = acct["containers"]
        marker = req.q("marker") or ""
        prefix = req.q("prefix") or ""
        try:
            limit = min(int(req.q("limit") or 10000), 10000)
        except ValueError:
            raise bad_request(req, "Invalid limit") from None
        sel = [c for c in cs if c["name"] > marker and c["name"].startswith(prefix)]
        sel = sel[:limit]
        if not sel:
            return Response(204, b"", "text/plain; charset=utf-8", hdrs)
        if _wants_json(req):
            return Response(200, dumps(sel),
                            "application/json; charset=utf-8", hdrs)
        return Response(200, ("\n".join(c["name"] for c in sel) + "\n").encode(),
                        "text/plain; charset=utf-8", hdrs)


def _wants_json(req: Req) -> bool:
    fmt = (req.q("format") or "").lower()
    return fmt == "json" or (not fmt and "application/json" in
                             (req.headers.get("Accept") or ""))
