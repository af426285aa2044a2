"""Reading a scenario file: YAML to a validated :class:`~recon.sim.scenario.model.Scenario`.

Parsing is kept apart from the State it describes: this module checks the
file's keys and values and builds the static definitions; the timeline's
references are resolved by a dry run of the State to the last day, so every
error surfaces at load time, naming the file and the key.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import re
from typing import Any

import yaml

from .checks import Err, as_int, as_list, as_str, as_strmap, check_keys, parse_date
from .ids import derived_hex, derived_uuid
from .model import Scenario
from .records import merge_object_store, merge_quotas, parse_image
from .terms import PAGE_SIZE_DEFAULTS, QUOTA_DEFAULTS, canonical_service
from .timeline import parse_event

try:  # libyaml is ~10x faster on large generated scenarios
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def load_scenario(path: Any) -> Scenario:
    """Load and validate a scenario YAML file (raises ValueError on bad input).

    A file with ``scopes`` is several; this is its first (:func:`load_scenarios`
    gives them all).
    """
    return load_scenarios(path)[0]


def load_scenarios(path: Any) -> list[Scenario]:
    """Every scope of a scenario file ("Several regions and projects" in :mod:`recon.sim.scenario`).

    A file without ``scopes`` is one scope.  Raises ValueError naming the file
    and the scope on bad input.
    """
    p = str(path)
    try:
        with open(p, "rb") as fh:
            data = yaml.load(fh, Loader=_Loader)
    except FileNotFoundError:
        raise ValueError(f"{p}: file not found") from None
    except yaml.YAMLError as e:
        raise ValueError(f"{p}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        return [parse_scenario(data, p)]
    data = dict(data)
    extra = data.pop("scopes", None) or []
    if not isinstance(extra, list) or not all(isinstance(e, dict) for e in extra):
        raise ValueError(f"{p}: scopes: a list of tables of top-level keys")
    out = [parse_scenario(data, p)]
    seen = {(out[0].region, out[0].project["name"])}
    for n, over in enumerate(extra):
        sc = parse_scenario(dict(data, **over), f"{p} scopes[{n}]")
        key = (sc.region, sc.project["name"])
        if key in seen:
            raise ValueError(f"{p}: scopes[{n}]: region {key[0]!r} project {key[1]!r} "
                             "is served twice")
        seen.add(key)
        out.append(sc)
    return out


def parse_scenario(data: Any, path: str = "<scenario>") -> Scenario:
    """Validate a scenario already parsed into Python objects."""
    err = Err(path)
    top_keys = {"today", "region", "project", "users", "application_credentials",
                "flavors", "volume_types", "images", "external_network",
                "tenant_network", "quotas", "object_store", "settings", "timeline",
                "description", "name"}
    if data is None:
        raise err("project", "the file is empty")
    check_keys(err, "<top>", data, top_keys, ("project",))

    # project ---------------------------------------------------------------
    pr = check_keys(err, "project", data["project"],
                    {"id", "name", "domain", "description"}, ("name",))
    dom = pr.get("domain", {"id": "default", "name": "Default"})
    if isinstance(dom, str):
        dom = {"id": dom.lower() if dom == "Default" else derived_hex("domain", dom),
               "name": dom}
    check_keys(err, "project.domain", dom, {"id", "name"})
    dom = {"id": str(dom.get("id") or derived_hex("domain", dom.get("name"))),
           "name": str(dom.get("name") or dom.get("id"))}
    project = {
        "id": as_str(err, "project.id", pr.get("id") or derived_hex("project", pr["name"])),
        "name": as_str(err, "project.name", pr["name"]),
        "domain": dom,
        "description": str(pr.get("description") or ""),
    }
    pid = project["id"]
    region = str(data.get("region") or "RegionOne")

    # users ------------------------------------------------------------------
    users = []
    for i, u in enumerate(as_list(err, "users", data.get("users"))):
        k = f"users[{i}]"
        check_keys(err, k, u, {"name", "id", "password", "roles", "email",
                               "domain"}, ("name", "password"))
        roles = [str(r) for r in as_list(err, f"{k}.roles", u.get("roles", ["member"]))]
        users.append({
            "name": str(u["name"]),
            "id": str(u.get("id") or derived_hex(pid, "user", u["name"])),
            "password": str(u["password"]),
            "roles": roles,
            "domain": dom,
            "email": u.get("email"),
        })
    by_user = {}
    for u in users:
        by_user[u["name"]] = u
        by_user[u["id"]] = u

    app_creds = []
    for i, a in enumerate(as_list(err, "application_credentials",
                                  data.get("application_credentials"))):
        k = f"application_credentials[{i}]"
        check_keys(err, k, a, {"id", "name", "secret", "user", "roles",
                               "description", "unrestricted", "expires_at"},
                   ("name", "secret", "user"))
        owner = by_user.get(str(a["user"]))
        if owner is None:
            raise err(f"{k}.user", f"unknown user {a['user']!r}")
        roles = [str(r) for r in as_list(err, f"{k}.roles",
                                         a.get("roles", owner["roles"]))]
        bad = [r for r in roles if r not in owner["roles"]]
        if bad:
            raise err(f"{k}.roles", f"user {owner['name']!r} does not hold role {bad[0]!r}")
        app_creds.append({
            "id": str(a.get("id") or derived_hex(pid, "appcred", a["name"])),
            "name": str(a["name"]),
            "secret": str(a["secret"]),
            "user": owner,
            "roles": roles,
            "description": a.get("description"),
            "unrestricted": bool(a.get("unrestricted", False)),
        })

    # flavors ------------------------------------------------------------------
    flavors = []
    seen = set()
    for i, f in enumerate(as_list(err, "flavors", data.get("flavors"))):
        k = f"flavors[{i}]"
        check_keys(err, k, f, {"name", "id", "vcpus", "ram", "disk", "ephemeral",
                               "swap", "is_public", "description", "extra_specs",
                               "rxtx_factor", "disabled"},
                   ("name", "vcpus", "ram"))
        fl = {
            "name": str(f["name"]),
            "id": str(f.get("id") or derived_uuid(pid, "flavor", f["name"])),
            "vcpus": as_int(err, f"{k}.vcpus", f["vcpus"], 0),
            "ram": as_int(err, f"{k}.ram", f["ram"], 0),
            "disk": as_int(err, f"{k}.disk", f.get("disk", 0), 0),
            "ephemeral": as_int(err, f"{k}.ephemeral", f.get("ephemeral", 0), 0),
            "swap": as_int(err, f"{k}.swap", f.get("swap", 0), 0),
            "is_public": bool(f.get("is_public", True)),
            "disabled": bool(f.get("disabled", False)),
            "description": f.get("description"),
            "rxtx_factor": float(f.get("rxtx_factor", 1.0)),
            "extra_specs": as_strmap(err, f"{k}.extra_specs", f.get("extra_specs")),
        }
        if fl["name"] in seen or fl["id"] in seen:
            raise err(f"{k}.name", f"duplicate flavor {fl['name']!r}")
        seen.update((fl["name"], fl["id"]))
        specs = fl["extra_specs"]
        # what the flavor counts towards cores/ram quota usage
        fl["quota_vcpus"] = _spec_override(specs, "resources:VCPU", fl["vcpus"])
        fl["quota_ram"] = _spec_override(specs, "resources:MEMORY_MB", fl["ram"])
        flavors.append(fl)

    # volume types -------------------------------------------------------------
    volume_types = []
    seen = set()
    for i, t in enumerate(as_list(err, "volume_types", data.get("volume_types"))):
        k = f"volume_types[{i}]"
        if isinstance(t, str):
            t = {"name": t}
        check_keys(err, k, t, {"name", "id", "description", "extra_specs",
                               "is_public", "qos_specs_id"}, ("name",))
        vt = {
            "name": str(t["name"]),
            "id": str(t.get("id") or derived_uuid(pid, "volume_type", t["name"])),
            "description": t.get("description"),
            "extra_specs": as_strmap(err, f"{k}.extra_specs", t.get("extra_specs")),
            "is_public": bool(t.get("is_public", True)),
            "qos_specs_id": t.get("qos_specs_id"),
        }
        if vt["name"] in seen:
            raise err(f"{k}.name", f"duplicate volume type {vt['name']!r}")
        seen.add(vt["name"])
        volume_types.append(vt)
    if not volume_types:
        volume_types.append({"name": "__DEFAULT__", "id": derived_uuid(pid, "volume_type",
                                                                       "__DEFAULT__"),
                             "description": "Default Volume Type", "extra_specs": {},
                             "is_public": True, "qos_specs_id": None})

    # images -------------------------------------------------------------------
    images = []
    for i, im in enumerate(as_list(err, "images", data.get("images"))):
        images.append(parse_image(err, f"images[{i}]", im, pid, None))

    # networks -----------------------------------------------------------------
    ext = data.get("external_network") or {}
    check_keys(err, "external_network", ext, {"name", "id", "cidr", "subnet_id"})
    tnet = data.get("tenant_network") or {}
    check_keys(err, "tenant_network", tnet, {"name", "id", "cidr", "subnet_id"})
    external_network = _parse_net(err, "external_network", ext, pid, "public",
                                  "203.0.113.0/24")
    tenant_network = _parse_net(err, "tenant_network", tnet, pid,
                                f"{project['name']}-net", "10.0.0.0/16")

    # quotas -------------------------------------------------------------------
    vt_names = [t["name"] for t in volume_types]
    quotas = {svc: dict(d) for svc, d in QUOTA_DEFAULTS.items()}
    for t in vt_names:
        for base in ("volumes", "gigabytes", "snapshots"):
            quotas["block-storage"][f"{base}_{t}"] = -1
    if data.get("quotas") is not None:
        merge_quotas(err, "quotas", quotas, data["quotas"], vt_names)

    # object store --------------------------------------------------------------
    object_store = {"bytes_used": 0, "object_count": 0, "container_count": 0,
                    "quota_bytes": None, "containers": None}
    if data.get("object_store") is not None:
        merge_object_store(err, "object_store", object_store, data["object_store"])

    # settings -----------------------------------------------------------------
    st = data.get("settings") or {}
    check_keys(err, "settings", st, {"token_ttl", "page_size",
                                     "compute_max_microversion",
                                     "volume_max_microversion", "vpnaas"})
    page_size = dict(PAGE_SIZE_DEFAULTS)
    for svc, n in (st.get("page_size") or {}).items():
        try:
            c = canonical_service(svc)
        except ValueError as e:
            raise err(f"settings.page_size.{svc}", str(e)) from None
        page_size[c] = as_int(err, f"settings.page_size.{svc}", n, 0)
    settings = {
        "token_ttl": as_int(err, "settings.token_ttl", st.get("token_ttl", 3600), 1),
        "page_size": page_size,
        "compute_max_microversion": _mv(err, "settings.compute_max_microversion",
                                        st.get("compute_max_microversion", "2.96"), 2),
        "volume_max_microversion": _mv(err, "settings.volume_max_microversion",
                                       st.get("volume_max_microversion", "3.70"), 3),
        "vpnaas": bool(st.get("vpnaas", True)),
    }

    default_today = (parse_date(err, "today", data["today"])
                     if data.get("today") is not None else None)

    # timeline -----------------------------------------------------------------
    events = []
    for i, ev in enumerate(as_list(err, "timeline", data.get("timeline"))):
        events.append(parse_event(err, f"timeline[{i}]", i, ev, pid, vt_names))
    events.sort(key=lambda e: (e.date, e.index))

    sc = Scenario(
        path=path, project=project, region=region, users=users,
        app_creds=app_creds, flavors=flavors, volume_types=volume_types,
        images=images, external_network=external_network,
        tenant_network=tenant_network, quotas=quotas, object_store=object_store,
        events=events, settings=settings, default_today=default_today, raw=data,
    )
    # Dry run of the whole timeline: resolves every reference (flavors,
    # images, servers to attach to, ...) so errors surface at load time.
    if events:
        sc.state_at(sc.last_date)
    else:
        sc.state_at(sc.default_today or _dt.date.today())
    return sc


def _spec_override(specs: dict[str, str], key: str, default: int) -> int:
    v = specs.get(key)
    if v is None:
        return default
    try:
        return int(v)
    except ValueError:
        return default


def _mv(err: Err, key: str, v: Any, major: int) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)\.(\d+)", str(v).strip())
    if not m or int(m.group(1)) != major:
        raise err(key, f"expected a microversion like {major}.NN, got {v!r}")
    return (int(m.group(1)), int(m.group(2)))


def _parse_net(err: Err, key: str, d: dict, pid: str, name: str, cidr: str) -> dict:
    nm = str(d.get("name") or name)
    try:
        net = ipaddress.ip_network(str(d.get("cidr") or cidr), strict=False)
    except ValueError as e:
        raise err(f"{key}.cidr", str(e)) from None
    if net.version != 4 or net.num_addresses < 8:
        raise err(f"{key}.cidr", "need an IPv4 network of at least /29")
    return {
        "name": nm,
        "id": str(d.get("id") or derived_uuid(pid, "network", key, nm)),
        "subnet_id": str(d.get("subnet_id") or derived_uuid(pid, "subnet", key, nm)),
        "cidr": str(net),
        "net": net,
    }
