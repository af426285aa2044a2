#!/usr/bin/env python
"""Do two PDFs show the same thing?  ``tools/pdf_same.py A.pdf B.pdf`` or ``DIR_A DIR_B``.

A change to how PDFs are rendered (reports/pdf.py) may change their bytes (object order,
font subset names) but never what a reader sees.  This compares what a reader sees: the
page count (``pdfinfo``), the text as laid out (``pdftotext -layout``) and every page's
pixels rasterised at 100 dpi (``pdftoppm -r 100``, poppler-utils), plus the metadata a
reader's viewer shows (title, author, dates).  Given two folders, every ``*.pdf`` under the
first is compared with the same path under the second (and one missing from either is a
difference).  Prints one line per pair; exits 1 if any differs.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

#: what pdfinfo says that a reader sees (not the producer's own fields)
SHOWN = ("Title", "Author", "CreationDate", "ModDate", "Pages", "Page size")


def _info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    pairs = (line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs if k.strip() in SHOWN}


def _pages(pdf: Path, folder: Path) -> list[bytes]:
    subprocess.run(["pdftoppm", "-r", "100", str(pdf), str(folder / "p")], check=True)
    # ppm (raw pixels), not png: two encoders of the same pixels may differ in bytes
    return [p.read_bytes() for p in sorted(folder.glob("p*.ppm"))]


def differences(a: Path, b: Path) -> list[str]:
    """What differs between the PDFs ``a`` and ``b`` as a reader sees them (empty: none)."""
    said = []
    ia, ib = _info(a), _info(b)
    if ia != ib:
        said.append(f"metadata {ia} != {ib}")
    ta, tb = (subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True,
                             check=True).stdout for p in (a, b))
    if ta != tb:
        said.append("text differs")
    with tempfile.TemporaryDirectory() as da, tempfile.TemporaryDirectory() as db:
        pa, pb = _pages(a, Path(da)), _pages(b, Path(db))
    if len(pa) != len(pb):
        said.append(f"{len(pa)} pages != {len(pb)}")
    said += [f"page {k} pixels differ" for k, (x, y) in enumerate(zip(pa, pb), 1) if x != y]
    return said


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[0], file=sys.stderr)
        return 2
    a, b = map(Path, argv)
    if a.is_dir():
        names = sorted({p.relative_to(a) for p in a.rglob("*.pdf")}
                       | {p.relative_to(b) for p in b.rglob("*.pdf")})
        pairs = [(a / n, b / n, str(n)) for n in names]
    else:
        pairs = [(a, b, f"{a} {b}")]
    bad = 0
    for x, y, name in pairs:
        if not (x.exists() and y.exists()):
            said = ["missing from " + (str(a) if not x.exists() else str(b))]
        else:
            said = differences(x, y)
        bad += bool(said)
        pages = _info(x).get("Pages", "?") if x.exists() else "?"
        print(f"{'DIFFERS' if said else 'same'}  {name} ({pages} pages)"
              + (": " + "; ".join(said) if said else ""))
    print(f"{len(pairs)} PDFs, {len(pairs) - bad} the same, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
