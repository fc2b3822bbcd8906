# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where tokens and service addresses come from.

Token sources, first match wins; what was given explicitly (a task option) comes before the environment:

1. the ``token`` option, then the ``token_file`` option (the whole file, or its ``access_token`` if it is
   JSON), then an OAuth2 client-credentials grant whose options were given (``token_url``, ``client_id``,
   ``client_secret``; refreshed before expiry and once after a 401);
2. the same three set through the environment: ``OPENCHAMI_TOKEN``, ``OPENCHAMI_TOKEN_FILE``, and
   ``OPENCHAMI_TOKEN_URL``/``OPENCHAMI_CLIENT_ID``/``OPENCHAMI_CLIENT_SECRET``;
3. the ochami CLI's variables: ``<CLUSTER>_ACCESS_TOKEN`` (cluster name upper-cased, ``-`` and spaces to
   ``_``), then ``ACCESS_TOKEN``.

Service addresses come from the options, else from the ochami CLI configuration
(``/etc/ochami/config.yaml`` merged with ``~/.config/ochami/config.yaml``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import re
import threading
import time

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client, SERVICE_PATHS, join_url

SYSTEM_CONFIG = "/etc/ochami/config.yaml"
USER_CONFIG = "~/.config/ochami/config.yaml"
REFRESH_MARGIN = 30  # seconds before expiry a client-credentials token is renewed

# ochami config key -> our service name
OCHAMI_SERVICE_KEYS = {
    "smd": "smd",
    "bss": "bss",
    "boot-service": "boot_service",
    "cloud-init": "cloud_init",
    "metadata-service": "metadata_service",
    "pcs": "pcs",
}


def cluster_token_variable(cluster):
    """``ACME-test 1`` -> ``ACME_TEST_1_ACCESS_TOKEN`` (the ochami CLI convention)."""
    return re.sub(r"[- ]", "_", cluster.upper()) + "_ACCESS_TOKEN"


def jwt_claims(token):
    """Claims of a JWT without verifying it (for messages only); {} if not a JWT."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")).decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _merge(base, extra):
    out = dict(base)
    for key, value in extra.items():
        if key == "clusters" and isinstance(value, list) and isinstance(out.get(key), list):
            by_name = dict((c.get("name"), c) for c in out[key] if isinstance(c, dict))
            order = [c.get("name") for c in out[key] if isinstance(c, dict)]
            for cluster in value:
                if not isinstance(cluster, dict):
                    continue
                name = cluster.get("name")
                if name in by_name:
                    by_name[name] = _merge(by_name[name], cluster)
                else:
                    by_name[name] = cluster
                    order.append(name)
            out[key] = [by_name[n] for n in order]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_ochami_config(config_file=None, environ=None):
    """The merged ochami configuration: system file, then user file (or ``config_file`` alone)."""
    environ = os.environ if environ is None else environ
    if config_file:
        paths = [config_file]
    else:
        home = environ.get("HOME") or os.path.expanduser("~")
        paths = [SYSTEM_CONFIG, USER_CONFIG.replace("~", home, 1)]
    merged = {}
    for path in paths:
        path = os.path.expanduser(path)
        if not os.path.isfile(path):
            if config_file:
                raise ApiError("ochami configuration file %s does not exist" % path)
            continue
        if not HAS_YAML:
            raise ApiError("PyYAML is required to read %s" % path)
        try:
            with open(path) as handle:
                data = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ApiError("cannot read ochami configuration %s: %s" % (path, exc))
        if not isinstance(data, dict):
            raise ApiError("ochami configuration %s is not a mapping" % path)
        merged = _merge(merged, data)
    return merged


def cluster_from_config(config, name=None):
    """(name, cluster settings) for ``name`` or the config's ``default-cluster``; (None, {}) if none."""
    clusters = [c for c in config.get("clusters") or [] if isinstance(c, dict)]
    wanted = name or config.get("default-cluster")
    if not wanted:
        if len(clusters) == 1:
            return clusters[0].get("name"), clusters[0].get("cluster") or {}
        return None, {}
    for cluster in clusters:
        if cluster.get("name") == wanted:
            return wanted, cluster.get("cluster") or {}
    if name:
        known = ", ".join(sorted(str(c.get("name")) for c in clusters)) or "none"
        raise ApiError("cluster '%s' is not in the ochami configuration (known: %s)" % (name, known))
    return wanted, {}


def service_url(service, cluster_uri=None, service_uris=None, cluster_settings=None):
    """Base URL of ``service``: explicit per-service URI, ochami per-service URI, cluster URI + default path."""
    service_uris = service_uris or {}
    if service_uris.get(service):
        return service_uris[service].rstrip("/")
    settings = cluster_settings or {}
    base = cluster_uri or settings.get("uri")
    for key, ours in OCHAMI_SERVICE_KEYS.items():
        if ours == service and isinstance(settings.get(key), dict) and settings[key].get("uri"):
            uri = settings[key]["uri"]
            if uri.startswith("/") and base:
                return join_url(base, uri).rstrip("/")
            return uri.rstrip("/")
    if not base:
        return None
    return (base.rstrip("/") + SERVICE_PATHS.get(service, "")).rstrip("/")


class TokenAuth:
    """Bearer-token credentials with the documented source order."""

    def __init__(self, token=None, cluster=None, token_file=None, client_id=None, client_secret=None,
                 token_url=None, scopes=None, environ=None, validate_certs=True, ca_path=None, timeout=30,
                 enabled=True, now=time.time, explicit=None):
        """``explicit``: the names among token, token_file and the client-credentials options that were given
        explicitly (None: every one given here). Explicit sources come before the environment variables."""
        self.environ = os.environ if environ is None else environ
        self.cluster = cluster
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_url = token_url
        self.scopes = scopes or []
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.now = now
        self.enabled = enabled
        self._lock = threading.Lock()
        self._token = None
        self._expires = None
        self.source = None
        self._tried = []
        if not enabled:
            self.source = "disabled"
            return
        given = dict(token=token, token_file=token_file, client_id=client_id, client_secret=client_secret,
                     token_url=token_url)
        explicit = set(k for k, v in given.items() if v) if explicit is None else set(explicit)
        credentials = ("token_url", "client_id", "client_secret")
        for rank_explicit in (True, False):
            if token and ("token" in explicit) == rank_explicit:
                self._set(token, "the token option" if rank_explicit else "environment variable OPENCHAMI_TOKEN")
                return
            self._tried.append("token option" if rank_explicit else "OPENCHAMI_TOKEN")
            if token_file and ("token_file" in explicit) == rank_explicit:
                self._set(self._read_file(token_file), "token file %s" % token_file)
                return
            self._tried.append("token_file option" if rank_explicit else "OPENCHAMI_TOKEN_FILE")
            if any(c in explicit for c in credentials) == rank_explicit and (token_url or client_id or client_secret):
                if token_url and client_id and client_secret:
                    self.source = "client credentials at %s" % token_url
                    return
                if rank_explicit:  # a partial set from the environment is passed over (listed in a 401's message)
                    raise ApiError("client-credentials authentication needs token_url, client_id and client_secret together")
            self._tried.append("client-credentials options" if rank_explicit else "OPENCHAMI_CLIENT_ID/SECRET")
        self._from_environment(cluster)

    def _from_environment(self, cluster):
        """``<CLUSTER>_ACCESS_TOKEN`` then ``ACCESS_TOKEN`` (the ochami CLI's variables)."""
        names = ([cluster_token_variable(cluster)] if cluster else []) + ["ACCESS_TOKEN"]
        for name in names:
            self._tried.append(name)
            if self.environ.get(name):
                self._set(self.environ[name], "environment variable " + name)
                return True
        return False

    def _set(self, token, source):
        self._token = token.strip()
        self.source = source
        exp = jwt_claims(self._token).get("exp")
        self._expires = float(exp) if isinstance(exp, (int, float)) else None

    @staticmethod
    def _read_file(path):
        path = os.path.expanduser(path)
        try:
            with open(path) as handle:
                text = handle.read().strip()
        except OSError as exc:
            raise ApiError("cannot read token file %s: %s" % (path, exc.strerror))
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError:
                raise ApiError("token file %s looks like JSON but does not parse" % path)
            if not isinstance(data, dict) or not data.get("access_token"):
                raise ApiError("token file %s has no access_token" % path)
            return data["access_token"]
        if not text:
            raise ApiError("token file %s is empty" % path)
        return text

    @property
    def uses_client_credentials(self):
        return bool(self.source and self.source.startswith("client credentials"))

    def _fetch(self):
        form = {"grant_type": "client_credentials"}
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        client = Client(None, validate_certs=self.validate_certs, ca_path=self.ca_path, timeout=self.timeout,
                        basic_auth=(self.client_id, self.client_secret), retries=2)
        try:
            response = client.request("POST", self.token_url, data=form, safe=True,
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        finally:
            client.close()
        data = response.json if isinstance(response.json, dict) else {}
        if not data.get("access_token"):
            raise ApiError("token endpoint %s answered without an access_token" % self.token_url)
        self._token = data["access_token"]
        lifetime = data.get("expires_in")
        self._expires = self.now() + float(lifetime) if isinstance(lifetime, (int, float)) else None

    def token(self):
        with self._lock:
            if self.uses_client_credentials:
                if self._token is None or (self._expires is not None and self.now() > self._expires - REFRESH_MARGIN):
                    self._fetch()
            return self._token

    def headers(self):
        token = self.token()
        return {"Authorization": "Bearer " + token} if token else {}

    def refresh(self):
        """Called once after a 401: only a client-credentials token can be renewed."""
        if not self.uses_client_credentials:
            return False
        with self._lock:
            self._token = None
        return self.token() is not None

    def secrets(self):
        return [s for s in (self._token, self.client_secret) if s]

    def explain_401(self):
        if self.source == "disabled":
            return "authentication is disabled for this cluster but the service requires a token"
        if self._token is None and not self.uses_client_credentials:
            return "no token was found; looked at: %s" % ", ".join(self._tried)
        claims = jwt_claims(self._token or "")
        if isinstance(claims.get("exp"), (int, float)) and claims["exp"] < self.now():
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
            return "the token from %s expired at %s" % (self.source, when)
        return "the token from %s was rejected" % self.source
