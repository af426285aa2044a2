"""The machine around a timed run: the set-up's writes on disk first (:func:`settle`), and
what else used the machine meanwhile (:func:`machine_s`, :func:`compaction_stalls`).

The benchmarks build large stores untimed just before they time a night (the
year-long store at 100k servers is 1.2 GB, and its copy another 1.2 GB).  Left
in the page cache, those bytes are written back by the kernel while the night
runs, and the writeback shares the two cores with it: the same night took 10.2 s
with 1.3 GB waiting and 5.5 s synced (bench/README.md).  A nightly run starts
long after the last one's writes, so the benchmarks time it that way.
"""
from __future__ import annotations

import os
import time
from pathlib import Path


def dirty_mb() -> float:
    """The page cache's bytes not yet on disk (Dirty + Writeback in /proc/meminfo), MB."""
    try:
        info = dict(line.split(":", 1) for line in
                    Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        return sum(int(info[k].split()[0]) for k in ("Dirty", "Writeback")) / 1024
    except (OSError, KeyError, ValueError):
        return 0.0


def settle(limit_mb: float = 64.0, wait_s: float = 60.0) -> tuple[float, float]:
    """``os.sync()``, then wait (at most ``wait_s``) until under ``limit_mb`` are left to
    write; returns the dirty MB before and after."""
    before = dirty_mb()
    deadline = time.monotonic() + wait_s
    os.sync()
    while dirty_mb() > limit_mb and time.monotonic() < deadline:
        time.sleep(0.2)
    return before, dirty_mb()


def machine_s() -> tuple[float, float]:
    """Seconds since boot, both cores together, from /proc/stat: the machine busy (user,
    nice, system, irq, softirq: every process and the kernel) and the time the hypervisor
    took away (steal).  A phase's busy time less its own process's CPU is what else ran
    beside it; its steal, what this virtual machine was not given."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def compaction_stalls() -> int:
    """How many times, since boot, a process waited for the kernel to compact memory into a
    huge page (``compact_stall`` in /proc/vmstat): the cost lands in that process's system
    CPU time."""
    try:
        for line in Path("/proc/vmstat").read_text().splitlines():
            if line.startswith("compact_stall "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
