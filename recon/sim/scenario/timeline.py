"""Timeline events: what happens to the tenant on a date.

An event is parsed (its keys and shapes checked) when the file is loaded; the
names it refers to (a flavor, a server to attach to) are resolved as the State
of a day is built, which :func:`~recon.sim.scenario.parse.parse_scenario`
does once for the last day so that every error surfaces at load time.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

from .checks import Err, as_int, as_list, check_keys, parse_date
from .faults import parse_fault
from .records import IMAGE_KEYS, merge_object_store, merge_quotas
from .terms import QUOTA_DEFAULTS, RESOURCE_KINDS


@dataclass
class Event:
    """One entry of the timeline, checked but with its names not yet resolved.

    ``index`` is its place in the file (events of one date apply in file
    order); ``key`` names it in error messages; ``faults`` are in force from
    ``date`` to ``until``.
    """

    date: _dt.date
    until: _dt.date
    index: int
    key: str  # "timeline[3]" for error messages
    time: _dt.time
    create: dict[str, list[dict]] = field(default_factory=dict)
    delete: dict[str, list[dict]] = field(default_factory=dict)
    update: dict[str, list[dict]] = field(default_factory=dict)
    quotas: dict[str, dict[str, int]] = field(default_factory=dict)
    object_store: dict[str, Any] = field(default_factory=dict)
    faults: list[dict] = field(default_factory=list)
    note: str = ""


# -- resource templates -------------------------------------------------------

_COMMON = {"name", "count", "start", "id", "created_at", "description"}
_KIND_KEYS = {
    "servers": _COMMON | {"flavor", "image", "boot_volume", "volumes", "status",
                          "metadata", "availability_zone", "key_name",
                          "floating_ip", "tags", "locked", "user"},
    "volumes": _COMMON | {"size", "type", "server", "status", "bootable", "image",
                          "metadata", "availability_zone", "multiattach",
                          "encrypted", "device"},
    "backups": _COMMON | {"volume", "size", "status", "incremental",
                          "object_count", "container", "availability_zone"},
    "floating_ips": _COMMON | {"server", "qos_policy", "address", "status",
                               "dns_name"},
    "qos_policies": _COMMON | {"rules", "shared", "is_default", "project_id"},
    "routers": _COMMON | {"external_gateway", "status", "admin_state_up",
                          "routes"},
    "ipsec_site_connections": _COMMON | {"peer_address", "peer_id", "peer_cidrs",
                                         "status", "mtu", "psk", "initiator",
                                         "router", "admin_state_up"},
    "load_balancers": _COMMON | {"provider", "flavor_id", "provisioning_status",
                                 "operating_status", "vip_address", "listeners",
                                 "pools", "availability_zone", "tags",
                                 "floating_ip"},
    "images": IMAGE_KEYS | {"count", "start"},
}
_UPDATABLE = {
    "servers": {"status", "metadata", "name", "description", "locked", "tags"},
    "volumes": {"status", "size", "metadata", "name", "description"},
    "backups": {"status", "name", "description"},
    "floating_ips": {"status", "description", "qos_policy"},
    "qos_policies": {"rules", "name", "description"},
    "routers": {"status", "admin_state_up", "external_gateway", "name"},
    "ipsec_site_connections": {"status", "name", "peer_address", "peer_cidrs"},
    "load_balancers": {"provisioning_status", "operating_status", "name",
                       "description"},
    "images": {"status", "properties", "name", "visibility", "tags"},
}


def parse_event(err: Err, k: str, index: int, ev: Any, pid: str,
                vt_names: list[str]) -> Event:
    check_keys(err, k, ev, {"date", "until", "time", "note", "create", "delete",
                            "update", "quotas", "object_store", "faults"},
               ("date",))
    d = parse_date(err, f"{k}.date", ev["date"])
    until = parse_date(err, f"{k}.until", ev["until"]) if ev.get("until") else d
    if until < d:
        raise err(f"{k}.until", "is before date")
    t = ev.get("time", "02:00:00")
    if isinstance(t, int):  # YAML 1.1 sexagesimal: 02:00:00 -> 7200
        t = _dt.time(t // 3600 % 24, t // 60 % 60, t % 60)
    else:
        try:
            t = _dt.time.fromisoformat(str(t))
        except ValueError:
            raise err(f"{k}.time", f"not a time (HH:MM:SS): {t!r}") from None
    event = Event(date=d, until=until, index=index, key=k, time=t,
                  note=str(ev.get("note") or ""))
    for section in ("create", "delete", "update"):
        spec = ev.get(section)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise err(f"{k}.{section}", "expected a mapping of kind: [...]")
        for kind, items in spec.items():
            kk = f"{k}.{section}.{kind}"
            if kind not in _KIND_KEYS:
                raise err(kk, f"unknown resource kind; expected one of "
                          f"{', '.join(RESOURCE_KINDS)}")
            items = as_list(err, kk, items)
            parsed = []
            for j, it in enumerate(items):
                ik = f"{kk}[{j}]"
                if section == "create":
                    check_keys(err, ik, it, _KIND_KEYS[kind])
                    if kind in ("servers", "volumes", "load_balancers", "routers",
                                "qos_policies", "ipsec_site_connections",
                                "images") and not it.get("name"):
                        if kind not in ("volumes",):
                            raise err(f"{ik}.name", "required key is missing")
                    n = as_int(err, f"{ik}.count", it.get("count", 1), 0)
                    start = as_int(err, f"{ik}.start", it.get("start", 1))
                    name = str(it.get("name", ""))
                    try:
                        name.format(n=start, i=0)
                    except (KeyError, IndexError, ValueError) as e:
                        raise err(f"{ik}.name", f"bad name pattern: {e}") from None
                    if n > 1 and it.get("id"):
                        raise err(f"{ik}.id", "an explicit id needs count: 1")
                    parsed.append(dict(it, _key=ik, _count=n, _start=start))
                elif section == "delete":
                    if isinstance(it, str):
                        it = {"match": it}
                    check_keys(err, ik, it, {"match", "count", "id"})
                    if not it.get("match") and not it.get("id"):
                        raise err(f"{ik}.match", "required key is missing")
                    parsed.append({
                        "match": None if it.get("match") is None else str(it["match"]),
                        "id": it.get("id"),
                        "count": (None if it.get("count") is None else
                                  as_int(err, f"{ik}.count", it["count"], 1)),
                        "_key": ik})
                else:  # update
                    check_keys(err, ik, it, {"match", "id", "set", "count"}, ("set",))
                    if not it.get("match") and not it.get("id"):
                        raise err(f"{ik}.match", "required key is missing")
                    sets = it["set"]
                    if not isinstance(sets, dict):
                        raise err(f"{ik}.set", "expected a mapping")
                    bad = sorted(set(sets) - _UPDATABLE[kind])
                    if bad:
                        raise err(f"{ik}.set.{bad[0]}",
                                  f"cannot be updated; one of "
                                  f"{', '.join(sorted(_UPDATABLE[kind]))}")
                    parsed.append({
                        "match": None if it.get("match") is None else str(it["match"]),
                        "id": it.get("id"),
                        "count": (None if it.get("count") is None else
                                  as_int(err, f"{ik}.count", it["count"], 1)),
                        "set": sets, "_key": ik})
            getattr(event, section)[kind] = parsed
    if ev.get("quotas") is not None:
        q: dict[str, dict[str, int]] = {svc: {} for svc in QUOTA_DEFAULTS}
        merge_quotas(err, f"{k}.quotas", q, ev["quotas"], vt_names)
        event.quotas = {s: v for s, v in q.items() if v}
    if ev.get("object_store") is not None:
        acct: dict[str, Any] = {}
        merge_object_store(err, f"{k}.object_store", acct, ev["object_store"])
        event.object_store = acct
    for j, f in enumerate(as_list(err, f"{k}.faults", ev.get("faults"))):
        event.faults.append(parse_fault(f, err, f"{k}.faults[{j}]"))
    return event
