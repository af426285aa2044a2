"""A list page with an item or a field of an unexpected shape, through the real openstacksdk
against the simulator over HTTP.

The pages of servers and volumes are decoded into Structs naming only the fields the
builders read (connectors/openstack/compute.py ``Server``, block_storage.py ``Volume``):
what the untyped reading tolerated is still tolerated, what failed the source still fails
it (unknown for the night, never zero), and a failure found by the decoder says which
service, which call and which field.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from connectors.openstack import OpenStackConnector
from recon.sim.scenario import load_scenario
from recon.sim.server import SimServer, clouds_yaml

SMALL = Path(__file__).parent / "scenarios" / "small.yaml"
DAY = date(2026, 11, 10)
LISTS = {"servers": ("openstack:compute", "compute", "/servers/detail"),
         "volumes": ("openstack:block-storage", "block-storage", "/volumes/detail")}


class Rewriting(SimServer):
    """The simulator, with the JSON answers of one list call rewritten on their way out."""

    rewrite = None  # (path suffix, body dict -> body), set by a test

    def _finish(self, req, resp):
        super()._finish(req, resp)
        if self.rewrite and req.method == "GET" and resp.status == 200 \
                and req.path.endswith(self.rewrite[0]):
            resp.body = json.dumps(self.rewrite[1](json.loads(resp.body))).encode()


@pytest.fixture(scope="module")
def sim():
    with Rewriting(load_scenario(SMALL), today=DAY) as server:
        yield server


def pull(sim, mapping, contract, key, change):
    """The night's results, every page of ``key``'s list passed through ``change``."""
    def each(body):
        out = change(body)
        return body if out is None else out

    sim.rewrite = (LISTS[key][2], each)
    try:
        conn = OpenStackConnector("t", mapping, contract, timeout=3, retries=0,
                                  cloud_config=clouds_yaml(sim, "t"))
        return {r.source: r for r in conn.pull(DAY)}
    finally:
        sim.rewrite = None


def figures(results) -> dict:
    return {(m.item_no, m.metric): m.quantity for r in results.values() if r.ok
            for m in r.measurements}


@pytest.fixture(scope="module")
def untouched(sim, mapping, contract):
    return figures(pull(sim, mapping, contract, "servers", lambda body: None))


def failed(results, key) -> str:
    """The reason the list's source failed, checked to be a malformed answer."""
    r = results[LISTS[key][0]]
    assert r.status == "failed" and r.lines == [] and r.measurements == []
    assert r.stats["reason_code"] == "malformed", r.reason
    assert results["openstack:network"].ok  # the other services are measured
    return r.reason


@pytest.mark.parametrize("key", LISTS)
def test_an_item_without_its_id_fails_that_service_saying_where(sim, mapping, contract, key):
    def change(body):
        del body[key][1]["id"]

    reason = failed(pull(sim, mapping, contract, key, change), key)
    _, service, path = LISTS[key]
    assert f"{service}: GET {path}" in reason
    assert "`id`" in reason and f"$.{key}[1]" in reason


@pytest.mark.parametrize("key", LISTS)
def test_an_item_that_is_not_an_object_fails_that_service_saying_where(sim, mapping, contract,
                                                                       key):
    def change(body):
        body[key][0] = 42

    reason = failed(pull(sim, mapping, contract, key, change), key)
    assert LISTS[key][2] in reason and f"$.{key}[0]" in reason and "`int`" in reason


@pytest.mark.parametrize("key", LISTS)
@pytest.mark.parametrize("body", [[], "text", {"other": []}])
def test_an_answer_without_the_list_is_malformed_as_before(sim, mapping, contract, key, body):
    reason = failed(pull(sim, mapping, contract, key, lambda b: body), key)
    assert f"no '{key}' in the answer" in reason


def test_a_size_that_is_not_a_number_fails_where_it_is_read_as_before(sim, mapping, contract):
    def change(body):
        body["volumes"][2]["size"] = "forty"

    reason = failed(pull(sim, mapping, contract, "volumes", change), "volumes")
    assert "ValueError" in reason and "'forty'" in reason


def test_a_flavor_that_is_not_an_object_fails_where_it_is_read_as_before(sim, mapping,
                                                                        contract):
    def change(body):
        body["servers"][0]["flavor"] = "c4m16"

    reason = failed(pull(sim, mapping, contract, "servers", change), "servers")
    assert "AttributeError" in reason


def test_fields_tolerated_before_are_still_tolerated(sim, mapping, contract, untouched):
    """A size given as a numeral, attachments of any shape on a volume without image
    metadata (never read), an image that is not an object (a server without one),
    metadata null: the night measures the same figures."""
    def volumes(body):
        for v in body["volumes"]:
            v["size"] = str(v["size"])
            if not v.get("volume_image_metadata"):
                v["attachments"] = "not a list"

    def servers(body):
        for s in body["servers"]:
            if not isinstance(s.get("image"), dict):
                s["image"] = 42
            if not s.get("metadata"):
                s["metadata"] = None

    for key, change in (("volumes", volumes), ("servers", servers)):
        results = pull(sim, mapping, contract, key, change)
        assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
        assert figures(results) == untouched


@pytest.mark.parametrize("key", LISTS)
def test_a_value_only_the_lenient_parser_reads_in_a_skipped_field_is_read(sim, mapping,
                                                                         contract, key,
                                                                         untouched):
    """NaN (json reads it, orjson and msgspec do not) in a field the builders skip: the
    page is read as before, not failed."""
    def change(body):
        body[key][0]["progress"] = float("nan")

    results = pull(sim, mapping, contract, key, change)
    assert all(r.ok for r in results.values()), {s: r.reason for s, r in results.items()}
    assert figures(results) == untouched
