"""How long the conformance tier's real OpenStack stack takes to start and seed, and its RSS.

    python bench/realstack_startup.py [--runs N] [--services keystone,nova,...]

Prints one JSON line per run: wall seconds to start and to seed, the stack's own
phase timings, the CPU seconds of each service process and its RSS in MB, and the
load average (other work on a 2-core machine stretches every figure).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.realstack import DEFAULT_SERVICES, missing_requirements, seed, start_stack  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--services", default=",".join(DEFAULT_SERVICES))
    args = ap.parse_args()
    services = tuple(s for s in args.services.split(",") if s)
    missing = missing_requirements(services)
    if missing:
        print("missing: " + "; ".join(missing), file=sys.stderr)
        return 2
    for run in range(args.runs):
        load0 = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        with start_stack(services=services) as stack:
            t_start = time.monotonic() - t0
            setup_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            seeded = seed(stack)
            t_seed = time.monotonic() - t0 - t_start
            rss = stack.rss_mb()
            cpu = stack.cpu_s()
            t1 = time.monotonic()
        t_stop = time.monotonic() - t1
        print(json.dumps({
            "run": run + 1, "services": list(stack.services),
            "start_s": round(t_start, 1), "seed_s": round(t_seed, 1), "stop_s": round(t_stop, 1),
            # the *-manage commands (finished children) of this run
            "setup_commands_cpu_s": round(setup_cpu.ru_utime + setup_cpu.ru_stime
                                          - before.ru_utime - before.ru_stime, 1),
            "service_cpu_s": cpu, "rss_mb": rss, "rss_mb_total": round(sum(rss.values())),
            "timings": stack.timings, "seed_steps": seeded["timings"],
            "loadavg_before": round(load0, 2), "loadavg_after": round(os.getloadavg()[0], 2),
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
