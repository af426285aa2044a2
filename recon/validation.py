"""The Great Expectations gate: every pulled snapshot is validated before it counts.

Suites are JSON files in ``recon/data/expectations/`` (one per kind of data), so the
rules are read and changed without touching code.  A source whose rows fail a
suite is rejected for the night -- its rows are kept, marked not accepted --
and the failing expectation, with GX's own sample of the failing values,
becomes a ``data_rejected`` finding.  Other sources go on.

GX runs offline and quietly: analytics off (set before the import), no
progress bars, an ephemeral context that writes nothing to disk.

Two GX execution engines, one verdict.  The resource lines (half a million on a
100,000-server night) are validated in DuckDB, by GX's SQL engine: the frame is
copied once into an in-memory DuckDB table and each expectation is one SQL
query there, where GX's pandas engine hashed the whole frame twice and compared
every quantity in a Python function (1.7 s at 100k; bench/README.md).  A night
whose lines pass there has passed; one whose lines fail (or hold anything the two
engines might judge differently: a value of an unexpected type, a quantity a
float cannot order like the ``Decimal``, a compound key with a NULL in it) is
validated again by the pandas engine, whose verdict and samples of the failing
values are the ones kept, exactly as before.  So the DuckDB path may only ever
be stricter than the pandas one, never more lenient.  The other suites (the
contract, console exports, the night's figures: tens of rows) stay on pandas.
"""
from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from connectors.base import first_positions, grouped_by_text
from recon.data import EXPECTATIONS

log = logging.getLogger(__name__)

#: suites GX validates in DuckDB (their expectations need no pandas ``row_condition``)
SQL_SUITES = ("resources",)


@dataclass
class Failure:
    expectation: str
    column: str | None
    unexpected: list = field(default_factory=list)
    unexpected_count: int | None = None

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        sample = ", ".join(map(str, self.unexpected[:5]))
        count = f" ({self.unexpected_count} rows)" if self.unexpected_count else ""
        return f"{self.expectation}{where}{count}" + (f": {sample}" if sample else "")


@dataclass
class Columns:
    """Rows for the gate as columns: ``arrays`` (name -> numpy or pandas array, one length),
    what GX's SQL engine reads; ``frame()`` makes the same rows as the pandas frame the
    pandas engine judges, only when it must (the rows fail in DuckDB, or hold what the two
    engines might judge differently).  Half a million resource lines a night: building
    their pandas frame cost more than GX's SQL engine validating them (bench/README.md)."""
    arrays: dict
    frame: Callable[[], pd.DataFrame]
    #: name -> what :func:`_distinct` would group by text, from where it is kept already
    #: (connectors.base.texts: the store groups the quantities so too)
    texts: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.arrays.values()))) if self.arrays else 0


@dataclass
class Verdict:
    suite: str
    success: bool
    failures: list[Failure] = field(default_factory=list)


class Gate:
    """Validates frames against the suites in ``recon/data/expectations/``; build once per run."""

    def __init__(self, expectations_dir: Path = EXPECTATIONS, parameters: dict | None = None):
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        os.environ.setdefault("TQDM_DISABLE", "1")
        with warnings.catch_warnings():
            # GX looks for pyspark when it is installed (recon[lake]), and pyspark warns on
            # import that it does not yet support pandas 3: a warning for Spark's own users,
            # not the agency's night (the lake's Spark runs are tested on their own)
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\b.*")
            import great_expectations as gx  # heavy: only when a gate is built
            from great_expectations.core import ExpectationSuite
            from great_expectations.data_context.types.base import ProgressBarsConfig

        # after the import: GX modules set their own levels
        for name in list(logging.root.manager.loggerDict):
            if name.startswith(("great_expectations", "tzlocal")):
                logging.getLogger(name).setLevel(logging.ERROR)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                                 metric_calculations=False)
        self.parameters = parameters or {}
        self.suites = {}
        self.specs = {}
        for path in sorted(Path(expectations_dir).glob("*.json")):
            spec = json.loads(path.read_text(encoding="utf-8"))
            self.specs[spec["name"]] = spec
            self.suites[spec["name"]] = ExpectationSuite(**spec)
        source = self.context.data_sources.add_pandas("recon")
        self._batch_def = source.add_dataframe_asset("frame") \
            .add_batch_definition_whole_dataframe("whole")
        self._sql = None  # the DuckDB side, made at its first use (_SqlGate)

    def validate(self, suite_name: str, frame: "pd.DataFrame | Columns") -> Verdict:
        """``suite_name`` on ``frame``: a pandas frame, or :class:`Columns` (rows handed over
        as columns, so that GX's SQL engine reads them without a pandas frame of them)."""
        if not len(frame):
            return Verdict(suite_name, True)
        if suite_name in SQL_SUITES and suite_name in self.suites:
            if self._sql is None:
                self._sql = _SqlGate(self.context)
            columns = frame.arrays if isinstance(frame, Columns) else \
                {name: frame[name] for name in frame.columns}
            texts = frame.texts if isinstance(frame, Columns) else {}
            if self._sql.passes(suite_name, self.specs[suite_name], self.suites[suite_name],
                                columns, self.parameters, texts):
                return Verdict(suite_name, True)
        return self._validate_pandas(suite_name, frame.frame() if isinstance(frame, Columns)
                                     else frame)

    def _validate_pandas(self, suite_name: str, frame: pd.DataFrame) -> Verdict:
        suite = self.suites[suite_name]
        batch = self._batch_def.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, expectation_parameters=self.parameters,
                                result_format="SUMMARY")
        failures = []
        for res in result.results:
            if res.success:
                continue
            cfg = res.expectation_config
            kwargs = cfg.kwargs
            column = kwargs.get("column") or ",".join(kwargs.get("column_list", []) or
                                                      [kwargs.get("column_A", ""),
                                                       kwargs.get("column_B", "")])
            r = res.result or {}
            unexpected = r.get("partial_unexpected_list") or []
            if not unexpected and "observed_value" in r:
                unexpected = [r["observed_value"]]
            if res.exception_info and res.exception_info.get("raised_exception"):
                unexpected = [res.exception_info.get("exception_message")]
            failures.append(Failure(cfg.type, column or None, [_plain(u) for u in unexpected],
                                    r.get("unexpected_count")))
        return Verdict(suite_name, bool(result.success), failures)


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


# -- the DuckDB side ---------------------------------------------------------------------
#: in-memory DuckDB databases by name, for the SQLAlchemy driver below (one per Gate)
_DATABASES: dict = {}
_names = count(1)

#: element types a numeric object column may hold for the DuckDB path (bool is not int here)
_NUMBERS = {Decimal, int}


class _SqlGate:
    """GX's SQL engine over an in-memory DuckDB database (one per :class:`Gate`).

    GX reaches DuckDB through SQLAlchemy (a dependency of recon's: GX does not
    bring it); recon registers a small SQLAlchemy driver for it
    (:class:`_DuckDBDialect`: PostgreSQL's SQL, DuckDB's DB-API), so no DuckDB
    driver package is needed.  A suite's frame becomes the table
    ``gate_<suite>`` for one validation and is dropped after it.
    """

    def __init__(self, context):
        _register_dialect()
        self.name = f"recon-gate-{os.getpid()}-{next(_names)}"
        self.db = duckdb.connect(":memory:")
        _DATABASES[self.name] = self.db
        with warnings.catch_warnings():  # "a more specific PostgresDatasource": it is DuckDB
            warnings.simplefilter("ignore")
            self.source = context.data_sources.add_sql(
                "recon-duckdb", connection_string=f"postgresql+recon_duckdb:///{self.name}",
                create_temp_table=False)
        self.batches: dict = {}

    def passes(self, suite_name: str, spec: dict, suite, columns: dict,
               parameters: dict, texts: dict | None = None) -> bool:
        """True when the suite holds on ``columns`` (name -> array) for GX's SQL engine, and
        the pandas engine would find the same (see the module's docstring); False: let
        pandas decide.  ``texts``: see :class:`Columns`."""
        table = _duckdb_frame(columns, _columns(spec), texts)
        if table is None:
            return False
        name = f"gate_{suite_name}"
        db = self.db
        db.register("_gate_frame", table)
        try:
            db.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _gate_frame")
        finally:
            db.unregister("_gate_frame")
        try:
            if name not in self.batches:
                self.batches[name] = self.source.add_table_asset(name, table_name=name) \
                    .add_batch_definition_whole_table("whole")
            result = self.batches[name].get_batch().validate(
                suite, expectation_parameters=parameters, result_format="BOOLEAN_ONLY")
            if not result.success:
                return False
            # GX's SQL compound-unique joins on `=`, where NULL matches nothing; pandas'
            # duplicated() takes NULLs as equal: keys with a NULL are compared here
            for exp in spec.get("expectations", []):
                if exp["type"] != "expect_compound_columns_to_be_unique":
                    continue
                cols = ", ".join(f'"{c}"' for c in exp["kwargs"]["column_list"])
                nulls = " OR ".join(f'"{c}" IS NULL' for c in exp["kwargs"]["column_list"])
                dup = db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {name} WHERE {nulls} "
                                 f"GROUP BY {cols} HAVING count(*) > 1)").fetchall()[0][0]
                if dup:
                    return False
            return True
        finally:
            db.execute(f"DROP TABLE IF EXISTS {name}")


def _columns(spec: dict) -> list[str]:
    """The columns a suite's expectations name, in order."""
    out: list[str] = []
    for exp in spec.get("expectations", []):
        kw = exp.get("kwargs", {})
        for c in [kw.get("column"), *kw.get("column_list", []), kw.get("column_A"),
                  kw.get("column_B")]:
            if c and c not in out:
                out.append(c)
    return out


def _duckdb_frame(columns: dict, names: list[str], texts: dict | None = None
                  ) -> pd.DataFrame | None:
    """The ``names`` of ``columns`` (name -> array) as DuckDB is to read them, every value
    judged as pandas judges it; or None where that is not sure (then the pandas engine
    decides).

    Text columns go as they are; a Categorical (a few distinct texts: the source, the
    resource type) goes as DuckDB's ENUM of its categories, which are the texts checked
    (the suite tests those columns for NULL and as part of a key: an ENUM's codes are
    grouped and joined faster than the text, and NULL stays NULL);
    integer columns too (NULL for NA); a column of exact numbers (``Decimal``/``int``: the
    quantities) goes as floats, which order like the exact values against any bound,
    unless an exact value is so small or large that its float is 0 or infinite (then:
    None).  A ``Decimal`` NaN, like None, is NULL to both engines.  The floats are taken
    per distinct value (a night's quantities take a few dozen), found by identity where
    connectors share the objects, else by text (:func:`_distinct`).
    """
    out = {}
    for name in names:
        if name not in columns:
            return None
        col = columns[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            kind = pd.api.types.infer_dtype(col.categories, skipna=True)
            if kind not in ("string", "empty"):
                return None
            out[name] = col
            continue
        kind = pd.api.types.infer_dtype(col, skipna=True)
        if kind in ("string", "empty"):
            out[name] = pd.Series(col, dtype=object, copy=False) if col.dtype == object \
                else col
        elif kind == "integer" and pd.api.types.is_integer_dtype(col.dtype):
            out[name] = col
        elif col.dtype == object:
            try:
                codes, exact, types = _distinct(np.asarray(col, dtype=object),
                                                (texts or {}).get(name))
                if not types <= _NUMBERS | {type(None)}:
                    return None
                na = pd.isna(np.array(exact, dtype=object)) if exact else np.zeros(0, bool)
                floats = np.array([0.0 if n else float(v) for v, n in zip(exact, na.tolist())],
                                  dtype=np.float64)
            except (TypeError, ValueError, OverflowError, ArithmeticError):
                return None
            if np.isinf(floats).any() or np.isnan(floats).any() \
                    or any(f == 0 and not n and v != 0
                           for f, v, n in zip(floats.tolist(), exact, na.tolist())):
                return None
            if na.any():  # None and Decimal NaN: NULL
                codes = np.where(na[codes], -1, codes) if len(codes) else codes
            taken = floats[codes] if len(floats) else np.zeros(len(codes))
            out[name] = pd.arrays.FloatingArray(taken, codes < 0)
        else:
            return None
    return pd.DataFrame(out)


def _distinct(values: np.ndarray, by_text: Callable | None = None
              ) -> tuple[np.ndarray, list, set]:
    """Codes into distinct objects of ``values`` (an object array), one object per code, and
    the types of all the values: by identity when few objects are many values' (a connector
    hands the same quantity object to many lines: no hash of a ``Decimal`` per line), else
    by the values' text (``str``), each code's first object taken.

    Not by value: pandas compares every fresh ``Decimal`` with the one of its hash in the
    table through ``__eq__``, 0.48 s for 518,000 quantities of 8 values, against 0.10 s
    for their texts.  Equal texts are equal values for the numbers the DuckDB path takes
    (``Decimal``, ``int``; None is 'None'); a value of another type sharing a text (the
    string '5') is in the types returned, and the caller leaves such a column to pandas.
    ``by_text``: returns that grouping (codes, texts, first objects, types) where it is
    kept already (:class:`Columns`)."""
    n = len(values)
    ids = np.fromiter(map(id, values), dtype=np.uint64, count=n)
    codes, uniques = pd.factorize(ids)
    if len(uniques) * 8 <= n:
        exact = values[first_positions(codes, len(uniques))].tolist()
        return codes, exact, set(map(type, exact))
    if by_text is not None:
        codes, _, exact, types = by_text()
        return codes, exact, types
    codes, _, first, types = grouped_by_text(values)
    return codes, values[first].tolist(), types


_DIALECT: list = []


def _register_dialect() -> None:
    """``postgresql+recon_duckdb:///<name>`` opens the gate's database ``<name>``."""
    from sqlalchemy.dialects import registry  # GX's SQL engine: only when the gate runs
    if not _DIALECT:
        _DIALECT.append(_dialect_class())
    registry.impls["postgresql.recon_duckdb"] = lambda: _DIALECT[0]


class _DBAPI:
    """DB-API 2 module face of :data:`_DATABASES` for SQLAlchemy."""
    import duckdb as _duckdb
    paramstyle = "qmark"
    apilevel = "2.0"
    threadsafety = 1
    Warning = Warning
    Error = _duckdb.Error
    InterfaceError = _duckdb.Error
    DatabaseError = _duckdb.DatabaseError
    DataError = _duckdb.DataError
    OperationalError = _duckdb.OperationalError
    IntegrityError = _duckdb.IntegrityError
    InternalError = _duckdb.InternalError
    ProgrammingError = _duckdb.ProgrammingError
    NotSupportedError = _duckdb.NotSupportedError

    @staticmethod
    def connect(database=None, **_):
        return _Connection(_DATABASES[database])


class _Connection:
    """A cursor of the gate's database: DuckDB runs each statement on its own (autocommit)."""

    def __init__(self, db):
        self._db = db.cursor()

    def cursor(self):
        return self._db.cursor()

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        self._db.close()


def _dialect_class():
    from sqlalchemy import types  # GX's SQL engine: only when the gate runs
    from sqlalchemy.dialects.postgresql.base import PGDialect

    kinds = {"VARCHAR": types.String, "BIGINT": types.BigInteger, "INTEGER": types.Integer,
             "SMALLINT": types.SmallInteger, "BOOLEAN": types.Boolean, "DOUBLE": types.Float,
             "FLOAT": types.Float}

    class DuckDBDialect(PGDialect):
        """PostgreSQL's SQL over DuckDB's DB-API: what GX's SQL engine needs, no more."""
        driver = "recon_duckdb"
        supports_statement_cache = False
        default_paramstyle = "qmark"

        @classmethod
        def import_dbapi(cls):
            return _DBAPI

        def create_connect_args(self, url):
            return [], {"database": url.database}

        def initialize(self, connection):
            self.server_version_info = (14, 0)
            self.default_schema_name = "main"
            self.implicit_returning = False
            self._backslash_escapes = False

        def _get_server_version_info(self, connection):
            return (14, 0)

        def get_isolation_level(self, dbapi_connection):
            return "SERIALIZABLE"

        def set_isolation_level(self, dbapi_connection, level):
            pass

        def do_rollback(self, dbapi_connection):
            pass

        def do_commit(self, dbapi_connection):
            pass

        def do_ping(self, dbapi_connection):
            return True

        def has_table(self, connection, table_name, schema=None, **kw):
            return bool(connection.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                (table_name,)).scalar())

        def get_columns(self, connection, table_name, schema=None, **kw):
            rows = connection.exec_driver_sql(f'DESCRIBE "{table_name}"').fetchall()
            return [{"name": r[0], "type": kinds.get(r[1], types.Numeric)(), "nullable": True,
                     "default": None} for r in rows]

    return DuckDBDialect
