"""The PDFs: WeasyPrint's rendering of a report's HTML, dated by its data, one or several.

Every PDF recon writes (the monthly assessment, the acceptance pack, the annual report) is
rendered here.  Its metadata (title, author, dates) is fixed to the data, never the clock,
so the same store gives the same bytes.

WeasyPrint's layout is pure Python (about 1.5 s of CPU for a month's assessment), so a
pack's several months are rendered side by side (:func:`pdfs_of`) by a second Python
process, ``python -m reports.pdf``, that imports this module only (nothing of recon's:
it starts in about a second) and reads its jobs on stdin.  A separate interpreter rather
than multiprocessing: a "spawn" worker re-runs the caller's unguarded main script, and a
fork would copy a process holding a store connection and the demo's simulator threads.
"""
from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys

#: the jobs one call hands to the second process (the rest it renders itself)
SHARE = 2


def pdf_of(html: str, title: str, stamp: str) -> bytes:
    """The PDF of ``html``, its title ``title``, created and modified ``stamp`` (ISO date of
    the data it shows)."""
    import weasyprint  # heavy (pango, fonts): imported only when a PDF is written

    # the shared stylesheet has screen rules (phone layout, scrolling tables) WeasyPrint
    # does not know; it skips them, and its warnings would only be noise in cron mail
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    doc = weasyprint.HTML(string=html, base_url=None).render()
    doc.metadata.title = title
    doc.metadata.authors = ["recon"]
    doc.metadata.created = stamp
    doc.metadata.modified = stamp
    return doc.write_pdf()


def pdfs_of(jobs: list[tuple[str, str, str]]) -> list[bytes]:
    """:func:`pdf_of` of each ``(html, title, stamp)``, in order: every other job by a
    second process while this one renders the rest (the same bytes as one by one).  One
    job, or one core, renders here."""
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return [pdf_of(*job) for job in jobs]
    theirs = jobs[1::SHARE]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    worker = subprocess.Popen([sys.executable, "-m", "reports.pdf"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env)
    worker.stdin.write(pickle.dumps(theirs))
    worker.stdin.close()
    try:
        mine = [pdf_of(*job) for job in jobs[0::SHARE]]
        done = worker.stdout.read()
    finally:
        worker.stdout.close()
        code = worker.wait()
    if code != 0:
        raise RuntimeError(f"python -m reports.pdf exited {code} rendering {len(theirs)} PDFs")
    out: list[bytes] = [b""] * len(jobs)
    out[0::SHARE], out[1::SHARE] = mine, pickle.loads(done)
    return out


def _serve() -> None:
    """``python -m reports.pdf``: the jobs pickled on stdin, their PDFs pickled to stdout."""
    jobs = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps([pdf_of(*job) for job in jobs]))


if __name__ == "__main__":
    _serve()
