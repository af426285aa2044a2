#!/usr/bin/env python
"""Benchmark: the documents a user waits for, main and this tree side by side in one run.

    python bench/bench_documents.py [--work DIR] [--keep] [--repeat N] [--base REV]
                                    [--demo] [--pack-only] [--pdf-cpu]

The mission's targets: "monthly report, acceptance pack and finance verification a few
seconds" (here: at most 5 s wall each) and "`recon demo` under 60 s".  On the store of
``recon demo`` (built once into WORK/store/ by this tree, or reused with --keep), each of

* ``recon report monthly --month 2026-11`` (the month of real nights),
* ``recon report acceptance --period mid`` into an empty folder (the pack, its seven
  monthly assessments and the evidence zip), then again into that folder ("acceptance
  again": the months' assessments are there, as after the months' `recon report monthly`),
* ``recon finance verify`` of the demo's statement (结算单-2026-11.csv),

runs in a fresh process, as a user runs it, once with the code of --base (default d8f06ba,
extracted with ``git archive``) and once with this tree's, alternating (base, tree, base,
...) --repeat times, each into its own empty report folder: the two sides meet the same
store, machine and load.  Printed per run: wall and CPU seconds (the process and the PDF
worker it starts), the peak RSS of the largest process, the 1-minute load; then each
command's median beside its target, PASS/MISS.  --demo also times a whole ``recon demo``
per side (about 80 s each; its target: under 60 s).  --pdf-cpu also renders the pack's
eight PDFs (its own and its months', from the HTML the last run wrote) one after another
in one fresh process per side, alternating, and prints the CPU seconds of each side's
``reports.pdf.pdf_of``: the rendering's own cost, without the command around it nor the
sharing between two processes (less noisy than the command's CPU on a shared machine).

A command concludes into the store it reads (the same conclusions from either side: the
same code of conclude up to the branch's no-behaviour-change); the store is not copied
per run.  The machine is shared: read the CPU seconds beside the wall, and the load.  Not a
test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "d8f06ba"
#: seconds, wall: "a few seconds" for a document, "under 60 s" for the demo
TARGET, DEMO_TARGET = 5.0, 60.0
STATEMENT = Path("recon/data/demo/finance/结算单-2026-11.csv")
CONFIG = Path("recon/data/config/recon.toml")
#: the pack written again into the folder it was written to: its months' assessments there
AGAIN = "acceptance again"
NAMES = ["monthly 2026-11", "acceptance mid", AGAIN, "finance verify", "recon demo"]
#: what a command needs of a checkout
TREE = ("recon", "reports", "connectors", "contract_items.csv", "contract_amendments.csv",
        "expectations", "pyproject.toml")


def commands(code: Path, db: Path, out: Path) -> dict[str, list[str]]:
    """Each timed command's arguments, run by ``code``'s own tree and configuration."""
    common = ["--db", str(db), "--out", str(out)]
    head = [sys.executable, "-m", "recon.cli", "--config", str(code / CONFIG)]
    return {
        "monthly 2026-11": head + ["report", "monthly", "--month", "2026-11"] + common,
        "acceptance mid": head + ["report", "acceptance", "--period", "mid"] + common,
        AGAIN: head + ["report", "acceptance", "--period", "mid"] + common,
        "finance verify": head + ["finance", "verify", str(code / STATEMENT)] + common,
    }


def timed(argv: list[str], code: Path, cwd: Path) -> tuple[float, float, int, str]:
    """Wall, CPU (the process and every child it waited for), peak RSS MB (the largest
    of them), standard error of one command run by ``code``."""
    env = dict(os.environ, PYTHONPATH=str(code))
    with tempfile.TemporaryFile() as log:   # a file, not a pipe: the demo says a lot
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        log.seek(0)
        err = log.read().decode("utf-8", "replace")
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{err[-3000:]}")
    # ru_*time of a waited child include its own waited children (the PDF worker)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, err


#: run by each side's interpreter: its reports.pdf renders the HTML files named, CPU s
PDF_CPU = """
import sys, time
from pathlib import Path
from reports.pdf import pdf_of
jobs = [(Path(p).read_text("utf-8"), Path(p).stem, "2027-01-09") for p in sys.argv[1:]]
cpu = time.process_time()
for job in jobs:
    pdf_of(*job)
print(time.process_time() - cpu)
"""


def pdf_cpu(sides: dict[str, Path], pack: Path, repeat: int) -> None:
    """Print each side's CPU seconds rendering the pack's PDFs in one process, alternating."""
    pages = sorted(pack.glob("acceptance/*/acceptance.html")) + \
        sorted(pack.glob("monthly/*/assessment.html"))
    print(f"\nthe pack's {len(pages)} PDFs rendered in one process (CPU s of pdf_of, load):")
    got: dict[str, list[float]] = {side: [] for side in sides}
    for k in range(repeat):
        for side, code in sides.items():
            load = os.getloadavg()[0]
            out = subprocess.run([sys.executable, "-c", PDF_CPU, *map(str, pages)],
                                 env=dict(os.environ, PYTHONPATH=str(code)), cwd=code,
                                 capture_output=True, text=True, check=True).stdout
            got[side].append(float(out))
            print(f"{k + 1:>3} {side:6} {got[side][-1]:7.2f} s  (load {load:.2f})", flush=True)
    print("  median: " + " | ".join(f"{side} {statistics.median(v):.2f} s"
                                    for side, v in got.items()))


def tree_of(rev: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"bench-documents-{rev}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, *TREE],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def verdict(value: float, target: float) -> str:
    return "PASS" if value <= target else "MISS"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-documents")
    ap.add_argument("--keep", action="store_true", help="reuse WORK/store/demo.duckdb")
    ap.add_argument("--repeat", type=int, default=2, help="runs per side (default 2)")
    ap.add_argument("--base", default=BASE, help=f"git revision to compare (default {BASE})")
    ap.add_argument("--demo", action="store_true", help="also time `recon demo` per side")
    ap.add_argument("--pack-only", action="store_true",
                    help="time only the acceptance pack (empty folder, then again)")
    ap.add_argument("--pdf-cpu", action="store_true",
                    help="also time each side's rendering of the pack's PDFs in one process")
    args = ap.parse_args()
    store = args.work / "store"
    db = store / "demo.duckdb"
    if not (args.keep and db.exists()):
        shutil.rmtree(store, ignore_errors=True)
        print(f"building the demo store into {store} (recon demo, about 80 s) ...", flush=True)
        subprocess.run([sys.executable, "-m", "recon.cli", "demo", "--quiet", "--out",
                        str(store)], env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    sides = {"main": tree_of(args.base), "branch": ROOT}
    results: dict[tuple[str, str], list[tuple[float, float, int, float]]] = {}
    print(f"{'run':>3} {'side':6} {'command':16} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7} "
          f"{'load':>5}")
    pack = None     # the branch's last pack folder, for --pdf-cpu
    for k in range(args.repeat):
        kept: dict[str, Path] = {}
        for name in (["acceptance mid", AGAIN] if args.pack_only else NAMES[:-1]):
            for side, code in sides.items():
                # "again": into the folder the pack was just written to (its months there)
                out = kept.pop(side) if name == AGAIN else \
                    Path(tempfile.mkdtemp(prefix="out-", dir=args.work))
                load = os.getloadavg()[0]
                wall, cpu, rss, _ = timed(commands(code, db, out)[name], code, args.work)
                if name == "acceptance mid":
                    kept[side] = out
                elif name == AGAIN and side == "branch" and args.pdf_cpu:
                    if pack is not None:
                        shutil.rmtree(pack)
                    pack = out
                else:
                    shutil.rmtree(out)
                results.setdefault((name, side), []).append((wall, cpu, rss, load))
                print(f"{k + 1:>3} {side:6} {name:16} {wall:7.2f} {cpu:7.2f} {rss:7d} "
                      f"{load:5.2f}", flush=True)
        if args.demo:
            for side, code in sides.items():
                out = Path(tempfile.mkdtemp(prefix="demo-", dir=args.work))
                load = os.getloadavg()[0]
                wall, cpu, rss, err = timed([sys.executable, "-m", "recon.cli", "demo",
                                             "--out", str(out)], code, args.work)
                shutil.rmtree(out)
                results.setdefault(("recon demo", side), []).append((wall, cpu, rss, load))
                # its own account: the nights, then the documents (wall s, CPU s)
                said = next((ln.split("demo: ", 1)[1] for ln in err.splitlines()
                             if " demo: " in ln or ln.startswith("demo: ")), "")
                print(f"{k + 1:>3} {side:6} {'recon demo':16} {wall:7.2f} {cpu:7.2f} "
                      f"{rss:7d} {load:5.2f}  {said}", flush=True)

    print(f"\nmedian of {args.repeat} (wall / CPU s, peak RSS MB, load) beside the target:")
    names = sorted({n for n, _ in results}, key=NAMES.index)
    for name in names:
        target = DEMO_TARGET if name == "recon demo" else TARGET
        line = []
        for side in sides:
            runs = results[(name, side)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            rss = max(r[2] for r in runs)
            load = "-".join(f"{x:.1f}" for x in (min(r[3] for r in runs),
                                                 max(r[3] for r in runs)))
            line.append(f"{side} {wall:6.2f} / {cpu:6.2f} s {rss:5d} MB (load {load})")
        branch = statistics.median(r[0] for r in results[(name, "branch")])
        print(f"  {name:16} {' | '.join(line)} | target <= {target:.0f} s: "
              f"{verdict(branch, target)}")
    if pack is not None:
        pdf_cpu(sides, pack, args.repeat)
        shutil.rmtree(pack)
    shutil.rmtree(sides["main"], ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
