"""Identifiers derived from names, so the same scenario always serves the same ids.

A resource's id is a uuid5 of the project, its kind, its name and its creation
date (unless the scenario gives one); a Keystone id is the same as 32 hex digits.
"""
from __future__ import annotations

import hashlib
import uuid
from typing import Any

_NS = uuid.UUID("6ba7b812-9dad-11d1-80b4-00c04fd430c8")  # uuid.NAMESPACE_X500
_NS_SHA1 = hashlib.sha1(_NS.bytes)


def derived_uuid(*parts: Any) -> str:
    """uuid.uuid5(_NS, "/".join(parts)), computed without the uuid module's overhead."""
    h = _NS_SHA1.copy()
    h.update("/".join([p if isinstance(p, str) else str(p) for p in parts]).encode())
    d = bytearray(h.digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x50
    d[8] = (d[8] & 0x3F) | 0x80
    x = d.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def derived_hex(*parts: Any) -> str:
    return uuid.uuid5(_NS, "/".join(str(p) for p in parts)).hex
