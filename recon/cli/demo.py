"""`recon demo`: the nightly job on the bundled simulated cloud."""
from __future__ import annotations

import argparse
from pathlib import Path

from recon.demo import SCENARIO, run_demo
from recon.outbox import check_folder


def cmd_demo(args) -> int:
    check_folder(Path(args.out))
    return run_demo(args.days, Path(args.out), Path(args.scenario), quiet=args.quiet)


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the nightly job on the bundled simulated cloud",
                       description="Start the OpenStack API simulator with the demo scenario "
                       "and run the nightly job for each simulated night from 2026-11-01, then "
                       "the monthly assessment of the month(s) played.")
    p.add_argument("--days", type=int, default=30, help="nights to play (default 30: all of "
                   "November, then its monthly assessment)")
    p.add_argument("--out", default="demo-out", help="report folder (default demo-out)")
    p.add_argument("--scenario", default=str(SCENARIO), help=argparse.SUPPRESS)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_demo)
