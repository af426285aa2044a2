#!/usr/bin/env python
"""Benchmark: a year of nightly snapshots -> reconcile (DuckDB SQL) -> nightly report.

    python bench/bench_reconcile.py [--resources 10000,100000] [--days 365] [--keep DIR]

Each size in --resources is run in turn (the default: 10,000 then 100,000, the 10x tenant),
and a cost table compares them at the end.

What it does, in order (see bench/README.md for the figures measured):

1. Generates a deterministic synthetic estate: ~10,000 resources alive per day (60 %
   servers with a vCPU and a RAM line, 30 % volumes of type general/ssd/unmapped
   'archive', floating IPs, load balancers, a few bare-metal and service hosts),
   created and deleted over the year, with item-level measurements ('allocated' and
   'in_use') per source, and some source-days failed (no rows) or rejected (rows kept
   with accepted = false).  Each night is handed over as connectors do: a
   ``connectors.base.Lines`` of columns per source.  All nights but the last are written
   into a fresh store through a bulk SQL path that produces exactly what
   ``Store.replace_snapshot`` would: this is *checked* by writing the first
   ``--verify-days`` days through ``replace_snapshot`` into a second, young store (the
   seconds per night are reported: nights 1..8 of a new tenant) and comparing resources,
   resource_digests, resource_lines, measurements and source_runs row for row.  The last
   night is then stored as ``recon run`` stores a night, through ``replace_snapshot`` into
   the year-old store, and timed (the nightly ingest).  Generation time is reported apart
   from the timed sections.
2. Times each section in fresh child processes (``recon run`` is a fresh process every
   night): wall of the first run in each process (median over ``--repeat`` processes) and
   of a second, warm run; CPU time; peak RSS from Linux VmHWM, reset after imports
   (``ru_maxrss`` would inherit the parent's peak across fork/exec):
   (a) ``reconcile`` over every date, then for the last date what ``recon run`` does
       after it: ``scaling.flag`` + ``build_nightly`` + ``write_nightly``;
   (b) the nightly case: the same for the last date only;
   (c) the same computation in plain pandas (groupby/merge), table reads timed apart,
       and checks that pandas' item_days and findings equal DuckDB's, row for row.  When
       the whole year does not fit in memory, pandas takes it in runs of dates (times
       summed): each date's result depends on its own rows only.
3. Measures the store file (after CHECKPOINT) in bytes per resource-day, and the
   blocks in use.

``--gate N`` instead times only the GX gate (issue 25 target 4: under 1 s at 100,000
servers, ~555,000 lines): the last of 3 nights of an N-resource estate (N=400,000 gives
~518,000 lines), validated as ``Night.validate`` does it, the gate built first (a night
builds it before its pull), in ``--repeat`` fresh processes.

Nothing in recon/ is modified; the project's own Store, reconcile, scaling.flag,
build_nightly and write_nightly are what is timed.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from settle import settle  # noqa: E402  (bench/, beside this file)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from connectors.base import Lines, Measurement, SourceResult  # noqa: E402
from recon import conclude, labels, penalties, rules as rulebook  # noqa: E402
from recon.ledgers import scaling  # noqa: E402
from recon.config import load_config  # noqa: E402
from recon.contract import load_contract  # noqa: E402
from recon.data import BUNDLED_CONFIG  # noqa: E402
from recon.reconcile import MAX_IDS, SEVERITY, contract_days, reconcile  # noqa: E402
from reports.nightly import build_nightly, write_nightly  # noqa: E402
from recon.store import RESOURCE_DIGEST, Store, attributes_digest_text  # noqa: E402

START = date(2026, 7, 10)
CONFIG = BUNDLED_CONFIG
NEVER = 2 ** 30  # a change day that never comes

TARGET_BPRD = 50.0      # bytes per resource-day
TARGET_YEAR_S = 5.0     # reconcile + nightly report over a year, seconds (at 100,000 resources)
#: one night into a year-long store: replace_snapshot + reconcile + report (issue 25: 0.5 s
#: at 100,000 resources, 0.2 s at 10,000; sizes between take the 100,000 figure)
TARGET_NIGHT_S = {10_000: 0.2, 100_000: 0.5}
#: pandas' peak RSS per resource of the estate (10,000 resources: ~1.7 GiB); (c) is skipped,
#: saying so, when the machine has not this much available (it would swap or be killed)
PANDAS_MIB_PER_RESOURCE = 0.2
TARGET_SPEEDUP = 10.0   # DuckDB vs plain pandas

SOURCES = ("openstack:compute", "openstack:block-storage", "openstack:network",
           "openstack:load-balancer", "openstack:object-store", "openstack:image", "export")

# name, vCPUs, RAM MB, share
FLAVORS = [("s6.micro.1", 1, 512, .02), ("s6.small.1", 1, 1024, .10),
           ("s6.medium.2", 1, 2048, .10), ("s6.large.2", 2, 4096, .23),
           ("s6.xlarge.2", 4, 8192, .25), ("s6.2xlarge.2", 8, 16384, .15),
           ("s6.4xlarge.2", 16, 32768, .10), ("m6.2xlarge.8", 8, 65536, .05)]
BAREMETAL = [(3, "bm.kp920.910b"), (3, "bm.kp920.910b"), (3, "bm.kp920.910b"),
             (4, "bm.a10x4"), (31, "bm.gpu16"), (31, "bm.gpu16")]
SERVICE_HOSTS = [(13, "s6.xlarge.2"), (13, "s6.xlarge.2")]
VOLUME_TYPES = [("general", 5, .40, [40, 50, 100, 200, 500]),
                ("ssd", 6, .55, [100, 200, 500, 1000, 2000]),
                ("archive", None, .05, [1000, 2000, 4000])]   # 'archive': mapped to no item


def qtext(micro: int) -> str:
    """A quantity held as millionths, written as recon's connectors would hand it over."""
    sign = "-" if micro < 0 else ""
    micro = abs(int(micro))
    return f"{sign}{micro // 1_000_000}.{micro % 1_000_000:06d}"


# ---------------------------------------------------------------------------
# 1. the synthetic estate
# ---------------------------------------------------------------------------
class World:
    """Every resource of the year, its lines, and what each source reports each day.

    Deterministic for (resources, days, seed).  Quantities are integers in millionths
    so that the bulk path and the replace_snapshot path agree to the last digit.
    """

    def __init__(self, contract, resources: int = 10_000, days: int = 365, seed: int = 20260710):
        self.contract = contract
        self.days = days
        self.dates = [START + timedelta(days=d) for d in range(days)]
        rng = np.random.default_rng(seed)
        self.rng = rng
        projects = [uuid.UUID(bytes=rng.bytes(16), version=4).hex for _ in range(40)]

        res = {k: [] for k in ("source", "resource_type", "resource_id", "name", "project_id",
                               "birth", "death", "change_day", "attr_before", "attr_after")}
        tmpl = {k: [] for k in ("res_idx", "item_no", "unit", "q_before", "q_after")}

        def uid() -> str:
            return str(uuid.UUID(bytes=rng.bytes(16), version=4))

        def add_resource(source, rtype, name, birth, death, change_day, before, after,
                         lines) -> None:
            idx = len(res["source"])
            res["source"].append(source)
            res["resource_type"].append(rtype)
            res["resource_id"].append(uid())
            res["name"].append(name)
            res["project_id"].append(projects[int(rng.integers(len(projects)))])
            res["birth"].append(birth)
            res["death"].append(death)
            res["change_day"].append(change_day)
            res["attr_before"].append(before)
            res["attr_after"].append(after)
            for item, unit, qb, qa in lines:
                tmpl["res_idx"].append(idx)
                tmpl["item_no"].append(item)
                tmpl["unit"].append(unit)
                tmpl["q_before"].append(qb)
                tmpl["q_after"].append(qa)

        n_srv = round(resources * 0.60)
        n_vol = round(resources * 0.30)
        n_fip = round(resources * 0.05)
        n_special = len(BAREMETAL) + len(SERVICE_HOSTS)
        n_lb = max(resources - n_srv - n_vol - n_fip - n_special, 1)

        def change_in(birth, death, share):
            lo, hi = max(birth, 0) + 1, min(death, days)
            if hi > lo and rng.random() < share:
                return int(rng.integers(lo, hi))
            return NEVER

        def created(birth):
            return f"{START + timedelta(days=int(birth))}T{int(rng.integers(0, 24)):02d}:" \
                   f"{int(rng.integers(0, 60)):02d}:00Z"

        # servers: vCPU (item 1) and RAM GB (item 2); 10 % change: half resized, half shut off
        shares = np.array([f[3] for f in FLAVORS])
        for n, (birth, death) in enumerate(self._lifecycles(n_srv, 400)):
            f = int(rng.choice(len(FLAVORS), p=shares / shares.sum()))
            cday = change_in(birth, death, 0.10)
            f2 = f
            before = {"flavor": FLAVORS[f][0], "status": "ACTIVE", "created": created(birth)}
            after = dict(before)
            if cday != NEVER:
                if rng.random() < 0.5 and f < len(FLAVORS) - 1:
                    f2 = f + 1
                    after["flavor"] = FLAVORS[f2][0]
                else:
                    after["status"] = "SHUTOFF"
            add_resource("openstack:compute", "server", f"app-{n:05d}", birth, death, cday,
                         before, after,
                         [(1, "vCPU", FLAVORS[f][1] * 1_000_000, FLAVORS[f2][1] * 1_000_000),
                          (2, "GB", FLAVORS[f][2] * 1_000_000 // 1024,
                           FLAVORS[f2][2] * 1_000_000 // 1024)])
        # bare metal (3, 4, 31) and remote-access hosts (13): 1 台 each; one 16-GPU is
        # returned two thirds into the year (a shortfall from then on)
        for n, (item, flavor) in enumerate(BAREMETAL + SERVICE_HOSTS):
            death = int(days * 2 / 3) if (item == 31 and n == 5) else NEVER
            attrs = {"flavor": flavor, "status": "ACTIVE", "created": created(-30 - n)}
            add_resource("openstack:compute", "server", f"bm-{n:02d}", -30 - n, death, NEVER,
                         attrs, attrs,
                         [(item, self.contract.items[item].unit, 1_000_000, 1_000_000)])
        # volumes: general -> 5, ssd -> 6, archive -> no item; 5 % extended (doubled)
        vshares = np.array([v[2] for v in VOLUME_TYPES])
        for n, (birth, death) in enumerate(self._lifecycles(n_vol, 500)):
            vt, item, _, sizes = VOLUME_TYPES[int(rng.choice(3, p=vshares))]
            size = int(rng.choice(sizes))
            cday = change_in(birth, death, 0.05)
            status = "in-use" if rng.random() < 0.85 else "available"
            attrs = {"status": status, "volume_type": vt}
            add_resource("openstack:block-storage", "volume", f"vol-{n:05d}", birth, death,
                         cday, attrs, attrs,
                         [(item, "GB", size * 1_000_000,
                           (2 * size if cday != NEVER else size) * 1_000_000)])
        # floating IPs (10), 90 % attached to a port
        for n, (birth, death) in enumerate(self._lifecycles(n_fip, 700)):
            attached = rng.random() < 0.9
            attrs = {"port_id": uid() if attached else None, "qos_policy_id": None}
            add_resource("openstack:network", "floatingip",
                         f"36.112.{n // 250}.{n % 250 + 1}", birth, death, NEVER, attrs, attrs,
                         [(10, "个", 1_000_000, 1_000_000)])
        # load balancers (11)
        for n, (birth, death) in enumerate(self._lifecycles(n_lb, 900)):
            attrs = {"provisioning_status": "ACTIVE",
                     "vip_address": f"10.20.{n // 250}.{n % 250 + 1}"}
            add_resource("openstack:load-balancer", "loadbalancer", f"lb-{n:04d}", birth,
                         death, NEVER, attrs, attrs, [(11, "个", 1_000_000, 1_000_000)])

        self.res = res
        self.birth = np.array(res["birth"], dtype=np.int64)
        self.death = np.array(res["death"], dtype=np.int64)
        self.change_day = np.array(res["change_day"], dtype=np.int64)
        self.res_source = np.array([SOURCES.index(s) for s in res["source"]])
        self.attr_json = [[json.dumps(a, default=str, ensure_ascii=False, sort_keys=True)
                           for a in res[k]] for k in ("attr_before", "attr_after")]
        self.attr_digest_text = [[attributes_digest_text(a) for a in res[k]]
                                 for k in ("attr_before", "attr_after")]
        # columns as object arrays, to hand a night's lines over as columns (connectors.base.Lines)
        self.col = {k: np.array(res[k], dtype=object) for k in
                    ("resource_type", "resource_id", "name", "project_id", "attr_before",
                     "attr_after")}
        self.t_item_obj = np.array(tmpl["item_no"], dtype=object)
        self.t_unit = np.array(tmpl["unit"], dtype=object)
        self.tmpl = tmpl
        self.t_res = np.array(tmpl["res_idx"], dtype=np.int64)
        self.t_item = np.array([-1 if i is None else i for i in tmpl["item_no"]], dtype=np.int64)
        self.t_qb = np.array(tmpl["q_before"], dtype=np.int64)
        self.t_qa = np.array(tmpl["q_after"], dtype=np.int64)
        self.t_source = self.res_source[self.t_res]
        self._status()

    def _lifecycles(self, slots: int, mean_life: float):
        """(birth, death) per resource: each slot is refilled 0-3 days after a deletion."""
        rng, days = self.rng, self.days
        birth = -rng.integers(1, 720, slots)
        death = rng.exponential(mean_life, slots).astype(np.int64) + 1
        out = []
        while len(birth):
            out.extend(zip(birth.tolist(), death.tolist()))
            nb = death + rng.integers(0, 4, len(death))
            keep = nb < days
            birth = nb[keep]
            death = birth + 1 + rng.exponential(mean_life, len(birth)).astype(np.int64)
        return out

    def _status(self) -> None:
        """Per day and source: ok, failed (no rows) or rejected (rows kept, not counted)."""
        rng = self.rng
        st = np.where(rng.random((self.days, len(SOURCES))) < 0.015, "failed", "ok").astype(object)
        st[rng.random((self.days, len(SOURCES))) < 0.005] = "rejected"
        st[:, SOURCES.index("export")][rng.random(self.days) < 0.02] = "failed"
        for day, src, what in ((2, "openstack:block-storage", "failed"),
                               (4, "openstack:compute", "rejected"), (5, "export", "failed")):
            if day < self.days:
                st[day, SOURCES.index(src)] = what
        self.status = st
        self.seconds = np.round(rng.uniform(0.5, 9.0, (self.days, len(SOURCES))), 2)

    # -- per day ------------------------------------------------------------
    def stored_lines(self, d: int) -> np.ndarray:
        """Template line indices stored on day d (alive, and its source not failed)."""
        alive = (self.birth[self.t_res] <= d) & (d < self.death[self.t_res])
        return np.flatnonzero(alive & (self.status[d][self.t_source] != "failed"))

    def source_rows(self, d: int, lines: np.ndarray):
        """source -> (status, reason, stats, [(item, metric, micro)]) for day d."""
        qty = np.where(d >= self.change_day[self.t_res[lines]], self.t_qa[lines],
                       self.t_qb[lines])
        items, src = self.t_item[lines], self.t_source[lines]
        used = {}
        for s in np.unique(src):
            m = (src == s) & (items >= 0)
            sums = np.bincount(items[m], weights=qty[m].astype(np.float64))
            used[SOURCES[s]] = {i: int(round(v)) for i, v in enumerate(sums) if v}
        # floating IPs in use are the attached ones
        fip = lines[(items == 10)]
        used.setdefault("openstack:network", {})[10] = 1_000_000 * sum(
            self.res["attr_before"][r]["port_id"] is not None for r in self.t_res[fip].tolist())
        n_lines = Counter(SOURCES[s] for s in src.tolist())
        M = 1_000_000
        frac = d / max(self.days - 1, 1)
        out = {}
        for k, source in enumerate(SOURCES):
            status = self.status[d, k]
            stats = {"requests": 3 + k, "seconds": float(self.seconds[d, k])}
            if status == "failed":
                out[source] = ("failed", f"超时：{source}: GET https://{source.split(':')[-1]}"
                               f".cloud.example/v2: timed out after 30 s (3 attempts)",
                               dict(stats, reason_code="timeout"), [])
                continue
            u = used.get(source, {})
            figs = []
            if source == "openstack:compute":
                figs += [(1, "allocated", 40_000 * M), (1, "in_use", u.get(1, 0)),
                         (2, "allocated", 160_000 * M), (2, "in_use", u.get(2, 0))]
                for item in (3, 4, 13, 31):
                    figs += [(item, "allocated", u.get(item, 0)), (item, "in_use", u.get(item, 0))]
            elif source == "openstack:block-storage":
                figs += [(5, "allocated", (17_082 if frac < 0.33 else 16_000) * M),
                         (5, "in_use", u.get(5, 0)),
                         (6, "allocated", 1_500_000 * M), (6, "in_use", u.get(6, 0)),
                         (8, "allocated", 11 * M), (8, "in_use", 0)]
            elif source == "openstack:network":
                figs += [(9, "allocated", 3500 * M),
                         (9, "in_use", int(800 + 600 * abs(np.sin(d / 9))) * M),
                         (10, "allocated", (30 if frac < 0.25 else 600) * M),
                         (10, "in_use", u.get(10, 0)),
                         (15, "allocated", 4 * M), (15, "in_use", 4 * M),
                         (30, "allocated", M), (30, "in_use", M)]
            elif source == "openstack:load-balancer":
                figs += [(11, "allocated", 800 * M), (11, "in_use", u.get(11, 0))]
            elif source == "openstack:object-store":
                figs += [(7, "allocated", M), (7, "in_use", M)]
            elif source == "openstack:image":
                figs += [(25, "allocated", 15 * M), (25, "in_use", (12 + d % 4) * M),
                         (26, "allocated", 90 * M), (26, "in_use", 80 * M)]
            else:  # console exports: what the contract says, some used little
                for item in self.contract.items.values():
                    if item.source != "export":
                        continue
                    q = int(item.quantity) * M
                    figs += [(item.item_no, "allocated", q),
                             (item.item_no, "in_use", q // 5 if item.item_no in (17, 21) else q)]
            reason = None
            if status == "rejected":
                reason = ("resources: expect_column_values_to_not_be_null(resource_id) "
                          "failed for 3 rows")
                stats["failures"] = [{"suite": "resources", "column": "resource_id",
                                      "expectation": "expect_column_values_to_not_be_null",
                                      "unexpected": 3}]
            out[source] = (status, reason, stats, sorted(figs))
        return out, n_lines, qty

    def results(self, d: int) -> tuple[list[SourceResult], dict[str, bool]]:
        """Day d as connectors hand it to Store.replace_snapshot."""
        lines = self.stored_lines(d)
        rows, _, qty = self.source_rows(d, lines)
        # as a connector hands them over: columns per source, one attributes dict per resource
        # shared by its lines (a server's vCPU and RAM lines)
        by_source: dict[str, Lines] = {s: Lines(s) for s in SOURCES}
        r = self.t_res[lines]
        src = self.t_source[lines]
        col = self.col
        attrs = np.where(d >= self.change_day[r], col["attr_after"][r], col["attr_before"][r])
        quantity = np.array([Decimal(qtext(q)) for q in qty.tolist()], dtype=object)
        for k, source in enumerate(SOURCES):
            m = src == k
            if not m.any():
                continue
            rk = r[m]
            by_source[source].extend(
                resource_type=col["resource_type"][rk].tolist(),
                resource_id=col["resource_id"][rk].tolist(), name=col["name"][rk].tolist(),
                project_id=col["project_id"][rk].tolist(),
                item_no=self.t_item_obj[lines[m]].tolist(), quantity=quantity[m].tolist(),
                unit=self.t_unit[lines[m]].tolist(), attributes=attrs[m].tolist())
        results, accepted = [], {}
        for source in SOURCES:
            status, reason, stats, figs = rows[source]
            if status == "failed":
                results.append(SourceResult.failed(source, reason, **stats))  # keeps reason_code
            else:
                results.append(SourceResult(
                    source, status, reason, by_source[source],
                    [Measurement(source, i, m, Decimal(qtext(q)),
                          "quota" if m == "allocated" else "usage") for i, m, q in figs], stats))
            accepted[source] = status == "ok"
        return results, accepted


def write_replace(store: Store, world: World, ndays: int) -> list[float]:
    """The project's own path: replace_snapshot and the run's row, per night."""
    times = []
    for d in range(ndays):
        results, accepted = world.results(d)
        t0 = time.perf_counter()
        with store.transaction():
            run_id = store.record_run(world.dates[d], "complete", 0)
            store.replace_snapshot(world.dates[d], run_id, results, accepted)
        times.append(time.perf_counter() - t0)
    return times


def write_bulk(store: Store, world: World, ndays: int) -> None:
    """The same table contents as ``ndays`` nights of replace_snapshot, in a few SQL
    statements: resource keys are numbered by (first day seen, source, type, id) exactly
    as Store._upsert_resources numbers new resources night by night; name, project and
    attributes are those of the last day seen."""
    db = store.db
    run_ids = []
    for d in range(ndays):
        run_ids.append(store.record_run(world.dates[d], "complete", 0))
    days, idx, acc, runs, meas = [], [], [], [], []
    for d in range(ndays):
        lines = world.stored_lines(d)
        rows, n_lines, _ = world.source_rows(d, lines)
        ok = np.array([rows[s][0] == "ok" for s in SOURCES])
        days.append(np.full(len(lines), d, dtype=np.int16))
        idx.append(lines.astype(np.int32))
        acc.append(ok[world.t_source[lines]])
        for source in SOURCES:
            status, reason, stats, figs = rows[source]
            runs.append((world.dates[d], run_ids[d], source, status, reason,
                         n_lines.get(source, 0) if status != "failed" else 0, len(figs),
                         json.dumps(stats, default=str, ensure_ascii=False)))
            meas += [(world.dates[d], source, i, m, qtext(q), status == "ok")
                     for i, m, q in figs]
    g_days = pd.DataFrame({"day": np.concatenate(days), "line_idx": np.concatenate(idx),
                           "accepted": np.concatenate(acc)})
    res = world.res
    g_res = pd.DataFrame({"res_idx": np.arange(len(res["source"]), dtype=np.int32),
                          "source": res["source"], "resource_type": res["resource_type"],
                          "resource_id": res["resource_id"], "name": res["name"],
                          "project_id": res["project_id"], "attr_before": world.attr_json[0],
                          "attr_after": world.attr_json[1],
                          "digest_before": world.attr_digest_text[0],
                          "digest_after": world.attr_digest_text[1],
                          "change_day": world.change_day})
    g_tmpl = pd.DataFrame({"line_idx": np.arange(len(world.t_res), dtype=np.int32),
                           "res_idx": world.t_res.astype(np.int32),
                           "item_no": pd.array(world.tmpl["item_no"], dtype="Int16"),
                           "unit": world.tmpl["unit"],
                           "q_before": [qtext(q) for q in world.t_qb],
                           "q_after": [qtext(q) for q in world.t_qa]})
    g_runs = pd.DataFrame(runs, columns=["snapshot_date", "run_id", "source", "status",
                                         "reason", "lines", "measurements", "stats"])
    g_meas = pd.DataFrame(meas, columns=["snapshot_date", "source", "item_no", "metric",
                                         "quantity", "accepted"])
    for name, frame in (("g_days", g_days), ("g_res", g_res), ("g_tmpl", g_tmpl),
                        ("g_runs", g_runs), ("g_meas", g_meas)):
        db.register(name, frame)
    start = START.isoformat()
    db.execute("BEGIN")
    try:
        db.execute("INSERT INTO source_runs SELECT snapshot_date::DATE, run_id, source, status, "
                   "reason, lines, measurements, stats::JSON FROM g_runs "
                   "ORDER BY snapshot_date, source")
        db.execute("INSERT INTO measurements BY NAME SELECT snapshot_date::DATE AS "
                   "snapshot_date, source, item_no, metric, "
                   "quantity::DECIMAL(18,6) AS quantity, accepted, "
                   "CASE metric WHEN 'allocated' THEN 'quota' ELSE 'usage' END AS basis "
                   "FROM g_meas")
        db.execute("CREATE TEMP TABLE _tmpl AS SELECT line_idx, res_idx, item_no::SMALLINT "
                   "AS item_no, unit, q_before::DECIMAL(18,6) AS q_before, "
                   "q_after::DECIMAL(18,6) AS q_after FROM g_tmpl")
        db.execute(f"""
            CREATE TEMP TABLE _keys AS
            WITH seen AS (
                SELECT t.res_idx, min(d.day) AS first_d, max(d.day) AS last_d
                FROM g_days d JOIN _tmpl t USING (line_idx) GROUP BY ALL
            )
            SELECT row_number() OVER (ORDER BY s.first_d, r.source, r.resource_type,
                                                r.resource_id)::INTEGER AS resource_key,
                   r.*, s.first_d, s.last_d
            FROM seen s JOIN g_res r USING (res_idx)
        """)
        db.execute(f"""
            INSERT INTO resources
            SELECT resource_key, source, resource_type, resource_id, name, project_id,
                   (CASE WHEN last_d >= change_day THEN attr_after ELSE attr_before END)::JSON,
                   DATE '{start}' + first_d::INTEGER, DATE '{start}' + last_d::INTEGER
            FROM _keys ORDER BY resource_key
        """)
        db.execute(f"""
            INSERT INTO resource_digests
            SELECT resource_key, {RESOURCE_DIGEST.format(p="", attributes=
                "hash(CASE WHEN last_d >= change_day THEN digest_after ELSE digest_before END)")}
            FROM _keys ORDER BY resource_key
        """)
        db.execute(f"""
            INSERT INTO resource_lines
            SELECT DATE '{start}' + d.day::INTEGER, k.resource_key, t.item_no,
                   CASE WHEN d.day >= k.change_day THEN t.q_after ELSE t.q_before END,
                   t.unit, d.accepted
            FROM g_days d JOIN _tmpl t USING (line_idx) JOIN _keys k USING (res_idx)
            ORDER BY d.day, k.resource_key, t.item_no
        """)
        db.execute("DROP TABLE _tmpl")
        db.execute("DROP TABLE _keys")
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise
    finally:
        for name in ("g_days", "g_res", "g_tmpl", "g_runs", "g_meas"):
            db.unregister(name)


SNAPSHOT_COMPARE = ("resources", "resource_digests", "resource_lines", "measurements",
                    "source_runs")


def compare_stores(a: Path, b: Path) -> dict[str, tuple[int, int, int]]:
    """table -> (rows in a, rows only in a, rows only in b); EXCEPT ALL both ways."""
    import duckdb
    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    out = {}
    for t in SNAPSHOT_COMPARE:
        n = con.execute(f"SELECT count(*) FROM a.{t}").fetchone()[0]
        only_a = con.execute(f"SELECT count(*) FROM (FROM a.{t} EXCEPT ALL FROM b.{t})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM (FROM b.{t} EXCEPT ALL FROM a.{t})").fetchone()[0]
        out[t] = (n, only_a, only_b)
    con.close()
    return out


# ---------------------------------------------------------------------------
# 2c. the same reconciliation, written plainly in pandas
# ---------------------------------------------------------------------------
def read_tables(db, dates: list[date] | None = None) -> dict[str, pd.DataFrame]:
    """The tables pandas reconciles from; with ``dates``, the dated tables for those only."""
    where = "" if dates is None else f"WHERE snapshot_date BETWEEN '{min(dates)}' AND " \
                                     f"'{max(dates)}'"
    return {t: db.execute(f"SELECT * FROM {t} {where if t != 'resources' else ''}").df()
            for t in ("measurements", "source_runs", "resource_lines", "resources")}


def date_chunks(dates: list[date], chunk_days: int) -> list[list[date]]:
    """The year in consecutive runs of ``chunk_days`` dates (0: the whole year at once)."""
    if not chunk_days or chunk_days >= len(dates):
        return [dates]
    return [dates[i:i + chunk_days] for i in range(0, len(dates), chunk_days)]


MICRO = Decimal("1e-6")


def _value(unit_day: pd.Series, qty: pd.Series) -> pd.Series:
    """DuckDB's ``(unit_day_value::DECIMAL(38,10) * qty)::DECIMAL(18,6)``: the exact
    product of two decimals, rounded half away from zero to 6 places.  ``qty`` is a
    DECIMAL(18,6) read as float; formatting it to 6 places gives back its exact value."""
    return pd.Series([np.nan if pd.isna(q) else
                      float((u * Decimal(f"{q:.6f}")).quantize(MICRO, ROUND_HALF_UP))
                      for u, q in zip(unit_day, qty)], index=qty.index, dtype="float64")


def _utilisation(in_use: pd.Series, alloc: pd.Series) -> pd.Series:
    """reconcile's utilisation: in use / allocated, the exact quotient rounded half up to 4
    places (0.14525 -> 0.1453).  Both are DECIMAL(18,6) read as float: 6 places give back
    their exact value; NaN where ``alloc`` is (not measured, or nothing allocated)."""
    return pd.Series([np.nan if pd.isna(a) else float(
        (Decimal(f"{u:.6f}") / Decimal(f"{a:.6f}")).quantize(Decimal("1e-4"), ROUND_HALF_UP))
        for u, a in zip(in_use, alloc)], index=in_use.index, dtype="float64")


def _qtxt(v, unit=None) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    return labels.qty(Decimal(f"{v:.6f}"), unit)


def _source_message(source, status, reason, stats) -> str:
    code = stats.get("reason_code")
    text = labels.reason_text(code, reason)
    name = labels.source_text(source)
    if status == "failed":
        return f"数据源 {name} 未能采集：{text}"
    if (code or "rejected") == "rejected":
        return f"数据源 {name} 的数据未通过校验，本日不计：{reason or ''}"
    return f"数据源 {name} 的数据本日不计：{text}"


def _dec(v, places: int = 6):
    return None if pd.isna(v) else f"{v:.{places}f}"


def pandas_reconcile(t: dict[str, pd.DataFrame], contract, dates: list[date],
                     idle_below: Decimal) -> tuple[pd.DataFrame, pd.DataFrame]:
    """item_days and findings for ``dates``, computed the way recon/reconcile.py does."""
    keys = ["snapshot_date", "item_no"]
    days = pd.to_datetime(pd.Series(dates)).astype("datetime64[us]")
    cd = contract_days(contract, dates).astype({
        "snapshot_date": "datetime64[us]", "item_no": "int16", "contracted": "float64"})
    # the per-unit day value comes as exact decimal text (divided in Python Decimal)
    cd["unit_day_value"] = cd["unit_day_value"].map(Decimal)

    # -- item_days ----------------------------------------------------------
    m = t["measurements"]
    m = m[m["snapshot_date"].isin(days)]
    m = m.assign(alloc=m["quantity"].where((m["metric"] == "allocated") & m["accepted"]),
                 used=m["quantity"].where((m["metric"] == "in_use") & m["accepted"]),
                 rejected=~m["accepted"])
    g = m.groupby(keys)
    fig = g[["alloc", "used"]].sum(min_count=1).join(g["rejected"].any())
    by = (m[m["accepted"]].groupby(keys)["source"]
          .agg(lambda s: ", ".join(sorted(s.unique()))).rename("measured_by"))
    fig = fig.join(by).reset_index()
    d = cd.merge(fig, on=keys, how="left")
    measured = (d["source"] != "none") & d["alloc"].notna() & ~d["rejected"].fillna(False).astype(bool)
    in_use = d["used"].fillna(0.0)
    shortfall = (d["contracted"] - d["alloc"]).clip(lower=0).where(measured)
    overage = (in_use - d["contracted"]).clip(lower=0).where(measured)
    util = _utilisation(in_use, d["alloc"].where(measured & (d["alloc"] > 0)))
    unit_day = d["unit_day_value"]
    status = np.select(
        [d["source"] == "none", ~measured, shortfall > 0, overage > 0, util < float(idle_below)],
        ["not_measured", "unknown", "shortfall", "over", "idle"], "ok")
    item_days = pd.DataFrame({
        "snapshot_date": d["snapshot_date"], "item_no": d["item_no"],
        "contracted": d["contracted"], "allocated": d["alloc"].where(measured),
        "in_use": in_use.where(measured), "shortfall": shortfall, "overage": overage,
        "utilisation": util,
        "day_value": _value(unit_day, d["contracted"]),
        "shortfall_value": _value(unit_day, shortfall),
        "overage_value": _value(unit_day, overage),
        "status": status, "measured_by": d["measured_by"],
        # the bench's figures are all quotas and usage, without parts
        "allocated_basis": pd.Series("quota", index=d.index).where(measured, None),
        "in_use_basis": pd.Series("usage", index=d.index).where(measured, None),
        "unlimited": pd.Series(False, index=d.index, dtype=object).where(measured, None),
        "parts": pd.Series(None, index=d.index, dtype=object)})

    # -- resource ids behind each item and date (accepted lines) --------------
    lines = t["resource_lines"]
    lines = lines[lines["accepted"] & lines["snapshot_date"].isin(days)]
    rid = t["resources"][["resource_key", "source", "resource_type", "resource_id"]]
    lr = lines.merge(rid, on="resource_key").sort_values("resource_id")
    gi = lr.groupby(keys)["resource_id"]
    ids = pd.DataFrame({"n": gi.size(), "ids": gi.agg(lambda s: list(s.iloc[:MAX_IDS]))}
                       ).reset_index()

    # -- findings: shortfall, overage, allocation over contract, idle ------------
    flag = pd.concat([
        item_days[item_days["status"] == "shortfall"].assign(code="allocation_shortfall"),
        item_days[item_days["overage"] > 0].assign(code="usage_over_contract"),
        item_days[item_days["allocated"] > item_days["contracted"]].assign(
            code="allocation_over_contract"),
        item_days[item_days["status"] == "idle"].assign(code="idle_capacity")])
    flag = flag.merge(ids, on=keys, how="left")
    msg, figs, idj = [], [], []
    for r in flag.itertuples(index=False):
        u = contract.items[r.item_no].unit
        if r.code == "allocation_shortfall":
            msg.append(f"第{r.item_no}项 分配 {_qtxt(r.allocated, u)} 少于合同 "
                       f"{_qtxt(r.contracted, u)}，缺 {_qtxt(r.shortfall, u)}")
        elif r.code == "usage_over_contract":
            msg.append(f"第{r.item_no}项 使用 {_qtxt(r.in_use, u)} 超出合同 "
                       f"{_qtxt(r.contracted, u)}，超 {_qtxt(r.overage, u)}")
        elif r.code == "allocation_over_contract":
            msg.append(f"第{r.item_no}项 分配 {_qtxt(r.allocated, u)} 高于合同数量 "
                       f"{_qtxt(r.contracted, u)}，无生效的补充合同覆盖（第十六条）")
        else:
            tenths = (int(round(r.utilisation * 10_000)) + 5) // 10  # round(u*100, 1)
            msg.append(f"第{r.item_no}项 使用率 {_qtxt(tenths / 10)}%，已分配 "
                       f"{_qtxt(r.allocated, u)} 仅用 {_qtxt(r.in_use, u)}")
        figs.append(json.dumps({
            "contracted": _dec(r.contracted), "allocated": _dec(r.allocated),
            "in_use": _dec(r.in_use), "shortfall": _dec(r.shortfall),
            "overage": _dec(r.overage), "utilisation": _dec(r.utilisation, 4),
            "shortfall_value": _dec(r.shortfall_value),
            "overage_value": _dec(r.overage_value),
            "resources": 0 if pd.isna(r.n) else int(r.n)}, separators=(",", ":")))
        idj.append(json.dumps(r.ids if isinstance(r.ids, list) else [], separators=(",", ":")))
    f_items = pd.DataFrame({"snapshot_date": flag["snapshot_date"], "code": flag["code"],
                            "item_no": flag["item_no"], "source": flag["measured_by"],
                            "message": msg, "figures": figs, "resource_ids": idj})

    # -- unmapped resources: per date, source and resource type ---------------
    um = lr[lr["item_no"].isna()]
    attrs = t["resources"].set_index("resource_key")["attributes"].map(
        lambda a: json.loads(a) if isinstance(a, str) else (a or {}))
    um = um.assign(kind=um["resource_key"].map(attrs).map(
        lambda a: next((str(a[k]) for k in ("kind", "volume_type", "service", "flavor")
                        if a.get(k) is not None), "")))
    gu = um.groupby(["snapshot_date", "source", "resource_type", "kind"])
    un = pd.DataFrame({"n": gu.size(), "quantity": gu["quantity"].sum(),
                       "unit": gu["unit"].first(), "units": gu["unit"].nunique(),
                       "ids": gu["resource_id"].agg(lambda s: list(s.iloc[:MAX_IDS]))}
                      ).reset_index()
    what = {"volume": ("云硬盘", "卷类型"), "qos_policy": (" QoS 策略", "策略"),
            "server": ("云主机", "规格"), "export": ("导出资源", "服务名称")}
    f_unmapped = pd.DataFrame({
        "snapshot_date": un["snapshot_date"], "code": "unmapped_resource", "item_no": None,
        "source": un["source"],
        "message": [f"{_qtxt(float(n))} 个{labels.RESOURCE_TYPE.get(rt, rt + ' 类资源')}"
                    f"未对应任何合同项：{what.get(rt, ('', '名称'))[1]} {k or '(无名称)'}"
                    + (f"，共 {_qtxt(q, u)}" if nu == 1 and u else "")
                    + f"（来源：{labels.source_text(s)}）"
                    for n, rt, k, s, q, u, nu in zip(un["n"], un["resource_type"], un["kind"],
                                                     un["source"], un["quantity"], un["unit"],
                                                     un["units"])],
        "figures": [json.dumps({"resources": int(n), "quantity": _dec(q), "unit": u,
                                "resource_type": rt, "kind": k},
                               separators=(",", ":"), ensure_ascii=False)
                    for n, q, u, rt, k in zip(un["n"], un["quantity"], un["unit"],
                                              un["resource_type"], un["kind"])],
        "resource_ids": [json.dumps(i, separators=(",", ":")) for i in un["ids"]]})

    # -- sources that failed or were rejected ---------------------------------
    sr = t["source_runs"]
    sr = sr[(sr["status"] != "ok") & sr["snapshot_date"].isin(days)]
    failed = sr["status"] == "failed"
    f_sources = pd.DataFrame({
        "snapshot_date": sr["snapshot_date"],
        "code": np.where(failed, "source_unavailable", "data_rejected"),
        "item_no": None, "source": sr["source"],
        "message": [_source_message(s, st, r, json.loads(x) if x else {})
                    for s, st, r, x in zip(sr["source"], sr["status"], sr["reason"], sr["stats"])],
        "figures": sr["stats"], "resource_ids": None})

    # -- items that should have been measured and were not ---------------------
    un_m = item_days[item_days["status"] == "unknown"].merge(cd[keys + ["source"]], on=keys)
    f_unmeasured = pd.DataFrame({
        "snapshot_date": un_m["snapshot_date"], "code": "item_unmeasured",
        "item_no": un_m["item_no"], "source": un_m["source"],
        "message": "第" + un_m["item_no"].astype(str) + "项 本日无有效计量数据（数据源："
                   + un_m["source"].map(labels.source_text) + "），不作判断",
        "figures": None, "resource_ids": None})

    findings = pd.concat([f_items, f_unmapped, f_sources, f_unmeasured], ignore_index=True)
    findings.insert(2, "severity", findings["code"].map(SEVERITY))
    return item_days, findings


def _py(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def check_equal(db, item_days: pd.DataFrame, findings: pd.DataFrame, dates) -> dict:
    """Compare pandas' result with what reconcile() stored, row for row."""
    lo, hi = min(dates), max(dates)
    sql_days = db.execute("SELECT * FROM item_days WHERE snapshot_date BETWEEN ? AND ? ",
                          [lo, hi]).df()
    cols = list(sql_days.columns)
    a = Counter(tuple(_py(v) for v in row) for row in sql_days[cols].itertuples(index=False))
    b = Counter(tuple(_py(v) for v in row) for row in item_days[cols].itertuples(index=False))
    sql_f = db.execute("SELECT * FROM findings WHERE snapshot_date BETWEEN ? AND ?",
                       [lo, hi]).fetchall()
    fa = Counter(tuple(_py(v) for v in row) for row in sql_f)
    fcols = ["snapshot_date", "code", "severity", "item_no", "source", "message", "figures",
             "resource_ids"]
    fb = Counter(tuple(_py(v) for v in row) for row in findings[fcols].itertuples(index=False))
    return {"item_days_rows": sum(a.values()), "item_days_equal": a == b,
            "item_days_only_sql": list(map(str, (a - b).elements()))[:3],
            "item_days_only_pandas": list(map(str, (b - a).elements()))[:3],
            "findings_rows": sum(fa.values()), "findings_equal": fa == fb,
            "findings_only_sql": list(map(str, (fa - fb).elements()))[:3],
            "findings_only_pandas": list(map(str, (fb - fa).elements()))[:3],
            "findings_by_code": dict(Counter(r[1] for r in sql_f))}


# ---------------------------------------------------------------------------
# 2. timed sections, each run in a child process of its own
# ---------------------------------------------------------------------------
def _mem(field: str) -> float:
    """VmRSS / VmHWM of this process in MiB (Linux); ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _reset_peak() -> None:
    """Start a fresh peak-RSS measurement (Linux: echo 5 > /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def section(args) -> dict:
    """One child process: run a section ``args.inner`` times; wall time per run, peak RSS."""
    config = load_config(CONFIG)
    contract = load_contract(config)
    dates = [START + timedelta(days=d) for d in range(args.days)]
    last = dates[-1]
    store = Store(Path(args.db))
    run_id = store.db.execute("SELECT max(run_id) FROM runs").fetchall()[0][0]
    _reset_peak()
    out = {"rss_base_mb": _mem("VmRSS")}
    if args.section == "increment":
        out.update(increment(store, args, contract, config, last))
    elif args.section == "gate":
        out.update(gate_night(args, contract))
    elif args.section in ("year", "night"):
        which = dates if args.section == "year" else [last]
        rec, rep, cpu, flagged = [], [], [], []
        for _ in range(args.inner):
            # what recon run does after storing the night (recon/nightly.py Night.run)
            c0, t0 = _cpu(), time.perf_counter()
            reconcile(store, contract, which, config.idle_below)
            t1 = time.perf_counter()
            flagged.append(scaling.flag(store, contract, last, config.penalty_basis,
                                        penalties.scaling_coefficient(config)))
            conclude.night(store, contract, config, last)
            report = build_nightly(store, contract, last, run_id, config)
            write_nightly(report, Path(args.out))
            t2 = time.perf_counter()
            rec.append(t1 - t0)
            rep.append(t2 - t1)
            cpu.append(_cpu() - c0)
        out.update(reconcile_s=rec, report_s=rep, total_s=[a + b for a, b in zip(rec, rep)],
                   cpu_s=cpu, scaling_flagged=flagged,
                   findings_last=len(report.findings), exit_code=report.exit_code)
    elif args.section == "pandas":
        reads, comps, cpu = [], [], []
        for _ in range(args.inner):
            # chunked (--pandas-chunk-days): the year as consecutive runs of dates, each read
            # and reconciled on its own, times summed; every date's result depends on that
            # date's rows only, so this is the same computation in a fraction of the memory
            read_s = comp_s = cpu_s = 0.0
            days_out, findings_out = [], []
            for chunk in date_chunks(dates, args.pandas_chunk_days):
                t0 = time.perf_counter()
                tables = read_tables(store.db, None if chunk is dates else chunk)
                c1, t1 = _cpu(), time.perf_counter()
                d_, f_ = pandas_reconcile(tables, contract, chunk, config.idle_below)
                t2 = time.perf_counter()
                read_s, comp_s, cpu_s = read_s + t1 - t0, comp_s + t2 - t1, cpu_s + _cpu() - c1
                days_out.append(d_)
                findings_out.append(f_)
                del tables
            item_days = pd.concat(days_out, ignore_index=True)
            findings = pd.concat(findings_out, ignore_index=True)
            reads.append(read_s)
            comps.append(comp_s)
            cpu.append(cpu_s)
        out.update(read_s=reads, compute_s=comps, cpu_s=cpu, rows_read=store.db.execute(
            "SELECT (SELECT count(*) FROM resource_lines) + (SELECT count(*) FROM resources)"
            " + (SELECT count(*) FROM measurements) + (SELECT count(*) FROM source_runs)"
        ).fetchall()[0][0])
        out["rss_peak_mb"] = _mem("VmHWM")
        out["check"] = check_equal(store.db, item_days, findings, dates)
        if args.tracemalloc:
            import tracemalloc
            tables = read_tables(store.db)
            tracemalloc.start()
            pandas_reconcile(tables, contract, dates, config.idle_below)
            out["tracemalloc_compute_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
    store.close()
    out.setdefault("rss_peak_mb", _mem("VmHWM"))
    return out


def gate_night(args, contract) -> dict:
    """The gate as a night runs it (Night.validate: all sources in one batch, the figures
    on GX's pandas engine, the lines on its SQL engine in DuckDB), on the night pickled by
    the parent; the Gate is built first, untimed, as Night() builds it before the pull."""
    import pickle
    with open(args.night, "rb") as f:
        results, _ = pickle.load(f)
    night = _gating_night(contract)
    gc.freeze()  # as Night.run does after its pull
    c0, t0 = _cpu(), time.perf_counter()
    accepted = night.validate(results)
    return {"total_s": [time.perf_counter() - t0], "cpu_s": [_cpu() - c0],
            "lines": sum(len(r.lines) for r in results),
            "accepted": sum(accepted.values())}


def _gating_night(contract):
    """A :class:`recon.nightly.Night` with only its gate, built as Night() builds it."""
    from recon.nightly import Night
    from recon.progress import Progress
    from recon.validation import Gate
    night = Night.__new__(Night)
    night.gate = Gate(parameters={"item_numbers": sorted(contract.items)})
    night.progress = Progress(quiet=True)
    return night


def run_gate(args) -> int:
    """``--gate N``: the gate on one night of an N-resource estate, fresh processes."""
    work = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    contract = load_contract(load_config(CONFIG))
    world = World(contract, args.gate, 3)
    night = work / "night.pkl"
    import pickle
    with open(night, "wb") as f:
        pickle.dump(world.results(2), f)
    load = os.getloadavg()[0]
    runs = run_section("gate", work / "unused.duckdb", work / "out", args, args.repeat,
                       extra=("--night", str(night)))
    shutil.rmtree(work, ignore_errors=True)
    g = _summary(runs)
    ok = g["cold"] < 1.0
    print(f"GX gate, one night of {args.gate:,} resources ({runs[0]['lines']:,} lines, "
          f"{runs[0]['accepted']} sources accepted): {g['cold']:.2f} s wall (median of "
          f"{len(runs)} fresh processes: {', '.join(f'{x:.2f}' for x in g['cold_all'])}), "
          f"CPU {g['cpu']:.2f} s; target < 1 s: {'PASS' if ok else 'MISS'}; load "
          f"{load:.2f} -> {os.getloadavg()[0]:.2f}")
    return 0


def increment(store: Store, args, contract, config, last: date) -> dict:
    """What `recon run` does after its pull (recon/nightly.py Night.run), timed by step:
    one transaction stores the night (replace_snapshot), reconciles it, flags scaling
    requests, writes the report through the outbox and the run's row; then the close, where
    DuckDB checkpoints.  The night's source results come pickled from the parent and pass
    the gate first, untimed, as in a night."""
    import pickle
    with open(args.night, "rb") as f:
        results, accepted = pickle.load(f)
    # a night reads assessment.toml as it starts, before its pull (Night.rules), and has
    # the collector skip the pulled lines from the gate on (Night.run: gc.freeze); its gate
    # runs before the store (untimed here: target 4 times it), and the columns it makes of
    # the lines are the store's too (connectors.base.Lines.array), as in a night
    rules = rulebook.load(config)
    gc.freeze()
    if _gating_night(contract).validate(results) != accepted:
        raise SystemExit("the gate does not accept what the pickled night says it did")
    store.one_night()
    started = time.perf_counter()
    c0, t0 = _cpu(), time.perf_counter()
    with store.transaction():
        run_id = store.new_run_id()
        store.replace_snapshot(last, run_id, results, accepted)
        t1 = time.perf_counter()
        reconcile(store, contract, [last], config.idle_below)
        t2 = time.perf_counter()
        scaling.flag(store, contract, last, config.penalty_basis, rules.scaling_coefficient)
        conclude.night(store, contract, config, last, rules=rules)
        report = build_nightly(store, contract, last, run_id, config)
        write_nightly(report, Path(args.out), store.outbox)
        t3 = time.perf_counter()
        store.record_run(last, "complete" if report.complete else "incomplete",
                         report.exit_code, run_id=run_id)
    t4 = time.perf_counter()
    cpu = _cpu() - c0
    store.close()
    t5 = time.perf_counter()
    return {"ingest_s": [t1 - t0], "reconcile_s": [t2 - t1], "report_s": [t3 - t2],
            "commit_s": [t4 - t3], "total_s": [t4 - started], "close_s": [t5 - t4],
            "with_close_s": [t5 - started], "cpu_s": [cpu]}


def run_section(name: str, db: Path, out: Path, args, procs: int, inner: int = 1,
                extra: tuple = (), before=None) -> list[dict]:
    """``procs`` fresh child processes, each running the section ``inner`` times
    (``before()`` runs before each, untimed; then what it and the set-up wrote goes to
    disk: bench/settle.py)."""
    cmd = [sys.executable, __file__, "--section", name, "--db", str(db), "--out", str(out),
           "--days", str(args.days), "--inner", str(inner),
           "--pandas-chunk-days", str(args.pandas_chunk_days), *extra]
    if args.tracemalloc:
        cmd.append("--tracemalloc")
    runs = []
    for _ in range(procs):
        if before:
            before()
        settle()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"section {name} failed ({proc.returncode})")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return runs


def checkpoint_size(db: Path) -> tuple[int, int]:
    """File bytes after CHECKPOINT, and the bytes of the blocks in use.  The file keeps
    the blocks that deletes free (for reuse, not truncated), so its size depends on how
    often item_days and findings were replaced; the blocks in use do not."""
    with Store(db) as store:
        store.db.execute("CHECKPOINT")
        block, used = store.db.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchall()[0]
    wal = Path(str(db) + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0), block * used


def _summary(runs: list[dict], key: str = "total_s") -> dict:
    """First run of each process (a fresh `recon` process) and later, warm, runs."""
    cold = [r[key][0] for r in runs]
    warm = [x for r in runs for x in r[key][1:]]
    cpu = [r["cpu_s"][0] for r in runs if "cpu_s" in r]
    return {"cold": statistics.median(cold), "cold_all": cold,
            "cpu": statistics.median(cpu) if cpu else float("nan"),
            "warm": statistics.median(warm) if warm else None,
            "peak": max(r["rss_peak_mb"] for r in runs),
            "delta": max(r["rss_peak_mb"] - r["rss_base_mb"] for r in runs)}


# ---------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resources", default="10000,100000",
                    help="estate sizes, comma-separated, run one after the other in this "
                         "process and compared in a cost table (default 10000,100000)")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--keep", metavar="DIR", help="keep the store and reports in DIR")
    ap.add_argument("--repeat", type=int, default=5,
                    help="child processes for (a) and (b), each runs twice (default 5)")
    ap.add_argument("--pandas-chunk-days", type=int, default=-1,
                    help="(c) reads and reconciles the year in runs of N dates, times summed "
                         "(0: the whole year at once; default: the whole year when the machine "
                         "has the memory for it, else the largest runs that fit)")
    ap.add_argument("--pandas-repeat", type=int, default=1,
                    help="child processes for (c) (default 1)")
    ap.add_argument("--verify-days", type=int, default=8,
                    help="days written through Store.replace_snapshot and compared with the "
                         "bulk path (default 8; 0 skips)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also trace the pandas computation's Python/numpy allocations")
    ap.add_argument("--gate", type=int, metavar="N",
                    help="time only the GX gate on one night of N resources (400000: ~518,000 "
                         "lines, as 100,000 servers and their volumes), --repeat processes")
    ap.add_argument("--section", choices=("year", "night", "pandas", "increment", "gate"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--night", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--inner", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.section:
        print(json.dumps(section(args)))
        return 0
    if args.gate:
        return run_gate(args)
    sizes = [int(x) for x in str(args.resources).split(",")]
    figures = []
    for size in sizes:
        one = argparse.Namespace(**vars(args))
        one.resources = size
        if args.keep and len(sizes) > 1:
            one.keep = str(Path(args.keep) / str(size))
        figures.append(run_scale(one))
    if len(figures) > 1:
        cost_table(figures)
    return 0


def cost_table(figures: list[dict]) -> None:
    """How each cost grows with the tenant, side by side (the last size against the first)."""
    a, b = figures[0], figures[-1]
    print(f"\ncost table: {a['resources']:,} -> {b['resources']:,} resources x {a['days']} days "
          f"({b['resources'] / a['resources']:g}x the tenant)")
    print(f"  {'figure':<52}" + "".join(f"{f['resources']:>14,}" for f in figures) + "   growth")
    for key, label, unit in COST_ROWS:
        vals = [f.get(key) for f in figures]
        cells = "".join(f"{'-' if v is None else format(v, unit):>14}" for v in vals)
        growth = (f"{vals[-1] / vals[0]:.1f}x" if vals[0] and vals[-1] is not None else "-")
        print(f"  {label:<52}{cells}   {growth}")


COST_ROWS = [
    ("lines", "resource lines in the year", ",.0f"),
    ("gen_s", "generation + bulk store, s (not timed below)", ".1f"),
    ("store_mib", "store after CHECKPOINT, MiB", ".1f"),
    ("bprd", "store, bytes per resource-day", ".1f"),
    ("year_s", "(a) year: reconcile + flags + report, s", ".2f"),
    ("year_cpu_s", "(a) CPU s", ".2f"),
    ("year_rss", "(a) peak RSS, MiB", ".0f"),
    ("night_s", "(b) night: reconcile + flags + report, s", ".2f"),
    ("increment_s", "nightly increment (store + reconcile + report), s", ".2f"),
    ("inc_ingest_s", "    of which replace_snapshot, s", ".2f"),
    ("inc_report_s", "    of which flags + report, s", ".2f"),
    ("inc_cpu_s", "    CPU s", ".2f"),
    ("close_s", "    then the close (checkpoint), s", ".2f"),
    ("ingest_s", "replace_snapshot of that night, one more sample, s", ".2f"),
    ("rerun_s", "    a rerun of that night (replace_snapshot), s", ".2f"),
    ("young_s", "young store: nights 1..8 from empty, s per night", ".2f"),
    ("young_max_s", "young store: slowest of those nights, s", ".2f"),
    ("night_rss", "(b) peak RSS, MiB", ".0f"),
    ("pandas_chunk", "(c) pandas: dates per run (0: the whole year)", ".0f"),
    ("pandas_s", "(c) pandas compute, s", ".2f"),
    ("pandas_rss", "(c) pandas peak RSS, MiB", ".0f"),
    ("speedup", "speed-up (c) / (a)", ".1f"),
]


def _mem_available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


def run_scale(args) -> dict:
    """The whole benchmark at one estate size; prints its figures and returns them."""
    started = time.perf_counter()
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)  # noqa: E731
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-recon-"))
    work.mkdir(parents=True, exist_ok=True)
    db, out = work / "bench.duckdb", work / "out"
    for p in (db, Path(str(db) + ".wal"), work / "verify.duckdb", work / "verify_bulk.duckdb"):
        p.unlink(missing_ok=True)
    config = load_config(CONFIG)
    contract = load_contract(config)
    import duckdb
    print(f"recon benchmark: {args.resources:,} resources x {args.days} days from {START}; "
          f"{os.cpu_count()} cores, python {sys.version.split()[0]}, duckdb "
          f"{duckdb.__version__}, pandas {pd.__version__}; load average "
          f"{os.getloadavg()[0]:.2f}; work dir {work}")

    # 1. generate ------------------------------------------------------------
    t0 = time.perf_counter()
    world = World(contract, args.resources, args.days)
    t_world = time.perf_counter() - t0
    verify = None
    if args.verify_days:
        k = min(args.verify_days, args.days)
        t0 = time.perf_counter()
        with Store(work / "verify.duckdb") as s:
            per_night = write_replace(s, world, k)
        with Store(work / "verify_bulk.duckdb") as s:
            write_bulk(s, world, k)
        verify = (k, compare_stores(work / "verify.duckdb", work / "verify_bulk.duckdb"),
                  per_night, time.perf_counter() - t0)
        for p in ("verify.duckdb", "verify_bulk.duckdb"):
            (work / p).unlink(missing_ok=True)
    t0 = time.perf_counter()
    with Store(db) as store:
        write_bulk(store, world, args.days - 1)
        store.db.execute("CHECKPOINT")  # as a year-old store is: nights past are checkpointed
    t_store = time.perf_counter() - t0
    # the nightly ingest as `recon run` does it: the last night is a new night into the
    # year-old store (one transaction: its run row and replace_snapshot), then the close,
    # where DuckDB checkpoints
    results, accepted = world.results(args.days - 1)
    # the nightly increment, in fresh processes, each on a copy of the store before that night
    import pickle
    base, inc_db, night_file = work / "base.duckdb", work / "increment.duckdb", work / "night.pkl"
    shutil.copy(db, base)
    with open(night_file, "wb") as f:
        pickle.dump((results, accepted), f)
    inc = run_section("increment", inc_db, work / "out-increment", args, args.repeat,
                      extra=("--night", str(night_file)),
                      before=lambda: shutil.copy(base, inc_db))
    for p in (base, inc_db, Path(str(inc_db) + ".wal"), night_file):
        p.unlink(missing_ok=True)
    shutil.rmtree(work / "out-increment", ignore_errors=True)
    incs = {k: _summary(inc, k) for k in ("total_s", "ingest_s", "reconcile_s", "report_s",
                                          "commit_s", "close_s", "with_close_s")}
    store = Store(db)
    t0 = time.perf_counter()
    with store.transaction():
        run_id = store.record_run(world.dates[-1], "complete", 0)
        store.replace_snapshot(world.dates[-1], run_id, results, accepted)
    t_ingest = time.perf_counter() - t0
    store.close()
    t_close = time.perf_counter() - t0 - t_ingest
    with Store(db) as store:
        counts = store.db.execute(
            "SELECT (SELECT count(*) FROM resources), (SELECT count(*) FROM resource_lines), "
            "(SELECT count(*) FROM measurements), (SELECT count(*) FROM source_runs)"
        ).fetchall()[0]
        per_day = store.db.execute(
            "SELECT avg(n), min(n), max(n) FROM (SELECT snapshot_date, count(DISTINCT "
            "resource_key) n FROM resource_lines GROUP BY 1)").fetchall()[0]
    snap_bytes, snap_used = checkpoint_size(db)
    print(f"\n1. generation (apart from the timed sections): estate {t_world:.1f} s, bulk "
          f"store {t_store:.1f} s"
          + (f", replace_snapshot check {verify[3]:.1f} s" if verify else "") + "\n"
          f"   {counts[0]:,} resources over the year, {counts[1]:,} resource lines, "
          f"{counts[2]:,} measurements, {counts[3]:,} source runs; resources stored per day: "
          f"avg {per_day[0]:,.0f}, min {per_day[1]:,} (a day compute failed), max "
          f"{per_day[2]:,}; source-days failed {int((world.status == 'failed').sum())}, "
          f"rejected {int((world.status == 'rejected').sum())}")
    if verify:
        k, cmp, per_night, _ = verify
        same = all(a == 0 and b == 0 for _, a, b in cmp.values())
        print(f"   bulk path vs Store.replace_snapshot, first {k} days: "
              f"{'IDENTICAL' if same else 'DIFFERENT'} ("
              + ", ".join(f"{t} {n:,} rows/{a}/{b}" for t, (n, a, b) in cmp.items())
              + " = rows/only replace/only bulk)")
        print(f"   young store: nights 1..{k} from empty through replace_snapshot (one "
              f"process, no checkpoint between): {statistics.median(per_night):.2f} s per night "
              f"(median), max {max(per_night):.2f} s ({fmt(per_night)})")
        if not same:
            raise SystemExit("the bulk path does not reproduce replace_snapshot")

    # 2. timed sections --------------------------------------------------------
    year = _summary(yr := run_section("year", db, out, args, args.repeat, inner=2))
    rec = _summary(yr, "reconcile_s")
    night = _summary(run_section("night", db, out, args, args.repeat, inner=2))
    need = args.resources * PANDAS_MIB_PER_RESOURCE        # the whole year at once
    avail = _mem_available_mib()
    chunk = args.pandas_chunk_days
    if chunk < 0:  # the default: the whole year if it fits in 30 % of what is available
        chunk = 0 if need < avail * 0.3 else int(args.days * avail * 0.3 / need)
    args.pandas_chunk_days = chunk
    need_run = need * (min(chunk, args.days) / args.days if chunk else 1)
    if chunk >= 0 and need_run < avail * 0.8 and (chunk == 0 or chunk >= 7):
        how = "the whole year at once" if not chunk else f"in runs of {chunk} dates"
        print(f"   (c) pandas: {how}, about {need_run / 1024:.1f} GiB of the "
              f"{avail / 1024:.1f} GiB available")
        pr = run_section("pandas", db, out, args, args.pandas_repeat)
        pand, pread = _summary(pr, "compute_s"), _summary(pr, "read_s")
    else:
        pr, pand, pread = None, None, None
        print(f"   (c) pandas SKIPPED: it needs about {need_run / 1024:.1f} GiB at this size and "
              f"{avail / 1024:.1f} GiB are available")
    full_bytes, full_used = checkpoint_size(db)

    # a rerun of the last night on the year-old store: the same data again, nothing changes
    with Store(db) as store:
        digest = "SELECT count(*), sum(hash(COLUMNS(*))) FROM {}"
        before = [store.db.execute(digest.format(t)).fetchall() for t in SNAPSHOT_COMPARE]
        results, accepted = world.results(args.days - 1)
        run_id = store.db.execute("SELECT max(run_id) FROM runs").fetchall()[0][0]
        t0 = time.perf_counter()
        store.replace_snapshot(world.dates[-1], run_id, results, accepted)
        t_rerun = time.perf_counter() - t0
        ingest_same = before == [store.db.execute(digest.format(t)).fetchall()
                                 for t in SNAPSHOT_COMPARE]
        # replace_snapshot cleared that night's item_days and findings: reconcile it again
        # (untimed) so that a --keep store is whole
        reconcile(store, contract, [world.dates[-1]], config.idle_below)
        scaling.flag(store, contract, world.dates[-1], config.penalty_basis,
                     penalties.scaling_coefficient(config))

    rd = args.resources * args.days
    chk = pr[0]["check"] if pr else None
    speedup = pand["cold"] / year["cold"] if pand else None
    increment = incs["total_s"]["cold"]
    target_night = TARGET_NIGHT_S.get(args.resources, 0.2 if args.resources <= 10_000 else 0.5)
    rows = [
        ("store: bytes per resource-day, snapshots only", f"{snap_bytes / rd:.1f} B", "", "",
         f"{snap_bytes / 2**20:.1f} MiB / ({args.resources:,} x {args.days}); blocks in use "
         f"{snap_used / rd:.1f} B"),
        ("store: bytes per resource-day, + item_days, findings", f"{full_bytes / rd:.1f} B",
         f"< {TARGET_BPRD:g} B", "PASS" if full_bytes / rd < TARGET_BPRD else "MISS",
         f"{full_bytes / 2**20:.1f} MiB after CHECKPOINT; blocks in use {full_used / rd:.1f} B "
         f"({full_used / 2**20:.1f} MiB), the rest is freed blocks the file keeps"),
        ("(a) reconcile all dates + scaling flags + nightly report", f"{year['cold']:.2f} s",
         f"< {TARGET_YEAR_S:g} s", "PASS" if year["cold"] < TARGET_YEAR_S else "MISS",
         f"fresh processes: {fmt(year['cold_all'])} s (reconcile {rec['cold']:.2f}, flags + report "
         f"{year['cold'] - rec['cold']:.2f}); CPU {year['cpu']:.2f} s; 2nd run in the same "
         f"process {year['warm']:.2f} s;"
         f" peak RSS {year['peak']:.0f} MiB (+{year['delta']:.0f})"),
        ("(b) nightly: reconcile last date + flags + report", f"{night['cold']:.2f} s", "", "",
         f"fresh processes: {fmt(night['cold_all'])} s; CPU {night['cpu']:.2f} s; warm "
         f"{night['warm']:.2f} s; peak RSS "
         f"{night['peak']:.0f} MiB (+{night['delta']:.0f})"),
        ("replace_snapshot of the last night, new (one sample)", f"{t_ingest:.2f} s", "", "",
         f"storing the year's last night into the {args.days - 1}-night store, with its run row; "
         f"then "
         f"the close (DuckDB checkpoints) {t_close:.2f} s; a rerun of the same night "
         f"{t_rerun:.2f} s (table contents unchanged: {ingest_same})"),
        ("nightly increment: one night stored + concluded", f"{increment:.2f} s",
         f"< {target_night:g} s", "PASS" if increment < target_night else "MISS",
         f"as `recon run` after its pull, one transaction on a copy of the {args.days - 1}-night "
         f"store, "
         f"fresh processes: {fmt(incs['total_s']['cold_all'])} s; of which replace_snapshot "
         f"{incs['ingest_s']['cold']:.2f}, reconcile {incs['reconcile_s']['cold']:.2f}, flags "
         f"+ report {incs['report_s']['cold']:.2f}, run row + commit "
         f"{incs['commit_s']['cold']:.2f}; CPU {incs['total_s']['cpu']:.2f} s; then the close "
         f"{incs['close_s']['cold']:.2f} s ({incs['with_close_s']['cold']:.2f} s in all); "
         f"peak RSS {incs['total_s']['peak']:.0f} MiB"),
    ]
    if pand:
        rows += [
        ("(c) pandas, same computation, reads apart", f"{pand['cold']:.2f} s", "", "",
         (f"in runs of {chunk} dates, summed; " if chunk else "the whole year at once; ") +
         f"CPU {pand['cpu']:.2f} s; + reading {pread['cold']:.2f} s "
         f"({pr[0]['rows_read']:,} rows); peak RSS "
         f"{pand['peak']:.0f} MiB (+{pand['delta']:.0f}, reads included)"
         + (f"; tracemalloc peak {pr[0]['tracemalloc_compute_peak_mb']:.0f} MiB"
            if "tracemalloc_compute_peak_mb" in pr[0] else "")),
        ("    pandas item_days == DuckDB item_days", str(chk["item_days_equal"]), "equal",
         "PASS" if chk["item_days_equal"] else "MISS", f"{chk['item_days_rows']:,} rows"),
        ("    pandas findings == DuckDB findings", str(chk["findings_equal"]), "equal",
         "PASS" if chk["findings_equal"] else "MISS", f"{chk['findings_rows']:,} rows"),
        ("speed-up, (c) compute / (a)", f"{speedup:.1f}x", f">= {TARGET_SPEEDUP:g}x",
         "PASS" if speedup >= TARGET_SPEEDUP else "MISS",
         f"{(pand['cold'] + pread['cold']) / year['cold']:.1f}x with pandas' reads; "
         f"{pand['cold'] / year['warm']:.1f}x against the warm (a); CPU time "
         f"{pand['cpu'] / year['cpu']:.1f}x"),
        ]
    print("\n2./3. figures (each section in fresh child processes; wall = median of the "
          "first run of each process)")
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]:<{w[3]}}  {r[4]}")
    if chk:
        print(f"\n  findings by code over the year: {chk['findings_by_code']}")
    print(f"  last night: {yr[0]['findings_last']} findings, exit code {yr[0]['exit_code']}, "
          f"scaling findings written {yr[0]['scaling_flagged'][0]} (no scaling requests); "
          f"report in {out / world.dates[-1].isoformat()}")
    for key in ("item_days_only_sql", "item_days_only_pandas", "findings_only_sql",
                "findings_only_pandas"):
        if chk and chk[key]:
            print(f"  {key}: {[r[:400] for r in chk[key]]}")
    print(f"\n  benchmark wall time {time.perf_counter() - started:.0f} s; load average now "
          f"{os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min) on "
          f"{os.cpu_count()} cores")
    figures = {"resources": args.resources, "days": args.days, "lines": counts[1],
               "gen_s": t_world + t_store, "store_mib": full_bytes / 2 ** 20,
               "bprd": full_bytes / rd, "year_s": year["cold"], "year_cpu_s": year["cpu"],
               "year_rss": year["peak"], "night_s": night["cold"], "ingest_s": t_ingest,
               "increment_s": increment, "close_s": incs["close_s"]["cold"],
               "inc_ingest_s": incs["ingest_s"]["cold"],
               "inc_report_s": incs["report_s"]["cold"],
               "inc_cpu_s": incs["total_s"]["cpu"], "rerun_s": t_rerun,
               "young_s": statistics.median(verify[2]) if verify else None,
               "young_max_s": max(verify[2]) if verify else None, "night_rss": night["peak"],
               "pandas_s": pand["cold"] if pand else None,
               "pandas_rss": pand["peak"] if pand else None, "speedup": speedup,
               "pandas_chunk": chunk}
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return figures


if __name__ == "__main__":
    sys.exit(main())
