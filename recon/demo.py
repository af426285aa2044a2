"""`recon demo`: the contract's first half year on the bundled simulated cloud (the real SDK).

Starts the bundled OpenStack API simulator on a free loopback port with the
demo scenario (the contract's tenant, handed over on 2026-07-10, with a few
real-looking problems), writes a clouds.yaml for it, and runs the real nightly
job -- openstacksdk, Great Expectations, DuckDB, reports -- once per night of
November 2026, moving the simulator's "today" forward each time.  Nothing
leaves 127.0.0.1.

The rest of the mid-term period (2026-07-10 .. 10-31 and 2026-12-01 .. 2027-01-09)
is generated from the same scenario, quickly (:func:`generate_nights`): the figures
are the ones the simulator serves that day, pulled through the same connectors and
gate once per state of the scenario and stored for each night of that state through
the real store, reconciliation and conclusions, each run marked ``origin = 'demo'``
(演示生成): no report presents such a night as pulled, and none has a nightly page.
Then every month's assessment, and the mid-term acceptance pack with its evidence zip.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from connectors.exports import SUFFIXES, split_name
from recon import assess, conclude
from recon.config import Scope, load_config
from recon.data import BUNDLED_CONFIG, DEMO
from recon.ledgers import acceptance, incidents, notices, scaling
from recon.nightly import Night
from recon.progress import Progress
from recon.reconcile import reconcile
from recon.sim.scenario import load_scenarios
from recon.sim.server import SimServer, clouds_yaml
from recon.store import Store
from reports.acceptance import build_acceptance, write_pack
from reports.index import rebuild
from reports.nightly import build_nightly
from reports.monthly import build_monthly, write_monthly
from reports.notice import draft_and_record

SCENARIO = DEMO / "scenario.yaml"
#: the agency's scaling requests (扩容) the demo nights are judged against
LEDGER = DEMO / "scaling_requests.csv"
#: the agency's incidents ledger, judged by the month's assessment
INCIDENTS = DEMO / "incidents.csv"
#: the pulled nights: November 2026 (``--days`` of them from the first)
FIRST_NIGHT = date(2026, 11, 1)
PULLED_MONTH_DAYS = 30
#: the night KR-2026-012 is overdue: the management unit sends its written notice (附件3 row 4)
NOTICE_DAY = date(2026, 11, 11)
#: the provider's console downloads as of 2026-11-10 (the date is in each name)
SAMPLE_EXPORTS = DEMO / "exports"


def drop_exports(into: Path, day: date, samples: Path = SAMPLE_EXPORTS) -> Path:
    """Lay the sample exports down as night ``day``'s console drop: ``into/<day>/<name>``.

    The demo plays many nights with one set of sample files; a real night gets
    the provider's download of that day.  The copies lose the date in their
    names and are dated by their folder instead, so no file claims a date it
    does not have and the nightly job judges them by the same rule as real ones.
    """
    folder = into / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted(samples.iterdir()):
        if src.suffix.lower() in SUFFIXES:
            shutil.copyfile(src, folder / f"{split_name(src)[0]}{src.suffix}")
    return folder


def run_demo(days: int, out: Path, scenario_path: Path = SCENARIO, quiet: bool = False,
             generate: bool = True) -> int:
    """``days`` pulled nights from 2026-11-01; with ``generate``, the rest of the mid-term
    period generated from the scenario (演示生成), every month's assessment and the mid-term
    pack; without, only the pulled nights and their month's assessment (quick)."""
    progress = Progress(quiet=quiet)
    started, cpu = time.monotonic(), _cpu()
    out.mkdir(parents=True, exist_ok=True)
    # the bundled configuration (what `recon init` writes), each night reading its own
    # console drop laid down in OUT/exports/<date>/, so the demo runs the same from any
    # folder and never reads a recon.toml lying there
    config = dataclasses.replace(load_config(BUNDLED_CONFIG), exports_dir=out / "exports")
    db = out / "demo.duckdb"
    progress.note(f"config {config.path} (bundled); store {db.resolve()}; "
                  f"reports {out.resolve()}")
    for stale in (db, Path(str(db) + ".wal")):
        stale.unlink(missing_ok=True)
    scenarios = load_scenarios(scenario_path)
    scenario, *regions = scenarios
    sim = SimServer(scenario, today=FIRST_NIGHT)
    # the tenant's other regions (the GPU region's bare metal): scopes of the same cloud,
    # offering compute, block storage and images
    for other in regions:
        sim.add_scope(SimServer(other, today=FIRST_NIGHT))
    if regions:
        config = dataclasses.replace(config, scopes=[
            Scope("recon-demo", scenario.region, scenario.project["name"])] + [
            Scope("recon-demo", o.region, o.project["name"],
                  services=("compute", "block-storage", "image")) for o in regions])
    pulled = [FIRST_NIGHT + timedelta(days=n) for n in range(days)]
    with sim:
        clouds = clouds_yaml(sim, "recon-demo", auth="application_credential")
        (out / "clouds.yaml").write_text(yaml.safe_dump(clouds, allow_unicode=True),
                                         encoding="utf-8")
        progress.log(f"simulator on {sim.url}; clouds.yaml in {out / 'clouds.yaml'}")
        night = Night(config, cloud=None if regions else "recon-demo", cloud_config=clouds,
                      progress=progress)
        contract = night.contract
        mid = acceptance.span(contract, "mid", None, None)
        with Store(db) as store:
            scaling.save(store, scaling.read_requests(LEDGER, contract))
        before = _days(contract.start, FIRST_NIGHT - timedelta(days=1)) if generate else []
        # after November (or after the last pulled night, should --days reach past it)
        after = _days(FIRST_NIGHT + timedelta(days=max(days, PULLED_MONTH_DAYS)), mid.last) \
            if generate else []
        if before:
            generate_nights(night, sim, scenarios, db, out, before)
        for day in pulled:
            sim.set_today(day)
            drop_exports(out / "exports", day)
            result = night.run(day, db, out)
            if day == NOTICE_DAY:
                _send_notice(night, db, out, day)
            rep = result.report
            progress.log(f"{day}: exit {result.exit_code} {rep.exit_label}; "
                         f"{rep.counts['critical']} critical, {rep.counts['warning']} warning")
        # the agency's incidents ledger (November's) is imported once November is over: the
        # nights after it, and every month's assessment, judge its faults
        with Store(db) as store:
            incidents.save(store, incidents.read_incidents(INCIDENTS, contract))
        if after:
            generate_nights(night, sim, scenarios, db, out, after)
        nights_took, nights_cpu = time.monotonic() - started, _cpu() - cpu
        # the pack's evidence zip writes the monthly assessment of each of its months (from
        # the store, as concluded here): the demo does not write them twice
        _assess_months(config, contract, db, out, before + pulled + after,
                       written_by_pack=mid.months if generate else [])
        if generate:
            _acceptance_pack(config, contract, db, out, mid)
    rebuild(config, db, out)
    took, took_cpu = time.monotonic() - started, _cpu() - cpu
    # the two figures the targets name apart: the nights, then the month's and the
    # milestone's documents (their PDFs are most of it); wall and CPU (with the PDF
    # worker's), since the machine is shared and the wall alone says little
    progress.log(f"demo: {len(pulled)} nights pulled, {len(before) + len(after)} generated, "
                 f"in {took:.1f} s, {took_cpu:.1f} s CPU (the nights {nights_took:.1f} s, "
                 f"{nights_cpu:.1f} s CPU; the assessments, the pack and the index "
                 f"{took - nights_took:.1f} s, {took_cpu - nights_cpu:.1f} s CPU); "
                 f"open {out / 'index.html'}")
    # each night's exit code is in the log and index.html; the demo itself succeeded
    return 0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the PDF worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _state_key(scenarios, day: date) -> tuple:
    """What the simulator serves on ``day`` depends on: in every scope, the timeline events
    applied so far and the faults armed that day.  Two days with the same key are served
    the same state, so they have the same figures."""
    return tuple((sum(1 for ev in sc.events if ev.date <= day),
                  tuple(i for i, ev in enumerate(sc.events)
                        if ev.faults and ev.date <= day <= ev.until))
                 for sc in scenarios)


def generate_nights(night: Night, sim: SimServer, scenarios, db: Path, out: Path,
                    days: list[date]) -> None:
    """Fill ``days`` quickly from the scenario (演示生成): no nightly page, one transaction
    and one reconciliation per month.

    The figures are the simulator's of each day: whenever the scenario's state changes
    (:func:`_state_key`) the day is pulled through the real connectors (openstacksdk, the
    console drop) and the gate, and every night of the same state stores that pull's
    sources and the gate's verdict.  Each night then goes through the real store, the
    reconciliation (SQL, per month), the scaling flags and the conclusions as a pulled
    night does, and its run is recorded with ``origin = 'demo'`` (its exit code the
    nightly report's rule gives).  A night's penalty ledger rests on the months before
    its own (the running month's penalties are dated at its end), so the month's history
    is assessed once for all its nights.
    """
    contract, config = night.contract, night.config
    key = results = accepted = None
    t0, pulls = time.monotonic(), 0
    with Store(db) as store:
        for month, group in itertools.groupby(days, key=lambda d: f"{d:%Y-%m}"):
            group = list(group)
            with store.transaction():
                runs = {}
                for day in group:
                    if _state_key(scenarios, day) != key:
                        key = _state_key(scenarios, day)
                        sim.set_today(day)
                        drop_exports(out / "exports", day)
                        results = night.pull(day, night.preflight())
                        accepted = night.validate(results)
                        pulls += 1
                    runs[day] = store.new_run_id()
                    store.replace_snapshot(day, runs[day], results, accepted)
                reconcile(store, contract, group, config.idle_below)
                history = assess.history(store, contract, config, night.rules, month)
                for day in group:
                    scaling.flag(store, contract, day, config.penalty_basis,
                                 night.scaling_coefficient)
                    conclude.night(store, contract, config, day, rules=night.rules,
                                   history=history)
                    rep = build_nightly(store, contract, day, runs[day], config)
                    store.record_run(day, "complete" if rep.complete else "incomplete",
                                     rep.exit_code, run_id=runs[day], origin="demo",
                                     note="演示生成：由演示场景生成，未单独采集")
    night.progress.log(f"{days[0]} .. {days[-1]}: {len(days)} nights generated from the "
                       f"scenario ({pulls} pulls, one per state) in "
                       f"{time.monotonic() - t0:.1f} s")


def _send_notice(night, db: Path, out: Path, day: date) -> None:
    """What the management unit does on 11-11, when KR-2026-012 is overdue: draft the written
    notice 附件3 row 4 needs (DOCX and PDF in OUT/notices/), send it the same day with a
    deadline of 11-13; from the next night on the request's clock reads it from the ledger."""
    with Store(db) as store:
        notice = notices.plan_draft(store, "scaling", "KR-2026-012", day,
                                    day + timedelta(days=2), "演示：扩容超期后的书面通知")
        draft_and_record(store, night.contract, night.config, notice, out)
        notices.mark_sent(store, notice.notice_id, day)


def _assess_months(config, contract, db: Path, out: Path, days,
                   written_by_pack: list[str]) -> None:
    """The monthly assessment (月度考核) of every month the nights touched (before the
    index is rebuilt: it lists the assessments it finds under OUT/monthly/); those in
    ``written_by_pack`` are only concluded here, the acceptance pack writes them."""
    months = sorted({f"{d:%Y-%m}" for d in days})
    with Store(db) as store:
        for month in months:
            conclude.month(store, contract, config, month)
            if month not in written_by_pack:
                write_monthly(build_monthly(store, contract, config, month), out, contract)


def _acceptance_pack(config, contract, db: Path, out: Path, span) -> None:
    """The mid-term acceptance pack (中期验收, OUT/acceptance/mid/) and its evidence zip, as
    `recon report acceptance --period mid` writes them (its months are concluded)."""
    with Store(db) as store:
        conclude.night(store, contract, config, span.last)
        conclude.acceptance(store, contract, config, span)
        conclude.annual(store, contract, config)   # the year so far, on that night's ledger
        report = build_acceptance(store, contract, config, span)
        write_pack(store, contract, config, report, out)
