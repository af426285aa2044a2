"""Keystone v3: tokens (password, application credential, token), the catalog's
reads, and the project, user and application-credential reads a reader may make.

Token records and the catalog belong to the server (one Keystone serves every
scope added with :meth:`~recon.sim.server.SimServer.add_scope`); this module
checks credentials and scopes and writes Keystone's bodies.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from .. import views as V
from ..errors import bad_request, forbidden, not_found, unauthorized
from ..scenario import Scenario, State
from ..versions import identity_version, identity_versions
from ..wire import Req, Response
from .base import Service


class Identity(Service):
    name = "identity"
    prefix = "identity"

    def is_discovery(self, req: Req) -> bool:
        return req.rest.rstrip("/") in ("", "/v3")

    def handle(self, req: Req, st: State) -> Response:
        rest = req.rest.rstrip("/")
        base = req.base
        if rest == "":
            return Response(300, identity_versions(base),
                            headers=[("Location", f"{base}/identity/v3/")])
        if rest == "/v3":
            return Response(200, identity_version(base))
        if rest == "/v3/auth/tokens":
            if req.method == "POST":
                return self._issue(req)
            self.sim.auth(req, scoped=False)
            subj = self.sim.live_token(req.headers.get("X-Subject-Token"))
            if subj is None:
                raise not_found(req, "Could not find token.")
            if req.method == "DELETE":
                self.sim.drop_token(subj["id"])
                return Response(204, b"")
            body = self._token_body(req, subj, "nocatalog" not in req.query)
            return Response(200, body, headers=[("X-Subject-Token", subj["id"])])
        info = self.sim.auth(req, scoped=False)
        sc = self.scenario
        if rest == "/v3/auth/catalog":
            return Response(200, {"catalog": self.sim.catalog(base, info),
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
            raise forbidden(req, "You are not authorized to perform the requested "
                                 "action.")
        raise not_found(req)

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
            raise bad_request(req, "Expecting to find identity in auth. The server "
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
                raise unauthorized(req)
            if scope:
                raise unauthorized(req)
            user, roles, scoped, target = app_cred["user"], app_cred["roles"], True, None
        elif "password" in methods:
            pu = (ident.get("password") or {}).get("user") or {}
            for u in sc.users:
                if self._match_user(pu, u):
                    user = u
                    break
            if user is None or pu.get("password") != user["password"]:
                raise unauthorized(req)
            roles, scoped = user["roles"], False
            target = None
            if scope:
                target = self._check_scope(req, scope)
                scoped = True
            if scoped and not roles:
                raise unauthorized(req)
        elif "token" in methods:
            old = self.sim.live_token((ident.get("token") or {}).get("id"))
            if old is None:
                raise unauthorized(req)
            user, roles, app_cred = old["user"], old["roles"], old["app_cred"]
            scoped, target = old["scoped"], old["scenario"]
            if scope:
                target = self._check_scope(req, scope)
                scoped = True
        else:
            raise unauthorized(req)
        tok, info = self.sim.issue_token(user, roles, methods, app_cred, scoped, target)
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
            raise unauthorized(req)
        for srv in self.sim.scope_servers():
            p = srv.scenario.project
            if pr.get("id"):
                ok = pr["id"] == p["id"]
            else:
                dom = pr.get("domain") or {}
                ok = pr.get("name") == p["name"] and (
                    dom.get("id") == p["domain"]["id"] or dom.get("name") == p["domain"]["name"])
            if ok:
                return srv.scenario
        raise unauthorized(req)

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
                tok["catalog"] = self.sim.catalog(req.base, info)
        if info["app_cred"] is not None:
            a = info["app_cred"]
            tok["application_credential"] = {"id": a["id"], "name": a["name"],
                                             "restricted": not a["unrestricted"]}
        return {"token": tok}
