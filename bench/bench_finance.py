#!/usr/bin/env python
"""Benchmark: `recon finance verify` on a large billing statement.

    python bench/bench_finance.py [--lines 60000] [--demo DIR] [--format csv|xlsx]

A provider that bills per resource sends one line per VM, disk or address: tens of
thousands of lines a month.  This generates such a statement for November 2026 (every
item of the contract, the contracted quantity split over the lines, each line billed at
the contract price for the whole month, so every line is arithmetically right), and runs
``recon finance verify`` on it, in a fresh child process, against the store of ``recon
demo`` (30 real nights of November; built into --demo DIR first when it has none).

Reported: the statement's size, the wall and CPU seconds of the whole command, of reading
the file alone (``read_statement``), the peak RSS of the child, and the exit code.  The
machine has 2 cores shared with other jobs: the CPU seconds move less than the wall.
Not a test: nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recon.config import load_config  # noqa: E402
from recon.contract import load_contract  # noqa: E402
from recon.data import CONFIG_DIR  # noqa: E402

CONFIG = CONFIG_DIR / "recon.toml"


def statement(path: Path, lines: int, fmt: str) -> None:
    """``lines`` lines over the contract's items, contracted quantities split over them."""
    contract = load_contract(load_config(CONFIG))
    items = sorted(contract.items.values(), key=lambda i: i.item_no)
    per_item = [lines // len(items) + (1 if n < lines % len(items) else 0)
                for n in range(len(items))]
    head = ["序号", "项目名称", "计费起", "计费止", "数量", "单价", "金额"]
    rows = []
    for item, count in zip(items, per_item):
        q = Decimal(item.quantity)
        for k in range(count):
            # the quantity split into `count` parts that add up to it (a share of 0 is
            # still a line: a resource billed nothing this month)
            part = (q * (k + 1) / count).quantize(Decimal("0.01")) - \
                (q * k / count).quantize(Decimal("0.01"))
            amount = (item.unit_price * part / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rows.append([item.item_no, item.short_name, "2026-11-01", "2026-11-30", part,
                         item.unit_price, amount])
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(head)
            w.writerows(rows)
    else:
        import xlsxwriter
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        ws = wb.add_worksheet()
        ws.write_row(0, 0, head)
        for r, row in enumerate(rows, start=1):
            ws.write_row(r, 0, [str(c) if isinstance(c, Decimal) else c for c in row])
        wb.close()


CHILD = """
import resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from recon.finance.statements import read_statement
s = read_statement(sys.argv[1])
t1, c1 = time.perf_counter(), time.process_time()
print(f"READ {len(s.lines)} {t1 - t0:.2f} {c1 - c0:.2f}")
if sys.argv[5] == "read":
    sys.exit(0)
from recon.cli import main
code = main(["--config", sys.argv[2], "finance", "verify", sys.argv[1], "--db", sys.argv[3],
             "--out", sys.argv[4]])
t2, c2 = time.perf_counter(), time.process_time()
print(f"VERIFY {code} {t2 - t1:.2f} {c2 - c1:.2f} "
      f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}")
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=60000)
    ap.add_argument("--demo", type=Path, help="folder holding (or to hold) demo-out/")
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--read-only", action="store_true",
                    help="time reading the statement only, not the whole verification")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    demo = args.demo or Path(tempfile.mkdtemp(prefix="bench-finance-"))
    db = demo / "demo-out" / "demo.duckdb"
    if not db.exists():
        print(f"building the demo store in {demo} (recon demo, about a minute) ...")
        demo.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "recon.cli", "demo", "--quiet"], cwd=demo,
                       env=env, check=True)
    work = Path(tempfile.mkdtemp(prefix="bench-finance-st-"))
    path = work / f"结算单-2026-11.{args.format}"
    t = time.perf_counter()
    statement(path, args.lines, args.format)
    print(f"statement: {args.lines} lines, {path.stat().st_size / 1e6:.1f} MB "
          f"({args.format}), generated in {time.perf_counter() - t:.1f} s")
    out = work / "out"
    load = os.getloadavg()[0]
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), str(CONFIG), str(db),
                            str(out), "read" if args.read_only else "all"], env=env,
                           capture_output=True, text=True)
    if child.returncode:
        print(child.stdout, child.stderr)
        return 1
    for ln in child.stdout.splitlines():
        if ln.startswith("READ"):
            _, n, wall, cpu = ln.split()
            print(f"read_statement: {n} lines, wall {wall} s, CPU {cpu} s")
        elif ln.startswith("VERIFY"):
            _, code, wall, cpu, rss = ln.split()
            print(f"finance verify (read again + verify + write): exit {code}, wall {wall} s, "
                  f"CPU {cpu} s, peak RSS {rss} MB")
    print(f"load average (1 min) before: {load:.2f}, after: {os.getloadavg()[0]:.2f}")
    for f in sorted(out.rglob("verification.*")):
        print(f"  {f.relative_to(out)}: {f.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
