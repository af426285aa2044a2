"""README documents every command and every finding code, so the docs cannot drift."""
from __future__ import annotations

import argparse

from recon.cli import build_parser
from recon.reconcile import SEVERITY
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(parser, prefix="recon"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}"
                yield from _commands(sub, f"{prefix} {name}")


def test_every_command_is_in_the_readme():
    leaves = [c for c in _commands(build_parser())]
    missing = [c for c in leaves if f"`{c}" not in README]
    assert not missing, missing


def test_every_finding_code_is_in_the_readme():
    codes = set(SEVERITY) | {"scaling_due_soon", "scaling_overdue", "scaling_late",
                             "scaling_notice_overdue", "scaling_unverifiable",
                             "scaling_undetermined", "scaling_reverted"}
    missing = [c for c in codes if f"`{c}`" not in README]
    assert not missing, missing


def test_exit_codes_are_documented():
    for code in range(5):
        assert f"| {code} |" in README


def test_every_basis_and_failure_reason_code_is_in_the_readme():
    from connectors.openstack.http import REASONS
    from recon.labels import BASIS

    missing = [c for c in [*BASIS, *REASONS] if f"`{c}`" not in README]
    assert not missing, missing
