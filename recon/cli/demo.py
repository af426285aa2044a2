"""`recon demo`: the nightly job on the bundled simulated cloud."""
from __future__ import annotations

import argparse
from pathlib import Path

from recon.demo import SCENARIO, run_demo
from recon.outbox import check_folder


def cmd_demo(args) -> int:
    check_folder(Path(args.out))
    return run_demo(args.days, Path(args.out), Path(args.scenario), quiet=args.quiet,
                    generate=not args.pulled_only)


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the nightly job on the bundled simulated cloud",
                       description="Start the OpenStack API simulator with the demo scenario "
                       "and run the nightly job for each simulated night from 2026-11-01 "
                       "(pulled through openstacksdk); the rest of the mid-term period "
                       "(2026-07-10..10-31, 2026-12-01..2027-01-09) is generated from the "
                       "scenario (演示生成: stored, reconciled and concluded, no nightly page); "
                       "then every month's assessment, the mid-term acceptance pack and its "
                       "evidence zip.")
    p.add_argument("--days", type=int, default=30, help="November nights to pull from "
                   "2026-11-01 (default 30: all of November; the rest of November is then a "
                   "gap)")
    p.add_argument("--pulled-only", action="store_true", help="only the pulled nights and "
                   "their month's assessment: no generated nights, no acceptance pack (quick)")
    p.add_argument("--out", default="demo-out", help="report folder (default demo-out)")
    p.add_argument("--scenario", default=str(SCENARIO), help=argparse.SUPPRESS)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)
