# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module and the inventory plugin, and the module base class."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

try:
    import yaml
    YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.cscs.openchami.plugins.module_utils.auth import (
    TokenAuth, cluster_from_config, load_ochami_config, service_url)
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ApplyError, ValidationError
from ansible_collections.cscs.openchami.plugins.module_utils.transport import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiError, Client, SERVICE_PATHS)

SERVICES = tuple(sorted(SERVICE_PATHS))


def src_option():
    """The ``src`` option of modules that take long lists (see :meth:`OpenCHAMIModule.items`)."""
    return dict(type="path")


def connection_argument_spec():
    """The argument spec of the ``cscs.openchami.connection`` doc fragment."""
    return dict(
        cluster=dict(type="str", fallback=(env_fallback, ["OPENCHAMI_CLUSTER"])),
        cluster_uri=dict(type="str", fallback=(env_fallback, ["OPENCHAMI_URI"])),
        service_uris=dict(type="dict", options=dict((name, dict(type="str")) for name in SERVICES)),
        config_file=dict(type="path", fallback=(env_fallback, ["OCHAMI_CONFIG"])),
        use_auth=dict(type="bool", fallback=(env_fallback, ["OPENCHAMI_USE_AUTH"])),
        token=dict(type="str", no_log=True),
        token_file=dict(type="path", fallback=(env_fallback, ["OPENCHAMI_TOKEN_FILE"])),
        token_url=dict(type="str", no_log=False, fallback=(env_fallback, ["OPENCHAMI_TOKEN_URL"])),
        client_id=dict(type="str", fallback=(env_fallback, ["OPENCHAMI_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["OPENCHAMI_CLIENT_SECRET"])),
        scopes=dict(type="list", elements="str"),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["OPENCHAMI_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["OPENCHAMI_CA_PATH"])),
        timeout=dict(type="int", default=30),
        retries=dict(type="int", default=5),
    )


class Connection:
    """Resolved connection settings: builds one :class:`Client` per service, on demand."""

    def __init__(self, params, environ=None, log=None):
        self.params = params
        self.environ = os.environ if environ is None else environ
        self.log = log
        use_config = bool(params.get("config_file")) or not (params.get("cluster_uri") or params.get("service_uris"))
        config = load_ochami_config(params.get("config_file"), self.environ) if use_config else {}
        self.cluster, self.settings = cluster_from_config(config, params.get("cluster"))
        if params.get("cluster") and not self.cluster:
            self.cluster = params["cluster"]
        enabled = params.get("use_auth")
        if enabled is None:
            enabled = self.settings.get("enable-auth", True) is not False
        self.auth = TokenAuth(
            token=params.get("token"), cluster=self.cluster, token_file=params.get("token_file"),
            client_id=params.get("client_id"), client_secret=params.get("client_secret"),
            token_url=params.get("token_url"), scopes=params.get("scopes"), environ=self.environ,
            validate_certs=params.get("validate_certs", True), ca_path=params.get("ca_path"),
            timeout=params.get("timeout") or 30, enabled=enabled)
        self._clients = {}

    def url(self, service):
        return service_url(service, self.params.get("cluster_uri"), self.params.get("service_uris"), self.settings)

    def client(self, service):
        if service not in self._clients:
            base = self.url(service)
            if not base:
                raise ApiError("no address for the %s service: set cluster_uri, service_uris.%s, "
                               "or an ochami configuration with a default cluster" % (service, service))
            self._clients[service] = Client(
                base, auth=self.auth, validate_certs=self.params.get("validate_certs", True),
                ca_path=self.params.get("ca_path"), timeout=self.params.get("timeout") or 30,
                retries=self.params.get("retries", 5), log=self.log)
        return self._clients[service]

    def request_count(self):
        return sum(c.request_count for c in self._clients.values())

    def write_count(self):
        """Successful writes so far (a failed task that wrote anything reports changed)."""
        return sum(c.write_count for c in self._clients.values())

    def close(self):
        for client in self._clients.values():
            client.close()


class OpenCHAMIModule(AnsibleModule):
    """AnsibleModule with the connection options and one :class:`Connection`."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec or {})
        kwargs.setdefault("supports_check_mode", True)
        super(OpenCHAMIModule, self).__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        self._connection = None

    @property
    def connection(self):
        if self._connection is None:
            try:
                self._connection = Connection(self.params)
            except ApiError as exc:
                self.fail_json(msg=str(exc))
        return self._connection

    def client(self, service):
        try:
            return self.connection.client(service)
        except ApiError as exc:
            self.fail_json(msg=str(exc))

    def items(self, name):
        """The list option ``name``, or the same list read from the file in ``src``.

        Passing 10,000 items through Ansible's templating costs seconds; a JSON or
        YAML file read here costs milliseconds. File items are validated against
        the same suboptions, and a bad file fails naming the file.
        """
        src = self.params.get("src")
        if not src:
            return self.params[name]
        try:
            with open(src) as handle:
                text = handle.read()
            data = json.loads(text) if src.endswith(".json") else yaml.load(text, Loader=YAML_LOADER)  # nosec - safe loader
        except (OSError, ValueError) as exc:
            self.fail_json(msg="cannot read %s from %s: %s" % (name, src, exc))
        except Exception as exc:  # pylint: disable=broad-except
            self.fail_json(msg="cannot parse %s as YAML: %s" % (src, exc))
        if isinstance(data, dict):
            data = data.get(name)
        if not isinstance(data, list):
            self.fail_json(msg="%s must hold a list of %s (or a mapping with a %s key)" % (src, name, name))
        validator = ArgumentSpecValidator({name: dict(self.argument_spec[name], required=False)})
        checked = validator.validate({name: data})
        if checked.error_messages:
            bad = []  # only on failure: find which items are wrong, so the message names them
            for index, item in enumerate(data):
                errors = validator.validate({name: [item]}).error_messages
                if errors:
                    bad.append("item %d: %s" % (index, errors[0]))
                if len(bad) == 20:
                    break
            self.fail_json(msg="invalid %s in %s, nothing was changed: %s" % (name, src, "; ".join(bad or checked.error_messages)))
        return checked.validated_parameters[name]

    @contextlib.contextmanager
    def guard(self):
        """Turn bad input (:class:`ValidationError`) and API failures into fail_json: no traceback, no secret."""
        try:
            yield
        except ValidationError as exc:
            self.fail_json(msg=str(exc), errors=exc.errors, changed=self.write_count() > 0)
        except ApplyError as exc:
            error = exc.cause.to_dict() if isinstance(exc.cause, ApiError) else {"message": str(exc.cause)}
            self.fail_json(msg=exc.message(), error=error, partial=exc.report(),
                           changed=bool(exc.written) or self.write_count() > 0)
        except ApiError as exc:
            self.fail_api(exc)

    def write_count(self):
        return self._connection.write_count() if self._connection is not None else 0

    def fail_api(self, exc, **result):
        """Fail with an :class:`ApiError`; the message has no secret in it. ``changed`` if anything was written."""
        result.setdefault("error", exc.to_dict())
        result.setdefault("changed", self.write_count() > 0)
        self.fail_json(msg=str(exc), **result)
