"""The DuckDB store: dated snapshots, runs, findings and the reconciled figures.

One file.  The schema is versioned: :data:`MIGRATIONS` is an append-only list,
applied in order on open, each in its own transaction, and recorded in
``schema_migrations``.  Never edit a migration that has shipped; add one.

A night is one transaction (:meth:`Store.transaction`): its snapshot replaces
the date's (delete, then insert, as Koku re-processes a day), its conclusions,
scaling flags and its ``runs`` row commit together or not at all, and its
report files appear through the store's :class:`~recon.outbox.Outbox` exactly
when it commits.  There is never a ``running`` row: a run that dies leaves
nothing but a journal the next open settles.

DuckDB lets one process hold the file read-write, or many read-only.  So a
night holds it only while it writes (after the pull), and every open waits
up to ``lock_wait_seconds`` for whoever holds it, saying for whom.  Two
nights never interleave: :func:`run_lock` holds an advisory lock file beside
the store for a whole run, pull included.
"""
from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import marshal
import os
import re
import time
from datetime import date, datetime
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd

from connectors.base import first_positions, item_numbers, texts
from recon.config import LOCK_WAIT_SECONDS
from recon.errors import StoreBusy, StoreError
from recon.outbox import Outbox
from recon.progress import SHANGHAI

from recon.schema import MIGRATIONS, MONEY, QTY, SNAPSHOT_TABLES  # noqa: F401  (re-exported)

#: the store's upkeep (Store.upkeep): a file whose free blocks are over this share of it,
#: and at least COMPACT_MIN_FREE_BYTES, is rewritten compact as its writer closes it
COMPACT_FREE_SHARE = 0.5
COMPACT_MIN_FREE_BYTES = 64 * 2 ** 20

#: DuckDB's lock error names the process holding the file
_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


#: one encoder for every resource's attributes: json.dumps with options builds a new
#: encoder per call, which was half of storing a 100,000-line night (bench/README.md)
_attributes_json = json.JSONEncoder(default=str, ensure_ascii=False, sort_keys=True,
                                    check_circular=False).encode

def attributes_digest_text(attributes: dict | None) -> bytes:
    """What a resource's attributes digest is taken of (``hash()`` in SQL): the dict
    marshalled (format 0: no references or interning marks, so the same dict gives the same
    bytes in every process), or, for a dict marshal cannot take (a ``Decimal``, a date), its
    ``repr``.  Either way equal dicts of plain API values give equal bytes."""
    return _digest_texts([attributes])[0]


#: a resource's digest in SQL (``resource_digests``): one hash of what the store keeps of it
#: but its dates, taken from the columns of a row prefixed ``p`` and ``attributes``, the hash
#: of its attributes' bytes (:func:`attributes_digest_text`).  A night's resources whose
#: digest is stored are the store's as they are (Store._upsert_resources)
RESOURCE_DIGEST = ("hash({p}source::VARCHAR, {p}resource_type::VARCHAR, {p}resource_id, "
                   "{p}name, {p}project_id, {attributes})")

#: an empty or missing dict's bytes (marshal format 0)
_EMPTY = marshal.dumps({}, 0)
_NONE = marshal.dumps(None, 0)


def _digest_bytes(attributes) -> bytes:
    try:
        return marshal.dumps(attributes or {}, 0)
    except ValueError:  # a value marshal does not know: its repr (never equal to marshal's)
        return b"repr:" + repr(attributes).encode("utf-8", "surrogatepass")


def _digest_texts(dicts: list) -> np.ndarray:
    """:func:`attributes_digest_text` of each of ``dicts`` (dicts or None), without a Python
    call per dict where marshal takes them all: ``marshal.dumps`` mapped in C (about twice
    as fast as ``repr``), None's bytes made the empty dict's after."""
    try:
        texts = np.array(list(map(marshal.dumps, dicts, itertools.repeat(0, len(dicts)))),
                         dtype=object)
    except ValueError:
        texts = np.array(list(map(_digest_bytes, dicts)), dtype=object)
    if len(texts):
        texts[texts == _NONE] = _EMPTY
    return texts


def _few(texts: np.ndarray):
    """A column of a few distinct texts (a night's sources, resource types, projects) as a
    Categorical, which DuckDB reads as an ENUM of them: converting 455,000 Python strings a
    column cost DuckDB 0.04 s each at 100,000 servers, an ENUM's codes nothing.  Its values,
    NULLs and comparisons are the texts'; SQL that orders by it casts it to text (an ENUM
    orders by its codes).  Anything but texts (and None) stays as it was."""
    column = pd.Categorical(texts)
    if not _is_few(len(column.categories), len(texts)) or \
            pd.api.types.infer_dtype(column.categories, skipna=True) != "string":
        return texts
    return column


def _texts_of(resources: pd.DataFrame) -> pd.DataFrame:
    """Some of a night's resources as DuckDB is to read their texts: the resource types and
    projects as :func:`_few` makes them (a first night's 100,000 are all new)."""
    return resources.assign(**{c: _few(np.asarray(resources[c], dtype=object))
                               for c in ("resource_type", "project_id")})


def _is_few(distinct: int, n: int) -> bool:
    """Whether ``distinct`` texts among ``n`` values are few enough for an ENUM (:func:`_few`)."""
    return distinct * 4 <= n


class _Night:
    """A night's lines as the store writes them: one row per resource, numbers per line.

    Built from each source's :class:`connectors.base.Lines` columns with numpy and
    pandas' hash tables (no Python per line): the resources of a source are its
    distinct (type, id) pairs (``pd.factorize``), each taken with its first line's
    name, project and attributes dict (a connector hands every line of a resource
    the same); a line becomes its resource's number, its item, and codes into the
    night's distinct quantities and units.  Text goes to DuckDB once per resource
    (not per line), the quantities once per distinct value.  The attributes stay
    Python dicts: each distinct dict object is kept once (``dicts``) and whether it
    is encoded as JSON is decided per resource (:meth:`Store._upsert_resources`).
    """

    def __init__(self):
        self.res: dict[str, list] = {c: [] for c in ("source", "resource_type", "resource_id",
                                                     "name", "project_id", "attr")}
        self.lines: dict[str, list] = {c: [] for c in ("res", "item_no", "qty", "unit",
                                                       "accepted")}
        self.dicts: list = []
        self._qty: dict = {}
        self._unit: dict = {}
        self.n_res = 0

    @staticmethod
    def _codes(values, table: dict, by_text=None, texts_made: bool = False) -> np.ndarray:
        """Codes into ``table`` (key -> (code, object), grown here) for a column of objects.

        By identity where that is cheap (connectors hand the same few quantity and
        unit objects to many lines; equal values under two ids get two codes and the
        same text), else by value (pandas' hash table), or, given ``by_text()`` (the
        quantities: connectors.base.texts, kept with the lines), by the value's ``str``,
        what the quantities are stored from: at once when the texts are made already
        (``texts_made``: the gate grouped them; the objects' ids cost 0.01 s at 100,000
        servers)."""
        n = len(values)
        if by_text is not None and texts_made:
            codes, uniques = None, ()
        else:
            ids = np.fromiter(map(id, values), dtype=np.uint64, count=n)
            codes, uniques = pd.factorize(ids)
        if by_text is not None and (codes is None or len(uniques) * 8 > n):
            # by their text: made already, or mostly distinct (hashing a night of fresh
            # Decimal objects cost twice their str()); equal values of two texts get two
            # codes and the same stored value
            codes, objects = by_text()[:2]
            keys = [("t", u) for u in objects]
        elif len(uniques) * 8 > n:  # mostly distinct objects: by value
            codes, uniques = pd.factorize(np.array(values, dtype=object),
                                          use_na_sentinel=False)
            keys = [("v", u) for u in uniques.tolist()]
            objects = uniques.tolist()
        else:
            keys = [("id", u) for u in uniques.tolist()]
            objects = [values[i] for i in first_positions(codes, len(uniques)).tolist()]
        if not keys:
            return codes.astype(np.int32)
        where = np.array([table.setdefault(k, (len(table), v))[0]
                          for k, v in zip(keys, objects)], dtype=np.int32)
        return where[codes]

    def add(self, source: str, blocks: list, accepted: bool) -> None:
        """One source's lines (a source's results, if several, are one: ``blocks``)."""
        def column(name):  # made once per Lines, shared with the gate (connectors.base)
            if len(blocks) == 1:
                return blocks[0].array(name)
            return np.concatenate([b.array(name) for b in blocks])
        n = sum(len(b) for b in blocks)
        rid = column("resource_id")
        rtype = column("resource_type")
        codes, ids = pd.factorize(rid, use_na_sentinel=False)
        first = first_positions(codes, len(ids))
        # a resource is a (type, id) pair: one id under two types is two resources
        if (rtype[first][codes] != rtype).any():
            pairs = pd.MultiIndex.from_arrays([rtype, rid])
            codes, kinds = pd.factorize(pairs, use_na_sentinel=False)
            first = first_positions(codes, len(kinds))
        nres = len(first)
        # the attributes dict of each resource (its first line's); distinct ones are
        # picked out for the whole night in resources_frame
        attrs = column("attributes")[first]
        r = self.res
        r["source"].append((source, nres))
        r["resource_type"].append(rtype[first])
        r["resource_id"].append(rid[first])
        r["name"].append(column("name")[first])
        r["project_id"].append(column("project_id")[first])
        r["attr"].append(attrs)
        ln = self.lines
        ln["res"].append(codes.astype(np.int64) + self.n_res)
        ln["item_no"].append(item_numbers(blocks, "Int16"))
        ln["qty"].append(self._codes(column("quantity"), self._qty,
                                     by_text=lambda: texts(blocks, "quantity"),
                                     texts_made=all(b.has_texts("quantity") for b in blocks)))
        ln["unit"].append(self._codes(column("unit"), self._unit))
        ln["accepted"].append(np.full(n, accepted))
        self.n_res += nres

    def resources_frame(self) -> pd.DataFrame:
        r = self.res
        if not r["source"]:
            return pd.DataFrame({"res": np.array([], dtype=np.int64),
                                 **{c: pd.Series([], dtype=object) for c in
                                    ("source", "resource_type", "resource_id", "name",
                                     "project_id")},
                                 "attr": np.array([], dtype=np.int64)})
        # each distinct dict object once (a server's lines share one; so may resources)
        attrs = np.concatenate(r["attr"])
        codes, objects = pd.factorize(np.fromiter(map(id, attrs), dtype=np.uint64,
                                                  count=len(attrs)))
        self.dicts = attrs[first_positions(codes, len(objects))].tolist()
        return pd.DataFrame({"res": np.arange(self.n_res, dtype=np.int64),
                             "source": self._sources(),
                             **{c: np.concatenate(r[c]) for c in
                                ("resource_type", "resource_id", "name", "project_id")},
                             "attr": codes.astype(np.int64)})

    def _sources(self):
        """The resources' sources as :func:`_few` makes a column of them, from the count of
        each (a source is added once), not from a text per resource."""
        names, counts = zip(*self.res["source"])
        if not _is_few(len(names), self.n_res):
            return np.repeat(np.array(names, dtype=object), counts)
        order = sorted(names)
        return pd.Categorical.from_codes(
            np.repeat(np.array([order.index(n) for n in names], dtype=np.int8), counts),
            categories=pd.Index(order, dtype=str))

    def lines_frame(self, keys: np.ndarray) -> pd.DataFrame:
        """The night's lines with their resource keys (``keys[res]``)."""
        ln = self.lines
        if not ln["res"]:
            return pd.DataFrame({"resource_key": np.array([], dtype=np.int32),
                                 "item_no": pd.array([], dtype="Int16"),
                                 "qty": np.array([], dtype=np.int32),
                                 "unit": np.array([], dtype=np.int32),
                                 "accepted": np.array([], dtype=bool)})
        return pd.DataFrame({"resource_key": keys[np.concatenate(ln["res"])],
                             "item_no": pd.concat([pd.Series(a) for a in ln["item_no"]],
                                                  ignore_index=True).array,
                             "qty": np.concatenate(ln["qty"]),
                             "unit": np.concatenate(ln["unit"]),
                             "accepted": np.concatenate(ln["accepted"])})

    def quantities_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"qty": np.arange(len(self._qty), dtype=np.int32),
                             "quantity": [str(q) for _, q in self._qty.values()]})

    def units_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"unit": np.arange(len(self._unit), dtype=np.int32),
                             "text": pd.Series([u for _, u in self._unit.values()],
                                               dtype=object)})


class Store:
    """A DuckDB connection with the schema migrated and any cut-off night settled.

    ``wait_seconds``: how long to wait while another process holds the file
    (a night writing, a reader, an outside program), retrying; ``say`` is told
    once that we wait and for whom.  Past the wait: :class:`StoreBusy` (exit 4).
    The default waits as long as an unconfigured ``lock_wait_seconds``, so no
    reader fails just because a night is writing.
    """

    def __init__(self, path: Path, read_only: bool = False,
                 wait_seconds: float = LOCK_WAIT_SECONDS,
                 say: Callable[[str], None] | None = None):
        self.path = Path(path)
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.path}: cannot create the store's folder: "
                                 f"{exc.strerror}") from None
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here yet (run `recon run` first)")
        self.read_only = read_only
        self.db = self._connect(read_only, wait_seconds, say)
        self._in_transaction = False
        self.outbox = Outbox(Path(str(self.path) + ".outbox"))
        self.db.execute("SET TimeZone = 'Asia/Shanghai'")
        try:
            self._check_ours()
        except StoreError:
            self.db.close()
            raise
        if not read_only:
            self.migrate()
        self.version = self._version()
        if read_only and self.version != len(MIGRATIONS):
            # a reader cannot migrate: say so, rather than fail on a missing table later
            raise StoreError(f"{self.path}: store schema v{self.version}, this recon reads "
                             f"v{len(MIGRATIONS)}; " + ("upgrade recon" if self.version >
                                                        len(MIGRATIONS) else
                             "run `recon run` (or any command that writes) once to migrate it"))
        settled = self.outbox.settle(self._run_stored)
        if settled and say:
            say(f"{self.path}: {settled}")

    @staticmethod
    def check(path: Path) -> None:
        """Before a night pulls anything: a file at ``path`` that is not a recon store is
        StoreError (exit 4) now, not after the pull.  A store someone holds is checked
        when the night opens it."""
        path = Path(path)
        if not path.exists():
            return
        try:
            db = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                return
            raise StoreError(f"{path}: cannot open the store: "
                             f"{str(exc).splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise StoreError(f"{path}: not a recon store or unreadable: "
                             f"{str(exc).splitlines()[0]}") from None
        probe = object.__new__(Store)
        probe.path, probe.db = path, db
        try:
            probe._check_ours()
        finally:
            db.close()

    def _connect(self, read_only: bool, wait_seconds: float, say) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + wait_seconds
        pause, told = 0.02, False
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise StoreError(f"{self.path}: cannot open the store: "
                                     f"{msg.splitlines()[0]}") from None
                holder = _holder(self.path, msg)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusy(f"{self.path}: the store is held by {holder}; waited "
                                    f"{wait_seconds:g} s (lock_wait_seconds)") from None
                if not told and say:
                    say(f"{self.path}: the store is in use by {holder}; waiting up to "
                        f"{wait_seconds:g} s")
                    told = True
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.25)
            except duckdb.Error as exc:
                raise StoreError(f"{self.path}: not a recon store or unreadable: "
                                 f"{str(exc).splitlines()[0]}") from None

    # -- schema -------------------------------------------------------------
    def _check_ours(self) -> None:
        """A file that holds something and is not a recon store is never written (exit 4).

        A recon store has recon's ``schema_migrations`` (version, applied_at); a new
        file has nothing at all.  Another program's DuckDB file given as ``--db`` has
        tables of its own: migrating it would put recon's tables inside it.
        """
        tables = [r[0] for r in self.db.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database()").fetchall()]
        if "schema_migrations" in tables:
            cols = {r[0] for r in self.db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'schema_migrations' AND table_catalog = current_database()").fetchall()}
            if {"version", "applied_at"} <= cols:
                return
        elif not tables:
            return
        shown = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
        raise StoreError(f"{self.path}: not a recon store (a DuckDB file with other tables: "
                         f"{shown}; no recon schema_migrations): recon writes nothing into it; "
                         f"give --db (or [store] path) a recon store or a new file")

    def _version(self) -> int:
        have = self.db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name='schema_migrations'"
        ).fetchall()[0][0]
        if not have:
            return 0
        return self.db.execute(
            "SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]

    def migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                        "(version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
        current = self._version()
        if current > len(MIGRATIONS):
            raise StoreError(f"{self.path}: store schema v{current} is newer than this recon "
                             f"(v{len(MIGRATIONS)}); upgrade recon")
        for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction():
                self.db.execute(sql)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, now())", [version])

    @contextlib.contextmanager
    def transaction(self):
        """One transaction; inside one already open, the caller's transaction is joined.

        So a night's steps (snapshot, reconciliation, scaling flags, run row)
        each say "this is atomic" and, called from :meth:`Night.run
        <recon.nightly.Night.run>`, are atomic together.  Files staged in
        :attr:`outbox` take their names when the outermost transaction
        commits and are removed when it rolls back.
        """
        if self._in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN")
        self._in_transaction = True
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self._in_transaction = False
            with contextlib.suppress(duckdb.Error):
                self.db.execute("ROLLBACK")
            self.outbox.discard()
            raise
        self._in_transaction = False
        self.outbox.publish()

    def close(self) -> None:
        """Close; a store opened to write gets its upkeep first (:meth:`upkeep`)."""
        compact = None
        if not self.read_only and not self._in_transaction:
            with contextlib.suppress(duckdb.Error, OSError):
                compact = self.upkeep()
        if compact is not None:
            # the compact copy takes the store's name while this connection still holds
            # the old file: whoever opens the store from now on opens the copy
            os.replace(compact, self.path)
        self.db.close()

    def upkeep(self) -> Path | None:
        """The store's size policy, applied by every writer as it closes (no manual step).

        CHECKPOINT: the night's changes go into the file, the WAL is emptied, and
        the blocks that the night's deletes freed (a replaced night, item_days and
        findings re-reconciled) are free for the next writes, the free blocks at
        the end of the file cut off (DuckDB).  The file therefore keeps only
        blocks in use plus those freed and not yet reused; should the free ones
        outgrow the ones in use (:data:`COMPACT_FREE_SHARE` of the file, and at
        least :data:`COMPACT_MIN_FREE_BYTES`: a large date range deleted, say), the
        store is copied compact (``COPY FROM DATABASE``: tables, sequences and
        their values) beside the file, and the copy's path is returned for
        :meth:`close` to put in its place.  A copy cut short is only a stray
        ``.compact`` file, removed by the next one.
        """
        db = self.db
        db.execute("CHECKPOINT")
        block, used, free = db.execute(
            "SELECT block_size, used_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchall()[0]
        if free * block < COMPACT_MIN_FREE_BYTES or free < (used + free) * COMPACT_FREE_SHARE:
            return None
        tmp = self.path.with_name(self.path.name + ".compact")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        name = db.execute("SELECT current_database()").fetchall()[0][0]
        db.execute(f"ATTACH '{tmp}' AS _compact")
        try:
            db.execute(f'COPY FROM DATABASE "{name}" TO _compact')
        finally:
            db.execute("DETACH _compact")
        if Path(str(tmp) + ".wal").exists():  # not whole on its own: keep the store as it is
            tmp.unlink(missing_ok=True)
            return None
        return tmp

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def one_night(self) -> None:
        """Set the connection for one night's writes: one DuckDB thread.  A night's
        statements each touch one night's rows (tens of thousands to a few hundred
        thousand), where handing work to a second thread cost more than it gave: the 10k
        increment 0.25 -> 0.21 s, the 100k one no slower (bench/README.md).  A year's
        reconcile, which scans every night, keeps DuckDB's default."""
        self.db.execute("SET threads = 1")

    # -- runs ---------------------------------------------------------------
    def new_run_id(self) -> int:
        return self.db.execute("SELECT nextval('run_ids')").fetchall()[0][0]

    def record_run(self, snapshot_date: date, status: str, exit_code: int,
                   started_at: datetime | None = None, note: str = "",
                   run_id: int | None = None, origin: str | None = None) -> int:
        """The run's row, written once with its outcome (in the night's transaction);
        ``origin`` 'demo': a night `recon demo` generated from its scenario, not pulled."""
        if run_id is None:
            run_id = self.new_run_id()
        # a pulled night's row names only the columns every schema version has
        extra = ", origin" if origin else ""
        self.db.execute(
            "INSERT INTO runs (run_id, snapshot_date, started_at, finished_at, status, "
            f"exit_code, host, note{extra}) "
            f"VALUES (?, ?, coalesce(?, now()), now(), ?, ?, ?, ?{', ?' if origin else ''})",
            [run_id, snapshot_date, started_at, status, exit_code, os.uname().nodename, note]
            + ([origin] if origin else []))
        return run_id

    def _run_stored(self, run_id: int) -> bool:
        return self.db.execute("SELECT count(*) FROM runs WHERE run_id = ?",
                               [run_id]).fetchall()[0][0] > 0

    # -- snapshot -----------------------------------------------------------
    def replace_snapshot(self, snapshot_date: date, run_id: int, sources: list,
                         accepted: dict[str, bool]) -> None:
        """Store one night's pulled data, replacing whatever that date held.

        ``sources`` are :class:`connectors.base.SourceResult`; ``accepted``
        says, per source, whether the validation gate let its rows count.
        Rejected rows are kept (``accepted = false``) so they can be looked at.
        """
        night, meas, runs, blocks = _Night(), [], [], {}
        for res in sources:
            ok = accepted.get(res.source, False)
            status = res.status if res.status != "ok" else ("ok" if ok else "rejected")
            runs.append((res.source, status, res.reason, len(res.lines), len(res.measurements),
                         json.dumps(res.stats, default=str, ensure_ascii=False)))
            if len(res.lines):
                blocks.setdefault(res.source, ([], ok))[0].append(res.lines)
            for m in res.measurements:
                meas.append((m.source, m.item_no, m.metric,
                             None if m.quantity is None else str(m.quantity), ok, m.basis,
                             json.dumps(list(m.parts), ensure_ascii=False) if m.parts
                             else None))
        for source, (lines, ok) in blocks.items():
            night.add(source, lines, ok)
        meas_df = pd.DataFrame(meas, columns=["source", "item_no", "metric", "quantity",
                                              "accepted", "basis", "parts"])
        runs_df = pd.DataFrame(runs, columns=["source", "status", "reason", "lines",
                                              "measurements", "stats"])
        db = self.db
        try:
            with self.transaction():
                for table in SNAPSHOT_TABLES:
                    db.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot_date])
                db.register("_runs", runs_df)
                db.execute("INSERT INTO source_runs SELECT ?, ?, source, status, reason, lines, "
                           "measurements, stats::JSON FROM _runs", [snapshot_date, run_id])
                db.register("_meas", meas_df)
                db.execute(f"INSERT INTO measurements SELECT ?, source, item_no, metric, "
                           f"quantity::{QTY}, accepted, basis, parts::JSON FROM _meas",
                           [snapshot_date])
                resources = night.resources_frame()  # sets night.dicts
                db.register("_res", resources)
                self._upsert_resources(snapshot_date, resources, night.dicts)
                found = db.execute("SELECT res, resource_key FROM _seen ORDER BY res"
                                   ).fetchnumpy()
                keys = np.zeros(night.n_res, dtype=np.int32)
                keys[np.asarray(found["res"], dtype=np.int64)] = found["resource_key"]
                db.register("_lines", night.lines_frame(keys))
                db.register("_qty", night.quantities_frame())
                db.register("_unit", night.units_frame())
                # each distinct quantity is cast once, not once per line
                db.execute(f"""
                    INSERT INTO resource_lines
                    SELECT ?, l.resource_key, l.item_no, q.quantity, u.text, l.accepted
                    FROM _lines l
                    LEFT JOIN (SELECT qty, quantity::{QTY} AS quantity FROM _qty) q USING (qty)
                    LEFT JOIN _unit u USING (unit)
                """, [snapshot_date])
                db.execute("DROP TABLE _seen")
        finally:
            for view in ("_runs", "_meas", "_res", "_moved", "_lines", "_qty", "_unit", "_attrs",
                         "_json"):
                db.unregister(view)

    def _upsert_resources(self, snapshot_date: date, resources: pd.DataFrame,
                          dicts: list) -> None:
        """Each resource of the night gets its key; only what changed is written.

        ``resources`` is the night's resources (registered as ``_res``).  Leaves
        ``_seen``: each resource of the night with its key.

        Most nights almost every resource is what the store holds, and only its
        dates move.  So each is first known by its digest alone
        (:data:`RESOURCE_DIGEST`: its source, type, id, name, project and the bytes
        of its attributes, one 64-bit hash), matched to the digests stored per key
        (``resource_digests``): one join on integers, where matching 100,000
        resources to the store's on their three texts was a quarter of storing a
        100k night (bench/README.md).  Only the resources whose digest is not
        stored (new ones, or renamed, moved to another project, re-attributed:
        a handful most nights) are read back with their texts (``_moved``),
        matched on (source, type, id), given their latest name, project and
        attributes, and their digest replaced.  Encoding attributes as JSON is
        done for those alone.  Rewriting every text of ~100,000 resources a night
        cost seconds, and where earlier nights' rows were not checkpointed yet
        (several nights in one process) DuckDB's UPDATE of them took up to a minute
        a night (bench/README.md).

        A digest equal by chance to another resource's (1 in 2^64 a pair) would
        take that resource's key; equal dicts of plain API values give equal bytes
        (:func:`attributes_digest_text`), and differing bytes of the same values
        only re-encode the same JSON.  A store whose digests were taken otherwise
        (another DuckDB's hash, an older recon's: migration 17 emptied them)
        matches nothing by digest: that night reads every resource back once, and
        keeps their keys.
        """
        db = self.db
        db.register("_attrs", pd.DataFrame({
            "attr": np.arange(len(dicts), dtype=np.int64),
            "text": _digest_texts(dicts)}))
        # each distinct attributes text hashed once; a resource's key if its digest is stored
        db.execute(f"""
            CREATE OR REPLACE TEMP TABLE _seen AS
            SELECT n.res, n.attr, n.digest, d.resource_key
            FROM (SELECT s.res, s.attr, {RESOURCE_DIGEST.format(p="s.", attributes="a.digest")}
                      AS digest
                  FROM _res s JOIN (SELECT attr, hash(text) AS digest FROM _attrs) a
                  USING (attr)) n
            LEFT JOIN resource_digests d USING (digest)
        """)
        # the resources whose digest is not stored, with their texts (DuckDB reads a
        # registered frame whole at each use: 0.01 s at 100,000 resources)
        moved = db.execute("SELECT res FROM _seen WHERE resource_key IS NULL ORDER BY res"
                           ).fetchnumpy()["res"]
        db.register("_moved", _texts_of(resources.iloc[np.asarray(moved, dtype=np.int64)]))
        db.execute("""
            CREATE OR REPLACE TEMP TABLE _moves AS
            SELECT s.res, n.attr, n.digest, r.resource_key, r.resource_key IS NULL AS new
            FROM _moved s JOIN _seen n USING (res)
            LEFT JOIN resources r USING (source, resource_type, resource_id)
        """)
        # new resources are numbered after the store's last key, by (source, type, id)
        db.execute("""
            UPDATE _moves SET resource_key = k.resource_key FROM (
                SELECT n.res, (SELECT coalesce(max(resource_key), 0) FROM resources)
                    + row_number() OVER (ORDER BY s.source::VARCHAR,
                                                  s.resource_type::VARCHAR, s.resource_id)
                    AS resource_key
                FROM _moves n JOIN _moved s USING (res) WHERE n.new
            ) k WHERE _moves.res = k.res
        """)
        need = db.execute("SELECT DISTINCT attr FROM _moves ORDER BY attr"
                          ).fetchnumpy()["attr"].tolist()
        db.register("_json", pd.DataFrame({
            "attr": pd.Series(need, dtype="int64"),
            "attributes": [_attributes_json(dicts[i] or {}) for i in need]}))
        db.execute("""
            UPDATE resources r SET name = s.name, project_id = s.project_id,
                   attributes = j.attributes::JSON
            FROM _moves n JOIN _moved s USING (res) JOIN _json j ON j.attr = n.attr
            WHERE NOT n.new AND r.resource_key = n.resource_key
        """)
        db.execute("""
            INSERT INTO resources
            SELECT n.resource_key, s.source, s.resource_type, s.resource_id, s.name,
                   s.project_id, j.attributes::JSON, $1, $1
            FROM _moves n JOIN _moved s USING (res) JOIN _json j ON j.attr = n.attr
            WHERE n.new ORDER BY n.resource_key
        """, [snapshot_date])
        db.execute("""
            DELETE FROM resource_digests WHERE resource_key IN
                (SELECT resource_key FROM _moves WHERE NOT new)
        """)
        db.execute("""
            INSERT INTO resource_digests
            SELECT resource_key, digest FROM _moves ORDER BY resource_key
        """)
        db.execute("""
            UPDATE _seen SET resource_key = m.resource_key FROM _moves m
            WHERE _seen.res = m.res
        """)
        db.execute("""
            UPDATE resources r SET first_seen = least(r.first_seen, $1),
                   last_seen = greatest(r.last_seen, $1)
            FROM _seen n WHERE r.resource_key = n.resource_key
              AND (r.first_seen IS DISTINCT FROM least(r.first_seen, $1)
                   OR r.last_seen IS DISTINCT FROM greatest(r.last_seen, $1))
        """, [snapshot_date])
        db.execute("DROP TABLE _moves")

    def snapshot_dates(self) -> list[date]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT snapshot_date FROM source_runs ORDER BY 1").fetchall()]


def _lock_path(db_path: Path) -> Path:
    return Path(str(db_path) + ".lock")


def _holder(db_path: Path, duckdb_message: str) -> str:
    """Who holds the store's file, from DuckDB's lock error and the run lock file."""
    found = _HOLDER.search(duckdb_message)
    if not found:
        return "another process"
    pid, program = found["pid"], found["program"]
    try:
        run = _lock_path(db_path).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        run = ""
    if run.startswith(f"pid {pid}:"):  # the lock file names this process: say what it does
        return run
    return f"pid {pid} ({program})"


@contextlib.contextmanager
def current(db_path: Path, wait_seconds: float, say: Callable[[str], None] | None = None):
    """An existing store, migrated to this recon's schema, for commands that read it.

    Reports and ledgers read several tables at once; a night writes all of its
    tables in one transaction, so they see one night's writes whole.  They wait
    for a night's short write phase (not for its pull), and a store made by an
    older recon works without a nightly run first.  A missing store is an error,
    never a new empty one.
    """
    if not Path(db_path).exists():
        raise StoreError(f"{db_path}: no store here yet (run `recon run` first)")
    with Store(db_path, wait_seconds=wait_seconds, say=say) as store:
        yield store


@contextlib.contextmanager
def run_lock(db_path: Path, wait_seconds: float, holder: str = "recon",
             say: Callable[[str], None] | None = None):
    """Hold the store's run lock, waiting up to ``wait_seconds`` for another run.

    DuckDB's own file lock only covers an open connection; this lock covers
    the whole run, pull included, so two nights never interleave.  The lock
    file names its holder (``holder``: what the run does) for whoever waits.
    The kernel releases the lock if the process dies: no stale lock files.
    """
    lock_path = _lock_path(db_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{db_path}: cannot use the store's folder: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                other = os.pread(fd, 300, 0).decode(errors="replace").strip() or \
                    "an unknown process"
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"{db_path}: another recon run holds the store "
                                    f"({other}); waited {wait_seconds:g} s "
                                    f"(lock_wait_seconds)") from None
                if not told and say:
                    say(f"{db_path}: another recon run holds the store ({other}); "
                        f"waiting up to {wait_seconds:g} s")
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        since = datetime.now(SHANGHAI).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()}: {holder}, since {since}".encode(), 0)
        yield
    finally:
        os.close(fd)


# the conclusions' and ledgers' named functions, re-exported: callers say recon.store.<name>
from recon.tables import *  # noqa: E402,F401,F403
