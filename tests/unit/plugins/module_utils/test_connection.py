# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which cluster: every row of the precedence table in the connection doc fragment.

The environment is the one the lab's ``lab.env`` gives a user's shell: OCHAMI_CONFIG (clusters ``lab`` and
``lab2``), OPENCHAMI_CLUSTER=lab, ACCESS_TOKEN and LAB_ACCESS_TOKEN.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
import yaml

from ansible_collections.cscs.openchami.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.cscs.openchami.plugins.module_utils import auth
from ansible_collections.cscs.openchami.plugins.module_utils.connection import (
    OPTIONS, Connection, connection_argument_spec)
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError

LAB_SMD = "http://127.0.0.1:27779/hsm/v2"
LAB2_SMD = "http://127.0.0.1:27789/hsm/v2"
LAB_CONFIG = {
    "log": {"format": "basic", "level": "warning"}, "default-cluster": "lab",
    "clusters": [
        {"name": "lab", "cluster": {"enable-auth": True, "smd": {"uri": LAB_SMD},
                                    "bss": {"uri": "http://127.0.0.1:27778/boot/v1"}}},
        {"name": "lab2", "cluster": {"enable-auth": True, "smd": {"uri": LAB2_SMD}}},
    ],
}


@pytest.fixture
def lab_env(tmp_path, monkeypatch):
    """The environment `source lab-state/lab.env` gives a shell (and no ochami files of the user's own)."""
    monkeypatch.setattr(auth, "SYSTEM_CONFIG", str(tmp_path / "no-system-config.yaml"))
    config = tmp_path / "ochami-config.yaml"
    config.write_text(yaml.safe_dump(LAB_CONFIG))
    home = tmp_path / "home"
    home.mkdir()
    return {"HOME": str(home), "OCHAMI_CONFIG": str(config), "OPENCHAMI_CLUSTER": "lab",
            "ACCESS_TOKEN": "generic-token", "LAB_ACCESS_TOKEN": "lab-token"}


def connect(environ, **options):
    params = dict((name, None) for name in connection_argument_spec())
    params.update(options)
    return Connection(params, environ=environ)


def other_config(tmp_path, name="alps", smd="https://alps.example.ch:8443/hsm/v2"):
    path = tmp_path / ("%s.yaml" % name)
    path.write_text(yaml.safe_dump({"default-cluster": name, "clusters": [{"name": name, "cluster": {"smd": {"uri": smd}}}]}))
    return str(path)


# ------------------------------------------------------------------ rank 3 and 2 alone
def test_lab_environment_alone_selects_the_lab_cluster_and_its_token(lab_env):
    conn = connect(lab_env)
    assert (conn.cluster, conn.url("smd"), conn.auth.token(), conn.warnings) == ("lab", LAB_SMD, "lab-token", [])


def test_ochami_cli_files_are_used_when_nothing_else_names_a_cluster(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SYSTEM_CONFIG", other_config(tmp_path))
    conn = connect({"HOME": str(tmp_path)})
    assert (conn.cluster, conn.url("smd")) == ("alps", "https://alps.example.ch:8443/hsm/v2")


def test_environment_uri_wins_over_the_cli_files_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SYSTEM_CONFIG", other_config(tmp_path))
    conn = connect({"HOME": str(tmp_path), "OPENCHAMI_URI": "https://eiger.example.ch"})
    assert conn.url("smd") == "https://eiger.example.ch/hsm/v2"
    assert conn.cluster is None
    assert len(conn.warnings) == 1 and "cluster 'alps'" in conn.warnings[0] and "ignored" in conn.warnings[0]


def test_two_environment_sources_naming_different_clusters_fail_naming_both(lab_env):
    with pytest.raises(ApiError) as err:
        connect(dict(lab_env, OPENCHAMI_URI="https://eiger.example.ch"))
    message = str(err.value)
    assert "environment variable OPENCHAMI_URI=https://eiger.example.ch" in message
    assert "cluster 'lab'" in message and "OCHAMI_CONFIG" in message and "nothing was sent" in message


# ------------------------------------------------------------------ rank 1 over the lab's environment
def test_explicit_cluster_uri_wins_over_ochami_config_from_the_environment(lab_env):
    """The defect: the write went to the OCHAMI_CONFIG cluster, rc=0."""
    conn = connect(lab_env, cluster_uri="https://alps.example.ch:8443")
    assert conn.url("smd") == "https://alps.example.ch:8443/hsm/v2"
    assert conn.url("bss") == "https://alps.example.ch:8443/boot/v1"
    assert conn.cluster is None                      # not 'lab': LAB_ACCESS_TOKEN is not sent to alps
    assert conn.auth.token() == "generic-token"
    assert len(conn.warnings) == 1
    assert "option cluster_uri=https://alps.example.ch:8443 is used" in conn.warnings[0]
    assert "cluster 'lab'" in conn.warnings[0]


def test_explicit_service_uri_of_another_instance_wins_over_the_environment(lab_env):
    conn = connect(lab_env, service_uris={"smd": LAB2_SMD})
    assert conn.url("smd") == LAB2_SMD
    assert conn.url("bss") is None                   # nothing is borrowed from a cluster that was not meant
    assert conn.auth.token() == "generic-token"
    assert "ignored" in conn.warnings[0]


def test_explicit_cluster_name_wins_over_the_environment_cluster_name(lab_env):
    conn = connect(dict(lab_env, LAB2_ACCESS_TOKEN="lab2-token"), cluster="lab2")
    assert (conn.cluster, conn.url("smd"), conn.auth.token(), conn.warnings) == ("lab2", LAB2_SMD, "lab2-token", [])


def test_explicit_config_file_wins_over_ochami_config_from_the_environment(lab_env, tmp_path):
    conn = connect(dict(lab_env, OPENCHAMI_CLUSTER=""), config_file=other_config(tmp_path))
    assert (conn.cluster, conn.url("smd")) == ("alps", "https://alps.example.ch:8443/hsm/v2")


def test_explicit_uri_that_agrees_with_the_environment_keeps_its_cluster_name_and_token(lab_env):
    conn = connect(lab_env, cluster_uri="http://127.0.0.1:27779")
    assert (conn.cluster, conn.url("smd"), conn.auth.token(), conn.warnings) == ("lab", LAB_SMD, "lab-token", [])


def test_explicit_service_uri_of_the_same_cluster_is_completed_from_its_configuration(lab_env):
    conn = connect(lab_env, service_uris={"smd": LAB_SMD + "/"})
    assert (conn.cluster, conn.url("bss"), conn.warnings) == ("lab", "http://127.0.0.1:27778/boot/v1", [])


def test_explicit_uri_and_explicit_config_file_that_disagree_fail_naming_both(lab_env, tmp_path):
    with pytest.raises(ApiError) as err:
        connect(lab_env, cluster_uri="https://eiger.example.ch", config_file=other_config(tmp_path))
    message = str(err.value)
    assert "option cluster_uri=https://eiger.example.ch" in message
    assert "cluster 'alps' of the ochami configuration (option config_file=" in message


def test_explicit_service_uri_and_explicit_cluster_that_disagree_fail_naming_both(lab_env):
    with pytest.raises(ApiError, match=r"option service_uris and cluster 'lab' .* \(smd address: "
                                       + re.escape(LAB2_SMD) + " against " + re.escape(LAB_SMD)):
        connect(lab_env, cluster="lab", service_uris={"smd": LAB2_SMD})


def test_unreadable_configuration_from_the_environment_does_not_stop_an_explicit_uri(lab_env, tmp_path):
    conn = connect(dict(lab_env, OCHAMI_CONFIG=str(tmp_path / "gone.yaml")), cluster_uri="https://alps.example.ch")
    assert conn.url("smd") == "https://alps.example.ch/hsm/v2"
    assert "gone.yaml does not exist" in conn.warnings[0]


def test_unreadable_explicit_configuration_fails(lab_env, tmp_path):
    with pytest.raises(ApiError, match="gone.yaml does not exist"):
        connect(lab_env, cluster_uri="https://alps.example.ch", config_file=str(tmp_path / "gone.yaml"))


# ------------------------------------------------------------------ the other options
@pytest.mark.parametrize("options,environ,expected", [
    ({"validate_certs": False}, {"OPENCHAMI_VALIDATE_CERTS": "true"}, False),
    ({}, {"OPENCHAMI_VALIDATE_CERTS": "no"}, False),
    ({}, {}, True),
])
def test_explicit_option_over_environment_over_default(lab_env, options, environ, expected):
    conn = connect(dict(lab_env, **environ), **options)
    assert conn.params["validate_certs"] is expected


def test_token_option_over_openchami_token_over_cluster_token(lab_env):
    assert connect(dict(lab_env, OPENCHAMI_TOKEN="env-token"), token="task-token").auth.token() == "task-token"
    assert connect(dict(lab_env, OPENCHAMI_TOKEN="env-token")).auth.token() == "env-token"


def test_explicit_token_file_and_client_credentials_win_over_environment_tokens(lab_env, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token")
    assert connect(lab_env, token_file=str(token_file)).auth.token() == "file-token"
    assert connect(dict(lab_env, OPENCHAMI_TOKEN_FILE=str(token_file))).auth.token() == "file-token"
    assert connect(dict(lab_env, OPENCHAMI_TOKEN="env-token"), token_file=str(token_file)).auth.token() == "file-token"
    conn = connect(lab_env, token_url="https://keycloak.example/token", client_id="c", client_secret="s")
    assert conn.auth.source == "client credentials at https://keycloak.example/token"


def test_bad_environment_value_names_the_variable(lab_env):
    with pytest.raises(ApiError, match="OPENCHAMI_TIMEOUT='soon' is not a valid int for option timeout"):
        connect(dict(lab_env, OPENCHAMI_TIMEOUT="soon"))


# ------------------------------------------------------------------ one source of truth
def test_doc_fragment_and_argument_spec_agree_option_by_option():
    doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = connection_argument_spec()
    assert sorted(doc) == sorted(spec)
    for name, option in doc.items():
        assert option["type"] == spec[name]["type"], name
        assert option.get("elements") == spec[name].get("elements"), name
        assert "default" not in option and "default" not in spec[name], name   # defaults are applied after the environment
        assert sorted(option.get("suboptions") or {}) == sorted(spec[name].get("options") or {}), name
        env = OPTIONS[name][1]
        text = " ".join(option["description"] if isinstance(option["description"], list) else [option["description"]])
        assert (("E(%s)" % env) in text) if env else ("Environment variable" not in text), name
        assert bool(spec[name].get("no_log")) == (name in ("token", "client_secret")), name
