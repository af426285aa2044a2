"""The same seed in the simulator and in the real services gives the same measurements.

The real stack is seeded from ``spec`` (the session's seed); the simulator is
loaded with ``tests.realstack.to_scenario.scenario_from_seed(spec)``, the same
tenant as the real stack leaves it (volumes ``creating``, no backups, no
VPNaaS, no Octavia, no Swift).  The nightly connector pulls both with the
reader's application credential, and every figure must agree, item by item,
so the simulator cannot drift from the real APIs unnoticed.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from recon.data import BUNDLED_CONFIG, CONFIG_DIR

pytestmark = [pytest.mark.conformance,
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")]

DAY = date(2026, 11, 25)


def _connector(cloud: str, clouds: dict):
    from connectors.mapping import load_mapping
    from connectors.openstack import OpenStackConnector
    from recon.config import load_config
    from recon.contract import load_contract

    contract = load_contract(load_config(BUNDLED_CONFIG))
    mapping = load_mapping(CONFIG_DIR / "mapping.toml", contract)
    return OpenStackConnector(cloud, mapping, contract, timeout=30, retries=1,
                              cloud_config=clouds)


@pytest.fixture(scope="module")
def both(real_stack, spec):
    """{source: SourceResult} from the real stack and from the simulator, same seed."""
    from tests.realstack.to_scenario import scenario_from_seed
    from recon.sim.scenario import parse_scenario
    from recon.sim.server import SimServer, clouds_yaml

    real = _connector("recon-realstack", real_stack.clouds_yaml("recon-realstack")).pull(DAY)
    scenario = parse_scenario(scenario_from_seed(spec, services=real_stack.services),
                              "<realstack seed>")
    with SimServer(scenario) as sim:
        clouds = clouds_yaml(sim, "recon-sim", auth="application_credential")
        simulated = _connector("recon-sim", clouds).pull(DAY)
    return {r.source: r for r in real}, {r.source: r for r in simulated}


def _figures(result) -> dict:
    return {(m.item_no, m.metric): (m.quantity, m.basis) for m in result.measurements}


def _per_item(result) -> dict:
    """item_no (None: kept but priced by no item) -> (lines, total quantity)."""
    out: dict = defaultdict(lambda: [0, Decimal(0)])
    for ln in result.lines:
        out[ln.item_no][0] += 1
        out[ln.item_no][1] += ln.quantity
    return {k: tuple(v) for k, v in out.items()}


def test_same_sources_are_read(both):
    real, sim = both
    assert set(real) == set(sim)
    assert any(r.ok for r in real.values())
    for source, r in real.items():
        if r.ok:
            assert sim[source].ok, f"{source}: ok on the real stack, on the simulator: {sim[source].reason}"
            # e.g. the network source: no VPNaaS on either side -> absent ["vpn"]
            assert sim[source].stats.get("absent") == r.stats.get("absent"), source
        else:
            # Failed on the real side: only services missing from the real catalog
            # (no Octavia, no Swift, or a service this stack was started without).
            # The scenario takes exactly those out of the simulator's catalog as
            # well (a missing_from_catalog fault), so the simulator must fail them
            # too, for the same reason -- never measure them, least of all as 0.
            # (They are "absent" from the comparison of figures below.)
            assert "catalog" in r.reason, f"{source} failed on the real stack: {r.reason}"
            assert not sim[source].ok, f"{source}: measured by the simulator, not by the real stack"
            assert "catalog" in sim[source].reason, sim[source].reason
            assert sim[source].measurements == [] and r.measurements == []


def test_every_measurement_is_equal(both):
    real, sim = both
    diff = {}
    for source, r in real.items():
        if not r.ok:
            continue  # see test_same_sources_are_read: failed (not in catalog) on both
        got, want = _figures(sim[source]), _figures(r)
        for key in sorted(set(got) | set(want), key=lambda k: (k[0], k[1])):
            if got.get(key) != want.get(key):
                diff[(source, *key)] = {"real": want.get(key), "sim": got.get(key)}
    assert not diff, f"(source, item, metric): figures differ {diff}"


def test_resource_lines_per_item_are_equal(both):
    real, sim = both
    diff = {}
    for source, r in real.items():
        if not r.ok:
            continue
        got, want = _per_item(sim[source]), _per_item(r)
        for item in set(got) | set(want):
            if got.get(item) != want.get(item):
                diff[(source, item)] = {"real (lines, total)": want.get(item),
                                        "sim (lines, total)": got.get(item)}
    assert not diff, f"(source, item): resource lines differ {diff}"


def test_servers_and_volumes_have_the_same_names_and_items(both):
    real, sim = both

    def named(results):
        return sorted((ln.resource_type, ln.name, ln.item_no, ln.quantity)
                      for r in results.values() if r.ok for ln in r.lines
                      if ln.resource_type in ("server", "volume"))

    assert named(sim) == named(real)
