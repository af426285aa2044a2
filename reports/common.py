"""What every report shares, so the nightly, monthly and finance pages agree.

A report is a dataclass that is both the JSON a machine reads and the context
the template renders (as datasette's template contexts), so the two cannot
disagree.  Money and quantities stay Decimal in the context and become
strings in the JSON: a float never appears.  Pages are written atomically
(temporary file, then rename) so a reader, or a run killed half way, never
leaves a half-written page.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from recon import labels
from recon.money import cents, daxie, fmt

#: the report templates live beside the modules that fill them
TEMPLATES = Path(__file__).resolve().parent


class _Bytecode(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between processes, in Jinja's per-user folder (0700) in the
    system's temporary directory, each checked against its template's source (a changed
    template is compiled again).  Every night is a fresh process, and compiling nightly,
    index, nav and monthly again cost it 0.38 s (0.007 s read from here; 2026-12-04, the
    2-core box).  A cache that cannot be read or written is no cache: the night compiles
    as before and its reports never fail over it (a full disk, a cleaned /tmp)."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode() -> _Bytecode | None:
    try:
        return _Bytecode()
    except (OSError, RuntimeError):   # no safe folder of our own: compile every time
        return None


_BYTECODE = _bytecode()


@dataclass
class Money:
    """An amount with the two forms a Chinese finance reader checks: digits and 大写."""

    amount: Decimal
    text: str
    daxie: str

    @classmethod
    def of(cls, amount) -> "Money":
        amount = cents(amount)
        return cls(amount, fmt(amount), daxie(amount))


#: characters that reorder the text around them (bidi overrides, embeddings, isolates and
#: marks): "rtl\u202egpj.exe" reads "rtlexe.jpg" on a page.  A person is shown them as
#: "[U+202E]"; the JSON keeps the value verbatim
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text):
    """``text`` with every bidi control shown as ``[U+XXXX]``, for every human-facing output
    (pages, PDF, workbooks, the terminal); a Markup stays Markup (the marks hold no HTML)."""
    if not isinstance(text, str) or not BIDI.search(text):
        return text
    shown = BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)
    return Markup(shown) if isinstance(text, Markup) else shown


def clip(text, limit: int, where: str) -> str:
    """``text`` cut to ``limit`` characters with "…" and where the whole text is, or as is."""
    if text is None or len(str(text)) <= limit:
        return text
    text = str(text)
    return f"{text[:limit]}…（全文 {len(text)} 字，见{where}）"


def env() -> jinja2.Environment:
    """The Jinja2 environment of every report: autoescaped (cloud values are untrusted),
    strict about undefined names, with the number filters below; every value shown has its
    bidi controls made visible (:func:`visible`)."""
    e = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                           autoescape=True, undefined=jinja2.StrictUndefined,
                           trim_blocks=True, lstrip_blocks=True, finalize=visible,
                           bytecode_cache=_BYTECODE)
    e.filters["clip"] = clip
    e.filters["qty"] = labels.qty
    e.filters["pct"] = lambda v: "-" if v is None else f"{(Decimal(v) * 100):.1f}%"
    e.filters["money"] = lambda v: "-" if v is None else fmt(v)
    e.filters["daxie"] = lambda v: "-" if v is None else daxie(cents(v))
    e.filters["nobreak"] = nobreak
    e.globals["PENALTY_DEDUCTION"] = labels.PENALTY_DEDUCTION
    return e


# an id, path, date or source name inside a sentence (openstack:block-storage, /volumes/detail,
# 2026-11-09, KR-2026-012), or a number with a Latin unit (90,000 GB): kept on one line
_UNBREAKABLE = re.compile(r"\d[\d,.]*\s[A-Za-z%]+\b|[\w.@+]*[-:/][\w.:/@+-]*[\w/]")
#: longer tokens (a URL with its query) may break rather than widen the page
_UNBREAKABLE_MAX = 48


def nobreak(text) -> Markup:
    """Escape ``text`` and keep its ids and numbers-with-units from breaking across lines.

    Browsers break after a hyphen or colon, so "openstack:block-storage" in a
    sentence can end a line at "block-"; CSS alone cannot reach inside a text.
    """
    if text is None:
        return Markup("")
    out, pos = [], 0
    text = str(text)
    for m in _UNBREAKABLE.finditer(text):
        if len(m.group()) > _UNBREAKABLE_MAX:
            continue
        out.append(escape(text[pos:m.start()]))
        out.append(Markup('<span class="nw">%s</span>') % m.group())
        pos = m.end()
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value))


#: types _plain returns as they are (immutable leaves); dataclass field names by class
_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None), Decimal, date, datetime})
_FIELDS: dict = {}


def _plain(value):
    """``value`` as JSON's containers (what ``dataclasses.asdict`` gives for JSON), without
    asdict's deep copy of every leaf: the leaves (str, Decimal, date, numbers) are immutable,
    and the index of a year-long store spent 0.3 s of a night copying them.  A leaf is told by
    its exact type, and a dataclass's field names are looked up once per class (the index of
    a year-long store: 37,000 values, 11,000 dataclasses)."""
    kind = type(value)
    if kind in _PLAIN_LEAVES:
        return value
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value)) \
            if dataclasses.is_dataclass(value) and not isinstance(value, type) else False
    if names is not False:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_json(context, omit_empty: tuple[str, ...] = ()) -> str:
    """A report context (a dataclass) as the JSON written beside its page; the fields named
    in ``omit_empty`` are left out while empty (a section added later, absent when unused)."""
    data = _plain(context)
    for name in omit_empty:
        if not data.get(name):
            data.pop(name, None)
    return _indented(data)


#: JSON's own string encoder (its C one where there is one), as json.dumps uses it
_string = json.encoder.encode_basestring
_int = int.__repr__


def _number(value: float) -> str:
    """A float as json.dumps writes it (allow_nan: NaN and the infinities as JavaScript's)."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _indented(data) -> str:
    """``json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)``, byte for byte,
    in a third of its time: with an indent json.dumps cannot use its C encoder, and its
    Python one passes every leaf up through a generator per level of nesting (a year-long
    store's index, 1.2 MB of JSON, took 0.1-0.2 s of the night).  Here the pieces go into one
    list, a plain leaf (str, int, float, bool, None: by its exact type) written with its key
    in one piece; strings go through JSON's own (C) string encoder.  The rest follows json's
    order of type tests, separators (``,`` and ``: ``) and empty ``[]``/``{}``."""
    out: list[str] = []
    put = out.append
    leaf = _LEAVES.get

    def value(o, level: int) -> None:
        if isinstance(o, str):
            put(_string(o))
        elif o is None:
            put("null")
        elif o is True:
            put("true")
        elif o is False:
            put("false")
        elif isinstance(o, int):
            put(_int(o))
        elif isinstance(o, float):
            put(_number(o))
        elif isinstance(o, (list, tuple)):
            if not o:
                put("[]")
                return
            inner = "\n" + "  " * (level + 1)
            sep = "[" + inner
            for v in o:
                write = leaf(type(v))
                if write is not None:
                    put(sep + write(v))
                else:
                    put(sep)
                    value(v, level + 1)
                sep = "," + inner
            put("\n" + "  " * level + "]")
        elif isinstance(o, dict):
            if not o:
                put("{}")
                return
            inner = "\n" + "  " * (level + 1)
            sep = "{" + inner
            for k, v in o.items():
                if type(k) is not str:
                    k = _key(k)
                write = leaf(type(v))
                if write is not None:
                    put(sep + _string(k) + ": " + write(v))
                else:
                    put(sep + _string(k) + ": ")
                    value(v, level + 1)
                sep = "," + inner
            put("\n" + "  " * level + "}")
        else:
            value(_json_default(o), level)

    value(data, 0)
    return "".join(out)


#: how json writes a leaf of exactly these types (subclasses take value()'s isinstance tests)
_LEAVES = {str: _string, int: _int, float: _number, type(None): lambda _: "null",
           bool: lambda b: "true" if b else "false",
           # written as the string _json_default makes of them
           **dict.fromkeys((Decimal, date, datetime), lambda v: _string(_json_default(v)))}


def _key(k) -> str:
    """A dict key as json.dumps takes it (no skipkeys)."""
    if isinstance(k, str):
        return k
    if isinstance(k, float):
        return _number(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, int):
        return _int(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {k.__class__.__name__}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes) -> Path:
    """Write ``path`` so that readers see the old file or the whole new one, never a part.

    The temporary file sits in the same folder (a rename across file systems is
    not atomic) under a unique name (two writers never share one), is synced,
    then renamed over ``path``.  It gets the mode an ordinary file would (0666 less
    the umask), not mkstemp's private 0600: a web server or a colleague reads reports.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def kept_pdf(html_path: Path, pdf_path: Path, html: str) -> bytes | None:
    """The PDF beside ``html_path`` when that file is byte-identical to ``html`` (the same
    HTML renders the same bytes: a report's PDF title and date are its HTML's), else None:
    render it.  Never a stale one: :func:`write_page` removes an HTML before the new PDF."""
    try:
        if Path(html_path).read_bytes() == html.encode("utf-8"):
            return Path(pdf_path).read_bytes()
    except FileNotFoundError:
        pass
    return None


def write_page(html_path: Path, pdf_path: Path, html: str, pdf: bytes | None) -> None:
    """A report's HTML and its PDF, ``pdf`` None when :func:`kept_pdf` kept the one there:
    the old HTML is removed before the new PDF is written and the new HTML after it, so an
    HTML beside a PDF is always the HTML that PDF renders, even after a crash between."""
    if pdf is None:
        return
    Path(html_path).unlink(missing_ok=True)
    write_atomic(pdf_path, pdf)
    write_atomic(html_path, html)


#: the cell formats every workbook of recon's uses (finance verification, settlement)
WORKBOOK_FORMATS = {
    "head": {"bold": True, "bg_color": "#F3F3F3", "border": 1, "text_wrap": True,
             "valign": "top"},
    "title": {"bold": True, "font_size": 14},
    "money": {"num_format": "#,##0.00", "border": 1},
    "money_b": {"num_format": "#,##0.00", "border": 1, "bold": True},
    "date": {"num_format": "yyyy-mm-dd", "border": 1},
    "text": {"border": 1},
    "wrap": {"border": 1, "text_wrap": True, "valign": "top"},
    "bold": {"bold": True, "border": 1},
    "bad": {"border": 1, "font_color": "#B00020", "bold": True},
}


def workbook(target, extra_formats: dict | None = None, constant_memory: bool = False):
    """An XlsxWriter workbook as recon writes them: no string turned into a number, formula
    or link; the shared formats, and the same formats with Excel's quote prefix for text
    that would otherwise become a formula once someone edits the cell ("=1+2").
    ``constant_memory``: each row is written out when the next one begins, through a
    temporary file, instead of a table of every cell kept until the end (a sheet of a
    million cells: its table is most of the memory, and the garbage collector walks it
    over and over); rows must then be written in order within each sheet, and a row
    already left cannot be written to.  Returns (workbook, formats, quoted formats)."""
    import xlsxwriter  # heavy: imported only when a workbook is written

    wb = xlsxwriter.Workbook(target, {"strings_to_numbers": False,
                                      "in_memory": not constant_memory,
                                      "constant_memory": constant_memory,
                                      "strings_to_formulas": False, "strings_to_urls": False})
    props = {**WORKBOOK_FORMATS, **(extra_formats or {})}
    return (wb, {k: wb.add_format(v) for k, v in props.items()},
            {k: wb.add_format({**v, "quote_prefix": True}) for k, v in props.items()})
