# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types of extensions/awx/credential_types/, and what AWX makes of a credential of one.

:func:`inject` follows AWX's ``CredentialType.inject_credential``: string inputs left empty are undefined in the
templates (they render as an empty string), booleans left unset are false, every ``file`` template is written to
a private file under ``<private_data_dir>/env`` whose path is ``tower.filename.<label>`` in the other templates,
and every ``env`` and ``extra_vars`` template is rendered in Jinja's immutable sandbox.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

TYPES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "extensions", "awx",
                         "credential_types")


class _Namespace(object):
    pass


def load(name):
    """The credential type ``extensions/awx/credential_types/<name>.yml`` as a dict."""
    with open(os.path.join(TYPES_DIR, name + ".yml")) as handle:
        return yaml.safe_load(handle)


def inject(credential_type, inputs, private_data_dir):
    """(env, extra_vars) that AWX gives a job for a credential of ``credential_type`` with ``inputs``."""
    namespace = {"tower": _Namespace()}
    for field in credential_type["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field["type"] == "boolean":
            namespace[field["id"]] = bool(value)
        elif value:
            namespace[field["id"]] = value
    sandbox = ImmutableSandboxedEnvironment()
    injectors = credential_type.get("injectors") or {}
    env_dir = os.path.join(private_data_dir, "env")
    if not os.path.isdir(env_dir):
        os.makedirs(env_dir)
    for label, template in (injectors.get("file") or {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(sandbox.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." in label:
            if not isinstance(getattr(namespace["tower"], "filename", None), _Namespace):
                namespace["tower"].filename = _Namespace()
            setattr(namespace["tower"].filename, label.split(".", 1)[1], path)
        else:
            namespace["tower"].filename = path

    def render(node):
        if isinstance(node, dict):
            return dict((render(k), render(v)) for k, v in node.items())
        if isinstance(node, list):
            return [render(item) for item in node]
        return sandbox.from_string(node).render(**namespace)

    env = dict((name, render(template)) for name, template in (injectors.get("env") or {}).items())
    return env, render(injectors.get("extra_vars") or {})
