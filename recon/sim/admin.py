"""The simulator's own endpoints: ``/_sim/...``, no token needed.

Tests and the demo steer a running simulator through these: which day it
serves (``/_sim/today``), the faults in force (``/_sim/faults``), the request
log and counts (``/_sim/requests``), dropping every token (``/_sim/tokens``),
and a summary of the state served (``/_sim/state``).  They call the same
methods a Python caller would on the :class:`~recon.sim.server.SimServer`.
"""
from __future__ import annotations

from typing import Any

from .wire import Req, Response


def answer(sim: Any, req: Req) -> Response:
    """The answer to a ``/_sim/...`` request (counted by the server, never faulted)."""
    p = req.path.rstrip("/")
    if p in ("/_sim", "/_sim/state"):
        st = sim.state()
        return Response(200, {"today": sim.today.isoformat(),
                              "scenario": sim.scenario.path,
                              "project": {k: sim.scenario.project[k]
                                          for k in ("id", "name")},
                              "faults": _public_faults(sim),
                              "request_count": sim.request_count,
                              "tokens": sim.token_count,
                              "state": st.summary()})
    if p == "/_sim/today":
        if req.method == "GET":
            return Response(200, {"today": sim.today.isoformat()})
        if req.method in ("POST", "PUT"):
            body = req.json()
            val = body.get("date") or body.get("today") if isinstance(body, dict) else None
            try:
                d = sim.set_today(val)
            except ValueError as e:
                return Response(400, {"error": str(e)})
            return Response(200, {"today": d.isoformat()})
    if p == "/_sim/faults":
        if req.method == "GET":
            return Response(200, {"faults": _public_faults(sim)})
        if req.method == "POST":
            body = req.json()
            specs = body if isinstance(body, list) else [body]
            out = []
            try:
                for s in specs:
                    if not isinstance(s, dict):
                        raise ValueError("a fault is a JSON object")
                    s = dict(s)
                    out.append(sim.set_fault(s.pop("service", None) or "",
                                             s.pop("kind", None) or "", **s))
            except (ValueError, TypeError) as e:
                return Response(400, {"error": str(e)})
            return Response(201, {"faults": out})
        if req.method == "DELETE":
            sim.clear_faults()
            return Response(204, b"")
    if p == "/_sim/tokens" and req.method == "DELETE":
        sim.revoke_tokens()
        return Response(204, b"")
    if p == "/_sim/requests":
        if req.method == "DELETE":
            sim.reset_counts()
            return Response(204, b"")
        return Response(200, {"request_count": sim.request_count,
                              "requests": list(sim.requests)[-200:]})
    return Response(404, {"error": f"no admin endpoint {req.method} {req.path}"})


def _public_faults(sim: Any) -> list[dict]:
    """The faults in force, without the keys a spec left unset."""
    return [{k: v for k, v in f.items() if v is not None} for f in sim.faults()]
