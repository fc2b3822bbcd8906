# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module layer: the base class of every module (connection, ``src`` lists, ``guard()`` -> fail_json)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

try:
    import yaml
    YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover
    yaml = None

from ansible_collections.cscs.openchami.plugins.module_utils import resource, smd
from ansible_collections.cscs.openchami.plugins.module_utils.resource import ApplyError, ValidationError
from ansible_collections.cscs.openchami.plugins.module_utils.connection import Connection, connection_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.transport import (
    HAS_REQUESTS, REQUESTS_IMPORT_ERROR, ApiError)


def src_option():
    """The ``src`` option of modules that take long lists (see :meth:`OpenCHAMIModule.items`); documented
    by the ``cscs.openchami.nodes.src`` fragment."""
    return dict(type="path")


def node_selector_options():
    """``nodes``, ``macs``, ``nids``, ``groups``: the ``cscs.openchami.nodes`` doc fragment."""
    return dict(
        nodes=dict(type="list", elements="str", aliases=["hosts", "xnames"]),
        macs=dict(type="list", elements="str"),
        nids=dict(type="list", elements="int"),
        groups=dict(type="list", elements="str"),
    )


class OpenCHAMIModule(AnsibleModule):
    """AnsibleModule with the connection options and one :class:`Connection`.

    A subclass for another system (the CSM modules) sets ``connection_spec`` to its own connection options and
    keeps the rest: the requests check, :meth:`guard`, :meth:`items`.
    """

    connection_spec = staticmethod(connection_argument_spec)

    def __init__(self, argument_spec=None, **kwargs):
        spec = self.connection_spec()
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
            for warning in self._connection.warnings:
                self.warn(warning)
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
        if isinstance(data, dict):  # a mapping with the list under the option's name (or one of its aliases)
            keys = [name] + list(self.argument_spec[name].get("aliases") or [])
            data = next((data[key] for key in keys if key in data), None)
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

    def exit_actions(self, results):
        """End a module that acted per target (:func:`resource.carry_out`): ``changed``, a bounded diff and
        counts from the engine's :class:`resource.ActionPlan`, every result in ``nodes``; fails, with all of
        that, when any target failed."""
        the_plan = resource.plan_actions(results)
        out = resource.result(the_plan, nodes=the_plan.results)
        failed = the_plan.failed()
        if failed:
            self.fail_json(msg="%d of %d nodes failed: %s" % (len(failed), len(results), "; ".join(
                "%s: %s" % (r["name"], r.get("message")) for r in failed[:20])), **out)
        self.exit_json(**out)

    def write_count(self):
        return self._connection.write_count() if self._connection is not None else 0

    def fail_api(self, exc, **result):
        """Fail with an :class:`ApiError`; the message has no secret in it. ``changed`` if anything was written."""
        result.setdefault("error", exc.to_dict())
        result.setdefault("changed", self.write_count() > 0)
        self.fail_json(msg=str(exc), **result)


def set_argument_spec(kind):
    """The options of smd_group or smd_partition (``kind``), documented by the ``cscs.openchami.smd_set`` fragment."""
    return {
        kind.param: dict(type="list", elements="dict", options=kind.spec.argument_spec()),
        "members_mode": dict(type="str", choices=["exact", "add", "remove"], default="exact"),
        "state": dict(type="str", choices=["present", "absent"], default="present"),
        "src": src_option(),
    }


def run_set_module(kind):
    """The whole of smd_group and smd_partition: argument spec, plan, apply, result."""
    module = OpenCHAMIModule(argument_spec=set_argument_spec(kind), required_one_of=[(kind.param, "src")],
                             mutually_exclusive=[(kind.param, "src")])
    with module.guard():
        the_plan = smd.plan_sets(smd.SMD(module.client("smd")), kind, module.items(kind.param),
                                 module.params["members_mode"], module.params["state"], module.check_mode)
    module.exit_json(**resource.result(the_plan, **{kind.param: the_plan.resources()}))
