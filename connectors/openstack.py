"""The OpenStack connector: what the provider's APIs say it made available and what is used.

openstacksdk does what it is good at -- clouds.yaml, Keystone auth (password or
application credential), the service catalog, endpoint and version
discovery, microversion headers, re-authentication when a token expires, TLS.
The list pages themselves are read through the SDK's service proxies as raw
JSON (``conn.compute.get(path, params=..., microversion=...)``) and turned
straight into rows: building an SDK ``Resource`` per server costs about 1 ms,
which for 10,000 servers is longer than the whole pull.

Read-only calls only; the credentials need the ``reader`` role on the
contract's project (an application credential is the recommended form).

Each service is one source (``openstack:compute``, ``openstack:block-storage``,
...), pulled concurrently.  5xx answers and timeouts are retried with backoff
by keystoneauth; a service that still fails is ``failed`` for the night
(unknown, never zero) and the other services go on.  ``openstack:image``
(the OS licences) is derived from the compute servers and their images, so it
fails when either does.
"""
from __future__ import annotations

import contextlib
import gc
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connectors.base import Measurement, ResourceLine, SourceResult

log = logging.getLogger(__name__)

COMPUTE_MICROVERSION = "2.79"    # >= 2.47: the server embeds its flavor with extra_specs
VOLUME_MICROVERSION = "3.50"
PAGE = 1000
RETRIABLE = [500, 502, 503, 504]
MB_PER_GB = Decimal(1024)


MAX_DELAY = 10.0


def _backoff(attempt: int, retry_after: str | None = None) -> float:
    """0.5 s, 1 s, 2 s ... or the server's Retry-After, never above MAX_DELAY."""
    delay = 0.5 * 2 ** attempt
    if retry_after:
        try:
            delay = float(retry_after)
        except ValueError:
            pass
    return min(delay, MAX_DELAY)


class PullError(Exception):
    """A service could not be read; the message says which call and why."""


@dataclass
class Fetched:
    """What one service returned, with the requests it took."""

    data: dict = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    error: str | None = None
    #: parts of the service that are not deployed (404): items they measure stay unmeasured
    absent: list[str] = field(default_factory=list)


def connect(cloud: str, cloud_config: dict | None = None, timeout: float = 30):
    """An openstacksdk Connection from clouds.yaml (or an equivalent dict)."""
    import openstack
    from openstack import config as os_config

    if cloud_config is not None:
        import os
        import tempfile

        import yaml
        # the loader only reads files; the file holds secrets, so it lives only while read
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
            os.chmod(fh.name, 0o600)
            yaml.safe_dump(cloud_config, fh)
        try:
            loader = os_config.OpenStackConfig(config_files=[fh.name], vendor_files=[])
        finally:
            os.unlink(fh.name)
    else:
        loader = os_config.OpenStackConfig()
    region = loader.get_one(cloud=cloud, api_timeout=timeout)
    return openstack.connection.Connection(config=region)


class OpenStackConnector:
    def __init__(self, cloud: str, mapping, contract, timeout: float = 30, retries: int = 3,
                 cloud_config: dict | None = None):
        self.cloud = cloud
        self.mapping = mapping
        self.contract = contract
        self.timeout = timeout
        self.retries = retries
        self.cloud_config = cloud_config

    # -- HTTP ------------------------------------------------------------------
    def _get(self, proxy, path: str, fetched: Fetched, params=None, microversion=None,
             method: str = "GET"):
        """One call, retried on 5xx and timeouts with capped exponential backoff.

        The retry loop is ours, not keystoneauth's: keystoneauth honours a
        server's Retry-After without bound, and a nightly job must not sleep
        five minutes thrice on one 503.  Retry-After is honoured up to
        :data:`MAX_DELAY`.
        """
        from keystoneauth1 import exceptions as ksa_exc
        from openstack import exceptions

        kwargs = dict(params=params, raise_exc=False)
        if microversion is not None:
            kwargs["microversion"] = microversion
        for attempt in range(self.retries + 1):
            fetched.requests += 1
            last = attempt == self.retries
            try:
                resp = proxy.request(path, method, **kwargs)
            except (ksa_exc.ConnectTimeout, ksa_exc.ConnectFailure):
                if last:
                    raise
                time.sleep(_backoff(attempt))
                continue
            if resp.status_code == 401 and not last:
                # a token that died mid-list (another thread may have renewed it already)
                proxy.session.invalidate()
                continue
            if resp.status_code in RETRIABLE and not last:
                time.sleep(_backoff(attempt, resp.headers.get("Retry-After")))
                continue
            break
        try:
            exceptions.raise_from_response(resp)
        except exceptions.NotFoundException:
            raise
        except exceptions.HttpException as exc:
            raise PullError(f"{method} {path}: HTTP {exc.status_code} {exc.message} "
                            f"(after {attempt + 1} tries)") from None
        return resp

    def _json(self, resp, path: str):
        try:
            return json.loads(resp.content)  # JSON is UTF-8: no charset sniffing of .text
        except ValueError:
            raise PullError(f"GET {path}: malformed JSON ({len(resp.content)} bytes)") from None

    def _pages(self, proxy, path: str, key: str, fetched: Fetched, microversion=None,
               params=None) -> list[dict]:
        """Every item of a paginated list (limit/marker; a next link means more)."""
        out: list[dict] = []
        query = dict(params or {}, limit=PAGE)
        while True:
            body = self._json(self._get(proxy, path, fetched, params=query,
                                        microversion=microversion), path)
            try:
                page = body[key]
            except (KeyError, TypeError):
                raise PullError(f"GET {path}: no {key!r} in the answer") from None
            out.extend(page)
            links = body.get(f"{key}_links") or []
            more = any(ln.get("rel") == "next" for ln in links) or bool(body.get("next"))
            if not more or not page:
                return out
            query = dict(params or {}, limit=PAGE, marker=page[-1]["id"])

    # -- services ---------------------------------------------------------------
    def _fetch(self, name: str, func, conn) -> Fetched:
        from keystoneauth1 import exceptions as ksa_exc
        from openstack import exceptions

        fetched = Fetched()
        started = time.monotonic()
        try:
            func(conn, fetched)
        except PullError as exc:
            fetched.error = str(exc)
        except exceptions.NotFoundException as exc:
            fetched.error = f"HTTP 404: {exc.message}"
        except ksa_exc.EndpointNotFound:
            fetched.error = f"the {name} service is not in the catalog"
        except ksa_exc.ConnectTimeout:
            fetched.error = f"timed out after {self.retries + 1} tries ({self.timeout:g} s each)"
        except ksa_exc.ConnectFailure as exc:
            fetched.error = f"cannot connect: {exc}"
        except (ksa_exc.ClientException, exceptions.SDKException) as exc:
            fetched.error = f"{exc.__class__.__name__}: {exc}"
        except Exception as exc:  # a bug or a body of an unexpected shape: unknown, not zero
            log.exception("pulling %s", name)
            fetched.error = f"{exc.__class__.__name__}: {exc}"
        fetched.seconds = round(time.monotonic() - started, 3)
        return fetched

    def _compute(self, conn, f: Fetched) -> None:
        pid = conn.current_project_id
        f.data["servers"] = self._pages(conn.compute, "/servers/detail", "servers", f,
                                        COMPUTE_MICROVERSION)
        body = self._json(self._get(conn.compute, f"/os-quota-sets/{pid}/detail", f,
                                    microversion=COMPUTE_MICROVERSION), "os-quota-sets")
        f.data["quota"] = body["quota_set"]

    def _block_storage(self, conn, f: Fetched) -> None:
        pid = conn.current_project_id
        f.data["volumes"] = self._pages(conn.block_storage, "/volumes/detail", "volumes", f,
                                        VOLUME_MICROVERSION)
        body = self._json(self._get(conn.block_storage, f"/os-quota-sets/{pid}", f,
                                    params={"usage": "True"}, microversion=VOLUME_MICROVERSION),
                          "os-quota-sets")
        f.data["quota"] = body["quota_set"]
        f.data["backups"] = self._pages(conn.block_storage, "/backups/detail", "backups", f,
                                        VOLUME_MICROVERSION)

    def _network(self, conn, f: Fetched) -> None:
        from openstack import exceptions

        pid = conn.current_project_id
        f.data["floatingips"] = self._pages(conn.network, "/floatingips", "floatingips", f,
                                            params={"project_id": pid})
        f.data["routers"] = self._pages(conn.network, "/routers", "routers", f,
                                        params={"project_id": pid})
        f.data["policies"] = self._pages(conn.network, "/qos/policies", "policies", f)
        body = self._json(self._get(conn.network, f"/quotas/{pid}/details", f), "quotas")
        f.data["quota"] = body["quota"]
        try:
            f.data["ipsec"] = self._pages(conn.network, "/vpn/ipsec-site-connections",
                                          "ipsec_site_connections", f)
        except exceptions.NotFoundException:
            f.absent.append("vpn")

    def _load_balancer(self, conn, f: Fetched) -> None:
        pid = conn.current_project_id
        f.data["loadbalancers"] = self._pages(conn.load_balancer, "/lbaas/loadbalancers",
                                              "loadbalancers", f, params={"project_id": pid})
        body = self._json(self._get(conn.load_balancer, f"/lbaas/quotas/{pid}", f),
                          "lbaas/quotas")
        f.data["quota"] = body.get("quota", body)

    def _object_store(self, conn, f: Fetched) -> None:
        resp = self._get(conn.object_store, "", f, method="HEAD")
        f.data["account"] = {k.lower(): v for k, v in resp.headers.items()
                             if k.lower().startswith("x-account-")}

    def _images(self, conn, f: Fetched) -> None:
        f.data["images"] = self._pages(conn.image, "/images", "images", f)

    SERVICES = {
        "compute": "_compute",
        "block-storage": "_block_storage",
        "network": "_network",
        "load-balancer": "_load_balancer",
        "object-store": "_object_store",
        "image": "_images",
    }

    # -- the night ------------------------------------------------------------
    def pull(self, snapshot_date: date) -> list[SourceResult]:
        with _gc_paused():
            return self._pull(snapshot_date)

    def _pull(self, snapshot_date: date) -> list[SourceResult]:
        started = time.monotonic()
        try:
            conn = connect(self.cloud, self.cloud_config, self.timeout)
            conn.authorize()
        except Exception as exc:
            reason = f"cannot authenticate to cloud {self.cloud!r}: {exc.__class__.__name__}: {exc}"
            return [SourceResult.failed(f"openstack:{s}", reason) for s in self.SERVICES]
        measure = Measure(self.mapping, self.contract)

        def fetch_and_measure(name: str):
            # rows are built in the service's own thread, while slower services still wait
            # on the network; the licences need compute and block storage, so they come last
            f = self._fetch(name, getattr(self, self.SERVICES[name]), conn)
            return f, (None if name in Measure.NEEDS_ALL else measure.result(name, f, {}))

        with ThreadPoolExecutor(max_workers=len(self.SERVICES)) as pool:
            futures = {name: pool.submit(fetch_and_measure, name) for name in self.SERVICES}
            done = {name: fut.result() for name, fut in futures.items()}
        conn.close()
        fetched = {name: f for name, (f, _) in done.items()}
        results = {name: res for name, (_, res) in done.items()}
        for name in Measure.NEEDS_ALL:
            results[name] = measure.result(name, fetched[name], fetched)
        log.info("openstack pull: %.2f s", time.monotonic() - started)
        return [results[name] for name in self.SERVICES]


class Measure:
    """Turns what the services returned into resource lines and item figures."""

    #: services whose rows need what other services returned
    NEEDS_ALL = ("image",)

    def __init__(self, mapping, contract):
        self.m = mapping
        self.contract = contract

    def result(self, service: str, f: Fetched, fetched: dict[str, Fetched]) -> SourceResult:
        """One service's SourceResult; ``fetched`` is every service's pull (for NEEDS_ALL)."""
        build = {"compute": self.compute, "block-storage": self.block_storage,
                 "network": self.network, "load-balancer": self.load_balancer,
                 "object-store": self.object_store, "image": self.licences}[service]
        source = f"openstack:{service}"
        stats = {"requests": f.requests, "seconds": f.seconds}
        if f.error:
            return SourceResult.failed(source, f.error, **stats)
        try:
            lines, figures = build(source, f.data, fetched)
        except DependencyFailed as exc:
            return SourceResult.failed(source, str(exc), **stats)
        if f.absent:
            stats["absent"] = f.absent
        measurements = [Measurement(source, item, metric, qty)
                        for (item, metric), qty in sorted(figures.items())]
        return SourceResult(source, "ok", lines=lines, measurements=measurements, stats=stats)

    # each builder returns (lines, {(item, metric): quantity})
    def compute(self, source, data, fetched):
        c = self.m.compute
        vcpu_item, ram_item = c.get("vcpu_item"), c.get("ram_item")
        lines, fig = [], {}
        special = {int(r["item"]) for r in c.get("baremetal", [])} | \
            {int(r["item"]) for r in c.get("service_hosts", [])}
        for item in special:
            fig[(item, "allocated")] = fig[(item, "in_use")] = Decimal(0)
        vcpus = ram = Decimal(0)
        for s in data["servers"]:
            flavor = s.get("flavor") or {}
            attrs = {"flavor": flavor.get("original_name") or flavor.get("id"),
                     "status": s.get("status"), "created": s.get("created")}
            item = self.m.baremetal_item(flavor) or self.m.service_host_item(s.get("metadata") or {})
            base = dict(source=source, resource_type="server", resource_id=s["id"],
                        name=s.get("name", ""), project_id=s.get("tenant_id", ""),
                        attributes=attrs)
            if item is not None:
                lines.append(ResourceLine(item_no=item, quantity=Decimal(1),
                                          unit=self._unit(item), **base))
                fig[(item, "allocated")] += 1
                fig[(item, "in_use")] += 1
                continue
            cpu = Decimal(int(flavor.get("vcpus", 0)))
            mem = Decimal(int(flavor.get("ram", 0))) / MB_PER_GB
            vcpus += cpu
            ram += mem
            lines.append(ResourceLine(item_no=vcpu_item, quantity=cpu, unit="vCPU", **base))
            lines.append(ResourceLine(item_no=ram_item, quantity=mem, unit="GB", **base))
        quota = data["quota"]
        cores = _limit(quota.get(c.get("cores_quota", "cores")))
        ram_mb = _limit(quota.get(c.get("ram_quota", "ram")))
        if cores is not None:
            fig[(vcpu_item, "allocated")] = cores
        if ram_mb is not None:
            fig[(ram_item, "allocated")] = ram_mb / MB_PER_GB
        fig[(vcpu_item, "in_use")] = vcpus
        fig[(ram_item, "in_use")] = ram
        return lines, fig

    def block_storage(self, source, data, fetched):
        lines, fig = [], {}
        bs = self.m.raw.get("block_storage", {})
        types = bs.get("volume_types", {})
        for type_name, item in types.items():
            fig[(item, "in_use")] = Decimal(0)
            limit = _limit(data["quota"].get(f"gigabytes_{type_name}"))
            if limit is not None:
                fig[(item, "allocated")] = limit
        for v in data["volumes"]:
            item = self.m.volume_type_item(v.get("volume_type") or "")
            size = Decimal(int(v.get("size") or 0))
            lines.append(ResourceLine(source, "volume", v["id"], v.get("name") or "",
                                      v.get("os-vol-tenant-attr:tenant_id", ""), item, size, "GB",
                                      {"volume_type": v.get("volume_type"),
                                       "status": v.get("status")}))
            if item is not None:
                fig[(item, "in_use")] += size
        backup_item = bs.get("backup_item")
        if backup_item:
            used = Decimal(0)
            for b in data["backups"]:
                size = Decimal(int(b.get("size") or 0))
                used += size
                lines.append(ResourceLine(source, "backup", b["id"], b.get("name") or "", "",
                                          backup_item, size,
                                          self._unit(backup_item), {"status": b.get("status")}))
            limit = _limit(data["quota"].get("backup_gigabytes"))
            if limit is not None:
                fig[(backup_item, "allocated")] = limit
            fig[(backup_item, "in_use")] = used
        return lines, fig

    def network(self, source, data, fetched):
        n = self.m.raw.get("network", {})
        lines, fig = [], {}
        fip_item = n.get("floating_ip_item")
        if fip_item:
            used = Decimal(0)
            for ip in data["floatingips"]:
                attached = bool(ip.get("port_id"))
                used += attached
                lines.append(ResourceLine(source, "floatingip", ip["id"],
                                          ip.get("floating_ip_address", ""),
                                          ip.get("project_id", ""), fip_item, Decimal(1),
                                          self._unit(fip_item),
                                          {"port_id": ip.get("port_id"),
                                           "qos_policy_id": ip.get("qos_policy_id")}))
            if n.get("floating_ip_allocated", "quota") == "quota":
                limit = _limit(data["quota"].get("floatingip"))
                if limit is not None:
                    fig[(fip_item, "allocated")] = limit
            else:
                fig[(fip_item, "allocated")] = Decimal(len(data["floatingips"]))
            fig[(fip_item, "in_use")] = used
        snat_item = n.get("snat_item")
        if snat_item:
            snat = [r for r in data["routers"]
                    if (r.get("external_gateway_info") or {}).get("enable_snat")]
            for r in snat:
                lines.append(ResourceLine(source, "router", r["id"], r.get("name", ""),
                                          r.get("project_id", ""), snat_item, Decimal(1),
                                          self._unit(snat_item),
                                          {"status": r.get("status")}))
            fig[(snat_item, "allocated")] = fig[(snat_item, "in_use")] = Decimal(len(snat))
        bw_item = n.get("bandwidth_item")
        if bw_item:
            attached = {(r.get("external_gateway_info") or {}).get("qos_policy_id")
                        for r in data["routers"]}
            attached |= {ip.get("qos_policy_id") for ip in data["floatingips"]}
            total = used = Decimal(0)
            for p in data["policies"]:
                if not self.m.is_bandwidth_policy(p.get("name", "")):
                    continue
                mbps = sum((Decimal(int(r.get("max_kbps") or 0)) / 1000
                            for r in p.get("rules", [])
                            if r.get("type") == "bandwidth_limit"
                            and r.get("direction", "egress") == "egress"), Decimal(0))
                total += mbps
                if p["id"] in attached:
                    used += mbps
                lines.append(ResourceLine(source, "qos_policy", p["id"], p.get("name", ""),
                                          p.get("project_id", ""), bw_item, mbps,
                                          self._unit(bw_item),
                                          {"attached": p["id"] in attached}))
            fig[(bw_item, "allocated")] = total
            fig[(bw_item, "in_use")] = used
        ipsec_item = n.get("ipsec_item")
        if ipsec_item and "ipsec" in data:
            conns = data["ipsec"]
            for c in conns:
                lines.append(ResourceLine(source, "ipsec_site_connection", c["id"],
                                          c.get("name", ""), c.get("project_id", ""), ipsec_item,
                                          Decimal(1), self._unit(ipsec_item),
                                          {"status": c.get("status")}))
            fig[(ipsec_item, "allocated")] = Decimal(len(conns))
            fig[(ipsec_item, "in_use")] = Decimal(sum(c.get("status") == "ACTIVE" for c in conns))
        return lines, fig

    def load_balancer(self, source, data, fetched):
        item = self.m.setting("load_balancer", "item")
        if not item:
            return [], {}
        lbs = data["loadbalancers"]
        lines = [ResourceLine(source, "loadbalancer", lb["id"], lb.get("name", ""),
                              lb.get("project_id", ""), item, Decimal(1), self._unit(item),
                              {"provisioning_status": lb.get("provisioning_status"),
                               "vip_address": lb.get("vip_address")}) for lb in lbs]
        quota = data["quota"]
        limit = _limit(quota.get("load_balancer", quota.get("loadbalancer")))
        fig = {(item, "in_use"): Decimal(len(lbs)),
               (item, "allocated"): limit if limit is not None else Decimal(len(lbs))}
        return lines, fig

    def object_store(self, source, data, fetched):
        item = self.m.setting("object_store", "item")
        if not item:
            return [], {}
        acct = data["account"]
        containers = int(acct.get("x-account-container-count", 0) or 0)
        used = Decimal(1 if containers > 0 else 0)
        line = ResourceLine(source, "account", "account", "object storage account", "", item,
                            used, self._unit(item), {"bytes_used": acct.get("x-account-bytes-used"),
                                        "containers": containers,
                                        "objects": acct.get("x-account-object-count"),
                                        "quota_bytes": acct.get("x-account-meta-quota-bytes")})
        return [line], {(item, "allocated"): Decimal(1), (item, "in_use"): used}

    def licences(self, source, data, fetched):
        for dep in ("compute", "block-storage"):
            if fetched[dep].error:
                raise DependencyFailed(f"needs openstack:{dep}, which failed")
        images = {i["id"]: i for i in data["images"]}
        boot_meta = {}  # server id -> image metadata of its boot volume
        for v in fetched["block-storage"].data["volumes"]:
            meta = v.get("volume_image_metadata")
            for a in v.get("attachments") or []:
                if meta and a.get("device") in ("/dev/vda", "/dev/sda", "/dev/xvda"):
                    boot_meta[a.get("server_id")] = meta
        lines, fig = [], {}
        for rule in self.m.raw.get("licences", []):
            fig[(int(rule["item"]), "allocated")] = fig[(int(rule["item"]), "in_use")] = Decimal(0)
        for s in fetched["compute"].data["servers"]:
            image_ref = s.get("image")
            image = images.get(image_ref.get("id")) if isinstance(image_ref, dict) else None
            meta = image or boot_meta.get(s["id"]) or {}
            item = self.m.licence_item(meta)
            if item is None:
                continue
            lines.append(ResourceLine(source, "server_licence", s["id"], s.get("name", ""),
                                      s.get("tenant_id", ""), item, Decimal(1), self._unit(item),
                                      {"os_type": meta.get("os_type"),
                                       "os_distro": meta.get("os_distro")}))
            fig[(item, "allocated")] += 1
            fig[(item, "in_use")] += 1
        return lines, fig

    def _unit(self, item: int) -> str:
        """The contract's unit for an item, so evidence and contract read alike."""
        return self.contract.items[item].unit


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


class DependencyFailed(Exception):
    pass


def _limit(entry) -> Decimal | None:
    """A quota's limit from either shape ({"limit": n, ...} or n); -1 (unlimited) -> None."""
    if entry is None:
        return None
    value = entry.get("limit") if isinstance(entry, dict) else entry
    if value is None or int(value) < 0:
        return None
    return Decimal(int(value))
