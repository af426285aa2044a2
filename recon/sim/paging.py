"""List calls: the day's records in order, query filters, pages and next links.

A list call's records are sorted, viewed and JSON-encoded once per day and
item (:class:`Listing`, cached on the day's State by the server), so paging
through 100,000 servers is slicing and joining bytes.  Limits, markers, links
and equality filters follow each service's rules (``limit=0`` is "no limit" to
Neutron and Octavia; Glance says "marker could not be found").
"""
from __future__ import annotations

import urllib.parse
from typing import Any, Callable

from .errors import bad_request
from .wire import Req, dumps


class Listing:
    """Records of one list call; ``ent[0]`` views, ``ent[1]`` JSON bytes (both built
    on first use, per item), ``ent[2]`` ids in order, ``ent[3]`` id -> position;
    ``selections``: what each query's filters picked (:func:`select`), kept as long
    as the listing (the day's records do not change under it)."""

    __slots__ = ("recs", "fn", "ids", "index", "views", "blobs", "selections")

    def __init__(self, recs: list[dict], fn: Callable[[dict], dict] | None):
        self.recs = recs
        self.fn = fn
        self.ids = [r["id"] for r in recs]
        self.index = {i: n for n, i in enumerate(self.ids)}
        self.views = Lazy(len(recs), (lambda i: recs[i]) if fn is None
                          else (lambda i: fn(recs[i])))
        self.blobs = Lazy(len(recs), lambda i: dumps(self.views[i]))
        self.selections: dict[tuple, Selection] = {}

    def __getitem__(self, k: int):
        return (self.views, self.blobs, self.ids, self.index)[k]

    def __iter__(self):
        return iter((self.views, self.blobs, self.ids, self.index))

    def __len__(self) -> int:
        return len(self.recs)

    def warm(self) -> None:
        for i in range(len(self.recs)):
            self.blobs[i]


class Selection(list):
    """The positions a query's filters picked, and each id's place among them (a marker's
    page): both made once per listing and query, not on every page of it (a list of
    100,000 floating IPs filtered by project was scanned whole for each of its pages)."""

    __slots__ = ("pos_of",)

    def __init__(self, picked: list[int], ids: list[str]):
        super().__init__(picked)
        self.pos_of = {ids[j]: n for n, j in enumerate(picked)}


class Lazy:
    """A list whose items are computed on first use by ``fn(i)`` and kept."""

    __slots__ = ("fn", "cache")

    def __init__(self, n: int, fn: Callable[[int], Any]):
        self.fn = fn
        self.cache: list = [None] * n

    def __getitem__(self, i: int):
        v = self.cache[i]
        if v is None:
            v = self.cache[i] = self.fn(i)
        return v

    def __len__(self) -> int:
        return len(self.cache)

    def __iter__(self):
        return (self[i] for i in range(len(self.cache)))


def page_size(req: Req, max_limit: int, default: int | None) -> int | None:
    """The page size in force: None means everything."""
    raw = req.q("limit")
    if raw is None or raw == "":
        limit = default
    else:
        try:
            limit = int(raw)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise bad_request(req, f"Invalid input for query parameters "
                                   f"limit. Value: {raw}. "
                                   f"'{raw}' is not a 'integer'") from None
    if max_limit and (limit is None or limit > max_limit):
        limit = max_limit
    if limit == 0 and req.service in ("network", "load-balancer"):
        limit = None  # neutron/octavia: limit=0 means no limit
    return limit


def page(req: Req, ent, sel: list[int] | None, limit: int | None
         ) -> tuple[list[int], int, bool]:
    """(indices of the page, page number, more-after-this-page)."""
    views, blobs, ids, index = ent
    if sel is None:
        sel = range(len(ids))  # type: ignore[assignment]
        pos_of = index
    elif isinstance(sel, Selection):
        pos_of = sel.pos_of
    else:
        pos_of = {ids[j]: n for n, j in enumerate(sel)}
    marker = req.q("marker")
    start = 0
    if marker:
        p = pos_of.get(marker)
        if p is None:
            if req.service == "image":
                raise bad_request(req, f"marker could not be found: {marker}")
            raise bad_request(req, f"marker [{marker}] not found")
        start = p + 1
    if limit is None:
        page = list(sel[start:])
        page_no = 1 if not marker else 2
    else:
        page = list(sel[start:start + limit])
        page_no = (start // limit + 1) if limit else 1
    more = start + len(page) < len(sel)
    return page, page_no, more


def next_href(req: Req, path: str, marker: str, limit: int | None,
              extra: dict[str, str] | None = None) -> str:
    """A ``next`` (or ``previous``) link: the query as asked, with this page's limit and marker."""
    params = [(k, v) for k, vs in req.query.items() if k not in ("marker", "limit",
                                                                  "page_reverse")
              for v in vs]
    if limit is not None:
        params.append(("limit", str(limit)))
    params.append(("marker", marker))
    if extra:
        params.extend(extra.items())
    return f"{path}?{urllib.parse.urlencode(params)}"


def join(blobs: Lazy, idx: list[int]) -> bytes:
    """The page as a JSON array, from its items' bytes encoded once for the day."""
    return b"[" + b",".join([blobs[i] for i in idx]) + b"]"


def select(req: Req, ent, skip: set[str], fields_map: dict[str, Callable] | None = None
           ) -> list[int] | None:
    """Generic equality filters on top-level attributes (neutron/octavia/glance)."""
    flt = {k: v for k, v in req.query.items() if k not in skip}
    if not flt:
        return None
    if not isinstance(ent, Listing) or fields_map:
        return _select(req, ent, flt, fields_map)
    key = (req.service, tuple(sorted((k, tuple(v)) for k, v in flt.items())))
    out = ent.selections.get(key)
    if out is None:
        out = ent.selections[key] = Selection(_select(req, ent, flt, None), ent.ids)
    return out


def _select(req: Req, ent, flt: dict[str, list[str]],
            fields_map: dict[str, Callable] | None) -> list[int]:
    if req.service == "image":
        # glance's "in" operator: ?id=in:a,b,c
        flt = {k: [x for v in vals for x in (v[3:].split(",") if v.startswith("in:")
                                             else [v])]
               for k, vals in flt.items()}
    views = ent[0]
    out = []
    for n, v in enumerate(views):
        ok = True
        for k, vals in flt.items():
            if fields_map and k in fields_map:
                if not fields_map[k](v, vals):
                    ok = False
                    break
                continue
            if k not in v:
                continue  # unknown filters are ignored, as the services do
            have = v[k]
            if isinstance(have, bool):
                have = str(have).lower()
                vals = [x.lower() for x in vals]
            if isinstance(have, (list, dict)):
                continue
            if str(have) not in vals and not (have is None and "" in vals):
                ok = False
                break
        if ok:
            out.append(n)
    return out


def fields(req: Req, items: list[dict]) -> list[dict]:
    """Neutron's and Octavia's ``?fields=``: only the attributes asked for."""
    fields = req.query.get("fields")
    if not fields:
        return items
    keep = set(fields)
    return [{k: v for k, v in it.items() if k in keep} for it in items]
