"""The files recon ships with, as package data, so an install anywhere finds them.

A wheel installed on the agency's intranet has no repository around it: the
report templates, the Great Expectations suites, the default configuration
(which `recon init` copies) and the demo's scenario and exports live inside
the package, and every module finds them here.
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the default configuration: recon.toml, the contract files, mapping.toml
#: (`recon init DIR` copies this folder; the demo runs on it)
CONFIG_DIR = HERE / "config"
BUNDLED_CONFIG = CONFIG_DIR / "recon.toml"
#: Jinja2 templates of the reports
TEMPLATES = HERE / "templates"
#: Great Expectations suites every snapshot passes before it counts
EXPECTATIONS = HERE / "expectations"
#: the demo: simulator scenario, scaling requests, console exports
DEMO = HERE / "demo"
