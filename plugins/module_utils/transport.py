# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP transport of the collection.

Every module and the inventory plugin talk to services through
:class:`Client`: one ``requests.Session`` per client (connection reuse),
TLS verified by default, a timeout on every request, retries with
exponential backoff and jitter for idempotent requests, and failures turned
into one structured :class:`ApiError` whose text never contains a secret.
The lab's own readiness checks (``lab/runtime.py``: "does this port answer
yet", no auth, no retries) are the one other user of ``requests``.

Also here: the one place for bounded concurrency (:func:`each`,
:func:`all_or_raise`) and chunking (:func:`chunks`), and :func:`tcp_probe`,
the TCP reachability check that discovery runs before any HTTP request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import random
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without requests
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
RETRY_STATUSES = frozenset((429, 502, 503, 504))
BODY_EXCERPT = 500
REDACTED = "********"

# Default base paths below a cluster URI, as the ochami CLI appends them.
SERVICE_PATHS = {
    "smd": "/hsm/v2",
    "bss": "/boot/v1",
    "boot_service": "/boot-service",
    "cloud_init": "/cloud-init",
    "metadata_service": "/metadata-service",
    "pcs": "",
}


if HAS_REQUESTS:
    class _OneContextAdapter(HTTPAdapter):
        """An adapter whose TLS connections share one SSLContext with the CA bundle loaded once.

        By default every new connection loads the CA file again (about 30 ms for requests' bundle); a BMC
        that closes the connection after each answer, as many do, would pay that on every request.
        """

        def __init__(self, ssl_context, **kwargs):
            self._ssl_context = ssl_context
            super(_OneContextAdapter, self).__init__(**kwargs)

        def init_poolmanager(self, *args, **kwargs):
            kwargs["ssl_context"] = self._ssl_context
            return super(_OneContextAdapter, self).init_poolmanager(*args, **kwargs)

        def build_connection_pool_key_attributes(self, request, verify, cert=None):
            host_params, pool_kwargs = super(_OneContextAdapter, self).build_connection_pool_key_attributes(
                request, verify, cert)
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            return host_params, pool_kwargs

        def cert_verify(self, conn, url, verify, cert):
            super(_OneContextAdapter, self).cert_verify(conn, url, verify, cert)
            conn.ca_certs = None
            conn.ca_cert_dir = None


_CONTEXTS = {}


def _verifying_context(ca_path):
    """An SSLContext that verifies against ``ca_path`` (or requests' own bundle); None if it cannot be built.

    One per CA file in the process: the clients of many BMCs share it (contexts are safe to share).
    """
    cafile = ca_path or requests.certs.where()
    if cafile not in _CONTEXTS:
        try:
            _CONTEXTS[cafile] = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError, AttributeError):
            return None  # requests then reports the problem on the first request, as before
    return _CONTEXTS[cafile]


class ApiError(Exception):
    """A failed call: what was asked, what came back, never a secret."""

    def __init__(self, message, method=None, url=None, status=None, body=None, hint=None, kind=None):
        self.kind = kind  # "tls", "unreachable" or "timeout" when no HTTP answer came, else None
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.hint = hint
        text = message
        if hint:
            text = "%s (%s)" % (message, hint)
        super(ApiError, self).__init__(text)

    def to_dict(self):
        return {"method": self.method, "url": self.url, "status": self.status, "body": self.body}


class Response:
    """What callers see of an HTTP answer."""

    def __init__(self, status, headers, text):
        self.status = status
        self.headers = headers
        self.text = text
        self._json = None
        self._parsed = False

    @property
    def json(self):
        if not self._parsed:
            self._parsed = True
            if self.text:
                try:
                    self._json = json.loads(self.text)
                except ValueError:
                    self._json = None
        return self._json


def scrub(text, secrets):
    """Replace every secret value in ``text``."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def _strip_userinfo(url):
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    return scheme + sep + host + slash + path


def retry_after_seconds(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt, base, cap, rand=random.random):
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**attempt))."""
    return rand() * min(cap, base * (2 ** attempt))


def join_url(base, path):
    if not path:
        return base
    if path.startswith("http://") or path.startswith("https://"):
        return path
    return base.rstrip("/") + "/" + path.lstrip("/")


class Client:
    """An HTTP client for one service base URL.

    ``auth`` is an object with ``headers()`` returning the auth headers to send,
    ``refresh()`` returning True when a fresh credential was obtained (used once
    after a 401), ``secrets()`` listing values never to show, and ``explain_401()``
    giving a hint for the error text. :class:`auth.TokenAuth` is one.
    """

    def __init__(self, base_url, auth=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=5, backoff=0.5, max_backoff=30.0, user_agent="cscs.openchami", pool_size=16,
                 basic_auth=None, sleep=time.sleep, log=None, tls_hint=None):
        if not HAS_REQUESTS:
            raise ApiError("the Python library 'requests' is required: %s" % REQUESTS_IMPORT_ERROR)
        self.base_url = (base_url or "").rstrip("/")
        self.auth = auth
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.log = log
        self.request_count = 0
        self.write_count = 0  # writes (not GET/HEAD/OPTIONS) that succeeded: a failed task that wrote says so
        self.session = requests.Session()
        context = _verifying_context(ca_path) if validate_certs else None
        if context is not None and hasattr(HTTPAdapter, "build_connection_pool_key_attributes"):
            adapter = _OneContextAdapter(context, pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        else:
            adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"
        self.session.verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self.session.trust_env = False
        self.tls_hint = tls_hint or "set ca_path to the CA bundle, or validate_certs=false for a lab"
        self.basic_auth = basic_auth
        if basic_auth:
            self.session.auth = basic_auth

    def secrets(self):
        found = list(self.auth.secrets()) if self.auth is not None else []
        if self.basic_auth:
            found.append(self.basic_auth[1])
        return found

    def close(self):
        self.session.close()

    def _debug(self, msg):
        if self.log is not None:
            self.log(scrub(msg, self.secrets()))

    def request(self, method, path="", json_body=None, params=None, headers=None, expect=None,
                safe=None, data=None, timeout=None, read=None):
        """Send one request; return a :class:`Response` or raise :class:`ApiError`.

        ``expect`` lists the acceptable statuses (default: any 2xx). ``safe``
        marks a non-idempotent request as retryable (for example an upsert POST).
        ``read`` marks a request that changes nothing whatever its method (a query POST):
        it is not counted in ``write_count``.
        """
        method = method.upper()
        url = join_url(self.base_url, path)
        shown_url = _strip_userinfo(url)
        retryable = method in IDEMPOTENT_METHODS if safe is None else bool(safe)
        refreshed = False
        attempt = 0
        while True:
            send_headers = dict(headers or {})
            if self.auth is not None:
                send_headers.update(self.auth.headers())
            body = None
            if json_body is not None:
                body = json.dumps(json_body)
                send_headers["Content-Type"] = "application/json"
            elif data is not None:
                body = data
            self.request_count += 1
            started = time.time()
            try:
                raw = self.session.request(method, url, data=body, params=params, headers=send_headers,
                                           timeout=timeout or self.timeout, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise ApiError("%s %s: TLS verification failed" % (method, shown_url), method, shown_url,
                               hint="%s: %s" % (self.tls_hint, scrub(str(exc), self.secrets())[:300]), kind="tls")
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if retryable and attempt < self.retries:
                    delay = backoff_delay(attempt, self.backoff, self.max_backoff)
                    self._debug("%s %s: %s; retry %d in %.2fs" % (method, shown_url, type(exc).__name__, attempt + 1, delay))
                    attempt += 1
                    self.sleep(delay)
                    continue
                kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "unreachable"
                raise ApiError("%s %s: service %s after %d attempt(s)" % (method, shown_url, kind, attempt + 1),
                               method, shown_url, hint=scrub(str(exc), self.secrets())[:300],
                               kind="timeout" if kind == "timed out" else kind)
            except requests.exceptions.RequestException as exc:
                raise ApiError("%s %s: %s" % (method, shown_url, scrub(str(exc), self.secrets())[:300]), method, shown_url)
            status = raw.status_code
            self._debug("%s %s -> %d (%.3fs)" % (method, shown_url, status, time.time() - started))
            if status == 401 and self.auth is not None and not refreshed and self.auth.refresh():
                refreshed = True
                continue
            if status in RETRY_STATUSES and retryable and attempt < self.retries:
                delay = retry_after_seconds(raw.headers.get("Retry-After"))
                if delay is None:
                    delay = backoff_delay(attempt, self.backoff, self.max_backoff)
                delay = min(delay, self.max_backoff)
                self._debug("%s %s -> %d; retry %d in %.2fs" % (method, shown_url, status, attempt + 1, delay))
                attempt += 1
                self.sleep(delay)
                continue
            response = Response(status, dict(raw.headers), raw.text)
            ok = (status in expect) if expect else (200 <= status < 300)
            if not ok:
                raise self._error(method, shown_url, response)
            if not (read if read is not None else method in READ_METHODS):
                self.write_count += 1
            return response

    def _error(self, method, url, response):
        excerpt = scrub((response.text or "").strip(), self.secrets())
        detail = excerpt
        data = response.json
        if isinstance(data, dict):
            for key in ("detail", "message", "title", "error", "Message"):
                if isinstance(data.get(key), str) and data[key]:
                    detail = data[key]
                    break
            err = data.get("error")
            if isinstance(err, dict):  # Redfish error envelope
                ext = err.get("@Message.ExtendedInfo") or []
                if ext and isinstance(ext[0], dict) and ext[0].get("Message"):
                    detail = ext[0]["Message"]
                elif err.get("message"):
                    detail = err["message"]
        detail = scrub(detail, self.secrets())
        if len(detail) > BODY_EXCERPT:
            detail = detail[:BODY_EXCERPT] + "...(truncated)"
        if len(excerpt) > BODY_EXCERPT:
            excerpt = excerpt[:BODY_EXCERPT] + "...(truncated)"
        hint = None
        if response.status in (401, 403) and self.auth is not None:
            hint = self.auth.explain_401()
        message = "%s %s failed: HTTP %d" % (method, url, response.status)
        if detail:
            message += ": " + detail
        return ApiError(message, method, url, response.status, excerpt, hint=hint)

    def get(self, path="", **kw):
        return self.request("GET", path, **kw)

    def post(self, path="", json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def put(self, path="", json_body=None, **kw):
        return self.request("PUT", path, json_body=json_body, **kw)

    def patch(self, path="", json_body=None, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path="", json_body=None, **kw):
        return self.request("DELETE", path, json_body=json_body, **kw)

    def get_json(self, path="", **kw):
        return self.request("GET", path, **kw).json


# ---------------------------------------------------------------- concurrency and chunking (the one place)

def each(func, items, workers=8):
    """``func(item)`` for every item, at most ``workers`` at once; the results in input order.

    An exception is returned in place of its result: no call is left running or lost when another fails. The
    callers choose what a failure means (:func:`all_or_raise`: the first :class:`ApiError` raised after all
    calls finished; Redfish discovery: one BMC's failure is its report; the inventory: one instance's).
    """
    items = list(items)

    def guarded(item):
        try:
            return func(item)
        except Exception as exc:  # pylint: disable=broad-except
            return exc
    if len(items) <= 1:
        return [guarded(item) for item in items]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        return list(pool.map(guarded, items))


def all_or_raise(func, items, workers=8):
    """:func:`each`, raising the first failure after all calls finished.

    An :class:`ApiError` is raised with ``done_items`` (the items whose call succeeded), ``done_count`` and
    ``failed_count``: a write that fails part-way can then say what it wrote (see ``resource.ApplyError``).
    """
    items = list(items)
    results = each(func, items, workers)
    failed = [(item, result) for item, result in zip(items, results) if isinstance(result, Exception)]
    if failed:
        first = next((exc for _item, exc in failed if isinstance(exc, ApiError)), failed[0][1])
        if isinstance(first, ApiError):
            bad = set(id(item) for item, _exc in failed)
            first.done_items = [item for item in items if id(item) not in bad]
            first.done_count = len(items) - len(failed)
            first.failed_count = len(failed)
        raise first
    return results


def chunks(items, size):
    """``items`` in lists of at most ``size`` (requests limited by URL length, SQL parameters, ...)."""
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def tcp_probe(host, port, timeout=3.0):
    """Connect to ``host:port`` and close again; the error text if that fails, else None.

    Discovery asks this first: a BMC that does not accept connections is reported ``unreachable`` at once,
    instead of after the HTTP client's retries.
    """
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return None
    except (OSError, ValueError) as exc:
        return "no TCP connection to %s:%s (%s)" % (host, port, exc)
