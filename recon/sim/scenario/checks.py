"""Validation of scenario values, with errors that name the file and the key.

Every parser (the file's static definitions, its timeline, the resources a
timeline creates as its State is built) checks values through these, so a bad
value reads ``demo.yaml: timeline[3].create.servers[0].flavor: ...`` wherever
it is found.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any


class Err:
    """Builds ValueErrors that name the file and the key."""

    def __init__(self, path: str):
        self.path = path

    def __call__(self, key: str, msg: str) -> ValueError:
        return ValueError(f"{self.path}: {key}: {msg}")


def parse_date(err: Err, key: str, value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise err(key, f"not a date (YYYY-MM-DD): {value!r}") from None


def parse_today(value: Any) -> _dt.date:
    """A date from a ``date``, ``datetime`` or ``YYYY-MM-DD`` string."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def check_keys(err: Err, key: str, d: Any, allowed: set[str],
               required: tuple[str, ...] = ()) -> dict:
    if not isinstance(d, dict):
        raise err(key, f"expected a mapping, got {type(d).__name__}")
    unknown = sorted(set(map(str, d)) - allowed)
    if unknown:
        raise err(
            f"{key}.{unknown[0]}",
            f"unknown key; expected one of {', '.join(sorted(allowed))}",
        )
    for r in required:
        if r not in d or d[r] is None:
            raise err(f"{key}.{r}", "required key is missing")
    return d


def as_int(err: Err, key: str, v: Any, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        try:
            if isinstance(v, str) and v.strip().lstrip("-").isdigit():
                v = int(v)
            else:
                raise TypeError
        except TypeError:
            raise err(key, f"expected an integer, got {v!r}") from None
    if minimum is not None and v < minimum:
        raise err(key, f"must be >= {minimum}, got {v}")
    return v


def as_str(err: Err, key: str, v: Any) -> str:
    if v is None or isinstance(v, (dict, list)):
        raise err(key, f"expected a string, got {v!r}")
    return str(v)


def as_list(err: Err, key: str, v: Any) -> list:
    if v is None:
        return []
    if not isinstance(v, list):
        raise err(key, f"expected a list, got {type(v).__name__}")
    return v


def as_strmap(err: Err, key: str, v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise err(key, f"expected a mapping, got {type(v).__name__}")
    return {str(k): ("" if x is None else str(x) if not isinstance(x, bool)
                     else str(x).lower())
            for k, x in v.items()}
