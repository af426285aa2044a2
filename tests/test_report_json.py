"""A report's JSON (reports/common.py to_json) is written byte for byte as json.dumps wrote it
with ``indent=2, ensure_ascii=False``: machines read index.json and the nightly JSON, and
the faster encoder must not move a space."""
from __future__ import annotations

import dataclasses
import json
import random
from datetime import date, datetime
from decimal import Decimal

from reports.common import _json_default, to_json

LEAVES = ["", "引号\"反斜杠\\换行\n制表\t\x01\u2028", 0, -5, 10 ** 30, 1.5, -0.0, 1e16,
          float("nan"), float("inf"), -float("inf"), True, False, None, Decimal("1.20"),
          Decimal("-0E-6"), date(2026, 11, 2), datetime(2026, 11, 2, 3, 4, 5), (1, "a"), [], {}]
KEYS = ["k", "中文", 'a"b', 1, 2.5, True, False, None, "x y"]


class _Text(str):
    """A str subclass (a Markup, say): written as its text."""


def _value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 4 or roll < 0.5:
        return rng.choice(LEAVES + [_Text("m<b>"), 7 > 3])
    if roll < 0.75:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


@dataclasses.dataclass
class _Report:
    data: object
    rows: list = dataclasses.field(default_factory=list)


def test_a_reports_json_is_byte_for_byte_json_dumps_with_an_indent_of_two():
    rng = random.Random(20261204)
    for _ in range(2000):
        value = _value(rng)
        report = _Report(value, [_Report(Decimal("3.5")), value])
        expected = json.dumps(dataclasses.asdict(report), ensure_ascii=False, indent=2,
                              default=_json_default)
        assert to_json(report) == expected
