"""One night: pull -> validate -> store -> reconcile -> report.

Data flows one way.  Connectors only measure; the gate only accepts or
rejects; the store only keeps; the reconciliation only concludes; the report
only shows.  Bad configuration or contract input stops the night before
anything is written (exit 3); a source that fails or is rejected is recorded
as such and the rest of the night goes on (exit 2).
"""
from __future__ import annotations

import dataclasses
import gc
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.base import SourceResult, item_numbers, texts
from connectors.exports import ExportConnector
from connectors.mapping import load_mapping
from connectors.openstack import OpenStackConnector, OpenStackScopes
from recon import conclude, rules, store as stored
from recon.contract import TERM, TRANSITION, load_contracts
from recon.errors import ConfigError, InputError
from recon.ledgers import scaling
from recon.progress import SHANGHAI, Progress
from recon.reconcile import reconcile
from reports.nightly import build_nightly, relink, write_nightly
from recon.store import Store, run_lock
from recon.validation import Columns, Gate


def today_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


@dataclass
class NightResult:
    exit_code: int
    html: Path
    json: Path
    report: object


def unmeasured_items(config, contract) -> list:
    """The contract's items whose source the configuration does not pull (in item order).

    An item whose ``source`` is an OpenStack service with no cloud configured, or
    a service no scope offers, or ``export`` with no [exports] dir, is unknown
    every night: ``recon contract check`` lists them.  Items whose source is
    ``none`` are not measured by the contract's own choice and are not listed.
    """
    if config.scopes:
        offered = None if any(s.services is None for s in config.scopes) else \
            {name for s in config.scopes for name in s.services}
    else:
        offered = None if config.cloud else set()
    out = []
    for item in contract.items.values():
        kind, _, service = item.source.partition(":")
        if kind == "export":
            pulled = bool(config.exports_dir)
        elif kind == "openstack":
            pulled = offered is None or service in offered
        else:
            continue
        if not pulled:
            out.append(item)
    return out


class Night:
    """Everything a night needs that does not change from night to night.

    ``recon demo`` plays many nights with one Night, so the contract,
    mapping and the GX context are loaded once.  A Night serves one contract
    (``contract``, the first by default); a night another contract judges
    (a follow-on, 第十三条 2) is run by that contract's own Night, made when
    first needed.
    """

    def __init__(self, config, cloud: str | None = None, cloud_config: dict | None = None,
                 progress: Progress | None = None, contracts=None, contract=None):
        self.config = config
        self.progress = progress or Progress()
        self.contracts = contracts or load_contracts(config)
        self.contract = contract or self.contracts.first
        self._made = (cloud, cloud_config)
        self._others: dict[str, Night] = {}
        self.mapping = load_mapping(self.contract.mapping_path or config.mapping_path,
                                    self.contract)
        # the report totals the penalty ledger, priced by assessment.toml: checked up front
        # (a bad file stops here, exit 3); loaded once, the night's reports read it again
        self.rules = rules.load(config)
        self.cloud = cloud if cloud is not None else config.cloud
        self.cloud_config = cloud_config
        # a cloud named on the command line is one scope; else the file's scopes, if any
        self.scopes = config.scopes if cloud is None else []
        # one mapping per mapping file: scopes without their own share the default
        self.scope_mappings = {s: load_mapping(s.mapping, self.contract) if s.mapping
                               else self.mapping for s in self.scopes}
        if not self.cloud and not self.scopes and not config.exports_dir:
            raise ConfigError(f"{config.path}: no source configured: set [openstack] cloud "
                              f"(or --cloud / OS_CLOUD) or [exports] dir")
        self.progress.step("loading the validation suites")
        self.gate = Gate(parameters={"item_numbers": sorted(self.contract.items)})
        self._check_contract()
        #: 附件3 row 4's coefficient (assessment.toml)
        self.scaling_coefficient = self.rules.scaling_coefficient

    def _night_of(self, contract) -> "Night":
        """The Night of another contract of the store (loaded once, as this one was)."""
        if contract.number not in self._others:
            cloud, cloud_config = self._made
            self._others[contract.number] = Night(self.config, cloud, cloud_config,
                                                  self.progress, self.contracts, contract)
        return self._others[contract.number]

    def _check_contract(self) -> None:
        frame = pd.DataFrame([{"item_no": i.item_no, "unit_price": i.unit_price,
                               "quantity": i.quantity, "line_total": i.line_total,
                               "price_x_quantity": i.unit_price * i.quantity}
                              for i in self.contract.items.values()])
        verdict = self.gate.validate("contract", frame)
        if not verdict.success:
            raise InputError(self.contract.items_path, "contract fails its expectations: "
                             + "; ".join(f.describe() for f in verdict.failures))

    def connectors(self):
        out = []
        if self.config.exports_dir:
            out.append(ExportConnector(self.config.exports_dir, self.contract, self.mapping,
                                       self.gate, self.config.export_max_age_days))
        if self.scopes:
            out.append(OpenStackScopes(self.scopes, self.scope_mappings, self.contract,
                                       timeout=self.config.timeout,
                                       retries=self.config.retries,
                                       cloud_config=self.cloud_config,
                                       log=self.progress.log, budget=self.config.budget))
        elif self.cloud:
            out.append(OpenStackConnector(self.cloud, self.mapping, self.contract,
                                          timeout=self.config.timeout,
                                          retries=self.config.retries,
                                          cloud_config=self.cloud_config,
                                          log=self.progress.log, budget=self.config.budget))
        return out

    def preflight(self) -> list:
        """The night's connectors, each checked (ConfigError, exit 3) before anything is written."""
        connectors = self.connectors()
        for connector in connectors:
            if hasattr(connector, "preflight"):
                connector.preflight()
        return connectors

    def pull(self, snapshot_date: date, connectors: list) -> list[SourceResult]:
        """Every connector's sources for the night (``connectors`` from :meth:`preflight`)."""
        results: list[SourceResult] = []
        for connector in connectors:
            self.progress.step(f"{snapshot_date}: pulling {connector.__class__.__name__}")
            results.extend(connector.pull(snapshot_date))
        for res in results:
            if res.ok:
                self.progress.log(f"{snapshot_date}: {res.source} ok, {len(res.lines)} resource "
                                  f"lines, {len(res.measurements)} figures")
            else:
                self.progress.problem(f"{snapshot_date}: {res.source} {res.status}: {res.reason}")
        return results

    def validate(self, results: list[SourceResult]) -> dict[str, bool]:
        """Run the gate per source; a failing source is rejected, the rest count.

        All sources are checked in one batch first (a GX validation costs
        ~0.2 s whatever the size); only when that batch fails is each source
        checked alone, to find the ones to reject.
        """
        ok = [res for res in results if res.ok]
        accepted = {res.source: False for res in results if not res.ok}
        if ok and not self._failures(ok):
            accepted.update({res.source: True for res in ok})
            return accepted
        for res in ok:
            failures = self._failures([res])
            if failures:
                res.status = "rejected"
                res.reason = "; ".join(f.describe() for f in failures)
                res.stats["failures"] = [vars(f) for f in failures]
                self.progress.problem(f"{res.source} rejected: {res.reason}")
            accepted[res.source] = not failures
        return accepted

    def _failures(self, results: list[SourceResult]) -> list:
        meas = pd.DataFrame([dataclasses.asdict(m) for r in results for m in r.measurements])
        lines = _lines_columns([r.lines for r in results])
        return [f for suite, frame in (("measurements", meas), ("resources", lines))
                for f in self.gate.validate(suite, frame).failures]

    def run(self, snapshot_date: date, db_path: Path, out_dir: Path) -> NightResult:
        """One night, all or nothing.

        The pull and the gate come first, holding only the run lock (so two
        nights never interleave, and readers keep the store meanwhile).
        Then one transaction holds the store's file: the snapshot, its
        reconciliation, the scaling flags, the report (staged in the store's
        outbox) and the run's row commit together, and the report files take
        their names right after.  Killed at any moment, the night is the old
        one or this one; see :mod:`recon.outbox`.
        """
        contract, kind = self.contracts.for_night(snapshot_date)  # before any: exit 3
        if contract is not self.contract:
            return self._night_of(contract).run(snapshot_date, db_path, out_dir)
        started = datetime.now(SHANGHAI)
        wait = self.config.lock_wait
        Store.check(db_path)  # another program's file: exit 4 before the pull
        connectors = self.preflight()  # bad configuration: exit 3 before anything is written
        with run_lock(db_path, wait, f"recon run --date {snapshot_date}", say=self.progress.log):
            results = self.pull(snapshot_date, connectors)
            # the pulled lines live until the night ends: the cyclic collector need not walk
            # them each time the gate and the store allocate (at 518,000 lines its full
            # collections were 0.15-0.3 s of the gate; bench/README.md)
            gc.freeze()
            try:
                accepted = self.validate(results)
                self.progress.step(f"{snapshot_date}: storing and reconciling")
                with Store(db_path, wait_seconds=wait, say=self.progress.log) as store:
                    store.one_night()
                    held = time.monotonic()
                    with store.transaction():
                        run_id = store.new_run_id()
                        store.replace_snapshot(snapshot_date, run_id, results, accepted)
                        reconcile(store, self.contract, [snapshot_date], self.config.idle_below)
                        if kind == TERM:  # in transition nothing is judged: no clock, no penalty
                            scaling.flag(store, self.contract, snapshot_date,
                                         self.config.penalty_basis, self.scaling_coefficient)
                            conclude.night(store, self.contract, self.config, snapshot_date)
                        stored.save_night_contract(store, snapshot_date, run_id,
                                                   self.contract.number, kind)
                        report = build_nightly(store, self.contract, snapshot_date, run_id,
                                               self.config, transition=kind == TRANSITION)
                        html, js = write_nightly(report, out_dir, store.outbox)
                        store.record_run(snapshot_date, "complete" if report.complete
                                         else "incomplete", report.exit_code, started,
                                         run_id=run_id)
                held = time.monotonic() - held  # the checkpoint on close included
                relink(out_dir, snapshot_date)  # the nights either side now link to this one
                self.progress.log(f"{snapshot_date}: stored as run {run_id} (store held "
                                  f"{held:.2f} s); the night took "
                                  f"{(datetime.now(SHANGHAI) - started).total_seconds():.1f} s")
            finally:
                gc.unfreeze()
        self.progress.done()
        return NightResult(report.exit_code, html, js, report)


def _lines_frame(blocks) -> pd.DataFrame:
    """The gate's view of several sources' :class:`connectors.base.Lines`."""
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return pd.DataFrame()
    return pd.DataFrame({
        "source": [b.source for b in blocks for _ in range(len(b))],
        "resource_type": [v for b in blocks for v in b.resource_type],
        "resource_id": [v for b in blocks for v in b.resource_id],
        "item_no": pd.array([v for b in blocks for v in b.item_no], dtype="Int64"),
        "quantity": [v for b in blocks for v in b.quantity],
        "unit": [v for b in blocks for v in b.unit],
    })


def _lines_columns(blocks) -> Columns:
    """The gate's view of several sources' :class:`connectors.base.Lines`, as columns
    (numpy arrays made in C from the lists, no Python per line; the source and the type,
    a few distinct texts, as Categoricals); :func:`_lines_frame` only if pandas must judge."""
    blocks = [b for b in blocks if len(b)]
    if not blocks:
        return Columns({}, pd.DataFrame)

    def column(name):  # each block's array is kept for the store (connectors.base.Lines)
        return np.concatenate([b.array(name) for b in blocks])

    sources = list(dict.fromkeys(b.source for b in blocks))
    codes = np.repeat(np.array([sources.index(b.source) for b in blocks], dtype=np.int64),
                      [len(b) for b in blocks])
    rtype, types = pd.factorize(column("resource_type"))
    return Columns({
        "source": pd.Categorical.from_codes(codes, pd.Index(sources, dtype=object)),
        "resource_type": pd.Categorical.from_codes(rtype, pd.Index(types, dtype=object)),
        "resource_id": column("resource_id"),
        "item_no": item_numbers(blocks, "Int64"),
        "quantity": column("quantity"),
    }, lambda: _lines_frame(blocks), {"quantity": lambda: texts(blocks, "quantity")})
