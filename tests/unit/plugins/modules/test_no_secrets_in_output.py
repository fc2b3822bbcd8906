# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run real ansible-playbook -vvv against a local server and check no secret reaches the output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import pathlib
import subprocess
import sys
import tempfile

from ansible_collections.cscs.openchami.plugins.module_utils import transport
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer

OPTION_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvcHRpb24ifQ.option-token-signature-AAAA"
ENV_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlbnYifQ.environment-token-signature-BBBB"
CLIENT_SECRET = "client-secret-CCCC-value"
COLLECTIONS = str(pathlib.Path(os.path.abspath(transport.__file__)).parents[4])
BIN = os.path.dirname(sys.executable)


BMC_PASSWORD = "bmc-password-DDDD-value"
TARGET_PASSWORD = "target-password-EEEE-value"


def run_playbook(url, module_args, task=None):
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - cscs.openchami.smd_component_info:
        service_uris: {smd: "%s/hsm/v2"}
        %s
""" % (url, module_args) if task is None else task
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
        handle.write(playbook)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ACCESS_TOKEN=ENV_TOKEN, ANSIBLE_NOCOLOR="1",
               OPENCHAMI_CLIENT_SECRET=CLIENT_SECRET, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONPATH", None)  # ansible-test units narrows it to the collection; the CLI needs the whole ansible
    try:
        return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-vvv", "-i", "localhost,", "-c", "local",
                               handle.name], env=env, capture_output=True, text=True, timeout=120, check=False)
    finally:
        os.unlink(handle.name)


def echo_credentials(req):
    return {"detail": "rejected %s" % req["headers"].get("Authorization")}


def assert_no_secret(proc):
    text = proc.stdout + proc.stderr
    for secret in (OPTION_TOKEN, ENV_TOKEN, CLIENT_SECRET, BMC_PASSWORD, TARGET_PASSWORD):
        assert secret not in text
        assert secret[-10:] not in text


def test_failed_call_with_token_option_shows_no_token():
    with FakeServer(default=(401, {}, echo_credentials)) as srv:
        proc = run_playbook(srv.url, "token: %s" % OPTION_TOKEN)
    assert proc.returncode == 2, proc.stdout
    assert srv.requests[0]["headers"]["Authorization"] == "Bearer " + OPTION_TOKEN
    assert "HTTP 401" in proc.stdout
    assert "the token from the token option was rejected" in proc.stdout
    assert_no_secret(proc)


def test_token_from_environment_shows_no_token():
    with FakeServer(default=(401, {}, echo_credentials)) as srv:
        proc = run_playbook(srv.url, "validate_certs: true")
    assert proc.returncode == 2
    assert srv.requests[0]["headers"]["Authorization"] == "Bearer " + ENV_TOKEN
    assert "environment variable ACCESS_TOKEN was rejected" in proc.stdout
    assert_no_secret(proc)


def test_successful_call_verbose_shows_no_token():
    with FakeServer(default=(200, {}, {"Components": [{"ID": "x1000c0s0b0n0", "State": "On"}]})) as srv:
        proc = run_playbook(srv.url, "token: %s" % OPTION_TOKEN)
    assert proc.returncode == 0, proc.stdout
    assert "x1000c0s0b0n0" in proc.stdout
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in proc.stdout   # the invocation shows the option masked
    assert_no_secret(proc)


def echo_everything(req):
    return {"error": {"message": "rejected %s %s" % (req["headers"].get("Authorization"), req.get("body"))}}


def test_bmc_passwords_never_in_output():
    """The BMC password option and a per-target password, sent to a BMC that echoes what it got."""
    with FakeServer(default=(401, {}, echo_everything)) as srv:
        task = """
- hosts: localhost
  gather_facts: false
  tasks:
    - cscs.openchami.redfish_info:
        targets:
          - "%s"
          - {address: "%s/", password: "%s"}
        bmc_user: root
        bmc_password: "%s"
""" % (srv.url, srv.url, TARGET_PASSWORD, BMC_PASSWORD)
        proc = run_playbook(srv.url, None, task=task)
    assert proc.returncode == 0, proc.stdout          # an _info module reports each BMC's failure
    sent = " ".join("%s %s" % (r["headers"].get("Authorization"), r.get("body")) for r in srv.requests)
    assert "Basic " in sent or BMC_PASSWORD in sent        # the credentials did reach the BMC
    assert proc.stdout.count("the BMC refused the user name or password") >= 2
    assert_no_secret(proc)
    for secret in (BMC_PASSWORD, TARGET_PASSWORD):
        assert base64.b64encode(("root:" + secret).encode()).decode() not in proc.stdout + proc.stderr
