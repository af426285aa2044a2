"""The words a scenario may use, and the defaults the real services ship with.

Service names (and the aliases people write: ``nova``, ``volume``, ...), fault
kinds, resource kinds in the order a timeline event creates them, server and
volume statuses, quota and page-size defaults.  Parsing checks against these
and the simulated services answer with them (a quota-set's ``defaults``), so
they live apart from both.
"""
from __future__ import annotations

SERVICES = (
    "identity",
    "compute",
    "block-storage",
    "network",
    "load-balancer",
    "object-store",
    "image",
)
_SERVICE_ALIASES = {
    "keystone": "identity",
    "nova": "compute",
    "cinder": "block-storage",
    "volume": "block-storage",
    "volumev3": "block-storage",
    "block_storage": "block-storage",
    "blockstorage": "block-storage",
    "neutron": "network",
    "octavia": "load-balancer",
    "load_balancer": "load-balancer",
    "loadbalancer": "load-balancer",
    "swift": "object-store",
    "object_store": "object-store",
    "glance": "image",
}
FAULT_KINDS = (
    "http_500",
    "http_503",
    "delay",
    "token_expiry",
    "malformed_json",
    "missing_from_catalog",
)

COMPUTE_QUOTA_DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
VOLUME_QUOTA_DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "per_volume_gigabytes": -1,
    "groups": 10,
}
NETWORK_QUOTA_DEFAULTS = {
    "network": 100,
    "subnet": 100,
    "subnetpool": -1,
    "port": 500,
    "router": 10,
    "floatingip": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "rbac_policy": 10,
}
LB_QUOTA_DEFAULTS = {
    "load_balancer": -1,
    "listener": -1,
    "pool": -1,
    "member": -1,
    "health_monitor": -1,
    "l7policy": -1,
    "l7rule": -1,
}
QUOTA_DEFAULTS = {
    "compute": COMPUTE_QUOTA_DEFAULTS,
    "block-storage": VOLUME_QUOTA_DEFAULTS,
    "network": NETWORK_QUOTA_DEFAULTS,
    "load-balancer": LB_QUOTA_DEFAULTS,
}
PAGE_SIZE_DEFAULTS = {
    "compute": 1000,  # nova [api] max_limit
    "block-storage": 1000,  # cinder osapi_max_limit
    "network": 0,  # neutron pagination_max_limit = -1 (unlimited)
    "load-balancer": 1000,  # octavia [api_settings] pagination_max_limit
    "image": 25,  # glance limit_param_default (api_limit_max is 1000)
}
SERVER_STATUSES = {
    # status: (vm_state, power_state, task_state)
    "ACTIVE": ("active", 1, None),
    "SHUTOFF": ("stopped", 4, None),
    "ERROR": ("error", 0, None),
    "PAUSED": ("paused", 3, None),
    "SUSPENDED": ("suspended", 7, None),
    "BUILD": ("building", 0, "spawning"),
    "SHELVED_OFFLOADED": ("shelved_offloaded", 4, None),
}
VOLUME_STATUSES = {"available", "in-use", "error", "creating", "reserved",
                   "maintenance", "error_extending", "extending", "backing-up",
                   "downloading"}
RESOURCE_KINDS = (
    "servers",
    "volumes",
    "backups",
    "qos_policies",  # before floating_ips and routers, which may carry one
    "floating_ips",
    "routers",
    "ipsec_site_connections",
    "load_balancers",
    "images",
)


def canonical_service(name: str) -> str:
    """Map a service name or alias (``nova``, ``volume``, ...) to its type."""
    key = str(name).strip().lower()
    key = _SERVICE_ALIASES.get(key, key)
    if key not in SERVICES:
        raise ValueError(
            f"unknown service {name!r}; expected one of {', '.join(SERVICES)}"
        )
    return key
