"""The PDFs: WeasyPrint's rendering of a report's HTML, dated by its data, one or several.

Every PDF recon writes (the monthly assessment, the acceptance pack, the annual report) is
rendered here.  Its metadata (title, author, dates) is fixed to the data, never the clock,
so the same store gives the same bytes.

WeasyPrint's layout is pure Python (about 1.2 s of CPU for a month's assessment, 2.7 s for
a pack), so several PDFs are rendered side by side (:func:`pdfs_of`) by a second Python
process, ``python -m reports.pdf``, that imports this module only (nothing of recon's:
it starts in about a second).  The two take the jobs from one queue, the next job to
whoever is free (a pack's own PDF costs two months'; the caller's other work, ``meanwhile``,
runs first here while the worker starts and renders): no guess of what a job costs.  A
separate interpreter rather than multiprocessing: a "spawn" worker re-runs the caller's
unguarded main script, and a fork would copy a process holding a store connection and the
demo's simulator threads.
"""
from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import threading


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


def _send(stream, value) -> None:
    data = pickle.dumps(value)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("the PDF worker stopped")
    (size,) = struct.unpack(">Q", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the PDF worker stopped mid-answer")
    return pickle.loads(data)


def pdfs_of(jobs: list[tuple[str, str, str]], meanwhile=None):
    """:func:`pdf_of` of each ``(html, title, stamp)``, in order (the same bytes as one by
    one), the jobs shared with a second process; put the costliest first.  ``meanwhile``
    (no argument) runs here first, while the worker starts and takes the first jobs:
    returns ``(pdfs, its result)`` when given, else the PDFs.  One job and nothing
    meanwhile, or one core, renders here."""
    if (len(jobs) < 2 and meanwhile is None) or not jobs or (os.cpu_count() or 1) < 2:
        done = meanwhile() if meanwhile is not None else None
        pdfs = [pdf_of(*job) for job in jobs]
        return (pdfs, done) if meanwhile is not None else pdfs
    out: list[bytes | None] = [None] * len(jobs)
    lock = threading.Lock()
    nxt = [0]

    def take() -> int | None:
        with lock:
            if nxt[0] >= len(jobs):
                return None
            nxt[0] += 1
            return nxt[0] - 1

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    worker = subprocess.Popen([sys.executable, "-m", "reports.pdf"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env)
    failed: list[BaseException] = []

    def feed() -> None:   # a thread: waits on the pipe (no GIL held) while this one works
        try:
            while (k := take()) is not None:
                _send(worker.stdin, jobs[k])
                out[k] = _receive(worker.stdout)
            _send(worker.stdin, None)
        except (OSError, EOFError) as exc:
            failed.append(exc)
        finally:
            worker.stdin.close()

    feeder = threading.Thread(target=feed, name="reports.pdf feeder", daemon=True)
    feeder.start()
    try:
        done = meanwhile() if meanwhile is not None else None
        while (k := take()) is not None:
            out[k] = pdf_of(*jobs[k])
    except BaseException:
        with lock:           # the worker takes nothing more: finish its job and stop
            nxt[0] = len(jobs)
        raise
    finally:
        feeder.join()
        worker.stdout.close()
        code = worker.wait()
    if failed or code != 0:
        raise RuntimeError(f"python -m reports.pdf exited {code} rendering PDFs"
                           + (f": {failed[0]}" if failed else ""))
    return (out, done) if meanwhile is not None else out


def _serve() -> None:
    """``python -m reports.pdf``: each job pickled on stdin (length first), its PDF pickled
    to stdout, until None."""
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    while (job := _receive(jobs)) is not None:
        _send(answers, pdf_of(*job))


if __name__ == "__main__":
    _serve()
