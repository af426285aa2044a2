"""Configuration: one TOML file (recon.toml), overridable by flags and env.

Precedence: command-line flag > environment (RECON_DB, OS_CLOUD) > the file >
built-in defaults.  Relative paths in the file are relative to the file's
folder, so a config and its contract files travel together.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from recon.errors import ConfigError

#: [store] lock_wait_seconds when the file does not say: how long anything waits for the store
LOCK_WAIT_SECONDS = 60.0
#: the repository's own recon.toml: the bundled contract and demo setup
BUNDLED = Path(__file__).resolve().parent.parent / "recon.toml"


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
    penalty_basis: str = "contract"
    penalty_coefficient: Decimal = Decimal("0.20")
    extra: dict = field(default_factory=dict)


def _get(table: dict, key: str, kind, where: str, default=None):
    value = table.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing key {key!r}")
    try:
        return kind(value)
    except (TypeError, ValueError, ArithmeticError):
        raise ConfigError(f"{where}: key {key!r} has a bad value {value!r}") from None


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


def load_config(path: str | os.PathLike | None = None) -> Config:
    path = Path(path or os.environ.get("RECON_CONFIG") or
                (Path("recon.toml") if Path("recon.toml").exists() else BUNDLED))
    raw = read_toml(path, "configuration")
    base = path.resolve().parent

    def rel(value) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    c, s, r = raw.get("contract", {}), raw.get("store", {}), raw.get("report", {})
    o, e = raw.get("openstack", {}), raw.get("exports", {})
    sc = raw.get("scaling", {})
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
        items_path=rel(_get(c, "items", str, f"{path} [contract]")),
        amendments_path=rel(amendments) if amendments else None,
        db_path=(Path(os.environ["RECON_DB"]) if os.environ.get("RECON_DB")
                 else rel(s.get("path", "recon.duckdb"))),
        lock_wait=_get(s, "lock_wait_seconds", float, f"{path} [store]", LOCK_WAIT_SECONDS),
        out_dir=rel(r.get("out", "out")),
        idle_below=_get(r, "idle_below", Decimal, f"{path} [report]", "0.30"),
        cloud=str(os.environ.get("OS_CLOUD") or o.get("cloud", "")),
        mapping_path=rel(o.get("mapping", "connectors/mapping.toml")),
        timeout=_get(o, "timeout_seconds", float, f"{path} [openstack]", 30),
        retries=_get(o, "retries", int, f"{path} [openstack]", 3),
        exports_dir=rel(e["dir"]) if e.get("dir") else None,
        penalty_basis=sc.get("penalty_basis", "contract"),
        penalty_coefficient=_get(sc, "penalty_coefficient", Decimal, f"{path} [scaling]", "0.20"),
        extra=raw,
    )
