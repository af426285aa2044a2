"""The GX gate's two engines give one verdict (recon/validation.py).

The resource lines are validated by GX's SQL engine in DuckDB; a frame that
fails there, or holds anything the engines might judge differently, is judged
again by GX's pandas engine, whose failures (and samples) are kept.  So the
gate rejects exactly what the pandas engine rejected, with the same failures.
"""
from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from recon.nightly import _lines_columns, _lines_frame
from recon.validation import Gate, _columns, _duckdb_frame
from connectors.base import Lines

ITEMS = list(range(1, 33))


@pytest.fixture(scope="module")
def gate():
    return Gate(parameters={"item_numbers": ITEMS})


def lines(rows, source="openstack:compute"):
    out = Lines(source)
    for rtype, rid, item, qty in rows:
        out.add(rtype, rid, f"name-{rid}", "p1", item, qty, "GB", {"k": rid})
    return out


CLEAN = [("server", "a", 1, Decimal("2")), ("server", "a", 2, Decimal("4.5")),
         ("volume", "v", None, 100), ("volume", "w", 5, Decimal("0"))]

CASES = {
    "clean": [CLEAN],
    "two sources, same ids": [CLEAN, lines(CLEAN, "openstack:image")],
    "negative quantity": [CLEAN + [("volume", "x", 5, Decimal("-1"))]],
    "tiny negative quantity (its float is -0.0)": [CLEAN + [("volume", "x", 5,
                                                              Decimal("-1E-400"))]],
    "negative zero": [CLEAN + [("volume", "x", 5, Decimal("-0"))]],
    "huge quantity": [CLEAN + [("volume", "x", 5, Decimal("1E+400"))]],
    "NaN quantity": [CLEAN + [("volume", "x", 5, Decimal("NaN"))]],
    "no quantity": [CLEAN + [("volume", "x", 5, None)]],
    "text quantity": [CLEAN + [("volume", "x", 5, "3")]],
    # quantities are grouped by their text where most are distinct objects: a text that
    # reads as another line's number, or the text 'None', is still a text
    "text quantity reading as a number's": [CLEAN + [("volume", "x", 5, "2")]],
    "text quantity 'None' beside a missing one": [CLEAN + [("volume", "x", 5, None),
                                                          ("volume", "y", 5, "None")]],
    "int and Decimal of one value": [CLEAN + [("volume", "x", 5, 2), ("volume", "y", 5,
                                                                      Decimal("2.0"))]],
    "float quantity": [CLEAN + [("volume", "x", 5, 3.5)]],
    "bool quantity": [CLEAN + [("volume", "x", 5, True)]],
    "no id": [CLEAN + [("volume", None, 5, 1)]],
    "empty id": [CLEAN + [("volume", "", 5, 1)]],
    "id of 256 characters": [CLEAN + [("volume", "x" * 256, 5, 1)]],
    "id of 255 characters, combining marks": [CLEAN + [("volume", "e\u0301" * 127 + "x", 5,
                                                         1)]],
    "id of 256 code points, combining marks": [CLEAN + [("volume", "e\u0301" * 128, 5, 1)]],
    "number as id": [CLEAN + [("volume", 7, 5, 1)]],
    "no type": [CLEAN + [(None, "x", 5, 1)]],
    "item outside the contract": [CLEAN + [("volume", "x", 99, 1)]],
    "duplicate line": [CLEAN + [("server", "a", 1, Decimal("2"))]],
    "duplicate unmapped line (NULL item)": [CLEAN + [("volume", "v", None, 100)]],
}


def blocks(case):
    return [b if isinstance(b, Lines) else lines(b) for b in CASES[case]]


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_gate_keeps_the_pandas_engines_verdict_and_failures(gate, case):
    frame = _lines_frame(blocks(case))
    assert gate.validate("resources", frame) == gate._validate_pandas("resources", frame)


@pytest.mark.parametrize("case", sorted(CASES))
def test_lines_handed_over_as_columns_get_the_same_verdict(gate, case):
    """The night hands the gate its lines as columns (no pandas frame unless pandas judges):
    the verdict and failures are the pandas engine's on the frame, in every case."""
    assert gate.validate("resources", _lines_columns(blocks(case))) == \
        gate._validate_pandas("resources", _lines_frame(blocks(case)))


@pytest.mark.parametrize("case", ["clean", "two sources, same ids", "negative zero"])
def test_columns_that_pass_in_duckdb_never_build_the_frame(gate, case, monkeypatch):
    columns = _lines_columns(blocks(case))
    built = []
    monkeypatch.setattr(columns, "frame", lambda: built.append(1))
    verdict = gate.validate("resources", columns)
    assert verdict.success and not verdict.failures and not built


def test_shared_quantity_objects_are_judged_each_line(gate):
    """Quantities are typed and ordered per distinct object; a bad one among many shared
    ones still fails, with the pandas engine's sample."""
    q = Decimal("2")
    rows = [("server", f"s{i}", 1, q) for i in range(200)] + [("volume", "x", 5, Decimal("-3"))]
    verdict = gate.validate("resources", _lines_columns([lines(rows)]))
    assert not verdict.success and verdict.failures[0].unexpected == [Decimal("-3")]


@pytest.mark.parametrize("case", ["clean", "two sources, same ids", "negative zero",
                                  "duplicate line", "negative quantity"])
def test_the_lines_are_judged_in_duckdb(gate, case, monkeypatch):
    """Frames of plain values go to DuckDB; when they pass there, pandas is not asked."""
    frame = _lines_frame(blocks(case))
    assert _duckdb_frame(frame, _columns(gate.specs["resources"])) is not None
    asked = []
    monkeypatch.setattr(gate, "_validate_pandas", lambda *a: asked.append(a) or "pandas")
    verdict = gate.validate("resources", frame)
    if case in ("duplicate line", "negative quantity"):
        assert verdict == "pandas" and asked  # failed in DuckDB: the samples come from pandas
    else:
        assert verdict.success and not verdict.failures and not asked


def test_failures_name_the_expectation_and_the_values(gate):
    verdict = gate.validate("resources", _lines_frame(blocks("negative quantity")))
    assert not verdict.success
    [failure] = verdict.failures
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.column == "quantity" and failure.unexpected == [Decimal("-1")]
    assert failure.unexpected_count == 1


def test_a_missing_column_fails_as_before(gate):
    frame = _lines_frame(blocks("clean")).drop(columns=["quantity"])
    verdict = gate.validate("resources", frame)
    assert not verdict.success and verdict == gate._validate_pandas("resources", frame)


def test_the_gates_duckdb_tables_are_dropped(gate):
    gate.validate("resources", _lines_frame(blocks("clean")))
    tables = gate._sql.db.execute("SELECT table_name FROM information_schema.tables "
                                  "WHERE table_name LIKE 'gate_%'").fetchall()
    assert tables == []


def test_other_suites_stay_on_pandas(gate):
    frame = pd.DataFrame({"source": ["s"], "item_no": [1], "metric": ["allocated"],
                          "quantity": [Decimal("-1")], "basis": ["quota"], "parts": [()]})
    verdict = gate.validate("measurements", frame)
    assert not verdict.success
    assert verdict.failures[0].unexpected == [Decimal("-1")]
