"""A night concludes the whole term again from the ledgers (issue 25): what changed in an
earlier, already concluded month shows in tonight's stored ledger and report JSON."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import jinja2

from recon import conclude
from recon.config import load_config
from recon.contract import load_contract
from recon.store import Store
from reports import common
from reports.common import to_json
from tests.test_penalties import _import, _incident


def _conclude(workdir, day: date) -> list[tuple[str, str, str]]:
    config = load_config(workdir / "recon.toml")
    with Store(workdir / "recon.duckdb") as store:
        conclude.night(store, load_contract(config), config, day)
        return [(p.dated.isoformat(), p.clause, str(p.amount)) for p in conclude.ledger(store, day)]


def test_an_earlier_month_s_incident_changed_after_its_conclusion_changes_tonight_s_ledger(
        workdir):
    _import(workdir, _incident("a", "2026-08-03 10:00", 10))
    assert _conclude(workdir, date(2026, 10, 15)) == [
        ("2026-08-31", "附件3第1条", "121648.25")]
    # August was concluded; the agency corrects the incident: 150 minutes down, not 10
    _import(workdir, _incident("a", "2026-08-03 10:00", 150), name="fix.csv")
    assert _conclude(workdir, date(2026, 10, 16)) == [
        ("2026-08-31", "附件3第1条", "121648.25"), ("2026-08-31", "附件3第5条", "72988.95"),
        ("2026-08-31", "附件3第11条", "121648.25")]


@dataclass
class _Inner:
    when: date
    amounts: tuple


@dataclass
class _Outer:
    name: str
    inner: list = field(default_factory=list)
    by_key: dict = field(default_factory=dict)
    empty: list = field(default_factory=list)


def test_a_report_s_json_keeps_nested_values_as_before():
    """to_json no longer deep-copies through dataclasses.asdict: nested dataclasses, tuples,
    dicts, dates and Decimals come out as they did."""
    ctx = _Outer("名称<x>", [_Inner(date(2026, 8, 31), (Decimal("1.50"), None))],
                 {"k": [_Inner(date(2026, 9, 1), ())]})
    assert json.loads(to_json(ctx, omit_empty=("empty",))) == {
        "name": "名称<x>", "inner": [{"when": "2026-08-31", "amounts": ["1.50", None]}],
        "by_key": {"k": [{"when": "2026-09-01", "amounts": []}]}}


def test_a_template_cache_that_cannot_be_written_leaves_the_page_as_it_was(tmp_path):
    """The compiled-template cache is a speed-up only: its folder gone (a cleaned /tmp, a
    full disk) still renders the page, compiled as before, and the next render too."""
    e = jinja2.Environment(loader=jinja2.DictLoader({"p.html.j2": "<p>{{ v }}</p>"}),
                           autoescape=True, bytecode_cache=common._Bytecode(str(tmp_path / "gone")))
    assert e.get_template("p.html.j2").render(v="<x>") == "<p>&lt;x&gt;</p>"
    assert not (tmp_path / "gone").exists()
