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
fault spec, see :mod:`recon.sim.scenario`); see :mod:`recon.sim.admin`.

This module is the plumbing every service shares: the HTTP server, routing by
prefix, request counts and log, tokens (issued, validated, expired by a
fault), the catalog, the day's cached listings, and fault injection.  Each
service's routes are in :mod:`recon.sim.services`, its bodies in
:mod:`recon.sim.views` (version documents in :mod:`recon.sim.versions`), its
error shapes in :mod:`recon.sim.errors`.
"""
from __future__ import annotations

import collections
import datetime as _dt
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
from typing import Any, Callable

from . import admin, services
from . import views as V
from .errors import fault_response, forbidden, unauthorized
from .paging import Listing
from .scenario import Scenario, State, load_scenario, parse_fault, parse_today
from .wire import JSON, HTTPError, Req, Response

__all__ = ["SimServer", "clouds_yaml"]

#: path prefix -> service type, in the order the root document lists them
_PREFIX_SERVICE = {svc.prefix: svc.name for svc in services.ALL}


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
    # headers and body go out as two writes: with Nagle's algorithm the body of a small
    # answer waited for the client's delayed ACK of the headers, 40 ms per call (a quota,
    # a version document; 200 calls of limit=1 took 8.4 s)
    disable_nagle_algorithm = True

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
        #: service type -> its route handlers, bound to this server
        self._services = {svc.name: svc(self) for svc in services.ALL}

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

    def scope_servers(self) -> list["SimServer"]:
        """This server and the scopes behind its Keystone (:meth:`add_scope`)."""
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
                compute = self._services["compute"]
                volumes = self._services["block-storage"]
                ents = [compute.servers_listing(st, base, True,
                                                sc.settings["compute_max_microversion"], False),
                        volumes.volumes_listing(st, base, True,
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

    def live_token(self, tok: str | None) -> dict | None:
        """The record of token ``tok``, or None if there is none or it has expired."""
        with self._lock:
            info = self._tokens.get(tok or "")
        if info is None or info["expires"] <= time.time():
            return None
        return info

    def drop_token(self, tok: str) -> None:
        with self._lock:
            self._tokens.pop(tok, None)

    @property
    def token_count(self) -> int:
        with self._lock:
            return len(self._tokens)

    def auth(self, req: Req, scoped: bool = True) -> dict:
        """The request's token record (401 without a live token, 403 if it must be
        scoped to a project and is not); kept on ``req.token``."""
        info = self.live_token(req.headers.get("X-Auth-Token"))
        if info is None:
            raise unauthorized(req)
        if scoped and not info["scoped"]:
            raise forbidden(req, "Token is not scoped to a project.")
        req.token = info
        return info

    def expire_check(self, req: Req, page_no: int) -> None:
        """A ``token_expiry`` fault: the token in use dies at page ``page_no`` of a list."""
        for f in req.faults:
            if f["kind"] == "token_expiry" and f["page"] == page_no and self._take(f):
                self.drop_token(req.headers.get("X-Auth-Token") or "")
                raise unauthorized(req)

    def catalog(self, base: str, info: dict) -> list[dict]:
        """The token's catalog: every region serving its project, one Keystone (this one)."""
        pid = info["scenario"].project_id
        by_type: dict[str, dict] = {}
        for srv in self.scope_servers():
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

    # -- listings --------------------------------------------------------------------
    def listing(self, st: State, key: tuple, build: Callable[[], list[dict]],
                view: Callable[[dict], dict] | None = None) -> Listing:
        """The ordered records of one list call for this day, viewed and JSON-encoded
        lazily, once per item (cached on the day's state)."""
        ent = st.cache.get(key)
        if ent is None:
            with self._build_lock:
                ent = st.cache.get(key)
                if ent is None:
                    ent = Listing(build(), view)
                    st.cache[key] = ent
        return ent

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
        if resp.status == 200 and resp.ctype == JSON and req.method == "GET":
            for f in req.faults:
                if f["kind"] == "malformed_json" and self._take(f):
                    resp.body = resp.body[: max(1, len(resp.body) // 2)]
                    break

    def _dispatch(self, req: Req) -> Response:
        path = req.path
        if path.startswith("/_sim"):
            with self._lock:
                self._counts["_sim"] += 1
            return admin.answer(self, req)
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
        service = self._services[svc]
        discovery = service.is_discovery(req)
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
                return fault_response(svc, f)
        st = self.scenario.state_at(today)
        return service.handle(req, st)


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
