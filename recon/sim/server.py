"""A real HTTP server that answers as an OpenStack cloud does.

One port, path-prefixed services (``/identity``, ``/compute``, ``/volume``,
``/network``, ``/load-balancer``, ``/object-store``, ``/image``), each listed in
the token's service catalog (public and internal endpoints, the scenario's
region).  The state served is the scenario's state on the simulated ``today``.

Usage::

    sim = SimServer(load_scenario(recon.data.DEMO / "scenario.yaml"), today="2026-11-05")
    with sim:
        conn = openstack.connect(**clouds_yaml(sim)["clouds"]["recon-sim"])
        ...

Admin endpoints (no token): ``GET /_sim/state``, ``GET|POST /_sim/today``
(``{"date": "2026-11-01"}``), ``GET|POST|DELETE /_sim/faults`` (POST body is a
fault spec, see :mod:`recon.sim.scenario`).
"""
from __future__ import annotations

import collections
import datetime as _dt
import json
import os
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

from . import views as V
from .scenario import (
    Scenario,
    State,
    load_scenario,
    parse_fault,
    parse_today,
)

__all__ = ["SimServer", "clouds_yaml"]

_UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                           "message": "The request you have made requires authentication."}}
_HAPROXY_503 = (b"<html><body><h1>503 Service Unavailable</h1>\n"
                b"No server is available to handle this request.\n</body></html>\n")
_JSON = "application/json"
_PREFIX_SERVICE = {
    "identity": "identity",
    "compute": "compute",
    "volume": "block-storage",
    "network": "network",
    "load-balancer": "load-balancer",
    "object-store": "object-store",
    "image": "image",
}


class Response:
    __slots__ = ("status", "headers", "body", "ctype")

    def __init__(self, status: int = 200, body: Any = b"", ctype: str = _JSON,
                 headers: Iterable[tuple[str, str]] | None = None):
        self.status = status
        if not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        self.body = bytes(body)
        self.ctype = ctype
        self.headers = list(headers or [])


class _Listing:
    """Records of one list call; ``ent[0]`` views, ``ent[1]`` JSON bytes (both built
    on first use, per item), ``ent[2]`` ids in order, ``ent[3]`` id -> position."""

    __slots__ = ("recs", "fn", "ids", "index", "views", "blobs")

    def __init__(self, recs: list[dict], fn: Callable[[dict], dict] | None):
        self.recs = recs
        self.fn = fn
        self.ids = [r["id"] for r in recs]
        self.index = {i: n for n, i in enumerate(self.ids)}
        self.views = _Lazy(len(recs), (lambda i: recs[i]) if fn is None
                           else (lambda i: fn(recs[i])))
        self.blobs = _Lazy(len(recs), lambda i: json.dumps(self.views[i]).encode())

    def __getitem__(self, k: int):
        return (self.views, self.blobs, self.ids, self.index)[k]

    def __iter__(self):
        return iter((self.views, self.blobs, self.ids, self.index))

    def __len__(self) -> int:
        return len(self.recs)

    def warm(self) -> None:
        for i in range(len(self.recs)):
            self.blobs[i]


class _Lazy:
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


#: per status: nova/cinder body key, neutron error type, title
_ERROR_NAMES = {
    400: ("badRequest", "HTTPBadRequest", "Bad Request"),
    403: ("forbidden", "HTTPForbidden", "Forbidden"),
    404: ("itemNotFound", "HTTPNotFound", "Not Found"),
}


class HTTPError(Exception):
    def __init__(self, resp: Response):
        super().__init__(resp.status)
        self.resp = resp


class Req:
    def __init__(self, method: str, path: str, query: dict[str, list[str]],
                 headers, body: bytes, base: str):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.base = base
        self.service = ""
        self.rest = ""
        self.token: dict | None = None
        self.faults: list[dict] = []
        self.mv: tuple[int, int] | None = None
        self.extra_headers: list[tuple[str, str]] = []

    def q(self, key: str, default: str | None = None) -> str | None:
        v = self.query.get(key)
        return v[-1] if v else default

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise HTTPError(Response(400, {"error": {
                "code": 400, "title": "Bad Request",
                "message": "Malformed JSON in request body."}})) from None


# ---------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, sim: "SimServer"):
        self.sim = sim
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "recon-sim/0.1"
    sys_version = ""
    timeout = 120

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.sim.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def _run(self) -> None:
        self.server.sim._serve(self)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _run


# ---------------------------------------------------------------------------


class SimServer:
    """The simulator.  ``scenario`` is a :class:`Scenario` or a path to one."""

    def __init__(self, scenario: Scenario | str | os.PathLike, host: str = "127.0.0.1",
                 port: int = 0, today: Any = None, verbose: bool = False,
                 warm: bool = True):
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        self.scenario = scenario
        self.host = host
        self.port = port
        self.verbose = verbose
        self.warm = warm
        self._today = scenario.resolve_today(today)
        self._lock = threading.RLock()
        self._build_lock = threading.Lock()
        self._tokens: dict[str, dict] = {}
        self._admin_faults: list[dict] = []
        self._scenario_faults: tuple[_dt.date | None, list[dict]] = (None, [])
        self._fault_seq = 0
        self._counts: collections.Counter = collections.Counter()
        self.requests: collections.deque = collections.deque(maxlen=20000)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        #: other regions/projects of the same cloud (:meth:`add_scope`); this one is Keystone
        self.peers: list[SimServer] = []

    def add_scope(self, other: "SimServer") -> "SimServer":
        """Serve ``other`` (another region, or another project) behind this Keystone.

        One Keystone: tokens issued here are good there, a token scoped to a
        project lists every region serving that project in its catalog, and
        ``other``'s own users are not consulted.  Each keeps its own faults and
        request counts, so one scope can fail while the others answer.
        """
        other._tokens = self._tokens
        other._lock = self._lock
        self.peers.append(other)
        return other

    def _scope_servers(self) -> list["SimServer"]:
        return [self] + self.peers

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> "SimServer":
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"recon-sim:{self.port}", daemon=True)
        self._thread.start()
        self._warm_async()
        for peer in self.peers:
            peer.start()
        return self

    def _warm_async(self) -> None:
        """Build today's state and encode the big listings in the background, as a
        client of the newest microversions will ask for them."""
        if not self.warm or self._httpd is None:
            return
        today, base = self._today, self.url

        def run() -> None:
            try:
                st = self.scenario.state_at(today)
                sc = self.scenario
                ents = [self._servers_listing(st, base, True,
                                              sc.settings["compute_max_microversion"], False),
                        self._volumes_listing(st, base, True,
                                              sc.settings["volume_max_microversion"], False)]
                for ent in ents:
                    for i in range(len(ent)):
                        if self._stop.is_set() or self._today != today:
                            return
                        ent.blobs[i]
            except Exception:  # pragma: no cover - warming is best effort
                pass

        threading.Thread(target=run, name="recon-sim-warm", daemon=True).start()

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()
        httpd.close_all()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Start (if needed) and block until stop() or KeyboardInterrupt."""
        self.start()
        try:
            while self._httpd is not None:
                time.sleep(0.5)
        finally:
            self.stop()

    def __enter__(self) -> "SimServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        return self.url + "/identity/v3"

    # -- today and faults --------------------------------------------------------
    @property
    def today(self) -> _dt.date:
        return self._today

    def set_today(self, date: Any) -> _dt.date:
        """Serve the state of ``date`` (a date or "YYYY-MM-DD") from now on."""
        d = parse_today(date)
        for peer in self.peers:
            peer.set_today(d)
        with self._lock:
            self._today = d
            # a new night: the scenario's faults for that date are armed afresh
            self._scenario_faults = (None, [])
        if self._httpd is not None and self.warm:
            self._warm_async()
        else:
            self.state()  # build (and validate) now rather than on the first request
        return d

    def state(self, today: Any = None) -> State:
        return self.scenario.state_at(today or self._today)

    def set_fault(self, service: str, kind: str, **opts: Any) -> dict:
        """Inject a fault (see the scenario docs); returns its description."""
        f = parse_fault(dict(opts, service=service, kind=kind))
        with self._lock:
            self._fault_seq += 1
            f.update(id=self._fault_seq, source="admin", remaining=f["times"], fired=0)
            self._admin_faults.append(f)
        return dict(f)

    def clear_faults(self) -> None:
        """Remove injected faults and silence the scenario's faults for today."""
        with self._lock:
            self._admin_faults = []
            self._scenario_faults = (self._today, [])

    def faults(self) -> list[dict]:
        """Faults in force now (scenario ones for today, then injected ones)."""
        with self._lock:
            return [dict(f) for f in self._active_faults()]

    def _active_faults(self) -> list[dict]:
        day, lst = self._scenario_faults
        if day != self._today:
            lst = []
            for f in self.scenario.faults_on(self._today):
                self._fault_seq += 1
                f.update(id=self._fault_seq, source="scenario",
                         remaining=f["times"], fired=0)
                lst.append(f)
            self._scenario_faults = (self._today, lst)
        return lst + self._admin_faults

    def _take(self, f: dict) -> bool:
        with self._lock:
            if f["remaining"] is None:
                f["fired"] += 1
                return True
            if f["remaining"] > 0:
                f["remaining"] -= 1
                f["fired"] += 1
                return True
            return False

    @property
    def request_count(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.requests.clear()

    # -- tokens ----------------------------------------------------------------
    def issue_token(self, user: dict, roles: list[str], methods: list[str],
                    app_cred: dict | None = None, scoped: bool = True,
                    scenario: Scenario | None = None) -> tuple[str, dict]:
        now = time.time()
        tok = secrets.token_hex(16)
        info = {"id": tok, "user": user, "roles": list(roles), "methods": methods,
                "scenario": scenario or self.scenario,
                "app_cred": app_cred, "scoped": scoped, "issued": now,
                "expires": now + self.scenario.settings["token_ttl"],
                "audit_id": secrets.token_urlsafe(16)[:22], "exclude": set()}
        with self._lock:
            for f in self._active_faults():
                if f["kind"] == "missing_from_catalog" and self._take(f):
                    info["exclude"].add(f["service"])
            self._tokens[tok] = info
        return tok, info

    def revoke_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # -- request plumbing ---------------------------------------------------------
    def _serve(self, h: _Handler) -> None:
        t0 = time.perf_counter()
        method = h.command
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n > 0 else b""
        parts = urllib.parse.urlsplit(h.path)
        path = urllib.parse.unquote(parts.path) or "/"
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        host = h.headers.get("Host") or f"{self.host}:{self.port}"
        req = Req(method, path, query, h.headers, body, f"http://{host}")
        try:
            resp = self._dispatch(req)
        except HTTPError as e:
            resp = e.resp
        except Exception as e:  # a bug in the simulator: say so loudly
            traceback.print_exc()
            resp = Response(500, {"error": {"code": 500, "title": "Simulator Error",
                                            "message": f"{type(e).__name__}: {e}"}})
        self._finish(req, resp)
        # recorded before the answer goes out: a client that has read it may look at the log
        with self._lock:
            self.requests.append((method, h.path, resp.status, req.service,
                                  round((time.perf_counter() - t0) * 1000, 2)))
        req_id = "req-" + secrets.token_hex(4) + "-" + secrets.token_hex(2) + "-" + \
            secrets.token_hex(2) + "-" + secrets.token_hex(2) + "-" + secrets.token_hex(6)
        try:
            h.send_response(resp.status)
            h.send_header("Content-Type", resp.ctype)
            h.send_header("Content-Length", str(len(resp.body)))
            h.send_header("X-Openstack-Request-Id", req_id)
            if req.service == "compute":
                h.send_header("X-Compute-Request-Id", req_id)
            for k, v in resp.headers + req.extra_headers:
                h.send_header(k, v)
            h.end_headers()
            if method != "HEAD" and resp.body:
                h.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True

    def _finish(self, req: Req, resp: Response) -> None:
        # malformed_json: a 200 JSON answer cut in half
        if resp.status == 200 and resp.ctype == _JSON and req.method == "GET":
            for f in req.faults:
                if f["kind"] == "malformed_json" and self._take(f):
                    resp.body = resp.body[: max(1, len(resp.body) // 2)]
                    break

    def _dispatch(self, req: Req) -> Response:
        path = req.path
        if path.startswith("/_sim"):
            with self._lock:
                self._counts["_sim"] += 1
            return self._admin(req)
        seg = path.split("/", 2)
        prefix = seg[1] if len(seg) > 1 else ""
        if prefix == "":
            return Response(200, {"simulator": "recon-sim", "today": self._today.isoformat(),
                                  "services": {s: f"{req.base}/{p}" for p, s in
                                               _PREFIX_SERVICE.items()}})
        svc = _PREFIX_SERVICE.get(prefix)
        if svc is None:
            raise HTTPError(Response(404, b"404 Not Found\n", "text/plain"))
        req.service = svc
        req.rest = path[len(prefix) + 1:]
        with self._lock:
            self._counts[svc] += 1
            today = self._today
            active = [f for f in self._active_faults() if f["service"] == svc]
        handler = getattr(self, "_svc_" + svc.replace("-", "_"))
        discovery = handler(req, None, discovery_check=True)
        for f in active:
            if f["kind"] == "missing_from_catalog":
                continue
            if discovery and not f["discovery"]:
                continue
            if f.get("method") and f["method"] != req.method:
                continue
            if f.get("match") and not re.search(f["match"], path):
                continue
            req.faults.append(f)
        for f in req.faults:
            if f["kind"] == "delay" and self._take(f):
                self._stop.wait(f["seconds"])
        for f in req.faults:
            if f["kind"] in ("http_500", "http_503") and self._take(f):
                return self._fault_response(svc, f)
        st = self.scenario.state_at(today)
        return handler(req, st)

    def _fault_response(self, svc: str, f: dict) -> Response:
        if f["kind"] == "http_503":
            hdrs = [("Cache-Control", "no-cache"), ("Connection", "close")]
            if f.get("retry_after") is not None:
                hdrs.append(("Retry-After", str(f["retry_after"])))
            return Response(503, _HAPROXY_503, "text/html", hdrs)
        bodies: dict[str, Any] = {
            "identity": {"error": {"code": 500, "title": "Internal Server Error",
                                   "message": "An unexpected error prevented the server "
                                              "from fulfilling your request."}},
            "compute": {"computeFault": {"code": 500, "message":
                        "Unexpected API Error. Please report this at "
                        "http://bugs.launchpad.net/nova/ and attach the Nova API log "
                        "if possible.\n<class 'oslo_db.exception.DBConnectionError'>"}},
            "block-storage": {"computeFault": {"code": 500, "message":
                              "The server has either erred or is incapable of "
                              "performing the requested operation."}},
            "network": {"NeutronError": {"type": "HTTPInternalServerError",
                                         "message": "Request Failed: internal server "
                                                    "error while processing your request.",
                                         "detail": ""}},
            "load-balancer": {"faultcode": "Server", "faultstring":
                              "Internal Server Error", "debuginfo": None},
        }
        if svc in bodies:
            return Response(500, bodies[svc])
        if svc == "image":
            return Response(500, b"500 Internal Server Error\n\nThe server has either "
                                 b"erred or is incapable of performing the requested "
                                 b"operation.\n\n   ", "text/plain; charset=UTF-8")
        return Response(500, b"<html><h1>Internal Error</h1><p>The server has either erred "
                             b"or is incapable of performing the requested operation."
                             b"</p></html>", "text/html; charset=UTF-8")

    # -- auth helpers ---------------------------------------------------------------
    def _unauthorized(self, req: Req) -> HTTPError:
        hdrs = [("WWW-Authenticate", f'Keystone uri="{req.base}/identity"')]
        if req.service == "object-store":
            return HTTPError(Response(
                401, b"<html><h1>Unauthorized</h1><p>This server could not verify that "
                     b"you are authorized to access the document you requested.</p></html>",
                "text/html; charset=UTF-8", hdrs))
        return HTTPError(Response(401, _UNAUTHORIZED, _JSON, hdrs))

    def _auth(self, req: Req) -> dict:
        tok = req.headers.get("X-Auth-Token")
        with self._lock:
            info = self._tokens.get(tok or "")
        if info is None or info["expires"] <= time.time():
            raise self._unauthorized(req)
        if not info["scoped"]:
            raise self._forbidden(req, "Token is not scoped to a project.")
        req.token = info
        return info

    def _error_body(self, req: Req, status: int, msg: str, neutron_type: str | None = None):
        """The JSON error body each service writes for ``status``; None for non-JSON services."""
        nova_key, neutron_default, title = _ERROR_NAMES[status]
        svc = req.service
        if svc in ("compute", "block-storage"):
            return {nova_key: {"code": status, "message": msg}}
        if svc == "network":
            return {"NeutronError": {"type": neutron_type or neutron_default, "message": msg,
                                     "detail": ""}}
        if svc == "load-balancer":
            return {"faultcode": "Client", "faultstring": msg, "debuginfo": None}
        if svc == "identity":
            return {"error": {"code": status, "title": title, "message": msg}}
        return None

    def _plain_error(self, req: Req, status: int, msg: str) -> HTTPError:
        body = self._error_body(req, status, msg)
        if body is not None:
            return HTTPError(Response(status, body))
        title = _ERROR_NAMES[status][2]
        return HTTPError(Response(status, f"{status} {title}\n\n{msg}\n\n".encode(),
                                  "text/plain; charset=UTF-8"))

    def _forbidden(self, req: Req, msg: str) -> HTTPError:
        return self._plain_error(req, 403, msg)

    def _is_admin(self, req: Req) -> bool:
        return bool(req.token and "admin" in req.token["roles"])

    def _read_only(self, req: Req) -> None:
        if req.method not in ("GET", "HEAD"):
            raise self._forbidden(req, "The simulator is read-only: "
                                       f"{req.method} is not allowed here.")

    def _expire_check(self, req: Req, page_no: int) -> None:
        for f in req.faults:
            if f["kind"] == "token_expiry" and f["page"] == page_no and self._take(f):
                with self._lock:
                    self._tokens.pop(req.headers.get("X-Auth-Token") or "", None)
                raise self._unauthorized(req)

    # -- listing and pagination -----------------------------------------------------
    def _listing(self, st: State, key: tuple, build: Callable[[], list[dict]],
                 view: Callable[[dict], dict] | None = None) -> "_Listing":
        """The ordered records of one list call for this day, viewed and JSON-encoded
        lazily, once per item (cached on the day's state)."""
        ent = st.cache.get(key)
        if ent is None:
            with self._build_lock:
                ent = st.cache.get(key)
                if ent is None:
                    ent = _Listing(build(), view)
                    st.cache[key] = ent
        return ent

    def _bad_request(self, req: Req, msg: str) -> HTTPError:
        return self._plain_error(req, 400, msg)

    def _not_found(self, req: Req, msg: str = "The resource could not be found.",
                   neutron_type: str = "HTTPNotFound") -> HTTPError:
        body = self._error_body(req, 404, msg, neutron_type)
        if body is not None:
            return HTTPError(Response(404, body))
        if req.service == "image":
            return HTTPError(Response(
                404, ("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                      f"  <h1>404 Not Found</h1>\n  {msg}<br /><br />\n\n\n\n </body>\n"
                      "</html>").encode(), "text/html; charset=UTF-8"))
        return HTTPError(Response(404, b"<html><h1>Not Found</h1><p>The resource could "
                                       b"not be found.</p></html>",
                                  "text/html; charset=UTF-8"))

    def _limit(self, req: Req, max_limit: int, default: int | None) -> int | None:
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
                raise self._bad_request(req, f"Invalid input for query parameters "
                                             f"limit. Value: {raw}. "
                                             f"'{raw}' is not a 'integer'") from None
        if max_limit and (limit is None or limit > max_limit):
            limit = max_limit
        if limit == 0 and req.service in ("network", "load-balancer"):
            limit = None  # neutron/octavia: limit=0 means no limit
        return limit

    def _page(self, req: Req, ent, sel: list[int] | None, limit: int | None
              ) -> tuple[list[int], int, bool]:
        """(indices of the page, page number, more-after-this-page)."""
        views, blobs, ids, index = ent
        if sel is None:
            sel = range(len(ids))  # type: ignore[assignment]
            pos_of = index
        else:
            pos_of = {ids[j]: n for n, j in enumerate(sel)}
        marker = req.q("marker")
        start = 0
        if marker:
            p = pos_of.get(marker)
            if p is None:
                if req.service == "image":
                    raise self._bad_request(req, f"marker could not be found: {marker}")
                raise self._bad_request(req, f"marker [{marker}] not found")
            start = p + 1
        if limit is None:
            page = list(sel[start:])
            page_no = 1 if not marker else 2
        else:
            page = list(sel[start:start + limit])
            page_no = (start // limit + 1) if limit else 1
        more = start + len(page) < len(sel)
        return page, page_no, more

    def _next_href(self, req: Req, path: str, marker: str, limit: int | None,
                   extra: dict[str, str] | None = None) -> str:
        params = [(k, v) for k, vs in req.query.items() if k not in ("marker", "limit",
                                                                      "page_reverse")
                  for v in vs]
        if limit is not None:
            params.append(("limit", str(limit)))
        params.append(("marker", marker))
        if extra:
            params.extend(extra.items())
        return f"{path}?{urllib.parse.urlencode(params)}"

    @staticmethod
    def _join(blobs: "_Lazy", idx: list[int]) -> bytes:
        return b"[" + b", ".join([blobs[i] for i in idx]) + b"]"

    def _filter(self, req: Req, ent, skip: set[str], fields_map: dict[str, Callable] | None = None
                ) -> list[int] | None:
        """Generic equality filters on top-level attributes (neutron/octavia/glance)."""
        flt = {k: v for k, v in req.query.items() if k not in skip}
        if not flt:
            return None
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

    # ==========================================================================
    # admin
    def _admin(self, req: Req) -> Response:
        p = req.path.rstrip("/")
        if p in ("/_sim", "/_sim/state"):
            st = self.state()
            return Response(200, {"today": self._today.isoformat(),
                                  "scenario": self.scenario.path,
                                  "project": {k: self.scenario.project[k]
                                              for k in ("id", "name")},
                                  "faults": self._public_faults(),
                                  "request_count": self.request_count,
                                  "tokens": len(self._tokens),
                                  "state": st.summary()})
        if p == "/_sim/today":
            if req.method == "GET":
                return Response(200, {"today": self._today.isoformat()})
            if req.method in ("POST", "PUT"):
                body = req.json()
                val = body.get("date") or body.get("today") if isinstance(body, dict) else None
                try:
                    d = self.set_today(val)
                except ValueError as e:
                    return Response(400, {"error": str(e)})
                return Response(200, {"today": d.isoformat()})
        if p == "/_sim/faults":
            if req.method == "GET":
                return Response(200, {"faults": self._public_faults()})
            if req.method == "POST":
                body = req.json()
                specs = body if isinstance(body, list) else [body]
                out = []
                try:
                    for s in specs:
                        if not isinstance(s, dict):
                            raise ValueError("a fault is a JSON object")
                        s = dict(s)
                        out.append(self.set_fault(s.pop("service", None) or "",
                                                  s.pop("kind", None) or "", **s))
                except (ValueError, TypeError) as e:
                    return Response(400, {"error": str(e)})
                return Response(201, {"faults": out})
            if req.method == "DELETE":
                self.clear_faults()
                return Response(204, b"")
        if p == "/_sim/tokens" and req.method == "DELETE":
            self.revoke_tokens()
            return Response(204, b"")
        if p == "/_sim/requests":
            if req.method == "DELETE":
                self.reset_counts()
                return Response(204, b"")
            return Response(200, {"request_count": self.request_count,
                                  "requests": list(self.requests)[-200:]})
        return Response(404, {"error": f"no admin endpoint {req.method} {req.path}"})

    def _public_faults(self) -> list[dict]:
        return [{k: v for k, v in f.items() if v is not None} for f in self.faults()]

    # ==========================================================================
    # keystone
    def _svc_identity(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest in ("", "/v3")
        base = req.base
        if rest == "":
            return Response(300, V.identity_versions(base),
                            headers=[("Location", f"{base}/identity/v3/")])
        if rest == "/v3":
            return Response(200, V.identity_version(base))
        if rest == "/v3/auth/tokens":
            if req.method == "POST":
                return self._issue(req)
            info = self._auth_any(req)
            subj = self._tokens.get(req.headers.get("X-Subject-Token") or "")
            if subj is None or subj["expires"] <= time.time():
                raise self._not_found(req, "Could not find token.")
            if req.method == "DELETE":
                with self._lock:
                    self._tokens.pop(subj["id"], None)
                return Response(204, b"")
            body = self._token_body(req, subj, "nocatalog" not in req.query)
            return Response(200, body, headers=[("X-Subject-Token", subj["id"])])
        info = self._auth_any(req)
        sc = self.scenario
        if rest == "/v3/auth/catalog":
            return Response(200, {"catalog": self._catalog(base, info),
                                  "links": {"self": f"{base}/identity/v3/auth/catalog"}})
        if rest in ("/v3/auth/projects", f"/v3/users/{info['user']['id']}/projects"):
            return Response(200, {"projects": [self._project_ref(base)],
                                  "links": {"self": f"{base}/identity/v3{rest[3:]}",
                                            "previous": None, "next": None}})
        if rest == "/v3/projects":
            # keystone filters by policy; a project member sees its own project
            p = sc.project
            ok = all(req.q(k) in (None, v) for k, v in (
                ("name", p["name"]), ("domain_id", p["domain"]["id"]), ("id", p["id"])))
            return Response(200, {"projects": [self._project_ref(base)] if ok else [],
                                  "links": {"self": f"{base}/identity/v3/projects",
                                            "previous": None, "next": None}})
        if rest == f"/v3/projects/{sc.project_id}":
            return Response(200, {"project": self._project_ref(base)})
        if rest == f"/v3/users/{info['user']['id']}":
            u = info["user"]
            return Response(200, {"user": {
                "id": u["id"], "name": u["name"], "domain_id": u["domain"]["id"],
                "enabled": True, "password_expires_at": None, "options": {},
                "default_project_id": sc.project_id, "email": u.get("email"),
                "links": {"self": f"{base}/identity/v3/users/{u['id']}"}}})
        if rest == f"/v3/users/{info['user']['id']}/application_credentials":
            creds = [self._app_cred_ref(a) for a in sc.app_creds
                     if a["user"]["id"] == info["user"]["id"]]
            return Response(200, {"application_credentials": creds, "links": {
                "self": f"{base}/identity/v3{rest[3:]}", "previous": None, "next": None}})
        if rest.startswith("/v3/projects/") or rest.startswith("/v3/users/"):
            raise self._forbidden(req, "You are not authorized to perform the requested "
                                       "action.")
        raise self._not_found(req)

    def _auth_any(self, req: Req) -> dict:
        tok = req.headers.get("X-Auth-Token")
        with self._lock:
            info = self._tokens.get(tok or "")
        if info is None or info["expires"] <= time.time():
            raise self._unauthorized(req)
        req.token = info
        return info

    def _project_ref(self, base: str) -> dict:
        p = self.scenario.project
        return {"id": p["id"], "name": p["name"], "domain_id": p["domain"]["id"],
                "description": p["description"], "enabled": True, "is_domain": False,
                "parent_id": p["domain"]["id"], "tags": [], "options": {},
                "links": {"self": f"{base}/identity/v3/projects/{p['id']}"}}

    def _app_cred_ref(self, a: dict) -> dict:
        return {"id": a["id"], "name": a["name"], "description": a["description"],
                "project_id": self.scenario.project_id, "expires_at": None,
                "unrestricted": a["unrestricted"], "access_rules": [],
                "roles": V.role_refs(a["roles"])}

    def _issue(self, req: Req) -> Response:
        sc = self.scenario
        body = req.json()
        try:
            auth = body["auth"]
            ident = auth["identity"]
            methods = list(ident["methods"])
        except (KeyError, TypeError):
            raise self._bad_request(req, "Expecting to find identity in auth. The server "
                                         "could not comply with the request since it is "
                                         "either malformed or otherwise incorrect.") from None
        scope = auth.get("scope")
        app_cred = None
        user = None
        if "application_credential" in methods:
            ac = ident.get("application_credential") or {}
            for a in sc.app_creds:
                if ac.get("id") == a["id"] or (
                        ac.get("name") == a["name"] and ac.get("user")
                        and self._match_user(ac["user"], a["user"])):
                    app_cred = a
                    break
            if app_cred is None or ac.get("secret") != app_cred["secret"]:
                raise self._unauthorized(req)
            if scope:
                raise self._unauthorized(req)
            user, roles, scoped, target = app_cred["user"], app_cred["roles"], True, None
        elif "password" in methods:
            pu = (ident.get("password") or {}).get("user") or {}
            for u in sc.users:
                if self._match_user(pu, u):
                    user = u
                    break
            if user is None or pu.get("password") != user["password"]:
                raise self._unauthorized(req)
            roles, scoped = user["roles"], False
            target = None
            if scope:
                target = self._check_scope(req, scope)
                scoped = True
            if scoped and not roles:
                raise self._unauthorized(req)
        elif "token" in methods:
            old = self._tokens.get(((ident.get("token") or {}).get("id")) or "")
            if old is None or old["expires"] <= time.time():
                raise self._unauthorized(req)
            user, roles, app_cred = old["user"], old["roles"], old["app_cred"]
            scoped, target = old["scoped"], old["scenario"]
            if scope:
                target = self._check_scope(req, scope)
                scoped = True
        else:
            raise self._unauthorized(req)
        tok, info = self.issue_token(user, roles, methods, app_cred, scoped, target)
        resp_body = self._token_body(req, info, "nocatalog" not in req.query)
        return Response(201, resp_body, headers=[("X-Subject-Token", tok),
                                                 ("Vary", "X-Auth-Token")])

    def _match_user(self, spec: dict, u: dict) -> bool:
        if not isinstance(spec, dict):
            return False
        if spec.get("id"):
            return spec["id"] == u["id"]
        if spec.get("name") != u["name"]:
            return False
        dom = spec.get("domain") or {}
        return dom.get("id") == u["domain"]["id"] or dom.get("name") == u["domain"]["name"]

    def _check_scope(self, req: Req, scope: Any) -> Scenario:
        """The scenario of the project asked for (any project this Keystone serves), or 401."""
        pr = scope.get("project") if isinstance(scope, dict) else None
        if not pr:
            raise self._unauthorized(req)
        for srv in self._scope_servers():
            p = srv.scenario.project
            if pr.get("id"):
                ok = pr["id"] == p["id"]
            else:
                dom = pr.get("domain") or {}
                ok = pr.get("name") == p["name"] and (
                    dom.get("id") == p["domain"]["id"] or dom.get("name") == p["domain"]["name"])
            if ok:
                return srv.scenario
        raise self._unauthorized(req)

    def _catalog(self, base: str, info: dict) -> list[dict]:
        """The token's catalog: every region serving its project, one Keystone (this one)."""
        pid = info["scenario"].project_id
        by_type: dict[str, dict] = {}
        for srv in self._scope_servers():
            if srv.scenario.project_id != pid:
                continue
            url = base if srv is self else srv.url
            for entry in V.catalog(url, srv.scenario, info["exclude"]):
                if entry["type"] == "identity":
                    for ep in entry["endpoints"]:
                        ep["url"] = f"{base}/identity"
                known = by_type.setdefault(entry["type"], dict(entry, endpoints=[]))
                known["endpoints"].extend(entry["endpoints"])
        return list(by_type.values())

    def _token_body(self, req: Req, info: dict, with_catalog: bool) -> dict:
        u = info["user"]
        fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
        utc = _dt.timezone.utc
        tok: dict[str, Any] = {
            "methods": info["methods"],
            "user": {"id": u["id"], "name": u["name"], "domain": dict(u["domain"]),
                     "password_expires_at": None},
            "audit_ids": [info["audit_id"]],
            "expires_at": _dt.datetime.fromtimestamp(info["expires"], utc).strftime(fmt),
            "issued_at": _dt.datetime.fromtimestamp(info["issued"], utc).strftime(fmt),
        }
        if info["scoped"]:
            p = info["scenario"].project
            tok["project"] = {"id": p["id"], "name": p["name"], "domain": dict(p["domain"])}
            tok["is_domain"] = False
            tok["roles"] = V.role_refs(info["roles"])
            if with_catalog:
                tok["catalog"] = self._catalog(req.base, info)
        if info["app_cred"] is not None:
            a = info["app_cred"]
            tok["application_credential"] = {"id": a["id"], "name": a["name"],
                                             "restricted": not a["unrestricted"]}
        return {"token": tok}

    # ==========================================================================
    # nova
    def _mv(self, req: Req, key: str, legacy: str | None, lo: tuple[int, int],
            hi: tuple[int, int]) -> tuple[int, int]:
        value = None
        h = req.headers.get("OpenStack-API-Version")
        if h:
            for part in h.split(","):
                svc, _, ver = part.strip().partition(" ")
                if svc.strip().lower() == key:
                    value = ver.strip()
        if value is None and legacy:
            value = req.headers.get(legacy)
        if value is None or value == "":
            return lo
        if value.lower() == "latest":
            return hi
        m = re.fullmatch(r"(\d+)\.(\d+)", value.strip())
        if not m:
            raise self._bad_request(req, f"API Version String {value} is of invalid "
                                         "format. Must be of format MajorNum.MinorNum.")
        v = (int(m.group(1)), int(m.group(2)))
        if not lo <= v <= hi:
            body = {"computeFault": {"code": 406, "message":
                    f"Version {value} is not supported by the API. Minimum is "
                    f"{lo[0]}.{lo[1]} and maximum is {hi[0]}.{hi[1]}."}}
            raise HTTPError(Response(406, body))
        return v

    def _svc_compute(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest in ("", "/v2.1", "/v2")
        sc = self.scenario
        hi = sc.settings["compute_max_microversion"]
        base = req.base
        if rest == "":
            return Response(200, V.compute_versions(base, hi))
        if rest == "/v2.1":
            return Response(200, {"version": V.compute_version_v21(base, hi)})
        if rest == "/v2":
            v2 = V.compute_versions(base, hi)["versions"][0]
            return Response(200, {"version": v2})
        if not rest.startswith("/v2.1/") and not rest.startswith("/v2/"):
            raise self._not_found(req)
        self._auth(req)
        mv = self._mv(req, "compute", "X-OpenStack-Nova-API-Version", (2, 1), hi)
        req.mv = mv
        s = f"{mv[0]}.{mv[1]}"
        req.extra_headers += [("OpenStack-API-Version", f"compute {s}"),
                              ("X-OpenStack-Nova-API-Version", s),
                              ("Vary", "OpenStack-API-Version, X-OpenStack-Nova-API-Version")]
        parts = [p for p in rest.split("/")[2:] if p]
        if parts and parts[0] == sc.project_id:
            parts = parts[1:]
        self._read_only(req)
        assert st is not None
        admin = self._is_admin(req)
        if not parts:
            raise self._not_found(req)
        head = parts[0]
        if head == "servers":
            if len(parts) == 1 or parts[1] == "detail":
                return self._nova_servers(req, st, detail=len(parts) > 1, admin=admin)
            if len(parts) == 2:
                srv = st.servers.get(parts[1])
                if srv is None:
                    raise self._not_found(req, f"Instance {parts[1]} could not be found.")
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
            raise self._not_found(req)
        if head == "flavors":
            if len(parts) == 1 or parts[1] == "detail":
                return self._nova_flavors(req, st, detail=len(parts) > 1)
            fl = sc.flavors_by_key.get(parts[1])
            if fl is None or fl["id"] != parts[1]:
                raise self._not_found(req, f"Flavor {parts[1]} could not be found.")
            if len(parts) == 2:
                return Response(200, {"flavor": V.flavor_view(base, fl, mv)})
            if parts[2] == "os-extra_specs":
                if len(parts) == 3:
                    return Response(200, {"extra_specs": dict(fl["extra_specs"])})
                key = "/".join(parts[3:])
                if key in fl["extra_specs"]:
                    return Response(200, {key: fl["extra_specs"][key]})
                raise self._not_found(req, f"Flavor {fl['id']} has no extra specs with "
                                           f"key {key}.")
            raise self._not_found(req)
        if head == "os-quota-sets" and len(parts) >= 2:
            pid = parts[1]
            if pid != sc.project_id:
                raise self._forbidden(req, "Policy doesn't allow os_compute_api:"
                                           "os-quota-sets:show to be performed.")
            if len(parts) == 2:
                return Response(200, V.compute_quota_set(st, mv, detail=False))
            if parts[2] == "detail":
                return Response(200, V.compute_quota_set(st, mv, detail=True))
            if parts[2] == "defaults":
                body = V.compute_quota_set(st, mv, detail=False)
                from .scenario import COMPUTE_QUOTA_DEFAULTS as D
                for k in body["quota_set"]:
                    if k in D:
                        body["quota_set"][k] = D[k]
                return Response(200, body)
            raise self._not_found(req)
        if head == "limits" and len(parts) == 1:
            return Response(200, V.compute_limits(st, mv))
        if head == "os-availability-zone":
            return Response(200, {"availabilityZoneInfo": [
                {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]})
        raise self._not_found(req)

    def _servers_listing(self, st: State, base: str, detail: bool, mv, admin: bool):
        key = ("servers", detail, mv if detail else None, admin and detail, base)

        def build():
            # nova's default order: created_at desc, id desc
            return sorted(st.servers.values(), key=lambda s: (s["created"], s["id"]),
                          reverse=True)

        if detail:
            return self._listing(st, key, build,
                                 lambda s: V.server_view(base, st, s, mv, admin))
        return self._listing(st, key, build, lambda s: V.server_summary_view(base, s))

    def _nova_servers(self, req: Req, st: State, detail: bool, admin: bool) -> Response:
        base = req.base
        ent = self._servers_listing(st, base, detail, req.mv, admin)
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
        limit = self._limit(req, max_limit, None)
        page, page_no, _more = self._page(req, ent, sel, limit)
        self._expire_check(req, page_no)
        links = []
        if limit and len(page) == limit:
            path = f"{base}/compute/v2.1/servers" + ("/detail" if detail else "")
            links.append({"rel": "next",
                          "href": self._next_href(req, path, ent[2][page[-1]], limit)})
        body = b'{"servers": ' + self._join(ent[1], page)
        if links:
            body += b', "servers_links": ' + json.dumps(links).encode()
        return Response(200, body + b"}")

    def _nova_flavors(self, req: Req, st: State, detail: bool) -> Response:
        base = req.base
        mv = req.mv
        sc = self.scenario
        key = ("flavors", detail, mv, base)

        ent = self._listing(st, key, lambda: sorted(sc.flavors, key=lambda f: f["id"]),
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
        limit = self._limit(req, sc.settings["page_size"]["compute"], None)
        page, page_no, _ = self._page(req, ent, sel, limit)
        self._expire_check(req, page_no)
        body = b'{"flavors": ' + self._join(ent[1], page)
        if limit and len(page) == limit:
            path = f"{base}/compute/v2.1/flavors" + ("/detail" if detail else "")
            links = [{"rel": "next",
                      "href": self._next_href(req, path, ent[2][page[-1]], limit)}]
            body += b', "flavors_links": ' + json.dumps(links).encode()
        return Response(200, body + b"}")

    # ==========================================================================
    # cinder
    def _svc_block_storage(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        sc = self.scenario
        if discovery_check:
            return rest in ("", "/v3", f"/v3/{sc.project_id}")
        hi = sc.settings["volume_max_microversion"]
        base = req.base
        if rest == "":
            return Response(300, {"versions": [V.volume_version_v3(base, hi)]})
        if rest in ("/v3", f"/v3/{sc.project_id}"):
            return Response(200, {"versions": [V.volume_version_v3(base, hi)]})
        if not rest.startswith("/v3/"):
            raise self._not_found(req)
        self._auth(req)
        mv = self._mv(req, "volume", None, (3, 0), hi)
        req.mv = mv
        req.extra_headers += [("OpenStack-API-Version", f"volume {mv[0]}.{mv[1]}"),
                              ("Vary", "OpenStack-API-Version")]
        parts = [p for p in rest.split("/")[2:] if p]
        url_pid = None
        if parts and re.fullmatch(r"[0-9a-f]{32}|[0-9a-f-]{36}", parts[0]):
            url_pid, parts = parts[0], parts[1:]
        if url_pid is not None and url_pid != sc.project_id:
            raise self._forbidden(req, "Policy doesn't allow this operation on another "
                                       "project.")
        self._read_only(req)
        assert st is not None
        admin = self._is_admin(req)
        pref = f"{base}/volume/v3/{url_pid}" if url_pid else f"{base}/volume/v3"
        if not parts:
            raise self._not_found(req)
        head = parts[0]
        if head == "volumes":
            if len(parts) == 1 or parts[1] == "detail":
                return self._cinder_volumes(req, st, len(parts) > 1, admin, pref)
            v = st.volumes.get(parts[1])
            if v is None or len(parts) > 2:
                raise self._not_found(req, f"Volume {parts[1]} could not be found.")
            return Response(200, {"volume": V.volume_view(base, st, v, mv, admin)})
        if head == "types":
            if len(parts) == 1:
                return Response(200, {"volume_types": [V.volume_type_view(t, mv)
                                                       for t in sc.volume_types]})
            t = sc.volume_types_by_key.get(parts[1])
            if t is None or t["id"] != parts[1]:
                raise self._not_found(req, f"Volume type {parts[1]} could not be found.")
            if len(parts) == 2:
                return Response(200, {"volume_type": V.volume_type_view(t, mv)})
            if parts[2] == "extra_specs":
                return Response(200, {"extra_specs": dict(t["extra_specs"])})
            raise self._not_found(req)
        if head == "os-quota-sets" and len(parts) >= 2:
            if parts[1] != sc.project_id:
                raise self._forbidden(req, "Policy doesn't allow volume_extension:quotas:"
                                           "show to be performed.")
            if len(parts) == 3 and parts[2] == "defaults":
                from .scenario import VOLUME_QUOTA_DEFAULTS as D
                body = V.volume_quota_set(st, False)
                for k in body["quota_set"]:
                    if k != "id":
                        body["quota_set"][k] = D.get(k, -1)
                return Response(200, body)
            raw = (req.q("usage") or "false").strip().lower()
            usage = raw in ("1", "t", "true", "on", "y", "yes")
            return Response(200, V.volume_quota_set(st, usage))
        if head == "backups":
            if len(parts) == 1 or parts[1] == "detail":
                return self._cinder_backups(req, st, len(parts) > 1, pref)
            b = st.backups.get(parts[1])
            if b is None or len(parts) > 2:
                raise self._not_found(req, f"Backup {parts[1]} could not be found.")
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
        raise self._not_found(req)

    _CINDER_SKIP = {"limit", "marker", "sort", "sort_key", "sort_dir", "with_count",
                    "all_tenants", "offset", "usage"}

    def _volumes_listing(self, st: State, base: str, detail: bool, mv, admin: bool):
        key = ("volumes", detail, mv, admin, base)

        def build():
            return sorted(st.volumes.values(), key=lambda v: (v["created"], v["id"]),
                          reverse=True)

        if detail:
            return self._listing(st, key, build,
                                 lambda v: V.volume_view(base, st, v, mv, admin))
        return self._listing(st, key, build, lambda v: V.volume_summary_view(base, st, v))

    def _cinder_volumes(self, req, st, detail, admin, pref) -> Response:
        base, mv = req.base, req.mv
        ent = self._volumes_listing(st, base, detail, mv, admin)
        sel = None
        flt = {k: v for k, v in req.query.items() if k not in self._CINDER_SKIP}
        if flt:
            full = self._volumes_listing(st, base, True, mv, admin)
            sel = self._filter(req, full, self._CINDER_SKIP)
        return self._cinder_page(req, ent, sel, "volumes", pref)

    def _cinder_page(self, req, ent, sel, coll, pref) -> Response:
        limit = self._limit(req, self.scenario.settings["page_size"]["block-storage"], None)
        page, page_no, _ = self._page(req, ent, sel, limit)
        self._expire_check(req, page_no)
        body = b'{"' + coll.encode() + b'": ' + self._join(ent[1], page)
        if limit and len(page) == limit:
            sub = req.path.rstrip("/").rsplit("/", 1)[-1]
            path = f"{pref}/{coll}" + ("/detail" if sub == "detail" else "")
            links = [{"rel": "next",
                      "href": self._next_href(req, path, ent[2][page[-1]], limit)}]
            body += b', "' + coll.encode() + b'_links": ' + json.dumps(links).encode()
        if req.mv and req.mv >= (3, 45) and (req.q("with_count") or "").lower() in (
                "true", "1", "yes"):
            total = len(ent[2]) if sel is None else len(sel)
            body += b', "count": ' + str(total).encode()
        return Response(200, body + b"}")

    def _cinder_backups(self, req, st, detail, pref) -> Response:
        base, mv = req.base, req.mv
        key = ("backups", detail, mv, base)

        ent = self._listing(
            st, key, lambda: sorted(st.backups.values(), key=lambda b: (b["created"], b["id"]),
                                    reverse=True),
            lambda b: V.backup_view(base, st, b, mv, detail))
        sel = self._filter(req, ent, self._CINDER_SKIP)
        return self._cinder_page(req, ent, sel, "backups", pref)

    # ==========================================================================
    # neutron
    _NEUTRON_SKIP = {"limit", "marker", "page_reverse", "fields", "sort_key", "sort_dir"}

    def _svc_network(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest == ""
        base = req.base
        if rest == "":
            return Response(200, V.network_versions(base))
        self._auth(req)
        if not (rest == "/v2.0" or rest.startswith("/v2.0/")):
            raise self._not_found(req)
        if rest.endswith(".json"):
            rest = rest[:-5]
        parts = [p for p in rest.split("/")[2:] if p]
        self._read_only(req)
        assert st is not None
        sc = self.scenario
        admin = self._is_admin(req)
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
                    raise self._not_found(req, f"QoS policy {parts[2]} could not be "
                                               "found.", "QosPolicyNotFound")
                rules = [V.qos_rule_view(r, with_meta=False) for r in pol["rules"]
                         if r["type"] == "bandwidth_limit"]
                if len(parts) == 4:
                    sel = self._filter(req, (rules,), self._NEUTRON_SKIP)
                    if sel is not None:
                        rules = [rules[i] for i in sel]
                    return Response(200, {"bandwidth_limit_rules":
                                          self._fields(req, rules)})
                for r in rules:
                    if r["id"] == parts[4]:
                        return Response(200, {"bandwidth_limit_rule": r})
                raise self._not_found(req, f"Bandwidth limit rule {parts[4]} could not be "
                                           "found.", "QosRuleNotFound")
            return self._neutron_list(req, st, "policies", "policy", parts[2:], build,
                                      f"{base}/network/v2.0/qos/policies", ("qos",))
        if head == "vpn" and not sc.settings.get("vpnaas", True):
            raise self._not_found(req)  # no VPNaaS plugin: Neutron knows no /vpn
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
                raise self._forbidden(req, "rule:get_quota is disallowed by policy")
            if len(parts) == 2:
                return Response(200, V.network_quota(st, False))
            if parts[2] == "details":
                return Response(200, V.network_quota(st, True))
            if parts[2] == "default":
                from .scenario import NETWORK_QUOTA_DEFAULTS as D
                return Response(200, {"quota": dict(D)})
            raise self._not_found(req)
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
        raise self._not_found(req)

    def _fields(self, req: Req, items: list[dict]) -> list[dict]:
        fields = req.query.get("fields")
        if not fields:
            return items
        keep = set(fields)
        return [{k: v for k, v in it.items() if k in keep} for it in items]

    def _neutron_list(self, req, st, coll, single, sub, build, path, key) -> Response:
        ent = self._listing(st, ("neutron",) + key + (req.base,),
                            lambda: sorted(build(), key=lambda v: v["id"]))
        if sub:
            n = ent[3].get(sub[0])
            if n is None or len(sub) > 1:
                nice = single.replace("_", " ").title().replace("Ip", "IP")
                raise self._not_found(req, f"{nice} {sub[0]} could not be found.",
                                      single.title().replace("_", "") + "NotFound")
            item = self._fields(req, [ent[0][n]])[0]
            return Response(200, {single: item})
        sel = self._filter(req, ent, self._NEUTRON_SKIP)
        limit = self._limit(req, self.scenario.settings["page_size"]["network"], None)
        page, page_no, more = self._page(req, ent, sel, limit)
        self._expire_check(req, page_no)
        if req.query.get("fields"):
            items = json.dumps(self._fields(req, [ent[0][i] for i in page])).encode()
        else:
            items = self._join(ent[1], page)
        body = b'{"' + coll.encode() + b'": ' + items
        links = []
        if limit is not None and page:
            if more:
                links.append({"rel": "next", "href": self._next_href(
                    req, path, ent[2][page[-1]], limit)})
            if req.q("marker"):
                links.append({"rel": "previous", "href": self._next_href(
                    req, path, ent[2][page[0]], limit, {"page_reverse": "True"})})
        if links:
            body += b', "' + coll.encode() + b'_links": ' + json.dumps(links).encode()
        return Response(200, body + b"}")

    # ==========================================================================
    # octavia
    def _svc_load_balancer(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest in ("", "/v2", "/v2.0")
        base = req.base
        if rest == "":
            return Response(200, V.lb_versions(base))
        if rest in ("/v2", "/v2.0"):
            return Response(200, {"version": V.lb_versions(base)["versions"][-1]})
        m = re.match(r"^/v2(?:\.0)?(/.*)$", rest)
        if not m:
            raise self._not_found(req)
        self._auth(req)
        self._read_only(req)
        assert st is not None
        sc = self.scenario
        parts = [p for p in m.group(1).split("/") if p]
        if len(parts) >= 2 and parts[0] == "lbaas" and parts[1] == "loadbalancers":
            ent = self._listing(st, ("lbs", base), lambda: sorted(
                st.load_balancers.values(), key=lambda x: (x["created"], x["id"])),
                lambda lb: V.lb_view(st, lb))
            if len(parts) >= 3:
                n = ent[3].get(parts[2])
                if n is None:
                    raise self._not_found(req, f"Load Balancer {parts[2]} not found.")
                if len(parts) == 3:
                    return Response(200, {"loadbalancer": ent[0][n]})
                if parts[3] == "status":
                    lb = ent[0][n]
                    return Response(200, {"statuses": {"loadbalancer": {
                        "id": lb["id"], "name": lb["name"], "listeners": [],
                        "provisioning_status": lb["provisioning_status"],
                        "operating_status": lb["operating_status"]}}})
                raise self._not_found(req)
            sel = self._filter(req, ent, self._NEUTRON_SKIP)
            limit = self._limit(req, sc.settings["page_size"]["load-balancer"], None)
            page, page_no, more = self._page(req, ent, sel, limit)
            self._expire_check(req, page_no)
            if req.query.get("fields"):
                items = json.dumps(self._fields(req, [ent[0][i] for i in page])).encode()
            else:
                items = self._join(ent[1], page)
            links = []
            path = f"{base}/load-balancer/v2/lbaas/loadbalancers"
            if limit is not None and page:
                if more:
                    links.append({"rel": "next", "href": self._next_href(
                        req, path, ent[2][page[-1]], limit)})
                if req.q("marker"):
                    links.append({"rel": "previous", "href": self._next_href(
                        req, path, ent[2][page[0]], limit, {"page_reverse": "True"})})
            return Response(200, b'{"loadbalancers": ' + items +
                            b', "loadbalancers_links": ' + json.dumps(links).encode() + b"}")
        if len(parts) >= 2 and parts[0] == "lbaas" and parts[1] == "quotas":
            if len(parts) == 2:
                q = V.lb_quota(st)["quota"]
                return Response(200, {"quotas": [q], "quotas_links": []})
            if parts[2] == "defaults":
                from .scenario import LB_QUOTA_DEFAULTS as D
                q = dict(D, loadbalancer=D["load_balancer"], healthmonitor=D["health_monitor"])
                return Response(200, {"quota": q})
            if parts[2] != sc.project_id:
                raise self._forbidden(req, "Policy does not allow this request to be "
                                           "performed.")
            return Response(200, V.lb_quota(st))
        raise self._not_found(req)

    # ==========================================================================
    # swift
    def _svc_object_store(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest == "/info"
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
            raise self._not_found(req)
        self._auth(req)
        assert st is not None
        if m.group(1) != f"AUTH_{sc.project_id}":
            raise self._forbidden(req, "Access was denied to this resource.")
        if req.method not in ("GET", "HEAD"):
            raise self._forbidden(req, "Access was denied to this resource.")
        acct = st.object_store
        ts = "1762000000.00000"
        if m.group(2):
            c = next((c for c in acct["containers"] if c["name"] == m.group(2)), None)
            if c is None:
                raise self._not_found(req)
            hdrs = [("X-Container-Bytes-Used", str(c["bytes"])),
                    ("X-Container-Object-Count", str(c["count"])),
                    ("X-Timestamp", ts), ("X-Put-Timestamp", ts),
                    ("X-Storage-Policy", "Policy-0"), ("Accept-Ranges", "bytes"),
                    ("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT"),
                    ("X-Trans-Id", "tx" + secrets.token_hex(11))]
            # objects are not simulated: an empty listing
            if req.method == "HEAD":
                return Response(204, b"", "text/plain; charset=utf-8", hdrs)
            if self._wants_json(req):
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
            raise self._bad_request(req, "Invalid limit") from None
        sel = [c for c in cs if c["name"] > marker and c["name"].startswith(prefix)]
        sel = sel[:limit]
        if not sel:
            return Response(204, b"", "text/plain; charset=utf-8", hdrs)
        if self._wants_json(req):
            return Response(200, json.dumps(sel).encode(),
                            "application/json; charset=utf-8", hdrs)
        return Response(200, ("\n".join(c["name"] for c in sel) + "\n").encode(),
                        "text/plain; charset=utf-8", hdrs)

    @staticmethod
    def _wants_json(req: Req) -> bool:
        fmt = (req.q("format") or "").lower()
        return fmt == "json" or (not fmt and "application/json" in
                                 (req.headers.get("Accept") or ""))

    # ==========================================================================
    # glance
    _GLANCE_SKIP = {"limit", "marker", "sort", "sort_key", "sort_dir", "member_status"}

    def _svc_image(self, req: Req, st: State | None, discovery_check: bool = False):
        rest = req.rest.rstrip("/")
        if discovery_check:
            return rest in ("", "/versions")
        base = req.base
        if rest == "":
            return Response(300, V.image_versions(base))
        if rest == "/versions":
            return Response(200, V.image_versions(base))
        if not rest.startswith("/v2/") and rest != "/v2":
            raise self._not_found(req)
        self._auth(req)
        self._read_only(req)
        assert st is not None
        parts = [p for p in rest.split("/")[2:] if p]
        if parts and parts[0] == "images":
            ent = self._listing(st, ("images",), lambda: sorted(
                st.images.values(), key=lambda im: (im["created_at"], im["id"]),
                reverse=True), V.image_view)
            if len(parts) >= 2:
                n = ent[3].get(parts[1])
                if n is None or len(parts) > 2:
                    raise self._not_found(req, f"No image found with ID {parts[1]}")
                return Response(200, ent[1][n])
            sel = self._filter(req, ent, self._GLANCE_SKIP)
            size = self.scenario.settings["page_size"]["image"] or 25
            limit = self._limit(req, 1000, size)
            page, page_no, _ = self._page(req, ent, sel, limit)
            self._expire_check(req, page_no)
            body = b'{"images": ' + self._join(ent[1], page)
            body += b', "first": "/v2/images", "schema": "/v2/schemas/images"'
            if limit and len(page) == limit:
                params = [(k, v) for k, vs in req.query.items()
                          if k not in ("marker", "limit") for v in vs]
                params += [("marker", ent[2][page[-1]]), ("limit", str(limit))]
                nxt = "/v2/images?" + urllib.parse.urlencode(params)
                body += b', "next": ' + json.dumps(nxt).encode()
            return Response(200, body + b"}")
        if parts == ["schemas", "image"] or parts == ["schemas", "images"]:
            return Response(200, {"name": parts[1], "properties": {},
                                  "additionalProperties": {"type": "string"}})
        raise self._not_found(req)


# ---------------------------------------------------------------------------


def clouds_yaml(sim: SimServer, cloud_name: str = "recon-sim", auth: str = "password",
                user: str | None = None, application_credential: str | None = None) -> dict:
    """A clouds.yaml dict (``{"clouds": {name: {...}}}``) that reaches ``sim``.

    ``auth`` is ``"password"`` (the scenario's first user, or ``user``) or
    ``"application_credential"`` (its first application credential, or the
    one named ``application_credential``).
    """
    sc = sim.scenario
    cloud: dict[str, Any] = {
        "region_name": sc.region,
        "interface": "public",
        "identity_api_version": 3,
    }
    if auth == "password":
        u = sc.user(user)
        cloud["auth_type"] = "password"
        cloud["auth"] = {
            "auth_url": sim.auth_url,
            "username": u["name"],
            "password": u["password"],
            "user_domain_name": u["domain"]["name"],
            "project_name": sc.project["name"],
            "project_domain_name": sc.project["domain"]["name"],
        }
    elif auth in ("application_credential", "v3applicationcredential"):
        a = sc.app_cred(application_credential)
        cloud["auth_type"] = "v3applicationcredential"
        cloud["auth"] = {
            "auth_url": sim.auth_url,
            "application_credential_id": a["id"],
            "application_credential_secret": a["secret"],
        }
    else:
        raise ValueError(f"unknown auth {auth!r}; use 'password' or "
                         "'application_credential'")
    return {"clouds": {cloud_name: cloud}}
