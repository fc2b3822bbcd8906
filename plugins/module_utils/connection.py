# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which cluster a task talks to: the connection options, where each value comes from, and the clients.

Pure code (no AnsibleModule): modules and the inventory plugin resolve their connection here, the same way.

Every option may be given explicitly (a task option, module_defaults, an inventory source) or come from
the environment (the variable named in :data:`OPTIONS`); an explicit value always wins. The environment is
read here rather than through Ansible's ``env_fallback`` so that the origin of each value is known: that is
what lets an explicit ``cluster_uri`` beat an ``OCHAMI_CONFIG`` exported in the user's shell.

Service addresses come from three ranks of sources (the table in the ``connection`` doc fragment):

1. explicit options: ``service_uris``/``cluster_uri``, and the ochami configuration when ``config_file`` or
   ``cluster`` is given explicitly;
2. the environment: ``OPENCHAMI_URI``, and the ochami configuration named by ``OCHAMI_CONFIG`` and/or
   the cluster named by ``OPENCHAMI_CLUSTER``;
3. the ochami CLI's own files (``/etc/ochami/config.yaml`` merged with ``~/.config/ochami/config.yaml``).

The best rank that gives an address wins. Two sources of that rank that name different addresses for the
same service are an error that names both: the module never guesses. A source of a lower rank that names
another cluster is ignored, with a warning, and so is its cluster name: its token variable and settings are
not used for a cluster it does not describe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.cscs.openchami.plugins.module_utils.auth import (
    TokenAuth, cluster_from_config, load_ochami_config, service_url)
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client, SERVICE_PATHS

SERVICES = tuple(sorted(SERVICE_PATHS))

# option -> (argument spec without defaults, environment variable, default applied after resolution)
OPTIONS = {
    "cluster": (dict(type="str"), "OPENCHAMI_CLUSTER", None),
    "cluster_uri": (dict(type="str"), "OPENCHAMI_URI", None),
    "service_uris": (dict(type="dict", options=dict((name, dict(type="str")) for name in SERVICES)), None, None),
    "config_file": (dict(type="path"), "OCHAMI_CONFIG", None),
    "use_auth": (dict(type="bool"), "OPENCHAMI_USE_AUTH", None),
    "token": (dict(type="str", no_log=True), "OPENCHAMI_TOKEN", None),
    "token_file": (dict(type="path"), "OPENCHAMI_TOKEN_FILE", None),
    "token_url": (dict(type="str", no_log=False), "OPENCHAMI_TOKEN_URL", None),
    "client_id": (dict(type="str"), "OPENCHAMI_CLIENT_ID", None),
    "client_secret": (dict(type="str", no_log=True), "OPENCHAMI_CLIENT_SECRET", None),
    "scopes": (dict(type="list", elements="str"), None, None),
    "validate_certs": (dict(type="bool"), "OPENCHAMI_VALIDATE_CERTS", True),
    "ca_path": (dict(type="path"), "OPENCHAMI_CA_PATH", None),
    "timeout": (dict(type="int"), "OPENCHAMI_TIMEOUT", 30),
    "retries": (dict(type="int"), "OPENCHAMI_RETRIES", 5),
}

EXPLICIT, ENVIRONMENT, FILES = 1, 2, 3
RANK_NAMES = {EXPLICIT: "explicit options", ENVIRONMENT: "the environment", FILES: "the ochami CLI files"}


def connection_argument_spec():
    """The argument spec of the ``cscs.openchami.connection`` doc fragment (no defaults: see :data:`OPTIONS`)."""
    return dict((name, dict(spec)) for name, (spec, _env, _default) in OPTIONS.items())


def _from_env(name, text):
    kind = OPTIONS[name][0]["type"]
    try:
        if kind == "bool":
            return boolean(text, strict=True)
        if kind == "int":
            return int(text)
    except (TypeError, ValueError):
        raise ApiError("environment variable %s=%r is not a valid %s for option %s" % (OPTIONS[name][1], text, kind, name))
    return text


def resolve_options(params, environ):
    """(values, origins): each option from ``params`` if set, else its environment variable, else its default.

    ``origins[name]`` is ``"option"``, ``"environment variable X"`` or ``"default"``.
    """
    values, origins = {}, {}
    for name, (_spec, env, default) in OPTIONS.items():
        value = params.get(name)
        if value is not None and value != {}:
            values[name], origins[name] = value, "option"
        elif env and environ.get(env) not in (None, ""):
            values[name], origins[name] = _from_env(name, environ[env]), "environment variable " + env
        else:
            values[name], origins[name] = default, "default"
    return values, origins


class Connection:
    """Resolved connection settings: builds one :class:`Client` per service, on demand.

    ``cluster`` is the cluster name (or None), ``warnings`` what was overridden and ignored, ``sources``
    where each service address came from.
    """

    def __init__(self, params, environ=None, log=None):
        self.environ = os.environ if environ is None else environ
        self.log = log
        self.params, self.origins = resolve_options(params, self.environ)
        self.warnings = []
        self.cluster, self.settings, self._urls, self.sources = self._resolve_addresses()
        enabled = self.params["use_auth"]
        if enabled is None:
            enabled = self.settings.get("enable-auth", True) is not False
        p = self.params
        self.auth = TokenAuth(
            token=p["token"], cluster=self.cluster, token_file=p["token_file"], client_id=p["client_id"],
            client_secret=p["client_secret"], token_url=p["token_url"], scopes=p["scopes"], environ=self.environ,
            validate_certs=p["validate_certs"], ca_path=p["ca_path"], timeout=p["timeout"], enabled=enabled,
            explicit=[name for name, origin in self.origins.items() if origin == "option"])
        self._clients = {}

    # ------------------------------------------------------------ which cluster
    def _rank(self, name):
        origin = self.origins[name]
        return EXPLICIT if origin == "option" else ENVIRONMENT if origin != "default" else None

    def _describe(self, name):
        if self.origins[name] == "option":
            return "option %s=%s" % (name, self.params[name])
        return "%s=%s" % (self.origins[name], self.params[name])

    def _direct_sources(self):
        """Addresses given as URIs: the explicit options (rank 1), then OPENCHAMI_URI (rank 2)."""
        explicit = dict((s, u.rstrip("/")) for s, u in (self.params["service_uris"] or {}).items() if u)
        identity = dict(explicit)
        names = ["option service_uris"] if explicit else []
        if self.origins["cluster_uri"] == "option":
            names.insert(0, self._describe("cluster_uri"))
            identity["cluster"] = _base(self.params["cluster_uri"])
            for service in SERVICES:
                explicit.setdefault(service, service_url(service, self.params["cluster_uri"]))
        if explicit:
            return [(EXPLICIT, " and ".join(names), identity, explicit)]
        if self.origins["cluster_uri"] != "default":
            uri = self.params["cluster_uri"]
            return [(ENVIRONMENT, self._describe("cluster_uri"), {"cluster": _base(uri)},
                     dict((s, service_url(s, uri)) for s in SERVICES))]
        return []

    def _config_source(self, needed):
        """The ochami configuration's cluster as (rank, description, identity, urls, name, settings), or None."""
        ranks = [r for r in (self._rank("config_file"), self._rank("cluster")) if r]
        rank = min(ranks) if ranks else FILES
        try:
            config = load_ochami_config(self.params["config_file"], self.environ)
            wanted = self.params["cluster"]
            if (wanted and self._rank("cluster") == ENVIRONMENT and self._rank("config_file") == EXPLICIT
                    and wanted not in [c.get("name") for c in config.get("clusters") or [] if isinstance(c, dict)]):
                self.warnings.append("%s is not in %s: its default cluster is used"
                                     % (self._describe("cluster"), self._describe("config_file")))
                wanted = None
            name, settings = cluster_from_config(config, wanted)
        except ApiError as exc:
            if needed or rank == EXPLICIT:
                raise ApiError("%s (%s)" % (exc, self._config_origin()))
            self.warnings.append("ignored the ochami configuration (%s): %s" % (self._config_origin(), exc))
            return None
        urls = dict((s, service_url(s, None, None, settings)) for s in SERVICES)
        urls = dict((s, u) for s, u in urls.items() if u)
        if not urls:
            return None
        identity = dict(urls)
        identity["cluster"] = _base(settings.get("uri") or urls.get("smd") or urls[sorted(urls)[0]])
        where = "cluster '%s' of the ochami configuration (%s)" % (name, self._config_origin())
        return rank, where, identity, urls, name, settings

    def _config_origin(self):
        parts = [self._describe("config_file") if self.origins["config_file"] != "default" else "the ochami CLI files"]
        if self.origins["cluster"] != "default":
            parts.append(self._describe("cluster"))
        return ", ".join(parts)

    def _resolve_addresses(self):
        """(cluster name, its ochami settings, {service: url}, {service: where the url came from})."""
        sources = self._direct_sources()
        config = self._config_source(needed=not sources)
        if config:
            sources.append(config[:4])
        if not sources:
            return self.params["cluster"], {}, {}, {}
        best = min(source[0] for source in sources)
        chosen = [source for source in sources if source[0] == best]
        if len(chosen) == 2:
            clash = _first_clash(chosen[0][2], chosen[1][2])
            if clash:
                raise ApiError(
                    "%s and %s name different clusters (%s: %s against %s); nothing was sent. "
                    "Give only one of them, or make them agree."
                    % (chosen[0][1], chosen[1][1], _what(clash), chosen[0][2][clash], chosen[1][2][clash]))
        merged, origin, used = {}, {}, []
        for source in chosen + [s for s in sources if s[0] != best]:
            rank, desc, identity, urls = source
            if used:
                clash = _first_clash(used[0][2], identity)
                if clash:
                    self.warnings.append(
                        "%s is used; %s (from %s) names another cluster (%s: %s, not %s) and is ignored"
                        % (used[0][1], desc, RANK_NAMES[rank], _what(clash), identity[clash], used[0][2][clash]))
                    continue
            used.append(source)
            for service, url in urls.items():
                if service not in merged:
                    merged[service], origin[service] = url, desc
        if config and config[:4] in used:
            return config[4], config[5], merged, origin
        return (self.params["cluster"] if self.origins["cluster"] == "option" else None), {}, merged, origin

    # ------------------------------------------------------------ clients
    def url(self, service):
        return self._urls.get(service)

    def client(self, service):
        if service not in self._clients:
            base = self.url(service)
            if not base:
                raise ApiError("no address for the %s service: set cluster_uri, service_uris.%s, "
                               "or an ochami configuration with a default cluster" % (service, service))
            self._clients[service] = Client(
                base, auth=self.auth, validate_certs=self.params["validate_certs"], ca_path=self.params["ca_path"],
                timeout=self.params["timeout"], retries=self.params["retries"], log=self.log)
        return self._clients[service]

    def request_count(self):
        return sum(c.request_count for c in self._clients.values())

    def write_count(self):
        """Successful writes so far (a failed task that wrote anything reports changed)."""
        return sum(c.write_count for c in self._clients.values())

    def close(self):
        for client in self._clients.values():
            client.close()


def _base(uri):
    """``scheme://host:port`` of a URI: what tells one cluster from another."""
    parts = urlsplit(uri or "")
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return "%s://%s:%s" % (parts.scheme, (parts.hostname or "").lower(), port)


def _what(key):
    return "address" if key == "cluster" else "%s address" % key


def _first_clash(one, other):
    """The first key (``cluster`` or a service) both identities name with different values; None when they agree."""
    for key in sorted(set(one) & set(other)):
        if one[key].rstrip("/") != other[key].rstrip("/"):
            return key
    return None
