"""recon installs like a product: the wheel carries what a run needs, and no test fixture."""
from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_wheel_carries_templates_expectations_config_and_demo_but_not_realstack(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = tmp_path.glob("recon-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("reports/nightly.html.j2", "reports/_style.css", "reports/monthly.py",
                   "recon/data/expectations/contract.json",
                   "recon/data/expectations/measurements.json",
                   "recon/data/catalog/contract_items.csv",
                   "recon/data/catalog/contract_amendments.csv",
                   "recon/data/config/recon.toml", "recon/data/config/mapping.toml",
                   "recon/data/config/assessment.toml",
                   "recon/data/demo/scenario.yaml", "recon/data/demo/scaling_requests.csv",
                   "recon/sim/server.py", "connectors/openstack/__init__.py"):
        assert needed in names, needed
    assert [n for n in names if n.startswith("recon/data/demo/exports/")
            and n.endswith((".csv", ".xlsx"))]
    assert not [n for n in names if "realstack" in n or n.startswith("tests/")]
    # every file of the shipped folders is in the wheel (a new template, suite or package
    # folder missing from pyproject.toml cannot be forgotten), the top level's where
    # recon.data maps it
    shipped = {str(p.relative_to(ROOT)): str(p.relative_to(ROOT))
               for folder in ("recon", "connectors", "reports") for p in (ROOT / folder).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    shipped.update({f"expectations/{p.name}": f"recon/data/expectations/{p.name}"
                    for p in (ROOT / "expectations").iterdir()})
    shipped.update({name: f"recon/data/catalog/{name}"
                    for name in ("contract_items.csv", "contract_amendments.csv")})
    missing = {src for src, inside in shipped.items() if inside not in names}
    assert not missing, missing


def test_realstack_fixture_still_starts_from_the_repo_root():
    proc = subprocess.run([sys.executable, "-m", "tests.realstack", "--print-seed"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("project:") and "flavors:" in proc.stdout


def test_ci_runs_the_wheel_demo_then_exactly_the_readme_test_command():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if ln.strip() and not ln.lstrip().startswith("#")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = ci[-1]
    assert command == "python -m pytest -q"
    assert f"pip install -e '.[test]' && {command}\n```" in readme
    demo = next(i for i, ln in enumerate(ci) if "recon\" demo --days 2" in ln)
    wheel = next(i for i, ln in enumerate(ci) if ln.startswith("pip wheel"))
    assert wheel < demo < len(ci) - 1
