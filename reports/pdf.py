"""The PDFs: WeasyPrint's rendering of a report's HTML, dated by its data, one or several.

Every PDF recon writes (the monthly assessment, the acceptance pack, the annual report) is
rendered here.  Its metadata (title, author, dates) is fixed to the data, never the clock,
so the same store gives the same bytes.

WeasyPrint's layout is pure Python (about 1.2 s of CPU for a month's assessment, 2.7 s for
a pack), so several PDFs are rendered side by side (:class:`Renderer`, :func:`pdfs_of`) by
a second Python process, ``python -m reports.pdf``, that imports this module only (nothing
of recon's: it starts in about half a second).  The two take the jobs from one queue, the
next job to whoever is free: of those waiting, the one with the longest HTML (a pack's own
PDF costs two months'), so what is left at the end is short.  The worker starts with the
first job and renders while the caller still makes the next ones (the pack's months are
built from the store one by one), so its start and the caller's building overlap the
rendering; the caller's other work, ``meanwhile``, runs before it takes jobs itself.
A separate interpreter rather than multiprocessing: a "spawn" worker re-runs the caller's
unguarded main script, and a fork would copy a process holding a store connection and the
demo's simulator threads.

Each process keeps one WeasyPrint ``FontConfiguration`` for all its PDFs (:func:`_fonts`):
a fresh one per document (WeasyPrint's default) loads the fonts again, Noto Sans CJK among
them, for every PDF.  The PDF is byte for byte the one a fresh configuration gives
(tests/test_pdf.py).
"""
from __future__ import annotations

import functools
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading


@functools.cache
def _fonts():
    """This process's one WeasyPrint font configuration (the fonts found and loaded once)."""
    from weasyprint.text.fonts import FontConfiguration  # heavy: only when a PDF is written
    return FontConfiguration()


def pdf_of(html: str, title: str, stamp: str) -> bytes:
    """The PDF of ``html``, its title ``title``, created and modified ``stamp`` (ISO date of
    the data it shows)."""
    import weasyprint  # heavy (pango, fonts): imported only when a PDF is written

    # the shared stylesheet has screen rules (phone layout, scrolling tables) WeasyPrint
    # does not know; it skips them, and its warnings would only be noise in cron mail
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    doc = weasyprint.HTML(string=html, base_url=None).render(font_config=_fonts())
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


class Renderer:
    """PDFs rendered side by side as their jobs come: :meth:`add` each ``(html, title,
    stamp)`` as soon as it is made, then :meth:`finish`; of the jobs waiting, the one with
    the longest HTML is rendered first.  The first job starts the worker process, which
    renders while this process makes the next jobs;
    :meth:`finish` renders here what the worker has not taken.  A ``with`` block: leaving
    it early (an error while making the jobs) stops the worker after its current job.  On
    one core everything renders here, in :meth:`finish`."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, str, str]] = []
        self._out: list[bytes | None] = []
        self._waiting: list[int] = []   # the jobs nobody has taken yet
        self._closed = False    # no job will be added: the worker stops when none is left
        self._ready = threading.Condition()
        self._worker: subprocess.Popen | None = None
        self._feeder: threading.Thread | None = None
        self._failed: list[BaseException] = []

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def add(self, job: tuple[str, str, str]) -> None:
        with self._ready:
            self._waiting.append(len(self._jobs))
            self._jobs.append(job)
            self._out.append(None)
            self._ready.notify_all()
        if self._worker is None and (os.cpu_count() or 1) >= 2:
            self._start()

    def finish(self, meanwhile=None):
        """The PDFs of the jobs added, in order (the same bytes as :func:`pdf_of` of each),
        and ``meanwhile()``'s result (None without it), run here first."""
        try:
            done = meanwhile() if meanwhile is not None else None
            with self._ready:
                self._closed = True
                self._ready.notify_all()
            while (k := self._take(wait=False)) is not None:
                self._out[k] = pdf_of(*self._jobs[k])
        finally:
            code = self._stop()
        if self._failed or code:
            raise RuntimeError(f"python -m reports.pdf exited {code} rendering PDFs"
                               + (f": {self._failed[0]}" if self._failed else ""))
        return self._out, done

    def _take(self, wait: bool) -> int | None:
        """The index of the waiting job with the longest HTML, the likely costliest (then
        neither process waits long for the other's last PDF); None when there is none
        (and, ``wait``ing, none will come)."""
        with self._ready:
            while not self._waiting:
                if self._closed or not wait:
                    return None
                self._ready.wait()
            k = max(self._waiting, key=lambda k: len(self._jobs[k][0]))
            self._waiting.remove(k)
            return k

    def _start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._worker = subprocess.Popen([sys.executable, "-m", "reports.pdf"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._feeder = threading.Thread(target=self._feed, name="reports.pdf feeder",
                                        daemon=True)
        self._feeder.start()

    def _feed(self) -> None:   # a thread: waits on the pipe (no GIL held) while the caller works
        worker = self._worker
        try:
            while (k := self._take(wait=True)) is not None:
                _send(worker.stdin, self._jobs[k])
                self._out[k] = _receive(worker.stdout)
            _send(worker.stdin, None)
        except (OSError, EOFError) as exc:
            self._failed.append(exc)
        finally:
            worker.stdin.close()

    def _stop(self) -> int:
        """No more jobs for the worker (it finishes the one it has): its exit code, 0 if
        none was started."""
        with self._ready:
            self._closed = True
            self._waiting.clear()
            self._ready.notify_all()
        if self._worker is None:
            return 0
        worker, self._worker = self._worker, None
        self._feeder.join()
        worker.stdout.close()
        return worker.wait()


def pdfs_of(jobs: list[tuple[str, str, str]], meanwhile=None):
    """:func:`pdf_of` of each ``(html, title, stamp)``, in order (the same bytes as one by
    one), the jobs shared with a second process (:class:`Renderer`).  ``meanwhile`` (no
    argument) runs here first, while the worker starts and takes the first jobs: returns
    ``(pdfs, its result)`` when given, else the PDFs.  One job and nothing meanwhile
    renders here."""
    if len(jobs) < 2 and meanwhile is None:
        return [pdf_of(*job) for job in jobs]
    with Renderer() as renderer:
        for job in jobs:
            renderer.add(job)
        pdfs, done = renderer.finish(meanwhile)
    return (pdfs, done) if meanwhile is not None else pdfs


def _serve() -> None:
    """``python -m reports.pdf``: each job pickled on stdin (length first), its PDF pickled
    to stdout, until None."""
    jobs, answers = sys.stdin.buffer, sys.stdout.buffer
    while (job := _receive(jobs)) is not None:
        _send(answers, pdf_of(*job))


if __name__ == "__main__":
    _serve()
