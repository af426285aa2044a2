"""Docs that cannot drift: the generated pages match the code, the README names every command
and links every page of docs/, and the codes are listed once."""
from __future__ import annotations

import argparse
import importlib.util
import re
import tomllib
from pathlib import Path

from recon import codes, labels, rules
from recon.cli import build_parser
from recon.data import CONFIG_DIR
from recon.reconcile import SEVERITY
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = ROOT / "docs"


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "tools" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands(parser, prefix="recon"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from _commands(sub, f"{prefix} {name}")


def test_generated_pages_are_not_stale():
    stale = _gen_docs().stale()
    assert not stale, f"{stale} stale: run python tools/gen_docs.py"


def test_every_command_is_in_the_readme_and_has_its_section_in_docs_cli():
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = list(_commands(build_parser()))
    assert len(commands) > 20
    assert not [c for c in commands if f"`{c}" not in README]
    assert not [c for c in commands if not re.search(rf"^#+ `{c}`$", cli, re.M)]


def test_every_code_is_in_docs_codes_with_its_label():
    page = (DOCS / "codes.md").read_text(encoding="utf-8")
    tables = [codes.FINDINGS, codes.SEVERITIES, codes.ITEM_STATUS, codes.BASIS, codes.SOURCE_STATUS,
              codes.SOURCE_REASON, codes.SCALING_STATE, codes.LINE_STATUS, codes.NIGHT_STATE,
              codes.PENALTY_STATUS]
    missing = [code for table in tables for code, entry in table.items()
               if not re.search(rf"^\| `{code}` \|(?:.*\|)? {re.escape(entry.label)} \|", page, re.M)]
    assert not missing, missing
    assert not [c for c in codes.CRITERIA if f"| `{c}` |" not in page]


def test_finding_codes_are_one_table_that_reconcile_labels_and_scaling_read():
    assert SEVERITY == codes.severity("reconcile")
    assert labels.FINDING == codes.labels(codes.FINDINGS)
    assert {f.by for f in codes.FINDINGS.values()} == {"reconcile", "scaling"}
    assert all(f.severity in codes.SEVERITIES for f in codes.FINDINGS.values())
    assert all(code.startswith("scaling_") == (f.by == "scaling")
               for code, f in codes.FINDINGS.items())
    # no module keeps a list of its own: the scaling ledger names its codes through codes.finding
    from recon import reconcile
    scaling_src = (ROOT / "recon").glob("**/scaling.py")
    for path in [*scaling_src, Path(reconcile.__file__)]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'\("scaling_\w+", "(critical|warning|info)"', text), path
        assert not re.search(r'"\w+": "(critical|warning|info)"', text), path


def test_criterion_codes_match_the_assessment_and_its_bundled_file():
    bundled = tomllib.loads((CONFIG_DIR / "assessment.toml").read_text(encoding="utf-8"))
    assert list(codes.CRITERIA) == list(rules.CODES) == [c["code"] for c in bundled["criteria"]]


def test_failure_reasons_are_the_connectors():
    from connectors.openstack.http import REASONS

    assert REASONS == labels.SOURCE_REASON == codes.labels(codes.SOURCE_REASON)


def test_exit_codes_are_documented():
    for code in range(5):
        assert f"| {code} |" in README


def _anchors(path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces -> '-'."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_readme_links_every_page_of_docs_and_every_link_resolves():
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert not [p for p in pages if f"](docs/{p})" not in README]
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = doc.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(([^)#\s]*\.md|)(?:#([^)]*))?\)", text):
            path = (doc.parent / target).resolve() if target else doc
            assert path.exists(), (doc.name, target)
            assert not anchor or anchor in _anchors(path), (doc.name, target, anchor)


def test_readme_stays_a_front_page():
    assert len(README.splitlines()) <= 250


def test_no_doc_names_a_path_the_tree_no_longer_has():
    gone = ["recon/data/config/contract_items.csv", "recon/data/expectations", "recon/reports",
            "recon/data/templates", "recon/cli.py", "recon/finance/cli.py"]
    for doc in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = doc.read_text(encoding="utf-8")
        # /var/lib/recon/reports is a folder on the agency's host, not the old package
        assert not [g for g in gone if re.search(rf"(?<![\w/]){re.escape(g)}", text)], doc.name
