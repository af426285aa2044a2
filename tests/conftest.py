"""Shared fixtures: a private config, store and output folder per test."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from connectors.mapping import load_mapping
from recon.config import load_config
from recon.contract import load_contract
from recon.data import CATALOG, BUNDLED_CONFIG, CONFIG_DIR, DEMO

ROOT = Path(__file__).resolve().parent.parent

#: a console export's header (connectors/exports.py)
EXPORT_HEADER = "序号,服务名称,资源ID,资源名称,订购数量,使用数量,单位\n"


def write_config(folder: Path, *, exports: Path | None = None, items: Path | None = None,
                 amendments: Path | None = None, cloud: str = "", extra: str = "",
                 total: str = "2919558.00", number: str = "CMBJ-202602732") -> Path:
    """A recon.toml in ``folder`` pointing at the repo's contract and mapping."""
    cfg = folder / "recon.toml"
    cfg.write_text(f"""
[contract]
number = "{number}"
title = "测试合同"
agency = "甲方"
provider = "乙方"
signed = 2026-07-10
months = 12
total = "{total}"
items = "{items or CATALOG / 'contract_items.csv'}"
amendments = "{amendments or folder / 'contract_amendments.csv'}"
[store]
path = "{folder / 'recon.duckdb'}"
lock_wait_seconds = 1
[report]
out = "{folder / 'out'}"
[openstack]
cloud = "{cloud}"
mapping = "{CONFIG_DIR / 'mapping.toml'}"
timeout_seconds = 5
retries = 1
[exports]
dir = "{exports if exports is not None else folder / 'exports'}"
{extra}
""", encoding="utf-8")
    return cfg


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with recon.toml, a copy of the demo exports and no amendments."""
    shutil.copytree(DEMO / "exports", tmp_path / "exports")
    (tmp_path / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    write_config(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def contract():
    """The bundled contract (recon/data/config), for tests that read it and never change it."""
    return load_contract(load_config(BUNDLED_CONFIG))


@pytest.fixture(scope="module")
def mapping(contract):
    """The bundled mapping.toml over :func:`contract`."""
    return load_mapping(CONFIG_DIR / "mapping.toml", contract)


def clean_workdir(folder: Path) -> None:
    """Only export items measured, all delivered in full: a clean night (exit 0)."""
    rows = list(csv.reader(io.StringIO((CATALOG / "contract_items.csv").read_text("utf-8"))))
    for r in rows[1:]:
        if r[10] != "export":
            r[10] = "none"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (folder / "items.csv").write_text(buf.getvalue(), encoding="utf-8")
    for f in (folder / "exports").iterdir():
        f.unlink()
    body = "".join(f"{r[0]},{r[2]},id{r[0]},x,{r[6]},{r[6]},{r[4]}\n" for r in rows[1:]
                   if r[10] == "export")
    # dated by its folder: the console download of that night
    for day in ("2026-11-10", "2026-11-11", "2026-11-12"):
        (folder / "exports" / day).mkdir()
        (folder / "exports" / day / "all.csv").write_text(EXPORT_HEADER + body, encoding="utf-8")


@pytest.fixture(scope="session")
def year(tmp_path_factory):
    """The contract year in miniature (tests/yearstore.py), played once per session."""
    from tests.yearstore import build  # the year's nights: only for the tests that ask

    return build(tmp_path_factory.mktemp("monthly"))
