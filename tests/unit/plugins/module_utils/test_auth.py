# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.cscs.openchami.plugins.module_utils import auth
from ansible_collections.cscs.openchami.plugins.module_utils.connection import Connection, connection_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError, Client
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer


def jwt(claims):
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return "%s.%s.%s" % (enc({"alg": "RS256", "kid": "t1"}), enc(claims), "c2lnbmF0dXJl")


def params(**kw):
    out = dict((k, None) for k in connection_argument_spec())
    out.update(kw)
    return out


def test_cluster_token_variable_follows_ochami():
    assert auth.cluster_token_variable("alps") == "ALPS_ACCESS_TOKEN"
    assert auth.cluster_token_variable("alps-test eiger") == "ALPS_TEST_EIGER_ACCESS_TOKEN"


@pytest.mark.parametrize("kwargs,environ,expected,source", [
    ({"token": "opt"}, {"ALPS_ACCESS_TOKEN": "cl", "ACCESS_TOKEN": "gen"}, "opt", "the token option"),
    ({}, {"ALPS_ACCESS_TOKEN": "cl", "ACCESS_TOKEN": "gen"}, "cl", "environment variable ALPS_ACCESS_TOKEN"),
    ({}, {"ACCESS_TOKEN": "gen"}, "gen", "environment variable ACCESS_TOKEN"),
    ({}, {"OTHER_ACCESS_TOKEN": "x"}, None, None),
])
def test_token_source_order(kwargs, environ, expected, source):
    a = auth.TokenAuth(cluster="alps", environ=environ, **kwargs)
    assert a.token() == expected
    assert a.source == source
    assert a.headers() == ({"Authorization": "Bearer " + expected} if expected else {})


def test_token_file_plain_and_json(tmp_path):
    plain = tmp_path / "tok"
    plain.write_text("abc.def.ghi\n")
    assert auth.TokenAuth(token_file=str(plain), environ={}).token() == "abc.def.ghi"
    js = tmp_path / "tok.json"
    js.write_text(json.dumps({"access_token": "from-json", "expires_in": 300}))
    assert auth.TokenAuth(token_file=str(js), environ={}).token() == "from-json"
    # a token file (given explicitly or through OPENCHAMI_TOKEN_FILE) wins over the ochami CLI's variables,
    # but an OPENCHAMI_TOKEN does not lose to a token_file from OPENCHAMI_TOKEN_FILE
    assert auth.TokenAuth(token_file=str(js), environ={"ACCESS_TOKEN": "env"}).token() == "from-json"
    assert auth.TokenAuth(token_file=str(js), environ={"ACCESS_TOKEN": "env"}, explicit=()).token() == "from-json"
    assert auth.TokenAuth(token="opt", token_file=str(js), environ={}, explicit=("token_file",)).token() == "from-json"


def test_token_file_errors_name_the_file(tmp_path):
    with pytest.raises(ApiError, match="cannot read token file .*/missing"):
        auth.TokenAuth(token_file=str(tmp_path / "missing"), environ={})
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(ApiError, match="is empty"):
        auth.TokenAuth(token_file=str(empty), environ={})


def test_partial_client_credentials_is_an_error():
    with pytest.raises(ApiError, match="token_url, client_id and client_secret"):
        auth.TokenAuth(client_id="x", environ={})


def token_endpoint(lifetimes):
    issued = []

    def answer(req):
        issued.append(req)
        return {"access_token": "tok-%d" % len(issued), "expires_in": lifetimes[min(len(issued), len(lifetimes)) - 1]}
    return answer, issued


def test_client_credentials_fetch_and_refresh_before_expiry():
    answer, issued = token_endpoint([60, 60, 60])
    clock = [1000.0]
    with FakeServer(default=(200, {}, answer)) as srv:
        a = auth.TokenAuth(client_id="ansible", client_secret="s3cr3t-value", token_url=srv.url + "/token",
                           environ={}, now=lambda: clock[0])
        assert a.token() == "tok-1"
        assert a.token() == "tok-1"          # cached
        clock[0] += 31                        # within REFRESH_MARGIN of expiry
        assert a.token() == "tok-2"
    body = issued[0]["body"]
    assert "grant_type=client_credentials" in body
    assert issued[0]["headers"]["Authorization"].startswith("Basic ")


def test_one_refresh_after_401_with_client_credentials():
    answer, issued = token_endpoint([3600])
    with FakeServer(default=(200, {}, answer)) as tok:
        with FakeServer([(401, {}, {"detail": "expired"}), (200, {}, {"Components": []})]) as api:
            a = auth.TokenAuth(client_id="c", client_secret="s3cr3t-value", token_url=tok.url + "/token", environ={})
            c = Client(api.url, auth=a)
            assert c.get("/State/Components").json == {"Components": []}
    assert [r["headers"]["Authorization"] for r in api.requests] == ["Bearer tok-1", "Bearer tok-2"]
    assert len(issued) == 2


def test_static_token_401_is_not_retried_and_explains_expiry():
    expired = jwt({"sub": "me", "exp": 1000})
    with FakeServer(default=(401, {}, {"detail": "token is expired"})) as api:
        c = Client(api.url, auth=auth.TokenAuth(token=expired, environ={}))
        with pytest.raises(ApiError) as err:
            c.get("/State/Components")
    assert len(api.requests) == 1
    assert "expired at 1970-01-01T00:16:40Z" in str(err.value)
    assert expired not in str(err.value)


def test_missing_token_401_lists_sources():
    with FakeServer(default=(401, {}, {})) as api:
        c = Client(api.url, auth=auth.TokenAuth(cluster="alps", environ={}))
        with pytest.raises(ApiError) as err:
            c.get("/x")
    assert ("no token was found; looked at: token option, token_file option, client-credentials options, "
            "OPENCHAMI_TOKEN, OPENCHAMI_TOKEN_FILE, OPENCHAMI_CLIENT_ID/SECRET, ALPS_ACCESS_TOKEN, ACCESS_TOKEN"
            in str(err.value))


SYSTEM = """
default-cluster: prod
clusters:
  - name: prod
    cluster:
      uri: https://prod.example:8443
  - name: lab
    cluster:
      enable-auth: false
      smd: {uri: http://127.0.0.1:27779/hsm/v2}
      bss: {uri: /boot/v1}
"""
USER = """
default-cluster: lab
clusters:
  - name: lab
    cluster:
      uri: http://127.0.0.1:8081
      cloud-init: {uri: http://127.0.0.1:27777}
"""


@pytest.fixture
def ochami_files(tmp_path, monkeypatch):
    system = tmp_path / "etc.yaml"
    system.write_text(SYSTEM)
    home = tmp_path / "home"
    (home / ".config" / "ochami").mkdir(parents=True)
    (home / ".config" / "ochami" / "config.yaml").write_text(USER)
    monkeypatch.setattr(auth, "SYSTEM_CONFIG", str(system))
    return {"HOME": str(home)}


def test_ochami_config_merge_user_over_system(ochami_files):
    config = auth.load_ochami_config(environ=ochami_files)
    assert config["default-cluster"] == "lab"
    name, lab = auth.cluster_from_config(config)
    assert name == "lab"
    assert lab["enable-auth"] is False                       # kept from the system file
    assert lab["uri"] == "http://127.0.0.1:8081"              # added by the user file
    assert auth.service_url("smd", cluster_settings=lab) == "http://127.0.0.1:27779/hsm/v2"
    assert auth.service_url("bss", cluster_settings=lab) == "http://127.0.0.1:8081/boot/v1"
    assert auth.service_url("cloud_init", cluster_settings=lab) == "http://127.0.0.1:27777"
    assert auth.service_url("pcs", cluster_settings=lab) == "http://127.0.0.1:8081"
    prod = auth.cluster_from_config(config, "prod")[1]
    assert auth.service_url("boot_service", cluster_settings=prod) == "https://prod.example:8443/boot-service"


def test_unknown_cluster_names_known_ones(ochami_files):
    config = auth.load_ochami_config(environ=ochami_files)
    with pytest.raises(ApiError, match=r"cluster 'nope' is not in the ochami configuration \(known: lab, prod\)"):
        auth.cluster_from_config(config, "nope")


def test_connection_uses_ochami_config_and_cluster_token(ochami_files):
    env = dict(ochami_files, LAB_ACCESS_TOKEN="labtok")
    conn = Connection(params(), environ=env)
    assert conn.cluster == "lab"
    assert conn.url("smd") == "http://127.0.0.1:27779/hsm/v2"
    assert conn.auth.source == "disabled"                     # enable-auth: false
    conn = Connection(params(cluster="prod"), environ=dict(ochami_files, PROD_ACCESS_TOKEN="p"))
    assert conn.auth.token() == "p"
    assert conn.url("smd") == "https://prod.example:8443/hsm/v2"


def test_explicit_uri_skips_config(tmp_path):
    conn = Connection(params(cluster_uri="http://h:1", service_uris={"smd": "http://s/hsm/v2"}),
                      environ={"HOME": str(tmp_path)})
    assert conn.url("smd") == "http://s/hsm/v2"
    assert conn.url("bss") == "http://h:1/boot/v1"


def test_no_address_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SYSTEM_CONFIG", str(tmp_path / "none.yaml"))
    conn = Connection(params(), environ={"HOME": str(tmp_path)})
    with pytest.raises(ApiError, match="no address for the smd service"):
        conn.client("smd")
