"""Configuration: one TOML file (recon.toml), overridable by flags and env.

Precedence: command-line flag > environment (RECON_DB, OS_CLOUD) > the file >
built-in defaults.  Relative paths in the file are relative to the file's
folder, so a config and its contract files travel together.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from recon.data import BUNDLED_CONFIG, CATALOG, CATALOG_FILES, CONFIG_DIR
from recon.errors import ConfigError

#: [store] lock_wait_seconds when the file does not say: how long anything waits for the store
LOCK_WAIT_SECONDS = 60.0


@dataclass
class Config:
    path: Path
    contract_number: str
    contract_title: str
    agency: str
    provider: str
    signed: date
    months: int
    total: Decimal
    items_path: Path
    amendments_path: Path | None
    db_path: Path
    lock_wait: float
    out_dir: Path
    idle_below: Decimal
    cloud: str
    mapping_path: Path
    timeout: float
    retries: int
    exports_dir: Path | None
    #: how many days old a console export may be and still stand for the night
    export_max_age_days: int = 1
    #: wall-clock seconds each OpenStack source may take, retries included, before it is
    #: unavailable for the night ([openstack] budget_seconds)
    budget: float = 300.0
    #: where db_path came from, for messages: RECON_DB or the file's [store] path
    db_source: str = "[store] path"
    penalty_basis: str = "contract"
    #: [scaling] penalty_coefficient, an older recon.toml's copy of 附件3 row 4's coefficient:
    #: not read for the penalty (assessment.toml is the one place), only held against it
    penalty_coefficient: Decimal | None = None
    #: working days for years chinese-calendar lacks (recon.calendar)
    calendar_file: Path | None = None
    extra: dict = field(default_factory=dict)
    #: [openstack] scopes: several (cloud, region, project) pulled as one tenant; empty: the
    #: single ``cloud`` form (one scope, the sources keep their plain names)
    scopes: list["Scope"] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """One part of the tenant: a clouds.yaml entry, optionally in another region or project.

    ``mapping`` is the scope's own mapping.toml where the provider names things
    differently there (None: the configuration's one mapping).  ``services``
    limits the services pulled there (a GPU region without Swift or Octavia):
    a service a region does not offer is then not called, rather than failing
    the items it feeds every night (None: every service the contract needs).
    """
    cloud: str
    region: str | None = None
    project: str | None = None
    mapping: Path | None = None
    services: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        """What a source name carries after ``@``: ``GPU-Region/bjwjw-ai``."""
        return f"{self.region or '-'}/{self.project or '-'}"


def _scopes(o: dict, path: Path, rel) -> list[Scope]:
    """``[openstack] scopes``, checked: each names a cloud, no scope twice."""
    raw = o.get("scopes")
    if raw is None:
        return []
    where = _where(path, "openstack", "scopes")
    if not isinstance(raw, list) or not raw or not all(isinstance(r, dict) for r in raw):
        raise ConfigError(f"{where}: scopes must be a non-empty list of tables like "
                          "{cloud = \"provider\", region = \"RegionOne\", project = \"p\"}")
    if o.get("cloud"):
        raise ConfigError(f"{where}: give either cloud or scopes, not both")
    out, seen = [], set()
    for n, row in enumerate(raw, 1):
        for key in ("cloud", "region", "project", "mapping"):
            if key in row and (not isinstance(row[key], str) or not row[key].strip()):
                raise ConfigError(f"{where}: scope {n}: {key} must be a non-empty string")
        if not row.get("cloud"):
            raise ConfigError(f"{where}: scope {n}: missing key 'cloud'")
        services = row.get("services")
        if services is not None and (not isinstance(services, list) or not services or
                                     not all(isinstance(x, str) for x in services)):
            raise ConfigError(f"{where}: scope {n}: services must be a non-empty list of "
                              "service names like [\"compute\", \"image\"]")
        scope = Scope(row["cloud"], row.get("region"), row.get("project"),
                      rel(row["mapping"]) if row.get("mapping") else None,
                      tuple(services) if services is not None else None)
        key = (scope.cloud, scope.region, scope.project)
        if key in seen:
            raise ConfigError(f"{where}: scope {n} ({scope.cloud} {scope.label}) is listed "
                              "twice: it would be counted twice")
        seen.add(key)
        out.append(scope)
    return out


#: in a schema: a table whose keys are the user's own names (volume types, aliases ...)
ANY_KEYS = "any keys"

#: every table and key recon.toml may have: anything else is a typo, and a typo silently
#: ignored is a setting that silently does not apply (exit 3 naming the closest key)
SCHEMA: dict = {
    "contract": dict.fromkeys(("number", "title", "agency", "provider", "signed", "months",
                               "total", "items", "amendments")),
    "store": dict.fromkeys(("path", "lock_wait_seconds")),
    "report": dict.fromkeys(("out", "idle_below")),
    "openstack": dict(dict.fromkeys(("cloud", "mapping", "timeout_seconds", "retries",
                                      "budget_seconds")),
                      scopes=dict.fromkeys(("cloud", "region", "project", "mapping",
                                                           "services"))),
    "exports": dict.fromkeys(("dir", "max_age_days")),
    "scaling": dict.fromkeys(("penalty_basis", "penalty_coefficient")),
    "assessment": dict.fromkeys(("file",)),
    "calendar": dict.fromkeys(("file",)),
    # checked where it is read (recon.notify.load_settings), channel by channel
    "notify": ANY_KEYS,
}



def check_keys(path: Path, raw: dict, schema: dict, table: str = "") -> None:
    """Raise ConfigError for the first key ``schema`` does not declare.

    A schema maps each known key to None (a value), to a dict (a table, or an
    array of tables whose rows have those keys) or to :data:`ANY_KEYS`.  The
    message names the file, the line when it can be found, the table, the key
    and the closest known key.
    """
    for key, value in raw.items():
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else \
                f" (known: {', '.join(sorted(schema))})"
            what = f"unknown key {key!r}" if table else f"unknown table [{key}]"
            raise ConfigError(f"{_where(path, table, key)}: {what}{hint}")
        sub = schema[key]
        if isinstance(sub, dict):
            name = f"{table}.{key}" if table else key
            rows = value if isinstance(value, list) else [value]
            for row in rows:
                if isinstance(row, dict):
                    check_keys(path, row, sub, name)


def _where(path: Path, table: str, key: str) -> str:
    """``FILE:LINE [table]`` for a key, the line found by reading the file (best effort)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    full = f"{table}.{key}" if table else key
    sub = re.compile(r"^\s*\[\[?\s*" + re.escape(full) + r"\s*[\].]")
    own = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]")
    assign = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    line, inside = None, not table
    for n, text in enumerate(lines, 1):
        if re.match(r"^\s*\[", text):
            if sub.match(text):
                line = n
                break
            inside = bool(table and own.match(text))
        elif inside and assign.match(text):
            line = n
            break
    where = f"{path}:{line}" if line else str(path)
    return f"{where} [{table}]" if table else where


def _get(table: dict, key: str, kind, where: str, default=None):
    value = table.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing key {key!r}")
    try:
        return kind(value)
    except (TypeError, ValueError, ArithmeticError):
        raise ConfigError(f"{where}: key {key!r} has a bad value {value!r}") from None


def _budget(openstack: dict, path: Path) -> float:
    value = openstack.get("budget_seconds", 300)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 86400:
        raise ConfigError(f"{path} [openstack]: budget_seconds must be a number of seconds "
                          f"above 0 (default 300), got {value!r}")
    return float(value)


def _max_age(exports: dict, path: Path) -> int:
    value = exports.get("max_age_days", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{path} [exports]: max_age_days must be a whole number of days "
                          f"(0 or more), got {value!r}")
    return value


def read_toml(path: Path, what: str) -> dict:
    """A TOML file (BOM tolerated), or a ConfigError naming it and the problem."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the {what} file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def config_path(path: str | os.PathLike | None = None) -> Path:
    """The recon.toml to use: ``--config``, else RECON_CONFIG, else ./recon.toml.

    No fallback to the bundled configuration: a real run outside its folder
    would reconcile the demo setup and write a store inside the install tree.
    """
    if path or os.environ.get("RECON_CONFIG"):
        return Path(path or os.environ["RECON_CONFIG"])
    if Path("recon.toml").exists():
        return Path("recon.toml")
    raise ConfigError(f"no recon.toml in {Path.cwd()} and no --config or RECON_CONFIG: "
                      "start one with `recon init DIR` (it writes recon.toml, the contract "
                      "files and mapping.toml), then run recon in DIR")


def load_config(path: str | os.PathLike | None = None) -> Config:
    path = config_path(path)
    raw = read_toml(path, "configuration")
    check_keys(path, raw, SCHEMA)
    base = path.resolve().parent

    def rel(value) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    def catalog(value) -> Path:
        # the bundled configuration reads the one catalog (the checkout's top level, or the
        # wheel's copy of it); a folder `recon init` wrote has its own copy beside recon.toml
        if path.resolve() == BUNDLED_CONFIG.resolve() and not Path(value).is_absolute():
            return CATALOG / value
        return rel(value)

    c, s, r = raw.get("contract", {}), raw.get("store", {}), raw.get("report", {})
    o, e = raw.get("openstack", {}), raw.get("exports", {})
    sc = raw.get("scaling", {})
    cal = raw.get("calendar", {})
    if sc.get("penalty_basis", "contract") not in ("contract", "item"):
        raise ConfigError(f"{path} [scaling]: penalty_basis must be 'contract' or 'item'")
    signed = c.get("signed")
    if not isinstance(signed, date):
        raise ConfigError(f"{path} [contract]: 'signed' must be a date like 2026-07-10")
    amendments = c.get("amendments")
    return Config(
        path=path,
        contract_number=str(c.get("number", "")),
        contract_title=str(c.get("title", "")),
        agency=str(c.get("agency", "")),
        provider=str(c.get("provider", "")),
        signed=signed,
        months=_get(c, "months", int, f"{path} [contract]", 12),
        total=_get(c, "total", Decimal, f"{path} [contract]"),
        items_path=catalog(_get(c, "items", str, f"{path} [contract]")),
        amendments_path=catalog(amendments) if amendments else None,
        db_path=(Path(os.environ["RECON_DB"]) if os.environ.get("RECON_DB")
                 else rel(s.get("path", "recon.duckdb"))),
        lock_wait=_get(s, "lock_wait_seconds", float, f"{path} [store]", LOCK_WAIT_SECONDS),
        out_dir=rel(r.get("out", "out")),
        idle_below=_get(r, "idle_below", Decimal, f"{path} [report]", "0.30"),
        cloud=str(os.environ.get("OS_CLOUD") or o.get("cloud", "")),
        mapping_path=rel(o.get("mapping", "mapping.toml")),
        timeout=_get(o, "timeout_seconds", float, f"{path} [openstack]", 30),
        retries=_get(o, "retries", int, f"{path} [openstack]", 3),
        budget=_budget(o, path),
        exports_dir=rel(e["dir"]) if e.get("dir") else None,
        export_max_age_days=_max_age(e, path),
        db_source="RECON_DB" if os.environ.get("RECON_DB") else f"{path} [store] path",
        penalty_basis=sc.get("penalty_basis", "contract"),
        penalty_coefficient=_get(sc, "penalty_coefficient", Decimal, f"{path} [scaling]")
        if "penalty_coefficient" in sc else None,
        calendar_file=rel(cal["file"]) if cal.get("file") else None,
        extra=raw,
        scopes=_scopes(o, path, rel),
    )


def store_path(config: Config, flag: str | os.PathLike | None = None) -> Path:
    """The store a command uses (``--db`` beats RECON_DB beats the file), checked.

    Its folder must exist: a mistyped ``--db`` must not create a fresh, empty
    store somewhere and report a night against it.
    """
    path, source = (Path(flag), "--db") if flag else (config.db_path, config.db_source)
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"{source} {path}: the folder {folder} does not exist "
                          "(create it, or fix the path)")
    return path


def init_folder(folder: str | os.PathLike) -> list[Path]:
    """Start a recon folder: the bundled recon.toml (commented), contract files, mapping.

    Plus an empty ``exports/`` for the console downloads.  It overwrites
    nothing: a folder that already has one of these files is someone's
    configuration (exit 3 naming the file, nothing written).
    """
    folder = Path(folder)
    files = sorted([p for p in CONFIG_DIR.iterdir() if p.is_file()]
                   + [CATALOG / name for name in CATALOG_FILES])
    targets = [folder / p.name for p in files] + [folder / "exports"]
    for target in targets:
        if target.exists():
            raise ConfigError(f"{target}: already exists; `recon init` overwrites nothing "
                              "(pick an empty folder, or edit the files there)")
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for src in files:
        shutil.copyfile(src, folder / src.name)
    (folder / "exports").mkdir()
    return targets
