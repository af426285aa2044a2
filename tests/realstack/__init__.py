"""Real OpenStack API services for the conformance tier (see stack.py, seed.py).

Importing this package needs only the standard library; starting a stack needs
the ``realstack`` extra (keystone, nova, cinder, glance, neutron,
openstack-placement, pymysql) and
Debian's mariadb-server.
"""
from ._proc import StackError
from .stack import (ALL_SERVICES, API_SERVICES, DEFAULT_SERVICES, Stack, missing_requirements,
                    start_stack)


def seed(stack, spec=None):
    """Create the contract tenant described by ``spec`` (see :mod:`tests.realstack.seed`)."""
    from .seed import seed as _seed

    return _seed(stack, spec)


__all__ = ["ALL_SERVICES", "API_SERVICES", "DEFAULT_SERVICES", "Stack", "StackError", "missing_requirements", "seed", "start_stack"]
