"""Compare two `recon demo` output folders as a reader would: every report, byte for byte,
once the moment of generation and the simulator's port are masked.

A redesign keeps behaviour: run the demo before and after into two folders and
`python tools/demo_diff.py BEFORE AFTER`; exit 1 and the differing lines when any report
changed.  The store file (demo.duckdb), its lock and clouds.yaml are not reports.
"""
from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

SKIP = {"demo.duckdb", "demo.duckdb.lock", "clouds.yaml", "demo.duckdb.wal"}
MASKS = [
    (re.compile(rb"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00"), b"<generated>"),
    (re.compile("20\\d\\d-\\d\\d-\\d\\d \\d\\d:\\d\\d(:\\d\\d)? ?(\\(\\+08:00\\)|\\+08:00|北京时间)".encode()), b"<generated>"),
    (re.compile(rb'"seconds": [0-9.]+'), b'"seconds": <elapsed>'),
    (re.compile(rb"127\.0\.0\.1:\d+"), b"127.0.0.1:<port>"),
    (re.compile(rb"/CreationDate \(D:[^)]*\)|/ModDate \(D:[^)]*\)"), b"<pdfdate>"),
]


def masked(path: Path) -> bytes:
    data = path.read_bytes()
    for pattern, replacement in MASKS:
        data = pattern.sub(replacement, data)
    return data


def main(before: str, after: str) -> int:
    a, b = Path(before), Path(after)
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()} | \
            {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    changed = 0
    for name in sorted(names):
        if name.name in SKIP or "exports" in name.parts:
            continue
        pa, pb = a / name, b / name
        if not pa.exists() or not pb.exists():
            print(f"only in {'after' if pb.exists() else 'before'}: {name}")
            changed += 1
            continue
        if masked(pa) != masked(pb):
            changed += 1
            print(f"differs: {name}")
            if name.suffix in (".json", ".html", ".md", ".txt"):
                lines = difflib.unified_diff(masked(pa).decode("utf-8", "replace").splitlines(),
                                             masked(pb).decode("utf-8", "replace").splitlines(),
                                             lineterm="", n=0)
                for line in list(lines)[2:12]:
                    print("   ", line[:200])
    print(f"{len(names)} files, {changed} differ")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
