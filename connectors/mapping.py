"""The user-editable mapping from what a source lists to contract items.

Loaded from ``connectors/mapping.toml`` (or the file named in recon.toml) and
checked against the contract on load: a rule naming an item the contract does
not have is a configuration error naming the file and the key, not a
resource silently priced at nothing (what CloudKitty does with unrated usage).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from recon.config import ANY_KEYS, Key, Rows, check_keys, read_toml
from recon.errors import ConfigError

#: every table and key mapping.toml may have (see recon.config.check_keys), each with its
#: type, in one place: a new mapping key is added here and nowhere else; a key not declared
#: here is a typo and stops the run (exit 3) instead of a rule silently unused, and a value
#: of the wrong type stops it at load (exit 3 naming file, line and key)
_ITEM = Key(int, None, low=1)
SCHEMA: dict = {
    "compute": {
        "vcpu_item": _ITEM, "ram_item": _ITEM,
        "cores_quota": Key(str, None, nonempty=True), "ram_quota": Key(str, None, nonempty=True),
        "baremetal": Rows(item=Key(int, low=1), resource_classes=Key(list, None),
                          flavor_names=Key(list, None)),
        "service_hosts": Rows(item=Key(int, low=1), metadata=ANY_KEYS),
    },
    "block_storage": {"backup_item": _ITEM, "volume_types": ANY_KEYS},
    "object_store": {"item": _ITEM},
    "network": {
        "bandwidth_item": _ITEM, "bandwidth_policies": Key(list, None),
        "floating_ip_item": _ITEM,
        "floating_ip_allocated": Key(str, "quota", choices=("quota", "resources")),
        "ipsec_item": _ITEM, "snat_item": _ITEM,
    },
    "load_balancer": {"item": _ITEM},
    "licences": Rows(item=Key(int, low=1), os_type=Key(list, None), os_distro=Key(list, None)),
    "exports": {"aliases": ANY_KEYS},
}


@dataclass
class Mapping:
    path: Path
    raw: dict
    export_names: dict[str, int] = field(default_factory=dict)

    # -- compute ------------------------------------------------------------
    @property
    def compute(self) -> dict:
        return self.raw.get("compute", {})

    def baremetal_item(self, flavor: dict) -> int | None:
        """Item of a bare-metal flavor (resource class or name), None for a VM flavor."""
        specs = flavor.get("extra_specs") or {}
        classes = {k.split(":", 1)[1] for k, v in specs.items()
                   if k.startswith("resources:CUSTOM_") and str(v) not in ("0", "")}
        name = flavor.get("original_name") or flavor.get("name") or ""
        for rule in self.compute.get("baremetal", []):
            if classes & set(rule.get("resource_classes", [])) or \
                    name in rule.get("flavor_names", []):
                return int(rule["item"])
        return None

    def service_host_item(self, metadata: dict) -> int | None:
        for rule in self.compute.get("service_hosts", []):
            want = rule.get("metadata", {})
            if want and all(str(metadata.get(k)) == str(v) for k, v in want.items()):
                return int(rule["item"])
        return None

    def licence_item(self, image: dict) -> int | None:
        """Item of the OS licence an image carries (os_type / os_distro), or None."""
        for rule in self.raw.get("licences", []):
            for key in ("os_type", "os_distro"):
                values = [v.lower() for v in rule.get(key, [])]
                if values and str(image.get(key, "")).lower() in values:
                    return int(rule["item"])
        return None

    # -- storage / network --------------------------------------------------
    def volume_type_item(self, type_name: str) -> int | None:
        item = self.raw.get("block_storage", {}).get("volume_types", {}).get(type_name)
        return int(item) if item is not None else None

    def is_bandwidth_policy(self, name: str) -> bool:
        patterns = self.raw.get("network", {}).get("bandwidth_policies", [])
        return any(fnmatch.fnmatchcase(name or "", p) for p in patterns)

    def setting(self, section: str, key: str, default=None):
        return self.raw.get(section, {}).get(key, default)

    # -- exports ------------------------------------------------------------
    def export_item(self, service_name: str) -> int | None:
        return self.export_names.get(_norm(service_name))


def _norm(name: str) -> str:
    return "".join(str(name).split()).lower()


def _items_in(raw: dict):
    """Every (key path, item number) the mapping names, for checking."""
    c = raw.get("compute", {})
    for key in ("vcpu_item", "ram_item"):
        if key in c:
            yield f"compute.{key}", c[key]
    for i, rule in enumerate(c.get("baremetal", [])):
        yield f"compute.baremetal[{i}].item", rule.get("item")
    for i, rule in enumerate(c.get("service_hosts", [])):
        yield f"compute.service_hosts[{i}].item", rule.get("item")
    bs = raw.get("block_storage", {})
    if "backup_item" in bs:
        yield "block_storage.backup_item", bs["backup_item"]
    for name, item in bs.get("volume_types", {}).items():
        yield f"block_storage.volume_types.{name}", item
    if "item" in raw.get("object_store", {}):
        yield "object_store.item", raw["object_store"]["item"]
    for key in ("bandwidth_item", "floating_ip_item", "ipsec_item", "snat_item"):
        if key in raw.get("network", {}):
            yield f"network.{key}", raw["network"][key]
    if "item" in raw.get("load_balancer", {}):
        yield "load_balancer.item", raw["load_balancer"]["item"]
    for i, rule in enumerate(raw.get("licences", [])):
        yield f"licences[{i}].item", rule.get("item")
    for name, item in raw.get("exports", {}).get("aliases", {}).items():
        yield f"exports.aliases.{name}", item


def load_mapping(path: Path, contract) -> Mapping:
    path = Path(path)
    raw = read_toml(path, "mapping")
    check_keys(path, raw, SCHEMA)
    for key, item in _items_in(raw):
        if not isinstance(item, int) or item not in contract.items:
            raise ConfigError(f"{path}: {key} = {item!r} is not an item of the contract")
    names: dict[str, int] = {}
    for item in contract.items.values():
        names[_norm(item.name)] = item.item_no
        names[_norm(item.short_name)] = item.item_no
    for alias, item in raw.get("exports", {}).get("aliases", {}).items():
        names[_norm(alias)] = int(item)
    return Mapping(path, raw, names)
