"""Two projects of the agency measured in one night on real services (issue 16, point 5).

The seed's second project (``DEFAULT_SEED["projects"]``: bjwjw-ai, a GPU bare-metal
server, a VM and two volumes) sits in the same region as the contract tenant; the
reader holds the reader role in both and one application credential per project (a
credential is bound to its project), so recon.toml names two scopes of two
clouds.yaml entries.  The night runs as a user runs it (``recon run``), through
openstacksdk against Keystone, Nova, Cinder, Glance and Neutron.
"""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from recon.cli import main
from tests.conformance.test_connector_real import _expected
from tests.conftest import write_config

pytestmark = [pytest.mark.conformance,
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]

DAY = "2026-11-25"
REGION = "RegionOne"
#: items the compute, block-storage and image sources feed, whose figures the seed fixes
ITEMS = (1, 2, 3, 4, 5, 6, 31, 25, 26)


def _project_spec(spec: dict, pspec: dict) -> dict:
    """A further project as the first project's shape, for :func:`_expected`.

    It shares the first project's flavors and has no network of its own: the
    network figures are not compared for it.
    """
    return {**pspec, "flavors": spec["flavors"],
            "network": {"qos_policies": [], "quotas": {"floatingip": 0}}}


@pytest.fixture(scope="module")
def two_projects(real_stack, need, spec, tmp_path_factory):
    """nightly.json of one night over the contract tenant and the seed's second project."""
    for service in ("nova", "cinder", "glance", "neutron", "compute"):
        need(service)
    first = spec["project"]["name"]
    second = spec["projects"][0]["name"]
    folder = tmp_path_factory.mktemp("scopes")
    (folder / "contract_amendments.csv").write_text(
        "amendment_id,signed_date,effective_date,item_no,quantity,note\n", encoding="utf-8")
    clouds = folder / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {
        "bigdata": real_stack.reader_cloud, "ai": real_stack.project_clouds[second]}}))
    cfg = write_config(folder)
    rows = (f'{{cloud = "bigdata", region = "{REGION}", project = "{first}"}}, '
            f'{{cloud = "ai", region = "{REGION}", project = "{second}"}}')
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('cloud = ""\n',
                                                           f"scopes = [{rows}]\n"),
                   encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    try:
        code = main(["--config", str(cfg), "run", "--date", DAY, "-q"])
    finally:
        mp.undo()
    rep = json.loads((folder / "out" / DAY / "nightly.json").read_text(encoding="utf-8"))
    return {"code": code, "rep": rep, "first": f"{REGION}/{first}",
            "second": f"{REGION}/{second}"}


def test_each_project_is_its_own_source(two_projects):
    rep, first, second = two_projects["rep"], two_projects["first"], two_projects["second"]
    assert two_projects["code"] != 3
    status = {s["source"]: s["status"] for s in rep["sources"]}
    for scope in (first, second):
        for service in ("compute", "block-storage", "network", "image"):
            assert status[f"openstack:{service}@{scope}"] == "ok", service
    # no plain (unscoped) OpenStack source in a night of scopes
    assert not [s for s in status if s.startswith("openstack:") and "@" not in s]


def _by_scope(item: dict) -> dict:
    return {(f["scope"], f["metric"]): Decimal(str(f["quantity"]))
            for f in item["by_scope"] if f["quantity"] is not None}


def test_second_project_is_counted_exactly(two_projects, spec):
    items = {i["item_no"]: i for i in two_projects["rep"]["items"]}
    first, second = two_projects["first"], two_projects["second"]
    want = {first: _expected(spec), second: _expected(_project_spec(spec, spec["projects"][0]))}
    wrong = {}
    for no in ITEMS:
        got = _by_scope(items[no])
        for scope, expected in want.items():
            for metric in ("allocated", "in_use"):
                w = expected.get((no, metric))
                if isinstance(w, Decimal) and got.get((scope, metric)) != w:
                    wrong[(no, scope, metric)] = (got.get((scope, metric)), w)
    assert not wrong, f"(item, scope, metric): (night, seed) {wrong}"
    # what the seed put in the second project, spelled out: one GPU bare-metal server,
    # one c8m32 VM, 3000 GB ssd and 400 GB general
    got = _by_scope(items[31])
    assert got[(second, "in_use")] == 1
    assert _by_scope(items[1])[(second, "in_use")] == 8
    assert _by_scope(items[6])[(second, "in_use")] == 3000
    assert _by_scope(items[5])[(second, "in_use")] == 400


def test_item_figures_add_up_across_the_projects(two_projects):
    items = {i["item_no"]: i for i in two_projects["rep"]["items"]}
    first, second = two_projects["first"], two_projects["second"]
    for no in (1, 2, 5, 6, 31):
        item = items[no]
        got = _by_scope(item)
        for metric in ("allocated", "in_use"):
            assert Decimal(str(item[metric])) == got[(first, metric)] + got[(second, metric)], \
                (no, metric)
        assert {p.get("scope") for p in item["parts"]} == {first, second}, no
        assert item["measured_by"].split(", ") == sorted(
            f"openstack:{'block-storage' if no in (5, 6) else 'compute'}@{s}"
            for s in (first, second)), no
