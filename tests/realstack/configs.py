"""Configuration files of each service, written into the stack's work dir.

Kept as plain INI text so that a reader can compare them with a real
deployment's (devstack's lib/<service> sets the same options).
"""
from __future__ import annotations

import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ._proc import StackError


@dataclass
class Ctx:
    """What every config needs to know about the stack."""

    workdir: Path
    auth_url: str  # http://127.0.0.1:PORT/v3
    service_password: str
    db_urls: dict  # database name -> SQLAlchemy URL
    ports: dict  # service -> port
    region: str = "RegionOne"

    def logfile(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def state(self, name: str) -> Path:
        p = self.workdir / "state" / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def find_etc(project: str, filename: str) -> Path:
    """A file that the service's wheel installs under <prefix>/etc/<project>/."""
    prefixes = [sysconfig.get_path("data"), sys.prefix, sys.base_prefix, "/usr/local", "/usr", "/"]
    for prefix in prefixes:
        p = Path(prefix) / "etc" / project / filename
        if p.exists():
            return p
    raise StackError(f"{project}'s {filename} not found under {prefixes} (is {project} installed?)")


def authtoken(ctx: Ctx, user: str) -> str:
    return f"""
[keystone_authtoken]
www_authenticate_uri = {ctx.auth_url}
auth_url = {ctx.auth_url}
auth_type = password
username = {user}
password = {ctx.service_password}
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = {ctx.region}
interface = internal
service_token_roles_required = true
"""


def service_auth(ctx: Ctx, section: str, user: str, extra: str = "") -> str:
    """A keystoneauth section for service-to-service calls ([neutron], [placement] ...)."""
    return f"""
[{section}]
auth_type = password
auth_url = {ctx.auth_url}
username = {user}
password = {ctx.service_password}
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = {ctx.region}
valid_interfaces = internal,public
{extra}"""


def common(ctx: Ctx, name: str, db: str | None, default: str = "") -> str:
    """[DEFAULT] (plus ``default``), [oslo_concurrency] and [database]."""
    text = f"""
[DEFAULT]
debug = false
log_file = {ctx.logfile(name)}
use_stderr = false
transport_url = fake:/
state_path = {ctx.state(name.split('-')[0])}
{default.strip()}

[oslo_concurrency]
lock_path = {ctx.state(name)}/lock
"""
    if db:
        text += f"""
[database]
connection = {ctx.db_urls[db]}
max_pool_size = 5
max_overflow = 10
"""
    return text


def keystone(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "keystone"
    d.mkdir(parents=True, exist_ok=True)
    keys = ctx.state("keystone")
    text = common(ctx, "keystone", "keystone") + f"""
[token]
provider = fernet
expiration = 86400

[fernet_tokens]
key_repository = {keys}/fernet-keys

[fernet_receipts]
key_repository = {keys}/fernet-keys

[credential]
key_repository = {keys}/credential-keys

[identity]
# the cheapest bcrypt cost: every password auth pays it
password_hash_rounds = 4

[cache]
# in-process cache: without it every token validation costs ~200 SQL queries
enabled = true
backend = dogpile.cache.memory
"""
    (d / "keystone.conf").write_text(text)
    return d / "keystone.conf"


def nova(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "nova"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(find_etc("nova", "api-paste.ini"), d / "api-paste.ini")
    text = common(ctx, "nova-api", "nova_cell1", default=f"""
my_ip = 127.0.0.1
host = realstack
compute_driver = realstack_fake.RealstackFakeDriver
instances_path = {ctx.state('nova')}/instances
""") + f"""
[api]
auth_strategy = keystone

[api_database]
connection = {ctx.db_urls['nova_api']}

[wsgi]
api_paste_config = {d / 'api-paste.ini'}

[oslo_policy]
enforce_scope = true
enforce_new_defaults = true

[glance]
region_name = {ctx.region}
valid_interfaces = internal,public

[cinder]
os_region_name = {ctx.region}

[scheduler]
discover_hosts_in_cells_interval = 2

[conductor]
workers = 1

[vnc]
enabled = false

[notifications]
notification_format = unversioned

[oslo_messaging_notifications]
driver = noop
""" + authtoken(ctx, "nova")
    if "placement" in ctx.ports:
        text += service_auth(ctx, "placement", "placement")
    if "neutron" in ctx.ports:
        text += service_auth(ctx, "neutron", "neutron")
    (d / "nova.conf").write_text(text)
    return d / "nova.conf"


def cinder(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "cinder"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(find_etc("cinder", "api-paste.ini"), d / "api-paste.ini")
    text = common(ctx, "cinder-api", "cinder", default=f"""
auth_strategy = keystone
api_paste_config = {d / 'api-paste.ini'}
my_ip = 127.0.0.1
host = realstack
enabled_backends =
""") + f"""
[coordination]
backend_url = file://{ctx.state('cinder')}/coordination

[oslo_messaging_notifications]
driver = noop
""" + authtoken(ctx, "cinder")
    (d / "cinder.conf").write_text(text)
    return d / "cinder.conf"


def glance(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "glance"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(find_etc("glance", "glance-api-paste.ini"), d / "glance-api-paste.ini")
    st = ctx.state("glance")
    text = common(ctx, "glance-api", "glance", default=f"""
enabled_backends = file:file
bind_host = 127.0.0.1
bind_port = {ctx.ports['glance']}
workers = 0
image_cache_dir = {st}/image-cache
""") + f"""
[glance_store]
default_backend = file

[file]
filesystem_store_datadir = {st}/images

[os_glance_staging_store]
filesystem_store_datadir = {st}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {st}/tasks

[paste_deploy]
flavor = keystone
config_file = {d / 'glance-api-paste.ini'}

[oslo_messaging_notifications]
driver = noop
""" + authtoken(ctx, "glance")
    (d / "glance-api.conf").write_text(text)
    return d / "glance-api.conf"


def neutron(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "neutron"
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(find_etc("neutron", "api-paste.ini"), d / "api-paste.ini")
    text = common(ctx, "neutron-api", "neutron", default=f"""
core_plugin = ml2
service_plugins = router,qos
auth_strategy = keystone
api_paste_config = {d / 'api-paste.ini'}
allow_overlapping_ips = true
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
host = realstack
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
""") + f"""
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
# binds every port without agents (tests/realstack/fakenet.py)
mechanism_drivers = realstack
extension_drivers = port_security,qos

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200

[ml2_type_vxlan]
vni_ranges = 1:1000

[oslo_messaging_notifications]
driver = noop
""" + authtoken(ctx, "neutron")
    (d / "neutron.conf").write_text(text)
    return d / "neutron.conf"


def placement(ctx: Ctx) -> Path:
    d = ctx.workdir / "etc" / "placement"
    d.mkdir(parents=True, exist_ok=True)
    text = f"""
[DEFAULT]
debug = false
log_file = {ctx.logfile('placement-api')}
use_stderr = false

[api]
auth_strategy = keystone

[placement_database]
connection = {ctx.db_urls['placement']}
""" + authtoken(ctx, "placement")
    (d / "placement.conf").write_text(text)
    return d / "placement.conf"
