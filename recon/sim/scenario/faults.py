"""Fault specs: a scenario's dated faults and the ones injected at run time.

One parser for both, so ``POST /_sim/faults``, ``SimServer.set_fault()`` and a
timeline's ``faults:`` accept exactly the same spec.
"""
from __future__ import annotations

import re
from typing import Any

from .checks import Err, as_int, check_keys
from .terms import FAULT_KINDS, canonical_service

_FAULT_KEYS = {"service", "kind", "times", "seconds", "retry_after", "page",
               "match", "method", "discovery"}


def parse_fault(spec: dict, err: Err | None = None, key: str = "fault") -> dict:
    """Validate a fault spec; returns a normalised copy."""
    err = err or Err("fault")
    check_keys(err, key, spec, _FAULT_KEYS, ("service", "kind"))
    try:
        service = canonical_service(spec["service"])
    except ValueError as e:
        raise err(f"{key}.service", str(e)) from None
    kind = str(spec["kind"])
    if kind not in FAULT_KINDS:
        raise err(f"{key}.kind",
                  f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    out: dict[str, Any] = {"service": service, "kind": kind}
    times = spec.get("times")
    if times is None and kind == "token_expiry":
        times = 1
    out["times"] = None if times is None else as_int(err, f"{key}.times", times, 1)
    if kind == "delay":
        if "seconds" not in spec:
            raise err(f"{key}.seconds", "required for a delay fault")
        try:
            out["seconds"] = float(spec["seconds"])
        except (TypeError, ValueError):
            raise err(f"{key}.seconds", f"not a number: {spec['seconds']!r}") from None
    if spec.get("retry_after") is not None:
        out["retry_after"] = as_int(err, f"{key}.retry_after", spec["retry_after"], 0)
    out["page"] = as_int(err, f"{key}.page", spec.get("page", 2), 1)
    if spec.get("match") is not None:
        try:
            re.compile(str(spec["match"]))
        except re.error as e:
            raise err(f"{key}.match", f"bad regular expression: {e}") from None
        out["match"] = str(spec["match"])
    if spec.get("method") is not None:
        out["method"] = str(spec["method"]).upper()
    out["discovery"] = bool(spec.get("discovery", False))
    return out
