"""Start real OpenStack API services on 127.0.0.1 with throw-away state.

    with start_stack() as stack:
        conn = stack.connect(stack.admin_cloud)
        ...

Order of work (two cores: the set-up commands run a few at a time):

1. MariaDB on its own datadir/socket/port; one database per service.
2. Config files for every service (ports are chosen first, so every config
   and the Keystone catalog know every URL).
3. In parallel: Keystone's db_sync/fernet/credential/bootstrap, Nova's
   api_db sync/map_cell0/db sync/create_cell, Cinder's, Glance's,
   Neutron's (and Placement's) migrations.
4. Each WSGI app in its own ``python -m tests.realstack._serve`` process;
   Keystone gets the service users, services and public+internal endpoints
   while the others boot.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import grp
import importlib.util
import json
import os
import pwd
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import configs
from ._proc import (Proc, StackError, bypass_proxy_for_loopback, free_port, run, venv_bin,
                    wait_http)
from .mariadb import MariaDB, find_install_db, find_mariadbd

API_SERVICES = ("keystone", "nova", "cinder", "glance", "neutron")
#: every name ``services=`` accepts: "compute" adds Nova's conductor, scheduler and
#: compute (fake virt driver) to the Nova process, and Placement and Neutron
ALL_SERVICES = API_SERVICES + ("placement", "compute")
#: what start_stack() and the conformance tier start by default
DEFAULT_SERVICES = API_SERVICES + ("compute",)
#: bare-metal resource classes the fake compute node offers (the contract's servers)
BAREMETAL = {"CUSTOM_BM_KUNPENG920_910B": 3, "CUSTOM_BM_A10X4": 1, "CUSTOM_BM_GPU16": 2}
#: Python package that each service needs importable
PACKAGES = {"keystone": "keystone", "nova": "nova", "cinder": "cinder", "glance": "glance",
            "neutron": "neutron", "placement": "placement", "compute": "nova"}
#: catalog: service -> (name, type, path appended to http://127.0.0.1:PORT)
CATALOG = {
    "nova": ("nova", "compute", "/v2.1"),
    "cinder": ("cinder", "block-storage", "/v3/%(project_id)s"),
    "glance": ("glance", "image", ""),
    "neutron": ("neutron", "network", ""),
    "placement": ("placement", "placement", ""),
}
#: URL that answers (any status) once the service is up
PROBE = {"keystone": "/v3", "nova": "/", "cinder": "/", "glance": "/versions",
         "neutron": "/", "placement": "/"}
REGION = "RegionOne"
#: the log_file each service's config names (configs.py)
SERVICE_LOG = {"keystone": "keystone", "nova": "nova-api", "cinder": "cinder-api",
               "glance": "glance-api", "neutron": "neutron-api", "placement": "placement-api"}


def missing_requirements(services=DEFAULT_SERVICES) -> list[str]:
    """What stops :func:`start_stack` here: absent packages or MariaDB binaries."""
    packages = dict.fromkeys(PACKAGES[s] for s in _expand(services) if s in PACKAGES)
    pip_names = {"placement": "openstack-placement"}
    missing = [f"python package {p!r} (pip: {pip_names.get(p, p)})" for p in packages
               if importlib.util.find_spec(p) is None]
    unknown = set(_expand(services)) - set(ALL_SERVICES)
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}")
    if importlib.util.find_spec("pymysql") is None:
        missing.append("python package 'pymysql' (pip: PyMySQL)")
    if not find_mariadbd() or not find_install_db():
        missing.append("mariadbd/mariadb-install-db (Debian package mariadb-server)")
    return missing


@dataclass
class Stack:
    workdir: Path
    services: tuple
    auth_url: str = ""
    admin_password: str = ""
    service_password: str = ""
    ports: dict = field(default_factory=dict)
    procs: dict = field(default_factory=dict)
    db: MariaDB | None = None
    timings: dict = field(default_factory=dict)
    #: set by :func:`tests.realstack.seed.seed`
    project_id: str | None = None
    reader_cloud: dict | None = None
    #: the seed's further projects: name -> clouds.yaml entry of the reader's credential there
    project_clouds: dict = field(default_factory=dict)
    seeded: dict = field(default_factory=dict)
    baremetal: dict = field(default_factory=dict)
    _owns_workdir: bool = False
    _stopped: bool = False

    @property
    def admin_cloud(self) -> dict:
        """clouds.yaml-style entry: the bootstrap admin, password auth, project admin."""
        return {
            "auth_type": "password",
            "auth": {"auth_url": self.auth_url, "username": "admin",
                     "password": self.admin_password, "project_name": "admin",
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": REGION,
            "interface": "public",
            "identity_api_version": "3",
        }

    @property
    def compute_enabled(self) -> bool:
        """Servers can be built (conductor, scheduler, compute and placement run)."""
        return "compute" in self.services

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def connect(self, cloud: dict | None = None, **overrides):
        """An openstacksdk Connection for a clouds.yaml-style dict (admin by default).

        Ignores the caller's clouds.yaml and OS_* variables.
        """
        import copy

        import openstack.config
        import openstack.connection

        cloud = copy.deepcopy(cloud or self.admin_cloud)
        if overrides.get("auth"):
            cloud["auth"].update(overrides.pop("auth"))
        cloud.update(overrides)
        config = openstack.config.OpenStackConfig(load_yaml_config=False, load_envvars=False)
        region = config.get_one(**cloud)
        return openstack.connection.Connection(config=region)

    def clouds_yaml(self, name: str = "recon-realstack", cloud: dict | None = None) -> dict:
        return {"clouds": {name: cloud or self.reader_cloud or self.admin_cloud}}

    def rss_mb(self) -> dict:
        out = {name: round(p.rss_kb() / 1024, 1) for name, p in self.procs.items()}
        if self.db and self.db.proc:
            out["mariadbd"] = round(self.db.proc.rss_kb() / 1024, 1)
        return out

    def cpu_s(self) -> dict:
        """CPU seconds used so far by each service process (set-up commands not included)."""
        out = {name: p.cpu_s() for name, p in self.procs.items()}
        if self.db and self.db.proc:
            out["mariadbd"] = self.db.proc.cpu_s()
        return out

    def stop(self, keep_logs: bool = False) -> Path | None:
        """Stop every process and remove a temp work dir.

        ``keep_logs``: copy the logs out of a temp work dir first (start-up
        failures); returns where they are.
        """
        if self._stopped:
            return None
        self._stopped = True
        for name in reversed(list(self.procs)):
            self.procs[name].stop()
        self.procs.clear()
        if self.db:
            self.db.stop()
        kept = None
        if keep_logs:
            kept = self.workdir / "logs"
            if self._owns_workdir:
                kept = Path(tempfile.mkdtemp(prefix="recon-realstack-logs-"))
                shutil.copytree(self.workdir / "logs", kept, dirs_exist_ok=True)
                for extra in (self.workdir / "mariadb" / "mariadb.log",):
                    if extra.exists():
                        shutil.copy(extra, kept)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return kept

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def _fast_tmp() -> str | None:
    """/dev/shm when it has room (the state is ~200 MB, and fsyncs there are free)."""
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK) and st.f_bavail * st.f_frsize > 2 * 1024**3:
            return "/dev/shm"
    except OSError:
        pass
    return None


def _setup_env() -> dict:
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("OS_"):
            env.pop(k)
    # the child must import *this* recon, whether or not it is installed
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    bypass_proxy_for_loopback(env)
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def _keystone_setup(stack: Stack, conf: Path, env: dict) -> None:
    """keystone-manage db_sync, fernet_setup, credential_setup, bootstrap (one process)."""
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    run([sys.executable, "-m", "tests.realstack._setup", "keystone", str(conf), stack.auth_url,
         REGION, user, group], stack.workdir / "logs" / "keystone-manage.log",
        dict(env, OS_BOOTSTRAP_PASSWORD=stack.admin_password))


def _nova_setup(stack: Stack, conf: Path, env: dict) -> None:
    """nova-manage api_db sync, cell_v2 map_cell0, db sync, cell_v2 create_cell (one process)."""
    run([sys.executable, "-m", "tests.realstack._setup", "nova", str(conf),
         stack.db.url("nova_cell0")], stack.workdir / "logs" / "nova-manage.log", env)


def _db_sync(stack: Stack, service: str, conf: Path, env: dict) -> None:
    log = stack.workdir / "logs" / f"{service}-manage.log"
    if service == "cinder":
        run([venv_bin("cinder-manage"), "--config-file", str(conf), "db", "sync"], log, env)
    elif service == "glance":
        run([venv_bin("glance-manage"), "--config-file", str(conf), "db_sync"], log, env)
    elif service == "neutron":
        run([venv_bin("neutron-db-manage"), "--config-file", str(conf), "upgrade", "heads"],
            log, env)
    elif service == "placement":
        run([venv_bin("placement-manage"), "--config-file", str(conf), "db", "sync"], log, env)
    else:
        raise ValueError(service)


def _serve(stack: Stack, service: str, conf: Path, env: dict) -> Proc:
    proc = Proc(service, [sys.executable, "-m", "tests.realstack._serve", service,
                          str(stack.ports[service]), str(conf)],
                stack.workdir / "logs" / f"{service}-wsgi.log", env=env, cwd=str(stack.workdir))
    stack.procs[service] = proc
    return proc


def _register_catalog(stack: Stack) -> None:
    """Service users (admin+service roles in project service), services, endpoints."""
    conn = stack.connect()
    ident = conn.identity
    project = ident.create_project(name="service", domain_id="default",
                                   description="service users")
    roles = {r.name: r for r in ident.roles()}
    for role in ("service", "reader", "member", "manager"):
        if role not in roles:
            roles[role] = ident.create_role(name=role)
    for service in stack.services:
        if service not in CATALOG:
            continue
        user = ident.create_user(name=service, password=stack.service_password,
                                 domain_id="default", default_project_id=project.id)
        for role in ("admin", "service"):
            ident.assign_project_role_to_user(project, user, roles[role])
        name, stype, path = CATALOG[service]
        svc = ident.create_service(name=name, type=stype, enabled=True)
        for interface in ("public", "internal"):
            ident.create_endpoint(service_id=svc.id, interface=interface,
                                  url=stack.url(service) + path, region_id=REGION)
    conn.close()


@contextlib.contextmanager
def start_stack(workdir: str | os.PathLike | None = None, services=DEFAULT_SERVICES,
                timeout: float = 240.0, baremetal: dict | None = None):
    """Start the services, yield a :class:`Stack`, stop everything on exit.

    ``services`` is any subset of :data:`ALL_SERVICES` (Keystone is always
    started; ``"compute"`` brings Nova, Placement and Neutron with it).  ``workdir``
    keeps configs, logs and state there (left on disk); by default a temp dir is
    made and removed.  ``baremetal`` sets the bare-metal resource classes of the
    fake compute node (default :data:`BAREMETAL`).
    """
    stack = _start(workdir, services, timeout, BAREMETAL if baremetal is None else baremetal)
    try:
        yield stack
    finally:
        stack.stop()


def _expand(services) -> tuple:
    """Keystone always; "compute" brings Nova, Placement and Neutron (Nova's server
    API asks Neutron for every server's ports and security groups)."""
    services = tuple(services)
    if "compute" in services:
        services += ("nova", "placement", "neutron")
    return tuple(dict.fromkeys(("keystone",) + services))


def _start(workdir, services, timeout, baremetal) -> Stack:
    services = _expand(services)
    unknown = set(services) - set(ALL_SERVICES)
    if unknown:
        raise ValueError(f"unknown services {sorted(unknown)}")
    missing = missing_requirements(services)
    if missing:
        raise StackError("cannot start the real stack, missing: " + "; ".join(missing))
    bypass_proxy_for_loopback()  # this process's SDK connections too
    t0 = time.monotonic()
    if workdir is None:
        wd = Path(tempfile.mkdtemp(prefix="recon-realstack-", dir=_fast_tmp()))
        owns = True
    else:
        wd = Path(workdir).resolve()
        wd.mkdir(parents=True, exist_ok=True)
        owns = False
    (wd / "logs").mkdir(exist_ok=True)
    stack = Stack(workdir=wd, services=services, _owns_workdir=owns,
                  admin_password=secrets.token_hex(16),
                  service_password=secrets.token_hex(16), baremetal=dict(baremetal))
    try:
        _boot(stack, timeout)
    except BaseException as exc:
        kept = stack.stop(keep_logs=True)
        if isinstance(exc, StackError) and kept:
            raise StackError(f"{exc}\n(the services' logs are kept in {kept})") from None
        raise
    stack.timings["total_start_s"] = round(time.monotonic() - t0, 2)
    return stack


def _boot(stack: Stack, timeout: float) -> None:
    t0 = time.monotonic()
    env = _setup_env()
    servers = [s for s in stack.services if s != "compute"]  # compute lives in nova's process
    stack.ports = {s: free_port() for s in servers}
    stack.auth_url = f"http://127.0.0.1:{stack.ports['keystone']}/v3"

    stack.db = MariaDB(stack.workdir)
    stack.db.start()
    dbs = {"keystone": ["keystone"], "nova": ["nova_api", "nova_cell0", "nova_cell1"],
           "cinder": ["cinder"], "glance": ["glance"], "neutron": ["neutron"],
           "placement": ["placement"]}
    names = [n for s in servers for n in dbs[s]]
    stack.db.create_databases(*names)
    stack.timings["mariadb_s"] = round(time.monotonic() - t0, 2)

    ctx = configs.Ctx(workdir=stack.workdir, auth_url=stack.auth_url,
                      service_password=stack.service_password,
                      db_urls={n: stack.db.url(n) for n in names}, ports=stack.ports,
                      region=REGION)
    confs = {s: getattr(configs, s)(ctx) for s in servers}
    ready = stack.workdir / "state" / "catalog-ready"
    compute_ready = stack.workdir / "state" / "compute-ready"
    if stack.compute_enabled:
        env_nova = dict(env, RECON_REALSTACK_NOVA_SERVICES="1",
                        RECON_REALSTACK_READY_FILE=str(ready),
                        RECON_REALSTACK_COMPUTE_READY_FILE=str(compute_ready),
                        RECON_REALSTACK_BAREMETAL=json.dumps(stack.baremetal))
    else:
        env_nova = env
    # Neutron finds the 'realstack' mechanism driver through a throw-away dist-info
    from .fakenet import write_entry_point

    shim = write_entry_point(stack.workdir / "state" / "neutron-plugins")
    env_neutron = dict(env, PYTHONPATH=f"{shim}{os.pathsep}{env['PYTHONPATH']}")

    def setup(service: str) -> str:
        t = time.monotonic()
        try:
            if service == "keystone":
                _keystone_setup(stack, confs[service], env)
            elif service == "nova":
                _nova_setup(stack, confs[service], env)
            else:
                _db_sync(stack, service, confs[service], env)
        except StackError as exc:
            # the commands log to the service's log file: show its errors too
            log = ctx.logfile(SERVICE_LOG.get(service, service))
            errors = [ln for ln in _lines(log) if " ERROR " in ln or " CRITICAL " in ln][-8:]
            if errors:
                raise StackError(f"{exc}\n{log} says:\n" + "\n".join(errors)) from None
            raise
        stack.timings[f"{service}_db_s"] = round(time.monotonic() - t, 2)
        _serve(stack, service, confs[service],
               {"nova": env_nova, "neutron": env_neutron}.get(service, env))
        return service

    # keystone first (its bootstrap is on the critical path), the rest behind it
    order = sorted(servers, key=lambda s: (s != "keystone", s != "nova"))
    done: set = set()
    with cf.ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(setup, s) for s in order]
        for fut in cf.as_completed(futures):
            done.add(fut.result())
            if fut.result() == "keystone":
                # the catalog is filled while the other services migrate
                wait_http(stack.url("keystone") + PROBE["keystone"], stack.procs["keystone"],
                          timeout=timeout)
                stack.timings["keystone_up_s"] = round(time.monotonic() - t0, 2)
                _register_catalog(stack)
                stack.timings["catalog_s"] = round(time.monotonic() - t0, 2)
            if (stack.compute_enabled and not ready.exists()
                    and {"keystone", "placement"} <= done):
                # Nova's conductor/scheduler/compute may start: they need their
                # service user, the catalog and Placement
                wait_http(stack.url("placement") + PROBE["placement"], stack.procs["placement"],
                          timeout=timeout)
                ready.write_text("ok\n")
    for service in servers:
        wait_http(stack.url(service) + PROBE[service], stack.procs[service], timeout=timeout)
    stack.timings["all_up_s"] = round(time.monotonic() - t0, 2)
    if stack.compute_enabled:
        # nova-compute (in nova's process) reports to Placement, then maps its host
        deadline = time.monotonic() + timeout
        while not compute_ready.exists():
            stack.procs["nova"].check_alive()
            if time.monotonic() > deadline:
                raise StackError(f"nova-compute not ready within {timeout}s; see "
                                 f"{stack.procs['nova'].log} and {stack.workdir}/logs/nova-api.log")
            time.sleep(0.2)
        status = compute_ready.read_text().strip()
        if status != "ok":
            raise StackError(f"nova's services did not start ({status}); see "
                             f"{stack.procs['nova'].log} and {stack.workdir}/logs/nova-api.log")
        stack.timings["compute_up_s"] = round(time.monotonic() - t0, 2)
