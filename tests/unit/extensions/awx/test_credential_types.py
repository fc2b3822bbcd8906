# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX credential types (extensions/awx/credential_types/) against the code that reads what they inject.

The environment variable names come from the code (connection OPTIONS, the Redfish and CSM argument specs), so
an injector and the code cannot drift apart; a credential rendered the way AWX renders it must reach the code as
its inputs, and a credential with only its required fields must leave the code's defaults (TLS verified) alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.cscs.openchami.plugins.module_utils.connection import OPTIONS, resolve_options
from ansible_collections.cscs.openchami.plugins.module_utils.redfish_module import bmc_argument_spec
from ansible_collections.cscs.openchami.tests.unit.utils import awx

try:
    from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import csm_argument_spec
except ImportError:
    # Until the CSM modules are merged: the names their argument spec reads (plugins/module_utils/csm_module.py).
    def csm_argument_spec():
        return dict(
            csm_api_url=dict(type="str", fallback=(env_fallback, ["CSM_API_URL"])),
            csm_token_url=dict(type="str", no_log=False, fallback=(env_fallback, ["CSM_TOKEN_URL"])),
            csm_client_id=dict(type="str", fallback=(env_fallback, ["CSM_CLIENT_ID"])),
            csm_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["CSM_CLIENT_SECRET"])),
            csm_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["CSM_VALIDATE_CERTS"])),
            csm_ca_path=dict(type="path", fallback=(env_fallback, ["CSM_CA_PATH"])),
        )

PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"


def openchami_options():
    """option -> (environment variable, no_log) of the connection options."""
    return dict((name, (env, bool(spec.get("no_log")))) for name, (spec, env, _default) in OPTIONS.items() if env)


def fallback_options(spec):
    """option -> (environment variable, no_log) of an argument spec's env_fallback options."""
    return dict((name, (option["fallback"][1][0], bool(option.get("no_log"))))
                for name, option in spec.items() if option.get("fallback"))


TYPES = {
    "openchami": openchami_options,
    "redfish": lambda: fallback_options(bmc_argument_spec()),
    "csm": lambda: fallback_options(csm_argument_spec()),
}


def option_of(field_id, options):
    """The option a credential input feeds: same name, ``*ca_cert`` -> ``*ca_path``, skip_tls_verify -> ``*validate_certs``."""
    if field_id in options:
        return field_id
    if field_id.endswith("ca_cert"):
        return field_id[:-len("ca_cert")] + "ca_path"
    if field_id == "skip_tls_verify":
        (name,) = [name for name in options if name.endswith("validate_certs")]
        return name
    raise AssertionError("input %s feeds no option the code reads (%s)" % (field_id, ", ".join(sorted(options))))


def fields_used(template):
    return meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(template)) - {"tower"}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_injected_variable_is_the_one_the_code_reads_for_that_input(name):
    credential_type = awx.load(name)
    options = TYPES[name]()
    injected = credential_type["injectors"]["env"]
    field_ids = [field["id"] for field in credential_type["inputs"]["fields"]]
    assert set(credential_type["inputs"].get("required", [])) <= set(field_ids)
    assert not [var for var in injected if var.startswith("ANSIBLE_")]  # reserved by AWX
    for variable, template in injected.items():
        used = fields_used(template)
        assert len(used) == 1 and used <= set(field_ids), (variable, template)
        option = option_of(used.pop(), options)
        assert options[option][0] == variable, "%s injects %s, but option %s reads %s" % (
            name, variable, option, options[option][0])
    # every input reaches the code, and a secret input is exactly a no_log option
    for field in credential_type["inputs"]["fields"]:
        option = option_of(field["id"], options)
        assert options[option][0] in injected, "input %s of %s is never injected" % (field["id"], name)
        assert bool(field.get("secret")) == options[option][1], field["id"]


FULL = {
    "openchami": {"cluster_uri": "https://alps.example.ch:8443", "token": "tok.en.jwt", "token_url": "https://kc/token",
                  "client_id": "ansible", "client_secret": "s3cret", "ca_cert": PEM, "skip_tls_verify": False},
    "redfish": {"bmc_user": "root", "bmc_password": "initial0", "bmc_ca_cert": PEM, "skip_tls_verify": False},
    "csm": {"csm_api_url": "https://api-gw.example/apis", "csm_token_url": "https://auth.example/token",
            "csm_client_id": "admin-client", "csm_client_secret": "k3ycloak", "csm_ca_cert": PEM,
            "skip_tls_verify": False},
}


def resolved(name, env, monkeypatch):
    """What the code makes of the environment ``env`` (option -> value)."""
    if name == "openchami":
        return resolve_options({}, env)[0]
    spec = bmc_argument_spec() if name == "redfish" else csm_argument_spec()
    for option in fallback_options(spec).values():
        monkeypatch.delenv(option[0], raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    result = ArgumentSpecValidator(spec).validate({})
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


@pytest.mark.parametrize("name", sorted(TYPES))
def test_a_full_credential_reaches_the_code_as_its_inputs(name, tmp_path, monkeypatch):
    inputs = FULL[name]
    env, extra_vars = awx.inject(awx.load(name), inputs, str(tmp_path))
    assert extra_vars == {}
    values = resolved(name, env, monkeypatch)
    options = TYPES[name]()
    for field_id, value in inputs.items():
        option = option_of(field_id, options)
        if field_id.endswith("ca_cert"):
            with open(values[option]) as handle:
                assert handle.read() == PEM
            assert os.path.dirname(values[option]) == str(tmp_path / "env")
        elif field_id == "skip_tls_verify":
            assert values[option] is True
        else:
            assert values[option] == value, option


@pytest.mark.parametrize("name", sorted(TYPES))
def test_only_the_required_inputs_leave_the_defaults_alone(name, tmp_path, monkeypatch):
    credential_type = awx.load(name)
    required = credential_type["inputs"].get("required", [])
    env, _extra_vars = awx.inject(credential_type, dict((f, FULL[name][f]) for f in required), str(tmp_path))
    values = resolved(name, env, monkeypatch)
    options = TYPES[name]()
    validate = option_of("skip_tls_verify", options)
    assert values[validate] is True  # AWX makes an unset boolean false: the credential must not turn TLS off
    assert not values[validate[:-len("validate_certs")] + "ca_path"]
    for field_id in required:
        assert values[option_of(field_id, options)] == FULL[name][field_id]


@pytest.mark.parametrize("name", sorted(TYPES))
def test_skip_tls_verify_turns_verification_off(name, tmp_path, monkeypatch):
    inputs = dict(FULL[name], skip_tls_verify=True)
    env, _extra_vars = awx.inject(awx.load(name), inputs, str(tmp_path))
    assert resolved(name, env, monkeypatch)[option_of("skip_tls_verify", TYPES[name]())] is False
