"""The parsed scenario: static definitions, a timeline, and the State of any day.

States are built on demand by replaying the timeline up to the day asked for,
and the last few are kept (a night asks for the same day many times).
"""
from __future__ import annotations

import copy
import datetime as _dt
import threading
from dataclasses import dataclass, field
from typing import Any

from .checks import parse_today
from .state import State
from .timeline import Event


@dataclass
class Scenario:
    """A scenario file, checked: what :func:`~recon.sim.scenario.parse.parse_scenario` returns.

    The static definitions are as the file gives them (defaults filled in);
    the timeline is :attr:`events`; :meth:`state_at` is the tenant on a day.
    """

    path: str
    project: dict
    region: str
    users: list[dict]
    app_creds: list[dict]
    flavors: list[dict]
    volume_types: list[dict]
    images: list[dict]
    external_network: dict
    tenant_network: dict
    quotas: dict[str, dict[str, int]]
    object_store: dict
    events: list[Event]
    settings: dict
    default_today: _dt.date | None
    raw: dict = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.flavors_by_key = {}
        for f in self.flavors:
            self.flavors_by_key[f["name"]] = f
            self.flavors_by_key[f["id"]] = f
        self.volume_types_by_key = {}
        for t in self.volume_types:
            self.volume_types_by_key[t["name"]] = t
            self.volume_types_by_key[t["id"]] = t
        self._state_cache: dict[_dt.date, State] = {}
        self._state_lock = threading.Lock()

    # -- convenience ---------------------------------------------------------
    @property
    def project_id(self) -> str:
        return self.project["id"]

    @property
    def first_date(self) -> _dt.date | None:
        return min((e.date for e in self.events), default=None)

    @property
    def last_date(self) -> _dt.date | None:
        return max((e.until for e in self.events), default=None)

    def user(self, name_or_id: str | None = None) -> dict:
        if not self.users:
            raise ValueError(f"{self.path}: users: the scenario defines no user")
        if name_or_id is None:
            return self.users[0]
        for u in self.users:
            if name_or_id in (u["name"], u["id"]):
                return u
        raise ValueError(f"{self.path}: users: no user {name_or_id!r}")

    def app_cred(self, name_or_id: str | None = None) -> dict:
        if not self.app_creds:
            raise ValueError(
                f"{self.path}: application_credentials: the scenario defines none")
        if name_or_id is None:
            return self.app_creds[0]
        for a in self.app_creds:
            if name_or_id in (a["name"], a["id"]):
                return a
        raise ValueError(
            f"{self.path}: application_credentials: none named {name_or_id!r}")

    def resolve_today(self, today: Any = None) -> _dt.date:
        if today is not None:
            return parse_today(today)
        if self.default_today is not None:
            return self.default_today
        return _dt.date.today()

    def faults_on(self, today: _dt.date) -> list[dict]:
        """Scenario faults active on ``today`` (fresh copies)."""
        out = []
        for ev in self.events:
            if ev.faults and ev.date <= today <= ev.until:
                out.extend(copy.deepcopy(ev.faults))
        return out

    def state_at(self, today: Any) -> "State":
        """The tenant as it is on ``today`` (cached; treat as read-only)."""
        today = parse_today(today)
        st = self._state_cache.get(today)
        if st is None:
            with self._state_lock:
                st = self._state_cache.get(today)
                if st is None:
                    st = State(self, today)
                    for ev in self.events:
                        if ev.date > today:
                            break
                        st.apply(ev)
                    st.finish()
                    if len(self._state_cache) >= 8:
                        self._state_cache.pop(next(iter(self._state_cache)))
                    self._state_cache[today] = st
        return st
