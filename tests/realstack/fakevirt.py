"""Nova's fake virt driver plus bare-metal custom resource classes.

Loaded by nova-compute (``compute_driver = tests.realstack.fakevirt.RealstackFakeDriver``)
inside the stack's Nova process.  Besides the fake driver's VCPU/MEMORY_MB/DISK_GB,
the compute node offers the bare-metal resource classes that the contract's
bare-metal flavors ask for (``resources:CUSTOM_BM_*=1``), with the totals in
``RECON_REALSTACK_BAREMETAL`` (JSON ``{"CUSTOM_BM_A10X4": 1, ...}``), so that
servers of those flavors are scheduled and become ACTIVE as Ironic's would.
"""
from __future__ import annotations

import json
import os

from nova.virt import fake


def _baremetal() -> dict:
    return {k: int(v) for k, v in json.loads(os.environ.get("RECON_REALSTACK_BAREMETAL") or "{}").items()}


class RealstackFakeDriver(fake.FakeDriver):
    vcpus = 2000
    memory_mb = 4 * 1024 * 1024
    local_gb = 1000000

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename, allocations)
        inventory = dict(provider_tree.data(nodename).inventory)
        for rc, total in _baremetal().items():
            if total > 0:
                inventory[rc] = {"total": total, "reserved": 0, "min_unit": 1, "max_unit": 1,
                                 "step_size": 1, "allocation_ratio": 1.0}
        provider_tree.update_inventory(nodename, inventory)
