"""What every simulated service shares: its place behind the router, and request checks.

A service is routed by its path ``prefix`` and named by its catalog type
(``name``, also what fault specs say).  It reaches the server only through the
``sim`` it was made with -- token validation, the scenario, the day's cached
listings, token-expiry faults -- so the service modules never import the
server, and the server imports them to route.
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import bad_request, forbidden
from ..scenario import State
from ..wire import HTTPError, Req, Response


class Service:
    """One OpenStack service on the simulator's port."""

    #: the catalog type (``block-storage``), as fault specs and the request log name it
    name = ""
    #: the path segment it is served under (``volume``)
    prefix = ""

    def __init__(self, sim: Any):
        # the SimServer; not imported here (it imports the services)
        self.sim = sim

    @property
    def scenario(self):
        """The scenario served, read on each request (tests change its settings live)."""
        return self.sim.scenario

    def is_discovery(self, req: Req) -> bool:
        """Whether ``req`` asks for a version document (faults spare those by default)."""
        raise NotImplementedError

    def handle(self, req: Req, st: State) -> Response:
        """The answer to ``req`` from the tenant's state ``st`` of the simulated day."""
        raise NotImplementedError


def is_admin(req: Req) -> bool:
    """Whether the token holds ``admin``: the admin-only fields (hosts, ...) are shown then."""
    return bool(req.token and "admin" in req.token["roles"])


def read_only(req: Req) -> None:
    """Refuse writes: recon only reads, and a simulator that accepted them would lie."""
    if req.method not in ("GET", "HEAD"):
        raise forbidden(req, "The simulator is read-only: "
                             f"{req.method} is not allowed here.")


def microversion(req: Req, key: str, legacy: str | None, lo: tuple[int, int],
                 hi: tuple[int, int]) -> tuple[int, int]:
    """The microversion ``req`` asks of service ``key`` (``compute``, ``volume``).

    From ``OpenStack-API-Version`` (or the ``legacy`` header); none means the
    minimum ``lo``, ``latest`` the maximum ``hi``; out of range is a 406, as
    Nova and Cinder answer it.
    """
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
        raise bad_request(req, f"API Version String {value} is of invalid "
                               "format. Must be of format MajorNum.MinorNum.")
    v = (int(m.group(1)), int(m.group(2)))
    if not lo <= v <= hi:
        body = {"computeFault": {"code": 406, "message":
                f"Version {value} is not supported by the API. Minimum is "
                f"{lo[0]}.{lo[1]} and maximum is {hi[0]}.{hi[1]}."}}
        raise HTTPError(Response(406, body))
    return v
