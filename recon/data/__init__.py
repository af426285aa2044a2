"""Where the files recon ships with are, in a checkout and in an installed wheel.

The project's top level holds the one contract catalog (``contract_items.csv``,
``contract_amendments.csv``) and the Great Expectations suites (``expectations/``);
``reports/`` holds the report templates beside their modules.  A wheel installed on
the agency's intranet has no repository around it, so pyproject.toml maps the catalog
and the suites into this package at build time (``recon/data/catalog``,
``recon/data/expectations``): every module asks here and gets the packaged copy in a
wheel, the top-level files in a checkout.  The default configuration (which `recon
init` copies) and the demo's scenario and exports live in this package in both.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
_CHECKOUT = HERE.parents[1]


def _bundled(packaged: Path, in_checkout: Path) -> Path:
    """The wheel's copy when there is one (an install), else the checkout's top level."""
    return packaged if packaged.is_dir() else in_checkout


#: the contract catalog: contract_items.csv and contract_amendments.csv
CATALOG = _bundled(HERE / "catalog", _CHECKOUT)
CATALOG_FILES = ("contract_items.csv", "contract_amendments.csv")
#: the default configuration: recon.toml, mapping.toml, assessment.toml
#: (`recon init DIR` copies it with the catalog; the demo runs on it)
CONFIG_DIR = HERE / "config"
BUNDLED_CONFIG = CONFIG_DIR / "recon.toml"
#: Great Expectations suites every snapshot passes before it counts
EXPECTATIONS = _bundled(HERE / "expectations", _CHECKOUT / "expectations")
#: the demo: simulator scenario, scaling requests, console exports
DEMO = HERE / "demo"
