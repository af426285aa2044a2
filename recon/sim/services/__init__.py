"""The simulated OpenStack services, one module each, as ``connectors/openstack/`` has them.

Each module holds one service's route handlers (a :class:`~.base.Service`
subclass); the server (:mod:`recon.sim.server`) keeps the HTTP plumbing,
tokens, the catalog, listings and fault injection, and routes a request to
the service whose ``prefix`` its path starts with.
"""
from __future__ import annotations

from .base import Service
from .block_storage import BlockStorage
from .compute import Compute
from .identity import Identity
from .image import Image
from .load_balancer import LoadBalancer
from .network import Network
from .object_store import ObjectStore

#: every service, in the order the simulator's root document lists them
ALL: tuple[type[Service], ...] = (Identity, Compute, BlockStorage, Network, LoadBalancer,
                                  ObjectStore, Image)

__all__ = ["ALL", "Service", "Identity", "Compute", "BlockStorage", "Network", "LoadBalancer",
           "ObjectStore", "Image"]
