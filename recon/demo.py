"""`recon demo`: the nightly job over simulated nights, through the real SDK.

Starts the bundled OpenStack API simulator on a free loopback port with the
demo scenario (the contract's tenant with a few real-looking problems),
writes a clouds.yaml for it, and runs the real nightly job -- openstacksdk,
Great Expectations, DuckDB, reports -- once per simulated night, moving the
simulator's "today" forward each time.  Nothing leaves 127.0.0.1.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
from datetime import date, timedelta
from pathlib import Path

import yaml

from connectors.exports import SUFFIXES, split_name
from recon import conclude
from recon.config import Scope, load_config
from recon.data import BUNDLED_CONFIG, DEMO
from recon.ledgers import incidents, notices, scaling
from recon.nightly import Night
from recon.progress import Progress
from recon.sim.scenario import load_scenarios
from recon.sim.server import SimServer, clouds_yaml
from recon.store import Store
from reports.index import rebuild
from reports.monthly import build_monthly, write_monthly
from reports.notice import draft_and_record

SCENARIO = DEMO / "scenario.yaml"
#: the agency's scaling requests (扩容) the demo nights are judged against
LEDGER = DEMO / "scaling_requests.csv"
#: the agency's incidents ledger, judged by the month's assessment
INCIDENTS = DEMO / "incidents.csv"
FIRST_NIGHT = date(2026, 11, 1)
#: the night KR-2026-012 is overdue: the management unit sends its written notice (附件3 row 4)
NOTICE_DAY = date(2026, 11, 11)
#: the provider's console downloads as of 2026-11-10 (the date is in each name)
SAMPLE_EXPORTS = DEMO / "exports"


def drop_exports(into: Path, day: date, samples: Path = SAMPLE_EXPORTS) -> Path:
    """Lay the sample exports down as night ``day``'s console drop: ``into/<day>/<name>``.

    The demo plays 14 nights with one set of sample files; a real night gets
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


def run_demo(days: int, out: Path, scenario_path: Path = SCENARIO, quiet: bool = False) -> int:
    progress = Progress(quiet=quiet)
    started = time.monotonic()
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
    scenario, *regions = load_scenarios(scenario_path)
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
    with sim:
        clouds = clouds_yaml(sim, "recon-demo", auth="application_credential")
        (out / "clouds.yaml").write_text(yaml.safe_dump(clouds, allow_unicode=True),
                                         encoding="utf-8")
        progress.log(f"simulator on {sim.url}; clouds.yaml in {out / 'clouds.yaml'}")
        night = Night(config, cloud=None if regions else "recon-demo", cloud_config=clouds,
                      progress=progress)
        with Store(db) as store:
            scaling.save(store, scaling.read_requests(LEDGER, night.contract))
        for n in range(days):
            day = FIRST_NIGHT + timedelta(days=n)
            sim.set_today(day)
            drop_exports(out / "exports", day)
            result = night.run(day, db, out)
            if day == NOTICE_DAY:
                _send_notice(night, db, out, day)
            rep = result.report
            progress.log(f"{day}: exit {result.exit_code} {rep.exit_label}; "
                         f"{rep.counts['critical']} critical, {rep.counts['warning']} warning")
        _assess_months(config, night.contract, db, out,
                       [FIRST_NIGHT + timedelta(days=n) for n in range(days)])
    rebuild(config, db, out)
    progress.log(f"demo: {days} nights in {time.monotonic() - started:.1f} s; open "
                 f"{out / 'index.html'}")
    # each night's exit code is in the log and index.html; the demo itself succeeded
    return 0


def _send_notice(night, db: Path, out: Path, day: date) -> None:
    """What the management unit does on 11-11, when KR-2026-012 is overdue: draft the written
    notice 附件3 row 4 needs (DOCX and PDF in OUT/notices/), send it the same day with a
    deadline of 11-13; from the next night on the request's clock reads it from the ledger."""
    with Store(db) as store:
        notice = notices.plan_draft(store, "scaling", "KR-2026-012", day,
                                    day + timedelta(days=2), "演示：扩容超期后的书面通知")
        draft_and_record(store, night.contract, night.config, notice, out)
        notices.mark_sent(store, notice.notice_id, day)


def _assess_months(config, contract, db: Path, out: Path, days) -> None:
    """The monthly assessment (月度考核) of every month the nights touched (before the
    index is rebuilt: it lists the assessments it finds under OUT/monthly/)."""
    months = sorted({f"{d:%Y-%m}" for d in days})
    with Store(db) as store:
        incidents.save(store, incidents.read_incidents(INCIDENTS, contract))
        for month in months:
            conclude.month(store, contract, config, month)
            write_monthly(build_monthly(store, contract, config, month), out)
