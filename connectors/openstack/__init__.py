"""The OpenStack connector: what the provider's APIs say it made available and what is used.

One module per service, as openstacksdk splits its proxies: each has
``fetch(http, conn, fetched, builder)`` (the calls) and a ``Builder`` that turns
each list page, as it arrives, into resource-line columns and running item
figures, and the page is dropped (``Builder.finish`` adds the quotas and
returns the lines and figures with their basis).  A large tenant's pages, all
kept, were 1.8 GB at 100,000 servers (bench/README.md).
This module holds the connection, the preflight, and the night's pull.

Read-only calls only; the credentials need the ``reader`` role on the
contract's project (an application credential is the recommended form).

Each service is one source (``openstack:compute``, ``openstack:block-storage``,
...), pulled concurrently, and only when the contract needs it: a service is
called when an item's ``source`` in contract_items.csv names it (or a needed
service is built from it, as the licences are from compute and block
storage).  A service no item needs is never called, so a cloud without
Octavia or Swift can have a clean night when items 7 and 11 come from exports.
A needed service that fails (after retries), or is absent from the catalog,
is ``failed`` for the night (unknown, never zero) and the other services go on.

A tenant in several regions or projects (``[openstack] scopes``) is pulled by
:class:`OpenStackScopes`: one :class:`OpenStackConnector` per scope, its
sources named ``openstack:<service>@<region>/<project>``.

Configuration that cannot work -- no clouds.yaml, an unknown cloud name, a
401 on the first authentication, a region the catalog does not have -- is a
:class:`~recon.errors.ConfigError` raised by :meth:`OpenStackConnector.preflight`
before the night writes anything.  Keystone's 5xx and timeouts are retried
like any other call and, when they persist, fail every needed source.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import os
import re
import threading
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Callable

import yaml

from connectors.base import Measurement, SourceResult
from connectors.openstack import (block_storage, compute, image, load_balancer, network,
                                  object_store)
from connectors.openstack.figures import Figures, qtext
from connectors.openstack.http import REASONS, Fetched, Http, PullError
from recon.errors import ConfigError

log = logging.getLogger(__name__)

#: service name -> module, in report order
SERVICES = {m.NAME: m for m in (compute, block_storage, network, load_balancer, object_store,
                                image)}


def connect(cloud: str, cloud_config: dict | None = None, timeout: float = 30,
            region: str | None = None, project: str | None = None):
    """An openstacksdk Connection from clouds.yaml (or an equivalent dict).

    ``region`` and ``project`` (a scope of ``[openstack] scopes``) override the
    entry's region_name and project_name, so one entry reaches every scope.

    Raises ConfigError when no clouds.yaml is found (naming where openstacksdk
    looked) or the cloud name is not in it (listing the names that are).
    """
    import openstack  # heavy (its service proxies): imported only when a cloud is pulled
    from keystoneauth1 import exceptions as ksa_exc
    from openstack import config as os_config
    from openstack import exceptions

    if cloud_config is not None:
        # the loader only reads files; the file holds secrets, so it lives only while read
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            os.chmod(fh.name, 0o600)
            yaml.safe_dump(cloud_config, fh)
        try:
            loader = os_config.OpenStackConfig(config_files=[fh.name], vendor_files=[])
        finally:
            os.unlink(fh.name)
    else:
        from openstack.config.loader import CONFIG_FILES
        env = os.environ.get("OS_CLIENT_CONFIG_FILE")
        # the file openstacksdk will read, checked first: it skips one it cannot parse (and
        # then says none was found) or fails inside on one of the wrong shape
        unreadable = _unreadable_clouds_yaml(([env] if env else []) + CONFIG_FILES)
        if unreadable:
            raise ConfigError(unreadable)
        try:
            loader = os_config.OpenStackConfig()
        except exceptions.ConfigException as exc:
            raise ConfigError(f"clouds.yaml: {exc}") from None
    known = [n for n in loader.get_cloud_names() if n != "envvars"]
    if cloud not in loader.get_cloud_names():
        if loader.config_filename is None and cloud_config is None:
            from openstack.config.loader import CONFIG_FILES
            raise ConfigError(f"no clouds.yaml found for cloud {cloud!r}; openstacksdk looked "
                              f"in {', '.join(dict.fromkeys(CONFIG_FILES))} "
                              f"(or set OS_CLIENT_CONFIG_FILE)")
        where = loader.config_filename or "the given cloud configuration"
        raise ConfigError(f"{where}: no cloud named {cloud!r}; known: "
                          f"{', '.join(known) or '(none)'}")
    try:
        extra = {}
        if region:
            extra["region_name"] = region
            entry = loader.cloud_config["clouds"][cloud]
            if "regions" not in entry and entry.get("region_name") != region:
                # an entry's one region_name is its default, not the only region the cloud
                # has: the service catalog says which exist (_check_region); a `regions`
                # list in clouds.yaml is the user's own limit and stays one
                entry.pop("region_name", None)
        entry = loader.cloud_config["clouds"][cloud]
        if project and "applicationcredential" not in str(entry.get("auth_type", "")):
            # an application credential is bound to its project: checked after login
            extra["project_name"] = project
        region = loader.get_one(cloud=cloud, api_timeout=timeout, **extra)
    except exceptions.ConfigException as exc:
        raise ConfigError(f"{loader.config_filename or 'clouds.yaml'}: cloud {cloud!r}: "
                          f"{exc}") from None
    except ksa_exc.MissingRequiredOptions as exc:
        # an entry without auth_url (or another key its auth type needs): exit 3 naming it
        missing = ", ".join(f"auth.{getattr(o, 'dest', None) or o.name}" for o in exc.options)
        raise ConfigError(f"{loader.config_filename or 'clouds.yaml'}: cloud {cloud!r}: "
                          f"missing key {missing} (its auth type "
                          f"{entry.get('auth_type') or 'password'} needs it)") from None
    return openstack.connection.Connection(config=region)


def _unreadable_clouds_yaml(paths: list[str]) -> str | None:
    """Why the first clouds.yaml that exists was skipped (openstacksdk skips a file it cannot
    parse and then says nothing was found): the parser's own words, with the line."""
    for path in dict.fromkeys(paths):
        if not os.path.exists(path):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh) if path.endswith("json") else yaml.safe_load(fh)
        except OSError as exc:
            return f"{path}: clouds.yaml found but cannot be read: {exc.strerror or exc}"
        except UnicodeDecodeError as exc:
            return f"{path}: clouds.yaml found but is not UTF-8 text ({exc.reason} at byte " \
                   f"{exc.start})"
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            what = " ".join(str(x) for x in (getattr(exc, "context", None),
                                             getattr(exc, "problem", None)) if x) or str(exc)
            return f"{path}{where}: clouds.yaml found but is not valid YAML: {what}"
        except ValueError as exc:
            return f"{path}: clouds.yaml found but is not valid JSON: {exc}"
        if not isinstance(data, dict) or not isinstance(data.get("clouds"), dict):
            return f"{path}: clouds.yaml found but has no 'clouds:' mapping at its top level"
        bad = [str(name) for name, entry in data["clouds"].items() if not isinstance(entry, dict)]
        if bad:
            return f"{path}: clouds.yaml: cloud {bad[0]!r} is not a mapping of settings"
        return None
    return None


class OpenStackConnector:
    """One scope of the cloud (one clouds.yaml entry, region, project).

    ``scope`` (a :class:`recon.config.Scope`) is given for a scope of
    ``[openstack] scopes``: its region and project override the entry's, and
    every source it yields is named ``openstack:<service>@<region>/<project>``.
    Without it (the single ``cloud`` form) the sources keep their plain names.
    """

    def __init__(self, cloud: str, mapping, contract, timeout: float = 30, retries: int = 3,
                 cloud_config: dict | None = None, log: Callable[[str], None] | None = None,
                 scope=None, budget: float | None = None):
        self.cloud = cloud
        self.scope = scope
        self.suffix = f"@{scope.label}" if scope is not None else ""
        self.mapping = mapping
        self.contract = contract
        self.cloud_config = cloud_config
        self.http = Http(retries=retries, timeout=timeout, log=log, budget=budget)
        self._conn = None
        self._auth_error: PullError | None = None
        #: another scope of the same cloud and project (another region): its session and
        #: token are this one's too (OpenStackScopes); None: this scope authenticates
        self.token_of: OpenStackConnector | None = None
        #: OpenStackScopes closes the connections once every scope is done (a shared session)
        self.keep_open = False

    # -- which services ---------------------------------------------------------
    def needed(self) -> list[str]:
        """The services this contract needs, in report order (a rule lives here only)."""
        own = {i.source.split(":", 1)[1] for i in self.contract.items.values()
               if i.source.startswith("openstack:")}
        if self.scope is not None and self.scope.services is not None:
            own &= set(self.scope.services)  # what this region offers (OpenStackScopes checks)
        wanted = set(own)
        for name in own:
            wanted |= set(getattr(SERVICES[name], "NEEDS", ()))
        return [name for name in SERVICES if name in wanted]

    # -- before the night ---------------------------------------------------------
    def preflight(self) -> None:
        """Connect and authenticate once; raise ConfigError for what cannot work.

        A 401 on this first authentication, an unknown cloud or region, no
        clouds.yaml: ConfigError (exit 3, nothing written).  Keystone answering
        5xx or timing out, after retries, is not configuration: it is kept and
        every needed source fails with it in :meth:`pull` (exit 2).
        """
        if self._conn is not None or not self.needed():
            return
        if self.token_of is not None and self.token_of._conn is not None:
            self._borrow(self.token_of)
            return
        conn = connect(self.cloud, self.cloud_config, self.http.timeout,
                       self.scope.region if self.scope else None,
                       self.scope.project if self.scope else None)
        try:
            self._authorize(conn)
        except PullError as exc:
            self._auth_error = exc
        else:
            self._check_region(conn)
            self._check_project(conn)
        self._conn = conn

    def _borrow(self, owner: "OpenStackConnector") -> None:
        """Reach this scope's region through ``owner``'s session: one token for both.

        A Keystone token is scoped to one project and good in every region of the
        catalog, so the same project in another region needs no second login.
        ``owner`` has been preflighted (OpenStackScopes orders it so).
        """
        import openstack

        if owner._auth_error is not None:
            self._auth_error, self._conn = owner._auth_error, owner._conn
            return
        conn = openstack.connection.Connection(
            session=owner._conn.session, region_name=self.scope.region,
            interface=owner._conn.config.get_interface(), api_timeout=self.http.timeout)
        self._check_region(conn)
        self._conn = conn

    def _authorize(self, conn) -> None:
        """Get the first token, retrying Keystone's 5xx and timeouts like any call."""
        from keystoneauth1 import exceptions as ksa_exc

        fetched = Fetched("identity")
        for attempt in range(self.http.retries + 1):
            last = attempt == self.http.retries
            fetched.requests += 1
            try:
                conn.session.get_token()
                return
            except ksa_exc.Unauthorized as exc:
                project = f" to project {self.scope.project!r}" \
                    if self.scope and self.scope.project else ""
                raise ConfigError(f"cloud {self.cloud!r}: authentication{project} refused "
                                  f"(HTTP 401): check the credentials in clouds.yaml and that "
                                  f"the project exists and the user has a role on it "
                                  f"({exc})") from None
            except (ksa_exc.ConnectTimeout, ksa_exc.ConnectFailure) as exc:
                kind = "timeout" if isinstance(exc, ksa_exc.ConnectTimeout) else "connect"
                why, detail = kind.replace("connect", "cannot connect"), \
                    f"{exc.__class__.__name__}: {exc}"
            except ksa_exc.HttpError as exc:
                status = getattr(exc, "http_status", None) or 0
                if status < 500:
                    raise ConfigError(f"cloud {self.cloud!r}: authentication refused "
                                      f"(HTTP {status}): {exc}") from None
                kind, why, detail = "http_5xx", f"HTTP {status}", str(exc)
            except ksa_exc.DiscoveryFailure as exc:
                kind, why, detail = "connect", "version discovery failed", str(exc)
            except ksa_exc.SSLError as exc:
                raise ConfigError(_untrusted(self.cloud, conn, exc)) from None
            except ksa_exc.InvalidResponse as exc:
                # a 200/201 whose body is not the JSON a token is: retried like a 5xx
                kind, why, detail = "malformed", "malformed answer", \
                    f"the token answer is not valid JSON ({exc})"
            except ksa_exc.ClientException as exc:
                kind, why, detail = "error", exc.__class__.__name__, \
                    f"{exc.__class__.__name__}: {exc}"
            if last:
                raise PullError("auth", f"{REASONS[kind]}，identity: {detail}"
                                        f"（{attempt + 1} 次尝试）")
            self.http.retry_wait("identity", attempt, why)

    def _check_project(self, conn) -> None:
        """The token's project is the scope's (an application credential cannot change it)."""
        if self.scope is None or not self.scope.project:
            return
        access = conn.session.auth.get_access(conn.session)
        if self.scope.project not in (access.project_name, access.project_id):
            raise ConfigError(f"cloud {self.cloud!r}: the credentials are scoped to project "
                              f"{access.project_name!r}, not {self.scope.project!r} (an "
                              f"application credential is bound to its project: give the "
                              f"scope a cloud entry of its own)")

    def _check_region(self, conn) -> None:
        region = conn.config.get_region_name()
        if not region:
            return
        access = conn.session.auth.get_access(conn.session)
        regions = {ep.get("region_id") or ep.get("region")
                   for svc in (access.service_catalog.catalog or [])
                   for ep in svc.get("endpoints", [])}
        regions.discard(None)
        if regions and region not in regions:
            raise ConfigError(f"cloud {self.cloud!r}: region {region!r} is not in the service "
                              f"catalog; the catalog has: {', '.join(sorted(regions))}")

    # -- the night ------------------------------------------------------------------
    def pull(self, snapshot_date: date) -> list[SourceResult]:
        with _gc_paused():
            return self._pull(snapshot_date)

    def _pull(self, snapshot_date: date) -> list[SourceResult]:
        started = time.monotonic()
        names = self.needed()
        if not names:
            return []
        self.preflight()
        if self._auth_error is not None:
            err = self._auth_error
            return [SourceResult.failed(f"openstack:{s}{self.suffix}", str(err), err.code)
                    for s in names]
        conn = self._conn
        ev = Evidence(self.mapping, self.contract, self.scope)

        def fetch_and_measure(name: str):
            # lines are built in the service's own thread, page by page, while slower
            # services still wait on the network; the licences need other services, so
            # they are finished last
            f = self._fetch(name, conn, ev)
            dependent = getattr(SERVICES[name], "NEEDS", ())
            return f, (None if dependent else ev.result(name, f, {}))

        try:
            done = self._fetch_all(names, fetch_and_measure)
        finally:
            if not self.keep_open:
                conn.close()
                self._conn = None
        for name in names:
            if name not in done:  # past the budget: the thread is left to end on its own
                f = Fetched(name, error=self.http.over_budget(name),
                            seconds=round(time.monotonic() - started, 3))
                done[name] = (f, None if getattr(SERVICES[name], "NEEDS", ())
                              else ev.result(name, f, {}))
        fetched = {name: f for name, (f, _) in done.items()}
        results = {name: res for name, (_, res) in done.items()}
        for name in names:
            if results[name] is None:
                results[name] = ev.result(name, fetched[name], fetched)
        took = time.monotonic() - started
        log.info("openstack pull: %.2f s", took)
        self.http.log(f"openstack{self.suffix}: pulled in {took:.1f} s"
                      + (f" (budget {self.http.budget:g} s per source)" if self.http.budget
                         else ""))
        return [results[name] for name in names]

    def _fetch_all(self, names: list[str], work) -> dict:
        """``work(name)`` for every service at once, each in a daemon thread; those not done
        when the budget is spent are left out (and may not hold the process at exit)."""
        budget = self.http.budget
        # the pull's deadline: no call starts, no retry waits past it (Http.check_budget)
        deadline = self.http.deadline = None if budget is None else time.monotonic() + budget
        done: dict = {}
        errors: dict = {}

        def run(name):
            try:
                done[name] = work(name)
            except BaseException as exc:  # noqa: BLE001 -- raised in the caller's thread
                errors[name] = exc

        threads = [threading.Thread(target=run, args=(n,), daemon=True,
                                    name=f"recon-pull-{n}") for n in names]
        for t in threads:
            t.start()
        for t in threads:
            # a thread past the deadline gets one call's timeout to notice it and end
            left = None if deadline is None else max(
                0.0, deadline - time.monotonic() + min(self.http.timeout, 5.0))
            t.join(left)
        for name in names:
            if name in errors:
                raise errors[name]
        return {n: done[n] for n in names if n in done}

    def _fetch(self, name: str, conn, ev: "Evidence") -> Fetched:
        from keystoneauth1 import exceptions as ksa_exc
        from openstack import exceptions

        f = Fetched(name)
        started = time.monotonic()
        try:
            for attempt in range(self.http.retries + 1):
                try:
                    f.builder = ev.builder(name, f)
                    SERVICES[name].fetch(self.http, conn, f, f.builder)
                    break
                except exceptions.SDKException as exc:
                    # version discovery failed before any page was read: retry it like a call
                    if not _discovery_failed(exc):
                        raise
                    if attempt == self.http.retries:
                        raise PullError(*self._probe(conn, name, exc)) from None
                    self.http.retry_wait(name, attempt, "version discovery failed")
        except PullError as exc:
            f.error = exc
        except exceptions.NotFoundException as exc:
            f.error = PullError("http_4xx", f"HTTP 404: {exc.details or exc}")
        except ksa_exc.EndpointNotFound as exc:
            f.error = PullError("not_in_catalog", f"{name}: {exc}")
        except ksa_exc.SSLError as exc:
            f.error = PullError("connect", _untrusted(self.cloud, None, exc, name))
        except ksa_exc.ConnectTimeout as exc:
            f.error = PullError("timeout", f"{exc} (after {self.http.retries + 1} tries)")
        except ksa_exc.ConnectFailure as exc:
            f.error = PullError("connect", str(exc))
        except ksa_exc.Unauthorized as exc:
            f.error = PullError("auth", str(exc))
        except (ksa_exc.ClientException, exceptions.SDKException) as exc:
            f.error = _sdk_error(name, exc)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            # a body of an unexpected shape (a size that is not a number, a missing id),
            # found while its pages are read: unknown, not zero
            log.debug("pulling %s", name, exc_info=True)  # the traceback: -v only
            f.error = PullError("malformed", f"{exc.__class__.__name__}: {exc}")
        f.seconds = round(time.monotonic() - started, 3)
        return f


    def _probe(self, conn, name: str, exc) -> tuple[str, str]:
        """Why discovery failed, asked of the endpoint itself: the SDK says only that
        the service "does not have any supported versions", whatever happened."""
        from keystoneauth1 import exceptions as ksa_exc

        try:
            url = conn.endpoint_for(name)
        except Exception:  # noqa: BLE001 -- the catalog itself is the answer
            url = None
        if not url:
            return "not_in_catalog", f"{name}: {exc}"
        try:
            resp = conn.session.get(url, authenticated=False, raise_exc=False,
                                    timeout=self.http.timeout)
        except ksa_exc.ConnectTimeout:
            return "timeout", f"GET {url} (version discovery): no answer in {self.http.timeout:g} s"
        except ksa_exc.ConnectFailure as err:
            return "connect", f"GET {url} (version discovery): {err}"
        if resp.status_code >= 500:
            return "http_5xx", f"GET {url} (version discovery): HTTP {resp.status_code}"
        try:
            json.loads(resp.content)
        except ValueError:
            return "malformed", f"GET {url} (version discovery): not JSON " \
                                f"(HTTP {resp.status_code}, {len(resp.content)} bytes)"
        return "version", f"GET {url}: HTTP {resp.status_code}, {exc}"


class OpenStackScopes:
    """Several scopes of one tenant (``[openstack] scopes``), pulled as one night.

    Each scope is an :class:`OpenStackConnector` of its own, preflighted and
    pulled concurrently.  A token is scoped to one project and good in every
    region, so the scopes of one cloud entry and project share the first one's
    session (one login); another project logs in on its own.  Every service of every scope is its
    own source (``openstack:compute@GPU-Region/bjwjw-ai``); the reconciliation
    adds an item's figures across the scopes and leaves the item unknown when
    any scope's source for it failed (recon.reconcile).
    """

    def __init__(self, scopes, mappings: dict, contract, timeout: float = 30, retries: int = 3,
                 cloud_config: dict | None = None, log: Callable[[str], None] | None = None,
                 budget: float | None = None):
        self.parts = [OpenStackConnector(s.cloud, mappings[s], contract, timeout=timeout,
                                         retries=retries, cloud_config=cloud_config, log=log,
                                         scope=s, budget=budget)
                      for s in scopes]
        for part in self.parts:
            listed = part.scope.services
            if listed is None:
                continue
            unknown = [s for s in listed if s not in SERVICES]
            if unknown:
                raise ConfigError(f"[openstack] scopes: {part.cloud} {part.scope.label}: "
                                  f"services: unknown {', '.join(map(repr, unknown))}; known: "
                                  f"{', '.join(SERVICES)}")
            lacking = [f"{s} needs {dep}" for s in listed
                       for dep in getattr(SERVICES[s], "NEEDS", ()) if dep not in listed]
            if lacking:
                raise ConfigError(f"[openstack] scopes: {part.cloud} {part.scope.label}: "
                                  f"services: {'; '.join(lacking)} (list it too)")
        owners: dict[tuple, OpenStackConnector] = {}
        for part in self.parts:
            part.keep_open = True
            key = (part.scope.cloud, part.scope.project)
            part.token_of = owners.get(key)
            owners.setdefault(key, part)

    def needed(self) -> list[str]:
        wanted = {name for part in self.parts for name in part.needed()}
        return [name for name in SERVICES if name in wanted]

    def preflight(self) -> None:
        """Every scope checked; the first (in configuration order) that cannot work is the
        ConfigError, naming its scope (an unknown region or project is exit 3)."""
        futures = {}
        # the scopes that log in first, then those that reuse their token
        for wave in ([p for p in self.parts if p.token_of is None],
                     [p for p in self.parts if p.token_of is not None]):
            with ThreadPoolExecutor(max_workers=len(self.parts)) as pool:
                futures.update({id(p): pool.submit(p.preflight) for p in wave})
            if any(futures[id(p)].exception() for p in wave):
                break
        for part in self.parts:
            fut = futures.get(id(part))
            exc = fut.exception() if fut is not None else None
            if isinstance(exc, ConfigError):
                raise ConfigError(f"[openstack] scopes: {part.cloud} {part.scope.label}: "
                                  f"{exc}") from None
            if exc is not None:
                raise exc

    def pull(self, snapshot_date: date) -> list[SourceResult]:
        with _gc_paused():
            self.preflight()
            try:
                with ThreadPoolExecutor(max_workers=len(self.parts)) as pool:
                    futures = [pool.submit(p._pull, snapshot_date) for p in self.parts]
                    return [res for fut in futures for res in fut.result()]
            finally:
                # the borrowers first: the owners' sessions are theirs too
                closed = set()
                for part in sorted(self.parts, key=lambda p: p.token_of is None):
                    conn, part._conn = part._conn, None
                    if conn is not None and id(conn) not in closed:
                        closed.add(id(conn))
                        conn.close()


def _untrusted(cloud: str, conn, exc, service: str = "identity") -> str:
    """A TLS answer whose certificate is not trusted: the host, and how to trust it."""
    text = str(exc)
    m = re.search(r"https://([^/:\s]+(?::\d+)?)", text)
    host = m.group(1) if m else "the server"
    why = re.search(r"certificate verify failed: ([^(]+)", text)
    detail = why.group(1).strip() if why else text.splitlines()[0][:200]
    if "CERTIFICATE_VERIFY_FAILED" not in text and "certificate" not in text.lower():
        return f"cloud {cloud!r}: {service}: TLS with {host} failed: {detail}"
    return (f"cloud {cloud!r}: {service}: certificate not trusted for {host} ({detail}); "
            f"certificate checks stay on: give the CA bundle that signed it as `cacert: "
            f"/path/to/ca.pem` in this cloud's clouds.yaml entry (or OS_CACERT)")


def _discovery_failed(exc) -> bool:
    return "supported versions" in str(exc)


def _sdk_error(name: str, exc) -> PullError:
    """The SDK's own errors, sorted by what really happened."""
    text = str(exc)
    low = text.lower()
    if "endpoint" in low and ("not found" in low or "catalog" in low) or \
            "service_type" in low or "no service" in low:
        return PullError("not_in_catalog", f"{name}: {text}")
    return PullError("error", f"{exc.__class__.__name__}: {text}")


class Evidence:
    """Turns what the services returned into a SourceResult with lines and figures."""

    def __init__(self, mapping, contract, scope=None):
        self.mapping = mapping
        self.contract = contract
        self.scope = scope
        self.suffix = f"@{scope.label}" if scope is not None else ""

    def figures(self) -> Figures:
        return Figures()

    def unit(self, item: int) -> str:
        """The contract's unit for an item, so evidence and contract read alike."""
        return self.contract.items[item].unit

    def items_of(self, source: str) -> set[int]:
        """The items whose contract source is ``source``: only their figures are emitted."""
        return {i.item_no for i in self.contract.items.values() if i.source == source}

    def builder(self, service: str, f: Fetched):
        """A fresh builder of the service's lines and figures, fed its pages by ``fetch``."""
        return SERVICES[service].Builder(self, f"openstack:{service}{self.suffix}", f)

    def result(self, service: str, f: Fetched, fetched: dict[str, Fetched]) -> SourceResult:
        """One service's SourceResult; ``fetched`` is every service's pull (for NEEDS)."""
        module = SERVICES[service]
        plain = f"openstack:{service}"
        source = plain + self.suffix
        stats = {"requests": f.requests, "seconds": f.seconds}
        if f.versions:
            stats["versions"] = f.versions
        if f.error:
            return SourceResult.failed(source, str(f.error), f.error.code, **stats)
        for dep in getattr(module, "NEEDS", ()):
            if fetched[dep].error:
                return SourceResult.failed(
                    source, f"{REASONS['dependency']}：需要 openstack:{dep}{self.suffix}，"
                    f"该数据源本日未能采集"
                    f"（{fetched[dep].error.code}）", "dependency", **stats)
        try:
            lines, figures = f.builder.finish(f.data, fetched)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
            # an answer of an unexpected shape (a size that is not a number, a missing id):
            # the source is unknown for the night, never counted as zero
            log.debug("measuring %s", source, exc_info=True)  # the traceback: -v only
            return SourceResult.failed(source, f"{REASONS['malformed']}：{exc.__class__.__name__}"
                                       f": {exc}", "malformed", **stats)
        if f.absent:
            stats["absent"] = f.absent
        measurements = figures.measurements(source, self.items_of(plain))
        if self.scope is not None:
            measurements = [self.scoped(m) for m in measurements]
        return SourceResult(source, "ok", lines=lines, measurements=measurements, stats=stats)

    def scoped(self, m: Measurement) -> Measurement:
        """A scope's figure as one part of the item's total: its parts name the scope.

        The reconciliation adds an item's figures across the scopes that measure
        it; the evidence must still say which scope gave how much (and of what).
        """
        label = self.scope.label
        if m.basis == "not_measured":
            whole = {"scope": label, "note": f"{label}：未计量"}
        else:
            whole = {"scope": label, "name": label,
                     "quantity": m.basis if m.quantity is None else qtext(m.quantity)}
        inner = [dict(p, scope=label, name=f"{label} {p['name']}") if "name" in p
                 else dict(p, scope=label) for p in m.parts]
        return dataclasses.replace(m, parts=tuple(inner) if inner else (whole,))


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector for the pull.

    A pull parses tens of MB of JSON into millions of small dicts that are all
    alive at once and hold no cycles (refcounting frees them).  The collector
    would rescan them again and again as they pile up: on a 10,000-server /
    30,000-volume tenant that was 40% of the pull (bench/bench_pull.py).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
