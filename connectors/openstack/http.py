"""Calls to the services: retries, paging, and why a call failed, in words.

openstacksdk does what it is good at -- clouds.yaml, Keystone auth, the
service catalog, endpoint and version discovery, microversion headers,
re-authentication when a token expires, TLS.  The list pages themselves are
read through the SDK's service proxies as raw JSON (``proxy.request(path)``)
and turned straight into rows: building an SDK ``Resource`` per server costs
about 1 ms, which for 10,000 servers is longer than the whole pull.

The retry loop is ours, not keystoneauth's: keystoneauth honours a server's
Retry-After without bound, and a nightly job must not sleep five minutes
thrice on one 503.  Every retry is said out loud through ``log`` (cron reads
it): "block-storage: HTTP 503, retry 2/4 in 8 s".
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, Union

import msgspec
import orjson
import urllib3

from recon.labels import SOURCE_REASON

PAGE = 1000
RETRIABLE = (500, 502, 503, 504)
MAX_DELAY = 10.0

#: reason codes (SourceResult.stats["reason_code"]) and what a reader is told first: the
#: one table, in recon.labels, that the reports read too
REASONS = SOURCE_REASON


def loads(data: bytes):
    """A body as JSON: orjson (the pages of 100,000 servers are 535 MB of JSON, and
    parsing them was most of the pull's CPU: bench/README.md, issue 25 fourth pass),
    and json for what orjson refuses but json reads (NaN, UTF-16, integers past 64
    bits), so that every answer parses to what it did before or fails as before."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


#: any JSON value but an object: where a list is expected, what the untyped reading let
#: through (an empty string or object is an empty page, anything else fails in the builder)
NOT_AN_OBJECT = Union[list, str, int, float, bool, None]


@cache
def listing(key: str, item: type) -> tuple[msgspec.json.Decoder, type]:
    """The decoder of a list page whose items are ``item`` (a msgspec Struct declaring
    only the fields its builder reads; the rest of each item is skipped unparsed, 2.5-3.9x
    faster than parsing every field: bench/README.md, issue 25, branch pullfast).

    The page is typed as loosely as the untyped reading was: a body that is not an
    object, or lacks ``key``, is "no 'servers' in the answer" as before; ``key`` of a
    shape other than a list ends as it did (an empty one is an empty page).  Only an
    item that is not an object, or lacks a field the Struct requires, fails in the
    decoder: it failed in the builder before.
    """
    page = msgspec.defstruct(f"{item.__name__}Page", [
        ("items", Union[list[item], dict, str, int, float, bool, None],
         msgspec.field(default=msgspec.UNSET, name=key)),
        ("links", Any, msgspec.field(default=None, name=f"{key}_links")),
        ("next", Any, None)])
    body = Union[page, NOT_AN_OBJECT]
    return msgspec.json.Decoder(body), body


def decode(data: bytes, key: str, item: type):
    """A list page's body as :func:`listing`'s Struct.  What msgspec cannot read as
    JSON (NaN, a number past a double, UTF-16, a byte-order mark...) is read as
    :func:`loads` reads it and then converted: the same answers parse, to the same
    values, or fail (ValueError: not JSON; msgspec.ValidationError: an item of an
    unexpected shape) as they would have."""
    decoder, body = listing(key, item)
    try:
        return decoder.decode(data)
    except msgspec.DecodeError:
        pass
    return msgspec.convert(loads(data), body)


def whole(resp) -> bytes:
    """The body of a response asked with ``stream=True``, read in one call.

    requests' own ``.content`` reads 10 KB at a time through four layers of Python
    (170 turns for one 1.7 MB page of servers, 53,000 for the pull); one
    ``raw.read()`` is half the CPU.  The bytes are kept where requests keeps them,
    so ``resp.content`` and ``resp.json()`` (the SDK's error messages) still read
    them; a body already read (a debug log of keystoneauth reads it) is used as is.
    """
    if resp._content is False:  # requests' "not read yet"
        resp._content = resp.raw.read(decode_content=True) or b""
        resp._content_consumed = True
    return resp.content


def read_body(resp, ksa_exc) -> None:
    """A streamed answer's body, read inside the call (and its retries): a read that
    breaks fails as it did when requests read it in the call, as the keystoneauth
    exception requests' error became (a read timeout: ConnectFailure, retried; a
    connection cut mid-body: UnknownConnectionError; TLS: SSLError)."""
    try:
        whole(resp)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise ksa_exc.ConnectFailure(f"Unable to establish connection to {resp.url}: "
                                     f"{exc}") from None
    except urllib3.exceptions.SSLError as exc:
        raise ksa_exc.SSLError(f"SSL exception connecting to {resp.url}: {exc}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ksa_exc.UnknownConnectionError(f"Unexpected exception for {resp.url}: {exc}",
                                             exc) from None


def backoff(attempt: int, retry_after: str | None = None) -> float:
    """0.5 s, 1 s, 2 s ... or the server's Retry-After, never above MAX_DELAY."""
    delay = 0.5 * 2 ** attempt
    if retry_after:
        try:
            delay = float(retry_after)
        except ValueError:
            pass
    return min(delay, MAX_DELAY)


class PullError(Exception):
    """A service could not be read: ``code`` is a key of :data:`REASONS`,
    ``detail`` the technical account (which call, what came back)."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
        super().__init__(f"{REASONS[code]}：{detail}")


@dataclass
class Fetched:
    """What one service returned, with the requests it took."""

    service: str
    #: what the service kept past its pages (quotas, what another service needs)
    data: dict = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    error: PullError | None = None
    #: parts of the service that are not deployed (404): items they measure stay unmeasured
    absent: list[str] = field(default_factory=list)
    #: negotiated API versions, for the run record
    versions: dict = field(default_factory=dict)
    #: the service module's Builder: the pages, as they come, turned into lines and figures
    builder: object = None


class Http:
    """GETs with capped, visible retries; paging; JSON that must parse."""

    def __init__(self, retries: int = 3, timeout: float = 30,
                 log: Callable[[str], None] | None = None, budget: float | None = None):
        self.retries = retries
        self.timeout = timeout
        self.log = log or (lambda msg: None)
        #: wall-clock seconds a source may take, retries included ([openstack] budget_seconds)
        self.budget = budget
        #: time.monotonic() past which no call starts nor retry waits (set by each pull)
        self.deadline: float | None = None
        # a list's next page is fetched while the current one is built, which may ask too
        self._counting = threading.Lock()

    def over_budget(self, label: str, why: str = "") -> PullError:
        return PullError("timeout", f"{label}: no complete answer within the "
                         f"{self.budget:g} s budget ([openstack] budget_seconds)"
                         + (f"; last: {why}" if why else "") + ": unavailable for the night")

    def check_budget(self, label: str, why: str = "", ahead: float = 0.0) -> None:
        """PullError (timeout) when the source's budget is spent, or would be by ``ahead``."""
        if self.deadline is not None and time.monotonic() + ahead > self.deadline:
            raise self.over_budget(label, why)

    def retry_wait(self, label: str, attempt: int, why: str, retry_after: str | None = None
                   ) -> None:
        delay = backoff(attempt, retry_after)
        self.check_budget(label, why, ahead=delay)
        self.log(f"{label}: {why}, retry {attempt + 1}/{self.retries} in {delay:g} s")
        time.sleep(delay)

    def get(self, proxy, path: str, f: Fetched, params=None, microversion=None,
            method: str = "GET", stream: bool = False):
        """One call, retried on 5xx and timeouts with capped exponential backoff;
        a 404 raises the SDK's NotFoundException (the caller decides what absent means).
        ``stream``: the body is read in one call (:func:`read_body`; a list page)."""
        from keystoneauth1 import exceptions as ksa_exc
        from openstack import exceptions

        kwargs = dict(params=params, raise_exc=False)
        if stream:
            kwargs["stream"] = True
        if microversion is not None:
            kwargs["microversion"] = microversion
        for attempt in range(self.retries + 1):
            self.check_budget(f.service)
            with self._counting:
                f.requests += 1
            last = attempt == self.retries
            try:
                resp = proxy.request(path, method, **kwargs)
                if stream:
                    read_body(resp, ksa_exc)
            except (ksa_exc.ConnectTimeout, ksa_exc.ConnectFailure) as exc:
                timeout = isinstance(exc, ksa_exc.ConnectTimeout)
                if last:
                    raise PullError(
                        "timeout" if timeout else "connect",
                        f"{method} {path}: {exc.__class__.__name__} after {attempt + 1} tries"
                        + (f" ({self.timeout:g} s each)" if timeout else f": {exc}")) from None
                self.retry_wait(f.service, attempt, "timeout" if timeout else "cannot connect")
                continue
            if resp.status_code == 401 and not last:
                # a token that died mid-list (another thread may have renewed it already)
                proxy.session.invalidate()
                continue
            if resp.status_code in RETRIABLE and not last:
                self.retry_wait(f.service, attempt, f"HTTP {resp.status_code}",
                                resp.headers.get("Retry-After"))
                continue
            break
        try:
            exceptions.raise_from_response(resp)
        except exceptions.NotFoundException:
            raise
        except exceptions.HttpException as exc:
            status = exc.status_code or 0
            code = "http_5xx" if status >= 500 else "auth" if status in (401, 403) \
                else "http_4xx"
            raise PullError(code, f"{method} {path}: HTTP {status} {exc.details or ''}"
                            .rstrip() + f" (after {attempt + 1} tries)") from None
        return resp

    def json(self, resp, path: str):
        data = whole(resp)  # JSON is UTF-8: no charset sniffing of .text
        try:
            return loads(data)
        except ValueError:
            raise PullError("malformed", f"GET {path}: not JSON "
                            f"({len(data)} bytes)") from None

    def typed(self, resp, path: str, key: str, item: type, f: Fetched):
        """A list page as :func:`decode` reads it; what fails says where, in words."""
        data = whole(resp)
        try:
            return decode(data, key, item)
        except msgspec.ValidationError as exc:  # a ValueError too: first
            raise PullError("malformed", f"{f.service}: GET {path}: an item of an "
                            f"unexpected shape: {exc}") from None
        except ValueError:
            raise PullError("malformed", f"GET {path}: not JSON "
                            f"({len(data)} bytes)") from None

    def body(self, proxy, path: str, key: str, f: Fetched, params=None, microversion=None):
        """``answer[key]`` of one GET; an answer without it is malformed."""
        body = self.json(self.get(proxy, path, f, params=params, microversion=microversion),
                         path)
        try:
            return body[key]
        except (KeyError, TypeError):
            raise PullError("malformed", f"GET {path}: no {key!r} in the answer") from None

    def pages(self, proxy, path: str, key: str, f: Fetched, each: Callable[[list], None],
              microversion=None, params=None, item: type | None = None) -> None:
        """Hand every page of a paginated list (limit/marker; a next link means more) to
        ``each``, one page at a time: a list of dicts, or with ``item`` (a msgspec
        Struct) of ``item`` (:func:`listing`).

        A page is dropped once ``each`` has turned it into the source's columns: a
        100,000-server tenant's pages, all kept, were 1.8 GB (bench/README.md).  The
        next page is requested (and parsed) in a helper thread while ``each`` builds
        the current one, so the building hides behind the service's answer time.
        """
        def page_at(query):
            resp = self.get(proxy, path, f, params=query, microversion=microversion,
                            stream=True)
            if item is None:
                body = self.json(resp, path)
                try:
                    page = body[key]
                except (KeyError, TypeError):
                    page = msgspec.UNSET
                else:
                    links, following = body.get(f"{key}_links"), body.get("next")
            else:
                body = self.typed(resp, path, key, item, f)
                page = body.items if isinstance(body, msgspec.Struct) else msgspec.UNSET
                if page is not msgspec.UNSET:
                    links, following = body.links, body.next
            if page is msgspec.UNSET:
                raise PullError("malformed", f"GET {path}: no {key!r} in the answer")
            more = any(ln.get("rel") == "next" for ln in links or []) or bool(following)
            return page, more and bool(page)

        def marker(page):
            return page[-1]["id"] if item is None else page[-1].id

        page, more = page_at(dict(params or {}, limit=PAGE))
        with ThreadPoolExecutor(max_workers=1) as ahead:
            while True:
                following = ahead.submit(page_at, dict(params or {}, limit=PAGE,
                                                        marker=marker(page))) \
                    if more else None
                each(page)
                if following is None:
                    return
                page, more = following.result()


def negotiate(proxy, want: str) -> str | None:
    """The highest microversion both sides speak: the server's maximum, capped at ``want``.

    None when the service has no microversions (a Cinder without them, Neutron).
    """
    from keystoneauth1 import discover

    data = proxy.get_endpoint_data()
    high = getattr(data, "max_microversion", None) if data else None
    if not high:
        return None
    return discover.version_to_string(min(discover.normalize_version_number(want), high))
