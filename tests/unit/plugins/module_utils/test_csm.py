# -*- coding: utf-8 -*-
# Copyright (c) 2026 CSCS
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml

from ansible_collections.cscs.openchami.plugins.doc_fragments.csm import ModuleDocFragment
from ansible_collections.cscs.openchami.plugins.module_utils import csm
from ansible_collections.cscs.openchami.plugins.module_utils.csm_module import artifact_rewrite_option, csm_argument_spec
from ansible_collections.cscs.openchami.plugins.module_utils.transport import ApiError
from ansible_collections.cscs.openchami.tests.unit.utils.fake_server import FakeServer


def test_fragment_and_argument_spec_agree():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = csm_argument_spec()
    assert sorted(documented) == sorted(spec)
    for name, doc in documented.items():
        assert doc["type"] == spec[name]["type"], name
        assert doc.get("default") == spec[name].get("default"), name
        env = [line for line in doc["description"] if "Environment variable" in line]
        fallback = spec[name].get("fallback")
        assert bool(env) == bool(fallback), name
        if fallback:
            assert "E(%s)" % fallback[1][0] in env[0], name
    assert spec["csm_client_secret"]["no_log"] and spec["csm_token"]["no_log"]


def test_default_token_url_is_keycloak_behind_the_gateway():
    assert csm.default_token_url("https://api-gw-service-nmn.local/apis") == \
        "https://api-gw-service-nmn.local/keycloak/realms/shasta/protocol/openid-connect/token"
    assert csm.default_token_url("http://127.0.0.1:8080/apis/") == \
        "http://127.0.0.1:8080/keycloak/realms/shasta/protocol/openid-connect/token"


def test_no_credentials_is_an_error_and_openchami_token_is_not_used(monkeypatch):
    monkeypatch.setenv("ACCESS_TOKEN", "openchami-token")
    with pytest.raises(ApiError) as err:
        csm.CsmClient(api_url="http://x/apis")
    assert "no CSM credentials" in str(err.value)


def test_secret_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file-secret\n")
    client = csm.CsmClient(api_url="http://x/apis", client_secret_file=str(secret))
    assert client.auth.client_secret == "from-file-secret"
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(ApiError) as err:
        csm.CsmClient(api_url="http://x/apis", client_secret_file=str(empty))
    assert str(empty) in str(err.value)


def test_wrong_secret_is_a_named_error_without_the_secret():
    refusal = {"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"}
    with FakeServer(default=(401, {}, refusal)) as kc:
        client = csm.CsmClient(api_url=kc.url + "/apis", client_secret="wrong-secret-value")
        with pytest.raises(csm.CsmAuthError) as err:
            client.hsm_components()
    text = str(err.value)
    assert "Keycloak refused the client credentials of client 'admin-client'" in text
    assert kc.url + "/keycloak/realms/shasta/protocol/openid-connect/token" in text
    assert "wrong-secret-value" not in text
    assert kc.requests[0]["path"] == "/keycloak/realms/shasta/protocol/openid-connect/token"


def test_services_under_the_gateway_and_cfs_pages():
    pages = [
        {"components": [{"id": "x1"}, {"id": "x2"}], "next": {"limit": 2, "after_id": "x2"}},
        {"components": [{"id": "x3"}], "next": None},
    ]

    def answer(request):
        if request["path"].startswith("/kc"):
            return {"access_token": "tok", "expires_in": 300}
        if request["path"].startswith("/apis/cfs/v3/components"):
            return pages.pop(0)
        return []
    with FakeServer(default=(200, {}, answer)) as srv:
        client = csm.CsmClient(api_url=srv.url + "/apis", token_url=srv.url + "/kc", client_secret="s3cret-value")
        assert [c["id"] for c in client.cfs_components()] == ["x1", "x2", "x3"]
        client.bos_sessiontemplates()
        client.pcs_power_status(["x1"])
    paths = [r["path"] for r in srv.requests]
    assert paths[0] == "/kc"
    assert paths[1] == "/apis/cfs/v3/components?limit=%d" % csm.CFS_PAGE
    assert paths[2] == "/apis/cfs/v3/components?limit=2&after_id=x2"
    assert paths[3] == "/apis/bos/v2/sessiontemplates"
    assert paths[4] == "/apis/power-control/v1/power-status?xname=x1"
    assert all(r["headers"]["Authorization"] == "Bearer tok" for r in srv.requests[1:])


def test_expired_token_is_renewed_before_use():
    issued = []

    def answer(request):
        if request["path"] == "/kc":
            issued.append(1)
            return {"access_token": "tok-%d" % len(issued), "expires_in": 300}
        return {"Components": []}
    clock = [1000.0]
    with FakeServer(default=(200, {}, answer)) as srv:
        client = csm.CsmClient(api_url=srv.url + "/apis", token_url=srv.url + "/kc", client_secret="s3cret-value")
        client.auth.now = lambda: clock[0]
        client.hsm_components()
        clock[0] += 300
        client.hsm_components()
    used = [r["headers"]["Authorization"] for r in srv.requests if r["path"] != "/kc"]
    assert used == ["Bearer tok-1", "Bearer tok-2"]
    assert json.dumps(used)


def test_artifact_rewrite_fragment_and_option_agree():
    documented = yaml.safe_load(ModuleDocFragment.ARTIFACT_REWRITE)["options"]["artifact_rewrite"]
    option = artifact_rewrite_option()
    assert (documented["type"], documented["elements"], documented["default"]) == \
        (option["type"], option["elements"], option["default"])
    assert dict((k, (v["type"], v["required"])) for k, v in documented["suboptions"].items()) == \
        dict((k, (v["type"], v["required"])) for k, v in option["options"].items())


def test_rewrite_url_first_matching_rule():
    rules = [{"prefix": "s3://boot-images/", "replacement": "https://a/"}, {"prefix": "s3://", "replacement": "https://b/"}]
    assert csm.rewrite_url("s3://boot-images/1/kernel", rules) == "https://a/1/kernel"
    assert csm.rewrite_url("s3://other/x", rules) == "https://b/other/x"
    assert csm.rewrite_url("https://c/x", rules) == "https://c/x"
