"""reports.pdf: one font configuration per process, and PDFs handed over as they are made."""
from __future__ import annotations

import subprocess

import pytest
import weasyprint
from weasyprint.text.fonts import FontConfiguration

from reports.pdf import Renderer, pdf_of

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
body {{ font-family: "Noto Sans CJK SC", sans-serif; }} b {{ font-weight: bold; }}
code {{ font-family: "DejaVu Sans Mono", monospace; }}</style></head><body>
<h1>政务云服务月度考核报告 {n}</h1><p><b>违约金</b> 合计 <code>1,234.{n:02d}</code> 元</p>
<table><tr><td>云服务器</td><td>{n} 台</td></tr><tr><td>云硬盘</td><td>合格</td></tr></table>
{more}</body></html>"""


def job(n: int) -> tuple[str, str, str]:
    """A small page, the longer the larger ``n`` (Renderer takes the longest first)."""
    return PAGE.format(n=n, more=f"<p>第 {n} 晚 合格</p>" * n), f"月度考核 {n}", "2026-11-30"


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_a_pdf_rendered_after_others_in_one_process_is_the_fresh_rendering(tmp_path):
    """The process's one font configuration (fonts loaded once) changes nothing a reader
    sees, nor a byte: the same PDF as WeasyPrint's own fresh configuration gives."""
    for n in (1, 2):
        pdf_of(*job(n))            # fonts loaded, other glyphs used
    shared = pdf_of(*job(3))
    doc = weasyprint.HTML(string=job(3)[0], base_url=None).render(
        font_config=FontConfiguration())
    doc.metadata.title, doc.metadata.authors = "月度考核 3", ["recon"]
    doc.metadata.created = doc.metadata.modified = "2026-11-30"
    assert shared == doc.write_pdf()
    text = text_of(shared, tmp_path)
    assert "政务云服务月度考核报告 3" in text and "1,234.03" in text and "合格" in text


def test_jobs_added_while_the_worker_renders_come_back_in_order():
    """Renderer: the first job starts the worker; later ones, added while it renders, are
    shared between it and the caller, the longest first; the PDFs come back in the order
    added."""
    alone = [pdf_of(*job(n)) for n in range(4)]
    with Renderer() as renderer:
        renderer.add(job(0))
        for n in range(1, 4):
            renderer.add(job(n))
        pdfs, done = renderer.finish(meanwhile=lambda: "nights")
    assert (pdfs, done) == (alone, "nights")
    with Renderer() as renderer:     # nothing to render: no worker, meanwhile's result
        assert renderer.finish(meanwhile=lambda: 7) == ([], 7)


def test_an_error_while_making_the_jobs_stops_the_worker():
    """Leaving the with block early (the store failed while a month was built) stops the
    worker after its job and raises that error, not a hang or an orphan process."""
    with pytest.raises(ValueError, match="store"):
        with Renderer() as renderer:
            renderer.add(job(0))
            worker = renderer._worker
            raise ValueError("store failed")
    assert worker is None or worker.poll() is not None   # None: one core, no worker
