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
    #: [[contract.follow_on]]: the contracts after this one (第十三条 2), in file order
    follow_on: list["FollowOn"] = field(default_factory=list)


@dataclass(frozen=True)
class FollowOn:
    """A follow-on contract declared in ``[[contract.follow_on]]`` (paths resolved).

    The first contract stays ``[contract]``, so a recon.toml written before a
    follow-on existed reads unchanged; ``mapping`` is the follow-on's own
    mapping.toml where its items are numbered differently (None: the
    configuration's mapping, checked against the follow-on's items).
    """
    number: str
    title: str
    agency: str
    provider: str
    signed: date
    months: int
    total: Decimal
    items_path: Path
    amendments_path: Path | None
    mapping_path: Path | None
    #: "FILE:LINE [[contract.follow_on]] #N", for messages about this contract
    at: str


def _follow_on(c: dict, path: Path, rel) -> list[FollowOn]:
    """``[[contract.follow_on]]`` (each row checked by :data:`SCHEMA`): no number twice."""
    decl = SCHEMA["contract"]["follow_on"]
    out, seen = [], {c.get("number", "")}
    for n, row in enumerate(c.get("follow_on") or []):
        at = where(path, "contract.follow_on", "number", n)

        def key(name):
            return get(row, name, decl[name], at)

        if key("number") in seen:
            raise ConfigError(f"{at}: contract number {key('number')!r} is already used: "
                              "every contract in the store needs its own number")
        seen.add(key("number"))
        amendments, mapping = key("amendments"), key("mapping")
        out.append(FollowOn(key("number"), key("title"), key("agency") or c.get("agency", ""),
                            key("provider") or c.get("provider", ""), key("signed"),
                            key("months"), key("total"), rel(key("items")),
                            rel(amendments) if amendments else None,
                            rel(mapping) if mapping else None, at))
    return out


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
    """``[openstack] scopes`` (each row checked by :data:`SCHEMA`): no scope twice."""
    raw = o.get("scopes")
    if raw is None:
        return []
    at = where(path, "openstack", "scopes")
    if o.get("cloud"):
        raise ConfigError(f"{at}: give either cloud or scopes, not both")
    decl = SCHEMA["openstack"]["scopes"]
    out, seen = [], set()
    for n, row in enumerate(raw, 1):
        if not row.get("cloud"):
            raise ConfigError(f"{at}: scope {n}: missing key 'cloud'")
        services = row.get("services")
        if services is not None and not services:
            raise ConfigError(f"{at}: scope {n}: services must be a non-empty list of "
                              "service names like [\"compute\", \"image\"]")
        mapping = get(row, "mapping", decl["mapping"])
        scope = Scope(row["cloud"], get(row, "region", decl["region"]),
                      get(row, "project", decl["project"]), rel(mapping) if mapping else None,
                      tuple(services) if services is not None else None)
        key = (scope.cloud, scope.region, scope.project)
        if key in seen:
            raise ConfigError(f"{at}: scope {n} ({scope.cloud} {scope.label}) is listed "
                              "twice: it would be counted twice")
        seen.add(key)
        out.append(scope)
    return out


#: in a schema: a table whose keys are the user's own names (volume types, aliases ...)
ANY_KEYS = "any keys"
#: a Key's default when the key must be given
REQUIRED = object()


@dataclass(frozen=True)
class Key:
    """One key of a configuration file, declared once: its type, default, range and clause.

    ``kind`` is ``str``, ``int``, ``float``, ``Decimal`` (a number as a string or an
    integer: "0.9999", 15), ``bool``, ``date`` or ``list`` (of strings).  ``low`` and
    ``high`` bound a number inclusively, ``above`` exclusively; ``choices`` lists the
    values a string may take.  :func:`check_keys` holds every key of a file to its
    declaration at load (exit 3 naming file, line and key); :func:`get` reads it.
    """
    kind: type
    default: object = REQUIRED
    low: object = None
    high: object = None
    above: object = None
    choices: tuple = ()
    #: the contract clause the value comes from (assessment.toml)
    clause: str = ""
    #: a string that must not be empty
    nonempty: bool = False

    def problem(self, value) -> str | None:
        """Why ``value`` is not what this key takes, or None."""
        kind = self.kind
        if kind is bool:
            return None if isinstance(value, bool) else "must be true or false"
        if kind is str:
            if not isinstance(value, str):
                return "must be a string in quotes"
            if self.nonempty and not value.strip():
                return "must not be empty"
            if self.choices and value not in self.choices:
                return "must be one of " + ", ".join(repr(c) for c in self.choices)
            return None
        if kind is date:
            return None if type(value) is date else "must be a date like 2026-07-10"
        if kind is list:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            return None if ok else 'must be a list of strings like ["a", "b"]'
        if isinstance(value, bool):
            return f"must be {self._what()}"
        if kind is int and not isinstance(value, int):
            return f"must be {self._what()}"
        if kind is float and not isinstance(value, (int, float)):
            return f"must be {self._what()}"
        if kind is Decimal and not isinstance(value, (int, float, str)):
            return f"must be {self._what()}"
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            return f"must be {self._what()}"
        if not number.is_finite():
            return f"must be {self._what()}"
        for bound, bad, words in ((self.low, lambda b: number < b, "at least"),
                                  (self.high, lambda b: number > b, "at most"),
                                  (self.above, lambda b: number <= b, "above")):
            if bound is not None and bad(Decimal(str(bound))):
                return f"must be {words} {bound}"
        return None

    def _what(self) -> str:
        return {int: "a whole number", float: "a number",
                Decimal: 'a number (like "0.30" or 15)'}[self.kind]


def _leaf(path: Path, table: str, key: str, decl: Key, value, index: int | None) -> None:
    why = decl.problem(value)
    if why:
        raise ConfigError(f"{where(path, table, key, index)}: {key} {why}, got {value!r}")


def typed(decl: Key, value):
    """A checked value as its kind (a Decimal from "0.30"); None stays None."""
    if value is None:
        return None
    if decl.kind is Decimal:
        return Decimal(str(value).strip())
    if decl.kind is float:
        return float(value)
    return value


def get(table: dict, key: str, decl: Key, at: str = ""):
    """A key of a checked table, as its kind; its default when absent (ConfigError naming
    ``at`` when it has none)."""
    if key in table:
        return typed(decl, table[key])
    if decl.default is REQUIRED:
        raise ConfigError(f"{at}: missing key {key!r}")
    return typed(decl, decl.default)


class Rows(dict):
    """In a schema: an array of tables ([[name]] or a list of inline tables) with these keys."""


#: every table and key recon.toml may have, each with its type, default and range: anything
#: else is a typo, and a typo silently ignored is a setting that silently does not apply
#: (exit 3 naming the closest key); a value of the wrong type or out of range stops the run
#: at load (exit 3 naming file, line and key), never a traceback halfway through the night
SCHEMA: dict = {
    "contract": {
        "number": Key(str, ""), "title": Key(str, ""), "agency": Key(str, ""),
        "provider": Key(str, ""),
        "signed": Key(date),
        #: the term in months (第五条: 12)
        "months": Key(int, 12, low=1, high=120),
        #: the total the contract writes (第七条)
        "total": Key(Decimal, above=0, high=Decimal(10) ** 12),
        "items": Key(str, nonempty=True),
        "amendments": Key(str, None),
        #: 第十三条 2: contracts that follow this one in the same store, each with its own
        #: number, term, total and items (agency and provider default to this contract's)
        "follow_on": Rows(number=Key(str, nonempty=True), title=Key(str, ""),
                          agency=Key(str, ""), provider=Key(str, ""), signed=Key(date),
                          months=Key(int, 12, low=1, high=120),
                          total=Key(Decimal, above=0, high=Decimal(10) ** 12),
                          items=Key(str, nonempty=True), amendments=Key(str, None),
                          mapping=Key(str, None, nonempty=True)),
    },
    "store": {
        "path": Key(str, "recon.duckdb", nonempty=True),
        "lock_wait_seconds": Key(float, LOCK_WAIT_SECONDS, low=0, high=86400),
    },
    "report": {
        "out": Key(str, "out", nonempty=True),
        #: utilisation below this share of the allocation is idle capacity
        "idle_below": Key(Decimal, "0.30", low=0, high=1),
    },
    "openstack": {
        "cloud": Key(str, ""),
        "mapping": Key(str, "mapping.toml", nonempty=True),
        "timeout_seconds": Key(float, 30, above=0, high=3600),
        "retries": Key(int, 3, low=0, high=20),
        #: each source's wall-clock budget: past it, the source is unavailable for the night
        "budget_seconds": Key(float, 300, above=0, high=86400),
        "scopes": Rows(cloud=Key(str, nonempty=True), region=Key(str, None, nonempty=True),
                       project=Key(str, None, nonempty=True),
                       mapping=Key(str, None, nonempty=True), services=Key(list, None)),
    },
    "exports": {
        "dir": Key(str, None),
        #: how many days old a console export may be and still stand for the night
        "max_age_days": Key(int, 1, low=0, high=366),
    },
    "scaling": {
        "penalty_basis": Key(str, "contract", choices=("contract", "item")),
        "penalty_coefficient": Key(Decimal, None, low=0, high=10),
    },
    "assessment": {"file": Key(str, None, nonempty=True)},
    "calendar": {"file": Key(str, None, nonempty=True)},
    #: the final payment's planned date (第七条; recon finance schedule reads it)
    "payments": {"final_planned": Key(date, None)},
    # checked where it is read (recon.notify.load_settings), channel by channel
    "notify": ANY_KEYS,
}


def check_keys(path: Path, raw: dict, schema: dict, table: str = "",
               index: int | None = None) -> None:
    """Raise ConfigError for the first key ``schema`` does not declare or whose value its
    declaration refuses.

    A schema maps each known key to a :class:`Key` (a value), to a dict (a table), to a
    :class:`Rows` (an array of tables whose rows have those keys) or to :data:`ANY_KEYS`
    (a table of the user's own names).  The message names the file, the line when it can
    be found, the table, the key and the closest known key.
    """
    for key, value in raw.items():
        if key not in schema:
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else \
                f" (known: {', '.join(sorted(schema))})"
            what = f"unknown key {key!r}" if table else f"unknown table [{key}]"
            raise ConfigError(f"{where(path, table, key, index)}: {what}{hint}")
        sub = schema[key]
        name = f"{table}.{key}" if table else key
        if isinstance(sub, Key):
            _leaf(path, table, key, sub, value, index)
        elif isinstance(sub, Rows):
            if not isinstance(value, list) or not value or \
                    not all(isinstance(r, dict) for r in value):
                raise ConfigError(f"{where(path, table, key, index)}: {key} must be a list of "
                                  f"tables ([[{name}]]), got {value!r}")
            for n, row in enumerate(value):
                check_keys(path, row, sub, name, n)
        elif not isinstance(value, dict):
            raise ConfigError(f"{where(path, table, key, index)}: "
                              f"{'[' + name + ']' if not table else key} must be a table "
                              f"([{name}]), got {value!r}")
        elif isinstance(sub, dict):
            check_keys(path, value, sub, name)


def where(path: Path, table: str, key: str, index: int | None = None) -> str:
    """``FILE:LINE [table]`` for a key, the line found by reading the file (best effort).

    ``index``: the row of an array of tables ([[table]]) the key is in, from 0.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    full = f"{table}.{key}" if table else key
    sub = re.compile(r"^\s*\[\[?\s*" + re.escape(full) + r"\s*[\].]")
    own = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]")
    assign = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    line, inside, seen = None, not table, -1
    for n, text in enumerate(lines, 1):
        if re.match(r"^\s*\[", text):
            if sub.match(text) and index is None:
                line = n
                break
            inside = bool(table and own.match(text))
            if inside:
                seen += 1
                inside = index is None or seen == index
                if inside and index is not None and line is None:
                    line = n       # the row's own header, if the key is not found in it
        elif inside and assign.match(text):
            line = n
            break
    text = f"{path}:{line}" if line else str(path)
    if table and index is not None:
        return f"{text} [[{table}]] #{index + 1}"
    return f"{text} [{table}]" if table else text


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

    tables = {name: raw.get(name, {}) for name in SCHEMA if SCHEMA[name] is not ANY_KEYS}

    def setting(table: str, key: str):
        decl = SCHEMA[table][key]
        if key not in tables[table] and decl.default is REQUIRED:
            raise ConfigError(f"{where(path, table, table)}: missing key {key!r}")
        return get(tables[table], key, decl)

    amendments = setting("contract", "amendments")
    exports_dir = setting("exports", "dir")
    calendar_file = setting("calendar", "file")
    from_env = bool(os.environ.get("RECON_DB"))
    return Config(
        path=path,
        contract_number=setting("contract", "number"),
        contract_title=setting("contract", "title"),
        agency=setting("contract", "agency"),
        provider=setting("contract", "provider"),
        signed=setting("contract", "signed"),
        months=setting("contract", "months"),
        total=setting("contract", "total"),
        items_path=catalog(setting("contract", "items")),
        amendments_path=catalog(amendments) if amendments else None,
        db_path=Path(os.environ["RECON_DB"]) if from_env else rel(setting("store", "path")),
        lock_wait=setting("store", "lock_wait_seconds"),
        out_dir=rel(setting("report", "out")),
        idle_below=setting("report", "idle_below"),
        cloud=str(os.environ.get("OS_CLOUD") or setting("openstack", "cloud")),
        mapping_path=rel(setting("openstack", "mapping")),
        timeout=setting("openstack", "timeout_seconds"),
        retries=setting("openstack", "retries"),
        budget=setting("openstack", "budget_seconds"),
        exports_dir=rel(exports_dir) if exports_dir else None,
        export_max_age_days=setting("exports", "max_age_days"),
        db_source="RECON_DB" if from_env else f"{path} [store] path",
        penalty_basis=setting("scaling", "penalty_basis"),
        penalty_coefficient=setting("scaling", "penalty_coefficient"),
        calendar_file=rel(calendar_file) if calendar_file else None,
        extra=raw,
        scopes=_scopes(tables["openstack"], path, rel),
        follow_on=_follow_on(tables["contract"], path, rel),
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
