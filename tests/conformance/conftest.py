"""Conformance tier: the connector's assumptions checked against real OpenStack services.

One real stack (Keystone, Nova with conductor/scheduler/fake compute, Placement,
Cinder API, Glance, Neutron on MariaDB; see ``tests.realstack``) is started and
seeded with the contract tenant once per test session, and stopped right after
the tier's last test.  The whole tier is skipped, with the reason, when the service
packages (the ``realstack`` extra) or Debian's ``mariadbd`` are not here, or
when ``RECON_CONFORMANCE=0``.

Environment:
  RECON_CONFORMANCE=0           skip the tier
  RECON_REALSTACK_WORKDIR=DIR   keep configs/logs/state there (for debugging)
  RECON_REALSTACK_SERVICES=...  comma-separated services (default: all, with compute)
"""
from __future__ import annotations

import json
import os
import time

import pytest

from tests.realstack import DEFAULT_SERVICES, missing_requirements, seed, start_stack


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "conformance: needs real OpenStack services (the realstack extra + mariadb-server)")


def _services() -> tuple:
    raw = os.environ.get("RECON_REALSTACK_SERVICES")
    return tuple(s.strip() for s in raw.split(",") if s.strip()) if raw else DEFAULT_SERVICES


def _skip_reason() -> str | None:
    if os.environ.get("RECON_CONFORMANCE", "1") == "0":
        return "conformance tier disabled (RECON_CONFORMANCE=0)"
    missing = missing_requirements(_services())
    if missing:
        return ("conformance tier needs real OpenStack services; missing: " + "; ".join(missing)
                + " (pip install -e '.[realstack]'; apt-get install -y mariadb-server)")
    return None


#: start-up figures of this session's stack, printed in the terminal summary
_REPORT: dict = {}
#: the running stack, and the last test that uses it (stopped right after it)
_STATE: dict = {"stack": None, "last": None}


def pytest_collection_modifyitems(session, config, items):
    # read-only: remember the last test of this tier in the run order
    mine = [it for it in items if it.get_closest_marker("conformance")]
    _STATE["last"] = mine[-1].nodeid if mine else None


def pytest_runtest_teardown(item, nextitem):
    # free the ~1.1 GB and the processes for the rest of the suite
    stack = _STATE["stack"]
    if stack is not None and item.nodeid == _STATE["last"]:
        _REPORT["rss_mb_at_end"] = stack.rss_mb()
        stack.stop()
        _STATE["stack"] = None


@pytest.fixture(scope="session")
def real_stack():
    """A started and seeded :class:`tests.realstack.Stack` shared by the whole session."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    t0 = time.monotonic()
    with start_stack(workdir=os.environ.get("RECON_REALSTACK_WORKDIR") or None,
                     services=_services()) as stack:
        seeded = seed(stack)
        _REPORT.update(services=list(stack.services), timings=stack.timings,
                       seed_steps=seeded["timings"], skipped=seeded["skipped"],
                       rss_mb=stack.rss_mb(), ready_s=round(time.monotonic() - t0, 1))
        _STATE["stack"] = stack
        yield stack
        _STATE["stack"] = None


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        rss = _REPORT.get("rss_mb_at_end") or _REPORT["rss_mb"]
        terminalreporter.write_sep("-", "tests.realstack")
        terminalreporter.write_line(
            f"stack started + seeded in {_REPORT['ready_s']}s "
            f"(start {_REPORT['timings'].get('total_start_s')}s, seed {_REPORT['timings'].get('seed_s')}s); "
            f"RSS {round(sum(rss.values()))} MB in all")
        terminalreporter.write_line("timings: " + json.dumps(_REPORT["timings"]))
        terminalreporter.write_line("seed steps: " + json.dumps(_REPORT["seed_steps"]))
        terminalreporter.write_line("rss MB: " + json.dumps(rss))
        if _REPORT["skipped"]:
            terminalreporter.write_line("seed skipped: " + "; ".join(_REPORT["skipped"]))


@pytest.fixture(scope="session")
def reader(real_stack):
    """openstacksdk Connection with the reader's application credential (not admin)."""
    conn = real_stack.connect(real_stack.reader_cloud)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def spec(real_stack) -> dict:
    """The seed spec the stack was filled from."""
    return real_stack.seeded["spec"]


@pytest.fixture(scope="session")
def need(real_stack):
    """need('neutron') skips a test when the stack runs without that service."""

    def _need(service: str) -> None:
        if service not in real_stack.services:
            pytest.skip(f"{service} not running in this stack")

    return _need
